package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// playlistJSON is a playlist as the API answers it.
type playlistJSON struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Public    bool   `json:"public"`
	Owner     string `json:"owner"`
	RemoteID  string `json:"remote_id"`
	ItemCount int    `json:"item_count"`
	Items     []struct {
		ID       int64  `json:"id"`
		Position int    `json:"position"`
		Track    *track `json:"track"`
		Remote   *struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			Artist string `json:"artist"`
			HLSURL string `json:"hls_url"`
		} `json:"remote"`
	} `json:"items"`
}

// titles lists the items' titles in order.
func (p playlistJSON) titles() []string {
	var out []string
	for _, it := range p.Items {
		if it.Track != nil {
			out = append(out, it.Track.Title)
		} else {
			out = append(out, it.Remote.Title)
		}
	}
	return out
}

// uploadTracks uploads a short track per title and waits until each plays.
func uploadTracks(t *testing.T, artist *client, titles ...string) []track {
	t.Helper()
	var out []track
	for i, title := range titles {
		src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: fmt.Sprintf("t%d.mp3", i), Seconds: 2, Title: title})
		var up struct{ Track track }
		artist.must(artist.uploadFile(src), 202, &up)
		out = append(out, up.Track)
	}
	for i := range out {
		if out[i] = artist.waitTrack(out[i].ID); out[i].Status != "ready" {
			t.Fatalf("track %q: %s %s", out[i].Title, out[i].Status, out[i].Error)
		}
	}
	return out
}

// TestPlaylistsFederate runs two real nodes: a listener on B makes a
// public playlist; a listener on A follows them and gets a copy of it,
// which follows every change on B (tracks added, removed and moved, a
// new title) until the playlist is made private or deleted. The copy's
// tracks stream from B.
func TestPlaylistsFederate(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	artist, _ := signupArtist(t, b.URL, "boris", "Bo Band")
	tr := uploadTracks(t, artist, "One", "Two", "Three")

	bea := newClient(t, b.URL)
	bea.must(bea.json("POST", "/api/v1/auth/signup", map[string]string{"username": "bea", "password": "password-bea"}), 201, nil)
	var p playlistJSON
	bea.must(bea.json("POST", "/api/v1/playlists", map[string]any{"title": "Road trip", "public": true}), 201, &p)
	base := fmt.Sprintf("/api/v1/playlists/%d", p.ID)
	for _, t := range tr[:2] {
		bea.must(bea.json("POST", base+"/items", map[string]any{"track_id": t.ID}), 201, nil)
	}
	// Her private playlists stay on B.
	bea.must(bea.json("POST", "/api/v1/playlists", map[string]any{"title": "Guilty pleasures"}), 201, nil)

	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	ana.must(ana.json("POST", "/api/v1/follows", map[string]string{"handle": "@bea@" + hostB}), 201, nil)

	// copy returns A's copy of Road trip, if ana sees one.
	copyOnA := func() (playlistJSON, bool) {
		var list struct{ Items []playlistJSON }
		ana.must(ana.json("GET", "/api/v1/remote/playlists", nil), 200, &list)
		if len(list.Items) == 0 {
			return playlistJSON{}, false
		}
		if len(list.Items) > 1 {
			t.Fatalf("A keeps %d playlists of bea's: %+v", len(list.Items), list.Items)
		}
		r := ana.json("GET", fmt.Sprintf("/api/v1/remote/playlists/%d", list.Items[0].ID), nil)
		if r.StatusCode == http.StatusNotFound {
			return playlistJSON{}, false // deleted since it was listed
		}
		var c playlistJSON
		ana.must(r, 200, &c)
		return c, true
	}
	// waitFor polls until A's copy is titled title with tracks titles.
	waitFor := func(what, title string, titles ...string) playlistJSON {
		t.Helper()
		var c playlistJSON
		eventually(t, 30*time.Second, what, func() bool {
			var ok bool
			c, ok = copyOnA()
			return ok && c.Title == title && slices.Equal(c.titles(), titles)
		})
		return c
	}

	// The follow is accepted and A reads bea's outbox: the playlist made
	// before the follow is there.
	c := waitFor("the playlist reaching A", "Road trip", "One", "Two")
	if c.Owner != "bea@"+hostB || c.RemoteID != fmt.Sprintf("%s/playlists/%d", b.URL, p.ID) || c.Public != true {
		t.Errorf("A's copy: %+v", c)
	}
	first := c.Items[0].Remote
	if first.ID != fmt.Sprintf("%s/tracks/%d", b.URL, tr[0].ID) || first.Artist != "Bo Band" || first.HLSURL != b.URL+tr[0].HLSURL {
		t.Errorf("the first track on A: %+v", first)
	}
	if r := newClient(t, b.URL).do("GET", strings.TrimPrefix(first.HLSURL, b.URL), nil, http.Header{"Origin": {a.URL}}); r.StatusCode != 200 {
		t.Errorf("the copy's stream answered %d", r.StatusCode)
	}

	bea.must(bea.json("POST", base+"/items", map[string]any{"track_id": tr[2].ID}), 201, nil)
	waitFor("an Add reaching A", "Road trip", "One", "Two", "Three")

	var onB playlistJSON
	bea.must(bea.json("GET", base, nil), 200, &onB)
	bea.must(bea.json("DELETE", fmt.Sprintf("%s/items/%d", base, onB.Items[0].ID), nil), 204, nil)
	waitFor("a Remove reaching A", "Road trip", "Two", "Three")

	bea.must(bea.json("PATCH", fmt.Sprintf("%s/items/%d", base, onB.Items[2].ID), map[string]any{"position": 0}), 200, nil)
	waitFor("a move reaching A", "Road trip", "Three", "Two")

	bea.must(bea.json("PATCH", base, map[string]any{"title": "Road trip (long way)"}), 200, nil)
	waitFor("the new title reaching A", "Road trip (long way)", "Three", "Two")

	// Made private, it is gone from A; public again, it is back.
	bea.must(bea.json("PATCH", base, map[string]any{"public": false}), 200, nil)
	eventually(t, 30*time.Second, "the playlist made private leaving A", func() bool { _, ok := copyOnA(); return !ok })
	bea.must(bea.json("PATCH", base, map[string]any{"public": true}), 200, nil)
	waitFor("the playlist made public again reaching A", "Road trip (long way)", "Three", "Two")

	// ana adds one of B's tracks to a playlist of her own on A: A asks B
	// what it is.
	var mine playlistJSON
	ana.must(ana.json("POST", "/api/v1/playlists", map[string]any{"title": "From afar"}), 201, &mine)
	ana.must(ana.json("POST", fmt.Sprintf("/api/v1/playlists/%d/items", mine.ID), map[string]any{"track_iri": first.ID}), 201, nil)
	ana.must(ana.json("GET", fmt.Sprintf("/api/v1/playlists/%d", mine.ID), nil), 200, &mine)
	if got := mine.Items[0].Remote; len(mine.Items) != 1 || got == nil || got.Title != "One" || got.Artist != "Bo Band" || got.HLSURL != first.HLSURL {
		t.Errorf("ana's playlist on A: %+v", mine.Items)
	}

	bea.must(bea.json("DELETE", base, nil), 204, nil)
	eventually(t, 30*time.Second, "the deletion reaching A", func() bool { _, ok := copyOnA(); return !ok })
}

// TestBrowserPlaylist drives the web app: a listener adds tracks to a new
// playlist from their pages, reorders it, plays it through the player's
// queue and takes a track out.
func TestBrowserPlaylist(t *testing.T) {
	node := nodetest.Start(t)
	artist, _ := signupArtist(t, node.URL, "bela", "Bela Browser")
	tr := uploadTracks(t, artist, "Morning", "Evening")
	listener := newClient(t, node.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, node.Logs)
	visit := func(path string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`history.pushState(null, '', %q); dispatchEvent(new PopStateEvent('popstate'))`, path), nil)
	}
	run(
		chromedp.Navigate(node.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "lena"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-lena"),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),

		// From the first track's page: a new playlist, with the track in it.
		visit(fmt.Sprintf("/app/tracks/%d", tr[0].ID)),
		chromedp.WaitVisible(`[data-testid=play-track]`),
		chromedp.Click(`[data-testid=add-to-playlist]`),
		chromedp.WaitVisible(`[data-testid=new-playlist-title]`),
		chromedp.SendKeys(`[data-testid=new-playlist-title]`, "Day and night"),
		chromedp.Click(`[data-testid=new-playlist-create]`),
		chromedp.Poll(`document.querySelector('.add-to-playlist [role=status]').textContent.includes('Day and night')`, nil, chromedp.WithPollingTimeout(10*time.Second)),

		// From the second one's: the playlist is offered, and chosen.
		visit(fmt.Sprintf("/app/tracks/%d", tr[1].ID)),
		chromedp.WaitVisible(`[data-testid=play-track]`),
		chromedp.Click(`[data-testid=add-to-playlist]`),
		chromedp.WaitVisible(`[data-testid=playlist-choice]`),
		chromedp.Click(`[data-testid=playlist-choice]`),
		chromedp.Poll(`document.querySelector('.add-to-playlist [role=status]').textContent.includes('Day and night')`, nil, chromedp.WithPollingTimeout(10*time.Second)),

		visit("/app/playlists"),
		chromedp.WaitVisible(`[data-testid=playlist-card]`),
		chromedp.Click(`[data-testid=playlist-card]`),
		chromedp.WaitVisible(`[data-testid=playlist-track]`),
	)
	trackTitles := func() []string {
		var titles []string
		run(chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=playlist-track-title]')].map((e) => e.textContent)`, &titles))
		return titles
	}
	if got := trackTitles(); !slices.Equal(got, []string{"Morning", "Evening"}) {
		t.Fatalf("the playlist page shows %v", got)
	}
	run(
		chromedp.Click(`[data-testid=playlist-down]`), // the first one's
		chromedp.Poll(`document.querySelector('[data-testid=playlist-track-title]').textContent === 'Evening'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	var mine struct{ Items []playlistJSON }
	listener.must(listener.json("GET", "/api/v1/me/playlists", nil), 200, &mine)
	var stored playlistJSON
	listener.must(listener.json("GET", fmt.Sprintf("/api/v1/playlists/%d", mine.Items[0].ID), nil), 200, &stored)
	if got := stored.titles(); !slices.Equal(got, []string{"Evening", "Morning"}) {
		t.Errorf("after moving in the browser the node has %v", got)
	}

	// Play all queues the playlist in its order and plays it.
	var queue []string
	run(
		chromedp.Click(`[data-testid=playlist-play]`),
		chromedp.Poll(`(() => { const a = document.querySelector('audio'); return a.currentTime > 0 && !a.paused })()`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`window.nineten.player.store.get().queue.map((t) => t.title)`, &queue),
	)
	if !slices.Equal(queue, []string{"Evening", "Morning"}) {
		t.Errorf("the queue is %v", queue)
	}
	if dir := os.Getenv("NINETEN_SCREENSHOT_DIR"); dir != "" {
		var shot []byte
		run(chromedp.CaptureScreenshot(&shot))
		os.WriteFile(dir+"/playlist.png", shot, 0o644)
	}
	run(
		chromedp.Click(`[data-testid=playlist-remove]`),
		chromedp.Poll(`document.querySelectorAll('[data-testid=playlist-track]').length === 1`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if got := trackTitles(); !slices.Equal(got, []string{"Morning"}) {
		t.Errorf("after removing Evening the page shows %v", got)
	}
}
