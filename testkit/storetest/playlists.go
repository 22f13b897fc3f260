package storetest

import (
	"fmt"
	"slices"
	"time"

	"nineten.dev"
)

// playlist creates a local playlist of owner.
func (e *env) playlist(owner *nineten.User, title string, public bool, updated time.Time) *nineten.Playlist {
	e.Helper()
	p := &nineten.Playlist{OwnerID: owner.ID, Title: title, Public: public, CreatedAt: t0, UpdatedAt: updated}
	e.ok(e.s.CreatePlaylist(e.ctx, p))
	return p
}

// remoteActor stores an actor of another server, as the federation does
// before it keeps anything of theirs.
func (e *env) remoteActor(iri, handle string) {
	e.Helper()
	e.ok(e.s.SaveRemoteActor(e.ctx, &nineten.RemoteActor{IRI: iri, Inbox: iri + "/inbox", Handle: handle, FetchedAt: t0}))
}

// copyOf creates the copy of a remote playlist of actor.
func (e *env) copyOf(actor, iri, title string, updated time.Time) *nineten.Playlist {
	e.Helper()
	p := &nineten.Playlist{IRI: iri, Actor: actor, Title: title, Public: true, CreatedAt: t0, UpdatedAt: updated}
	e.ok(e.s.CreatePlaylist(e.ctx, p))
	return p
}

// readyTracks creates n ready tracks of one artist.
func (e *env) readyTracks(n int) []*nineten.Track {
	e.Helper()
	owner := e.user(fmt.Sprintf("artist-owner-%d", e.seq+1))
	a := e.artist(owner.ID, "Artist")
	var out []*nineten.Track
	for i := range n {
		out = append(out, e.track(nineten.Track{ArtistID: a.ID, Title: fmt.Sprintf("Track %d", i+1), DurationMS: 1000 * int64(i+1)}))
	}
	return out
}

func remote(iri string) nineten.PlaylistItem {
	return nineten.PlaylistItem{Remote: nineten.RemoteItem{
		IRI: iri, Title: "Far " + iri, Artist: "Somebody", DurationMS: 61_000,
		HLSURL: iri + "/hls/master.m3u8", PageURL: iri + "/page", CoverURL: iri + "/cover.jpg",
	}, AddedAt: t0}
}

// add appends it to playlist p and returns it with its ID.
func (e *env) add(p *nineten.Playlist, it nineten.PlaylistItem) nineten.PlaylistItem {
	e.Helper()
	e.ok(e.s.AddPlaylistItem(e.ctx, p.ID, &it))
	return it
}

func local(t *nineten.Track) nineten.PlaylistItem {
	return nineten.PlaylistItem{TrackID: t.ID, AddedAt: t0}
}

// order returns the items of p as names, in order: "t<id>" for a local
// track, the IRI for a remote one; it checks that positions count up
// from 0 and that each local item comes with its track.
func (e *env) order(p *nineten.Playlist) []string {
	e.Helper()
	items, err := e.s.PlaylistItems(e.ctx, p.ID)
	e.ok(err)
	var out []string
	for i, it := range items {
		if it.Position != i {
			e.Errorf("item %d has position %d", i, it.Position)
		}
		if it.TrackID != 0 {
			if it.Track == nil || it.Track.ID != it.TrackID {
				e.Fatalf("item %d: track %d not filled in: %+v", i, it.TrackID, it.Track)
			}
			out = append(out, fmt.Sprintf("t%d", it.TrackID))
		} else {
			out = append(out, it.Remote.IRI)
		}
	}
	return out
}

func (e *env) wantOrder(p *nineten.Playlist, want ...string) {
	e.Helper()
	if got := e.order(p); !slices.Equal(got, want) {
		e.Fatalf("playlist %d holds %v, want %v", p.ID, got, want)
	}
}

func tn(t *nineten.Track) string { return fmt.Sprintf("t%d", t.ID) }

// itemID returns the ID of the item of p at position i.
func (e *env) itemID(p *nineten.Playlist, i int) nineten.ID {
	e.Helper()
	items, err := e.s.PlaylistItems(e.ctx, p.ID)
	e.ok(err)
	return items[i].ID
}

var playlistTests = []test{
	{"Playlists/CreateReadUpdateDelete", func(e *env) {
		ann := e.user("ann")
		p := &nineten.Playlist{OwnerID: ann.ID, Title: "Morning", Description: "Slow starts.", CreatedAt: t0, UpdatedAt: at(time.Second)}
		e.ok(e.s.CreatePlaylist(e.ctx, p))
		if p.ID <= 0 {
			e.Fatalf("CreatePlaylist set ID %d", p.ID)
		}
		got, err := e.s.PlaylistByID(e.ctx, p.ID)
		e.ok(err)
		want := *p
		want.OwnerName = "ann"
		e.same("playlist", &want, got)
		if !got.Local() {
			e.Error("a playlist with an owner is not local")
		}

		p.Title, p.Description, p.Public, p.UpdatedAt = "Mornings", "", true, at(time.Minute)
		e.ok(e.s.UpdatePlaylist(e.ctx, p))
		got, err = e.s.PlaylistByID(e.ctx, p.ID)
		e.ok(err)
		want = *p
		want.OwnerName = "ann"
		e.same("updated playlist", &want, got)

		e.ok(e.s.DeletePlaylist(e.ctx, p.ID))
		_, err = e.s.PlaylistByID(e.ctx, p.ID)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.DeletePlaylist(e.ctx, p.ID), nineten.KindNotFound)
		e.wantKind(e.s.UpdatePlaylist(e.ctx, p), nineten.KindNotFound)
	}},

	{"Playlists/CopiesOfRemotePlaylists", func(e *env) {
		actor := "https://b.example/users/bea"
		e.remoteActor(actor, "bea@b.example")
		c := e.copyOf(actor, "https://b.example/playlists/7", "Road trip", at(time.Second))
		got, err := e.s.PlaylistByIRI(e.ctx, c.IRI)
		e.ok(err)
		want := *c
		want.OwnerName = "bea@b.example"
		e.same("copy", &want, got)
		if got.Local() {
			e.Error("a copy is local")
		}
		// One copy per remote playlist.
		e.wantKind(e.s.CreatePlaylist(e.ctx, &nineten.Playlist{IRI: c.IRI, Actor: actor, Title: "Again", CreatedAt: t0, UpdatedAt: t0}), nineten.KindConflict)
		_, err = e.s.PlaylistByIRI(e.ctx, "https://b.example/playlists/8")
		e.wantKind(err, nineten.KindNotFound)

		// A playlist is local or a copy, not both nor neither.
		ann := e.user("ann")
		e.wantKind(e.s.CreatePlaylist(e.ctx, &nineten.Playlist{Title: "Nobody's"}), nineten.KindInvalid)
		e.wantKind(e.s.CreatePlaylist(e.ctx, &nineten.Playlist{OwnerID: ann.ID, IRI: "https://b.example/playlists/9", Actor: actor, Title: "Both"}), nineten.KindInvalid)
	}},

	{"Playlists/ListByOwnerVisibilityAndFollower", func(e *env) {
		ann, bob := e.user("ann"), e.user("bob")
		a1 := e.playlist(ann, "A1 private", false, at(1*time.Second))
		a2 := e.playlist(ann, "A2 public", true, at(3*time.Second))
		a3 := e.playlist(ann, "A3 public", true, at(2*time.Second))
		b1 := e.playlist(bob, "B1 public", true, at(4*time.Second))
		followed, unfollowed, pending := "https://b.example/users/bea", "https://c.example/users/cy", "https://d.example/users/di"
		for _, a := range []string{followed, unfollowed, pending} {
			e.remoteActor(a, "")
		}
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:99", Remote: followed, State: nineten.FollowAccepted, Activity: "f1", CreatedAt: t0}))
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:99", Remote: pending, State: nineten.FollowPending, Activity: "f2", CreatedAt: t0}))
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:98", Remote: unfollowed, State: nineten.FollowAccepted, Activity: "f3", CreatedAt: t0}))
		c1 := e.copyOf(followed, "https://b.example/playlists/1", "C1", at(5*time.Second))
		c2 := e.copyOf(followed, "https://b.example/playlists/2", "C2", at(6*time.Second))
		e.copyOf(unfollowed, "https://c.example/playlists/1", "Not followed", at(7*time.Second))
		e.copyOf(pending, "https://d.example/playlists/1", "Not accepted yet", at(8*time.Second))

		for _, c := range []struct {
			name  string
			f     nineten.PlaylistFilter
			page  nineten.Page
			want  []*nineten.Playlist
			total int
		}{
			{"ann's", nineten.PlaylistFilter{OwnerID: ann.ID}, nineten.Page{}, []*nineten.Playlist{a2, a3, a1}, 3},
			{"ann's public", nineten.PlaylistFilter{OwnerID: ann.ID, PublicOnly: true}, nineten.Page{}, []*nineten.Playlist{a2, a3}, 2},
			{"ann's, second page", nineten.PlaylistFilter{OwnerID: ann.ID}, nineten.Page{Limit: 2, Offset: 2}, []*nineten.Playlist{a1}, 3},
			{"bob's", nineten.PlaylistFilter{OwnerID: bob.ID}, nineten.Page{}, []*nineten.Playlist{b1}, 1},
			{"followed by user:99", nineten.PlaylistFilter{Follower: "user:99"}, nineten.Page{}, []*nineten.Playlist{c2, c1}, 2},
			{"followed by nobody", nineten.PlaylistFilter{Follower: "user:97"}, nineten.Page{}, nil, 0},
		} {
			got, total, err := e.s.ListPlaylists(e.ctx, c.f, c.page)
			e.ok(err)
			var gotIDs, wantIDs []nineten.ID
			for _, p := range got {
				gotIDs = append(gotIDs, p.ID)
			}
			for _, p := range c.want {
				wantIDs = append(wantIDs, p.ID)
			}
			if !slices.Equal(gotIDs, wantIDs) || total != c.total {
				e.Errorf("%s: got %v of %d, want %v of %d", c.name, gotIDs, total, wantIDs, c.total)
			}
		}
	}},

	{"Items/AppendInOrderEachTrackOnce", func(e *env) {
		ann := e.user("ann")
		p, other := e.playlist(ann, "P", true, t0), e.playlist(ann, "Other", true, t0)
		tr := e.readyTracks(3)
		processing := e.track(nineten.Track{ArtistID: tr[0].ArtistID, Title: "Not yet", Status: nineten.TrackProcessing})
		far := "https://b.example/tracks/1"
		var positions []int
		for _, it := range []nineten.PlaylistItem{local(tr[2]), remote(far), local(tr[0]), local(processing)} {
			it = e.add(p, it)
			if it.ID == 0 {
				e.Fatal("AddPlaylistItem set no ID")
			}
			positions = append(positions, it.Position)
		}
		if !slices.Equal(positions, []int{0, 1, 2, 3}) {
			e.Errorf("positions when appended: %v", positions)
		}
		e.wantOrder(p, tn(tr[2]), far, tn(tr[0]), tn(processing))

		// A track is in a playlist once; the same track may be in others.
		e.wantKind(e.s.AddPlaylistItem(e.ctx, p.ID, &nineten.PlaylistItem{TrackID: tr[2].ID}), nineten.KindConflict)
		e.wantKind(e.s.AddPlaylistItem(e.ctx, p.ID, &nineten.PlaylistItem{Remote: nineten.RemoteItem{IRI: far, Title: "other title"}}), nineten.KindConflict)
		e.add(other, local(tr[2]))
		e.add(other, remote(far))
		e.wantOrder(other, tn(tr[2]), far)

		items, err := e.s.PlaylistItems(e.ctx, p.ID)
		e.ok(err)
		// Local items keep no remote fields; remote ones all of them;
		// local tracks come in every status.
		stored, err := e.s.TrackByID(e.ctx, tr[2].ID)
		e.ok(err)
		e.same("local item", nineten.PlaylistItem{ID: items[0].ID, TrackID: tr[2].ID, Track: stored, AddedAt: t0}, items[0])
		e.same("remote item", nineten.PlaylistItem{ID: items[1].ID, Position: 1, Remote: remote(far).Remote, AddedAt: t0}, items[1])
		if items[3].Track.Status != nineten.TrackProcessing {
			e.Errorf("processing track read as %+v", items[3].Track)
		}
		got, err := e.s.PlaylistByID(e.ctx, p.ID)
		e.ok(err)
		if got.ItemCount != 4 {
			e.Errorf("ItemCount %d, want 4", got.ItemCount)
		}

		e.wantKind(e.s.AddPlaylistItem(e.ctx, p.ID+100, &nineten.PlaylistItem{TrackID: tr[1].ID}), nineten.KindNotFound)
		e.wantKind(e.s.AddPlaylistItem(e.ctx, p.ID, &nineten.PlaylistItem{}), nineten.KindInvalid)
		e.wantKind(e.s.AddPlaylistItem(e.ctx, p.ID, &nineten.PlaylistItem{TrackID: tr[2].ID + 1000}), nineten.KindInvalid)
	}},

	{"Items/RemoveMovesTheRestUp", func(e *env) {
		ann := e.user("ann")
		p := e.playlist(ann, "P", false, t0)
		tr := e.readyTracks(4)
		for _, t := range tr {
			e.add(p, local(t))
		}
		e.ok(e.s.RemovePlaylistItem(e.ctx, p.ID, e.itemID(p, 1)))
		e.wantOrder(p, tn(tr[0]), tn(tr[2]), tn(tr[3]))
		// Appending after a removal goes to the end.
		e.add(p, local(tr[1]))
		e.wantOrder(p, tn(tr[0]), tn(tr[2]), tn(tr[3]), tn(tr[1]))
		e.ok(e.s.RemovePlaylistItem(e.ctx, p.ID, e.itemID(p, 3)))
		e.ok(e.s.RemovePlaylistItem(e.ctx, p.ID, e.itemID(p, 0)))
		e.wantOrder(p, tn(tr[2]), tn(tr[3]))

		// An item is removed from its own playlist only.
		other := e.playlist(ann, "Other", false, t0)
		e.wantKind(e.s.RemovePlaylistItem(e.ctx, other.ID, e.itemID(p, 0)), nineten.KindNotFound)
		e.wantOrder(p, tn(tr[2]), tn(tr[3]))
	}},

	{"Items/Move", func(e *env) {
		ann := e.user("ann")
		p := e.playlist(ann, "P", false, t0)
		tr := e.readyTracks(5)
		a, b, c, d, x := tn(tr[0]), tn(tr[1]), tn(tr[2]), tn(tr[3]), tn(tr[4])
		for _, t := range tr {
			e.add(p, local(t))
		}
		move := func(from, to int) {
			e.Helper()
			e.ok(e.s.MovePlaylistItem(e.ctx, p.ID, e.itemID(p, from), to))
		}
		move(0, 3) // forward
		e.wantOrder(p, b, c, d, a, x)
		move(4, 1) // backward
		e.wantOrder(p, b, x, c, d, a)
		move(2, 2) // nowhere
		e.wantOrder(p, b, x, c, d, a)
		move(1, 99) // past the end: to the end
		e.wantOrder(p, b, c, d, a, x)
		move(3, -5) // before the start: to the start
		e.wantOrder(p, a, b, c, d, x)

		other := e.playlist(ann, "Other", false, t0)
		e.wantKind(e.s.MovePlaylistItem(e.ctx, other.ID, e.itemID(p, 0), 1), nineten.KindNotFound)
		e.wantOrder(p, a, b, c, d, x)
	}},

	{"Items/DeletingATrackTakesItOutOfEveryPlaylist", func(e *env) {
		ann, bob := e.user("ann"), e.user("bob")
		p, q := e.playlist(ann, "P", false, t0), e.playlist(bob, "Q", true, t0)
		tr := e.readyTracks(4)
		for _, t := range tr {
			e.add(p, local(t))
		}
		e.add(q, local(tr[1]))
		e.add(q, remote("https://b.example/tracks/1"))
		e.ok(e.s.DeleteTrack(e.ctx, tr[1].ID))
		e.wantOrder(p, tn(tr[0]), tn(tr[2]), tn(tr[3]))
		e.wantOrder(q, "https://b.example/tracks/1")
		got, err := e.s.PlaylistByID(e.ctx, p.ID)
		e.ok(err)
		if got.ItemCount != 3 {
			e.Errorf("ItemCount %d after a track was deleted, want 3", got.ItemCount)
		}
		// The place the deleted track held is no obstacle to moves.
		e.ok(e.s.MovePlaylistItem(e.ctx, p.ID, e.itemID(p, 2), 1))
		e.wantOrder(p, tn(tr[0]), tn(tr[3]), tn(tr[2]))
		e.ok(e.s.MovePlaylistItem(e.ctx, p.ID, e.itemID(p, 0), 2))
		e.wantOrder(p, tn(tr[3]), tn(tr[2]), tn(tr[0]))
		e.ok(e.s.RemovePlaylistItem(e.ctx, p.ID, e.itemID(p, 1)))
		e.wantOrder(p, tn(tr[3]), tn(tr[0]))
	}},

	{"Items/DeletingAPlaylistDeletesItsItems", func(e *env) {
		ann := e.user("ann")
		p, q := e.playlist(ann, "P", false, t0), e.playlist(ann, "Q", false, t0)
		tr := e.readyTracks(2)
		e.add(p, local(tr[0]))
		e.add(q, local(tr[0]))
		e.ok(e.s.DeletePlaylist(e.ctx, p.ID))
		items, err := e.s.PlaylistItems(e.ctx, p.ID)
		e.ok(err)
		if len(items) != 0 {
			e.Errorf("a deleted playlist has items %+v", items)
		}
		e.wantOrder(q, tn(tr[0]))
		if _, err := e.s.TrackByID(e.ctx, tr[0].ID); err != nil {
			e.Errorf("deleting a playlist deleted its track: %v", err)
		}
	}},

	{"Items/Replace", func(e *env) {
		actor := "https://b.example/users/bea"
		e.remoteActor(actor, "")
		c := e.copyOf(actor, "https://b.example/playlists/1", "C", t0)
		e.add(c, remote("https://b.example/tracks/old"))
		many := make([]nineten.PlaylistItem, 0, 700)
		var want []string
		for i := range 700 {
			iri := fmt.Sprintf("https://b.example/tracks/%d", i)
			many = append(many, remote(iri))
			want = append(want, iri)
		}
		// The same track twice: the first place counts.
		many = slices.Insert(many, 3, remote("https://b.example/tracks/600"))
		want = slices.Insert(want, 3, "https://b.example/tracks/600")
		want = slices.Delete(want, 601, 602)
		e.ok(e.s.ReplacePlaylistItems(e.ctx, c.ID, many))
		e.wantOrder(c, want...)
		items, err := e.s.PlaylistItems(e.ctx, c.ID)
		e.ok(err)
		e.same("replaced item", remote("https://b.example/tracks/0").Remote, items[0].Remote)

		e.ok(e.s.ReplacePlaylistItems(e.ctx, c.ID, nil))
		e.wantOrder(c)
		e.wantKind(e.s.ReplacePlaylistItems(e.ctx, c.ID+100, many[:1]), nineten.KindNotFound)
		e.wantKind(e.s.ReplacePlaylistItems(e.ctx, c.ID, []nineten.PlaylistItem{{}}), nineten.KindInvalid)
	}},

	{"Items/ChangesInARolledBackTransactionAreGone", func(e *env) {
		ann := e.user("ann")
		p := e.playlist(ann, "P", false, t0)
		tr := e.readyTracks(2)
		e.add(p, local(tr[0]))
		errStop := fmt.Errorf("stop")
		err := e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			if err := tx.AddPlaylistItem(e.ctx, p.ID, &nineten.PlaylistItem{TrackID: tr[1].ID}); err != nil {
				return err
			}
			items, err := tx.PlaylistItems(e.ctx, p.ID)
			if err != nil {
				return err
			}
			if len(items) != 2 {
				return fmt.Errorf("the transaction sees %d items, want 2", len(items))
			}
			return errStop
		})
		if err != errStop {
			e.Fatalf("WithTx returned %v", err)
		}
		e.wantOrder(p, tn(tr[0]))
	}},

	{"Playlists/DomainBlockDeletesCopies", func(e *env) {
		blocked, kept := "https://b.example/users/bea", "https://c.example/users/cy"
		e.remoteActor(blocked, "")
		e.remoteActor(kept, "")
		c1 := e.copyOf(blocked, "https://b.example/playlists/1", "Blocked", t0)
		e.add(c1, remote("https://b.example/tracks/1"))
		c2 := e.copyOf(kept, "https://c.example/playlists/1", "Kept", t0)
		e.ok(e.s.BlockDomain(e.ctx, &nineten.DomainBlock{Host: "b.example", CreatedAt: t0}))
		_, err := e.s.PlaylistByID(e.ctx, c1.ID)
		e.wantKind(err, nineten.KindNotFound)
		if _, err := e.s.PlaylistByID(e.ctx, c2.ID); err != nil {
			e.Errorf("a copy of another server's playlist went too: %v", err)
		}
	}},
}
