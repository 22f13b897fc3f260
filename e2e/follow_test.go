package e2e_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"nineten.dev/federation/httpsig"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(timeout); !cond(); <-tick.C {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, timeout)
		}
	}
}

// TestTwoNodesFollowAndPublish runs two real nodes: a listener on A follows
// an artist on B (WebFinger, signed Follow, signed Accept back), sees B's
// new track in their feed, and unfollows. A runs in authorized-fetch mode,
// so B can read A's actors only with signed requests.
func TestTwoNodesFollowAndPublish(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation", "--authorized-fetch")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	listener := newClient(t, a.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	if r := listener.do("GET", "/users/ana", nil, http.Header{"Accept": {asAccept}}); r.StatusCode != 401 {
		t.Errorf("authorized fetch: an unsigned GET of an actor answered %d", r.StatusCode)
	}
	listener.activity("/actor") // the node actor stays readable: others need its key
	artist, _ := signupArtist(t, b.URL, "boris", "Bo Band")

	type following struct {
		ID    int64
		State string
		Actor struct{ ID, Handle, Name string }
	}
	var f following
	listener.must(listener.json("POST", "/api/v1/follows", map[string]string{"handle": "@bo-band@" + hostB}), 201, &f)
	if f.Actor.ID != b.URL+"/artists/bo-band" || f.Actor.Handle != "bo-band@"+hostB || f.Actor.Name != "Bo Band" {
		t.Fatalf("follow answered %+v", f)
	}
	eventually(t, 30*time.Second, "B accepting the follow", func() bool {
		var list struct{ Items []following }
		listener.must(listener.json("GET", "/api/v1/follows", nil), 200, &list)
		return len(list.Items) == 1 && list.Items[0].State == "accepted"
	})
	remote := newClient(t, b.URL)
	if followers := remote.activity("/artists/bo-band/followers"); followers["totalItems"] != float64(1) {
		t.Errorf("B counts %v followers", followers["totalItems"])
	}

	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "news.mp3", Seconds: 3, Title: "Fresh Off The Node"})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	artist.waitTrack(up.Track.ID)
	type item struct {
		Type  string
		Actor struct{ Handle string }
		URL   string
		Text  string
	}
	var feed struct{ Items []item }
	eventually(t, 30*time.Second, "the new track reaching A's feed", func() bool {
		listener.must(listener.json("GET", "/api/v1/feed", nil), 200, &feed)
		return len(feed.Items) > 0
	})
	it := feed.Items[0]
	if it.Type != "Create" || it.Actor.Handle != "bo-band@"+hostB || !strings.Contains(it.Text, "Fresh Off The Node") || it.URL != fmt.Sprintf("%s/app/tracks/%d", b.URL, up.Track.ID) {
		t.Errorf("feed item %+v", it)
	}

	// A profile edit on B reaches A: the follow shows the new name.
	var artists struct{ Artists []struct{ ID int64 } }
	artist.must(artist.json("GET", "/api/v1/me", nil), 200, &artists)
	artist.must(artist.json("PATCH", fmt.Sprintf("/api/v1/artists/%d", artists.Artists[0].ID), map[string]string{"name": "Bo Band (Live)"}), 200, nil)
	eventually(t, 30*time.Second, "the new artist name reaching A", func() bool {
		var list struct{ Items []following }
		listener.must(listener.json("GET", "/api/v1/follows", nil), 200, &list)
		return len(list.Items) == 1 && list.Items[0].Actor.Name == "Bo Band (Live)"
	})

	// A's listener browses B's catalogue and can stream it from B.
	var cat struct {
		Actor  struct{ Handle string }
		Tracks []struct {
			ID, Title  string
			HLSURL     string `json:"hls_url"`
			DurationMS int64  `json:"duration_ms"`
		}
	}
	listener.must(listener.json("GET", "/api/v1/remote/catalogue?handle="+url.QueryEscape("@bo-band@"+hostB), nil), 200, &cat)
	if cat.Actor.Handle != "bo-band@"+hostB || len(cat.Tracks) != 1 || cat.Tracks[0].Title != "Fresh Off The Node" ||
		cat.Tracks[0].DurationMS != 3000 || cat.Tracks[0].HLSURL != b.URL+up.Track.HLSURL {
		t.Fatalf("remote catalogue: %+v", cat)
	}
	cross := remote.do("GET", up.Track.HLSURL, nil, http.Header{"Origin": {a.URL}})
	if cross.StatusCode != 200 || cross.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cross-origin playlist: %d, ACAO %q", cross.StatusCode, cross.Header.Get("Access-Control-Allow-Origin"))
	}
	pre := remote.do("OPTIONS", up.Track.HLSURL, nil, http.Header{"Origin": {a.URL}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"x-listen-session"}})
	if pre.StatusCode != 204 || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "X-Listen-Session") {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}

	// Edits and deletions follow: the feed shows the latest version, then nothing.
	artist.must(artist.json("PATCH", fmt.Sprintf("/api/v1/tracks/%d", up.Track.ID), map[string]string{"title": "Fresher Still"}), 200, nil)
	eventually(t, 30*time.Second, "the edit reaching A's feed", func() bool {
		listener.must(listener.json("GET", "/api/v1/feed", nil), 200, &feed)
		return len(feed.Items) == 1 && strings.Contains(feed.Items[0].Text, "Fresher Still")
	})
	if feed.Items[0].Type != "Update" {
		t.Errorf("after an edit the feed shows %+v", feed.Items)
	}

	t.Run("inboxes refuse what is not signed by its actor", func(t *testing.T) {
		body := []byte(fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/fake/1","type":"Create","actor":"%s/artists/bo-band","object":{"id":"%s/fake/note","type":"Note","content":"spam"}}`, b.URL, b.URL, b.URL))
		post := func(sign func(*http.Request)) *response {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", a.URL+"/inbox", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/activity+json")
			if sign != nil {
				sign(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			return &response{resp, buf.Bytes()}
		}
		if r := post(nil); r.StatusCode != 401 {
			t.Errorf("unsigned delivery answered %d", r.StatusCode)
		} else {
			r.problem(t)
		}
		forger, _ := rsa.GenerateKey(rand.Reader, 2048)
		r := post(func(req *http.Request) {
			httpsig.SignCavage(req, body, httpsig.Key{ID: b.URL + "/artists/bo-band#main-key", Private: forger}, time.Now())
		})
		if r.StatusCode != 401 {
			t.Errorf("delivery signed with a forged key answered %d: %s", r.StatusCode, r.Body)
		}
		listener.must(listener.json("GET", "/api/v1/feed", nil), 200, &feed)
		for _, it := range feed.Items {
			if strings.Contains(it.Text, "spam") {
				t.Error("a forged activity reached the feed")
			}
		}
	})

	artist.must(artist.json("DELETE", fmt.Sprintf("/api/v1/tracks/%d", up.Track.ID), nil), 204, nil)
	eventually(t, 30*time.Second, "the deletion reaching A's feed", func() bool {
		listener.must(listener.json("GET", "/api/v1/feed", nil), 200, &feed)
		return len(feed.Items) == 0
	})

	listener.must(listener.json("DELETE", fmt.Sprintf("/api/v1/follows/%d", f.ID), nil), 204, nil)
	eventually(t, 30*time.Second, "B forgetting the follower", func() bool {
		return remote.activity("/artists/bo-band/followers")["totalItems"] == float64(0)
	})
}

// TestDomainBlock blocks a server: what came from it is purged, following
// it is refused, and unblocking lets it federate again.
func TestDomainBlock(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	listener := newClient(t, a.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	signupArtist(t, b.URL, "boris", "Bo Band")
	admin := newClient(t, a.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": a.AdminUser, "password": a.AdminPassword}), 200, nil)

	follow := func() *response {
		return listener.json("POST", "/api/v1/follows", map[string]string{"handle": "@bo-band@" + hostB})
	}
	listener.must(follow(), 201, nil)
	type list struct{ Items []struct{ State string } }
	eventually(t, 30*time.Second, "the follow being accepted", func() bool {
		var l list
		listener.must(listener.json("GET", "/api/v1/follows", nil), 200, &l)
		return len(l.Items) == 1 && l.Items[0].State == "accepted"
	})

	if r := listener.json("POST", "/api/v1/admin/domain-blocks", map[string]string{"host": hostB}); r.StatusCode != 403 {
		t.Errorf("a listener blocked a domain: %d", r.StatusCode)
	}
	admin.must(admin.json("POST", "/api/v1/admin/domain-blocks", map[string]string{"host": b.URL, "reason": "testing"}), 201, nil)
	var l list
	listener.must(listener.json("GET", "/api/v1/follows", nil), 200, &l)
	if len(l.Items) != 0 {
		t.Errorf("follows of a blocked server survived: %+v", l.Items)
	}
	if r := follow(); r.StatusCode != 403 || !strings.Contains(string(r.Body), "blocked") {
		t.Errorf("following on a blocked server answered %d: %s", r.StatusCode, r.Body)
	}
	var blocks struct {
		Items []struct{ Host, Reason string }
	}
	admin.must(admin.json("GET", "/api/v1/admin/domain-blocks", nil), 200, &blocks)
	if len(blocks.Items) != 1 || blocks.Items[0].Host != hostB || blocks.Items[0].Reason != "testing" {
		t.Errorf("blocks %+v", blocks.Items)
	}
	admin.must(admin.json("DELETE", "/api/v1/admin/domain-blocks/"+hostB, nil), 204, nil)
	listener.must(follow(), 201, nil)
}
