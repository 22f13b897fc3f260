package e2e_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

const asAccept = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

func (c *client) activity(path string) map[string]any {
	c.t.Helper()
	r := c.do("GET", path, nil, http.Header{"Accept": {asAccept}})
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/activity+json" {
		c.t.Fatalf("GET %s as ActivityStreams: %d %q\n%s", path, r.StatusCode, r.Header.Get("Content-Type"), r.Body)
	}
	var v map[string]any
	r.decode(c.t, &v)
	return v
}

// TestFediverseCanFindAndReadTheNode checks discovery as remote servers do
// it: WebFinger, the actor documents with their keys, NodeInfo and a
// track as an Audio object, with browsers sent to the web app instead.
func TestFediverseCanFindAndReadTheNode(t *testing.T) {
	node := nodetest.Start(t)
	host := strings.TrimPrefix(node.URL, "http://")
	artist, artistID := signupArtist(t, node.URL, "fedi", "Fedi Verse")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "f.flac", Seconds: 3, Title: "Hello Fediverse", Genre: "Folk", Cover: true})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	tr := artist.waitTrack(up.Track.ID)
	anon := newClient(t, node.URL)
	anon.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	var jrd struct {
		Subject string
		Links   []struct{ Rel, Type, Href string }
	}
	anon.must(anon.do("GET", "/.well-known/webfinger?resource="+url.QueryEscape("acct:fedi-verse@"+host), nil, nil), 200, &jrd)
	self := ""
	for _, l := range jrd.Links {
		if l.Rel == "self" && l.Type == "application/activity+json" {
			self = l.Href
		}
	}
	if jrd.Subject != "acct:fedi-verse@"+host || self != node.URL+"/artists/fedi-verse" {
		t.Fatalf("webfinger for the artist: %+v", jrd)
	}
	anon.must(anon.do("GET", "/.well-known/webfinger?resource="+url.QueryEscape("acct:fedi@"+host), nil, nil), 200, &jrd)
	if jrd.Links[0].Href != node.URL+"/users/fedi" {
		t.Errorf("webfinger for the user: %+v", jrd)
	}
	for _, res := range []string{"acct:nobody@" + host, "acct:fedi@elsewhere.example"} {
		r := anon.do("GET", "/.well-known/webfinger?resource="+url.QueryEscape(res), nil, nil)
		if r.StatusCode != 404 {
			t.Errorf("webfinger %s answered %d", res, r.StatusCode)
		}
		r.problem(t)
	}

	actor := anon.activity("/artists/fedi-verse")
	if actor["id"] != self || actor["type"] != "Person" || actor["preferredUsername"] != "fedi-verse" || actor["name"] != "Fedi Verse" || actor["inbox"] != self+"/inbox" {
		t.Errorf("artist actor: %v", actor)
	}
	pub := actor["publicKey"].(map[string]any)
	block, _ := pem.Decode([]byte(pub["publicKeyPem"].(string)))
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if _, ok := key.(*rsa.PublicKey); err != nil || !ok || pub["id"] != self+"#main-key" || pub["owner"] != self {
		t.Errorf("publicKey %v: %v", pub, err)
	}
	mk := actor["assertionMethod"].([]any)[0].(map[string]any)
	if mk["type"] != "Multikey" || mk["controller"] != self || !strings.HasPrefix(mk["publicKeyMultibase"].(string), "z6Mk") {
		t.Errorf("assertionMethod %v (an Ed25519 multikey starts z6Mk)", mk)
	}
	r := anon.do("GET", "/artists/fedi-verse", nil, http.Header{"Accept": {"text/html"}})
	if r.StatusCode != 303 || r.Header.Get("Location") != fmt.Sprintf("/app/artists/%d", artistID) {
		t.Errorf("a browser asking for the artist: %d → %q", r.StatusCode, r.Header.Get("Location"))
	}
	if node := anon.activity("/actor"); node["type"] != "Application" {
		t.Errorf("node actor: %v", node)
	}

	obj := anon.activity(fmt.Sprintf("/tracks/%d", tr.ID))
	if obj["type"] != "Audio" || obj["name"] != "Hello Fediverse" || obj["attributedTo"] != self || obj["duration"] != "PT3S" || obj["genre"] != "Folk" {
		t.Errorf("track object: %v", obj)
	}
	links := map[string]string{}
	for _, l := range obj["url"].([]any) {
		l := l.(map[string]any)
		links[l["mediaType"].(string)] = l["href"].(string)
	}
	if links["text/html"] == "" || links["application/vnd.apple.mpegurl"] != node.URL+tr.HLSURL || links["audio/flac"] != node.URL+tr.OriginalURL {
		t.Errorf("track links: %v", links)
	}
	outbox := anon.activity("/artists/fedi-verse/outbox?page=1")
	items := outbox["orderedItems"].([]any)
	if outbox["totalItems"] != float64(1) || len(items) != 1 || items[0].(map[string]any)["type"] != "Create" {
		t.Errorf("outbox: %v", outbox)
	}

	var links2 struct{ Links []struct{ Rel, Href string } }
	anon.must(anon.do("GET", "/.well-known/nodeinfo", nil, nil), 200, &links2)
	var info struct {
		Version   string
		Software  struct{ Name string }
		Protocols []string
		Usage     struct {
			Users      struct{ Total int }
			LocalPosts int
		}
	}
	anon.must(anon.do("GET", strings.TrimPrefix(links2.Links[0].Href, node.URL), nil, nil), 200, &info)
	if info.Version != "2.1" || info.Software.Name != "9ten" || len(info.Protocols) != 1 || info.Protocols[0] != "activitypub" || info.Usage.Users.Total != 2 || info.Usage.LocalPosts != 1 {
		t.Errorf("nodeinfo: %+v", info)
	}
	if r := anon.do("GET", "/.well-known/host-meta", nil, nil); !strings.Contains(string(r.Body), `template="`+node.URL+`/.well-known/webfinger?resource={uri}"`) {
		t.Errorf("host-meta: %s", r.Body)
	}
	var ctx map[string]any
	anon.must(anon.do("GET", "/ns/9ten.jsonld", nil, nil), 200, &ctx)
	if terms, _ := ctx["@context"].(map[string]any); terms["StreamActivity"] == nil || terms["Subscription"] == nil {
		t.Errorf("context document: %v", ctx)
	}
	if r := anon.do("POST", "/artists/fedi-verse/inbox", strings.NewReader(`{}`), http.Header{"Content-Type": {"application/activity+json"}}); r.StatusCode != 401 {
		t.Errorf("an unsigned delivery answered %d", r.StatusCode)
	}

	// Keys survive a restart: remote servers cache them.
	node.Stop()
	node.Restart()
	again := newClient(t, node.URL).activity("/artists/fedi-verse")
	if again["publicKey"].(map[string]any)["publicKeyPem"] != pub["publicKeyPem"] {
		t.Error("the artist's key changed across a restart")
	}
}
