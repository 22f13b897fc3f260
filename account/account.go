// Package account is the use case of people on a node: signing up, logging
// in with browser sessions or API tokens, and admins managing accounts.
// Secrets (passwords, session and API tokens) are only ever stored hashed.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	nineten "nineten.dev"
)

// Service manages accounts. Zero values of the optional fields get defaults.
type Service struct {
	Store      nineten.Store
	Clock      nineten.Clock
	SessionTTL time.Duration // default 30 days
	// Ledger, when set, has a closed account's subscription cancelled and
	// its money paid out by admins; Node is the node's id on it.
	Ledger nineten.Ledger
	Node   string
	// Closing is called when an account is about to be closed, with what
	// it published, while its follows are still known: the federation
	// tells other servers to forget it. Closed is called once it is
	// closed: the catalog drops its media.
	Closing, Closed func(ctx context.Context, c *nineten.ClosedAccount)
	// ProfileChanged is called after a user edited their profile, so that
	// their followers elsewhere see it (an Update of their actor).
	ProfileChanged func(ctx context.Context, u *nineten.User)
	// DisabledChanged is called after an admin disabled or re-enabled an
	// account: what it published is withdrawn from other servers, or
	// published again.
	DisabledChanged func(ctx context.Context, u *nineten.User)
}

// Token prefixes tell a leaked secret's kind at a glance (and let secret
// scanners find them).
const (
	sessionPrefix = "9ts_"
	apiPrefix     = "9tk_"
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,31}$`)

// dummyHash makes logins for unknown users cost as much as for known ones,
// so response times do not reveal which usernames exist.
var dummyHash = HashPassword("not a password of anyone")

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return nineten.SystemClock{}.Now()
	}
	return s.Clock.Now()
}

// NormalizeUsername lower-cases and trims a username for storage and lookup.
func NormalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

func validate(op, username, password string) error {
	if !usernameRE.MatchString(username) {
		return nineten.E(op, nineten.KindInvalid, "a username has 3–32 characters: lower-case letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	if utf8.RuneCountInString(password) < 8 || len(password) > 256 {
		return nineten.E(op, nineten.KindInvalid, "a password has at least 8 characters (and at most 256 bytes)")
	}
	return nil
}

// SignUp creates a listener account.
func (s *Service) SignUp(ctx context.Context, username, password, displayName string) (*nineten.User, error) {
	return s.CreateUser(ctx, username, password, displayName, nineten.RoleListener)
}

// CreateUser creates an account with the given role (admin tools, first start).
func (s *Service) CreateUser(ctx context.Context, username, password, displayName string, role nineten.Role) (*nineten.User, error) {
	const op = "account.CreateUser"
	username = NormalizeUsername(username)
	if err := validate(op, username, password); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, nineten.E(op, nineten.KindInvalid, "unknown role "+string(role))
	}
	displayName = strings.TrimSpace(displayName)
	if displayName == "" {
		displayName = username
	}
	if utf8.RuneCountInString(displayName) > 64 {
		return nil, nineten.E(op, nineten.KindInvalid, "a display name has at most 64 characters")
	}
	// Users and artists share one namespace of fediverse handles.
	if _, err := s.Store.ArtistBySlug(ctx, username); err == nil {
		return nil, nineten.E(op, nineten.KindConflict, fmt.Sprintf("username %q is taken", username))
	}
	u := &nineten.User{
		Username:     username,
		DisplayName:  displayName,
		PasswordHash: HashPassword(password),
		Role:         role,
		CreatedAt:    s.now(),
	}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, nineten.E(op, err)
	}
	return u, nil
}

// Login checks a username and password and opens a session. It returns
// the session token to hand to the browser; only its hash is stored.
func (s *Service) Login(ctx context.Context, username, password string) (*nineten.User, string, error) {
	const op = "account.Login"
	u, err := s.Store.UserByUsername(ctx, NormalizeUsername(username))
	if err != nil {
		if nineten.ErrorKind(err) != nineten.KindNotFound {
			return nil, "", nineten.E(op, err)
		}
		CheckPassword(dummyHash, password)
		return nil, "", nineten.E(op, nineten.KindUnauthenticated, "wrong username or password")
	}
	if u.Deleted() {
		// Closed: nobody logs in, and the answer takes as long as for
		// an account that never was.
		CheckPassword(dummyHash, password)
		return nil, "", nineten.E(op, nineten.KindUnauthenticated, "wrong username or password")
	}
	if !CheckPassword(u.PasswordHash, password) {
		return nil, "", nineten.E(op, nineten.KindUnauthenticated, "wrong username or password")
	}
	if u.Disabled {
		return nil, "", nineten.E(op, nineten.KindPermission, "this account is disabled; contact the node's admin")
	}
	token := newToken(sessionPrefix)
	now := s.now()
	if err := s.Store.CreateSession(ctx, nineten.Session{TokenHash: HashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.TTL())}); err != nil {
		return nil, "", nineten.E(op, err)
	}
	return u, token, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.Store.DeleteSession(ctx, HashToken(token))
}

// Authenticate returns the user of a session or API token.
func (s *Service) Authenticate(ctx context.Context, token string) (*nineten.User, error) {
	const op = "account.Authenticate"
	unauth := nineten.E(op, nineten.KindUnauthenticated, "your session has ended; log in again")
	var userID nineten.ID
	switch {
	case strings.HasPrefix(token, sessionPrefix):
		sess, err := s.Store.SessionByHash(ctx, HashToken(token))
		if err != nil {
			return nil, unauth
		}
		if !s.now().Before(sess.ExpiresAt) {
			_ = s.Store.DeleteSession(ctx, sess.TokenHash)
			return nil, unauth
		}
		userID = sess.UserID
	case strings.HasPrefix(token, apiPrefix):
		tok, err := s.Store.TokenByHash(ctx, HashToken(token))
		if err != nil {
			return nil, nineten.E(op, nineten.KindUnauthenticated, "unknown or revoked API token")
		}
		_ = s.Store.TouchToken(ctx, tok.ID, s.now())
		userID = tok.UserID
	default:
		return nil, nineten.E(op, nineten.KindUnauthenticated, "malformed credentials")
	}
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return nil, unauth
	}
	if u.Disabled {
		return nil, nineten.E(op, nineten.KindPermission, "this account is disabled; contact the node's admin")
	}
	return u, nil
}

// CreateToken makes an API token for u and returns it in clear, once.
func (s *Service) CreateToken(ctx context.Context, u *nineten.User, name string) (*nineten.APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return nil, "", nineten.E("account.CreateToken", nineten.KindInvalid, "name the token (1–64 characters), e.g. after the script that uses it")
	}
	token := newToken(apiPrefix)
	t := &nineten.APIToken{UserID: u.ID, Name: name, TokenHash: HashToken(token), CreatedAt: s.now()}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return nil, "", nineten.E("account.CreateToken", err)
	}
	return t, token, nil
}

// ProfileEdit holds the profile fields to change; nil fields stay.
type ProfileEdit struct {
	DisplayName *string
	Bio         *string
}

// maxBioRunes bounds a profile's text, as Mastodon bounds a bio (500).
const maxBioRunes = 500

// EditProfile changes u's display name and profile text.
func (s *Service) EditProfile(ctx context.Context, u *nineten.User, e ProfileEdit) (*nineten.User, error) {
	const op = "account.EditProfile"
	if u == nil {
		return nil, nineten.E(op, nineten.KindUnauthenticated, "log in first")
	}
	cur, err := s.Store.UserByID(ctx, u.ID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if e.DisplayName != nil {
		name := strings.TrimSpace(*e.DisplayName)
		if name == "" || utf8.RuneCountInString(name) > 64 {
			return nil, nineten.E(op, nineten.KindInvalid, "a display name has 1–64 characters")
		}
		cur.DisplayName = name
	}
	if e.Bio != nil {
		bio := strings.TrimSpace(*e.Bio)
		if utf8.RuneCountInString(bio) > maxBioRunes {
			return nil, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("a profile text has at most %d characters", maxBioRunes))
		}
		cur.Bio = bio
	}
	if err := s.Store.UpdateUser(ctx, cur); err != nil {
		return nil, nineten.E(op, err)
	}
	if s.ProfileChanged != nil {
		s.ProfileChanged(ctx, cur)
	}
	return cur, nil
}

// SetDisabled disables or re-enables an account; admins only, and never
// their own. Disabling ends the account's sessions at once.
func (s *Service) SetDisabled(ctx context.Context, admin *nineten.User, id nineten.ID, disabled bool) (*nineten.User, error) {
	changed := false
	u, err := s.update(ctx, "account.SetDisabled", admin, id, func(u *nineten.User) {
		changed = u.Disabled != disabled
		u.Disabled = disabled
	})
	if err == nil && changed && s.DisabledChanged != nil {
		s.DisabledChanged(ctx, u)
	}
	return u, err
}

// SetRole changes an account's role; admins only, and never their own.
func (s *Service) SetRole(ctx context.Context, admin *nineten.User, id nineten.ID, role nineten.Role) (*nineten.User, error) {
	if !role.Valid() {
		return nil, nineten.E("account.SetRole", nineten.KindInvalid, "role must be listener, artist or admin")
	}
	return s.update(ctx, "account.SetRole", admin, id, func(u *nineten.User) { u.Role = role })
}

func (s *Service) update(ctx context.Context, op string, admin *nineten.User, id nineten.ID, change func(*nineten.User)) (*nineten.User, error) {
	if admin == nil || admin.Role != nineten.RoleAdmin {
		return nil, nineten.E(op, nineten.KindPermission, "only admins manage accounts")
	}
	if admin.ID == id {
		return nil, nineten.E(op, nineten.KindInvalid, "admins cannot change their own role or disable themselves; ask another admin")
	}
	var out *nineten.User
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		u, err := tx.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if u.Deleted() {
			return nineten.E(op, nineten.KindNotFound, "account "+u.Username+" is closed")
		}
		change(u)
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if u.Disabled {
			if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return out, nil
}

// EnsureAdmin creates the admin account on a node's first start, when the
// node has no users yet. With an empty password it generates one; the
// returned password is non-empty only when an account was created.
func (s *Service) EnsureAdmin(ctx context.Context, username, password string) (string, error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if username == "" {
		username = "admin"
	}
	if password == "" {
		password = strings.TrimRight(base64.RawURLEncoding.EncodeToString(randomBytes(15)), "=")
	}
	if _, err := s.CreateUser(ctx, username, password, "Node admin", nineten.RoleAdmin); err != nil {
		return "", err
	}
	return password, nil
}

// HashToken is how session and API tokens are stored: SHA-256 suffices
// because tokens are 256-bit random values, not guessable passwords.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newToken(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TTL is how long a login session lasts.
func (s *Service) TTL() time.Duration {
	if s.SessionTTL == 0 {
		return 30 * 24 * time.Hour
	}
	return s.SessionTTL
}
