package federation

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// audioObject is the part of a published Audio object the catalogue uses.
type audioObject struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	Duration  json.RawMessage `json:"duration"`
	Genre     string          `json:"genre"`
	Published string          `json:"published"`
	URL       json.RawMessage `json:"url"`
	Album     struct {
		Name string `json:"name"`
	} `json:"album"`
	Icon struct {
		URL string `json:"url"`
	} `json:"icon"`
	AttributedTo string `json:"attributedTo"`
}

// outboxPage is an OrderedCollection or one of its pages.
type outboxPage struct {
	First        json.RawMessage `json:"first"`
	Next         string          `json:"next"`
	OrderedItems []struct {
		Type   string      `json:"type"`
		Object audioObject `json:"object"`
	} `json:"orderedItems"`
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
	next := firstPage(page.First)
	tracks := []nineten.RemoteTrack{}
	// A few pages at most: a catalogue read must not turn into a crawl.
	for pages := 0; len(tracks) < limit && pages < 10; pages++ {
		for _, it := range page.OrderedItems {
			if it.Type == "Create" && it.Object.Type == "Audio" && sameHost(it.Object.ID, iri) && it.Object.AttributedTo == iri {
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
		next = page.Next
	}
	return actor, tracks[:min(len(tracks), limit)], nil
}

// firstPage reads a collection's first page, given as an IRI or embedded.
func firstPage(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

func remoteTrack(o *audioObject) nineten.RemoteTrack {
	t := nineten.RemoteTrack{IRI: o.ID, Title: o.Name, Album: o.Album.Name, Genre: o.Genre, CoverURL: o.Icon.URL, DurationMS: parseDuration(o.Duration)}
	t.Published, _ = time.Parse(time.RFC3339, o.Published)
	var links []struct{ Href, MediaType string }
	_ = json.Unmarshal(o.URL, &links)
	for _, l := range links {
		switch {
		case !sameHost(l.Href, o.ID):
			// Media on another host than the object is not followed.
		case l.MediaType == "text/html" && t.PageURL == "":
			t.PageURL = l.Href
		case (l.MediaType == "application/vnd.apple.mpegurl" || l.MediaType == "application/x-mpegURL") && t.HLSURL == "":
			t.HLSURL = l.Href
		case strings.HasPrefix(l.MediaType, "audio/") && t.OriginalURL == "":
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
