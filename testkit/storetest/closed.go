package storetest

import (
	"fmt"
	"time"

	"nineten.dev"
)

var closedTests = []test{
	// Closing an account erases what names its person and keeps what
	// money needs: the rows and ids (ledger accounts), the listens under
	// the account's number, the artist's tracks hidden.
	{"ClosedAccounts/CloseErasesThePersonKeepsTheMoney", func(e *env) {
		ann, other := e.user("ann"), e.user("other")
		ann.Role, ann.Bio = nineten.RoleArtist, "About me"
		ann.Avatar, ann.Header = "profiles/u1-avatar-1.jpg", "profiles/u1-header-1.jpg"
		e.ok(e.s.UpdateUser(e.ctx, ann))
		art := e.artist(ann.ID, "Ann's Band")
		art.Avatar, art.Header = "profiles/a1-avatar-1.png", "profiles/a1-header-1.jpg"
		e.ok(e.s.UpdateArtist(e.ctx, art))
		otherArt := e.artist(other.ID, "Other")
		tr := e.track(nineten.Track{ArtistID: art.ID, Title: "Song", DurationMS: 200_000})
		kept := e.track(nineten.Track{ArtistID: otherArt.ID, Title: "Kept", DurationMS: 200_000})
		e.ok(e.s.CreateSession(e.ctx, nineten.Session{TokenHash: "h", UserID: ann.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
		e.ok(e.s.CreateToken(e.ctx, &nineten.APIToken{UserID: ann.ID, Name: "script", TokenHash: "th", CreatedAt: t0}))
		e.ok(e.s.RegisterWallet(e.ctx, nineten.Wallet{Address: "0x00000000000000000000000000000000000000aa", UserID: ann.ID, CreatedAt: t0}))
		e.ok(e.s.CreatePlaylist(e.ctx, &nineten.Playlist{OwnerID: ann.ID, Title: "Mine", Public: true, CreatedAt: t0, UpdatedAt: t0}))
		e.ok(e.s.CreateComment(e.ctx, &nineten.Comment{Track: nineten.TrackRef{ID: kept.ID}, UserID: ann.ID, Text: "hi", CreatedAt: t0, UpdatedAt: t0}))
		_, err := e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: nineten.ReactionLike, Track: nineten.TrackRef{ID: kept.ID}, Actor: fmt.Sprintf("user:%d", ann.ID), Activity: "l1", CreatedAt: t0})
		e.ok(err)
		for _, local := range []string{fmt.Sprintf("user:%d", ann.ID), fmt.Sprintf("artist:%d", art.ID)} {
			e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: local, Remote: "https://b.example/users/x", Inbound: true, State: nineten.FollowAccepted, Activity: local + "#f", CreatedAt: t0}))
			e.ok(e.s.SaveActorSettings(e.ctx, &nineten.ActorSettings{Actor: local, ManualApproval: true}))
		}
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: fmt.Sprintf("artist:%d", otherArt.ID), Remote: "https://b.example/users/x", Inbound: true, State: nineten.FollowAccepted, Activity: "other#f", CreatedAt: t0}))
		ls := e.listenSession("s1", kept.ID, ann.ID, at(time.Hour))
		e.ok(e.s.SaveListen(e.ctx, listen(ls, nineten.ListenVerified, at(time.Hour+time.Minute))))

		closedAt := at(2 * time.Hour)
		e.ok(e.s.CloseAccount(e.ctx, ann.ID, closedAt))
		e.wantKind(e.s.CloseAccount(e.ctx, ann.ID, closedAt), nineten.KindNotFound)

		got, err := e.s.UserByUsername(e.ctx, "ann")
		e.ok(err)
		if !got.DeletedAt.Equal(closedAt) || got.DisplayName != "" || got.Bio != "" || got.Avatar != "" || got.Header != "" || got.PasswordHash != "" || !got.Disabled || got.ID != ann.ID {
			e.Errorf("closed user = %+v, want the same id and name, closed at %v, nothing else", got, closedAt)
		}
		_, err = e.s.SessionByHash(e.ctx, "h")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.TokenByHash(e.ctx, "th")
		e.wantKind(err, nineten.KindNotFound)
		ws, err := e.s.WalletsOf(e.ctx, ann.ID)
		e.ok(err)
		ps, _, err := e.s.ListPlaylists(e.ctx, nineten.PlaylistFilter{OwnerID: ann.ID}, nineten.Page{})
		e.ok(err)
		n, err := e.s.CommentCount(e.ctx, kept.ID)
		e.ok(err)
		likes, _, err := e.s.ReactionCounts(e.ctx, kept.ID)
		e.ok(err)
		if len(ws) != 0 || len(ps) != 0 || n != 0 || likes != 0 {
			e.Errorf("after closing: %d wallets, %d playlists, %d comments, %d likes; want none", len(ws), len(ps), n, likes)
		}
		for _, local := range []string{fmt.Sprintf("user:%d", ann.ID), fmt.Sprintf("artist:%d", art.ID)} {
			fs, err := e.s.Follows(e.ctx, local, true)
			e.ok(err)
			st, err := e.s.ActorSettings(e.ctx, local)
			e.ok(err)
			if len(fs) != 0 || st.ManualApproval {
				e.Errorf("%s keeps %d followers and settings %+v after closing", local, len(fs), st)
			}
		}
		if fs, err := e.s.Follows(e.ctx, fmt.Sprintf("artist:%d", otherArt.ID), true); err != nil || len(fs) != 1 {
			e.Errorf("another artist's followers: %d, %v; want 1 kept", len(fs), err)
		}
		a, err := e.s.ArtistByID(e.ctx, art.ID)
		e.ok(err)
		if a.Name != nineten.ClosedArtistName || a.Bio != "" || a.Avatar != "" || a.Header != "" || !a.DeletedAt.Equal(closedAt) || a.Slug != art.Slug {
			e.Errorf("closed artist = %+v", a)
		}
		list, _, err := e.s.ListArtists(e.ctx, "", nineten.Page{})
		e.ok(err)
		if len(list) != 1 || list[0].ID != otherArt.ID {
			e.Errorf("ListArtists lists %v, want only the open artist %d", list, otherArt.ID)
		}
		t, err := e.s.TrackByID(e.ctx, tr.ID)
		e.ok(err)
		if t.Visible() {
			e.Errorf("a closed artist's track is still visible")
		}
		// The listen still counts, under ann's number, for the month.
		q := nineten.TotalsQuery{From: t0.AddDate(0, 0, -1), To: t0.AddDate(0, 1, 0), MinHeardMS: 30_000}
		var totals []nineten.ListenerArtistTotal
		e.ok(e.s.ListeningTotals(e.ctx, q, func(t nineten.ListenerArtistTotal) error { totals = append(totals, t); return nil }))
		if len(totals) != 1 || totals[0].UserID != ann.ID {
			e.Errorf("totals after closing = %+v, want ann's listen", totals)
		}
		if n, err := e.s.CountUsers(e.ctx); err != nil || n != 1 {
			e.Errorf("CountUsers after closing one of two: %d, %v; want 1", n, err)
		}
		// Nobody takes the name or the id.
		e.wantKind(e.s.CreateUser(e.ctx, &nineten.User{Username: "ann", Role: nineten.RoleListener, CreatedAt: t0}), nineten.KindConflict)
	}},

	// Once the month of the closure is settled, the listens lose their
	// listener and the closed artist's tracks go; before, nothing moves.
	{"ClosedAccounts/PurgeAfterTheMonthSettles", func(e *env) {
		ann, bob := e.user("ann"), e.user("bob")
		art := e.artist(ann.ID, "Band")
		tr := e.track(nineten.Track{ArtistID: art.ID, Title: "Song", DurationMS: 200_000})
		al := e.album(art.ID, "LP", 2025)
		keep := e.artist(bob.ID, "Keep")
		kt := e.track(nineten.Track{ArtistID: keep.ID, Title: "Kept", DurationMS: 200_000})
		e.ok(e.s.SaveListen(e.ctx, listen(e.listenSession("s1", kt.ID, ann.ID, at(time.Hour)), nineten.ListenVerified, at(time.Hour))))
		e.ok(e.s.SaveListen(e.ctx, listen(e.listenSession("s2", kt.ID, bob.ID, at(time.Hour)), nineten.ListenVerified, at(time.Hour))))
		// And a listen of another server's track, which goes anonymous too.
		far := &nineten.RemoteTrack{IRI: "https://b.example/tracks/1", Payee: "b.example/1", DurationMS: 200_000}
		e.ok(e.s.SaveRemoteTrack(e.ctx, far))
		rs := &nineten.ListenSession{ID: nineten.RemoteSessionPrefix + "s3", RemoteTrackID: far.ID, UserID: ann.ID, StartedAt: at(time.Hour)}
		e.ok(e.s.CreateListenSession(e.ctx, rs))
		e.ok(e.s.SaveListen(e.ctx, &nineten.Listen{SessionID: rs.ID, RemoteTrackID: far.ID, UserID: ann.ID, StartedAt: at(time.Hour), HeardMS: 40_000, Status: nineten.ListenVerified}))
		closedAt := at(2 * time.Hour)
		e.ok(e.s.CloseAccount(e.ctx, ann.ID, closedAt))

		n, err := e.s.PurgeClosedAccounts(e.ctx, closedAt.Add(-time.Millisecond))
		e.ok(err)
		if n != 0 {
			e.Errorf("purged %d accounts closed after the settled month, want 0", n)
		}
		if _, err := e.s.TrackByID(e.ctx, tr.ID); err != nil {
			e.Fatalf("the track went before its month settled: %v", err)
		}
		n, err = e.s.PurgeClosedAccounts(e.ctx, closedAt.Add(time.Millisecond))
		e.ok(err)
		if n != 1 {
			e.Errorf("purged %d accounts, want 1", n)
		}
		_, err = e.s.TrackByID(e.ctx, tr.ID)
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.AlbumByID(e.ctx, al.ID)
		e.wantKind(err, nineten.KindNotFound)
		q := nineten.TotalsQuery{From: t0.AddDate(0, 0, -1), To: t0.AddDate(0, 1, 0), MinHeardMS: 30_000}
		var totals []nineten.ListenerArtistTotal
		e.ok(e.s.ListeningTotals(e.ctx, q, func(t nineten.ListenerArtistTotal) error { totals = append(totals, t); return nil }))
		if len(totals) != 1 || totals[0].UserID != bob.ID {
			e.Errorf("totals after the purge = %+v, want bob's only", totals)
		}
		if l, err := e.s.ListenBySession(e.ctx, rs.ID); err != nil || l.UserID != 0 {
			e.Errorf("the remote listen after the purge: %+v, %v; want it anonymous", l, err)
		}
		if c := e.playCount(kt.ID); c != 2 {
			e.Errorf("play count after the purge = %d, want 2 (the listen stays, anonymous)", c)
		}
		if n, err = e.s.PurgeClosedAccounts(e.ctx, closedAt.Add(time.Hour)); err != nil || n != 0 {
			e.Errorf("purging again: %d, %v; want nothing to do", n, err)
		}
		if _, err := e.s.UserByID(e.ctx, ann.ID); err != nil {
			e.Errorf("the closed user's row went: %v", err)
		}
	}},
}
