package federation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
)

// Closing an account: what the node sends (a Delete with a Tombstone of
// each thing the account published, then of each of its actors, each to
// the followers of the actor that published it) and how its actors
// answer afterwards (410 Gone, with a Tombstone).
func TestClosingAnAccountTellsFollowers(t *testing.T) {
	w := newFediverse(t)
	ctx := t.Context()
	userFan := w.remoteFollower("fans.example", userActorName(w.user), nineten.FollowAccepted)
	artistFan := w.remoteFollower("listeners.example", artistActorName(w.artist), nineten.FollowAccepted)
	tr := w.track("Goodbye")
	al := &nineten.Album{ArtistID: w.artist.ID, Title: "Last LP", CreatedAt: time.Now()}
	pl := &nineten.Playlist{OwnerID: w.user.ID, Title: "Farewell", Public: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := w.db.CreateAlbum(ctx, al); err != nil {
		t.Fatal(err)
	}
	if err := w.db.CreatePlaylist(ctx, pl); err != nil {
		t.Fatal(err)
	}
	w.f.AccountClosing(ctx, &nineten.ClosedAccount{User: *w.user, Artists: []nineten.Artist{*w.artist}, Tracks: []nineten.Track{*tr}, Albums: []nineten.Album{*al}, Playlists: []nineten.Playlist{*pl}})

	type deleted struct{ inbox, actor, id, former string }
	var got []deleted
	for _, d := range w.sent() {
		var act struct {
			Type, Actor string
			Object      struct{ ID, Type, FormerType string }
		}
		if err := json.Unmarshal(d.Activity, &act); err != nil || act.Type != "Delete" || act.Object.Type != "Tombstone" {
			t.Fatalf("queued %s, want a Delete of a Tombstone", d.Activity)
		}
		got = append(got, deleted{d.Inbox, act.Actor, act.Object.ID, act.Object.FormerType})
	}
	user, artist := w.userIRI(), w.artistIRI()
	want := []deleted{
		{artistFan + "/inbox", artist, w.f.url(fmt.Sprintf("/tracks/%d/note", tr.ID)), ""},
		{artistFan + "/inbox", artist, w.f.albumIRI(al.ID), "Album"},
		{userFan + "/inbox", user, w.f.playlistIRI(pl.ID), "Playlist"},
		{userFan + "/inbox", user, user, "Person"},
		{artistFan + "/inbox", artist, artist, "Person"},
	}
	if len(got) != len(want) {
		t.Fatalf("queued %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delivery %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	if err := w.db.CloseAccount(ctx, w.user.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, iri := range []string{user, artist} {
		resp := get(t, iri, true)
		var tomb struct{ ID, Type, FormerType, Deleted string }
		_ = json.NewDecoder(resp.Body).Decode(&tomb)
		if resp.StatusCode != http.StatusGone || tomb.ID != iri || tomb.Type != "Tombstone" || tomb.FormerType != "Person" || tomb.Deleted == "" {
			t.Errorf("GET %s after closing: %d %+v", iri, resp.StatusCode, tomb)
		}
		if resp := get(t, iri, false); resp.StatusCode != http.StatusGone {
			t.Errorf("a browser's GET %s after closing: %d", iri, resp.StatusCode)
		}
	}
	// Nobody follows a closed account's actors any more.
	follow, _ := json.Marshal(map[string]any{"@context": asContext, "id": userFan + "#follows/2", "type": "Follow", "actor": userFan, "object": artist})
	if s := w.deliver(follow); s != http.StatusUnprocessableEntity {
		t.Errorf("a Follow of a closed artist answered %d", s)
	}
}

// A Delete signed by an actor whose server no longer has it is accepted
// with nothing to do (its server deleted it, and whatever it deletes);
// anything else from it is refused as unsigned.
func TestDeleteByAGoneActor(t *testing.T) {
	w := newFediverse(t)
	gone := w.standIn("gone.example") + "/users/gone"
	post := func(typ string) int {
		body, _ := json.Marshal(map[string]any{"@context": asContext, "id": gone + "#" + typ, "type": typ, "actor": gone, "object": gone})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.node.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", activityJSON)
		if err := httpsig.SignCavage(req, body, httpsig.Key{ID: gone + "#main-key", Private: w.key}, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("Delete"); s != http.StatusAccepted {
		t.Errorf("a gone actor's Delete answered %d, want 202", s)
	}
	if s := post("Like"); s != http.StatusUnauthorized {
		t.Errorf("a gone actor's Like answered %d, want 401", s)
	}
}
