package e2e_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"nineten.dev/federation/httpsig"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// Three nodes: listeners on A and C follow an artist on B (found by
// WebFinger). B's new track reaches both followers' nodes and streams from
// B; while C is down, B keeps C's delivery and retries it once C is back;
// a rename and a deletion reach both. B's inbox refuses oversized and
// stale requests.
func TestThreeNodes(t *testing.T) {
	fast := []string{"--dev-federation", "--delivery-retry-base", "1s"}
	a := nodetest.Start(t, fast...)
	b := nodetest.Start(t, fast...)
	// C gets a fixed address, so that it comes back where its followers
	// know it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addrC := l.Addr().String()
	l.Close()
	c := nodetest.Start(t, append(fast, "--addr", addrC)...)
	hostB := strings.TrimPrefix(b.URL, "http://")

	artist, _ := signupArtist(t, b.URL, "tri", "Tri Node")
	type following struct{ State string }
	var fans []*client
	for i, n := range []*nodetest.Node{a, c} {
		fan := newClient(t, n.URL)
		name := fmt.Sprintf("fan%d", i)
		fan.must(fan.json("POST", "/api/v1/auth/signup", map[string]string{"username": name, "password": "password-" + name}), 201, nil)
		fan.must(fan.json("POST", "/api/v1/follows", map[string]string{"handle": "@tri-node@" + hostB}), 201, nil)
		eventually(t, 30*time.Second, "B accepting "+name+"'s follow", func() bool {
			var list struct{ Items []following }
			fan.must(fan.json("GET", "/api/v1/follows", nil), 200, &list)
			return len(list.Items) == 1 && list.Items[0].State == "accepted"
		})
		fans = append(fans, fan)
	}

	type item struct{ Type, URL, Text string }
	feedOf := func(fan *client) []item {
		var feed struct{ Items []item }
		fan.must(fan.json("GET", "/api/v1/feed", nil), 200, &feed)
		return feed.Items
	}
	publish := func(title string) track {
		src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: strings.ReplaceAll(title, " ", "-") + ".mp3", Seconds: 3, Title: title})
		var up struct{ Track track }
		artist.must(artist.uploadFile(src), 202, &up)
		return artist.waitTrack(up.Track.ID)
	}
	first := publish("First Light")
	for _, fan := range fans {
		eventually(t, 30*time.Second, "the new track reaching "+fan.base, func() bool {
			items := feedOf(fan)
			return len(items) == 1 && strings.Contains(items[0].Text, "First Light")
		})
	}
	// It streams from B, to players on other origins.
	r := newClient(t, b.URL).do("GET", first.HLSURL, nil, http.Header{"Origin": {a.URL}})
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" || !bytes.Contains(r.Body, []byte("#EXTM3U")) {
		t.Errorf("streaming B's track from A's player: %d %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}

	// C goes down; B publishes; C comes back and gets it by a retry.
	c.Stop()
	second := publish("While You Were Out")
	eventually(t, 30*time.Second, "the second track reaching A", func() bool { return len(feedOf(fans[0])) == 2 })
	c.Restart()
	if c.URL != "http://"+addrC {
		t.Fatalf("C came back at %s, not %s", c.URL, addrC)
	}
	eventually(t, 60*time.Second, "B's retry reaching C", func() bool {
		items := feedOf(fans[1])
		return len(items) == 2 && strings.Contains(items[0].Text, "While You Were Out")
	})

	// A rename and a deletion reach both.
	artist.must(artist.json("PATCH", fmt.Sprintf("/api/v1/tracks/%d", second.ID), map[string]string{"title": "Back Again"}), 200, nil)
	artist.must(artist.json("DELETE", fmt.Sprintf("/api/v1/tracks/%d", first.ID), nil), 204, nil)
	for _, fan := range fans {
		eventually(t, 30*time.Second, "the rename and the deletion reaching "+fan.base, func() bool {
			items := feedOf(fan)
			return len(items) == 1 && strings.Contains(items[0].Text, "Back Again") && items[0].Type == "Update"
		})
	}

	// Requests B's inbox refuses, each with a reason.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	post := func(body []byte, signedAt time.Time) *response {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", b.URL+"/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/activity+json")
		httpsig.SignCavage(req, body, httpsig.Key{ID: a.URL + "/users/fan0#main-key", Private: key}, signedAt)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return &response{resp, buf.Bytes()}
	}
	huge := append([]byte(`{"type":"Create","actor":"`+a.URL+`/users/fan0","object":{"type":"Note","content":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	huge = append(huge, []byte(`"}}`)...)
	if r := post(huge, time.Now()); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB delivery answered %d", r.StatusCode)
	} else {
		r.problem(t)
	}
	stale := []byte(`{"type":"Like","actor":"` + a.URL + `/users/fan0","object":"` + b.URL + `/artists/tri-node"}`)
	if r := post(stale, time.Now().Add(-24*time.Hour)); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a delivery signed a day ago answered %d: %s", r.StatusCode, r.Body)
	} else if p := r.problem(t); !strings.Contains(fmt.Sprint(p["detail"]), "date") && !strings.Contains(fmt.Sprint(p["detail"]), "old") {
		t.Errorf("the refusal of a stale delivery does not say why: %v", p["detail"])
	}
}
