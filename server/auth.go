package server

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	nineten "nineten.dev"
)

const (
	sessionCookie = "nineten_session"
	anonCookie    = "nineten_anon"
)

// viewer returns the logged-in user, or nil for anonymous requests. A
// request with bad credentials is an error, not anonymous, so clients
// learn their token is wrong.
//
// It is resolved when a handler asks, not for every request: media
// requests for public tracks never touch the session store. Handlers ask
// once.
func (s *Server) viewer(r *http.Request) (*nineten.User, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, nineten.E("server.viewer", nineten.KindUnauthenticated, "use an Authorization: Bearer <token> header")
		}
		token = strings.TrimSpace(t)
	} else if c, err := r.Cookie(sessionCookie); err == nil {
		token = c.Value
	}
	if token == "" {
		return nil, nil
	}
	return s.Accounts.Authenticate(r.Context(), token)
}

// requireUser returns the logged-in user or an error asking to log in.
func (s *Server) requireUser(r *http.Request) (*nineten.User, error) {
	u, err := s.viewer(r)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, nineten.E("server.requireUser", nineten.KindUnauthenticated, "log in first")
	}
	return u, nil
}

// requireAdmin returns the logged-in admin, or a permission error.
func (s *Server) requireAdmin(r *http.Request) (*nineten.User, error) {
	u, err := s.requireUser(r)
	if err != nil {
		return nil, err
	}
	if u.Role != nineten.RoleAdmin {
		return nil, nineten.E("server.requireAdmin", nineten.KindPermission, "only the node's admins may do this")
	}
	return u, nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		MaxAge: int(ttl.Seconds()), HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
}

// anonID returns the anonymous listener id of the browser, setting one
// when it has none.
func (s *Server) anonID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(anonCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		return c.Value
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{
		Name: anonCookie, Value: id, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
	return id
}

func (s *Server) secure(r *http.Request) bool { return s.SecureCookies || r.TLS != nil }
