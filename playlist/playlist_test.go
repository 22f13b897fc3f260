package playlist_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/playlist"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// change is one call of Service.Changed.
type change struct {
	playlist string
	kind     nineten.PlaylistChange
	item     string // the item's track: its title or remote IRI
}

type rig struct {
	t       *testing.T
	db      *sqlstore.DB
	svc     *playlist.Service
	clock   *clocktest.Clock
	artist  *nineten.Artist
	changes []change
}

// eachRig runs fn on each database engine with a fresh rig: the use case
// on a real store.
func eachRig(t *testing.T, fn func(t *testing.T, r *rig)) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := &rig{t: t, db: db, clock: clocktest.New(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))}
		r.svc = &playlist.Service{Store: db, Clock: r.clock,
			Changed: func(_ context.Context, p *nineten.Playlist, c nineten.PlaylistChange, it *nineten.PlaylistItem) {
				ch := change{playlist: p.Title, kind: c}
				if it != nil {
					ch.item = it.Remote.IRI
					if it.Track != nil {
						ch.item = it.Track.Title
					}
				}
				r.changes = append(r.changes, ch)
			}}
		owner := r.user("label")
		r.artist = &nineten.Artist{OwnerID: owner.ID, Name: "The Band", Slug: "the-band", CreatedAt: r.clock.Now()}
		if err := db.CreateArtist(t.Context(), r.artist); err != nil {
			t.Fatal(err)
		}
		fn(t, r)
	})
}

func (r *rig) user(name string) *nineten.User {
	r.t.Helper()
	u := &nineten.User{Username: name, Role: nineten.RoleListener, CreatedAt: r.clock.Now()}
	if err := r.db.CreateUser(r.t.Context(), u); err != nil {
		r.t.Fatal(err)
	}
	return u
}

func (r *rig) track(title string, status nineten.TrackStatus) *nineten.Track {
	r.t.Helper()
	t := &nineten.Track{ArtistID: r.artist.ID, Title: title, Status: status, DurationMS: 60_000, CreatedAt: r.clock.Now(), UpdatedAt: r.clock.Now()}
	if err := r.db.CreateTrack(r.t.Context(), t); err != nil {
		r.t.Fatal(err)
	}
	return t
}

func (r *rig) create(u *nineten.User, title string, public bool) *nineten.Playlist {
	r.t.Helper()
	p, err := r.svc.Create(r.t.Context(), u, playlist.Edit{Title: &title, Public: &public})
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) add(u *nineten.User, p *nineten.Playlist, t *nineten.Track) *nineten.PlaylistItem {
	r.t.Helper()
	it, err := r.svc.AddTrack(r.t.Context(), u, p.ID, t.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return it
}

// titles lists what viewer sees of playlist p, by title, in order.
func (r *rig) titles(viewer *nineten.User, p *nineten.Playlist) []string {
	r.t.Helper()
	_, items, err := r.svc.Get(r.t.Context(), viewer, p.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Track != nil {
			out = append(out, it.Track.Title)
		} else {
			out = append(out, it.Remote.Title)
		}
	}
	return out
}

func wantKind(t *testing.T, what string, err error, k nineten.Kind) {
	t.Helper()
	if nineten.ErrorKind(err) != k {
		t.Errorf("%s: got %v, want an error of kind %q", what, err, k)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreateEditDelete(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		ann := r.user("ann")
		p, err := r.svc.Create(ctx, ann, playlist.Edit{Title: ptr("  Night\tdrive "), Description: ptr("For the\nlong road\x07")})
		if err != nil {
			t.Fatal(err)
		}
		if p.Title != "Nightdrive" || p.Description != "For the\nlong road" || p.Public || p.OwnerName != "ann" {
			t.Errorf("created %+v", p)
		}
		for what, e := range map[string]playlist.Edit{
			"no title":          {},
			"a blank title":     {Title: ptr("  \n ")},
			"a long title":      {Title: ptr(strings.Repeat("é", playlist.MaxTitle+1))},
			"a long desciption": {Title: ptr("ok"), Description: ptr(strings.Repeat("x", playlist.MaxDescription+1))},
		} {
			_, err := r.svc.Create(ctx, ann, e)
			wantKind(t, what, err, nineten.KindInvalid)
		}
		_, err = r.svc.Create(ctx, nil, playlist.Edit{Title: ptr("x")})
		wantKind(t, "anonymous", err, nineten.KindUnauthenticated)

		r.clock.Add(time.Minute)
		up, err := r.svc.Update(ctx, ann, p.ID, playlist.Edit{Title: ptr("Night drive"), Public: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if up.Title != "Night drive" || up.Description != "For the\nlong road" || !up.Public || !up.UpdatedAt.Equal(r.clock.Now()) {
			t.Errorf("updated %+v", up)
		}
		_, err = r.svc.Update(ctx, ann, p.ID, playlist.Edit{Title: ptr("")})
		wantKind(t, "an emptied title", err, nineten.KindInvalid)

		mine, total, err := r.svc.Mine(ctx, ann, nineten.Page{})
		if err != nil || total != 1 || mine[0].Title != "Night drive" {
			t.Errorf("Mine: %+v (%d), %v", mine, total, err)
		}
		if err := r.svc.Delete(ctx, ann, p.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = r.svc.Get(ctx, ann, p.ID)
		wantKind(t, "a deleted playlist", err, nineten.KindNotFound)
	})
}

func TestOnlyTheOwnerSeesPrivateAndChangesAny(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		ann, bob := r.user("ann"), r.user("bob")
		song := r.track("Song", nineten.TrackReady)
		private, public := r.create(ann, "Private", false), r.create(ann, "Public", true)
		item := r.add(ann, private, song)
		pubItem := r.add(ann, public, song)

		// Others never learn that a private playlist exists: every
		// operation answers as for a playlist that does not.
		for _, viewer := range []*nineten.User{bob, nil} {
			_, _, err := r.svc.Get(ctx, viewer, private.ID)
			wantKind(t, "reading another's private playlist", err, nineten.KindNotFound)
		}
		_, err := r.svc.Update(ctx, bob, private.ID, playlist.Edit{Title: ptr("Mine now")})
		wantKind(t, "editing another's private playlist", err, nineten.KindNotFound)
		_, err = r.svc.AddTrack(ctx, bob, private.ID, song.ID)
		wantKind(t, "adding to another's private playlist", err, nineten.KindNotFound)
		wantKind(t, "removing from another's private playlist", r.svc.RemoveItem(ctx, bob, private.ID, item.ID), nineten.KindNotFound)
		_, err = r.svc.MoveItem(ctx, bob, private.ID, item.ID, 0)
		wantKind(t, "moving in another's private playlist", err, nineten.KindNotFound)
		wantKind(t, "deleting another's private playlist", r.svc.Delete(ctx, bob, private.ID), nineten.KindNotFound)

		// A public one anyone may read; only its owner changes it.
		for _, viewer := range []*nineten.User{bob, nil, ann} {
			if got := r.titles(viewer, public); !slices.Equal(got, []string{"Song"}) {
				t.Errorf("%v sees %v", viewer, got)
			}
		}
		_, err = r.svc.Update(ctx, bob, public.ID, playlist.Edit{Title: ptr("Mine now")})
		wantKind(t, "editing another's public playlist", err, nineten.KindPermission)
		wantKind(t, "removing from another's public playlist", r.svc.RemoveItem(ctx, bob, public.ID, pubItem.ID), nineten.KindPermission)
		wantKind(t, "deleting another's public playlist", r.svc.Delete(ctx, bob, public.ID), nineten.KindPermission)
		_, err = r.svc.Update(ctx, nil, public.ID, playlist.Edit{Title: ptr("x")})
		wantKind(t, "editing logged out", err, nineten.KindUnauthenticated)
		if got := r.titles(ann, public); !slices.Equal(got, []string{"Song"}) {
			t.Errorf("after refused changes the playlist holds %v", got)
		}

		lists, total, err := r.svc.OfUser(ctx, ann.ID, nineten.Page{})
		if err != nil || total != 1 || lists[0].ID != public.ID {
			t.Errorf("ann's public playlists: %+v (%d), %v", lists, total, err)
		}

		// A disabled account's playlists are no one's to see.
		ann.Disabled = true
		if err := r.db.UpdateUser(ctx, ann); err != nil {
			t.Fatal(err)
		}
		_, _, err = r.svc.Get(ctx, bob, public.ID)
		wantKind(t, "a disabled owner's public playlist", err, nineten.KindNotFound)
		_, _, err = r.svc.OfUser(ctx, ann.ID, nineten.Page{})
		wantKind(t, "a disabled owner's list", err, nineten.KindNotFound)
		_, _, err = r.svc.OfUser(ctx, ann.ID+100, nineten.Page{})
		wantKind(t, "nobody's list", err, nineten.KindNotFound)
	})
}

func TestItems(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		ann := r.user("ann")
		p := r.create(ann, "Mix", false)
		a, b, c := r.track("A", nineten.TrackReady), r.track("B", nineten.TrackReady), r.track("C", nineten.TrackReady)
		for _, tr := range []*nineten.Track{a, b, c} {
			r.add(ann, p, tr)
		}
		_, err := r.svc.AddTrack(ctx, ann, p.ID, b.ID)
		wantKind(t, "adding a track twice", err, nineten.KindConflict)
		processing := r.track("Not yet", nineten.TrackProcessing)
		_, err = r.svc.AddTrack(ctx, ann, p.ID, processing.ID)
		wantKind(t, "adding a track still processing", err, nineten.KindNotFound)
		_, err = r.svc.AddTrack(ctx, ann, p.ID, c.ID+100)
		wantKind(t, "adding no track", err, nineten.KindNotFound)

		_, items, err := r.svc.Get(ctx, ann, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		moved, err := r.svc.MoveItem(ctx, ann, p.ID, items[2].ID, 0)
		if err != nil || len(moved) != 3 || moved[0].Track.Title != "C" {
			t.Fatalf("moving C first answered %+v, %v", moved, err)
		}
		if got := r.titles(ann, p); !slices.Equal(got, []string{"C", "A", "B"}) {
			t.Errorf("after a move: %v", got)
		}

		// A track hidden since is left out, and comes back when unhidden;
		// the others keep their places, so moves still say where to.
		a.Hidden = true
		if err := r.db.UpdateTrack(ctx, a); err != nil {
			t.Fatal(err)
		}
		_, items, _ = r.svc.Get(ctx, ann, p.ID)
		if len(items) != 2 || items[0].Position != 0 || items[1].Position != 2 {
			t.Errorf("with A hidden: %+v", items)
		}
		if _, err := r.svc.MoveItem(ctx, ann, p.ID, items[1].ID, 0); err != nil {
			t.Fatal(err)
		}
		a.Hidden = false
		if err := r.db.UpdateTrack(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := r.titles(ann, p); !slices.Equal(got, []string{"B", "C", "A"}) {
			t.Errorf("after unhiding: %v", got)
		}

		// A deleted track is gone from the playlist.
		if err := r.db.DeleteTrack(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := r.titles(ann, p); !slices.Equal(got, []string{"B", "A"}) {
			t.Errorf("after deleting C: %v", got)
		}
		_, items, _ = r.svc.Get(ctx, ann, p.ID)
		if err := r.svc.RemoveItem(ctx, ann, p.ID, items[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := r.titles(ann, p); !slices.Equal(got, []string{"A"}) {
			t.Errorf("after removing B: %v", got)
		}
		wantKind(t, "removing it again", r.svc.RemoveItem(ctx, ann, p.ID, items[0].ID), nineten.KindNotFound)
		other := r.create(ann, "Other", false)
		wantKind(t, "removing an item of another playlist", r.svc.RemoveItem(ctx, ann, other.ID, items[1].ID), nineten.KindNotFound)
		_, err = r.svc.MoveItem(ctx, ann, other.ID, items[1].ID, 0)
		wantKind(t, "moving an item of another playlist", err, nineten.KindNotFound)
	})
}

func TestLimits(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		ann := r.user("ann")
		p := r.create(ann, "Full", false)
		full := make([]nineten.PlaylistItem, playlist.MaxItems-1)
		for i := range full {
			full[i].Remote = nineten.RemoteItem{IRI: fmt.Sprintf("https://b.example/tracks/%d", i)}
		}
		if err := r.db.ReplacePlaylistItems(ctx, p.ID, full); err != nil {
			t.Fatal(err)
		}
		r.add(ann, p, r.track("The last one", nineten.TrackReady))
		_, err := r.svc.AddTrack(ctx, ann, p.ID, r.track("One too many", nineten.TrackReady).ID)
		wantKind(t, "adding to a full playlist", err, nineten.KindInvalid)

		err = r.db.WithTx(ctx, func(tx nineten.Store) error {
			for i := range playlist.MaxPerUser - 2 {
				if err := tx.CreatePlaylist(ctx, &nineten.Playlist{OwnerID: ann.ID, Title: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r.create(ann, "The last one", false)
		_, err = r.svc.Create(ctx, ann, playlist.Edit{Title: ptr("One too many")})
		wantKind(t, "creating one playlist too many", err, nineten.KindInvalid)
		// The limit is per account.
		r.create(r.user("bob"), "Bob's first", false)
	})
}

func TestFollowersAreToldOfPublicChangesOnly(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		ann := r.user("ann")
		song, other := r.track("Song", nineten.TrackReady), r.track("Other", nineten.TrackReady)
		pub := r.create(ann, "Pub", true)
		priv := r.create(ann, "Priv", false)
		item := r.add(ann, pub, song)
		r.add(ann, pub, other)
		r.add(ann, priv, song)
		if _, err := r.svc.MoveItem(ctx, ann, pub.ID, item.ID, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.MoveItem(ctx, ann, pub.ID, item.ID, 5); err != nil { // where it is already
			t.Fatal(err)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err := r.svc.Update(ctx, ann, pub.ID, playlist.Edit{Title: ptr("Pub!")})
		must(err)
		_, err = r.svc.Update(ctx, ann, pub.ID, playlist.Edit{Title: ptr("Pub!")}) // no change
		must(err)
		must(r.svc.RemoveItem(ctx, ann, pub.ID, item.ID))
		_, err = r.svc.Update(ctx, ann, pub.ID, playlist.Edit{Public: ptr(false)})
		must(err)
		_, err = r.svc.Update(ctx, ann, pub.ID, playlist.Edit{Title: ptr("Quiet")}) // private now
		must(err)
		_, err = r.svc.Update(ctx, ann, priv.ID, playlist.Edit{Public: ptr(true)})
		must(err)
		must(r.svc.Delete(ctx, ann, priv.ID))
		must(r.svc.Delete(ctx, ann, pub.ID)) // private: nobody to tell

		want := []change{
			{"Pub", nineten.PlaylistPublished, ""},
			{"Pub", nineten.PlaylistItemAdded, "Song"},
			{"Pub", nineten.PlaylistItemAdded, "Other"},
			{"Pub", nineten.PlaylistUpdated, ""},
			{"Pub!", nineten.PlaylistUpdated, ""},
			{"Pub!", nineten.PlaylistItemRemoved, "Song"},
			{"Pub!", nineten.PlaylistWithdrawn, ""},
			{"Priv", nineten.PlaylistPublished, ""},
			{"Priv", nineten.PlaylistWithdrawn, ""},
		}
		if !slices.Equal(r.changes, want) {
			t.Errorf("changes told:\n%v\nwant\n%v", r.changes, want)
		}
	})
}

func TestRemoteTracks(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		ctx := t.Context()
		ann := r.user("ann")
		p := r.create(ann, "Far and near", false)
		const far = "https://b.example/tracks/9"
		_, err := r.svc.AddRemoteTrack(ctx, ann, p.ID, far)
		wantKind(t, "a remote track on a node that does not federate", err, nineten.KindUnavailable)

		var asked []string
		r.svc.Resolve = func(_ context.Context, iri string) (*nineten.RemoteItem, error) {
			asked = append(asked, iri)
			if iri != far {
				return nil, nineten.E("test.Resolve", nineten.KindNotFound, iri+" is not a track")
			}
			return &nineten.RemoteItem{IRI: far, Title: "Far away", Artist: "Bea", HLSURL: far + "/hls"}, nil
		}
		it, err := r.svc.AddRemoteTrack(ctx, ann, p.ID, far)
		if err != nil {
			t.Fatal(err)
		}
		if it.TrackID != 0 || it.Remote.Title != "Far away" || it.Remote.Artist != "Bea" {
			t.Errorf("added %+v", it)
		}
		_, err = r.svc.AddRemoteTrack(ctx, ann, p.ID, far)
		wantKind(t, "adding a remote track twice", err, nineten.KindConflict)
		_, err = r.svc.AddRemoteTrack(ctx, ann, p.ID, "https://b.example/notes/1")
		wantKind(t, "adding what is no track", err, nineten.KindNotFound)
		_, err = r.svc.AddRemoteTrack(ctx, ann, p.ID, "javascript:alert(1)")
		wantKind(t, "adding a script", err, nineten.KindInvalid)
		r.add(ann, p, r.track("Near", nineten.TrackReady))
		if got := r.titles(ann, p); !slices.Equal(got, []string{"Far away", "Near"}) {
			t.Errorf("playlist holds %v", got)
		}
		if !slices.Equal(asked, []string{far, far, "https://b.example/notes/1"}) {
			t.Errorf("asked the federation about %v", asked)
		}
	})
}
