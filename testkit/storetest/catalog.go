package storetest

import (
	"fmt"
	"slices"
	"time"

	"nineten.dev"
)

var catalogTests = []test{
	{"Artists/CreateReadUpdate", func(e *env) {
		owner := e.user("owner")
		a := &nineten.Artist{OwnerID: owner.ID, Name: "Daft Punk", Slug: "daft-punk", Bio: "Two robots.", CreatedAt: t0}
		e.ok(e.s.CreateArtist(e.ctx, a))
		if a.ID <= 0 {
			e.Fatalf("CreateArtist set ID %d, want a positive one", a.ID)
		}
		got, err := e.s.ArtistByID(e.ctx, a.ID)
		e.ok(err)
		e.same("artist", a, got)

		a.Name, a.Slug, a.Bio = "Daft Punk (duo)", "daftpunk", "Retired."
		a.Avatar, a.Header = "profiles/a1-avatar-0123456789abcdef.jpg", "profiles/a1-header-0123456789abcdef.jpg"
		e.ok(e.s.UpdateArtist(e.ctx, a))
		got, err = e.s.ArtistByID(e.ctx, a.ID)
		e.ok(err)
		e.same("updated artist", a, got)

		_, err = e.s.ArtistByID(e.ctx, a.ID+100)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.UpdateArtist(e.ctx, &nineten.Artist{ID: a.ID + 100, OwnerID: owner.ID, Name: "x", Slug: "x"}),
			nineten.KindNotFound)
	}},

	{"Artists/SlugTaken", func(e *env) {
		owner := e.user("owner")
		e.ok(e.s.CreateArtist(e.ctx, &nineten.Artist{OwnerID: owner.ID, Name: "One", Slug: "one", CreatedAt: t0}))
		err := e.s.CreateArtist(e.ctx, &nineten.Artist{OwnerID: owner.ID, Name: "Other One", Slug: "one", CreatedAt: t0})
		e.wantKind(err, nineten.KindConflict)
		two := &nineten.Artist{OwnerID: owner.ID, Name: "Two", Slug: "two", CreatedAt: t0}
		e.ok(e.s.CreateArtist(e.ctx, two))
		two.Slug = "one"
		e.wantKind(e.s.UpdateArtist(e.ctx, two), nineten.KindConflict)
	}},

	{"Artists/ByOwner", func(e *env) {
		mia, ned := e.user("mia"), e.user("ned")
		a1, a2 := e.artist(mia.ID, "Mia Solo"), e.artist(mia.ID, "Mia's Band")
		e.artist(ned.ID, "Ned")
		got, err := e.s.ArtistsByOwner(e.ctx, mia.ID)
		e.ok(err)
		gotIDs := []nineten.ID{}
		for _, a := range got {
			gotIDs = append(gotIDs, a.ID)
		}
		slices.Sort(gotIDs)
		if want := []nineten.ID{a1.ID, a2.ID}; !slices.Equal(gotIDs, want) {
			e.Errorf("ArtistsByOwner = %v, want %v", gotIDs, want)
		}
	}},

	{"Artists/ListByNameWithFilter", func(e *env) {
		owner := e.user("owner")
		zed, alpha, beta, alphaville := e.artist(owner.ID, "Zed"), e.artist(owner.ID, "Alpha"),
			e.artist(owner.ID, "Beta Band"), e.artist(owner.ID, "Alphaville")
		names := func(as []nineten.Artist) []string {
			var out []string
			for _, a := range as {
				out = append(out, a.Name)
			}
			return out
		}
		for _, c := range []struct {
			query string
			page  nineten.Page
			want  []*nineten.Artist
			total int
		}{
			{"", nineten.Page{}, []*nineten.Artist{alpha, alphaville, beta, zed}, 4},
			{"", nineten.Page{Limit: 2, Offset: 1}, []*nineten.Artist{alphaville, beta}, 4},
			{"ALPHA", nineten.Page{}, []*nineten.Artist{alpha, alphaville}, 2},
			{"band", nineten.Page{}, []*nineten.Artist{beta}, 1},
			{"a B", nineten.Page{}, []*nineten.Artist{beta}, 1},
			{"%", nineten.Page{}, nil, 0},
			{"_", nineten.Page{}, nil, 0},
			{"nobody", nineten.Page{}, nil, 0},
		} {
			got, total, err := e.s.ListArtists(e.ctx, c.query, c.page)
			e.ok(err)
			var want []string
			for _, a := range c.want {
				want = append(want, a.Name)
			}
			if !slices.Equal(names(got), want) || total != c.total {
				e.Errorf("ListArtists(%q, %+v) = %q, total %d; want %q, total %d",
					c.query, c.page, names(got), total, want, c.total)
			}
		}
	}},

	{"Artists/TrackCountCountsVisibleTracks", func(e *env) {
		owner := e.user("owner")
		a := e.artist(owner.ID, "Counted")
		e.track(nineten.Track{ArtistID: a.ID, Title: "ready 1"})
		e.track(nineten.Track{ArtistID: a.ID, Title: "ready 2"})
		e.track(nineten.Track{ArtistID: a.ID, Title: "processing", Status: nineten.TrackProcessing})
		e.track(nineten.Track{ArtistID: a.ID, Title: "failed", Status: nineten.TrackFailed})
		e.track(nineten.Track{ArtistID: a.ID, Title: "hidden", Hidden: true})
		got, err := e.s.ArtistByID(e.ctx, a.ID)
		e.ok(err)
		if got.TrackCount != 2 {
			e.Errorf("ArtistByID TrackCount = %d, want 2", got.TrackCount)
		}
		list, _, err := e.s.ListArtists(e.ctx, "", nineten.Page{})
		e.ok(err)
		if len(list) != 1 || list[0].TrackCount != 2 {
			e.Errorf("ListArtists = %+v, want one artist with TrackCount 2", list)
		}
		mine, err := e.s.ArtistsByOwner(e.ctx, owner.ID)
		e.ok(err)
		if len(mine) != 1 || mine[0].TrackCount != 2 {
			e.Errorf("ArtistsByOwner = %+v, want one artist with TrackCount 2", mine)
		}
	}},

	{"Albums/CreateReadUpdate", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Radiohead")
		al := &nineten.Album{ArtistID: ar.ID, Title: "OK Computer", Year: 1997, Genre: "Alternative", CoverKey: "covers/1", CreatedAt: t0}
		e.ok(e.s.CreateAlbum(e.ctx, al))
		if al.ID <= 0 {
			e.Fatalf("CreateAlbum set ID %d, want a positive one", al.ID)
		}
		e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "Airbag"})
		e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "Lucky", Hidden: true})
		want := *al
		want.ArtistName, want.TrackCount = "Radiohead", 1
		got, err := e.s.AlbumByID(e.ctx, al.ID)
		e.ok(err)
		e.same("album", &want, got)

		al.Title, al.Year, al.Genre, al.CoverKey = "OKNOTOK", 2017, "Rock", ""
		e.ok(e.s.UpdateAlbum(e.ctx, al))
		want.Title, want.Year, want.Genre, want.CoverKey = al.Title, al.Year, al.Genre, al.CoverKey
		got, err = e.s.AlbumByID(e.ctx, al.ID)
		e.ok(err)
		e.same("updated album", &want, got)

		_, err = e.s.AlbumByID(e.ctx, al.ID+100)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.UpdateAlbum(e.ctx, &nineten.Album{ID: al.ID + 100, ArtistID: ar.ID, Title: "x"}), nineten.KindNotFound)
	}},

	{"Albums/ByTitleIgnoresCase", func(e *env) {
		owner := e.user("owner")
		a, b := e.artist(owner.ID, "A"), e.artist(owner.ID, "B")
		bs := e.album(b.ID, "OK Computer", 2000)
		as := e.album(a.ID, "OK Computer", 1997)
		got, err := e.s.AlbumByTitle(e.ctx, a.ID, "ok computer")
		e.ok(err)
		if got.ID != as.ID {
			e.Errorf("AlbumByTitle(A) = album %d, want A's album %d (B's is %d)", got.ID, as.ID, bs.ID)
		}
		_, err = e.s.AlbumByTitle(e.ctx, a.ID, "Kid A")
		e.wantKind(err, nineten.KindNotFound)
	}},

	{"Albums/ListByArtistYearTitle", func(e *env) {
		owner := e.user("owner")
		beta, alpha := e.artist(owner.ID, "Beta"), e.artist(owner.ID, "Alpha")
		x := e.album(beta.ID, "X", 2001)
		y := e.album(beta.ID, "Y", 1999)
		a := e.album(beta.ID, "A", 1999)
		q := e.album(alpha.ID, "Q", 2010)
		e.track(nineten.Track{ArtistID: beta.ID, AlbumID: a.ID, Title: "t"})
		albumIDs := func(as []nineten.Album) []nineten.ID {
			var out []nineten.ID
			for _, a := range as {
				out = append(out, a.ID)
			}
			return out
		}
		for _, c := range []struct {
			artist nineten.ID
			page   nineten.Page
			want   []nineten.ID
			total  int
		}{
			{0, nineten.Page{}, []nineten.ID{q.ID, a.ID, y.ID, x.ID}, 4},
			{0, nineten.Page{Limit: 2, Offset: 1}, []nineten.ID{a.ID, y.ID}, 4},
			{beta.ID, nineten.Page{}, []nineten.ID{a.ID, y.ID, x.ID}, 3},
			{alpha.ID, nineten.Page{}, []nineten.ID{q.ID}, 1},
		} {
			got, total, err := e.s.ListAlbums(e.ctx, c.artist, c.page)
			e.ok(err)
			if !slices.Equal(albumIDs(got), c.want) || total != c.total {
				e.Errorf("ListAlbums(%d, %+v) = %v, total %d; want %v, total %d",
					c.artist, c.page, albumIDs(got), total, c.want, c.total)
			}
		}
		all, _, err := e.s.ListAlbums(e.ctx, beta.ID, nineten.Page{})
		e.ok(err)
		if all[0].ArtistName != "Beta" || all[0].TrackCount != 1 {
			e.Errorf("listed album %+v, want ArtistName Beta and TrackCount 1", all[0])
		}
	}},

	// Deleting an album keeps its tracks, as singles.
	{"Albums/DeleteKeepsTracks", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Artist")
		al := e.album(ar.ID, "Gone", 2020)
		tr := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "Survivor"})
		e.ok(e.s.DeleteAlbum(e.ctx, al.ID))
		_, err := e.s.AlbumByID(e.ctx, al.ID)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.DeleteAlbum(e.ctx, al.ID), nineten.KindNotFound)
		got, err := e.s.TrackByID(e.ctx, tr.ID)
		e.ok(err)
		if got.AlbumID != 0 || got.AlbumTitle != "" {
			e.Errorf("track of a deleted album has AlbumID %d, AlbumTitle %q; want 0, \"\"", got.AlbumID, got.AlbumTitle)
		}
	}},

	{"Tracks/CreateReadUpdateDelete", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Massive Attack")
		al := e.album(ar.ID, "Mezzanine", 1998)
		tr := &nineten.Track{
			ArtistID: ar.ID, AlbumID: al.ID, Title: "Teardrop", TrackNumber: 3, Year: 1998,
			Genre: "Trip Hop", DurationMS: 330_000, Status: nineten.TrackProcessing,
			Original: nineten.Original{
				Key: "originals/1.flac", Filename: "teardrop.flac", MIMEType: "audio/flac",
				Size: 38_000_000, SHA256: "ab12", Format: "flac", Codec: "flac",
			},
			CoverKey: "covers/1", MediaKey: "tracks/1", CreatedAt: t0, UpdatedAt: t0,
		}
		e.ok(e.s.CreateTrack(e.ctx, tr))
		if tr.ID <= 0 {
			e.Fatalf("CreateTrack set ID %d, want a positive one", tr.ID)
		}
		want := *tr
		want.ArtistName, want.AlbumTitle = "Massive Attack", "Mezzanine"
		got, err := e.s.TrackByID(e.ctx, tr.ID)
		e.ok(err)
		e.same("track", &want, got)

		tr.Title, tr.Status, tr.Error, tr.Hidden = "Teardrop (remaster)", nineten.TrackFailed, "the file is damaged", true
		tr.DurationMS, tr.Original.Codec, tr.MediaKey, tr.UpdatedAt = 331_000, "alac", "", at(time.Hour)
		tr.AlbumID = 0
		e.ok(e.s.UpdateTrack(e.ctx, tr))
		want = *tr
		want.ArtistName = "Massive Attack"
		got, err = e.s.TrackByID(e.ctx, tr.ID)
		e.ok(err)
		e.same("updated track", &want, got)

		e.ok(e.s.DeleteTrack(e.ctx, tr.ID))
		_, err = e.s.TrackByID(e.ctx, tr.ID)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.DeleteTrack(e.ctx, tr.ID), nineten.KindNotFound)
		e.wantKind(e.s.UpdateTrack(e.ctx, tr), nineten.KindNotFound)
	}},

	// Only listens change a play count: updating a track from a copy read
	// before a listen counted must not undo the play.
	{"Tracks/UpdateKeepsPlayCount", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Artist")
		tr := e.track(nineten.Track{ArtistID: ar.ID, Title: "Song"})
		stale, err := e.s.TrackByID(e.ctx, tr.ID)
		e.ok(err)
		ls := e.listenSession("s1", tr.ID, owner.ID, t0)
		e.ok(e.s.SaveListen(e.ctx, listen(ls, nineten.ListenVerified, at(time.Minute))))
		stale.Title = "Song (edit)"
		e.ok(e.s.UpdateTrack(e.ctx, stale))
		if n := e.playCount(tr.ID); n != 1 {
			e.Errorf("PlayCount = %d after updating a stale copy, want 1", n)
		}
	}},

	{"Tracks/VisibleByDefault", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Artist")
		ready := e.track(nineten.Track{ArtistID: ar.ID, Title: "ready"})
		processing := e.track(nineten.Track{ArtistID: ar.ID, Title: "processing", Status: nineten.TrackProcessing})
		failed := e.track(nineten.Track{ArtistID: ar.ID, Title: "failed", Status: nineten.TrackFailed})
		hidden := e.track(nineten.Track{ArtistID: ar.ID, Title: "hidden", Hidden: true})

		got, total, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{}, nineten.Page{})
		e.ok(err)
		if want := []nineten.ID{ready.ID}; !slices.Equal(ids(got), want) || total != 1 {
			e.Errorf("visible tracks = %v, total %d; want %v, total 1", ids(got), total, want)
		}
		got, total, err = e.s.ListTracks(e.ctx, nineten.TrackFilter{All: true}, nineten.Page{})
		e.ok(err)
		if want := []nineten.ID{hidden.ID, failed.ID, processing.ID, ready.ID}; !slices.Equal(ids(got), want) || total != 4 {
			e.Errorf("all tracks = %v, total %d; want %v, total 4", ids(got), total, want)
		}
	}},

	{"Tracks/FilledFields", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Portishead")
		al := e.album(ar.ID, "Dummy", 1994)
		tr := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "Roads"})
		ls := e.listenSession("s1", tr.ID, 0, t0)
		e.ok(e.s.SaveListen(e.ctx, listen(ls, nineten.ListenVerified, t0)))
		got, _, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{}, nineten.Page{})
		e.ok(err)
		if len(got) != 1 || got[0].ArtistName != "Portishead" || got[0].AlbumTitle != "Dummy" || got[0].PlayCount != 1 {
			e.Errorf("ListTracks = %+v, want Roads with ArtistName, AlbumTitle and PlayCount 1", got)
		}
	}},

	{"Tracks/NewestFirst", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Artist")
		var want []nineten.ID
		for i := range 3 {
			want = append(want, e.track(nineten.Track{ArtistID: ar.ID, Title: fmt.Sprint("t", i)}).ID)
		}
		slices.Reverse(want)
		got, _, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{}, nineten.Page{})
		e.ok(err)
		if !slices.Equal(ids(got), want) {
			e.Errorf("ListTracks = %v, want newest first %v", ids(got), want)
		}
	}},

	{"Tracks/AlbumInTrackOrder", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Artist")
		al := e.album(ar.ID, "Album", 2000)
		three := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "three", TrackNumber: 3})
		one := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "one", TrackNumber: 1})
		two := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "two", TrackNumber: 2})
		twoBis := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "two bis", TrackNumber: 2})
		e.track(nineten.Track{ArtistID: ar.ID, Title: "single"})
		got, total, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{AlbumID: al.ID}, nineten.Page{})
		e.ok(err)
		if want := []nineten.ID{one.ID, two.ID, twoBis.ID, three.ID}; !slices.Equal(ids(got), want) || total != 4 {
			e.Errorf("album tracks = %v, total %d; want %v, total 4", ids(got), total, want)
		}
	}},

	{"Tracks/FilterByArtistAndOwner", func(e *env) {
		olga, pete := e.user("olga"), e.user("pete")
		o1, o2, p1 := e.artist(olga.ID, "Olga One"), e.artist(olga.ID, "Olga Two"), e.artist(pete.ID, "Pete")
		t1 := e.track(nineten.Track{ArtistID: o1.ID, Title: "a"})
		t2 := e.track(nineten.Track{ArtistID: o2.ID, Title: "b"})
		t3 := e.track(nineten.Track{ArtistID: o2.ID, Title: "c", Status: nineten.TrackProcessing})
		t4 := e.track(nineten.Track{ArtistID: p1.ID, Title: "d"})
		for _, c := range []struct {
			f    nineten.TrackFilter
			want []nineten.ID
		}{
			{nineten.TrackFilter{ArtistID: o2.ID}, []nineten.ID{t2.ID}},
			{nineten.TrackFilter{ArtistID: o2.ID, All: true}, []nineten.ID{t3.ID, t2.ID}},
			{nineten.TrackFilter{OwnerID: olga.ID}, []nineten.ID{t2.ID, t1.ID}},
			{nineten.TrackFilter{OwnerID: olga.ID, All: true}, []nineten.ID{t3.ID, t2.ID, t1.ID}},
			{nineten.TrackFilter{OwnerID: pete.ID}, []nineten.ID{t4.ID}},
			{nineten.TrackFilter{OwnerID: pete.ID, ArtistID: o1.ID}, nil},
		} {
			got, total, err := e.s.ListTracks(e.ctx, c.f, nineten.Page{})
			e.ok(err)
			if !slices.Equal(ids(got), c.want) || total != len(c.want) {
				e.Errorf("ListTracks(%+v) = %v, total %d; want %v", c.f, ids(got), total, c.want)
			}
		}
	}},

	{"Tracks/PagesAndTotals", func(e *env) {
		owner := e.user("owner")
		ar := e.artist(owner.ID, "Artist")
		var visible []nineten.ID
		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			for i := range 205 {
				t := &nineten.Track{ArtistID: ar.ID, Title: fmt.Sprint("t", i), Status: nineten.TrackReady, CreatedAt: t0, UpdatedAt: t0}
				if err := tx.CreateTrack(e.ctx, t); err != nil {
					return err
				}
				visible = append(visible, t.ID)
			}
			// Invisible tracks count in no total.
			return tx.CreateTrack(e.ctx, &nineten.Track{ArtistID: ar.ID, Title: "wip", Status: nineten.TrackProcessing, CreatedAt: t0, UpdatedAt: t0})
		}))
		slices.Reverse(visible)
		for _, c := range []struct {
			page nineten.Page
			want []nineten.ID
		}{
			{nineten.Page{}, visible[:50]}, // the default page
			{nineten.Page{Limit: 3, Offset: 202}, visible[202:]},
			{nineten.Page{Limit: 10, Offset: 300}, nil},
			{nineten.Page{Limit: 1000}, visible[:200]}, // the largest page
		} {
			got, total, err := e.s.ListTracks(e.ctx, nineten.TrackFilter{}, c.page)
			e.ok(err)
			if !slices.Equal(ids(got), c.want) || total != 205 {
				e.Errorf("ListTracks(%+v) = %d tracks from %v, total %d; want %d from %v, total 205",
					c.page, len(got), ids(got)[:min(1, len(got))], total, len(c.want), c.want[:min(1, len(c.want))])
			}
		}
	}},

	// A track's listening history goes with it.
	{"Tracks/DeleteDeletesListens", func(e *env) {
		u := e.user("listener")
		ar := e.artist(u.ID, "Artist")
		gone, kept := e.track(nineten.Track{ArtistID: ar.ID, Title: "gone"}), e.track(nineten.Track{ArtistID: ar.ID, Title: "kept"})
		for _, tr := range []*nineten.Track{gone, kept} {
			id := fmt.Sprint("session-", tr.ID)
			ls := e.listenSession(id, tr.ID, u.ID, t0)
			e.ok(e.s.RecordServedSegment(e.ctx, nineten.ServedSegment{SessionID: id, Rendition: "opus128", Index: 0, EndMS: 4000, ServedAt: t0}))
			e.ok(e.s.SaveListen(e.ctx, listen(ls, nineten.ListenVerified, t0)))
		}
		e.ok(e.s.DeleteTrack(e.ctx, gone.ID))

		goneSession := fmt.Sprint("session-", gone.ID)
		_, err := e.s.ListenSessionByID(e.ctx, goneSession)
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.ListenBySession(e.ctx, goneSession)
		e.wantKind(err, nineten.KindNotFound)
		segs, err := e.s.ServedSegments(e.ctx, goneSession)
		e.ok(err)
		if len(segs) != 0 {
			e.Errorf("ServedSegments of a deleted track's session = %+v, want none", segs)
		}
		recent, err := e.s.RecentListens(e.ctx, u.ID, 10)
		e.ok(err)
		if len(recent) != 1 || recent[0].TrackID != kept.ID {
			e.Errorf("RecentListens = %+v, want only the kept track's listen", recent)
		}
	}},
}
