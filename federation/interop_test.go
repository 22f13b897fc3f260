package federation

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
	"nineten.dev/federation/safehttp"
	"nineten.dev/sqlstore"
)

// The tests in this file feed what other servers send (testdata/interop,
// see its README for where each file comes from) through the paths that
// read it: the signed inbox, actor fetches, outbox reads. Every remote
// host a document names is served by a loopback server of its own, and
// the senders' keys are the test's: the documents are otherwise as
// published.

// fediverse is 9ten's node on loopback among loopback stand-ins for the
// servers a fixture names.
type fediverse struct {
	t      *testing.T
	f      *Service
	db     *sqlstore.DB
	node   *httptest.Server
	key    *rsa.PrivateKey // signs for every remote actor
	user   *nineten.User   // a listener who follows remote actors
	artist *nineten.Artist // an artist remote actors follow

	mu    sync.Mutex
	hosts map[string]*httptest.Server // fixture host → its stand-in
	docs  map[string][]byte           // URL → document served there
}

func newFediverse(t *testing.T) *fediverse {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFediverseOn(t, db)
}

// newFediverseOn is newFediverse on a database of the test's.
func newFediverseOn(t *testing.T, db *sqlstore.DB) *fediverse {
	t.Helper()
	ctx := t.Context()
	w := &fediverse{t: t, db: db, hosts: map[string]*httptest.Server{}, docs: map[string][]byte{}, key: testKey(t)}
	// The node signs its fetches; a key made once serves every case.
	der, err := x509.MarshalPKCS8PrivateKey(testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	err = db.CreateActorKeys(ctx, &nineten.ActorKeys{Actor: nodeActorName, CreatedAt: time.Now(),
		RSAPrivatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), Ed25519Seed: make([]byte, ed25519.SeedSize)})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	w.node = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	t.Cleanup(w.node.Close)
	base, _ := url.Parse(w.node.URL)
	w.f = &Service{
		Store: db, Base: base, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: safehttp.New(safehttp.Options{AllowLoopback: true}),
	}
	h = w.f.Handler()
	w.user = &nineten.User{Username: "lain", PasswordHash: "-", Role: nineten.RoleListener, CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, w.user); err != nil {
		t.Fatal(err)
	}
	w.artist = &nineten.Artist{OwnerID: w.user.ID, Name: "Bob Band", Slug: "bob-band", CreatedAt: time.Now()}
	if err := db.CreateArtist(ctx, w.artist); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *fediverse) userIRI() string   { return w.f.url("/users/" + w.user.Username) }
func (w *fediverse) artistIRI() string { return w.f.url("/artists/" + w.artist.Slug) }

// testKey is one RSA key for the whole test run: making one takes a
// good part of a second on a busy machine.
var testKey = func() func(*testing.T) *rsa.PrivateKey {
	var once sync.Once
	var key *rsa.PrivateKey
	var err error
	return func(t *testing.T) *rsa.PrivateKey {
		once.Do(func() { key, err = rsa.GenerateKey(rand.Reader, 2048) })
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
}()

// vocabularyHosts name JSON-LD vocabularies, not servers: left alone.
var vocabularyHosts = map[string]bool{
	"www.w3.org": true, "w3id.org": true, "joinmastodon.org": true, "schema.org": true, "ostatus.org": true,
	"purl.org": true, "funkwhale.audio": true, "joinpeertube.org": true, "gotosocial.org": true, "join-lemmy.org": true,
}

var originRE = regexp.MustCompile(`https?://([A-Za-z0-9.\-]+(:[0-9]+)?)`)

// load reads a fixture, replaces the IRIs in local (fixture IRI → one of
// this node's), and moves every other host it names to a loopback
// stand-in.
func (w *fediverse) load(name string, local map[string]string) []byte {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "interop", name))
	if err != nil {
		w.t.Fatal(err)
	}
	s := string(b)
	for from, to := range local {
		s = strings.ReplaceAll(s, from, to)
	}
	nodeHost := w.node.Listener.Addr().String()
	s = originRE.ReplaceAllStringFunc(s, func(origin string) string {
		host := originRE.FindStringSubmatch(origin)[1]
		if vocabularyHosts[host] || host == nodeHost {
			return origin
		}
		return w.standIn(host)
	})
	return []byte(s)
}

// standIn is the base URL of the loopback server standing in for host.
func (w *fediverse) standIn(host string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if srv := w.hosts[host]; srv != nil {
		return srv.URL
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		doc, ok := w.docs["http://"+r.Host+r.URL.RequestURI()]
		w.mu.Unlock()
		if !ok {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", activityJSON)
		_, _ = rw.Write(doc)
	}))
	w.t.Cleanup(srv.Close)
	w.hosts[host] = srv
	return srv.URL
}

// serve publishes doc at its URL on its stand-in.
func (w *fediverse) serve(iri string, doc []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.docs[iri] = doc
}

// sender publishes an actor at iri whose key is the test's.
func (w *fediverse) sender(iri string) {
	doc, _ := json.Marshal(map[string]any{
		"@context": asContext, "id": iri, "type": "Person", "preferredUsername": "sender", "inbox": iri + "/inbox",
		"publicKey": map[string]any{"id": iri + "#main-key", "owner": iri, "publicKeyPem": publicKeyPEM(w.key)},
	})
	w.serve(iri, doc)
}

// deliver POSTs body to the node's shared inbox, signed by its actor, and
// returns the status.
func (w *fediverse) deliver(body []byte) int {
	w.t.Helper()
	return w.deliverAt(body, time.Now())
}

// deliverAt is deliver signed at a time of the test's: the same activity
// delivered twice needs two signatures, or the second is a replay.
func (w *fediverse) deliverAt(body []byte, at time.Time) int {
	w.t.Helper()
	actor := act0(body).Actor
	w.sender(actor)
	req, _ := http.NewRequestWithContext(w.t.Context(), http.MethodPost, w.node.URL+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", activityJSON)
	if err := httpsig.SignCavage(req, body, httpsig.Key{ID: actor + "#main-key", Private: w.key}, at); err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		w.t.Logf("inbox answered %d: %s", resp.StatusCode, msg)
	}
	return resp.StatusCode
}

// state is what users of the node see of federation: the listener's feed
// and follows both ways.
type state struct {
	Feed      []nineten.FeedItem
	Following []nineten.Follow
	Followers []nineten.Follow
}

func (w *fediverse) state() state {
	w.t.Helper()
	ctx := w.t.Context()
	feed, err := w.f.Feed(ctx, w.user, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	following, err := w.db.Follows(ctx, userActorName(w.user), false)
	if err != nil {
		w.t.Fatal(err)
	}
	followers, err := w.db.Follows(ctx, artistActorName(w.artist), true)
	if err != nil {
		w.t.Fatal(err)
	}
	return state{feed, following, followers}
}

// follow makes the listener follow remote, accepted.
func (w *fediverse) follow(remote, activity string) {
	w.t.Helper()
	err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: userActorName(w.user), Remote: remote, State: nineten.FollowAccepted, Activity: activity, CreatedAt: time.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
}

// received keeps an activity of actor about object, as if delivered.
func (w *fediverse) received(actor, object string) {
	w.t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "Create", "actor": actor, "object": map[string]any{"id": object, "type": "Note", "content": "<p>earlier</p>"}})
	_, err := w.db.SaveReceived(w.t.Context(), &nineten.Received{Activity: object + "#create", Type: "Create", Actor: actor, Object: object, Payload: payload, ReceivedAt: time.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
}

// field reads a string at a dotted path of a JSON document.
func field(t *testing.T, doc []byte, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// An inbox case: a fixture delivered to the node, what was there before,
// and what users see afterwards.
type inboxCase struct {
	fixture string
	// local maps IRIs of the fixture to this node's: "user" and "artist"
	// stand for the listener's and the artist's IRIs.
	local map[string]string
	setup func(w *fediverse, doc []byte)
	check func(t *testing.T, w *fediverse, doc []byte, before, after state)
}

// unchanged checks that an activity the node ignores changed nothing.
func unchanged(t *testing.T, _ *fediverse, _ []byte, before, after state) {
	t.Helper()
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if !bytes.Equal(a, b) {
		t.Errorf("the activity changed what users see:\nbefore %s\nafter  %s", a, b)
	}
}

// followed makes the listener follow the fixture's actor.
func followed(w *fediverse, doc []byte) { w.follow(act0(doc).Actor, "") }

// feedShows checks the feed holds exactly one item like want, about the
// fixture's object (its id at objectPath, or the object IRI) and linking
// to page(doc), or to the object when page is nil.
func feedShows(want nineten.FeedItem, objectPath string, page func(doc []byte) string) func(*testing.T, *fediverse, []byte, state, state) {
	return func(t *testing.T, _ *fediverse, doc []byte, _, after state) {
		t.Helper()
		if len(after.Feed) != 1 {
			t.Fatalf("the feed has %d items, want 1: %+v", len(after.Feed), after.Feed)
		}
		got := after.Feed[0]
		want.Object = field(t, doc, cmp.Or(objectPath, "object"))
		want.URL = want.Object
		if page != nil {
			want.URL = page(doc)
		}
		if got.Type != want.Type || got.Object != want.Object || got.URL != want.URL || got.Title != want.Title || got.Text != want.Text {
			t.Errorf("the feed shows %s %q titled %q: %q, at %s;\nwant %s %q titled %q: %q, at %s",
				got.Type, got.Object, got.Title, got.Text, got.URL, want.Type, want.Object, want.Title, want.Text, want.URL)
		}
		if got.Actor.IRI != field(t, doc, "actor") {
			t.Errorf("the item is by %q, want the activity's actor", got.Actor.IRI)
		}
	}
}

// feedEmpty checks that what the activity removed is gone.
func feedEmpty(t *testing.T, _ *fediverse, _ []byte, before, after state) {
	t.Helper()
	if len(before.Feed) == 0 {
		t.Fatal("the case had nothing to remove")
	}
	if len(after.Feed) != 0 {
		t.Errorf("the feed still shows %+v", after.Feed)
	}
}

// urlAt reads the href of the i-th Link in the object's url list.
func urlAt(i int) func(doc []byte) string {
	return func(doc []byte) string {
		var o struct {
			Object struct{ URL []map[string]string } `json:"object"`
		}
		_ = json.Unmarshal(doc, &o)
		if i >= len(o.Object.URL) {
			return ""
		}
		return o.Object.URL[i]["href"]
	}
}

// objectURL reads the object's url when it is one URL.
func objectURL(doc []byte) string {
	var o struct {
		Object struct{ URL string } `json:"object"`
	}
	_ = json.Unmarshal(doc, &o)
	return o.Object.URL
}

func TestInboxReadsWhatOtherServersSend(t *testing.T) {
	// Local IRIs in the fixtures: the servers the captures were made for.
	pleromaLain := "http://localtesting.pleroma.lol/users/lain"
	fwLibrary := "https://awesome.music/federation/music/libraries/dc702491-f6ce-441b-9da0-cecbed08bcc6"
	fwAlice := "https://music.rocks/federation/actors/Alice"
	pod := "http://pod.localhost:8000/ap"
	note := func(w *fediverse, doc []byte) {
		followed(w, doc)
		w.received(act0(doc).Actor, parseRef(act0(doc).Object).ID)
	}

	cases := map[string]inboxCase{
		// Mastodon
		"mastodon follow": {fixture: "mastodon/follow.json", local: map[string]string{pleromaLain: "artist"},
			check: func(t *testing.T, w *fediverse, doc []byte, _, after state) {
				if len(after.Followers) != 1 || after.Followers[0].Remote != act0(doc).Actor || after.Followers[0].State != nineten.FollowAccepted {
					t.Fatalf("the artist's followers: %+v, want the Mastodon account, accepted", after.Followers)
				}
				jobs, err := w.db.ActiveJobs(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				var in delivery
				if len(jobs) == 1 {
					_ = json.Unmarshal(jobs[0].Payload, &in)
				}
				if in.Inbox != act0(doc).Actor+"/inbox" || field(t, in.Activity, "type") != "Accept" || field(t, in.Activity, "object.id") != act0(doc).ID {
					t.Errorf("queued %d jobs, the first an Accept of %q to %q; want one Accept of the follow to the follower's inbox",
						len(jobs), field(t, in.Activity, "object.id"), in.Inbox)
				}
			}},
		"mastodon accept": {fixture: "mastodon/accept-follow.json", local: map[string]string{pleromaLain: "user"},
			setup: func(w *fediverse, doc []byte) {
				err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: userActorName(w.user), Remote: act0(doc).Actor, State: nineten.FollowPending,
					Activity: field(w.t, doc, "object.id"), CreatedAt: time.Now()})
				if err != nil {
					w.t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fediverse, _ []byte, _, after state) {
				if len(after.Following) != 1 || after.Following[0].State != nineten.FollowAccepted {
					t.Errorf("the listener follows %+v, want the Mastodon account, accepted", after.Following)
				}
			}},
		"mastodon undo follow": {fixture: "mastodon/undo-follow.json", local: map[string]string{pleromaLain: "artist"},
			setup: func(w *fediverse, doc []byte) {
				err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: artistActorName(w.artist), Remote: act0(doc).Actor, Inbound: true,
					State: nineten.FollowAccepted, Activity: field(w.t, doc, "object.id"), CreatedAt: time.Now()})
				if err != nil {
					w.t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fediverse, _ []byte, before, after state) {
				if len(before.Followers) != 1 || len(after.Followers) != 0 {
					t.Errorf("followers before %d, after %+v; want 1, then none", len(before.Followers), after.Followers)
				}
			}},
		"mastodon note with an image": {fixture: "mastodon/create-note-attachment.json", setup: followed,
			check: feedShows(nineten.FeedItem{Type: "Create", Text: "http://mastodon.example.org/media/hw4nrZmV5DPbW2z_hao"}, "object.id", objectURL)},
		"mastodon delete with tombstone": {fixture: "mastodon/delete-tombstone.json", setup: note, check: feedEmpty},
		"mastodon delete of the account": {fixture: "mastodon/delete-actor.json", setup: followed,
			check: func(t *testing.T, w *fediverse, doc []byte, before, after state) {
				if len(before.Following) != 1 || len(after.Following) != 0 {
					t.Errorf("following before %d, after %+v; want 1, then none: the account is gone", len(before.Following), after.Following)
				}
				if _, err := w.db.RemoteActor(t.Context(), act0(doc).Actor); nineten.ErrorKind(err) != nineten.KindNotFound {
					t.Errorf("the deleted account is still kept: %v", err)
				}
			}},
		"mastodon like":      {fixture: "mastodon/like.json", setup: followed, check: unchanged},
		"mastodon undo like": {fixture: "mastodon/undo-like.json", setup: followed, check: unchanged},
		"mastodon announce": {fixture: "mastodon/announce.json", setup: followed,
			check: feedShows(nineten.FeedItem{Type: "Announce"}, "", nil)},
		"mastodon profile update":          {fixture: "mastodon/update-actor.json", setup: followed, check: unchanged},
		"mastodon block":                   {fixture: "mastodon/block.json", check: unchanged},
		"mastodon report":                  {fixture: "mastodon/flag.json", check: unchanged},
		"mastodon move":                    {fixture: "mastodon/move.json", check: unchanged},
		"mastodon poll vote, not followed": {fixture: "mastodon/create-poll-vote.json", check: unchanged},

		// GoToSocial
		"gotosocial delete without an id": {fixture: "gotosocial/delete-status.json", setup: note, check: feedEmpty},
		"gotosocial poll votes":           {fixture: "gotosocial/create-poll-votes.json", setup: followed, check: unchanged},
		"gotosocial report":               {fixture: "gotosocial/flag.json", check: unchanged},
		"gotosocial move":                 {fixture: "gotosocial/move.json", setup: followed, check: unchanged},
		"gotosocial accept of a reply":    {fixture: "gotosocial/accept-reply-approval.json", setup: followed, check: unchanged},
		"gotosocial approved announce": {fixture: "gotosocial/announce-approved.json", setup: followed,
			check: feedShows(nineten.FeedItem{Type: "Announce"}, "", nil)},

		// Funkwhale
		"funkwhale follow of a library": {fixture: "funkwhale/follow-library.json", local: map[string]string{fwLibrary: "artist"},
			check: func(t *testing.T, _ *fediverse, doc []byte, _, after state) {
				if len(after.Followers) != 1 || after.Followers[0].Remote != act0(doc).Actor {
					t.Errorf("the artist's followers: %+v, want Alice", after.Followers)
				}
			}},
		"funkwhale accept": {fixture: "funkwhale/accept-follow.json", local: map[string]string{fwAlice: "user"},
			setup: func(w *fediverse, doc []byte) {
				err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: userActorName(w.user), Remote: act0(doc).Actor, State: nineten.FollowPending,
					Activity: field(w.t, doc, "object.id"), CreatedAt: time.Now()})
				if err != nil {
					w.t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fediverse, _ []byte, _, after state) {
				if len(after.Following) != 1 || after.Following[0].State != nineten.FollowAccepted {
					t.Errorf("the listener follows %+v, want Bob, accepted", after.Following)
				}
			}},
		"funkwhale undo follow": {fixture: "funkwhale/undo-follow.json", local: map[string]string{fwLibrary: "artist"},
			setup: func(w *fediverse, doc []byte) {
				err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: artistActorName(w.artist), Remote: act0(doc).Actor, Inbound: true,
					State: nineten.FollowAccepted, Activity: field(w.t, doc, "object.id"), CreatedAt: time.Now()})
				if err != nil {
					w.t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fediverse, _ []byte, before, after state) {
				if len(before.Followers) != 1 || len(after.Followers) != 0 {
					t.Errorf("followers before %d, after %+v; want 1, then none", len(before.Followers), after.Followers)
				}
			}},
		"funkwhale channel audio": {fixture: "funkwhale/create-audio-channel.json", setup: followed,
			// The web page is the second Link, after the audio file's.
			check: feedShows(nineten.FeedItem{Type: "Create", Title: "Compositions - Test Audio for Pleroma", Text: "This is a test Audio for Pleroma."}, "object.id", urlAt(1))},
		"funkwhale delete of several uploads": {fixture: "funkwhale/delete-audios.json",
			setup: func(w *fediverse, doc []byte) {
				followed(w, doc)
				for _, r := range parseRefs(act0(doc).Object) {
					w.received(act0(doc).Actor, r.ID)
				}
			},
			check: func(t *testing.T, w *fediverse, doc []byte, before, after state) {
				if len(before.Feed) != 3 || len(after.Feed) != 0 {
					t.Errorf("the feed had %d items, has %d; want 3, then none", len(before.Feed), len(after.Feed))
				}
			}},
		"funkwhale delete of a library": {fixture: "funkwhale/delete-library.json", setup: followed, check: unchanged},

		// PeerTube
		"peertube accept": {fixture: "peertube/accept-follow.json", local: map[string]string{pod: "user"},
			setup: func(w *fediverse, doc []byte) {
				err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: userActorName(w.user), Remote: act0(doc).Actor, State: nineten.FollowPending,
					Activity: field(w.t, doc, "object.id"), CreatedAt: time.Now()})
				if err != nil {
					w.t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fediverse, _ []byte, _, after state) {
				if len(after.Following) != 1 || after.Following[0].State != nineten.FollowAccepted {
					t.Errorf("the listener follows %+v, want the PeerTube instance, accepted", after.Following)
				}
			}},
		"peertube undo follow": {fixture: "peertube/undo-follow.json", local: map[string]string{pod: "artist"},
			setup: func(w *fediverse, doc []byte) {
				err := w.db.SaveFollow(w.t.Context(), &nineten.Follow{Local: artistActorName(w.artist), Remote: act0(doc).Actor, Inbound: true,
					State: nineten.FollowAccepted, Activity: field(w.t, doc, "object.id"), CreatedAt: time.Now()})
				if err != nil {
					w.t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ *fediverse, _ []byte, before, after state) {
				if len(before.Followers) != 1 || len(after.Followers) != 0 {
					t.Errorf("followers before %d, after %+v; want 1, then none", len(before.Followers), after.Followers)
				}
			}},
		"peertube channel announces a video": {fixture: "peertube/announce-video.json", setup: followed,
			check: feedShows(nineten.FeedItem{Type: "Announce"}, "", nil)},
		"peertube announce without a context": {fixture: "peertube/announce-without-context.json", setup: followed,
			check: feedShows(nineten.FeedItem{Type: "Announce"}, "", nil)},
		"peertube video update": {fixture: "peertube/update-video.json", setup: followed,
			check: feedShows(nineten.FeedItem{Type: "Update", Title: "terre", Text: "YOLO"}, "object.id", urlAt(0))},
		"peertube video delete": {fixture: "peertube/delete-video.json", setup: note, check: feedEmpty},
		"peertube view":         {fixture: "peertube/view.json", setup: followed, check: unchanged},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := newFediverse(t)
			local := map[string]string{}
			for from, to := range c.local {
				local[from] = map[string]string{"user": w.userIRI(), "artist": w.artistIRI()}[to]
			}
			doc := w.load(c.fixture, local)
			if c.setup != nil {
				c.setup(w, doc)
			}
			before := w.state()
			if status := w.deliver(doc); status != http.StatusAccepted {
				t.Fatalf("the inbox answered %d, want 202", status)
			}
			c.check(t, w, doc, before, w.state())
		})
	}
}

// Actors as their servers publish them: what a user sees of them (handle,
// name) and what the node needs to reach them and check their signatures.
func TestRemoteActorsOfOtherServers(t *testing.T) {
	cases := []struct {
		fixture, handle, name string
		sharedInbox           bool
		// The key in Pleroma's copy of Mastodon's instance actor is damaged
		// ("AA0CA08A" for "AAOCAQ8A"): signatures by it cannot verify.
		unreadableKey bool
	}{
		{"mastodon/actor-person.json", "foo", "", true, false},
		{"mastodon/actor-person-two-types.json", "foo", "", true, false},
		{"mastodon/actor-instance-application.json", "mastodon.example", "", true, true},
		{"gotosocial/actor-person.json", "1happyturtle", "happy little turtle :3", false, false},
		{"funkwhale/actor-channel.json", "compositions", "Compositions", true, false},
		{"peertube/actor-instance-application.json", "peertube", "peertube", true, false},
		{"peertube/group-channel.json", "root_channel", "Main root channel", true, false},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			w := newFediverse(t)
			// Mastodon's instance actor fixture is a template.
			doc := w.load(c.fixture, map[string]string{"{{DOMAIN}}": "mastodon.example"})
			iri := field(t, doc, "id")
			w.serve(iri, doc)
			a, err := w.f.RemoteActor(t.Context(), iri, false)
			if err != nil {
				t.Fatalf("RemoteActor: %v", err)
			}
			u, _ := url.Parse(iri)
			wantShared := ""
			if c.sharedInbox {
				wantShared = field(t, doc, "endpoints.sharedInbox")
			}
			// The avatar and header, where the actor has them (Mastodon's and
			// Funkwhale's icon: one Image, with or without a mediaType).
			var raw struct{ Icon, Image json.RawMessage }
			_ = json.Unmarshal(doc, &raw)
			wantIcon, wantImage := "", ""
			if raw.Icon != nil {
				wantIcon = field(t, doc, "icon.url")
			}
			if raw.Image != nil {
				wantImage = field(t, doc, "image.url")
			}
			if a.Icon != wantIcon || a.Image != wantImage {
				t.Errorf("icon %q, image %q; want %q, %q", a.Icon, a.Image, wantIcon, wantImage)
			}
			if a.Handle != c.handle+"@"+u.Host || a.Name != c.name || a.Inbox != field(t, doc, "inbox") || a.SharedInbox != wantShared {
				t.Errorf("got %s %q, inbox %s, shared %q; want %s@%s %q, inbox %s, shared %q",
					a.Handle, a.Name, a.Inbox, a.SharedInbox, c.handle, u.Host, c.name, field(t, doc, "inbox"), wantShared)
			}
			// The key the actor signs with reads, whatever its PEM form.
			owner, pub, err := w.f.keyOwner(t.Context(), field(t, doc, "publicKey.id"), false)
			if c.unreadableKey {
				if nineten.ErrorKind(err) != nineten.KindUnauthenticated {
					t.Errorf("a damaged key: %v, want it refused as unreadable", err)
				}
				return
			}
			if _, rsaKey := pub.(*rsa.PublicKey); err != nil || owner != iri || !rsaKey {
				t.Errorf("the key %s: owner %q, %T, %v; want the actor and an RSA key", field(t, doc, "publicKey.id"), owner, pub, err)
			}
		})
	}
}

// Actors' pictures in every shape servers publish them: one Image (with or
// without mediaType), PeerTube's list of Images of several sizes, a bare
// URL; what is not an http(s) picture is no picture.
func TestActorPictures(t *testing.T) {
	w := newFediverse(t)
	upd := w.load("mastodon/update-actor.json", nil)
	var act struct{ Object actorJSON }
	if err := json.Unmarshal(upd, &act); err != nil {
		t.Fatal(err)
	}
	if got, want := act.Object.Icon.picture(), field(t, upd, "object.icon.url"); got != want || want == "" {
		t.Errorf("Mastodon's Update of an actor: icon %q, want %q", got, want)
	}
	if got, want := act.Object.Image.picture(), field(t, upd, "object.image.url"); got != want || want == "" {
		t.Errorf("Mastodon's Update of an actor: image %q, want %q", got, want)
	}
	video := w.load("peertube/video.json", nil)
	var pt struct{ Icon links }
	var ptRaw struct{ Icon []struct{ URL string } }
	if err := errors.Join(json.Unmarshal(video, &pt), json.Unmarshal(video, &ptRaw)); err != nil || len(ptRaw.Icon) < 2 {
		t.Fatalf("%v; %d icons", err, len(ptRaw.Icon))
	}
	if got, want := pt.Icon.picture(), ptRaw.Icon[0].URL; got != want {
		t.Errorf("PeerTube's list of %d icons: %q, want the first, %q", len(pt.Icon), got, want)
	}
	for in, want := range map[string]string{
		`"https://a.example/avatar.png"`: "https://a.example/avatar.png",
		`["https://a.example/a.png", {"type": "Image", "url": "https://a.example/b.png"}]`:                          "https://a.example/a.png",
		`{"type": "Image", "url": {"type": "Link", "href": "https://a.example/c.webp", "mediaType": "image/webp"}}`: "https://a.example/c.webp",
		`{"type": "Image", "mediaType": "text/html", "url": "https://a.example/page"}`:                              "",
		`"javascript:alert(1)"`:        "",
		`"data:image/png;base64,AAAA"`: "",
		`{"type": "Image"}`:            "",
		`42`:                           "",
	} {
		var l links
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			t.Fatal(err)
		}
		if got := l.picture(); got != want {
			t.Errorf("icon %s: %q, want %q", in, got, want)
		}
	}
}

// Fedify writes an actor with several keys as a list of them: the actor's
// own key is read from it (this fixture has no inbox: it is not an actor
// the node can deliver to, and says so).
func TestActorWithAListOfKeys(t *testing.T) {
	w := newFediverse(t)
	doc := w.load("fedify/actor-two-keys.json", nil)
	var a actorJSON
	if err := json.Unmarshal(doc, &a); err != nil {
		t.Fatal(err)
	}
	k := a.PublicKey.of(a.ID)
	if len(a.PublicKey) != 2 || k.ID != field(t, doc, "id")[:strings.LastIndex(field(t, doc, "id"), "/")]+"/key" {
		t.Errorf("read %d keys, the actor's %q; want 2, the first", len(a.PublicKey), k.ID)
	}
	if _, err := parsePublicKey(k.PublicKeyPem); err != nil {
		t.Error(err)
	}
	w.serve(a.ID, doc)
	if _, err := w.f.RemoteActor(t.Context(), a.ID, false); nineten.ErrorKind(err) != nineten.KindInvalid || !strings.Contains(err.Error(), "is not an actor") {
		t.Errorf("RemoteActor of an actor without inbox: %v, want it is not an actor", err)
	}
}

// Outboxes in the forms PeerTube (Announces of videos by IRI), GoToSocial
// (Creates of notes by IRI) and Funkwhale channels (Creates of Audio with
// a Link list) publish them: read without error, Funkwhale's audio as a
// track a listener can play.
func TestCatalogueOfOtherServers(t *testing.T) {
	t.Run("peertube", func(t *testing.T) {
		w := newFediverse(t)
		actor := w.load("peertube/actor-instance-application.json", nil)
		w.serve(field(t, actor, "id"), actor)
		outbox := w.load("peertube/outbox.json", nil)
		w.serve(field(t, outbox, "id"), outbox)
		page := w.load("peertube/outbox-page.json", nil)
		w.serve(field(t, page, "id"), page)
		_, tracks, err := w.f.Catalogue(t.Context(), field(t, actor, "id"), 10)
		if err != nil || len(tracks) != 0 {
			t.Errorf("catalogue: %d tracks, %v; want none (videos are not tracks), no error", len(tracks), err)
		}
	})
	t.Run("gotosocial", func(t *testing.T) {
		w := newFediverse(t)
		actor := w.load("gotosocial/actor-person.json", nil)
		w.serve(field(t, actor, "id"), actor)
		// The documented outbox page (of another account), served as this
		// account's outbox.
		w.serve(field(t, actor, "outbox"), w.load("gotosocial/outbox-page.json", nil))
		_, tracks, err := w.f.Catalogue(t.Context(), field(t, actor, "id"), 10)
		if err != nil || len(tracks) != 0 {
			t.Errorf("catalogue: %d tracks, %v; want none, no error", len(tracks), err)
		}
	})
	t.Run("funkwhale channel", func(t *testing.T) {
		w := newFediverse(t)
		actor := w.load("funkwhale/actor-channel.json", nil)
		w.serve(field(t, actor, "id"), actor)
		create := w.load("funkwhale/create-audio-channel.json", nil)
		// The channel's outbox as one page holding its Create.
		page, _ := json.Marshal(map[string]any{"@context": asContext, "type": "OrderedCollectionPage", "id": field(t, actor, "outbox"), "orderedItems": []json.RawMessage{create}})
		w.serve(field(t, actor, "outbox"), page)
		_, tracks, err := w.f.Catalogue(t.Context(), field(t, actor, "id"), 10)
		if err != nil || len(tracks) != 1 {
			t.Fatalf("catalogue: %+v, %v; want the channel's one track", tracks, err)
		}
		var c struct {
			Object struct{ URL []map[string]string } `json:"object"`
		}
		_ = json.Unmarshal(create, &c)
		got := tracks[0]
		if got.Title != "Compositions - Test Audio for Pleroma" || got.OriginalURL != c.Object.URL[0]["href"] || got.PageURL != c.Object.URL[1]["href"] ||
			got.Published.IsZero() || got.IRI != field(t, create, "object.id") {
			t.Errorf("track %+v: want its title, the audio/ogg file as original, the web page, its publication date", got)
		}
	})
}

// Audio objects and audio attachments in the forms they come in.
func TestAudioObjects(t *testing.T) {
	w := newFediverse(t)
	raw := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "interop", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	read := func(name string) *object {
		var o object
		if err := json.Unmarshal(raw(name), &o); err != nil {
			t.Fatal(err)
		}
		return &o
	}
	// Funkwhale 1.x: an upload, its url one Link, its duration in seconds,
	// and its title in the Track it is a file of.
	upload := read("funkwhale/audio-upload.json")
	tr := remoteTrack(upload)
	if tr.Title != "For Whom the Bell Tolls - Ride the Lightning - Metallica" || tr.DurationMS != 213_000 || tr.OriginalURL != upload.URL[0].Href || upload.URL[0].MediaType != "audio/mpeg" {
		t.Errorf("upload: %+v", tr)
	}
	var withTrack map[string]any
	_ = json.Unmarshal(raw("funkwhale/audio-upload.json"), &withTrack)
	var track map[string]any
	_ = json.Unmarshal(raw("funkwhale/track.json"), &track)
	track["album"] = map[string]any{"type": "Album", "name": "Ride the Lightning"}
	withTrack["track"] = track
	b, _ := json.Marshal(withTrack)
	var o object
	_ = json.Unmarshal(b, &o)
	if tr := remoteTrack(&o); tr.Title != "For Whom the Bell Tolls" || tr.Album != "Ride the Lightning" {
		t.Errorf("upload with its track: %q on %q, want the track's title and album", tr.Title, tr.Album)
	}

	// The Activity Vocabulary's Audio: a Link with a media type.
	as2 := read("activitystreams/audio.json")
	if as2.Type.main() != "Audio" || as2.Name != "A Simple Podcast" || len(as2.URL) != 1 || as2.URL[0].Href != "http://example.org/podcast.mp3" || as2.URL[0].MediaType != "audio/mp3" {
		t.Errorf("AS2 Audio read as %+v", as2)
	}

	// Mastodon sends files as Documents: an image is not a sound.
	var create struct {
		Object object `json:"object"`
	}
	_ = json.Unmarshal(raw("mastodon/create-note-attachment.json"), &create)
	if _, ok := create.Object.firstAudio(); ok || len(create.Object.Attachment) != 1 || create.Object.Attachment[0].mediaType() != "image/jpeg" {
		t.Errorf("Mastodon's image attachment read as %+v", create.Object.Attachment)
	}

	// 9ten's Note: a Document-like Audio attachment with the sound, which
	// a feed shows under the note's own text.
	track9 := &nineten.Track{ID: 7, ArtistID: w.artist.ID, Title: "Loop", DurationMS: 95_000, Status: nineten.TrackReady,
		Original: nineten.Original{MIMEType: "audio/mpeg", Size: 1 << 20}, UpdatedAt: time.Now()}
	nb, _ := json.Marshal(w.f.note(track9, w.artist))
	var n object
	_ = json.Unmarshal(nb, &n)
	a, ok := n.firstAudio()
	if !ok || a.Name != "Loop by Bob Band" || a.mediaType() != "audio/mpeg" || parseDuration(a.Duration) != 95_000 || a.URL[0].Href != w.f.url("/media/tracks/7/original") {
		t.Errorf("9ten's note: audio %+v, %v", a, ok)
	}
	item := feedItem(nineten.Received{Type: "Create", Object: n.ID}, &nineten.RemoteActor{}, &n)
	if item.Title != "" || item.Text != "New track: Loop by Bob Band" || item.URL != w.f.url("/app/tracks/7") {
		t.Errorf("9ten's note in a feed: %+v", item)
	}
	// The same sound posted from Mastodon (no track of ours named): the
	// attachment's name is the title a listener sees.
	var bare map[string]any
	_ = json.Unmarshal(nb, &bare)
	delete(bare, "track")
	nb, _ = json.Marshal(bare)
	var m object
	_ = json.Unmarshal(nb, &m)
	if item := feedItem(nineten.Received{Type: "Create", Object: m.ID}, &nineten.RemoteActor{}, &m); item.Title != "Loop by Bob Band" {
		t.Errorf("a note with a sound: titled %q, want the sound's name", item.Title)
	}
}

// The shapes of properties servers send, each read in every form.
func TestWireForms(t *testing.T) {
	var ts types
	_ = json.Unmarshal([]byte(`["Person", "vcard:individual"]`), &ts)
	var one types
	_ = json.Unmarshal([]byte(`"Note"`), &one)
	if ts.main() != "Person" || one.main() != "Note" {
		t.Errorf("types: %v, %v", ts, one)
	}
	var ids iris
	_ = json.Unmarshal([]byte(`[{"type": "Person", "id": "https://a.example/p"}, "https://a.example/g", 5]`), &ids)
	if fmt.Sprint(ids) != "[https://a.example/p https://a.example/g]" {
		t.Errorf("iris: %v", ids)
	}
	var ls links
	_ = json.Unmarshal([]byte(`[{"type":"Link","mimeType":"audio/ogg","href":"https://a.example/a.ogg"},{"type":"Image","url":"https://a.example/i.jpg","mediaType":"image/jpeg"},"https://a.example/page", {"type":"Image","url":[{"href":"https://a.example/s.jpg","mediaType":"image/jpeg"}]}]`), &ls)
	want := []link{{"https://a.example/a.ogg", "audio/ogg", ""}, {"https://a.example/i.jpg", "image/jpeg", ""}, {"https://a.example/page", "", ""}, {"https://a.example/s.jpg", "image/jpeg", ""}}
	if fmt.Sprint(ls) != fmt.Sprint(want) || ls.page() != "https://a.example/page" {
		t.Errorf("links: %v, page %q", ls, ls.page())
	}
	var o object
	if err := json.Unmarshal([]byte(`"https://a.example/o"`), &o); err != nil || o.ID != "https://a.example/o" {
		t.Errorf("an object by IRI: %+v, %v", o, err)
	}
	// A property of a shape nobody uses empties that property only.
	if err := json.Unmarshal([]byte(`{"id": "https://a.example/o", "name": {"en": "x"}, "content": "<p>hi</p>"}`), &o); err != nil || o.ID != "https://a.example/o" || o.Content != "<p>hi</p>" {
		t.Errorf("an object with an odd name: %+v, %v", o, err)
	}
	refs := parseRefs(json.RawMessage(`{"type": "Audio", "id": ["https://a.example/1", "https://a.example/2"]}`))
	if len(refs) != 2 || refs[1].ID != "https://a.example/2" || refs[1].Type != "Audio" {
		t.Errorf("an object with a list of ids: %+v", refs)
	}
}
