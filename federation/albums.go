package federation

import (
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
	artist, err := f.Store.ArtistByID(r.Context(), al.ArtistID)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	// An album holds tens of tracks: one page lists them all.
	tracks, _, err := f.Store.ListTracks(r.Context(), nineten.TrackFilter{AlbumID: al.ID}, nineten.Page{Limit: 500})
	if err != nil {
		f.fail(w, r, err)
		return
	}
	items := []string{}
	for _, t := range tracks {
		if t.Visible() {
			items = append(items, f.url(fmt.Sprintf("/tracks/%d", t.ID)))
		}
	}
	artistID := f.url("/artists/" + artist.Slug)
	doc := map[string]any{
		"@context":     contexts,
		"id":           f.albumIRI(al.ID),
		"type":         []string{"OrderedCollection", "Album"},
		"name":         al.Title,
		"attributedTo": artistID,
		"artist":       artistID,
		"published":    timestamp(al.CreatedAt),
		"url":          f.url(fmt.Sprintf("/app/albums/%d", al.ID)),
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
	writeActivity(w, doc)
}
