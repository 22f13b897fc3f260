package federation

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	nineten "nineten.dev"
)

// What other servers send about this node's tracks: likes (Like, and
// Funkwhale's Dislike that takes one back), boosts (Announce), each undone
// by an Undo, and replies (a Note in reply to a track) shown as comments,
// which their authors edit (Update) and delete (Delete). Each actor counts
// once per track; the inbox has checked that the actor signed.

// receiveReaction counts a Like or Announce of a track of this node, and
// takes back a like on a Dislike. It reports false for other objects.
func (f *Service) receiveReaction(ctx context.Context, act *activity, obj ref) (bool, error) {
	t, ok := f.localTrack(ctx, obj.ID)
	if !ok {
		return false, nil
	}
	track := nineten.TrackRef{ID: t.ID}
	if act.Type == "Dislike" {
		_, err := f.Store.DeleteReaction(ctx, track, nineten.ReactionLike, act.Actor)
		return true, ignoreNotFound(err)
	}
	kind := nineten.ReactionLike
	if act.Type == "Announce" {
		kind = nineten.ReactionBoost
	}
	_, err := f.Store.SaveReaction(ctx, &nineten.Reaction{Kind: kind, Track: track, Actor: act.Actor, Activity: act.ID, CreatedAt: f.now()})
	return true, err
}

func ignoreNotFound(err error) error {
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil
	}
	return err
}

// undoReaction takes back the actor's Like or Announce that obj, the
// object of an Undo, names: embedded with its own object (Mastodon), or by
// its id alone (Mastodon's compact form). It reports false when obj is no
// reaction this node keeps.
func (f *Service) undoReaction(ctx context.Context, act *activity, obj ref) (bool, error) {
	kind := nineten.ReactionLike
	if obj.Type == "Announce" {
		kind = nineten.ReactionBoost
	}
	if inner := parseRef(obj.Object); inner.ID != "" {
		t, ok := f.localTrack(ctx, inner.ID)
		if !ok {
			return false, nil
		}
		_, err := f.Store.DeleteReaction(ctx, nineten.TrackRef{ID: t.ID}, kind, act.Actor)
		return true, ignoreNotFound(err)
	}
	if obj.ID == "" {
		return false, nil
	}
	r, err := f.Store.ReactionByActivity(ctx, obj.ID)
	if nineten.ErrorKind(err) == nineten.KindNotFound || err == nil && r.Actor != act.Actor {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	_, err = f.Store.DeleteReaction(ctx, r.Track, r.Kind, r.Actor)
	return true, ignoreNotFound(err)
}

// reply is the part of a Note that a comment is made of.
type reply struct {
	ID           string          `json:"id"`
	Type         types           `json:"type"`
	AttributedTo iris            `json:"attributedTo"`
	InReplyTo    iris            `json:"inReplyTo"`
	To           iris            `json:"to"`
	CC           iris            `json:"cc"`
	Content      string          `json:"content"`
	ContentMap   json.RawMessage `json:"contentMap"`
	Published    string          `json:"published"`
}

func (r *reply) UnmarshalJSON(data []byte) error {
	type plain reply
	var p plain
	_ = json.Unmarshal(data, &p) // a property of another shape stays empty
	*r = reply(p)
	return nil
}

// public reports whether a post is addressed to everyone, in to or cc
// (public or unlisted, in Mastodon's words), in any form the public
// collection is written.
func (r *reply) public() bool {
	for _, a := range append(r.To, r.CC...) {
		if a == public || a == "as:Public" || a == "Public" || a == "http://www.w3.org/ns/activitystreams#Public" {
			return true
		}
	}
	return false
}

// text is the reply as plain text: its content or, without one, the first
// of its contentMap, cut at maxRemoteCommentRunes.
func (r *reply) text() string {
	markup := r.Content
	if markup == "" {
		var byLang map[string]string
		if json.Unmarshal(r.ContentMap, &byLang) == nil {
			// In order of language, so that the choice does not depend
			// on map order.
			for _, lang := range slices.Sorted(maps.Keys(byLang)) {
				if markup = byLang[lang]; markup != "" {
					break
				}
			}
		}
	}
	t := plainText(markup)
	if utf8.RuneCountInString(t) > maxRemoteCommentRunes {
		t = string([]rune(t)[:maxRemoteCommentRunes-1]) + "…"
	}
	return t
}

// receiveComment keeps a Create (or an Update) of a Note in reply to one
// of this node's tracks as a comment, and an Update of a comment kept as
// its new text. It
// reports false for anything else. Only public replies are shown: a
// direct or followers-only reply must not appear on a public page.
func (f *Service) receiveComment(ctx context.Context, act *activity, body []byte) (bool, error) {
	const op = "federation.receiveComment"
	var in struct {
		Object reply `json:"object"`
	}
	if json.Unmarshal(body, &in) != nil || in.Object.Type.main() != "Note" || in.Object.ID == "" {
		return false, nil
	}
	n := &in.Object
	if act.Type == "Update" {
		// An edit of a comment kept here; an Update of a reply never
		// seen (its Create was lost) is read as the reply below.
		if c, err := f.Store.CommentByIRI(ctx, n.ID); err == nil && c.Actor == act.Actor {
			if text := n.text(); text != "" && n.public() {
				return true, f.Store.EditComment(ctx, c.ID, text, f.now())
			}
			// Made private or emptied: it is not a public comment any more.
			return true, f.Store.DeleteComment(ctx, c.ID)
		}
	}
	var track *nineten.Track
	for _, iri := range n.InReplyTo {
		if t, ok := f.localTrack(ctx, iri); ok {
			track = t
		}
	}
	if track == nil {
		return false, nil
	}
	if by := n.AttributedTo.first(); by != "" && by != act.Actor {
		return true, nineten.E(op, nineten.KindInvalid, "the reply is attributed to "+by+", not to the actor who sent it")
	}
	text := n.text()
	if text == "" || !n.public() {
		// A poll vote has no content; a private reply is not for a
		// public page.
		return true, f.ignore(ctx, act, "a reply without text, or not public")
	}
	at, err := time.Parse(time.RFC3339, n.Published)
	if err != nil || at.After(f.now()) {
		at = f.now()
	}
	err = f.Store.CreateComment(ctx, &nineten.Comment{
		Track: nineten.TrackRef{ID: track.ID}, Actor: act.Actor, IRI: n.ID, Text: text, CreatedAt: at, UpdatedAt: at,
	})
	if nineten.ErrorKind(err) == nineten.KindConflict {
		return true, nil // delivered again
	}
	return true, err
}

// forgetDeleted removes what actor deleted, if it is a comment or a shared
// listen this node keeps.
func (f *Service) forgetDeleted(ctx context.Context, actor, iri string) error {
	if c, err := f.Store.CommentByIRI(ctx, iri); err == nil && c.Actor == actor {
		if err := f.Store.DeleteComment(ctx, c.ID); ignoreNotFound(err) != nil {
			return err
		}
	} else if ignoreNotFound(err) != nil {
		return err
	}
	return f.Store.DeleteSharedListen(ctx, actor, iri)
}
