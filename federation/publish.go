package federation

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strconv"

	nineten "nineten.dev"
)

// mastodonAudio are the audio types Mastodon and GoToSocial play from an
// attachment, and maxAttachment the size both fetch (GoToSocial: 40 MiB).
var mastodonAudio = map[string]bool{"audio/mpeg": true, "audio/ogg": true, "audio/flac": true, "audio/mp4": true, "audio/aac": true}

const maxAttachment = 40 << 20

// previewMS is how long the MP3 preview the transcoder writes lasts at most.
const previewMS = 30_000

// note renders a track as the Note that microblogging servers show: text
// with a link, and the audio as an attachment they can play. 9ten peers
// follow its track property to the Audio object.
func (f *Service) note(t *nineten.Track, a *nineten.Artist) map[string]any {
	artistID := f.url("/artists/" + a.Slug)
	page := f.url(fmt.Sprintf("/app/tracks/%d", t.ID))
	content := fmt.Sprintf(`<p>New track: <a href="%s">%s</a> by %s</p>`, html.EscapeString(page), html.EscapeString(t.Title), html.EscapeString(a.Name))
	n := map[string]any{
		"id":           f.url(fmt.Sprintf("/tracks/%d/note", t.ID)),
		"type":         "Note",
		"attributedTo": artistID,
		"content":      content,
		"url":          page,
		"published":    timestamp(t.UpdatedAt),
		"to":           []string{public},
		"cc":           []string{artistID + "/followers"},
		"sensitive":    false,
		"track":        f.url(fmt.Sprintf("/tracks/%d", t.ID)),
	}
	// The whole track when those servers can take it, else the preview.
	att := map[string]any{
		"type": "Audio", "mediaType": "audio/mpeg", "name": t.Title + " by " + a.Name + " (preview)",
		"url": f.url(fmt.Sprintf("/media/tracks/%d/hls/preview.mp3", t.ID)), "duration": duration(min(t.DurationMS, previewMS)),
	}
	if mastodonAudio[t.Original.MIMEType] && t.Original.Size <= maxAttachment {
		att["mediaType"], att["name"] = t.Original.MIMEType, t.Title+" by "+a.Name
		att["url"], att["duration"] = f.url(fmt.Sprintf("/media/tracks/%d/original", t.ID)), duration(t.DurationMS)
	}
	if t.CoverKey != "" {
		att["icon"] = map[string]any{"type": "Image", "mediaType": "image/jpeg", "url": f.url(fmt.Sprintf("/media/tracks/%d/cover-600.jpg", t.ID))}
	}
	n["attachment"] = []any{att}
	return n
}

// TrackChanged tells an artist's followers on other servers that a track
// was published (Create), edited (Update) or withdrawn (Delete).
func (f *Service) TrackChanged(ctx context.Context, t *nineten.Track, c nineten.TrackChange) {
	if err := f.trackChanged(ctx, t, c); err != nil {
		f.Log.WarnContext(ctx, "telling followers about a track failed", "track", t.ID, "change", c, "err", err)
	}
}

func (f *Service) trackChanged(ctx context.Context, t *nineten.Track, c nineten.TrackChange) error {
	a, err := f.Store.ArtistByID(ctx, t.ArtistID)
	if err != nil {
		return err
	}
	inboxes, err := f.followerInboxes(ctx, artistActorName(a))
	if err != nil || len(inboxes) == 0 {
		return err
	}
	n := f.note(t, a)
	act := map[string]any{
		"@context": contexts, "actor": n["attributedTo"], "to": n["to"], "cc": n["cc"], "object": n,
	}
	switch c {
	case nineten.TrackPublished:
		act["type"], act["id"], act["published"] = "Create", n["id"].(string)+"/activity", n["published"]
	case nineten.TrackUpdated:
		act["type"], act["id"] = "Update", fmt.Sprintf("%s/updates/%d", n["id"], f.now().UnixMilli())
	case nineten.TrackWithdrawn:
		act["type"], act["id"] = "Delete", n["id"].(string)+"/delete"
		act["object"] = map[string]any{"id": n["id"], "type": "Tombstone"}
	}
	return f.deliver(ctx, artistActorName(a), act, inboxes...)
}

// followerInboxes lists where a local actor's followers receive
// deliveries: one shared inbox per server where it has one.
func (f *Service) followerInboxes(ctx context.Context, local string) ([]string, error) {
	followers, err := f.Store.Follows(ctx, local, true)
	if err != nil {
		return nil, err
	}
	var inboxes []string
	for _, fw := range followers {
		if fw.State != nineten.FollowAccepted {
			continue // a follow request: not a follower until approved
		}
		r, err := f.RemoteActor(ctx, fw.Remote, false)
		if err != nil {
			f.Log.WarnContext(ctx, "a follower's actor is unreachable", "actor", fw.Remote, "err", err)
			continue
		}
		inbox := r.SharedInbox
		if inbox == "" {
			inbox = r.Inbox
		}
		inboxes = append(inboxes, inbox)
	}
	return inboxes, nil
}

// trackNote serves the Note of a track, so servers can fetch what they
// were sent.
func (f *Service) trackNote(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	t, terr := f.Store.TrackByID(r.Context(), nineten.ID(id))
	if err != nil || terr != nil || !t.Visible() {
		problem(w, r, http.StatusNotFound, "no such track")
		return
	}
	a, err := f.Store.ArtistByID(r.Context(), t.ArtistID)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	n := f.note(t, a)
	n["@context"] = contexts
	writeActivity(w, n)
}

// ArtistChanged sends the edited profile (an Update of the actor) to the
// artist's followers, so their servers show the new name and bio.
func (f *Service) ArtistChanged(ctx context.Context, a *nineten.Artist) {
	if err := f.actorUpdated(ctx, artistActorName(a)); err != nil {
		f.Log.WarnContext(ctx, "telling followers about a profile change failed", "artist", a.ID, "err", err)
	}
}

// UserChanged sends a user's edited profile (an Update of their actor) to
// their followers, whose servers then fetch it afresh.
func (f *Service) UserChanged(ctx context.Context, u *nineten.User) {
	if err := f.actorUpdated(ctx, userActorName(u)); err != nil {
		f.Log.WarnContext(ctx, "telling followers about a profile change failed", "user", u.ID, "err", err)
	}
}
