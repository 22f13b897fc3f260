package federation

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	nineten "nineten.dev"
)

// What local users do with tracks besides listening: likes (Like),
// boosts (Announce, to their followers), comments (a Note in reply to the
// track), each taken back with an Undo or a Delete; the listens they
// choose to share (Listen); and the follow requests they answer. Tracks
// are this node's or another server's: what is done to a track elsewhere
// is sent to its artist's inbox too.

var _ nineten.Social = (*Service)(nil)

// maxCommentRunes bounds a comment written here, maxRemoteCommentRunes
// one received (longer ones are cut: servers allow long posts).
const (
	maxCommentRunes       = 1000
	maxRemoteCommentRunes = 5000
)

// wrapped is nineten.E(op, err), or nil when err is nil.
func wrapped(op string, err error) error {
	if err == nil {
		return nil
	}
	return nineten.E(op, err)
}

func needUser(op string, u *nineten.User) error {
	if u == nil {
		return nineten.E(op, nineten.KindUnauthenticated, "log in first")
	}
	if u.Disabled {
		return nineten.E(op, nineten.KindPermission, "this account is disabled")
	}
	return nil
}

// localTrack maps the IRI of one of this node's tracks, as its Audio
// object or as its Note (which Mastodon users see and answer), to the
// track, if it is visible.
func (f *Service) localTrack(ctx context.Context, iri string) (*nineten.Track, bool) {
	path, ok := strings.CutPrefix(iri, f.url("/tracks/"))
	if !ok {
		return nil, false
	}
	id, err := strconv.ParseInt(strings.TrimSuffix(path, "/note"), 10, 64)
	if err != nil || id <= 0 {
		return nil, false
	}
	t, err := f.Store.TrackByID(ctx, nineten.ID(id))
	if err != nil || !t.Visible() {
		return nil, false
	}
	return t, true
}

// target is a track as what is done to it needs it: how the store names
// it, its IRI, and its artist's IRI and inbox (none for an artist here).
type target struct {
	ref         nineten.TrackRef
	iri         string
	artist      string
	artistInbox string
}

// resolveTrack finds the track t names. A track of this node given by its IRI
// is named by its id from then on. A track elsewhere is fetched, to learn
// its artist: what is done to it is sent there.
func (f *Service) resolveTrack(ctx context.Context, t nineten.TrackRef) (*target, error) {
	const op = "federation.resolveTrack"
	if t.ID == 0 && strings.HasPrefix(t.IRI, f.url("/")) {
		tr, ok := f.localTrack(ctx, t.IRI)
		if !ok {
			return nil, nineten.E(op, nineten.KindNotFound, "no track of this node is at "+t.IRI)
		}
		t = nineten.TrackRef{ID: tr.ID}
	}
	if t.ID != 0 {
		tr, err := f.Store.TrackByID(ctx, t.ID)
		if err != nil || !tr.Visible() {
			return nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("track %d is not available", t.ID), err)
		}
		a, err := f.Store.ArtistByID(ctx, tr.ArtistID)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		return &target{ref: t, iri: f.url(fmt.Sprintf("/tracks/%d", tr.ID)), artist: f.url("/artists/" + a.Slug)}, nil
	}
	if u, err := url.Parse(t.IRI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nineten.E(op, nineten.KindInvalid, "give a track by its id, or by the http(s) address of its ActivityPub object")
	}
	if f.blocked(ctx, t.IRI) {
		return nil, errBlocked(op, t.IRI)
	}
	var o object
	if err := f.Client.GetJSON(ctx, t.IRI, "", f.signGET(ctx), &o); err != nil {
		return nil, nineten.E(op, "cannot read the track at "+t.IRI, err)
	}
	// Who made it is who its server says, on that server (Mastodon's
	// rule for attribution).
	by := o.AttributedTo.first()
	if o.ID != t.IRI || by == "" || !sameHost(by, t.IRI) {
		return nil, nineten.E(op, nineten.KindInvalid, t.IRI+" is not a track with an artist on its server")
	}
	artist, err := f.RemoteActor(ctx, by, false)
	if err != nil {
		return nil, nineten.E(op, "cannot reach the artist of "+t.IRI, err)
	}
	return &target{ref: t, iri: t.IRI, artist: by, artistInbox: artist.Inbox}, nil
}

// audience is where an activity of a local actor about a track goes: its
// followers' servers (when followers is set) and the artist's inbox, when
// the artist is elsewhere.
func (f *Service) audience(ctx context.Context, local string, t *target, followers bool) ([]string, error) {
	var inboxes []string
	if followers {
		var err error
		if inboxes, err = f.followerInboxes(ctx, local); err != nil {
			return nil, err
		}
	}
	if t.artistInbox != "" {
		inboxes = append(inboxes, t.artistInbox)
	}
	return inboxes, nil
}

// reactionActivity renders a like (Like, to the artist) or a boost
// (Announce, public, to the booster's followers and the artist).
func reactionActivity(me string, r *nineten.Reaction, t *target) map[string]any {
	act := map[string]any{"id": r.Activity, "actor": me, "object": t.iri, "published": timestamp(r.CreatedAt)}
	// The artist is unknown when the track is out of reach (an Undo then).
	artist := []string{}
	if t.artist != "" {
		artist = append(artist, t.artist)
	}
	if r.Kind == nineten.ReactionLike {
		act["type"], act["to"], act["cc"] = "Like", artist, []string{public}
	} else {
		act["type"], act["to"], act["cc"] = "Announce", []string{public}, append(artist, me+"/followers")
	}
	return act
}

// React likes or boosts a track for u and tells those who should know.
func (f *Service) React(ctx context.Context, u *nineten.User, t nineten.TrackRef, kind nineten.ReactionKind) error {
	const op = "federation.React"
	if err := needUser(op, u); err != nil {
		return err
	}
	if !kind.Valid() {
		return nineten.E(op, nineten.KindInvalid, "react with a like or a boost")
	}
	tg, err := f.resolveTrack(ctx, t)
	if err != nil {
		return err
	}
	me, local := f.url("/users/"+u.Username), userActorName(u)
	frag := map[nineten.ReactionKind]string{nineten.ReactionLike: "#likes/", nineten.ReactionBoost: "#boosts/"}[kind]
	r := &nineten.Reaction{Kind: kind, Track: tg.ref, Actor: local, Activity: me + frag + randomID(), CreatedAt: f.now()}
	created, err := f.Store.SaveReaction(ctx, r)
	if err != nil || !created {
		return wrapped(op, err) // a repeat changes nothing
	}
	inboxes, err := f.audience(ctx, local, tg, kind == nineten.ReactionBoost)
	if err == nil && len(inboxes) > 0 {
		act := reactionActivity(me, r, tg)
		act["@context"] = asContext
		err = f.deliver(ctx, local, act, inboxes...)
	}
	if err != nil {
		// Taken back, so that trying again sends it.
		if _, derr := f.Store.DeleteReaction(ctx, tg.ref, kind, local); derr != nil {
			f.Log.WarnContext(ctx, "a reaction that could not be sent stays", "user", u.ID, "err", derr)
		}
		return nineten.E(op, "could not send your "+string(kind), err)
	}
	return nil
}

// Unreact takes back a like or boost of u and sends the Undo.
func (f *Service) Unreact(ctx context.Context, u *nineten.User, t nineten.TrackRef, kind nineten.ReactionKind) error {
	const op = "federation.Unreact"
	if err := needUser(op, u); err != nil {
		return err
	}
	ref := t
	if t.ID == 0 {
		if tr, ok := f.localTrack(ctx, t.IRI); ok {
			ref = nineten.TrackRef{ID: tr.ID}
		}
	}
	local := userActorName(u)
	r, err := f.Store.DeleteReaction(ctx, ref, kind, local)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil
	}
	if err != nil {
		return nineten.E(op, err)
	}
	// The track may be gone or its server down: taking a like back here
	// still works, and the Undo goes where it can.
	tg, err := f.resolveTrack(ctx, ref)
	if err != nil {
		f.Log.InfoContext(ctx, "the track of an undone reaction is out of reach; telling followers only", "track", ref, "err", err)
		tg = &target{ref: ref, iri: cmp.Or(ref.IRI, f.url(fmt.Sprintf("/tracks/%d", ref.ID)))}
	}
	inboxes, err := f.audience(ctx, local, tg, kind == nineten.ReactionBoost)
	if err != nil || len(inboxes) == 0 {
		return wrapped(op, err)
	}
	me := f.url("/users/" + u.Username)
	undo := map[string]any{
		"@context": asContext, "id": r.Activity + "/undo", "type": "Undo", "actor": me,
		"object": reactionActivity(me, r, tg),
	}
	return wrapped(op, f.deliver(ctx, local, undo, inboxes...))
}

// RemoteReactions lists u's likes and boosts of tracks on other servers.
func (f *Service) RemoteReactions(ctx context.Context, u *nineten.User, limit int) ([]nineten.Reaction, error) {
	const op = "federation.RemoteReactions"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	rs, err := f.Store.RemoteReactionsOf(ctx, userActorName(u), limit)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return rs, nil
}

// TrackSocial counts a track's likes, boosts and comments (of tracks here)
// and says what viewer did with it.
func (f *Service) TrackSocial(ctx context.Context, viewer *nineten.User, t nineten.TrackRef) (*nineten.TrackSocial, error) {
	const op = "federation.TrackSocial"
	if t.ID == 0 {
		if tr, ok := f.localTrack(ctx, t.IRI); ok {
			t = nineten.TrackRef{ID: tr.ID}
		}
	}
	var out nineten.TrackSocial
	if t.ID != 0 {
		if _, err := f.visibleTrack(ctx, op, t.ID); err != nil {
			return nil, err
		}
		var err error
		if out.Likes, out.Boosts, err = f.Store.ReactionCounts(ctx, t.ID); err != nil {
			return nil, nineten.E(op, err)
		}
		if out.Comments, err = f.Store.CommentCount(ctx, t.ID); err != nil {
			return nil, nineten.E(op, err)
		}
	}
	if viewer != nil {
		kinds, err := f.Store.ReactionsOf(ctx, t, userActorName(viewer))
		if err != nil {
			return nil, nineten.E(op, err)
		}
		for _, k := range kinds {
			out.Liked = out.Liked || k == nineten.ReactionLike
			out.Boosted = out.Boosted || k == nineten.ReactionBoost
		}
	}
	return &out, nil
}

func (f *Service) visibleTrack(ctx context.Context, op string, id nineten.ID) (*nineten.Track, error) {
	t, err := f.Store.TrackByID(ctx, id)
	if err != nil || !t.Visible() {
		return nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("track %d is not available", id), err)
	}
	return t, nil
}

// cleanComment checks a comment's text: plain text with line breaks, not
// empty, at most maxCommentRunes.
func cleanComment(op, text string) (string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"))
	switch n := utf8.RuneCountInString(text); {
	case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
		return "", nineten.E(op, nineten.KindInvalid, "the comment is not valid text")
	case n == 0:
		return "", nineten.E(op, nineten.KindInvalid, "write something to comment")
	case n > maxCommentRunes:
		return "", nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("a comment has at most %d characters; this one has %d", maxCommentRunes, n))
	}
	return text, nil
}

// noteHTML renders plain text as the HTML a Note carries: escaped, with
// its line breaks.
func noteHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(strings.Trim(para, "\n")), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// commentNote renders a local user's comment as the Note other servers
// get: public, in reply to the track.
func (f *Service) commentNote(u *nineten.User, c *nineten.Comment, t *target) map[string]any {
	me := f.url("/users/" + u.Username)
	cc := []string{me + "/followers"}
	if t.artist != "" {
		cc = append(cc, t.artist)
	}
	return map[string]any{
		"id": f.url(fmt.Sprintf("/comments/%d", c.ID)), "type": "Note", "attributedTo": me,
		"inReplyTo": t.iri, "content": noteHTML(c.Text), "published": timestamp(c.CreatedAt),
		"url": f.trackPage(t.ref), "to": []string{public}, "cc": cc, "sensitive": false,
	}
}

// trackPage is where people see a track: its page here, or its IRI.
func (f *Service) trackPage(ref nineten.TrackRef) string {
	if ref.ID != 0 {
		return f.url(fmt.Sprintf("/app/tracks/%d", ref.ID))
	}
	return ref.IRI
}

// Comment posts a comment by u on a track and sends it as a Note to u's
// followers and the track's artist.
func (f *Service) Comment(ctx context.Context, u *nineten.User, t nineten.TrackRef, text string) (*nineten.Comment, error) {
	const op = "federation.Comment"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	text, err := cleanComment(op, text)
	if err != nil {
		return nil, err
	}
	tg, err := f.resolveTrack(ctx, t)
	if err != nil {
		return nil, err
	}
	c := &nineten.Comment{Track: tg.ref, UserID: u.ID, Text: text, CreatedAt: f.now(), UpdatedAt: f.now()}
	if err := f.Store.CreateComment(ctx, c); err != nil {
		return nil, nineten.E(op, err)
	}
	local := userActorName(u)
	inboxes, err := f.audience(ctx, local, tg, true)
	if err == nil && len(inboxes) > 0 {
		note := f.commentNote(u, c, tg)
		err = f.deliver(ctx, local, map[string]any{
			"@context": asContext, "id": note["id"].(string) + "/activity", "type": "Create", "actor": note["attributedTo"],
			"published": note["published"], "to": note["to"], "cc": note["cc"], "object": note,
		}, inboxes...)
	}
	if err != nil {
		if derr := f.Store.DeleteComment(ctx, c.ID); derr != nil {
			f.Log.WarnContext(ctx, "a comment that could not be sent stays", "comment", c.ID, "err", derr)
		}
		return nil, nineten.E(op, "could not send your comment", err)
	}
	c.AuthorName, c.AuthorHandle, c.AuthorPicture = u.DisplayName, u.Username, u.Avatar
	return c, nil
}

// DeleteComment removes a comment. Its author may, and admins may remove
// any; a comment written here is withdrawn from other servers too.
func (f *Service) DeleteComment(ctx context.Context, u *nineten.User, id nineten.ID) error {
	const op = "federation.DeleteComment"
	if err := needUser(op, u); err != nil {
		return err
	}
	c, err := f.Store.CommentByID(ctx, id)
	if err != nil {
		return nineten.E(op, err)
	}
	if c.UserID != u.ID && u.Role != nineten.RoleAdmin {
		return nineten.E(op, nineten.KindPermission, "only its author or an admin may delete a comment")
	}
	if err := f.Store.DeleteComment(ctx, id); err != nil {
		return nineten.E(op, err)
	}
	if c.UserID == 0 {
		return nil // a remote actor's: it stays on its own server
	}
	author, err := f.Store.UserByID(ctx, c.UserID)
	if err != nil {
		return nineten.E(op, err)
	}
	tg, err := f.resolveTrack(ctx, c.Track)
	if err != nil {
		f.Log.InfoContext(ctx, "the track of a deleted comment is out of reach; telling followers only", "comment", id, "err", err)
		tg = &target{ref: c.Track}
	}
	local := userActorName(author)
	inboxes, err := f.audience(ctx, local, tg, true)
	if err != nil || len(inboxes) == 0 {
		return wrapped(op, err)
	}
	// Signed by the author, whoever removed it: only the author of a
	// Note may delete it on other servers.
	noteID := f.url(fmt.Sprintf("/comments/%d", id))
	return wrapped(op, f.deliver(ctx, local, map[string]any{
		"@context": asContext, "id": noteID + "#delete", "type": "Delete", "actor": f.url("/users/" + author.Username),
		"to": []string{public}, "object": map[string]any{"id": noteID, "type": "Tombstone"},
	}, inboxes...))
}

// Comments lists the comments on a track of this node, newest first.
func (f *Service) Comments(ctx context.Context, trackID nineten.ID, p nineten.Page) ([]nineten.Comment, int, error) {
	const op = "federation.Comments"
	if _, err := f.visibleTrack(ctx, op, trackID); err != nil {
		return nil, 0, err
	}
	list, total, err := f.Store.Comments(ctx, trackID, p)
	if err != nil {
		return nil, 0, nineten.E(op, err)
	}
	return list, total, nil
}

// comment serves a comment written here as its Note; browsers go to the
// track's page.
func (f *Service) comment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c, cerr := f.Store.CommentByID(r.Context(), nineten.ID(id))
	if err != nil || cerr != nil || c.UserID == 0 {
		problem(w, r, http.StatusNotFound, "no such comment")
		return
	}
	if !wantsActivity(r) {
		redirectToApp(w, r, f.trackPage(c.Track))
		return
	}
	u, err := f.Store.UserByID(r.Context(), c.UserID)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	// A track here tells its artist without asking anyone; one elsewhere
	// is not fetched for a GET.
	tg, err := f.resolveTrack(r.Context(), nineten.TrackRef{ID: c.Track.ID})
	if c.Track.ID == 0 || err != nil {
		tg = &target{ref: c.Track, iri: cmp.Or(c.Track.IRI, f.url(fmt.Sprintf("/tracks/%d", c.Track.ID)))}
	}
	note := f.commentNote(u, c, tg)
	note["@context"] = asContext
	writeActivity(w, note)
}
