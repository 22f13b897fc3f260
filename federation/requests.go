package federation

import (
	"context"
	"fmt"

	nineten "nineten.dev"
)

// Follow requests and the settings of local actors: a user and each
// artist profile may approve followers by hand (manuallyApprovesFollowers
// on the actor); then a Follow waits, pending, until the owner accepts it
// (an Accept is sent) or rejects it (a Reject is sent, and nothing is
// kept). A user may also share their verified listens (see listens.go).

// approvesManually reports whether the local actor approves followers by
// hand; when its settings cannot be read, it does, so that nobody follows
// without the owner's leave.
func (f *Service) approvesManually(ctx context.Context, local string) bool {
	st, err := f.Store.ActorSettings(ctx, local)
	if err != nil {
		f.Log.WarnContext(ctx, "reading an actor's settings failed; holding follows for approval", "actor", local, "err", err)
		return true
	}
	return st.ManualApproval
}

// isFollower reports whether remote follows the local actor (accepted).
func (f *Service) isFollower(ctx context.Context, local, remote string) bool {
	follows, err := f.Store.Follows(ctx, local, true)
	if err != nil {
		return false
	}
	for _, fw := range follows {
		if fw.Remote == remote && fw.State == nineten.FollowAccepted {
			return true
		}
	}
	return false
}

// answerFollow sends an Accept or a Reject of a follow to the follower.
func (f *Service) answerFollow(ctx context.Context, fw *nineten.Follow, accept bool) error {
	me, err := f.actorIRI(ctx, fw.Local)
	if err != nil {
		return err
	}
	follower, err := f.RemoteActor(ctx, fw.Remote, false)
	if err != nil {
		return err
	}
	typ, frag := "Reject", "#rejects/"
	if accept {
		typ, frag = "Accept", "#accepts/"
	}
	return f.deliver(ctx, fw.Local, map[string]any{
		"@context": asContext, "id": me + frag + randomID(), "type": typ, "actor": me,
		"object": map[string]any{"id": fw.Activity, "type": "Follow", "actor": fw.Remote, "object": me},
	}, follower.Inbox)
}

// SocialSettings returns u's settings and those of u's artists.
func (f *Service) SocialSettings(ctx context.Context, u *nineten.User) (*nineten.SocialSettings, error) {
	const op = "federation.SocialSettings"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	st, err := f.Store.ActorSettings(ctx, userActorName(u))
	if err != nil {
		return nil, nineten.E(op, err)
	}
	out := &nineten.SocialSettings{ShareListens: st.ShareListens, ManualApproval: st.ManualApproval, Artists: []nineten.ArtistSettings{}}
	artists, err := f.Store.ArtistsByOwner(ctx, u.ID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	for _, a := range artists {
		ast, err := f.Store.ActorSettings(ctx, artistActorName(&a))
		if err != nil {
			return nil, nineten.E(op, err)
		}
		out.Artists = append(out.Artists, nineten.ArtistSettings{ArtistID: a.ID, Name: a.Name, ManualApproval: ast.ManualApproval})
	}
	return out, nil
}

// UpdateSocialSettings stores u's settings and those of the artists s
// names, and tells followers of each actor whose approval setting changed
// (their servers show whether a follow needs approval).
func (f *Service) UpdateSocialSettings(ctx context.Context, u *nineten.User, s nineten.SocialSettings) (*nineten.SocialSettings, error) {
	const op = "federation.UpdateSocialSettings"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	owned, err := f.Store.ArtistsByOwner(ctx, u.ID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	mine := map[nineten.ID]*nineten.Artist{}
	for i := range owned {
		mine[owned[i].ID] = &owned[i]
	}
	want := []nineten.ActorSettings{{Actor: userActorName(u), ShareListens: s.ShareListens, ManualApproval: s.ManualApproval}}
	for _, as := range s.Artists {
		if mine[as.ArtistID] == nil {
			return nil, nineten.E(op, nineten.KindPermission, fmt.Sprintf("artist %d is not yours", as.ArtistID))
		}
		want = append(want, nineten.ActorSettings{Actor: artistActorName(mine[as.ArtistID]), ManualApproval: as.ManualApproval})
	}
	var changed []string
	for _, st := range want {
		old, err := f.Store.ActorSettings(ctx, st.Actor)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		if err := f.Store.SaveActorSettings(ctx, &st); err != nil {
			return nil, nineten.E(op, err)
		}
		if old.ManualApproval != st.ManualApproval {
			changed = append(changed, st.Actor)
		}
	}
	for _, local := range changed {
		if err := f.actorUpdated(ctx, local); err != nil {
			f.Log.WarnContext(ctx, "telling followers about a changed actor failed", "actor", local, "err", err)
		}
	}
	return f.SocialSettings(ctx, u)
}

// actorUpdated sends a local actor's document, as it is now, to its
// followers (an Update of the actor).
func (f *Service) actorUpdated(ctx context.Context, local string) error {
	inboxes, err := f.followerInboxes(ctx, local)
	if err != nil || len(inboxes) == 0 {
		return err
	}
	doc, err := f.localActorDoc(ctx, local)
	if err != nil {
		return err
	}
	delete(doc, "@context")
	id := doc["id"].(string)
	return f.deliver(ctx, local, map[string]any{
		"@context": contexts, "id": fmt.Sprintf("%s#updates/%d", id, f.now().UnixMilli()), "type": "Update",
		"actor": id, "to": []string{public}, "object": doc,
	}, inboxes...)
}

// userDoc renders a user's actor document.
func (f *Service) userDoc(ctx context.Context, u *nineten.User) (map[string]any, error) {
	k, err := f.Keys(ctx, userActorName(u))
	if err != nil {
		return nil, err
	}
	doc := f.actorDoc(f.url("/users/"+u.Username), "Person", "listener", u.Username, u.DisplayName, summaryHTML(u.Bio), f.url("/"), u.CreatedAt, k)
	doc["manuallyApprovesFollowers"] = f.approvesManually(ctx, userActorName(u))
	f.pictures(doc, u.Avatar, u.Header)
	return doc, nil
}

// artistDoc renders an artist's actor document.
func (f *Service) artistDoc(ctx context.Context, a *nineten.Artist) (map[string]any, error) {
	k, err := f.Keys(ctx, artistActorName(a))
	if err != nil {
		return nil, err
	}
	doc := f.actorDoc(f.url("/artists/"+a.Slug), "Person", "artist", a.Slug, a.Name, a.Bio, f.url(fmt.Sprintf("/app/artists/%d", a.ID)), a.CreatedAt, k)
	doc["manuallyApprovesFollowers"] = f.approvesManually(ctx, artistActorName(a))
	f.pictures(doc, a.Avatar, a.Header)
	return doc, nil
}

// localActorDoc renders the actor document of a user or an artist.
func (f *Service) localActorDoc(ctx context.Context, local string) (map[string]any, error) {
	var id nineten.ID
	if _, err := fmt.Sscanf(local, "user:%d", &id); err == nil {
		u, err := f.Store.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		return f.userDoc(ctx, u)
	}
	if _, err := fmt.Sscanf(local, "artist:%d", &id); err == nil {
		a, err := f.Store.ArtistByID(ctx, id)
		if err != nil {
			return nil, err
		}
		return f.artistDoc(ctx, a)
	}
	return nil, nineten.E("federation.localActorDoc", nineten.KindNotFound, "no local actor "+local)
}

// FollowRequests lists the follows of u and u's artists that wait for u.
func (f *Service) FollowRequests(ctx context.Context, u *nineten.User) ([]nineten.FollowRequest, error) {
	const op = "federation.FollowRequests"
	pending, err := f.pendingFollows(ctx, u)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	out := make([]nineten.FollowRequest, 0, len(pending))
	for _, p := range pending {
		a, err := f.Store.RemoteActor(ctx, p.follow.Remote)
		if err != nil {
			a = &nineten.RemoteActor{IRI: p.follow.Remote}
		}
		out = append(out, nineten.FollowRequest{ID: p.follow.ID, Actor: *a, ArtistID: p.artistID, Name: p.name, Since: p.follow.CreatedAt})
	}
	return out, nil
}

type pendingFollow struct {
	follow   nineten.Follow
	artistID nineten.ID
	name     string
}

// pendingFollows lists the pending inbound follows of u and u's artists.
func (f *Service) pendingFollows(ctx context.Context, u *nineten.User) ([]pendingFollow, error) {
	if err := needUser("federation.FollowRequests", u); err != nil {
		return nil, err
	}
	artists, err := f.Store.ArtistsByOwner(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	type actor struct {
		local    string
		artistID nineten.ID
		name     string
	}
	actors := []actor{{userActorName(u), 0, u.Username}}
	for _, a := range artists {
		actors = append(actors, actor{artistActorName(&a), a.ID, a.Name})
	}
	var out []pendingFollow
	for _, a := range actors {
		follows, err := f.Store.Follows(ctx, a.local, true)
		if err != nil {
			return nil, err
		}
		for _, fw := range follows {
			if fw.State == nineten.FollowPending {
				out = append(out, pendingFollow{fw, a.artistID, a.name})
			}
		}
	}
	return out, nil
}

// AnswerFollowRequest accepts or rejects a follow request of u's.
func (f *Service) AnswerFollowRequest(ctx context.Context, u *nineten.User, id nineten.ID, accept bool) error {
	const op = "federation.AnswerFollowRequest"
	pending, err := f.pendingFollows(ctx, u)
	if err != nil {
		return nineten.E(op, err)
	}
	for _, p := range pending {
		if p.follow.ID != id {
			continue
		}
		fw := p.follow
		if accept {
			fw.State = nineten.FollowAccepted
			err = f.Store.SaveFollow(ctx, &fw)
		} else {
			err = f.Store.DeleteFollow(ctx, fw.Local, fw.Remote, true)
		}
		if err != nil {
			return nineten.E(op, err)
		}
		return wrapped(op, f.answerFollow(ctx, &fw, accept))
	}
	return nineten.E(op, nineten.KindNotFound, fmt.Sprintf("no follow request %d waits for you", id))
}
