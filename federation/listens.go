package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	nineten "nineten.dev"
)

// Shared listens: a user who chose to share what they listen to sends each
// of their verified listens to their followers as an ActivityStreams
// Listen, whose object is the track's Audio object (embedded with its title
// and artist, so that a follower's node needs no fetch to show it). A node
// keeps the Listens of actors its users follow for their "what my friends
// play" feed. Mastodon and GoToSocial accept a Listen and drop it.

// ListenVerified shares a verified listen with the listener's followers,
// if the listener chose to share. The listen use case calls it once a
// listen becomes verified.
func (f *Service) ListenVerified(ctx context.Context, l *nineten.Listen) {
	if err := f.listenVerified(ctx, l); err != nil {
		f.Log.WarnContext(ctx, "sharing a listen failed", "listen", l.ID, "err", err)
	}
}

func (f *Service) listenVerified(ctx context.Context, l *nineten.Listen) error {
	if l.UserID == 0 || l.Status != nineten.ListenVerified {
		return nil
	}
	local := fmt.Sprintf("user:%d", l.UserID)
	st, err := f.Store.ActorSettings(ctx, local)
	if err != nil || !st.ShareListens {
		return err
	}
	u, err := f.Store.UserByID(ctx, l.UserID)
	if err != nil || u.Disabled {
		return err
	}
	inboxes, err := f.followerInboxes(ctx, local)
	if err != nil || len(inboxes) == 0 {
		return err
	}
	t, err := f.Store.TrackByID(ctx, l.TrackID)
	if err != nil || !t.Visible() {
		return err
	}
	a, err := f.Store.ArtistByID(ctx, t.ArtistID)
	if err != nil {
		return err
	}
	me := f.url("/users/" + u.Username)
	// The id names the listen, not this delivery: if two processes of the
	// node both see it verified, followers keep it once.
	return f.deliver(ctx, local, map[string]any{
		"@context": asContext, "id": fmt.Sprintf("%s#listens/%d", me, l.ID), "type": "Listen", "actor": me,
		"published": timestamp(cmp.Or(l.VerifiedAt, f.now())), "to": []string{me + "/followers"},
		"object": map[string]any{
			"id": f.url(fmt.Sprintf("/tracks/%d", t.ID)), "type": "Audio", "name": t.Title,
			"attributedTo": map[string]any{"id": f.url("/artists/" + a.Slug), "type": "Person", "name": a.Name},
			"url":          f.url(fmt.Sprintf("/app/tracks/%d", t.ID)),
		},
	}, inboxes...)
}

// listened is the part of a Listen's object a friends' feed shows: the
// track's title and page, and its artist's name when the artist is
// embedded (9ten's form); given by IRI it reads as the id alone.
type listened struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	URL          links  `json:"url"`
	AttributedTo named  `json:"attributedTo"`
}

func (l *listened) UnmarshalJSON(data []byte) error {
	var iri string
	if json.Unmarshal(data, &iri) == nil {
		*l = listened{ID: iri}
		return nil
	}
	type plain listened
	var p plain
	_ = json.Unmarshal(data, &p) // a property of another shape stays empty
	*l = listened(p)
	return nil
}

// receiveListen keeps a Listen of an actor someone here follows.
func (f *Service) receiveListen(ctx context.Context, act *activity, body []byte) error {
	const op = "federation.receiveListen"
	if followed, err := f.Store.Followed(ctx, act.Actor); err != nil || !followed {
		return err
	}
	if act.ID == "" || !sameHost(act.ID, act.Actor) {
		return nineten.E(op, nineten.KindInvalid, "the listen has no id on the actor's host")
	}
	var in struct {
		Object    listened `json:"object"`
		Published string   `json:"published"`
	}
	_ = json.Unmarshal(body, &in)
	if in.Object.ID == "" {
		return nineten.E(op, nineten.KindInvalid, "the listen names no track")
	}
	at, err := time.Parse(time.RFC3339, in.Published)
	if err != nil || at.After(f.now()) {
		at = f.now()
	}
	_, err = f.Store.SaveSharedListen(ctx, &nineten.SharedListen{
		Activity: act.ID, Actor: act.Actor, Object: in.Object.ID, Title: in.Object.Name, Artist: in.Object.AttributedTo.Name,
		URL: cmp.Or(in.Object.URL.page(), in.Object.ID), ListenedAt: at,
	})
	return err
}

// FriendListens lists what the actors u follows shared that they played.
func (f *Service) FriendListens(ctx context.Context, u *nineten.User, limit int) ([]nineten.FriendListen, error) {
	const op = "federation.FriendListens"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	listens, err := f.Store.FriendListens(ctx, userActorName(u), limit)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	actors := map[string]*nineten.RemoteActor{}
	out := make([]nineten.FriendListen, 0, len(listens))
	for _, l := range listens {
		a := actors[l.Actor]
		if a == nil {
			if a, err = f.Store.RemoteActor(ctx, l.Actor); err != nil {
				a = &nineten.RemoteActor{IRI: l.Actor}
			}
			actors[l.Actor] = a
		}
		out = append(out, nineten.FriendListen{Actor: *a, Object: l.Object, Title: l.Title, Artist: l.Artist, URL: l.URL, ListenedAt: l.ListenedAt})
	}
	return out, nil
}
