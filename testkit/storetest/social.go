package storetest

import (
	"fmt"
	"time"

	"nineten.dev"
)

// socialTests pin down nineten.SocialStore: likes and boosts, comments,
// shared listens, actor settings, and forgetting a blocked server's part.
var socialTests = []test{
	// A reaction is kept once per track, kind and actor, for tracks here
	// (by id) and elsewhere (by IRI) alike.
	{"Social/ReactionsOncePerActor", func(e *env) {
		tr := e.socialTrack()
		here := nineten.TrackRef{ID: tr.ID}
		there := nineten.TrackRef{IRI: "https://b.example/tracks/9"}
		remote := "https://b.example/users/bo"
		like := &nineten.Reaction{Kind: nineten.ReactionLike, Track: here, Actor: "user:1", Activity: "https://me.example/users/u#likes/1", CreatedAt: at(0)}
		created, err := e.s.SaveReaction(e.ctx, like)
		e.ok(err)
		if !created || like.ID == 0 {
			e.Fatalf("first like: created %v, id %d", created, like.ID)
		}
		again := &nineten.Reaction{Kind: nineten.ReactionLike, Track: here, Actor: "user:1", Activity: "https://me.example/users/u#likes/2", CreatedAt: at(time.Second)}
		created, err = e.s.SaveReaction(e.ctx, again)
		e.ok(err)
		if created || again.ID != 0 {
			e.Errorf("a second like by the same actor was kept (id %d)", again.ID)
		}
		for _, r := range []nineten.Reaction{
			{Kind: nineten.ReactionLike, Track: here, Actor: remote, Activity: remote + "#likes/1", CreatedAt: at(time.Second)},
			{Kind: nineten.ReactionBoost, Track: here, Actor: remote, Activity: remote + "/statuses/1/activity", CreatedAt: at(time.Second)},
			{Kind: nineten.ReactionLike, Track: there, Actor: "user:1", Activity: "https://me.example/users/u#likes/3", CreatedAt: at(time.Second)},
		} {
			created, err := e.s.SaveReaction(e.ctx, &r)
			e.ok(err)
			if !created {
				e.Errorf("%s of %+v by %s not kept", r.Kind, r.Track, r.Actor)
			}
		}
		// The remote track's like is the same like when repeated.
		created, err = e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: nineten.ReactionLike, Track: there, Actor: "user:1", Activity: "x", CreatedAt: at(0)})
		e.ok(err)
		if created {
			e.Error("a second like of a remote track was kept")
		}
		likes, boosts, err := e.s.ReactionCounts(e.ctx, tr.ID)
		e.ok(err)
		e.same("likes and boosts", [2]int{2, 1}, [2]int{likes, boosts})
		kinds, err := e.s.ReactionsOf(e.ctx, here, remote)
		e.ok(err)
		e.same("the remote actor's reactions", []nineten.ReactionKind{nineten.ReactionBoost, nineten.ReactionLike}, kinds)
		kinds, err = e.s.ReactionsOf(e.ctx, there, "user:1")
		e.ok(err)
		e.same("the user's reactions to the remote track", []nineten.ReactionKind{nineten.ReactionLike}, kinds)

		boost := nineten.Reaction{Kind: nineten.ReactionBoost, Track: there, Actor: "user:1", Activity: "https://me.example/users/u#boosts/1", CreatedAt: at(2 * time.Second)}
		_, err = e.s.SaveReaction(e.ctx, &boost)
		e.ok(err)
		mine, err := e.s.RemoteReactionsOf(e.ctx, "user:1", 10)
		e.ok(err)
		if len(mine) != 2 || mine[0] != boost || mine[1].Kind != nineten.ReactionLike || mine[1].Track != there {
			e.Errorf("the user's reactions elsewhere: %+v; want the boost, then the like, of the remote track only", mine)
		}
		_, err = e.s.DeleteReaction(e.ctx, there, nineten.ReactionBoost, "user:1")
		e.ok(err)
		got, err := e.s.ReactionByActivity(e.ctx, "https://me.example/users/u#likes/1")
		e.ok(err)
		e.same("reaction by activity", like, got)
		_, err = e.s.ReactionByActivity(e.ctx, "https://me.example/users/u#likes/2")
		e.wantKind(err, nineten.KindNotFound)

		gone, err := e.s.DeleteReaction(e.ctx, here, nineten.ReactionLike, "user:1")
		e.ok(err)
		e.same("deleted reaction", like, gone)
		_, err = e.s.DeleteReaction(e.ctx, here, nineten.ReactionLike, "user:1")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.DeleteReaction(e.ctx, there, nineten.ReactionLike, "user:1")
		e.ok(err)
		likes, boosts, err = e.s.ReactionCounts(e.ctx, tr.ID)
		e.ok(err)
		e.same("likes and boosts after unliking", [2]int{1, 1}, [2]int{likes, boosts})

		_, err = e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: "love", Track: here, Actor: remote, Activity: "y"})
		e.wantKind(err, nineten.KindInvalid)
		_, err = e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: nineten.ReactionLike, Track: nineten.TrackRef{ID: tr.ID, IRI: "https://b.example/tracks/9"}, Actor: remote, Activity: "z"})
		e.wantKind(err, nineten.KindInvalid)
	}},
	// Reactions and comments belong to their track: deleting it deletes them.
	{"Social/GoWithTheirTrack", func(e *env) {
		tr := e.socialTrack()
		_, err := e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: nineten.ReactionBoost, Track: nineten.TrackRef{ID: tr.ID}, Actor: "https://b.example/users/bo", Activity: "https://b.example/a/1", CreatedAt: at(0)})
		e.ok(err)
		c := &nineten.Comment{Track: nineten.TrackRef{ID: tr.ID}, Actor: "https://b.example/users/bo", IRI: "https://b.example/notes/1", Text: "hi", CreatedAt: at(0), UpdatedAt: at(0)}
		e.ok(e.s.CreateComment(e.ctx, c))
		e.ok(e.s.DeleteTrack(e.ctx, tr.ID))
		_, err = e.s.ReactionByActivity(e.ctx, "https://b.example/a/1")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.CommentByID(e.ctx, c.ID)
		e.wantKind(err, nineten.KindNotFound)
	}},
	// Comments list newest first, paged, with their authors as people see
	// them; a remote Note is kept once.
	{"Social/Comments", func(e *env) {
		tr := e.socialTrack()
		u := e.user("vera")
		u.DisplayName, u.Avatar = "Vera V.", "profiles/u1-avatar-0123456789abcdef.jpg"
		e.ok(e.s.UpdateUser(e.ctx, u))
		bo := "https://b.example/users/bo"
		e.ok(e.s.SaveRemoteActor(e.ctx, &nineten.RemoteActor{IRI: bo, Inbox: bo + "/inbox", Handle: "bo@b.example", Name: "Bo", Icon: "https://cdn.b.example/bo.png", FetchedAt: at(0)}))
		here := nineten.TrackRef{ID: tr.ID}
		first := &nineten.Comment{Track: here, UserID: u.ID, Text: "first!", CreatedAt: at(time.Second), UpdatedAt: at(time.Second)}
		e.ok(e.s.CreateComment(e.ctx, first))
		// Published before the first arrived: it sorts by when it was written.
		older := &nineten.Comment{Track: here, Actor: bo, IRI: bo + "/statuses/1", Text: "from afar", CreatedAt: at(0), UpdatedAt: at(0)}
		e.ok(e.s.CreateComment(e.ctx, older))
		stranger := &nineten.Comment{Track: here, Actor: "https://c.example/u/x", IRI: "https://c.example/n/1", Text: "who am I", CreatedAt: at(2 * time.Second), UpdatedAt: at(2 * time.Second)}
		e.ok(e.s.CreateComment(e.ctx, stranger))
		elsewhere := &nineten.Comment{Track: nineten.TrackRef{IRI: "https://b.example/tracks/9"}, UserID: u.ID, Text: "nice", CreatedAt: at(3 * time.Second), UpdatedAt: at(3 * time.Second)}
		e.ok(e.s.CreateComment(e.ctx, elsewhere))
		if first.ID == 0 || older.ID == 0 || first.ID == older.ID {
			e.Fatalf("ids %d %d", first.ID, older.ID)
		}
		e.wantKind(e.s.CreateComment(e.ctx, &nineten.Comment{Track: here, Actor: bo, IRI: bo + "/statuses/1", Text: "again", CreatedAt: at(0), UpdatedAt: at(0)}), nineten.KindConflict)
		e.wantKind(e.s.CreateComment(e.ctx, &nineten.Comment{Track: here, Text: "by nobody", CreatedAt: at(0), UpdatedAt: at(0)}), nineten.KindInvalid)

		// Authors come with their pictures: a local avatar's key, a remote icon's URL.
		first.AuthorName, first.AuthorHandle, first.AuthorPicture = "Vera V.", "vera", u.Avatar
		older.AuthorName, older.AuthorHandle, older.AuthorPicture = "Bo", "bo@b.example", "https://cdn.b.example/bo.png"
		list, total, err := e.s.Comments(e.ctx, tr.ID, nineten.Page{Limit: 2})
		e.ok(err)
		e.same("first page of comments", []nineten.Comment{*stranger, *first}, list)
		if total != 3 {
			e.Errorf("total %d, want 3 (the comment elsewhere is not this track's)", total)
		}
		list, _, err = e.s.Comments(e.ctx, tr.ID, nineten.Page{Limit: 2, Offset: 2})
		e.ok(err)
		e.same("second page of comments", []nineten.Comment{*older}, list)
		n, err := e.s.CommentCount(e.ctx, tr.ID)
		e.ok(err)
		e.same("comment count", 3, n)

		got, err := e.s.CommentByIRI(e.ctx, bo+"/statuses/1")
		e.ok(err)
		e.same("comment by IRI", older, got)
		_, err = e.s.CommentByIRI(e.ctx, "")
		e.wantKind(err, nineten.KindNotFound)
		elsewhere.AuthorName, elsewhere.AuthorHandle, elsewhere.AuthorPicture = "Vera V.", "vera", u.Avatar
		got, err = e.s.CommentByID(e.ctx, elsewhere.ID)
		e.ok(err)
		e.same("comment on a remote track", elsewhere, got)

		e.ok(e.s.EditComment(e.ctx, older.ID, "from afar, edited", at(time.Minute)))
		got, err = e.s.CommentByID(e.ctx, older.ID)
		e.ok(err)
		if got.Text != "from afar, edited" || !got.UpdatedAt.Equal(at(time.Minute)) || !got.CreatedAt.Equal(at(0)) {
			e.Errorf("edited comment %+v", got)
		}
		e.ok(e.s.DeleteComment(e.ctx, older.ID))
		_, err = e.s.CommentByID(e.ctx, older.ID)
		e.wantKind(err, nineten.KindNotFound)
		e.wantKind(e.s.DeleteComment(e.ctx, older.ID), nineten.KindNotFound)
		e.wantKind(e.s.EditComment(e.ctx, older.ID, "x", at(0)), nineten.KindNotFound)
	}},
	// Shared listens show to the followers of their actor (accepted
	// follows), newest first, each once, and the node keeps a bounded
	// number per actor.
	{"Social/SharedListens", func(e *env) {
		ana, bo := "https://a.example/users/ana", "https://b.example/users/bo"
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: ana, State: nineten.FollowAccepted, Activity: "f1", CreatedAt: at(0)}))
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: bo, State: nineten.FollowPending, Activity: "f2", CreatedAt: at(0)}))
		save := func(l nineten.SharedListen) bool {
			e.Helper()
			created, err := e.s.SaveSharedListen(e.ctx, &l)
			e.ok(err)
			return created
		}
		l1 := nineten.SharedListen{Activity: ana + "#listens/1", Actor: ana, Object: "https://a.example/tracks/1", Title: "One", Artist: "Band", URL: "https://a.example/app/tracks/1", ListenedAt: at(time.Second)}
		l2 := nineten.SharedListen{Activity: ana + "#listens/2", Actor: ana, Object: "https://a.example/tracks/2", Title: "Two", ListenedAt: at(2 * time.Second)}
		if !save(l1) || !save(l2) || !save(nineten.SharedListen{Activity: bo + "#listens/1", Actor: bo, Object: "o", ListenedAt: at(3 * time.Second)}) {
			e.Fatal("a new listen was not kept")
		}
		if save(l1) {
			e.Error("a repeated listen was kept twice")
		}
		got, err := e.s.FriendListens(e.ctx, "user:1", 10)
		e.ok(err)
		if len(got) != 2 || got[0].Title != "Two" || got[1].Title != "One" || got[1].Artist != "Band" || got[1].URL != l1.URL || !got[1].ListenedAt.Equal(at(time.Second)) {
			e.Errorf("friend listens %+v; want Two, then One, of the accepted follow only", got)
		}
		if other, _ := e.s.FriendListens(e.ctx, "user:2", 10); len(other) != 0 {
			e.Errorf("another user sees %+v", other)
		}
		e.ok(e.s.DeleteSharedListen(e.ctx, bo, l2.Activity)) // not bo's: nothing happens
		e.ok(e.s.DeleteSharedListen(e.ctx, ana, l2.Activity))
		got, err = e.s.FriendListens(e.ctx, "user:1", 10)
		e.ok(err)
		if len(got) != 1 || got[0].Title != "One" {
			e.Errorf("after deleting Two: %+v", got)
		}

		for i := range nineten.SharedListensKept + 5 {
			save(nineten.SharedListen{Activity: fmt.Sprintf("%s#many/%d", ana, i), Actor: ana, Object: "o", Title: fmt.Sprint(i), ListenedAt: at(time.Hour + time.Duration(i)*time.Second)})
		}
		got, err = e.s.FriendListens(e.ctx, "user:1", 200)
		e.ok(err)
		if len(got) != nineten.SharedListensKept || got[0].Title != fmt.Sprint(nineten.SharedListensKept+4) || got[len(got)-1].Title != "5" {
			e.Errorf("kept %d listens, newest %q, oldest %q; want the latest %d", len(got), got[0].Title, got[len(got)-1].Title, nineten.SharedListensKept)
		}
	}},
	{"Social/ActorSettings", func(e *env) {
		st, err := e.s.ActorSettings(e.ctx, "user:1")
		e.ok(err)
		e.same("settings never saved", &nineten.ActorSettings{Actor: "user:1"}, st)
		want := &nineten.ActorSettings{Actor: "user:1", ManualApproval: true, ShareListens: true}
		e.ok(e.s.SaveActorSettings(e.ctx, want))
		e.ok(e.s.SaveActorSettings(e.ctx, &nineten.ActorSettings{Actor: "artist:1", ManualApproval: true}))
		st, err = e.s.ActorSettings(e.ctx, "user:1")
		e.ok(err)
		e.same("saved settings", want, st)
		want.ShareListens = false
		e.ok(e.s.SaveActorSettings(e.ctx, want))
		st, err = e.s.ActorSettings(e.ctx, "user:1")
		e.ok(err)
		e.same("settings saved again", want, st)
	}},
	// Blocking a server forgets its actors' reactions, comments and
	// listens; local users' reactions to its tracks stay theirs.
	{"Social/PurgeForgetsAHost", func(e *env) {
		tr := e.socialTrack()
		here := nineten.TrackRef{ID: tr.ID}
		blocked, other := "https://Spam.example/users/s", "https://ok.example/users/o"
		for i, actor := range []string{blocked, other, "user:1"} {
			_, err := e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: nineten.ReactionLike, Track: here, Actor: actor, Activity: fmt.Sprint("l", i), CreatedAt: at(0)})
			e.ok(err)
		}
		_, err := e.s.SaveReaction(e.ctx, &nineten.Reaction{Kind: nineten.ReactionLike, Track: nineten.TrackRef{IRI: "https://spam.example/tracks/1"}, Actor: "user:1", Activity: "mine", CreatedAt: at(0)})
		e.ok(err)
		for i, actor := range []string{blocked, other} {
			e.ok(e.s.CreateComment(e.ctx, &nineten.Comment{Track: here, Actor: actor, IRI: fmt.Sprint(actor, "/n/", i), Text: "t", CreatedAt: at(0), UpdatedAt: at(0)}))
			e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: actor, State: nineten.FollowAccepted, Activity: fmt.Sprint("f", i), CreatedAt: at(0)}))
			_, err := e.s.SaveSharedListen(e.ctx, &nineten.SharedListen{Activity: actor + "#l", Actor: actor, Object: "o", ListenedAt: at(0)})
			e.ok(err)
		}
		e.ok(e.s.PurgeSocial(e.ctx, "spam.example"))
		likes, _, err := e.s.ReactionCounts(e.ctx, tr.ID)
		e.ok(err)
		if likes != 2 {
			e.Errorf("%d likes after the purge, want the two not from spam.example", likes)
		}
		if kinds, _ := e.s.ReactionsOf(e.ctx, nineten.TrackRef{IRI: "https://spam.example/tracks/1"}, "user:1"); len(kinds) != 1 {
			e.Errorf("the local user's like of a track there: %v", kinds)
		}
		comments, _, err := e.s.Comments(e.ctx, tr.ID, nineten.Page{})
		e.ok(err)
		if len(comments) != 1 || comments[0].Actor != other {
			e.Errorf("comments after the purge: %+v", comments)
		}
		listens, err := e.s.FriendListens(e.ctx, "user:1", 10)
		e.ok(err)
		if len(listens) != 1 || listens[0].Actor != other {
			e.Errorf("listens after the purge: %+v", listens)
		}
	}},
}

// socialTrack makes a ready track of a new artist.
func (e *env) socialTrack() *nineten.Track {
	e.Helper()
	owner := e.user(fmt.Sprintf("owner%d", e.seq+1))
	a := e.artist(owner.ID, "Band")
	return e.track(nineten.Track{ArtistID: a.ID, Title: "Song"})
}
