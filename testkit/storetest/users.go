package storetest

import (
	"fmt"
	"time"

	"nineten.dev"
)

var userTests = []test{
	{"Users/CreateAndRead", func(e *env) {
		u := &nineten.User{
			Username: "alice", DisplayName: "Alice A.", Bio: "Plays the oud.", PasswordHash: "argon2id$x",
			Role: nineten.RoleAdmin, CreatedAt: t0,
		}
		e.ok(e.s.CreateUser(e.ctx, u))
		if u.ID <= 0 {
			e.Fatalf("CreateUser set ID %d, want a positive one", u.ID)
		}
		got, err := e.s.UserByID(e.ctx, u.ID)
		e.ok(err)
		e.same("UserByID", u, got)
		got, err = e.s.UserByUsername(e.ctx, "ALICE")
		e.ok(err)
		e.same("UserByUsername, another case", u, got)
	}},

	{"Users/DuplicateUsernameIgnoresCase", func(e *env) {
		e.user("bob")
		err := e.s.CreateUser(e.ctx, &nineten.User{Username: "Bob", Role: nineten.RoleListener, CreatedAt: t0})
		e.wantKind(err, nineten.KindConflict)
		if nineten.ErrorMessage(err) == "" {
			e.Errorf("the conflict %v has no message for the user", err)
		}
		n, err := e.s.CountUsers(e.ctx)
		e.ok(err)
		if n != 1 {
			e.Errorf("CountUsers = %d after a refused duplicate, want 1", n)
		}
	}},

	{"Users/NotFound", func(e *env) {
		u := e.user("carol")
		_, err := e.s.UserByID(e.ctx, u.ID+100)
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.UserByUsername(e.ctx, "nobody")
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.UpdateUser(e.ctx, &nineten.User{ID: u.ID + 100, Username: "ghost"}), nineten.KindNotFound)
	}},

	{"Users/Update", func(e *env) {
		u := e.user("dave")
		u.Username, u.DisplayName, u.Bio, u.PasswordHash, u.Role = "david", "David", "Listens a lot.", "new-hash", nineten.RoleArtist
		u.Avatar, u.Header = "profiles/u1-avatar-0123456789abcdef.jpg", "profiles/u1-header-0123456789abcdef.png"
		e.ok(e.s.UpdateUser(e.ctx, u))
		got, err := e.s.UserByID(e.ctx, u.ID)
		e.ok(err)
		e.same("updated user", u, got)
		_, err = e.s.UserByUsername(e.ctx, "dave")
		e.wantKind(err, nineten.KindNotFound)
	}},

	{"Users/RenameToTakenName", func(e *env) {
		e.user("erin")
		u := e.user("frank")
		u.Username = "ERIN"
		e.wantKind(e.s.UpdateUser(e.ctx, u), nineten.KindConflict)
		got, err := e.s.UserByID(e.ctx, u.ID)
		e.ok(err)
		if got.Username != "frank" {
			e.Errorf("a refused rename left username %q, want %q", got.Username, "frank")
		}
	}},

	// Text a store cannot keep (a NUL character, bytes that are not UTF-8:
	// PostgreSQL refuses both) is refused as invalid input, never as an
	// internal error; a store that can keep it gives it back unchanged.
	// Looking such text up finds nothing, or is refused the same way.
	{"Users/TextItCannotKeep", func(e *env) {
		for i, name := range []string{"nul\x00byte", "bad\xffutf8"} {
			u := &nineten.User{Username: fmt.Sprintf("odd%d", i), DisplayName: name, Role: nineten.RoleListener, CreatedAt: t0}
			switch err := e.s.CreateUser(e.ctx, u); nineten.ErrorKind(err) {
			case nineten.KindInvalid:
			case nineten.KindOther:
				e.ok(err)
				got, err := e.s.UserByID(e.ctx, u.ID)
				e.ok(err)
				if got.DisplayName != name {
					e.Errorf("display name %q read back as %q", name, got.DisplayName)
				}
			default:
				e.Errorf("storing %q: %v", name, err)
			}
			if _, err := e.s.UserByUsername(e.ctx, name); nineten.ErrorKind(err) != nineten.KindNotFound && nineten.ErrorKind(err) != nineten.KindInvalid {
				e.Errorf("looking up %q: %v; want not found or invalid", name, err)
			}
		}
	}},

	{"Users/Disable", func(e *env) {
		u := e.user("grace")
		u.Disabled = true
		e.ok(e.s.UpdateUser(e.ctx, u))
		got, err := e.s.UserByUsername(e.ctx, "grace")
		e.ok(err)
		if !got.Disabled {
			e.Errorf("user is not disabled after UpdateUser with Disabled")
		}
	}},

	{"Users/ListPagesInSignupOrder", func(e *env) {
		var want []nineten.User
		for i := range 5 {
			want = append(want, *e.user(fmt.Sprintf("user%d", i)))
		}
		got, total, err := e.s.ListUsers(e.ctx, nineten.Page{Limit: 2, Offset: 2})
		e.ok(err)
		if total != 5 {
			e.Errorf("ListUsers total = %d, want 5", total)
		}
		e.same("page 2 of 2 users", want[2:4], got)
		got, total, err = e.s.ListUsers(e.ctx, nineten.Page{})
		e.ok(err)
		e.same("default page", want, got)
		if total != 5 {
			e.Errorf("ListUsers total = %d, want 5", total)
		}
		got, total, err = e.s.ListUsers(e.ctx, nineten.Page{Limit: 2, Offset: 10})
		e.ok(err)
		if len(got) != 0 || total != 5 {
			e.Errorf("past the end: %d users, total %d; want 0, 5", len(got), total)
		}
		n, err := e.s.CountUsers(e.ctx)
		e.ok(err)
		if n != 5 {
			e.Errorf("CountUsers = %d, want 5", n)
		}
	}},

	{"Sessions/CRUD", func(e *env) {
		u := e.user("heidi")
		s := nineten.Session{TokenHash: "hash-1", UserID: u.ID, CreatedAt: t0, ExpiresAt: at(30 * 24 * time.Hour)}
		e.ok(e.s.CreateSession(e.ctx, s))
		got, err := e.s.SessionByHash(e.ctx, "hash-1")
		e.ok(err)
		e.same("session", &s, got)
		e.wantKind(e.s.CreateSession(e.ctx, s), nineten.KindConflict)

		e.ok(e.s.DeleteSession(e.ctx, "hash-1"))
		_, err = e.s.SessionByHash(e.ctx, "hash-1")
		e.wantKind(err, nineten.KindNotFound)
		// Logging out twice is harmless.
		e.ok(e.s.DeleteSession(e.ctx, "hash-1"))
	}},

	{"Sessions/DeleteUserSessions", func(e *env) {
		ivan, judy := e.user("ivan"), e.user("judy")
		for _, s := range []nineten.Session{
			{TokenHash: "ivan-1", UserID: ivan.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)},
			{TokenHash: "ivan-2", UserID: ivan.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)},
			{TokenHash: "judy-1", UserID: judy.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)},
		} {
			e.ok(e.s.CreateSession(e.ctx, s))
		}
		e.ok(e.s.DeleteUserSessions(e.ctx, ivan.ID))
		for _, h := range []string{"ivan-1", "ivan-2"} {
			_, err := e.s.SessionByHash(e.ctx, h)
			e.wantKind(err, nineten.KindNotFound)
		}
		_, err := e.s.SessionByHash(e.ctx, "judy-1")
		e.ok(err)
	}},

	{"Tokens/CRUD", func(e *env) {
		ken, lea := e.user("ken"), e.user("lea")
		tok := &nineten.APIToken{UserID: ken.ID, Name: "laptop", TokenHash: "tok-1", CreatedAt: t0}
		e.ok(e.s.CreateToken(e.ctx, tok))
		if tok.ID <= 0 {
			e.Fatalf("CreateToken set ID %d, want a positive one", tok.ID)
		}
		got, err := e.s.TokenByHash(e.ctx, "tok-1")
		e.ok(err)
		e.same("token", tok, got)
		e.wantKind(e.s.CreateToken(e.ctx, &nineten.APIToken{UserID: lea.ID, Name: "x", TokenHash: "tok-1", CreatedAt: t0}),
			nineten.KindConflict)

		e.ok(e.s.TouchToken(e.ctx, tok.ID, at(time.Hour)))
		got, err = e.s.TokenByHash(e.ctx, "tok-1")
		e.ok(err)
		if !got.LastUsedAt.Equal(at(time.Hour)) {
			e.Errorf("LastUsedAt = %v after TouchToken, want %v", got.LastUsedAt, at(time.Hour))
		}
		e.wantKind(e.s.TouchToken(e.ctx, tok.ID+100, t0), nineten.KindNotFound)
		_, err = e.s.TokenByHash(e.ctx, "no-such-token")
		e.wantKind(err, nineten.KindNotFound)
	}},

	{"Tokens/ListAndDeleteOwnOnly", func(e *env) {
		ken, lea := e.user("ken"), e.user("lea")
		var kens []nineten.APIToken
		for i, name := range []string{"laptop", "phone"} {
			tok := &nineten.APIToken{UserID: ken.ID, Name: name, TokenHash: fmt.Sprintf("ken-%d", i), CreatedAt: at(time.Duration(i) * time.Minute)}
			e.ok(e.s.CreateToken(e.ctx, tok))
			kens = append(kens, *tok)
		}
		leas := &nineten.APIToken{UserID: lea.ID, Name: "ci", TokenHash: "lea-0", CreatedAt: t0}
		e.ok(e.s.CreateToken(e.ctx, leas))

		got, err := e.s.ListTokens(e.ctx, ken.ID)
		e.ok(err)
		e.same("ken's tokens", kens, got)

		// Lea cannot delete Ken's token, and learns nothing about it.
		e.wantKind(e.s.DeleteToken(e.ctx, lea.ID, kens[0].ID), nineten.KindNotFound)
		_, err = e.s.TokenByHash(e.ctx, kens[0].TokenHash)
		e.ok(err)

		e.ok(e.s.DeleteToken(e.ctx, ken.ID, kens[0].ID))
		_, err = e.s.TokenByHash(e.ctx, kens[0].TokenHash)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.DeleteToken(e.ctx, ken.ID, kens[0].ID), nineten.KindNotFound)
		got, err = e.s.ListTokens(e.ctx, ken.ID)
		e.ok(err)
		e.same("ken's tokens after a delete", kens[1:], got)
	}},
}
