package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
)

// remoteList is a playlist of a remote actor as the tests publish and
// send it: the collection with its first page embedded, and more pages
// served on the actor's (stand-in) server.
type remoteList struct {
	w       *fediverse
	actor   string
	iri     string
	name    string
	updated time.Time
	items   []any
}

func (l *remoteList) audio(n int) map[string]any {
	host := strings.TrimSuffix(l.actor, "/users/bea")
	return map[string]any{
		"id": fmt.Sprintf("%s/tracks/%d", host, n), "type": "Audio", "name": fmt.Sprintf("Song %d", n),
		"artistName": "The Band", "duration": "PT61S",
		"url": []any{
			map[string]any{"type": "Link", "mediaType": "text/html", "href": fmt.Sprintf("%s/app/tracks/%d", host, n)},
			map[string]any{"type": "Link", "mediaType": "application/vnd.apple.mpegurl", "href": fmt.Sprintf("%s/media/tracks/%d/hls/master.m3u8", host, n)},
			// A stream on another host is not followed.
			map[string]any{"type": "Link", "mediaType": "audio/mpeg", "href": "https://elsewhere.example/x.mp3"},
		},
	}
}

// doc renders the playlist with pages of two items: the first embedded,
// the others served.
func (l *remoteList) doc() map[string]any {
	page := func(n int) map[string]any {
		from, to := min(2*(n-1), len(l.items)), min(2*n, len(l.items))
		p := map[string]any{"id": fmt.Sprintf("%s?page=%d", l.iri, n), "type": "OrderedCollectionPage", "orderedItems": l.items[from:to]}
		if to < len(l.items) {
			p["next"] = fmt.Sprintf("%s?page=%d", l.iri, n+1)
		}
		return p
	}
	for n := 2; 2*(n-1) < len(l.items); n++ {
		b, _ := json.Marshal(page(n))
		l.w.serve(fmt.Sprintf("%s?page=%d", l.iri, n), b)
	}
	return map[string]any{
		"id": l.iri, "type": []string{"OrderedCollection", "Playlist"}, "name": l.name, "summary": "<p>For <b>driving</b></p>",
		"attributedTo": l.actor, "updated": preciseTime(l.updated), "totalItems": len(l.items), "first": page(1),
	}
}

// send delivers an activity of the list's actor and returns the status.
func (l *remoteList) send(typ string, object any, extra map[string]any) int {
	l.w.t.Helper()
	act := map[string]any{"@context": contexts, "id": fmt.Sprintf("%s/activities/%d", l.iri, time.Now().UnixNano()),
		"type": typ, "actor": l.actor, "object": object}
	for k, v := range extra {
		act[k] = v
	}
	body, _ := json.Marshal(act)
	return l.w.deliver(body)
}

func (l *remoteList) target(updated time.Time) map[string]any {
	return map[string]any{"target": map[string]any{"id": l.iri, "type": []string{"OrderedCollection", "Playlist"}, "updated": preciseTime(updated)}}
}

// copied returns the node's copy of the list and its items as
// "title@stream", or nil when it has none.
func (l *remoteList) copied() (*nineten.Playlist, []string) {
	l.w.t.Helper()
	p, err := l.w.db.PlaylistByIRI(l.w.t.Context(), l.iri)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, nil
	}
	if err != nil {
		l.w.t.Fatal(err)
	}
	_, items, err := l.w.f.RemotePlaylist(l.w.t.Context(), l.w.user, p.ID)
	if err != nil {
		l.w.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Remote.Title+"@"+strings.TrimPrefix(it.Remote.HLSURL, strings.TrimSuffix(l.actor, "/users/bea")))
	}
	return p, out
}

func (l *remoteList) want(title string, items ...string) {
	l.w.t.Helper()
	p, got := l.copied()
	if p == nil {
		l.w.t.Fatalf("the node keeps no copy of %s", l.iri)
	}
	if p.Title != title || !slices.Equal(got, items) {
		l.w.t.Fatalf("the copy is %q with %q, want %q with %q", p.Title, got, title, items)
	}
}

func song(n int) string { return fmt.Sprintf("Song %d@/media/tracks/%d/hls/master.m3u8", n, n) }

func TestRemotePlaylistActivitiesKeepACopy(t *testing.T) {
	w := newFediverse(t)
	host := w.standIn("b.example")
	l := &remoteList{w: w, actor: host + "/users/bea", iri: host + "/playlists/1", name: "Road trip", updated: time.Now().Add(-time.Hour)}
	for n := 1; n <= 5; n++ {
		l.items = append(l.items, l.audio(n))
	}
	l.items = append(l.items, "javascript:alert(1)", map[string]any{"id": host + "/notes/1", "type": "Note"}) // no tracks

	// Nobody here follows the actor: nothing is kept.
	if s := l.send("Create", l.doc(), nil); s != http.StatusAccepted {
		t.Fatalf("Create answered %d", s)
	}
	if p, _ := l.copied(); p != nil {
		t.Fatal("a playlist of an actor nobody follows was kept")
	}

	w.follow(l.actor, "")
	l.send("Create", l.doc(), nil)
	l.want("Road trip", song(1), song(2), song(3), song(4), song(5))
	p, _ := l.copied()
	if p.Description != "For driving" || p.Actor != l.actor || p.Local() || !p.Public {
		t.Errorf("copy %+v", p)
	}
	lists, total, err := w.f.RemotePlaylists(t.Context(), w.user, nineten.Page{})
	if err != nil || total != 1 || lists[0].IRI != l.iri {
		t.Errorf("RemotePlaylists: %+v (%d), %v", lists, total, err)
	}

	l.updated = l.updated.Add(time.Second)
	l.send("Add", l.audio(6), l.target(l.updated))
	l.send("Add", l.audio(6), l.target(l.updated)) // again: once
	l.updated = l.updated.Add(time.Second)
	l.send("Remove", l.audio(2)["id"], l.target(l.updated))
	l.want("Road trip", song(1), song(3), song(4), song(5), song(6))

	// Changes older than the copy are late deliveries: ignored.
	l.send("Add", l.audio(7), l.target(l.updated.Add(-500*time.Millisecond)))
	stale := *l
	stale.name, stale.updated = "Old name", l.updated.Add(-time.Millisecond)
	stale.items = stale.items[:1]
	stale.send("Update", stale.doc(), nil)
	l.want("Road trip", song(1), song(3), song(4), song(5), song(6))

	// An Update replaces the copy: its name and items, in their order.
	l.updated = l.updated.Add(time.Millisecond)
	l.name, l.items = "Road trip (long)", []any{l.audio(3), l.audio(1), host + "/tracks/9"}
	l.send("Update", l.doc(), nil)
	l.want("Road trip (long)", song(3), song(1), "@")

	// Only the owner changes a playlist; what others send is refused.
	other := &remoteList{w: w, actor: host + "/users/eve", iri: l.iri, updated: l.updated.Add(time.Hour)}
	if s := other.send("Add", l.audio(8), other.target(other.updated)); s != http.StatusUnprocessableEntity {
		t.Errorf("another actor's Add answered %d", s)
	}
	if s := other.send("Delete", map[string]any{"id": l.iri, "type": "Tombstone"}, nil); s != http.StatusUnprocessableEntity {
		t.Errorf("another actor's Delete answered %d", s)
	}
	l.want("Road trip (long)", song(3), song(1), "@")

	// A Delete made before the copy's version (the playlist was made
	// public again since) is late; a newer one deletes the copy.
	l.send("Delete", map[string]any{"id": l.iri, "type": "Tombstone", "deleted": preciseTime(l.updated.Add(-time.Second))}, nil)
	l.want("Road trip (long)", song(3), song(1), "@")
	l.send("Delete", map[string]any{"id": l.iri, "type": "Tombstone", "deleted": preciseTime(l.updated.Add(time.Second))}, nil)
	if p, _ := l.copied(); p != nil {
		t.Errorf("the deleted playlist is still kept: %+v", p)
	}
	// What is not about a copied playlist goes on to the feed as before.
	if s := l.send("Add", l.audio(1), map[string]any{"target": host + "/users/bea/featured"}); s != http.StatusAccepted {
		t.Errorf("an Add to something else answered %d", s)
	}
}

// A node serves a public playlist as a paged OrderedCollection of Audio
// objects; another node's reader copies it whole.
func TestPlaylistsPublishedAndReadBack(t *testing.T) {
	w := newFediverse(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var tracks []*nineten.Track
	for i := range playlistPageSize + 3 {
		tr := &nineten.Track{ArtistID: w.artist.ID, Title: fmt.Sprintf("T%d", i), Status: nineten.TrackReady, DurationMS: 1000, CreatedAt: now, UpdatedAt: now}
		if err := w.db.CreateTrack(ctx, tr); err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	p := &nineten.Playlist{OwnerID: w.user.ID, Title: "Big one", Description: "Two\nlines <i>", Public: true, CreatedAt: now, UpdatedAt: now}
	if err := w.db.CreatePlaylist(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, tr := range tracks {
		if err := w.db.AddPlaylistItem(ctx, p.ID, &nineten.PlaylistItem{TrackID: tr.ID, AddedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	far := nineten.RemoteItem{IRI: "https://c.example/tracks/1", Title: "Far", Artist: "Cy", HLSURL: "https://c.example/hls/1.m3u8"}
	if err := w.db.AddPlaylistItem(ctx, p.ID, &nineten.PlaylistItem{Remote: far, AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	tracks[1].Hidden = true // hidden since: left out
	if err := w.db.UpdateTrack(ctx, tracks[1]); err != nil {
		t.Fatal(err)
	}

	get := func(path string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", w.node.URL+path, nil)
		req.Header.Set("Accept", activityJSON)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		return resp.StatusCode, doc
	}
	iri := w.f.playlistIRI(p.ID)
	status, doc := get(fmt.Sprintf("/playlists/%d", p.ID))
	if status != 200 || doc["id"] != iri || doc["attributedTo"] != w.userIRI() || doc["name"] != "Big one" ||
		doc["summary"] != "<p>Two</p><p>lines &lt;i&gt;</p>" || doc["totalItems"] != float64(playlistPageSize+3) {
		t.Fatalf("playlist document (%d): %v", status, doc)
	}
	first := doc["first"].(map[string]any)
	items := first["orderedItems"].([]any)
	if len(items) != playlistPageSize || first["next"] != iri+"?page=2" {
		t.Fatalf("first page has %d items, next %v", len(items), first["next"])
	}
	if a := items[0].(map[string]any); a["id"] != w.f.url(fmt.Sprintf("/tracks/%d", tracks[0].ID)) || a["name"] != "T0" ||
		a["artistName"] != "Bob Band" || a["attributedTo"] != w.artistIRI() || a["type"] != "Audio" {
		t.Errorf("first item %v", a)
	}
	if _, page2 := get(fmt.Sprintf("/playlists/%d?page=2", p.ID)); len(page2["orderedItems"].([]any)) != 3 || page2["next"] != nil {
		t.Errorf("page 2: %v", page2)
	}
	if _, outbox := get("/users/lain/outbox?page=1"); len(outbox["orderedItems"].([]any)) != 1 {
		t.Errorf("outbox: %v", outbox)
	}

	// What a follower's node makes of it: every item, in order.
	copier := newFediverse(t)
	copier.follow(w.userIRI(), "")
	if err := copier.db.SaveRemoteActor(ctx, &nineten.RemoteActor{IRI: w.userIRI(), Inbox: w.userIRI() + "/inbox", FetchedAt: now}); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	if err := copier.f.copyPlaylist(ctx, w.userIRI(), raw); err != nil {
		t.Fatal(err)
	}
	c, err := copier.db.PlaylistByIRI(ctx, iri)
	if err != nil {
		t.Fatal(err)
	}
	got, err := copier.db.PlaylistItems(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != playlistPageSize+3 || got[0].Remote.Title != "T0" || got[1].Remote.Title != "T2" || got[len(got)-1].Remote != far ||
		got[0].Remote.HLSURL != w.f.url(fmt.Sprintf("/media/tracks/%d/hls/master.m3u8", tracks[0].ID)) || got[0].Remote.Artist != "Bob Band" {
		t.Errorf("copied %d items: %+v … %+v", len(got), got[0], got[len(got)-1])
	}
	if c.Title != "Big one" || c.Description != "Two\nlines <i>" || !c.UpdatedAt.Equal(now) {
		t.Errorf("copied %+v", c)
	}

	// Private, it is no one's to fetch; browsers are sent to the app.
	p.Public = false
	if err := w.db.UpdatePlaylist(ctx, p); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(fmt.Sprintf("/playlists/%d", p.ID)); status != http.StatusNotFound {
		t.Errorf("a private playlist answered %d", status)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/playlists/%d", w.node.URL, p.ID), nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/app/playlists/%d", p.ID) {
		t.Errorf("a browser got %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
