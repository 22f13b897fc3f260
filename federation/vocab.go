package federation

import (
	"crypto/ed25519"
	"fmt"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

const (
	asContext       = "https://www.w3.org/ns/activitystreams"
	securityContext = "https://w3id.org/security/v1"
	multikeyContext = "https://w3id.org/security/multikey/v1"
	public          = asContext + "#Public"
	// ns is the IRI namespace of 9ten's own terms. Like Mastodon's
	// "http://joinmastodon.org/ns#", it names terms; every node serves the
	// context document at /ns/9ten.jsonld and objects carry it inline.
	ns = "https://9ten.org/ns#"
)

// terms are the JSON-LD term definitions of our extensions. StreamActivity
// (live audio) is reserved for the activity that comes with that feature;
// Subscription is a listener's paid subscription (subscriptions.go).
var terms = map[string]any{
	"nineten":         ns,
	"AudioTrack":      "nineten:AudioTrack",
	"Album":           "nineten:Album",
	"Playlist":        "nineten:Playlist",
	"StreamActivity":  "nineten:StreamActivity",
	"Subscription":    "nineten:Subscription",
	"status":          "nineten:status",
	"paidThrough":     "nineten:paidThrough",
	"actorKind":       "nineten:actorKind",
	"artist":          map[string]any{"@id": "nineten:artist", "@type": "@id"},
	"album":           map[string]any{"@id": "nineten:album", "@type": "@id"},
	"trackNumber":     map[string]any{"@id": "nineten:trackNumber", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
	"year":            map[string]any{"@id": "nineten:year", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
	"genre":           "nineten:genre",
	"artistName":      "nineten:artistName",
	"waveform":        map[string]any{"@id": "nineten:waveform", "@type": "@id"},
	"ledgerAccount":   "nineten:ledgerAccount",
	"reportRecipient": "nineten:reportRecipient",
	"reportSigner":    "nineten:reportSigner",
	"cluster":         "nineten:cluster",
	// Settlement statements between nodes (statements.go).
	"SettlementStatement": "nineten:SettlementStatement",
	"period":              "nineten:period",
	"payer":               "nineten:payer",
	"payee":               "nineten:payee",
	"unit":                "nineten:unit",
	"total":               map[string]any{"@id": "nineten:total", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
	"lines":               map[string]any{"@id": "nineten:lines", "@container": "@list"},
	"amount":              map[string]any{"@id": "nineten:amount", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
	"paid":                "nineten:paid",
	"settlement":          "nineten:settlement",
	"ledger":              "nineten:ledger",
	"operation":           "nineten:operation",
	"transactions":        "nineten:transactions",
	"statementDigest":     "nineten:statementDigest",
	"payTo":               "nineten:payTo",
	"wallet":              "nineten:wallet",
	// Peer review of monthly reports (reviews.go).
	"MonthlyReport":             "nineten:MonthlyReport",
	"ReportAttestation":         "nineten:ReportAttestation",
	"month":                     "nineten:month",
	"node":                      "nineten:node",
	"hash":                      "nineten:hash",
	"digest":                    "nineten:digest",
	"dailies":                   map[string]any{"@id": "nineten:dailies", "@container": "@list"},
	"payoutDigest":              "nineten:payoutDigest",
	"reportHash":                "nineten:reportHash",
	"verdict":                   "nineten:verdict",
	"findings":                  "nineten:findings",
	"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
	"discoverable":              "http://joinmastodon.org/ns#discoverable",
}

// contexts is the @context of everything the node publishes.
var contexts = []any{asContext, securityContext, multikeyContext, terms}

// duration renders milliseconds as an xsd:duration in whole seconds,
// the form PeerTube and Funkwhale parse ("PT245S").
func duration(ms int64) string { return fmt.Sprintf("PT%dS", (ms+500)/1000) }

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// actor names for the key store.
func userActorName(u *nineten.User) string     { return fmt.Sprintf("user:%d", u.ID) }
func artistActorName(a *nineten.Artist) string { return fmt.Sprintf("artist:%d", a.ID) }

const nodeActorName = "node"

// actorDoc renders an actor: kind is "node", "listener" or "artist".
func (f *Service) actorDoc(id, typ, kind, username, name, summary, htmlURL string, published time.Time, k *Keypair) map[string]any {
	doc := map[string]any{
		"@context":          contexts,
		"id":                id,
		"type":              typ,
		"actorKind":         kind,
		"preferredUsername": username,
		"name":              name,
		"summary":           summary,
		"url":               htmlURL,
		"inbox":             id + "/inbox",
		"outbox":            id + "/outbox",
		"followers":         id + "/followers",
		"following":         id + "/following",
		"endpoints":         map[string]any{"sharedInbox": f.url("/inbox")},
		"publicKey": map[string]any{
			"id":           id + "#main-key",
			"owner":        id,
			"publicKeyPem": publicKeyPEM(k.RSA),
		},
		"assertionMethod": []any{map[string]any{
			"id":                 id + "#ed25519-key",
			"type":               "Multikey",
			"controller":         id,
			"publicKeyMultibase": multikey(k.Ed25519.Public().(ed25519.PublicKey)),
		}},
		"manuallyApprovesFollowers": false,
		"discoverable":              true,
	}
	if !published.IsZero() {
		doc["published"] = timestamp(published)
	}
	return doc
}

// pictures puts an actor's avatar and header (blob keys, "" for none) on
// its document as Mastodon and GoToSocial read them: icon and image, each an
// Image with url and mediaType.
func (f *Service) pictures(doc map[string]any, avatar, header string) {
	for prop, key := range map[string]string{"icon": avatar, "image": header} {
		if key == "" {
			continue
		}
		doc[prop] = map[string]any{"type": "Image", "mediaType": pictureType(key), "url": f.url("/media/" + key)}
	}
}

// pictureType is the media type of a stored profile picture.
func pictureType(key string) string {
	if strings.HasSuffix(key, ".png") {
		return "image/png"
	}
	return "image/jpeg"
}

// trackObject renders a ready track as an Audio object with our terms.
func (f *Service) trackObject(t *nineten.Track, artist *nineten.Artist) map[string]any {
	media := f.url(fmt.Sprintf("/media/tracks/%d", t.ID))
	artistID := f.url("/artists/" + artist.Slug)
	obj := map[string]any{
		"id":           f.url(fmt.Sprintf("/tracks/%d", t.ID)),
		"type":         "Audio",
		"name":         t.Title,
		"attributedTo": artistID,
		"artist":       artistID,
		"published":    timestamp(t.CreatedAt),
		"updated":      timestamp(t.UpdatedAt),
		"duration":     duration(t.DurationMS),
		"to":           []string{public},
		"cc":           []string{artistID + "/followers"},
		"url": []any{
			// The web page first: Mastodon and others link the first text/html Link.
			map[string]any{"type": "Link", "mediaType": "text/html", "href": f.url(fmt.Sprintf("/app/tracks/%d", t.ID))},
			map[string]any{"type": "Link", "mediaType": "application/vnd.apple.mpegurl", "href": media + "/hls/master.m3u8"},
			map[string]any{"type": "Link", "mediaType": t.Original.MIMEType, "href": media + "/original", "size": t.Original.Size},
			map[string]any{"type": "Link", "mediaType": "audio/mpeg", "name": "preview", "href": media + "/hls/preview.mp3"},
		},
		"waveform": media + "/waveform.json",
	}
	if t.TrackNumber > 0 {
		obj["trackNumber"] = t.TrackNumber
	}
	if t.Year > 0 {
		obj["year"] = t.Year
	}
	if t.Genre != "" {
		obj["genre"] = t.Genre
	}
	if t.AlbumID != 0 {
		obj["album"] = map[string]any{"id": f.albumIRI(t.AlbumID), "type": "Album", "name": t.AlbumTitle}
	}
	if t.CoverKey != "" {
		obj["icon"] = map[string]any{"type": "Image", "mediaType": "image/jpeg", "url": media + "/cover-600.jpg"}
	}
	if f.LedgerNode != "" {
		// Whom plays of the track pay: the artist's account on the ledger,
		// for nodes whose listeners play it (see listen/remote.go).
		obj["ledgerAccount"] = f.LedgerNode + "/" + strconv.FormatInt(int64(artist.ID), 10)
	}
	return obj
}
