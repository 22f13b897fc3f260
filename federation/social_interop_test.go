package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	nineten "nineten.dev"
)

// What other servers send about this node's tracks, as they send it
// (testdata/interop): likes, boosts and replies, and their undoing, and
// what users see of them on the track's page.

// seen is what a track's page shows.
type seen struct {
	nineten.TrackSocial
	Comments []nineten.Comment
}

func (w *fediverse) seen(t *nineten.Track) seen {
	w.t.Helper()
	ts := w.social(nil, nineten.TrackRef{ID: t.ID})
	list, _, err := w.f.Comments(w.t.Context(), t.ID, nineten.Page{})
	if err != nil {
		w.t.Fatal(err)
	}
	return seen{ts, list}
}

// got delivers a fixture, with local's replacements, and checks the inbox
// took it.
func (w *fediverse) got(fixture string, local map[string]string, at time.Time) []byte {
	w.t.Helper()
	doc := w.load(fixture, local)
	if status := w.deliverAt(doc, at); status != http.StatusAccepted {
		w.t.Fatalf("%s: the inbox answered %d, want 202", fixture, status)
	}
	return doc
}

func TestTrackSocialFromOtherServers(t *testing.T) {
	// The objects the captures were about, made this node's tracks.
	pleromaObject := "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454"
	mastodonStatus := "http://mastodon.example.org/@admin/99541947525187367"
	now := time.Now()
	earlier := now.Add(-time.Second)

	t.Run("mastodon likes, once per actor, and takes back", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Liked")
		local := map[string]string{pleromaObject: w.f.url(fmt.Sprintf("/tracks/%d", tr.ID))}
		w.got("mastodon/like.json", local, now)
		w.got("mastodon/like.json", local, earlier) // delivered again
		if s := w.seen(tr); s.Likes != 1 || s.Boosts != 0 {
			t.Fatalf("after a like delivered twice: %+v", s.TrackSocial)
		}
		w.got("mastodon/undo-like.json", local, now)
		if s := w.seen(tr); s.Likes != 0 {
			t.Errorf("after the undo: %+v", s.TrackSocial)
		}
		// The compact Undo names the Like by its id alone.
		w.got("mastodon/like.json", local, earlier.Add(-time.Second))
		if s := w.seen(tr); s.Likes != 1 {
			t.Fatalf("liked again: %+v", s.TrackSocial)
		}
		w.got("mastodon/undo-like-compact.json", local, now)
		if s := w.seen(tr); s.Likes != 0 {
			t.Errorf("after the compact undo: %+v", s.TrackSocial)
		}
		// An Undo may name the like by what it liked, without its id.
		like := w.got("mastodon/like.json", local, earlier.Add(-2*time.Second))
		undo, _ := json.Marshal(map[string]any{"@context": asContext, "id": act0(like).ID + "/undo-by-object", "type": "Undo", "actor": act0(like).Actor,
			"object": map[string]any{"type": "Like", "actor": act0(like).Actor, "object": local[pleromaObject]}})
		if status := w.deliverAt(undo, now); status != http.StatusAccepted || w.seen(tr).Likes != 0 {
			t.Errorf("an undo naming the liked track: %d, %+v", status, w.seen(tr).TrackSocial)
		}
	})

	t.Run("mastodon boosts the track's note, and takes it back", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Boosted")
		// Mastodon users see, and boost, the track's Note.
		local := map[string]string{mastodonStatus: w.f.url(fmt.Sprintf("/tracks/%d/note", tr.ID))}
		w.got("mastodon/announce.json", local, now)
		if s := w.seen(tr); s.Boosts != 1 || s.Likes != 0 {
			t.Fatalf("after a boost: %+v", s.TrackSocial)
		}
		w.got("mastodon/undo-announce.json", local, now)
		if s := w.seen(tr); s.Boosts != 0 {
			t.Errorf("after the undo: %+v", s.TrackSocial)
		}
	})

	t.Run("a like of something else changes nothing", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Untouched")
		w.got("mastodon/like.json", nil, now)
		w.got("mastodon/announce.json", nil, now)
		if s := w.seen(tr); s.Likes != 0 || s.Boosts != 0 {
			t.Errorf("%+v", s.TrackSocial)
		}
	})

	t.Run("a mastodon reply is a comment, as text", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Discussed")
		note := w.f.url(fmt.Sprintf("/tracks/%d/note", tr.ID))
		local := map[string]string{`"inReplyTo": null`: fmt.Sprintf("%q: %q", "inReplyTo", note)}
		doc := w.got("mastodon/create-note.json", local, now)
		w.got("mastodon/create-note.json", local, earlier) // delivered again
		s := w.seen(tr)
		if s.TrackSocial.Comments != 1 || len(s.Comments) != 1 {
			t.Fatalf("comments %+v", s.Comments)
		}
		c := s.Comments[0]
		actor := act0(doc).Actor
		a, _ := w.db.RemoteActor(t.Context(), actor)
		if c.Text != "@lain" || c.Actor != actor || c.IRI != field(t, doc, "object.id") || c.UserID != 0 ||
			!c.CreatedAt.Equal(time.Date(2018, 2, 12, 14, 8, 20, 0, time.UTC)) || c.AuthorHandle != a.Handle || c.AuthorHandle == "" {
			t.Errorf("comment %+v; want the mention as text, by the sender, when it was published", c)
		}

		// Its author edits it, then deletes it.
		var update map[string]any
		_ = json.Unmarshal(doc, &update)
		update["type"], update["id"] = "Update", field(t, doc, "object.id")+"#updates/1"
		update["object"].(map[string]any)["content"] = `<p>edited <a href="x">link</a></p>`
		body, _ := json.Marshal(update)
		if status := w.deliverAt(body, now); status != http.StatusAccepted {
			t.Fatalf("the update: %d", status)
		}
		if s := w.seen(tr); len(s.Comments) != 1 || s.Comments[0].Text != "edited link" {
			t.Errorf("after the update: %+v", s.Comments)
		}
		del, _ := json.Marshal(map[string]any{"@context": asContext, "id": field(t, doc, "object.id") + "#delete", "type": "Delete", "actor": actor,
			"object": map[string]any{"id": field(t, doc, "object.id"), "type": "Tombstone"}})
		if status := w.deliverAt(del, now); status != http.StatusAccepted {
			t.Fatalf("the delete: %d", status)
		}
		if s := w.seen(tr); len(s.Comments) != 0 {
			t.Errorf("after the delete: %+v", s.Comments)
		}
	})

	t.Run("an update of a reply never seen is the reply", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Late")
		note := w.f.url(fmt.Sprintf("/tracks/%d", tr.ID))
		doc := w.load("mastodon/create-note.json", map[string]string{`"inReplyTo": null`: fmt.Sprintf("%q: %q", "inReplyTo", note)})
		var update map[string]any
		_ = json.Unmarshal(doc, &update)
		update["type"], update["id"] = "Update", field(t, doc, "object.id")+"#updates/1"
		body, _ := json.Marshal(update)
		if status := w.deliverAt(body, now); status != http.StatusAccepted {
			t.Fatalf("the update: %d", status)
		}
		if s := w.seen(tr); len(s.Comments) != 1 || s.Comments[0].Text != "@lain" {
			t.Errorf("comments %+v; want the reply", s.Comments)
		}
	})

	t.Run("a reply not addressed to the public is no comment", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Private")
		note := w.f.url(fmt.Sprintf("/tracks/%d", tr.ID))
		w.got("mastodon/create-note.json", map[string]string{
			`"inReplyTo": null`: fmt.Sprintf("%q: %q", "inReplyTo", note),
			// Followers only, as Mastodon addresses such a post.
			"https://www.w3.org/ns/activitystreams#Public": "http://mastodon.example.org/users/admin/followers",
		}, now)
		if s := w.seen(tr); len(s.Comments) != 0 {
			t.Errorf("a followers-only reply shows on the track's page: %+v", s.Comments)
		}
	})

	t.Run("a poll vote is no comment", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Polled")
		w.got("mastodon/create-poll-vote.json", map[string]string{
			"https://mastodon.example/users/alice/statuses/1009947848598745": w.f.url(fmt.Sprintf("/tracks/%d", tr.ID)),
		}, now)
		if s := w.seen(tr); len(s.Comments) != 0 {
			t.Errorf("a vote became a comment: %+v", s.Comments)
		}
	})

	t.Run("mastodon and gotosocial deletes remove comments", func(t *testing.T) {
		for _, fixture := range []string{"mastodon/delete-tombstone.json", "gotosocial/delete-status.json"} {
			w := newFediverse(t)
			tr := w.track("Answered")
			doc := w.load(fixture, nil)
			c := &nineten.Comment{Track: nineten.TrackRef{ID: tr.ID}, Actor: act0(doc).Actor, IRI: parseRef(act0(doc).Object).ID, Text: "soon gone", CreatedAt: now, UpdatedAt: now}
			if err := w.db.CreateComment(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			if status := w.deliver(doc); status != http.StatusAccepted {
				t.Fatalf("%s: %d", fixture, status)
			}
			if s := w.seen(tr); len(s.Comments) != 0 {
				t.Errorf("%s left %+v", fixture, s.Comments)
			}
		}
	})

	t.Run("blocking the server forgets its likes and replies", func(t *testing.T) {
		w := newFediverse(t)
		tr := w.track("Spammed")
		local := map[string]string{
			pleromaObject:       w.f.url(fmt.Sprintf("/tracks/%d", tr.ID)),
			`"inReplyTo": null`: fmt.Sprintf("%q: %q", "inReplyTo", w.f.url(fmt.Sprintf("/tracks/%d", tr.ID))),
		}
		doc := w.got("mastodon/like.json", local, now)
		w.got("mastodon/create-note.json", local, now)
		admin := w.newUser("root", nineten.RoleAdmin)
		if _, err := w.f.BlockDomain(t.Context(), admin, act0(doc).Actor, "spam"); err != nil {
			t.Fatal(err)
		}
		if s := w.seen(tr); s.Likes != 0 || len(s.Comments) != 0 {
			t.Errorf("after the block: %+v, %+v", s.TrackSocial, s.Comments)
		}
	})
}
