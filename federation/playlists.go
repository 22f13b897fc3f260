package federation

// Playlists on ActivityPub. A public playlist is an OrderedCollection
// that is also a 9ten Playlist, attributed to its owner's Person actor,
// served at /playlists/{id} and listed (as Create activities) in the
// owner's outbox. Its items are the tracks' Audio objects, embedded in
// short form (id, name, artist, duration, page and stream) so that a
// follower can show and play them without fetching each; the collection
// is paged, so that thousands of tracks never make one document larger
// than servers accept (1 MB).
//
// The owner's followers are sent Create (a new public playlist, or one
// made public), Update (edited, or items moved), Add and Remove (one
// track, with the playlist as target) and Delete with a Tombstone
// (deleted, or made private). Every one of them carries the playlist's
// updated time after the change (Delete: the time of deletion), and a
// follower's node applies an activity only if its copy is not newer, so
// that deliveries that overtake each other leave the newest state.
//
// A node keeps copies of the public playlists of the actors its users
// follow: from these activities, and, when a follow is accepted, from the
// actor's outbox (a job, so the Accept is answered at once). Activities
// about playlists it has no copy of, or from actors nobody here follows,
// are ignored.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	nineten "nineten.dev"
)

// playlistPageSize is how many items one page of a playlist holds: at
// the longest titles and URLs a page stays far below 1 MB.
const playlistPageSize = 50

// Bounds on what is copied of a remote playlist: as many tracks as a
// playlist here may hold, read from at most so many pages.
const (
	maxCopiedItems     = 5000
	maxCopiedPages     = 110
	maxCopiedTitle     = 200
	maxCopiedText      = 2000
	maxBackfillPages   = 5
	maxBackfillLists   = 100
	importAttempts     = 5
	remoteURLMaxLength = 2048
)

// JobImportPlaylists is the kind of the job that copies the public
// playlists of an actor someone here began to follow.
const JobImportPlaylists = "federation_import_playlists"

func (f *Service) playlistIRI(id nineten.ID) string { return f.url(fmt.Sprintf("/playlists/%d", id)) }

// summaryHTML renders a plain-text description as HTML paragraphs.
func summaryHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n") {
		if para = strings.TrimSpace(para); para != "" {
			b.WriteString("<p>" + html.EscapeString(para) + "</p>")
		}
	}
	return b.String()
}

// audioRef renders an item as the short Audio object a playlist embeds.
func (f *Service) audioRef(ctx context.Context, it *nineten.PlaylistItem, artists map[nineten.ID]string) map[string]any {
	if it.TrackID == 0 {
		r := it.Remote
		obj := map[string]any{"id": r.IRI, "type": "Audio"}
		if r.Title != "" {
			obj["name"] = r.Title
		}
		if r.Artist != "" {
			obj["artistName"] = r.Artist
		}
		if r.DurationMS > 0 {
			obj["duration"] = duration(r.DurationMS)
		}
		var links []any
		if r.PageURL != "" {
			links = append(links, map[string]any{"type": "Link", "mediaType": "text/html", "href": r.PageURL})
		}
		if r.HLSURL != "" {
			links = append(links, map[string]any{"type": "Link", "mediaType": "application/vnd.apple.mpegurl", "href": r.HLSURL})
		}
		if links != nil {
			obj["url"] = links
		}
		if r.CoverURL != "" {
			obj["icon"] = map[string]any{"type": "Image", "url": r.CoverURL}
		}
		return obj
	}
	t := it.Track
	if t == nil { // deleted meanwhile: its id is all there is
		return map[string]any{"id": f.url(fmt.Sprintf("/tracks/%d", it.TrackID)), "type": "Audio"}
	}
	media := f.url(fmt.Sprintf("/media/tracks/%d", t.ID))
	obj := map[string]any{
		"id": f.url(fmt.Sprintf("/tracks/%d", t.ID)), "type": "Audio", "name": t.Title, "artistName": t.ArtistName,
		"duration": duration(t.DurationMS),
		"url": []any{
			map[string]any{"type": "Link", "mediaType": "text/html", "href": f.url(fmt.Sprintf("/app/tracks/%d", t.ID))},
			map[string]any{"type": "Link", "mediaType": "application/vnd.apple.mpegurl", "href": media + "/hls/master.m3u8"},
		},
	}
	slug, ok := artists[t.ArtistID]
	if !ok {
		if a, err := f.Store.ArtistByID(ctx, t.ArtistID); err == nil {
			slug = a.Slug
		}
		artists[t.ArtistID] = slug
	}
	if slug != "" {
		obj["attributedTo"] = f.url("/artists/" + slug)
	}
	if t.CoverKey != "" {
		obj["icon"] = map[string]any{"type": "Image", "mediaType": "image/jpeg", "url": media + "/cover-600.jpg"}
	}
	return obj
}

// visibleItems keeps the items anyone may see (as the playlist use case
// shows them).
func visibleItems(items []nineten.PlaylistItem) []nineten.PlaylistItem {
	return slices.DeleteFunc(items, func(it nineten.PlaylistItem) bool { return !it.Visible() })
}

// publicPlaylist returns a public playlist of this node with its owner
// and the items anyone may see, or KindNotFound: private playlists,
// copies of remote ones and those of disabled accounts are no one's to
// fetch.
func (f *Service) publicPlaylist(ctx context.Context, id nineten.ID) (*nineten.Playlist, *nineten.User, []nineten.PlaylistItem, error) {
	const op = "federation.publicPlaylist"
	p, err := f.Store.PlaylistByID(ctx, id)
	if err != nil || !p.Local() || !p.Public {
		return nil, nil, nil, nineten.E(op, nineten.KindNotFound, "no such playlist")
	}
	owner, err := f.Store.UserByID(ctx, p.OwnerID)
	if err != nil || owner.Disabled {
		return nil, nil, nil, nineten.E(op, nineten.KindNotFound, "no such playlist")
	}
	items, err := f.Store.PlaylistItems(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, owner, visibleItems(items), nil
}

// playlistDoc renders a playlist as an OrderedCollection. With first, the
// first page of items is embedded (what deliveries carry); without, it is
// linked (what an outbox lists, to stay small).
func (f *Service) playlistDoc(ctx context.Context, p *nineten.Playlist, owner *nineten.User, items []nineten.PlaylistItem, first bool) map[string]any {
	id := f.playlistIRI(p.ID)
	ownerIRI := f.url("/users/" + owner.Username)
	doc := map[string]any{
		"id": id, "type": []string{"OrderedCollection", "Playlist"},
		"name": p.Title, "attributedTo": ownerIRI,
		"published": timestamp(p.CreatedAt), "updated": preciseTime(p.UpdatedAt),
		"to": []string{public}, "cc": []string{ownerIRI + "/followers"},
		"url":        []any{map[string]any{"type": "Link", "mediaType": "text/html", "href": f.url(fmt.Sprintf("/app/playlists/%d", p.ID))}},
		"totalItems": len(items),
	}
	if p.Description != "" {
		doc["summary"] = summaryHTML(p.Description)
	}
	switch {
	case first:
		doc["first"] = f.playlistPage(ctx, p, items, 1)
	case len(items) > 0:
		doc["first"] = id + "?page=1"
	}
	return doc
}

// playlistPage renders page n (from 1) of a playlist's items.
func (f *Service) playlistPage(ctx context.Context, p *nineten.Playlist, items []nineten.PlaylistItem, n int) map[string]any {
	id := f.playlistIRI(p.ID)
	from := min((n-1)*playlistPageSize, len(items))
	to := min(from+playlistPageSize, len(items))
	artists := map[nineten.ID]string{}
	objs := make([]any, 0, to-from)
	for i := from; i < to; i++ {
		objs = append(objs, f.audioRef(ctx, &items[i], artists))
	}
	page := map[string]any{
		"id": fmt.Sprintf("%s?page=%d", id, n), "type": "OrderedCollectionPage", "partOf": id,
		"startIndex": from, "orderedItems": objs,
	}
	if to < len(items) {
		page["next"] = fmt.Sprintf("%s?page=%d", id, n+1)
	}
	return page
}

// playlist serves a public playlist (or a page of it, ?page=n) to
// servers; browsers get its page in the web app.
func (f *Service) playlist(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		problem(w, r, http.StatusNotFound, "no such playlist")
		return
	}
	if !wantsActivity(r) {
		// The web app asks the API, which answers as the viewer may see.
		redirectToApp(w, r, fmt.Sprintf("/app/playlists/%d", id))
		return
	}
	p, owner, items, err := f.publicPlaylist(r.Context(), nineten.ID(id))
	if err != nil {
		f.fail(w, r, err)
		return
	}
	var doc map[string]any
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n >= 1 {
		doc = f.playlistPage(r.Context(), p, items, n)
	} else {
		doc = f.playlistDoc(r.Context(), p, owner, items, true)
	}
	doc["@context"] = contexts
	writeActivity(w, doc)
}

// createPlaylist is the Create activity of a playlist document.
func createPlaylist(doc map[string]any) map[string]any {
	return map[string]any{
		"id": doc["id"].(string) + "/activity", "type": "Create", "actor": doc["attributedTo"],
		"published": doc["published"], "to": doc["to"], "cc": doc["cc"], "object": doc,
	}
}

// userOutbox lists a listener's public playlists as Create activities,
// the most recently updated first.
func (f *Service) userOutbox(w http.ResponseWriter, r *http.Request) {
	u, err := f.Store.UserByUsername(r.Context(), r.PathValue("name"))
	if err != nil || u.Disabled {
		problem(w, r, http.StatusNotFound, "no such user")
		return
	}
	id := f.url("/users/" + u.Username + "/outbox")
	filter := nineten.PlaylistFilter{OwnerID: u.ID, PublicOnly: true}
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		_, total, err := f.Store.ListPlaylists(r.Context(), filter, nineten.Page{Limit: 1})
		if err != nil {
			f.fail(w, r, err)
			return
		}
		writeActivity(w, map[string]any{"@context": contexts, "id": id, "type": "OrderedCollection", "totalItems": total, "first": id + "?page=1"})
		return
	}
	lists, total, err := f.Store.ListPlaylists(r.Context(), filter, nineten.Page{Limit: outboxPageSize, Offset: (n - 1) * outboxPageSize})
	if err != nil {
		f.fail(w, r, err)
		return
	}
	acts := make([]any, 0, len(lists))
	for i := range lists {
		items, err := f.Store.PlaylistItems(r.Context(), lists[i].ID)
		if err != nil {
			f.fail(w, r, err)
			return
		}
		acts = append(acts, createPlaylist(f.playlistDoc(r.Context(), &lists[i], u, visibleItems(items), false)))
	}
	page := map[string]any{
		"@context": contexts, "id": fmt.Sprintf("%s?page=%d", id, n), "type": "OrderedCollectionPage",
		"partOf": id, "totalItems": total, "orderedItems": acts,
	}
	if n*outboxPageSize < total {
		page["next"] = fmt.Sprintf("%s?page=%d", id, n+1)
	}
	writeActivity(w, page)
}

// PlaylistChanged tells the owner's followers on other servers what
// happened to a public playlist.
func (f *Service) PlaylistChanged(ctx context.Context, p *nineten.Playlist, c nineten.PlaylistChange, item *nineten.PlaylistItem) {
	if err := f.playlistChanged(ctx, p, c, item); err != nil {
		f.Log.WarnContext(ctx, "telling followers about a playlist failed", "playlist", p.ID, "change", c, "err", err)
	}
}

func (f *Service) playlistChanged(ctx context.Context, p *nineten.Playlist, c nineten.PlaylistChange, item *nineten.PlaylistItem) error {
	owner, err := f.Store.UserByID(ctx, p.OwnerID)
	if err != nil {
		return err
	}
	signer := userActorName(owner)
	inboxes, err := f.followerInboxes(ctx, signer)
	if err != nil || len(inboxes) == 0 {
		return err
	}
	id := f.playlistIRI(p.ID)
	ownerIRI := f.url("/users/" + owner.Username)
	act := map[string]any{
		"@context": contexts, "actor": ownerIRI, "to": []string{public}, "cc": []string{ownerIRI + "/followers"},
	}
	// Activity ids are unique per change: a receiver keeps each once.
	stamp := fmt.Sprintf("%s/activities/%d", id, f.now().UnixNano())
	target := map[string]any{"id": id, "type": []string{"OrderedCollection", "Playlist"}, "updated": preciseTime(p.UpdatedAt)}
	switch c {
	case nineten.PlaylistPublished, nineten.PlaylistUpdated:
		// The playlist as it is now, rather than as the use case saw it:
		// the same document a fetch gets.
		cur, owner, items, err := f.publicPlaylist(ctx, p.ID)
		if err != nil {
			return err
		}
		act["type"], act["id"], act["object"] = "Update", stamp, f.playlistDoc(ctx, cur, owner, items, true)
		if c == nineten.PlaylistPublished {
			act["type"] = "Create"
		}
	case nineten.PlaylistItemAdded:
		act["type"], act["id"], act["target"] = "Add", stamp, target
		act["object"] = f.audioRef(ctx, item, map[nineten.ID]string{})
	case nineten.PlaylistItemRemoved:
		act["type"], act["id"], act["target"] = "Remove", stamp, target
		act["object"] = f.audioRef(ctx, item, map[nineten.ID]string{})["id"]
	case nineten.PlaylistWithdrawn:
		act["type"], act["id"] = "Delete", stamp
		act["object"] = map[string]any{"id": id, "type": "Tombstone", "formerType": "Playlist", "deleted": preciseTime(f.now())}
	default:
		return nineten.E("federation.PlaylistChanged", nineten.KindInvalid, "unknown playlist change "+string(c))
	}
	return f.deliver(ctx, signer, act, inboxes...)
}

// Reading playlists of other servers.

// playlistJSON is the part of a remote playlist (a collection, or one of
// its pages) that 9ten reads.
type playlistJSON struct {
	ID           string          `json:"id"`
	Type         types           `json:"type"`
	Name         string          `json:"name"`
	Summary      string          `json:"summary"`
	AttributedTo iris            `json:"attributedTo"`
	Published    string          `json:"published"`
	Updated      string          `json:"updated"`
	Deleted      string          `json:"deleted"`
	First        json.RawMessage `json:"first"`
	Next         json.RawMessage `json:"next"`
	OrderedItems json.RawMessage `json:"orderedItems"`
	Items        json.RawMessage `json:"items"`
}

// isPlaylist reports whether types name our Playlist, in the compact
// form the context gives it or expanded.
func (t types) isPlaylist() bool {
	for _, s := range t {
		if s == "Playlist" || s == "nineten:Playlist" || s == ns+"Playlist" {
			return true
		}
	}
	return false
}

// preciseTime renders a time to the millisecond, as the store keeps it:
// changes made within one second are still told apart and ordered.
func preciseTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// when reads a timestamp, with or without fractions of a second; the zero
// time when there is none.
func when(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// truncate cuts s to at most n characters, dropping control characters.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// webLink keeps an http(s) URL of sane length, and drops anything else.
func webLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > remoteURLMaxLength {
		return ""
	}
	return s
}

// remoteItem reads a playlist item: an Audio object (9ten's, Funkwhale's)
// or a bare IRI, which shows as a link only. Anything else is no track.
func remoteItem(raw json.RawMessage) (nineten.RemoteItem, bool) {
	var iri string
	if json.Unmarshal(raw, &iri) == nil {
		iri = webLink(iri)
		return nineten.RemoteItem{IRI: iri}, iri != ""
	}
	var o object
	var extra struct {
		ArtistName string `json:"artistName"`
	}
	if json.Unmarshal(raw, &o) != nil || o.Type.main() != "Audio" || webLink(o.ID) == "" {
		return nineten.RemoteItem{}, false
	}
	_ = json.Unmarshal(raw, &extra)
	t := remoteTrack(&o)
	return nineten.RemoteItem{
		IRI: o.ID, Title: truncate(t.Title, maxCopiedTitle), Artist: truncate(extra.ArtistName, maxCopiedTitle),
		DurationMS: max(t.DurationMS, 0), HLSURL: webLink(t.HLSURL), PageURL: webLink(t.PageURL), CoverURL: webLink(t.CoverURL),
	}, true
}

// copiedItems reads the items of a remote playlist: given inline, in an
// embedded first page, or on pages fetched from the actor's server.
func (f *Service) copiedItems(ctx context.Context, actor string, pl *playlistJSON) ([]nineten.PlaylistItem, error) {
	var items []nineten.PlaylistItem
	seen := map[string]bool{}
	take := func(page *playlistJSON) {
		for _, data := range []json.RawMessage{page.OrderedItems, page.Items} {
			eachItem(data, func(raw json.RawMessage) {
				if r, ok := remoteItem(raw); ok && !seen[r.IRI] && len(items) < maxCopiedItems {
					seen[r.IRI] = true
					items = append(items, nineten.PlaylistItem{Remote: r})
				}
			})
		}
	}
	take(pl)
	next := idOf(pl.First)
	if first := strings.TrimSpace(string(pl.First)); strings.HasPrefix(first, "{") {
		var page playlistJSON
		if json.Unmarshal(pl.First, &page) == nil {
			take(&page)
			next = idOf(page.Next)
		}
	}
	for pages := 0; next != "" && len(items) < maxCopiedItems && pages < maxCopiedPages; pages++ {
		if !sameHost(next, actor) {
			break // pages live with the playlist, on the actor's server
		}
		var page playlistJSON
		if err := f.Client.GetJSON(ctx, next, "", f.signGET(ctx), &page); err != nil {
			return nil, nineten.E("federation.copiedItems", "cannot read the playlist "+pl.ID, err)
		}
		take(&page)
		next = idOf(page.Next)
	}
	return items, nil
}

// copyPlaylist keeps (or refreshes) the copy of a remote actor's public
// playlist, given as a document the actor sent or published.
func (f *Service) copyPlaylist(ctx context.Context, actor string, raw json.RawMessage) error {
	const op = "federation.copyPlaylist"
	var pl playlistJSON
	if err := json.Unmarshal(raw, &pl); err != nil || !pl.Type.isPlaylist() {
		return nineten.E(op, nineten.KindInvalid, "the object is not a playlist")
	}
	if pl.ID == "" || !sameHost(pl.ID, actor) || !pl.AttributedTo.has(actor) {
		return nineten.E(op, nineten.KindInvalid, "the playlist is not the actor's, on the actor's host")
	}
	// Only what someone here follows is kept.
	if followed, err := f.Store.Followed(ctx, actor); err != nil || !followed {
		return err
	}
	items, err := f.copiedItems(ctx, actor, &pl)
	if err != nil {
		return err
	}
	updated := when(cmp.Or(pl.Updated, pl.Published))
	if updated.IsZero() {
		updated = f.now()
	}
	return f.Store.WithTx(ctx, func(tx nineten.Store) error {
		p, err := tx.PlaylistByIRI(ctx, pl.ID)
		switch {
		case nineten.ErrorKind(err) == nineten.KindNotFound:
			p = &nineten.Playlist{IRI: pl.ID, Actor: actor, Public: true, CreatedAt: f.now()}
		case err != nil:
			return err
		case p.Actor != actor:
			return nineten.E(op, nineten.KindPermission, "the playlist is another actor's")
		case p.UpdatedAt.After(updated):
			return nil // an older version than the copy
		}
		p.Title, p.Description, p.UpdatedAt = truncate(pl.Name, maxCopiedTitle), truncate(plainText(pl.Summary), maxCopiedText), updated
		if p.ID == 0 {
			err = tx.CreatePlaylist(ctx, p)
		} else {
			err = tx.UpdatePlaylist(ctx, p)
		}
		if err != nil {
			return err
		}
		return tx.ReplacePlaylistItems(ctx, p.ID, items)
	})
}

// receivePlaylist acts on an activity about a playlist: Create and Update
// of a Playlist, Add and Remove with a copied playlist as target, Delete
// of a copied playlist. It reports false for every other activity, which
// the inbox handles as before.
func (f *Service) receivePlaylist(ctx context.Context, act *activity, body []byte) (bool, error) {
	const op = "federation.receivePlaylist"
	var env struct {
		Object json.RawMessage `json:"object"`
		Target json.RawMessage `json:"target"`
	}
	if json.Unmarshal(body, &env) != nil {
		return false, nil
	}
	if act.ID != "" && !sameHost(act.ID, act.Actor) {
		return false, nil // the inbox refuses it
	}
	switch act.Type {
	case "Create", "Update":
		var o struct {
			Type types `json:"type"`
		}
		if json.Unmarshal(env.Object, &o) != nil || !o.Type.isPlaylist() {
			return false, nil
		}
		return true, f.copyPlaylist(ctx, act.Actor, env.Object)
	case "Add", "Remove":
		copied, ok, err := f.copyOf(ctx, act.Actor, idOf(env.Target))
		if !ok || err != nil {
			return ok, err
		}
		var target playlistJSON
		_ = json.Unmarshal(env.Target, &target)
		at := when(target.Updated)
		if !at.IsZero() && copied.UpdatedAt.After(at) {
			return true, nil // the copy is newer than this change
		}
		item, ok := remoteItem(env.Object)
		if !ok {
			return true, nineten.E(op, nineten.KindInvalid, "the object is not a track")
		}
		err = f.Store.WithTx(ctx, func(tx nineten.Store) error {
			if act.Type == "Add" {
				err := tx.AddPlaylistItem(ctx, copied.ID, &nineten.PlaylistItem{Remote: item, AddedAt: f.now()})
				if nineten.ErrorKind(err) != nineten.KindConflict && err != nil {
					return err
				}
			} else {
				items, err := tx.PlaylistItems(ctx, copied.ID)
				if err != nil {
					return err
				}
				for _, it := range items {
					if it.Remote.IRI == item.IRI {
						if err := tx.RemovePlaylistItem(ctx, copied.ID, it.ID); err != nil {
							return err
						}
					}
				}
			}
			if at.After(copied.UpdatedAt) {
				copied.UpdatedAt = at
				return tx.UpdatePlaylist(ctx, copied)
			}
			return nil
		})
		return true, err
	case "Delete":
		var tomb playlistJSON
		_ = json.Unmarshal(env.Object, &tomb)
		copied, ok, err := f.copyOf(ctx, act.Actor, idOf(env.Object))
		if !ok || err != nil {
			return ok, err
		}
		if at := when(tomb.Deleted); !at.IsZero() && copied.UpdatedAt.After(at) {
			return true, nil // published again since
		}
		return true, f.Store.DeletePlaylist(ctx, copied.ID)
	}
	return false, nil
}

// copyOf returns the copy of the remote playlist iri. It reports false
// when there is none (the activity is not about one of ours to keep), and
// an error when the playlist is not actor's.
func (f *Service) copyOf(ctx context.Context, actor, iri string) (*nineten.Playlist, bool, error) {
	if iri == "" {
		return nil, false, nil
	}
	p, err := f.Store.PlaylistByIRI(ctx, iri)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if p.Actor != actor {
		return nil, true, nineten.E("federation.copyOf", nineten.KindPermission, iri+" is not a playlist of "+actor)
	}
	return p, true, nil
}

// importPlaylists queues the copying of an actor's public playlists, once
// a follow of theirs is accepted.
func (f *Service) importPlaylists(ctx context.Context, actor string) error {
	payload, _ := json.Marshal(map[string]string{"actor": actor})
	err := f.Store.Enqueue(ctx, &nineten.Job{Kind: JobImportPlaylists, Payload: payload, MaxAttempts: importAttempts, RunAt: f.now()})
	if err == nil && f.Enqueued != nil {
		f.Enqueued()
	}
	return err
}

// PlaylistImporter is the job handler that copies an actor's public
// playlists from their outbox.
type PlaylistImporter struct{ *Service }

// PlaylistImporter returns the handler for JobImportPlaylists.
func (f *Service) PlaylistImporter() PlaylistImporter { return PlaylistImporter{f} }

// Run reads the first pages of the actor's outbox and copies the
// playlists their Create activities publish.
func (h PlaylistImporter) Run(ctx context.Context, job *nineten.Job, _ func(int)) error {
	const op = "federation.ImportPlaylists"
	var in struct{ Actor string }
	if err := json.Unmarshal(job.Payload, &in); err != nil || in.Actor == "" {
		return nineten.E(op, nineten.KindInvalid, "bad import job", err)
	}
	actor, err := h.RemoteActor(ctx, in.Actor, false)
	if err != nil {
		return nineten.E(op, err)
	}
	if actor.Outbox == "" || !sameHost(actor.Outbox, actor.IRI) {
		return nil
	}
	var page outboxPage
	if err := h.Client.GetJSON(ctx, actor.Outbox, "", h.signGET(ctx), &page); err != nil {
		return nineten.E(op, "cannot read the outbox of "+actor.IRI, err)
	}
	next, copied := idOf(page.First), 0
	if first := strings.TrimSpace(string(page.First)); strings.HasPrefix(first, "{") {
		var p outboxPage
		_ = json.Unmarshal(page.First, &p)
		page, next = p, idOf(p.Next)
	}
	for pages := 0; ; pages++ {
		for _, raw := range append(page.OrderedItems, page.Items...) {
			var act struct {
				Type   types           `json:"type"`
				Object json.RawMessage `json:"object"`
			}
			if json.Unmarshal(raw, &act) != nil || act.Type.main() != "Create" || copied >= maxBackfillLists {
				continue
			}
			var o struct {
				Type types `json:"type"`
			}
			if json.Unmarshal(act.Object, &o) != nil || !o.Type.isPlaylist() {
				continue
			}
			if err := h.copyPlaylist(ctx, actor.IRI, act.Object); err != nil {
				if k := nineten.ErrorKind(err); k != nineten.KindInvalid && k != nineten.KindPermission {
					return err
				}
				h.Log.DebugContext(ctx, "skipped a playlist of an outbox", "actor", actor.IRI, "err", err)
			}
			copied++
		}
		if next == "" || !sameHost(next, actor.IRI) || pages+1 >= maxBackfillPages || copied >= maxBackfillLists {
			return nil
		}
		page = outboxPage{}
		if err := h.Client.GetJSON(ctx, next, "", h.signGET(ctx), &page); err != nil {
			return nineten.E(op, "cannot read the outbox of "+actor.IRI, err)
		}
		next = idOf(page.Next)
	}
}

// GiveUp logs an import that will not be tried again.
func (h PlaylistImporter) GiveUp(ctx context.Context, job *nineten.Job, err error) {
	h.Log.WarnContext(ctx, "gave up copying an actor's playlists", "job", job.ID, "err", err)
}

// ResolveTrack looks up a track of another server by its ActivityPub id,
// for a listener adding it to a playlist: what the playlist shows of it
// is what that server publishes.
func (f *Service) ResolveTrack(ctx context.Context, iri string) (*nineten.RemoteItem, error) {
	const op = "federation.ResolveTrack"
	if strings.HasPrefix(iri, f.url("/")) {
		return nil, nineten.E(op, nineten.KindInvalid, "that track is on this node: add it from its page here")
	}
	if f.blocked(ctx, iri) {
		return nil, errBlocked(op, iri)
	}
	var raw json.RawMessage
	if err := f.Client.GetJSON(ctx, iri, "", f.signGET(ctx), &raw); err != nil {
		return nil, nineten.E(op, "cannot fetch "+iri, err)
	}
	item, ok := remoteItem(raw)
	if !ok || item.IRI != iri || item.Title == "" && item.HLSURL == "" {
		return nil, nineten.E(op, nineten.KindNotFound, iri+" is not a track")
	}
	if item.Artist == "" {
		var o object
		_ = json.Unmarshal(raw, &o)
		if by := o.AttributedTo.first(); by != "" && sameHost(by, iri) {
			if a, err := f.RemoteActor(ctx, by, false); err == nil {
				item.Artist = truncate(cmp.Or(a.Name, a.Handle), maxCopiedTitle)
			}
		}
	}
	return &item, nil
}

// RemotePlaylists lists the copies of the playlists that the actors u
// follows published.
func (f *Service) RemotePlaylists(ctx context.Context, u *nineten.User, p nineten.Page) ([]nineten.Playlist, int, error) {
	return f.Store.ListPlaylists(ctx, nineten.PlaylistFilter{Follower: userActorName(u)}, p)
}

// RemotePlaylist returns the copy of a playlist of an actor u follows.
func (f *Service) RemotePlaylist(ctx context.Context, u *nineten.User, id nineten.ID) (*nineten.Playlist, []nineten.PlaylistItem, error) {
	const op = "federation.RemotePlaylist"
	p, err := f.Store.PlaylistByID(ctx, id)
	if err != nil || p.Local() {
		return nil, nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("remote playlist %d does not exist", id))
	}
	follows, err := f.Store.Follows(ctx, userActorName(u), false)
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	if !slices.ContainsFunc(follows, func(fw nineten.Follow) bool { return fw.Remote == p.Actor && fw.State == nineten.FollowAccepted }) {
		return nil, nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("remote playlist %d does not exist", id))
	}
	items, err := f.Store.PlaylistItems(ctx, id)
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	return p, items, nil
}
