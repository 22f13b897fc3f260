package federation

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// What other servers send is looser than one Go type per property: in
// ActivityStreams almost any property may hold one value or an array of
// them ("type": ["Person", "vcard:individual"]), an object may be given
// by its IRI or embedded, a link may be a bare URL or a Link object, and
// servers differ in which form they choose (Funkwhale sends one Link
// where others send an array; PeerTube an array of icons where others
// send one). encoding/json fails a whole document at the first property
// of an unexpected shape, so the types below read every form these
// servers use, and a value of a shape no server uses reads as nothing
// rather than as an error.

// eachItem calls item for the one value data holds, or for each element
// when it is an array; null is no value.
func eachItem(data []byte, item func(json.RawMessage)) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
	case data[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(data, &items) == nil {
			for _, it := range items {
				item(it)
			}
		}
	default:
		item(data)
	}
}

// types are an object's types, the ActivityStreams one first as servers
// write them.
type types []string

func (t *types) UnmarshalJSON(data []byte) error {
	*t = nil
	eachItem(data, func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			*t = append(*t, s)
		}
	})
	return nil
}

// main is the type that says what an object is for 9ten.
func (t types) main() string {
	if len(t) == 0 {
		return ""
	}
	return t[0]
}

// iris are objects given by IRI or embedded; only their ids are kept.
type iris []string

func (i *iris) UnmarshalJSON(data []byte) error {
	*i = nil
	eachItem(data, func(raw json.RawMessage) {
		if id := idOf(raw); id != "" {
			*i = append(*i, id)
		}
	})
	return nil
}

func (i iris) first() string {
	if len(i) == 0 {
		return ""
	}
	return i[0]
}

func (i iris) has(iri string) bool {
	for _, s := range i {
		if s == iri {
			return true
		}
	}
	return false
}

// idOf reads an IRI, or the id of an embedded object.
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &o) == nil && json.Unmarshal(o.ID, &s) == nil {
		return s
	}
	return ""
}

// link is a URL and what it points to.
type link struct {
	Href, MediaType, Name string
}

// links are the values of url, icon or image: bare URLs, Link objects
// (media type in mediaType, or in mimeType as Funkwhale and older PeerTube
// wrote it) or Image objects, whose url is itself a URL or links.
type links []link

func (l *links) UnmarshalJSON(data []byte) error {
	*l = nil
	eachItem(data, func(raw json.RawMessage) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s != "" {
				*l = append(*l, link{Href: s})
			}
			return
		}
		var o struct {
			Href      string          `json:"href"`
			URL       json.RawMessage `json:"url"`
			MediaType string          `json:"mediaType"`
			MimeType  string          `json:"mimeType"`
			Name      string          `json:"name"`
		}
		if json.Unmarshal(raw, &o) != nil {
			return
		}
		k := link{Href: o.Href, MediaType: o.MediaType, Name: o.Name}
		if k.MediaType == "" {
			k.MediaType = o.MimeType
		}
		if k.Href == "" && o.URL != nil {
			var inner links
			_ = inner.UnmarshalJSON(o.URL)
			if len(inner) > 0 {
				k.Href = inner[0].Href
				if k.MediaType == "" {
					k.MediaType = inner[0].MediaType
				}
			}
		}
		if k.Href != "" {
			*l = append(*l, k)
		}
	})
	return nil
}

// page is the web page among links: the first text/html one, or the
// first without a media type (a bare URL), as Mastodon picks it.
func (l links) page() string {
	for _, k := range l {
		if mt, _, _ := strings.Cut(k.MediaType, ";"); mt == "text/html" || mt == "" {
			return k.Href
		}
	}
	return ""
}

// picture is the URL of the first picture among links (an actor's icon or
// image): http or https only, anything else is no picture.
func (l links) picture() string {
	for _, k := range l {
		if mt, _, _ := strings.Cut(k.MediaType, ";"); mt != "" && !strings.HasPrefix(mt, "image/") {
			continue
		}
		if u, err := url.Parse(k.Href); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(k.Href) <= 2048 {
			return k.Href
		}
	}
	return ""
}

// object is the part of an ActivityStreams object 9ten reads: of a Note,
// a 9ten or Funkwhale Audio, a PeerTube Video, a Tombstone. An object
// given by its IRI reads as its id alone.
type object struct {
	ID           string          `json:"id"`
	Type         types           `json:"type"`
	Name         string          `json:"name"`
	Summary      string          `json:"summary"`
	Content      string          `json:"content"`
	URL          links           `json:"url"`
	Published    string          `json:"published"`
	AttributedTo iris            `json:"attributedTo"`
	Attachment   attachments     `json:"attachment"`
	Icon         links           `json:"icon"`
	Duration     json.RawMessage `json:"duration"`
	Genre        string          `json:"genre"`
	// Album is 9ten's album of an Audio; Funkwhale's is in its Track.
	Album named `json:"album"`
	// Track is, on a 9ten Note, the IRI of its Audio object and, on a
	// Funkwhale Audio, the Track object the upload is a file of.
	Track json.RawMessage `json:"track"`
	// LedgerAccount is, on a 9ten Audio, whom its plays pay: the artist's
	// account on the ledger, "<node>/<artist id>".
	LedgerAccount string `json:"ledgerAccount"`
}

func (o *object) UnmarshalJSON(data []byte) error {
	var iri string
	if json.Unmarshal(data, &iri) == nil {
		*o = object{ID: iri}
		return nil
	}
	type plain object // without this method, so no recursion
	var p plain
	// A property of an unexpected shape leaves that one property empty.
	_ = json.Unmarshal(data, &p)
	*o = object(p)
	return nil
}

// named is an object of which only the name matters, given embedded or
// by IRI (then nameless).
type named struct{ Name string }

func (n *named) UnmarshalJSON(data []byte) error {
	var o struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(data, &o) == nil {
		n.Name = o.Name
	}
	return nil
}

// funkwhaleTrack is the Track a Funkwhale Audio (an upload) belongs to.
func (o *object) funkwhaleTrack() (title, album string) {
	var t struct {
		Name  string `json:"name"`
		Album named  `json:"album"`
	}
	if json.Unmarshal(o.Track, &t) == nil {
		return t.Name, t.Album.Name
	}
	return "", ""
}

// attachment is a media attachment of a post (an Image, Audio, Video or
// Document with a media type), or another kind of attachment such as the
// PropertyValue fields of a profile.
type attachment struct {
	Type      types           `json:"type"`
	MediaType string          `json:"mediaType"`
	URL       links           `json:"url"`
	Name      string          `json:"name"`
	Duration  json.RawMessage `json:"duration"`
}

type attachments []attachment

func (a *attachments) UnmarshalJSON(data []byte) error {
	*a = nil
	eachItem(data, func(raw json.RawMessage) {
		var at attachment
		if json.Unmarshal(raw, &at) == nil {
			*a = append(*a, at)
		}
	})
	return nil
}

// mediaType is the attachment's media type, else its link's.
func (a attachment) mediaType() string {
	if a.MediaType != "" {
		return a.MediaType
	}
	if len(a.URL) > 0 {
		return a.URL[0].MediaType
	}
	return ""
}

// audio reports whether the attachment is sound: an Audio, or a Document
// (as Mastodon sends every file) with an audio media type.
func (a attachment) audio() bool {
	return a.Type.main() == "Audio" || strings.HasPrefix(a.mediaType(), "audio/")
}

// firstAudio is the first audio attachment, if any.
func (o *object) firstAudio() (attachment, bool) {
	for _, a := range o.Attachment {
		if a.audio() && len(a.URL) > 0 {
			return a, true
		}
	}
	return attachment{}, false
}
