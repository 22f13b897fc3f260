package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// outboxPage is an OrderedCollection or one of its pages. Items are read
// one by one, so that items of other shapes (PeerTube's Announces and
// GoToSocial's Creates give their object by IRI) are skipped rather than
// failing the page.
type outboxPage struct {
	First        json.RawMessage   `json:"first"`
	Next         json.RawMessage   `json:"next"`
	OrderedItems []json.RawMessage `json:"orderedItems"`
	Items        []json.RawMessage `json:"items"`
}

// outboxItem is an activity of an outbox.
type outboxItem struct {
	Type   types  `json:"type"`
	Object object `json:"object"`
}

func (p *outboxPage) activities() []outboxItem {
	var out []outboxItem
	for _, raw := range append(p.OrderedItems, p.Items...) {
		var it outboxItem
		if json.Unmarshal(raw, &it) == nil {
			out = append(out, it)
		}
	}
	return out
}

// Catalogue reads the tracks an actor published from its outbox: the
// Audio objects of its Create activities, newest first, as 9ten, Funkwhale
// and PeerTube-like servers publish them.
func (f *Service) Catalogue(ctx context.Context, handle string, limit int) (*nineten.RemoteActor, []nineten.RemoteTrack, error) {
	const op = "federation.Catalogue"
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	iri, err := f.resolve(ctx, handle)
	if err != nil {
		return nil, nil, err
	}
	actor, err := f.RemoteActor(ctx, iri, false)
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	if actor.Outbox == "" || !sameHost(actor.Outbox, iri) {
		return actor, []nineten.RemoteTrack{}, nil
	}
	var page outboxPage
	if err := f.Client.GetJSON(ctx, actor.Outbox, "", f.signGET(ctx), &page); err != nil {
		return nil, nil, nineten.E(op, "cannot read the catalogue of "+handle, err)
	}
	next := idOf(page.First)
	tracks := []nineten.RemoteTrack{}
	// A few pages at most: a catalogue read must not turn into a crawl.
	for pages := 0; len(tracks) < limit && pages < 10; pages++ {
		for _, it := range page.activities() {
			if it.Type.main() == "Create" && it.Object.Type.main() == "Audio" && sameHost(it.Object.ID, iri) && it.Object.AttributedTo.has(iri) {
				tracks = append(tracks, remoteTrack(&it.Object))
			}
		}
		if next == "" || !sameHost(next, iri) || len(tracks) >= limit {
			break
		}
		page = outboxPage{}
		if err := f.Client.GetJSON(ctx, next, "", f.signGET(ctx), &page); err != nil {
			return nil, nil, nineten.E(op, "cannot read the catalogue of "+handle, err)
		}
		next = idOf(page.Next)
	}
	return actor, tracks[:min(len(tracks), limit)], nil
}

// remoteTrack reads a track from an Audio object: 9ten's (url Links to
// the page, HLS and the original), or Funkwhale's (a Link to the file,
// the title and album in its Track).
func remoteTrack(o *object) nineten.RemoteTrack {
	t := nineten.RemoteTrack{IRI: o.ID, Title: o.Name, Album: o.Album.Name, Genre: o.Genre, DurationMS: parseDuration(o.Duration)}
	if title, album := o.funkwhaleTrack(); title != "" {
		t.Title = title
		if t.Album == "" {
			t.Album = album
		}
	}
	if len(o.Icon) > 0 {
		t.CoverURL = o.Icon[0].Href
	}
	t.Published, _ = time.Parse(time.RFC3339, o.Published)
	for _, l := range o.URL {
		mt, _, _ := strings.Cut(l.MediaType, ";")
		switch {
		case !sameHost(l.Href, o.ID):
			// Media on another host than the object is not followed.
		case mt == "text/html" && t.PageURL == "":
			t.PageURL = l.Href
		case (mt == "application/vnd.apple.mpegurl" || strings.EqualFold(mt, "application/x-mpegURL")) && t.HLSURL == "":
			t.HLSURL = l.Href
		case strings.HasPrefix(mt, "audio/") && t.OriginalURL == "":
			t.OriginalURL = l.Href
		}
	}
	return t
}

// parseDuration reads an xsd:duration ("PT245S", "PT4M5S", "PT4M5.5S") or
// the integer seconds Funkwhale 1.x sends, in milliseconds.
func parseDuration(raw json.RawMessage) int64 {
	var secs int64
	if json.Unmarshal(raw, &secs) == nil {
		return secs * 1000
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || !strings.HasPrefix(s, "PT") {
		return 0
	}
	var ms int64
	num := ""
	for _, c := range s[2:] {
		switch {
		case c >= '0' && c <= '9' || c == '.':
			num += string(c)
		default:
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0
			}
			unit := map[rune]int64{'H': 3_600_000, 'M': 60_000, 'S': 1000}[c]
			ms += int64(v * float64(unit))
			num = ""
		}
	}
	return ms
}

// PlayableTrack looks up a track of another server by its ActivityPub id
// for a listener here who plays it through this node: what it is, where
// it streams, and whom its plays pay. The payee is taken only in the form
// "<the track's host>/<id>": a server names accounts of its own artists,
// never another server's, and statements go to the host it names.
func (f *Service) PlayableTrack(ctx context.Context, iri string) (*nineten.RemoteTrack, error) {
	const op = "federation.PlayableTrack"
	if strings.HasPrefix(iri, f.url("/")) {
		return nil, nineten.E(op, nineten.KindInvalid, "that track is on this node: play it from its page here")
	}
	if f.blocked(ctx, iri) {
		return nil, errBlocked(op, iri)
	}
	var o object
	if err := f.Client.GetJSON(ctx, iri, "", f.signGET(ctx), &o); err != nil {
		return nil, nineten.E(op, "cannot fetch "+iri, err)
	}
	if o.ID != iri || o.Type.main() != "Audio" {
		return nil, nineten.E(op, nineten.KindNotFound, iri+" is not a track")
	}
	t := remoteTrack(&o)
	if by := o.AttributedTo.first(); by != "" && sameHost(by, iri) {
		t.ArtistIRI = by
		if a, err := f.RemoteActor(ctx, by, false); err == nil {
			t.ArtistName = cmp.Or(a.Name, a.Handle)
		}
	}
	u, _ := url.Parse(iri)
	if node, id, ok := strings.Cut(o.LedgerAccount, "/"); ok && strings.EqualFold(node, u.Host) && ledgerID(node) && ledgerID(id) {
		t.Payee = o.LedgerAccount
	}
	return &t, nil
}

// ledgerID reports whether s can name a node or an artist on the ledger
// (1–128 characters from A–Z a–z 0–9 . _ ~ @ : + -): a payee that cannot
// would make the month's settlement fail for everyone.
func ledgerID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._~@:+-", c) >= 0) {
			return false
		}
	}
	return true
}
