package e2e_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"nineten.dev/federation/httpsig"
	"nineten.dev/listen"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/dbtest"
	"nineten.dev/testkit/nodetest"
	"nineten.dev/testkit/s3test"
)

// Two `9ten serve` processes over one PostgreSQL database and one S3
// bucket, as behind a load balancer, behave as one node: a login on one is
// valid on the other, an upload on one is transcoded once (by whichever
// process claims the job), a listen whose segments and reports go to both
// counts once, and a remote follower receives each activity once.
func TestTwoProcessesAreOneNode(t *testing.T) {
	dsn := dbtest.DSN(t, sqlstore.Postgres)
	bucket := s3test.NewBucket(t)
	for _, kv := range bucket.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	shared := []string{"--db", dsn, "--blob", bucket.URL(), "--listen-threshold", "2s", "--dev-federation"}
	one := nodetest.Start(t, shared...)
	// The second process gets the node's secrets (which sign listen
	// sessions and ledger entries, and decrypt its listening reports) and
	// its public URL.
	data := t.TempDir()
	for _, f := range []string{"node.secret", "ledger.key", "node.age"} {
		b, err := os.ReadFile(filepath.Join(one.Data, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	two := nodetest.StartIn(t, data, append(shared, "--url", one.URL)...)
	raw := dbtest.OpenRaw(t, dsn)

	// A process without the node's secrets refuses to start, and says why.
	stray := exec.Command(nodetest.Binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, shared...)...)
	if out, err := stray.CombinedOutput(); err == nil || !strings.Contains(string(out), "needs the same node.secret") {
		t.Errorf("a process with other secrets: %v\n%s", err, out)
	}

	// A login on one process is a login on both: the session lives in the
	// database (cookies do not care about ports).
	artist, _ := signupArtist(t, one.URL, "duo", "Duo Process")
	artistOnTwo := &client{t: t, base: two.URL, http: artist.http}
	var me struct{ User struct{ Username string } }
	artistOnTwo.must(artistOnTwo.json("GET", "/api/v1/me", nil), 200, &me)
	if me.User.Username != "duo" {
		t.Fatalf("process two sees %+v for a session made on process one", me)
	}

	// A remote follower, a server of its own outside the node.
	fan := newFakeFollower(t)
	fan.follow(t, one.URL+"/artists/duo-process")
	eventually(t, 30*time.Second, "the Accept of the follow", func() bool { return fan.count("Accept") == 1 })

	// An upload on process two becomes playable once; either process may
	// have transcoded it, but only one did, and only once.
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "duo.flac", Seconds: 12, Title: "Two Hands"})
	var up struct{ Track track }
	artistOnTwo.must(artistOnTwo.uploadFile(src), 202, &up)
	tr := artist.waitTrack(up.Track.ID)
	if tr.Status != "ready" {
		t.Fatalf("track ended %q: %s", tr.Status, tr.Error)
	}
	var jobs, attempts int
	raw.QueryRow(`SELECT COUNT(*), MAX(attempts) FROM jobs WHERE kind = 'process_track'`).Scan(&jobs, &attempts)
	if jobs != 1 || attempts != 1 {
		t.Errorf("the upload made %d processing jobs with up to %d attempts; want one job run once", jobs, attempts)
	}

	// A listener plays, fetching segments from both processes and
	// reporting to both, the same report to each at once: one listen.
	listener := newClient(t, one.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lis", "password": "password-lis"}), 201, nil)
	listenerOnTwo := &client{t: t, base: two.URL, http: listener.http}
	var started listen.Started
	listener.must(listener.json("POST", "/api/v1/listens", map[string]any{"track_id": tr.ID}), 201, &started)
	segs := variantSegments(t, listener, tr.ID, "opus128")
	for i, seg := range segs {
		c := []*client{listener, listenerOnTwo}[i%2]
		r := c.do("GET", fmt.Sprintf("/media/tracks/%d/hls/opus128/%s", tr.ID, seg.URI), nil, http.Header{"X-Listen-Session": {started.SessionID}})
		if r.StatusCode != 200 {
			t.Fatalf("segment %s: %d", seg.URI, r.StatusCode)
		}
	}
	key := mustHex(t, started.Key)
	var counted, ok200 int
	var mu sync.Mutex
	for seq := int64(1); seq <= 4; seq++ {
		time.Sleep(time.Second) // playback takes real time: the node checks heard time against it
		rep := listen.Report{Seq: seq, PositionMS: seq * 1000, HeardMS: seq * 1000}
		rep.Sig = listen.Sign(key, started.SessionID, rep)
		var wg sync.WaitGroup
		for _, c := range []*client{listener, listenerOnTwo} {
			wg.Go(func() {
				r := c.json("POST", "/api/v1/listens/"+started.SessionID+"/progress", rep)
				var out listen.Outcome
				if r.StatusCode == 200 {
					r.decode(t, &out)
				}
				mu.Lock()
				defer mu.Unlock()
				if r.StatusCode == 200 {
					ok200++
					if out.Counted {
						counted++
					}
				} else if r.StatusCode != 409 {
					t.Errorf("report %d answered %d: %s", seq, r.StatusCode, r.Body)
				}
			})
		}
		wg.Wait()
	}
	if counted == 0 {
		t.Fatalf("no report was counted (%d accepted)", ok200)
	}
	var plays int64
	raw.QueryRow(`SELECT play_count FROM tracks WHERE id = ?`, tr.ID).Scan(&plays)
	var listens int
	raw.QueryRow(`SELECT COUNT(*) FROM listens WHERE session_id = ? AND status = 'verified'`, started.SessionID).Scan(&listens)
	if plays != 1 || listens != 1 {
		t.Errorf("after reports to both processes: play count %d, verified listens %d; want 1 and 1", plays, listens)
	}

	// The new track reached the follower once, though both processes run
	// delivery workers over the one queue.
	eventually(t, 30*time.Second, "the Create of the new track", func() bool { return fan.count("Create") >= 1 })
	eventually(t, 30*time.Second, "the delivery queue to drain", func() bool {
		var waiting int
		raw.QueryRow(`SELECT COUNT(*) FROM jobs WHERE kind = 'federation_deliver' AND status IN ('queued', 'running')`).Scan(&waiting)
		return waiting == 0
	})
	if dup := fan.duplicates(); len(dup) > 0 || fan.count("Create") != 1 {
		t.Errorf("the follower received %d Creates; activities received more than once: %v", fan.count("Create"), dup)
	}
}

// fakeFollower is a fediverse account on a server of its own: it serves
// its actor document and counts what arrives in its inbox. It speaks the
// real wire format, signing its Follow as Mastodon does.
type fakeFollower struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu   sync.Mutex
	ids  map[string]int // activity id → deliveries
	kind map[string]int // activity type → deliveries
}

func newFakeFollower(t *testing.T) *fakeFollower {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFollower{key: key, ids: map[string]int{}, kind: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/fan", func(w http.ResponseWriter, r *http.Request) {
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		id := f.srv.URL + "/users/fan"
		w.Header().Set("Content-Type", "application/activity+json")
		json.NewEncoder(w).Encode(map[string]any{
			"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
			"id":                id,
			"type":              "Person",
			"preferredUsername": "fan",
			"inbox":             id + "/inbox",
			"outbox":            id + "/outbox",
			"publicKey": map[string]string{
				"id": id + "#main-key", "owner": id,
				"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
			},
		})
	})
	mux.HandleFunc("POST /users/fan/inbox", func(w http.ResponseWriter, r *http.Request) {
		var a struct{ ID, Type string }
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &a) != nil || r.Header.Get("Signature") == "" && r.Header.Get("Signature-Input") == "" {
			http.Error(w, "unsigned or malformed", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.ids[a.ID]++
		f.kind[a.Type]++
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// follow sends a signed Follow of actor to its inbox.
func (f *fakeFollower) follow(t *testing.T, actor string) {
	me := f.srv.URL + "/users/fan"
	body, _ := json.Marshal(map[string]string{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       f.srv.URL + "/follows/1", "type": "Follow", "actor": me, "object": actor,
	})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", actor+"/inbox", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.SignCavage(req, body, httpsig.Key{ID: me + "#main-key", Private: f.key}, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		t.Fatalf("Follow answered %d: %s", resp.StatusCode, msg)
	}
}

func (f *fakeFollower) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kind[kind]
}

func (f *fakeFollower) duplicates() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, n := range f.ids {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", id, n))
		}
	}
	return out
}
