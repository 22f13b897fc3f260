package federation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	nineten "nineten.dev"
)

// Closed accounts. When a local account is closed, the servers that know
// it are told to forget it and what it published: a Delete with a
// Tombstone of each track (its Note, as microblogging servers keep it),
// album and public playlist to the artist's or user's followers, then a
// Delete of each actor (the user and its artist profiles) to its
// followers, to the servers of the actors it follows and to the servers
// of the tracks it liked or boosted (their shared inboxes). Its actor
// URLs answer 410 Gone with a Tombstone from then on; its keys are kept,
// so that the deliveries still queued can be signed.

// AccountClosing tells other servers to forget an account being closed.
// It is called before the closure erases the account's follows.
func (f *Service) AccountClosing(ctx context.Context, c *nineten.ClosedAccount) {
	for i := range c.Tracks {
		f.TrackChanged(ctx, &c.Tracks[i], nineten.TrackWithdrawn)
	}
	for i := range c.Albums {
		if err := f.albumDeleted(ctx, &c.Albums[i]); err != nil {
			f.Log.WarnContext(ctx, "telling followers about a closed artist's album failed", "album", c.Albums[i].ID, "err", err)
		}
	}
	for i := range c.Playlists {
		f.PlaylistChanged(ctx, &c.Playlists[i], nineten.PlaylistWithdrawn, nil)
	}
	extra := f.reactedInboxes(ctx, userActorName(&c.User))
	actors := []string{userActorName(&c.User)}
	for i := range c.Artists {
		actors = append(actors, artistActorName(&c.Artists[i]))
	}
	for _, local := range actors {
		if err := f.actorDeleted(ctx, local, extra); err != nil {
			f.Log.WarnContext(ctx, "telling other servers about a closed account failed", "actor", local, "err", err)
		}
	}
}

// albumDeleted sends a Delete of an album's collection to its artist's
// followers.
func (f *Service) albumDeleted(ctx context.Context, al *nineten.Album) error {
	a, err := f.Store.ArtistByID(ctx, al.ArtistID)
	if err != nil {
		return err
	}
	local := artistActorName(a)
	inboxes, err := f.followerInboxes(ctx, local)
	if err != nil || len(inboxes) == 0 {
		return err
	}
	id, actor := f.albumIRI(al.ID), f.url("/artists/"+a.Slug)
	return f.deliver(ctx, local, map[string]any{
		"@context": contexts, "type": "Delete", "id": id + "/delete", "actor": actor,
		"to": []string{public}, "cc": []string{actor + "/followers"},
		"object": map[string]any{"id": id, "type": "Tombstone", "formerType": "Album", "deleted": timestamp(f.now())},
	}, inboxes...)
}

// actorDeleted sends the Delete of a local actor to every server that
// knows it: its followers' (and would-be followers'), those of whom it
// follows, and extra.
func (f *Service) actorDeleted(ctx context.Context, local string, extra []string) error {
	id, err := f.actorIRI(ctx, local)
	if err != nil {
		return err
	}
	inboxes := append([]string(nil), extra...)
	for _, inbound := range []bool{true, false} {
		follows, err := f.Store.Follows(ctx, local, inbound)
		if err != nil {
			return err
		}
		for _, fw := range follows {
			if in := f.sharedInbox(ctx, fw.Remote); in != "" {
				inboxes = append(inboxes, in)
			}
		}
	}
	if len(inboxes) == 0 {
		return nil
	}
	return f.deliver(ctx, local, map[string]any{
		"@context": contexts, "type": "Delete", "id": id + "#delete", "actor": id,
		"to": []string{public}, "cc": []string{id + "/followers"},
		"object": map[string]any{"id": id, "type": "Tombstone", "formerType": "Person", "deleted": timestamp(f.now())},
	}, inboxes...)
}

// sharedInbox is where a remote actor's server takes deliveries: its
// shared inbox, else the actor's own; "" when it cannot be reached.
func (f *Service) sharedInbox(ctx context.Context, iri string) string {
	r, err := f.RemoteActor(ctx, iri, false)
	if err != nil {
		f.Log.WarnContext(ctx, "an actor is unreachable", "actor", iri, "err", err)
		return ""
	}
	if r.SharedInbox != "" {
		return r.SharedInbox
	}
	return r.Inbox
}

// reactedInboxes lists the servers of the tracks a local actor liked or
// boosted elsewhere: one inbox per server, found through one track's
// artist (a server that cannot be reached is left out).
func (f *Service) reactedInboxes(ctx context.Context, local string) []string {
	rs, err := f.Store.RemoteReactionsOf(ctx, local, 1000)
	if err != nil {
		f.Log.WarnContext(ctx, "listing an account's reactions failed", "actor", local, "err", err)
		return nil
	}
	hosts := map[string]bool{}
	var inboxes []string
	for _, r := range rs {
		u, err := url.Parse(r.Track.IRI)
		if err != nil || hosts[u.Host] {
			continue
		}
		hosts[u.Host] = true
		tg, err := f.resolveTrack(ctx, r.Track)
		if err != nil {
			continue
		}
		if in := f.sharedInbox(ctx, tg.artist); in != "" {
			inboxes = append(inboxes, in)
		}
	}
	return inboxes
}

// gone answers a request for an actor of a closed account: 410 Gone, with
// a Tombstone for ActivityPub clients.
func gone(w http.ResponseWriter, r *http.Request, id, formerType string, deleted time.Time) {
	if !wantsActivity(r) {
		problem(w, r, http.StatusGone, "this account was closed")
		return
	}
	w.Header().Set("Content-Type", activityJSON)
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusGone)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"@context": asContext, "id": id, "type": "Tombstone", "formerType": formerType, "deleted": timestamp(deleted),
	})
}

// UserDisabled withdraws a disabled user's public playlists from their
// followers' servers (a Delete of each: their actor is not found while
// disabled) and publishes them again (a Create) when the user is enabled
// again.
func (f *Service) UserDisabled(ctx context.Context, u *nineten.User) {
	change := nineten.PlaylistPublished
	if u.Disabled {
		change = nineten.PlaylistWithdrawn
	}
	for p := (nineten.Page{Limit: 200}); ; p.Offset += p.Limit {
		ps, _, err := f.Store.ListPlaylists(ctx, nineten.PlaylistFilter{OwnerID: u.ID, PublicOnly: true}, p)
		if err != nil {
			f.Log.WarnContext(ctx, "listing a disabled user's playlists failed", "user", u.ID, "err", err)
			return
		}
		for i := range ps {
			f.PlaylistChanged(ctx, &ps[i], change, nil)
		}
		if len(ps) < p.Limit {
			return
		}
	}
}
