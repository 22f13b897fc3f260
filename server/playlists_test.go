package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	playlists "nineten.dev/playlist"
	"nineten.dev/server"
	"nineten.dev/sqlstore"
)

// api calls the node's API as one user (or anonymously, with no token).
type api struct {
	t     *testing.T
	base  string
	token string
}

// call sends body (if not nil) as JSON, checks the status, and decodes
// the answer into out (if not nil). Errors must be problem documents.
func (c api) call(method, path string, body any, status int, out any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(c.t.Context(), method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, data)
	}
	if status >= 400 {
		var p server.Problem
		if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(data, &p) != nil || p.Status != status || p.Detail == "" {
			c.t.Errorf("%s %s: not a problem document: %s", method, path, data)
		}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

type playlistOut struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Public    bool   `json:"public"`
	OwnerID   int64  `json:"owner_id"`
	Owner     string `json:"owner"`
	ItemCount int    `json:"item_count"`
	Items     []struct {
		ID       int64 `json:"id"`
		Position int   `json:"position"`
		Track    *struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"track"`
	} `json:"items"`
}

func (p playlistOut) titles() []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.Track.Title)
	}
	return out
}

// TestPlaylistAPI runs the playlist endpoints on a real store: who may
// see and change what, and what each answers.
func TestPlaylistAPI(t *testing.T) {
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	accounts := &account.Service{Store: db}
	srv := httptest.NewServer((&server.Server{Accounts: accounts, Store: db, Playlists: &playlists.Service{Store: db}}).Handler())
	t.Cleanup(srv.Close)
	as := func(name string) (api, *nineten.User) {
		u, err := accounts.SignUp(ctx, name, "password-"+name, "")
		if err != nil {
			t.Fatal(err)
		}
		_, token, err := accounts.CreateToken(ctx, u, "test")
		if err != nil {
			t.Fatal(err)
		}
		return api{t, srv.URL, token}, u
	}
	ann, annUser := as("ann")
	bob, _ := as("bob")
	anon := api{t, srv.URL, ""}

	label := &nineten.Artist{OwnerID: annUser.ID, Name: "Band", Slug: "band", CreatedAt: time.Now()}
	if err := db.CreateArtist(ctx, label); err != nil {
		t.Fatal(err)
	}
	track := func(title string, status nineten.TrackStatus) int64 {
		tr := &nineten.Track{ArtistID: label.ID, Title: title, Status: status, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateTrack(ctx, tr); err != nil {
			t.Fatal(err)
		}
		return int64(tr.ID)
	}
	a, b, c := track("A", nineten.TrackReady), track("B", nineten.TrackReady), track("C", nineten.TrackReady)
	unready := track("Unready", nineten.TrackProcessing)

	anon.call("POST", "/api/v1/playlists", map[string]any{"title": "x"}, 401, nil)
	ann.call("POST", "/api/v1/playlists", map[string]any{"title": ""}, 422, nil)
	ann.call("POST", "/api/v1/playlists", map[string]any{"title": "x", "colour": "red"}, 422, nil)
	var p playlistOut
	ann.call("POST", "/api/v1/playlists", map[string]any{"title": "Secret mix", "description": "shh"}, 201, &p)
	if p.Public || p.OwnerID != int64(annUser.ID) || p.Owner != "ann" || p.Title != "Secret mix" {
		t.Errorf("created %+v", p)
	}
	base := fmt.Sprintf("/api/v1/playlists/%d", p.ID)

	for _, id := range []int64{a, b, c} {
		ann.call("POST", base+"/items", map[string]any{"track_id": id}, 201, nil)
	}
	ann.call("POST", base+"/items", map[string]any{"track_id": b}, 409, nil)
	ann.call("POST", base+"/items", map[string]any{"track_id": unready}, 404, nil)
	ann.call("POST", base+"/items", map[string]any{}, 422, nil)
	ann.call("POST", base+"/items", map[string]any{"track_id": a, "track_iri": "https://b.example/tracks/1"}, 422, nil)
	// This node does not federate: tracks of other servers cannot be added.
	ann.call("POST", base+"/items", map[string]any{"track_iri": "https://b.example/tracks/1"}, 503, nil)

	// A private playlist is not there for anyone else.
	for _, other := range []api{bob, anon} {
		other.call("GET", base, nil, 404, nil)
	}
	bob.call("PATCH", base, map[string]any{"title": "Mine"}, 404, nil)
	bob.call("POST", base+"/items", map[string]any{"track_id": a}, 404, nil)
	bob.call("DELETE", base, nil, 404, nil)

	ann.call("GET", base, nil, 200, &p)
	if got := fmt.Sprint(p.titles()); got != "[A B C]" || p.ItemCount != 3 {
		t.Fatalf("ann sees %s (%d items)", got, p.ItemCount)
	}
	ann.call("PATCH", fmt.Sprintf("%s/items/%d", base, p.Items[2].ID), map[string]any{"position": 0}, 200, &p)
	if got := fmt.Sprint(p.titles()); got != "[C A B]" || p.Items[0].Position != 0 || p.Items[2].Position != 2 {
		t.Errorf("after moving C first: %s %+v", got, p.Items)
	}
	ann.call("PATCH", fmt.Sprintf("%s/items/%d", base, p.Items[0].ID), map[string]any{}, 422, nil)
	ann.call("PATCH", fmt.Sprintf("%s/items/%d", base, p.Items[0].ID+100), map[string]any{"position": 1}, 404, nil)
	ann.call("DELETE", fmt.Sprintf("%s/items/%d", base, p.Items[1].ID), nil, 204, nil)
	ann.call("GET", base, nil, 200, &p)
	if got := fmt.Sprint(p.titles()); got != "[C B]" {
		t.Errorf("after removing A: %s", got)
	}
	first := p.Items[0].ID

	// Public, anyone reads it; still only ann changes it.
	ann.call("PATCH", base, map[string]any{"public": true}, 200, &p)
	if !p.Public || p.Title != "Secret mix" {
		t.Errorf("made public: %+v", p)
	}
	for _, other := range []api{bob, anon} {
		var seen playlistOut
		other.call("GET", base, nil, 200, &seen)
		if fmt.Sprint(seen.titles()) != "[C B]" {
			t.Errorf("others see %v", seen.titles())
		}
	}
	bob.call("PATCH", base, map[string]any{"title": "Mine"}, 403, nil)
	bob.call("DELETE", fmt.Sprintf("%s/items/%d", base, first), nil, 403, nil)

	var mine, public struct {
		Items []playlistOut `json:"items"`
		Total int           `json:"total"`
	}
	ann.call("POST", "/api/v1/playlists", map[string]any{"title": "Draft"}, 201, nil)
	ann.call("GET", "/api/v1/me/playlists", nil, 200, &mine)
	anon.call("GET", fmt.Sprintf("/api/v1/users/%d/playlists", annUser.ID), nil, 200, &public)
	if mine.Total != 2 || public.Total != 1 || public.Items[0].ID != p.ID {
		t.Errorf("ann's: %+v; public: %+v", mine, public)
	}
	anon.call("GET", "/api/v1/me/playlists", nil, 401, nil)
	anon.call("GET", "/api/v1/users/999/playlists", nil, 404, nil)
	ann.call("GET", "/api/v1/remote/playlists", nil, 503, nil)

	ann.call("DELETE", base, nil, 204, nil)
	ann.call("GET", base, nil, 404, nil)
}
