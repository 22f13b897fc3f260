package storetest

import (
	"time"

	nineten "nineten.dev"
)

var federationTests = []test{
	{"RemoteActorsUpsert", func(e *env) {
		_, err := e.s.RemoteActor(e.ctx, "https://b.example/artists/x")
		e.wantKind(err, nineten.KindNotFound)
		a := &nineten.RemoteActor{IRI: "https://b.example/artists/x", Inbox: "https://b.example/artists/x/inbox", Outbox: "https://b.example/artists/x/outbox", KeyID: "https://b.example/artists/x#main-key", PublicKeyPEM: "PEM1", Handle: "x@b.example", FetchedAt: at(0 * time.Second)}
		e.ok(e.s.SaveRemoteActor(e.ctx, a))
		a.PublicKeyPEM, a.FetchedAt = "PEM2", at(1*time.Second)
		a.Icon, a.Image = "https://cdn.b.example/avatar.png", "https://cdn.b.example/header.jpg"
		e.ok(e.s.SaveRemoteActor(e.ctx, a))
		got, err := e.s.RemoteActor(e.ctx, a.IRI)
		e.ok(err)
		if got.PublicKeyPEM != "PEM2" || got.Handle != "x@b.example" || !got.FetchedAt.Equal(at(1*time.Second)) || got.Inbox != a.Inbox || got.Outbox != a.Outbox || got.Icon != a.Icon || got.Image != a.Image {
			e.Errorf("remote actor after update: %+v", got)
		}
		// An Update without pictures takes them away.
		a.Icon, a.Image = "", ""
		e.ok(e.s.SaveRemoteActor(e.ctx, a))
		if got, err := e.s.RemoteActor(e.ctx, a.IRI); err != nil || got.Icon != "" || got.Image != "" {
			e.Errorf("remote actor after its pictures were removed: %+v, %v", got, err)
		}
	}},
	{"FollowsBothWays", func(e *env) {
		in := &nineten.Follow{Local: "artist:1", Remote: "https://a.example/users/u", Inbound: true, State: nineten.FollowAccepted, Activity: "https://a.example/f/1", CreatedAt: at(0 * time.Second)}
		out := &nineten.Follow{Local: "user:2", Remote: "https://b.example/artists/x", State: nineten.FollowPending, Activity: "https://me.example/f/2", CreatedAt: at(0 * time.Second)}
		e.ok(e.s.SaveFollow(e.ctx, in))
		e.ok(e.s.SaveFollow(e.ctx, out))
		if in.ID == 0 || out.ID == 0 || in.ID == out.ID {
			e.Fatalf("ids %d %d", in.ID, out.ID)
		}
		got, err := e.s.FollowByActivity(e.ctx, "https://me.example/f/2")
		e.ok(err)
		if got.Local != "user:2" || got.Inbound || got.State != nineten.FollowPending {
			e.Errorf("follow by activity: %+v", got)
		}
		// Saving again updates in place: a repeated Follow is one follower.
		out.State = nineten.FollowAccepted
		e.ok(e.s.SaveFollow(e.ctx, out))
		followers, err := e.s.Follows(e.ctx, "artist:1", true)
		e.ok(err)
		following, err := e.s.Follows(e.ctx, "user:2", false)
		e.ok(err)
		if len(followers) != 1 || len(following) != 1 || following[0].State != nineten.FollowAccepted {
			e.Errorf("followers %+v, following %+v", followers, following)
		}
		if none, _ := e.s.Follows(e.ctx, "artist:1", false); len(none) != 0 {
			e.Errorf("direction mixed up: %+v", none)
		}
		e.ok(e.s.DeleteFollow(e.ctx, "artist:1", "https://a.example/users/u", true))
		if followers, _ := e.s.Follows(e.ctx, "artist:1", true); len(followers) != 0 {
			e.Errorf("follower not deleted: %+v", followers)
		}
		_, err = e.s.FollowByActivity(e.ctx, "https://a.example/f/1")
		e.wantKind(err, nineten.KindNotFound)
	}},
	{"FeedShowsFollowedActorsOnceNewestFirst", func(e *env) {
		followed, other := "https://b.example/artists/x", "https://c.example/artists/y"
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: followed, State: nineten.FollowAccepted, Activity: "f1", CreatedAt: at(0 * time.Second)}))
		e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: other, State: nineten.FollowPending, Activity: "f2", CreatedAt: at(0 * time.Second)}))
		for i, r := range []nineten.Received{
			{Activity: "a1", Type: "Create", Actor: followed, Object: "o1", Payload: []byte(`{}`), ReceivedAt: at(1 * time.Second)},
			{Activity: "a2", Type: "Create", Actor: other, Object: "o2", Payload: []byte(`{}`), ReceivedAt: at(2 * time.Second)},
			{Activity: "a3", Type: "Create", Actor: followed, Object: "o3", Payload: []byte(`{"x":1}`), ReceivedAt: at(3 * time.Second)},
		} {
			created, err := e.s.SaveReceived(e.ctx, &r)
			e.ok(err)
			if !created {
				e.Errorf("item %d not created", i)
			}
		}
		created, err := e.s.SaveReceived(e.ctx, &nineten.Received{Activity: "a1", Type: "Create", Actor: followed, Payload: []byte(`{}`), ReceivedAt: at(4 * time.Second)})
		e.ok(err)
		if created {
			e.Error("a repeated delivery was kept twice")
		}
		feed, err := e.s.Feed(e.ctx, "user:1", 10)
		e.ok(err)
		if len(feed) != 2 || feed[0].Activity != "a3" || feed[1].Activity != "a1" || string(feed[0].Payload) != `{"x":1}` {
			e.Errorf("feed %+v", feed)
		}
		if other, _ := e.s.Feed(e.ctx, "user:9", 10); len(other) != 0 {
			e.Errorf("feed of someone following nobody: %+v", other)
		}
		if yes, err := e.s.Followed(e.ctx, followed); err != nil || !yes {
			e.Errorf("Followed(followed) = %v, %v", yes, err)
		}
		if yes, _ := e.s.Followed(e.ctx, other); yes {
			e.Error("a pending follow counts as followed")
		}
		e.ok(e.s.DeleteReceived(e.ctx, followed, "o3"))
		feed, _ = e.s.Feed(e.ctx, "user:1", 10)
		if len(feed) != 1 || feed[0].Activity != "a1" {
			e.Errorf("feed after deleting o3: %+v", feed)
		}
	}},
}

var domainBlockTests = []test{
	{"BlockDomainPurges", func(e *env) {
		bad, good := "https://bad.example/users/x", "https://good.example/users/y"
		for _, iri := range []string{bad, good} {
			e.ok(e.s.SaveRemoteActor(e.ctx, &nineten.RemoteActor{IRI: iri, Inbox: iri + "/inbox", FetchedAt: at(0)}))
			e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: iri, State: nineten.FollowAccepted, Activity: iri + "#f", CreatedAt: at(0)}))
			e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "artist:1", Remote: iri, Inbound: true, State: nineten.FollowAccepted, Activity: iri + "#g", CreatedAt: at(0)}))
			_, err := e.s.SaveReceived(e.ctx, &nineten.Received{Activity: iri + "#c", Type: "Create", Actor: iri, Object: iri + "/o", Payload: []byte(`{}`), ReceivedAt: at(0)})
			e.ok(err)
		}
		e.ok(e.s.BlockDomain(e.ctx, &nineten.DomainBlock{Host: "bad.example", Reason: "spam", CreatedAt: at(0)}))
		blocks, err := e.s.DomainBlocks(e.ctx)
		e.ok(err)
		if len(blocks) != 1 || blocks[0].Host != "bad.example" || blocks[0].Reason != "spam" {
			e.Errorf("blocks %+v", blocks)
		}
		_, err = e.s.RemoteActor(e.ctx, bad)
		e.wantKind(err, nineten.KindNotFound)
		if _, err := e.s.RemoteActor(e.ctx, good); err != nil {
			e.Errorf("a block purged another server's actor: %v", err)
		}
		following, _ := e.s.Follows(e.ctx, "user:1", false)
		followers, _ := e.s.Follows(e.ctx, "artist:1", true)
		feed, _ := e.s.Feed(e.ctx, "user:1", 10)
		if len(following) != 1 || len(followers) != 1 || len(feed) != 1 || following[0].Remote != good || feed[0].Actor != good {
			e.Errorf("after the block: following %+v, followers %+v, feed %+v", following, followers, feed)
		}
		e.ok(e.s.UnblockDomain(e.ctx, "bad.example"))
		if blocks, _ := e.s.DomainBlocks(e.ctx); len(blocks) != 0 {
			e.Errorf("unblock left %+v", blocks)
		}
	}},
}

var forgetTests = []test{
	// A deleted actor leaves nothing behind; another actor of the same
	// server keeps everything.
	{"ForgetActor", func(e *env) {
		gone, kept := "https://far.example/users/gone", "https://far.example/users/kept"
		for _, iri := range []string{gone, kept} {
			e.ok(e.s.SaveRemoteActor(e.ctx, &nineten.RemoteActor{IRI: iri, Inbox: iri + "/inbox", FetchedAt: at(0)}))
			e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "user:1", Remote: iri, State: nineten.FollowAccepted, Activity: iri + "#f", CreatedAt: at(0)}))
			e.ok(e.s.SaveFollow(e.ctx, &nineten.Follow{Local: "artist:1", Remote: iri, Inbound: true, State: nineten.FollowAccepted, Activity: iri + "#g", CreatedAt: at(0)}))
			_, err := e.s.SaveReceived(e.ctx, &nineten.Received{Activity: iri + "#c", Type: "Create", Actor: iri, Object: iri + "/o", Payload: []byte(`{}`), ReceivedAt: at(0)})
			e.ok(err)
		}
		e.ok(e.s.ForgetActor(e.ctx, gone))
		_, err := e.s.RemoteActor(e.ctx, gone)
		e.wantKind(err, nineten.KindNotFound)
		following, _ := e.s.Follows(e.ctx, "user:1", false)
		followers, _ := e.s.Follows(e.ctx, "artist:1", true)
		feed, _ := e.s.Feed(e.ctx, "user:1", 10)
		if len(following) != 1 || len(followers) != 1 || len(feed) != 1 || following[0].Remote != kept || followers[0].Remote != kept || feed[0].Actor != kept {
			e.Errorf("after forgetting an actor: following %+v, followers %+v, feed %+v", following, followers, feed)
		}
		e.ok(e.s.ForgetActor(e.ctx, gone)) // again: nothing left, no error
	}},
}
