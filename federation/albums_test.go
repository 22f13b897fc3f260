package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	nineten "nineten.dev"
)

// An album is an OrderedCollection (and our Album) of its playable tracks'
// Audio ids in track order, and each track names its album by that id;
// browsers are sent to the album's page.
func TestAlbumCollection(t *testing.T) {
	w := newFediverse(t)
	ctx := t.Context()
	al := &nineten.Album{ArtistID: w.artist.ID, Title: "Night Shift", Year: 2026, Genre: "Ambient", CreatedAt: time.Now()}
	if err := w.db.CreateAlbum(ctx, al); err != nil {
		t.Fatal(err)
	}
	var ids []nineten.ID
	for i, st := range []nineten.TrackStatus{nineten.TrackReady, nineten.TrackReady, nineten.TrackProcessing} {
		tr := &nineten.Track{ArtistID: w.artist.ID, AlbumID: al.ID, Title: fmt.Sprint("Part ", 3-i), TrackNumber: 3 - i, DurationMS: 60_000, Status: st, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := w.db.CreateTrack(ctx, tr); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tr.ID)
	}
	get := func(path, accept string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.node.URL+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get(fmt.Sprintf("/albums/%d", al.ID), activityJSON)
	var doc struct {
		ID, Name, AttributedTo string
		Type                   []string
		TotalItems             int
		OrderedItems           []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("album: %d, %v", resp.StatusCode, err)
	}
	want := []string{w.f.url(fmt.Sprintf("/tracks/%d", ids[1])), w.f.url(fmt.Sprintf("/tracks/%d", ids[0]))} // parts 2 and 3; part 1 is processing
	if doc.ID != w.f.albumIRI(al.ID) || !slices.Equal(doc.Type, []string{"OrderedCollection", "Album"}) || doc.Name != "Night Shift" ||
		doc.AttributedTo != w.artistIRI() || doc.TotalItems != 2 || !slices.Equal(doc.OrderedItems, want) {
		t.Errorf("album collection: %+v", doc)
	}
	var track struct {
		Album struct{ ID, Type, Name string }
	}
	json.NewDecoder(get(fmt.Sprintf("/tracks/%d", ids[0]), activityJSON).Body).Decode(&track)
	if track.Album.ID != doc.ID || track.Album.Type != "Album" || track.Album.Name != "Night Shift" {
		t.Errorf("the track's album: %+v", track.Album)
	}
	if r := get(fmt.Sprintf("/albums/%d", al.ID), "text/html"); r.StatusCode/100 != 3 || r.Header.Get("Location") != fmt.Sprintf("/app/albums/%d", al.ID) {
		t.Errorf("a browser asking for the album: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get("/albums/999", activityJSON); r.StatusCode != 404 {
		t.Errorf("a missing album answered %d", r.StatusCode)
	}
}

// An album edit reaches the artist's followers as an Update of the album's
// collection; without followers nothing is queued.
func TestAlbumChangedTellsFollowers(t *testing.T) {
	w := newFediverse(t)
	ctx := t.Context()
	al := &nineten.Album{ArtistID: w.artist.ID, Title: "Draft Title", CreatedAt: time.Now()}
	if err := w.db.CreateAlbum(ctx, al); err != nil {
		t.Fatal(err)
	}
	deliveries := func() []delivery {
		jobs, err := w.db.ActiveJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []delivery
		for _, j := range jobs {
			var d delivery
			if j.Kind == JobDeliver && json.Unmarshal(j.Payload, &d) == nil {
				out = append(out, d)
			}
		}
		return out
	}
	w.f.AlbumChanged(ctx, al)
	if d := deliveries(); len(d) != 0 {
		t.Fatalf("an album without followers queued %d deliveries", len(d))
	}
	fan := w.standIn("fans.example") + "/users/fan"
	if err := w.db.SaveRemoteActor(ctx, &nineten.RemoteActor{IRI: fan, Inbox: fan + "/inbox", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := w.db.SaveFollow(ctx, &nineten.Follow{Local: artistActorName(w.artist), Remote: fan, Inbound: true, State: nineten.FollowAccepted, Activity: fan + "#follow", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	al.Title = "Final Title"
	w.f.AlbumChanged(ctx, al)
	d := deliveries()
	if len(d) != 1 || d[0].Inbox != fan+"/inbox" {
		t.Fatalf("deliveries after an album edit: %+v", d)
	}
	var act struct {
		Type, Actor string
		Object      struct{ ID, Name string }
	}
	if err := json.Unmarshal(d[0].Activity, &act); err != nil {
		t.Fatal(err)
	}
	if act.Type != "Update" || act.Actor != w.artistIRI() || act.Object.ID != w.f.albumIRI(al.ID) || act.Object.Name != "Final Title" {
		t.Errorf("the album's Update: %+v", act)
	}
}
