package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

func TestRolesAreEnforced(t *testing.T) {
	node := nodetest.Start(t)
	owner, ownerArtist := signupArtist(t, node.URL, "olga", "Olga Owner")
	other, _ := signupArtist(t, node.URL, "otto", "Otto Other")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "mine.mp3", Seconds: 4, Title: "Mine"})
	var up struct{ Track track }
	owner.must(owner.uploadFile(src), 202, &up)
	tr := owner.waitTrack(up.Track.ID)
	path := fmt.Sprintf("/api/v1/tracks/%d", tr.ID)

	anon := newClient(t, node.URL)
	listener := newClient(t, node.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lisa", "password": "password-lisa"}), 201, nil)
	admin := newClient(t, node.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": node.AdminUser, "password": node.AdminPassword}), 200, nil)

	expect := func(who string, r *response, status int) {
		t.Helper()
		if r.StatusCode != status {
			t.Errorf("%s: %s %s answered %d, want %d: %s", who, r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
			return
		}
		if status >= 400 {
			r.problem(t)
		}
	}
	expect("another artist edits", other.json("PATCH", path, map[string]string{"title": "Stolen"}), 403)
	expect("another artist deletes", other.json("DELETE", path, nil), 403)
	expect("another artist edits the profile", other.json("PATCH", fmt.Sprintf("/api/v1/artists/%d", ownerArtist), map[string]string{"name": "X"}), 403)
	expect("anonymous edits", anon.json("PATCH", path, map[string]string{"title": "X"}), 401)
	expect("anonymous uploads", anon.uploadFile(src), 401)
	expect("a listener uploads", listener.uploadFile(src), 403)
	expect("the owner hides", owner.json("PATCH", path, map[string]any{"hidden": true}), 403)
	expect("a listener lists users", listener.json("GET", "/api/v1/admin/users", nil), 403)
	expect("a listener lists everything", listener.json("GET", "/api/v1/tracks?all=1", nil), 403)
	expect("a bad token", newClient(t, node.URL).do("GET", "/api/v1/me", nil, map[string][]string{"Authorization": {"Bearer 9tk_nope"}}), 401)

	// A cross-site request riding on the owner's cookie is refused (CSRF).
	forged := owner.do("PATCH", path, strings.NewReader(`{"title":"Hijacked"}`), map[string][]string{
		"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"},
	})
	if forged.StatusCode != 403 {
		t.Errorf("cross-site edit answered %d, want 403", forged.StatusCode)
	}

	var edited track
	owner.must(owner.json("PATCH", path, map[string]any{"title": "Mine (edit)", "genre": "Drone", "track_number": 2}), 200, &edited)
	if edited.Title != "Mine (edit)" || edited.Genre != "Drone" || edited.TrackNumber != 2 {
		t.Errorf("owner edit not applied: %+v", edited)
	}

	// Admins moderate: a hidden track disappears for everyone but its owner and admins.
	admin.must(admin.json("PATCH", path, map[string]any{"hidden": true}), 200, nil)
	expect("anonymous reads a hidden track", anon.json("GET", path, nil), 404)
	expect("anonymous streams a hidden track", anon.do("GET", tr.HLSURL, nil, nil), 404)
	expect("the owner reads their hidden track", owner.json("GET", path, nil), 200)
	expect("the owner streams their hidden track", owner.do("GET", tr.HLSURL, nil, nil), 200)
	var p page
	anon.must(anon.json("GET", "/api/v1/tracks", nil), 200, &p)
	if p.Total != 0 {
		t.Errorf("hidden track listed publicly: %+v", p)
	}
	admin.must(admin.json("GET", "/api/v1/tracks?all=1", nil), 200, &p)
	if p.Total != 1 {
		t.Errorf("admin's all=1 list = %d tracks, want 1", p.Total)
	}

	// An API token works like a login; it is stored hashed.
	var tok struct {
		ID    int64
		Token string
	}
	owner.must(owner.json("POST", "/api/v1/me/tokens", map[string]string{"name": "script"}), 201, &tok)
	bearer := newClient(t, node.URL)
	var me struct{ User struct{ Username string } }
	bearer.must(bearer.do("GET", "/api/v1/me", nil, map[string][]string{"Authorization": {"Bearer " + tok.Token}}), 200, &me)
	if me.User.Username != "olga" {
		t.Errorf("token authenticates %q", me.User.Username)
	}
	db, _ := os.ReadFile(filepath.Join(node.Data, "9ten.db"))
	wal, _ := os.ReadFile(filepath.Join(node.Data, "9ten.db-wal"))
	if containsBytes(db, tok.Token) || containsBytes(wal, tok.Token) {
		t.Error("the API token is stored in clear")
	}

	// Disabling an account ends its sessions at once.
	var users struct {
		Items []struct {
			ID       int64
			Username string
		}
	}
	admin.must(admin.json("GET", "/api/v1/admin/users", nil), 200, &users)
	var otto int64
	for _, u := range users.Items {
		if u.Username == "otto" {
			otto = u.ID
		}
	}
	admin.must(admin.json("PATCH", fmt.Sprintf("/api/v1/admin/users/%d", otto), map[string]any{"disabled": true}), 200, nil)
	if r := other.json("GET", "/api/v1/me", nil); r.StatusCode != 401 && r.StatusCode != 403 {
		t.Errorf("disabled account still served: %d", r.StatusCode)
	}
	expect("a disabled account logs in", other.json("POST", "/api/v1/auth/login", map[string]string{"username": "otto", "password": "password-otto"}), 403)

	// The admin deletes the track; its media goes with it.
	admin.must(admin.json("DELETE", path, nil), 204, nil)
	expect("reading a deleted track", owner.json("GET", path, nil), 404)
	if entries, _ := os.ReadDir(filepath.Join(node.Data, "media", "tracks", fmt.Sprint(tr.ID))); len(entries) != 0 {
		t.Errorf("media of a deleted track remains: %v", entries)
	}
}

func containsBytes(haystack []byte, s string) bool { return bytes.Contains(haystack, []byte(s)) }
