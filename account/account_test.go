package account_test

import (
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// eachService runs fn on every database engine, as subtests, each with a
// fresh service whose clock starts on 1 November 2026.
func eachService(t *testing.T, fn func(t *testing.T, s *account.Service, c *clocktest.Clock)) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		c := clocktest.New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		fn(t, &account.Service{Store: db, Clock: c, SessionTTL: time.Hour}, c)
	})
}

func TestPasswordHashing(t *testing.T) {
	h := account.HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not argon2id PHC", h)
	}
	if !account.CheckPassword(h, "correct horse battery") || account.CheckPassword(h, "correct horse batterz") {
		t.Error("CheckPassword is wrong")
	}
	if a, b := account.HashPassword("same"), account.HashPassword("same"); a == b {
		t.Error("hashes are not salted")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if account.CheckPassword(bad, "same") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestSignUpLoginAndSessions(t *testing.T) {
	eachService(t, func(t *testing.T, s *account.Service, c *clocktest.Clock) {
		ctx := t.Context()
		if _, err := s.SignUp(ctx, "Bo", "short", ""); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("bad username/password: %v", err)
		}
		u, err := s.SignUp(ctx, "  Bob.Smith ", "long enough password", "")
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "bob.smith" || u.Role != nineten.RoleListener || u.DisplayName != "bob.smith" {
			t.Errorf("user %+v", u)
		}
		if _, err := s.SignUp(ctx, "BOB.SMITH", "long enough password", ""); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Errorf("duplicate username: %v", err)
		}
		_, _, errWrong := s.Login(ctx, "bob.smith", "wrong password!")
		_, _, errNone := s.Login(ctx, "nobody", "wrong password!")
		if nineten.ErrorKind(errWrong) != nineten.KindUnauthenticated || errWrong.Error() != errNone.Error() {
			t.Errorf("wrong password %v and unknown user %v must look the same", errWrong, errNone)
		}
		_, token, err := s.Login(ctx, "Bob.Smith", "long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Authenticate(ctx, token); err != nil || got.ID != u.ID {
			t.Fatalf("Authenticate: %v %v", got, err)
		}
		c.Add(time.Hour)
		if _, err := s.Authenticate(ctx, token); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Errorf("expired session: %v", err)
		}
		_, token, _ = s.Login(ctx, "bob.smith", "long enough password")
		if err := s.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, token); err == nil {
			t.Error("session valid after logout")
		}
		if _, err := s.Authenticate(ctx, "garbage"); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Errorf("garbage token: %v", err)
		}
	})
}

func TestTokensAndAdminActions(t *testing.T) {
	eachService(t, func(t *testing.T, s *account.Service, _ *clocktest.Clock) {
		ctx := t.Context()
		pw, err := s.EnsureAdmin(ctx, "root", "")
		if err != nil || len(pw) < 16 {
			t.Fatalf("EnsureAdmin: %q %v", pw, err)
		}
		if again, err := s.EnsureAdmin(ctx, "root", ""); again != "" || err != nil {
			t.Errorf("second EnsureAdmin created another admin: %q %v", again, err)
		}
		admin, _, err := s.Login(ctx, "root", pw)
		if err != nil || admin.Role != nineten.RoleAdmin {
			t.Fatalf("admin login: %v %v", admin, err)
		}
		u, _ := s.SignUp(ctx, "carol", "password-carol", "Carol")
		tok, secret, err := s.CreateToken(ctx, u, "backup script")
		if err != nil || !strings.HasPrefix(secret, "9tk_") || tok.TokenHash == secret || strings.Contains(tok.TokenHash, secret) {
			t.Fatalf("token %+v %q %v", tok, secret, err)
		}
		if got, err := s.Authenticate(ctx, secret); err != nil || got.ID != u.ID {
			t.Fatalf("token auth: %v %v", got, err)
		}
		_, sess, _ := s.Login(ctx, "carol", "password-carol")

		if _, err := s.SetDisabled(ctx, u, admin.ID, true); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("a listener disabled the admin: %v", err)
		}
		if _, err := s.SetRole(ctx, admin, admin.ID, nineten.RoleListener); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("admin demoted themselves: %v", err)
		}
		if _, err := s.SetDisabled(ctx, admin, u.ID, true); err != nil {
			t.Fatal(err)
		}
		for _, cred := range []string{sess, secret} {
			if _, err := s.Authenticate(ctx, cred); err == nil {
				t.Error("a disabled account still authenticates")
			}
		}
		if _, _, err := s.Login(ctx, "carol", "password-carol"); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("disabled login: %v", err)
		}
		if got, err := s.SetRole(ctx, admin, u.ID, nineten.RoleArtist); err != nil || got.Role != nineten.RoleArtist {
			t.Errorf("SetRole: %v %v", got, err)
		}
	})
}

func TestUsernamesAvoidArtistSlugs(t *testing.T) {
	eachService(t, func(t *testing.T, s *account.Service, _ *clocktest.Clock) {
		owner, err := s.SignUp(t.Context(), "owner", "password-owner", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Store.CreateArtist(t.Context(), &nineten.Artist{OwnerID: owner.ID, Name: "Nova", Slug: "nova", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignUp(t.Context(), "nova", "password-nova", ""); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Errorf("signing up as an artist's handle: %v, want KindConflict", err)
		}
	})
}
