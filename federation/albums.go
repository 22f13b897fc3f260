package federation

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	nineten "nineten.dev"
)

// albumIRI is the ActivityPub id of an album.
func (f *Service) albumIRI(id nineten.ID) string { return f.url(fmt.Sprintf("/albums/%d", id)) }

// album serves an album as an OrderedCollection of its tracks' Audio
// objects (by id, in track order), typed also as our Album so that music
// servers know what it is while others still read a collection.
func (f *Service) album(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		problem(w, r, http.StatusNotFound, "no such album")
		return
	}
	al, err := f.Store.AlbumByID(r.Context(), nineten.ID(id))
	if err != nil {
		problem(w, r, http.StatusNotFound, "no such album")
		return
	}
	if !wantsActivity(r) {
		redirectToApp(w, r, fmt.Sprintf("/app/albums/%d", al.ID))
		return
	}
	doc, err := f.albumDoc(r.Context(), al)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	doc["@context"] = contexts
	writeActivity(w, doc)
}

// albumDoc renders an album as its collection of tracks.
func (f *Service) albumDoc(ctx context.Context, al *nineten.Album) (map[string]any, error) {
	artist, err := f.Store.ArtistByID(ctx, al.ArtistID)
	if err != nil {
		return nil, err
	}
	// An album holds tens of tracks: one page lists them all.
	tracks, _, err := f.Store.ListTracks(ctx, nineten.TrackFilter{AlbumID: al.ID}, nineten.Page{Limit: 500})
	if err != nil {
		return nil, err
	}
	items := []string{}
	for _, t := range tracks {
		if t.Visible() {
			items = append(items, f.url(fmt.Sprintf("/tracks/%d", t.ID)))
		}
	}
	artistID := f.url("/artists/" + artist.Slug)
	doc := map[string]any{
		"id":           f.albumIRI(al.ID),
		"type":         []string{"OrderedCollection", "Album"},
		"name":         al.Title,
		"attributedTo": artistID,
		"artist":       artistID,
		"published":    timestamp(al.CreatedAt),
		"url":          f.url(fmt.Sprintf("/app/albums/%d", al.ID)),
		"to":           []string{public},
		"cc":           []string{artistID + "/followers"},
		"totalItems":   len(items),
		"orderedItems": items,
	}
	if al.Year > 0 {
		doc["year"] = al.Year
	}
	if al.Genre != "" {
		doc["genre"] = al.Genre
	}
	if al.CoverKey != "" {
		doc["icon"] = map[string]any{"type": "Image", "mediaType": "image/jpeg", "url": f.url(fmt.Sprintf("/media/albums/%d/cover-600.jpg", al.ID))}
	}
	return doc, nil
}

// AlbumChanged tells an artist's followers that an album was edited (its
// title, year, genre or cover), as an Update of its collection.
func (f *Service) AlbumChanged(ctx context.Context, al *nineten.Album) {
	if err := f.albumChanged(ctx, al); err != nil {
		f.Log.WarnContext(ctx, "telling followers about an album change failed", "album", al.ID, "err", err)
	}
}

func (f *Service) albumChanged(ctx context.Context, al *nineten.Album) error {
	a, err := f.Store.ArtistByID(ctx, al.ArtistID)
	if err != nil {
		return err
	}
	inboxes, err := f.followerInboxes(ctx, artistActorName(a))
	if err != nil || len(inboxes) == 0 {
		return err
	}
	doc, err := f.albumDoc(ctx, al)
	if err != nil {
		return err
	}
	act := map[string]any{
		"@context": contexts, "type": "Update", "id": fmt.Sprintf("%s/updates/%d", doc["id"], f.now().UnixMilli()),
		"actor": doc["attributedTo"], "to": doc["to"], "cc": doc["cc"], "object": doc,
	}
	return f.deliver(ctx, artistActorName(a), act, inboxes...)
}
