package e2e_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// A node whose admin caches remote media streams a followed artist's
// tracks from its own cache: the catalogue points players at the node,
// the files are the other server's, and they keep playing once that
// server is down. Servers the node does not federate with, and anything
// but streaming files, are not fetched.
func TestRemoteMediaCache(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation", "--cache-remote-media")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	artist, _ := signupArtist(t, b.URL, "cachy", "Cache Me")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "cached.mp3", Seconds: 4, Title: "Kept Close"})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	artist.waitTrack(up.Track.ID)

	listener := newClient(t, a.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)
	listener.must(listener.json("POST", "/api/v1/follows", map[string]string{"handle": "@cache-me@" + hostB}), 201, nil)
	eventually(t, 30*time.Second, "B accepting the follow", func() bool {
		var list struct{ Items []struct{ State string } }
		listener.must(listener.json("GET", "/api/v1/follows", nil), 200, &list)
		return len(list.Items) == 1 && list.Items[0].State == "accepted"
	})
	var cat struct {
		Tracks []struct {
			HLSURL string `json:"hls_url"`
		}
	}
	listener.must(listener.json("GET", "/api/v1/remote/catalogue?handle="+url.QueryEscape("@cache-me@"+hostB), nil), 200, &cat)
	want := "/media/remote/" + hostB + up.Track.HLSURL
	if len(cat.Tracks) != 1 || cat.Tracks[0].HLSURL != want {
		t.Fatalf("catalogue through the cache: %+v, want %s", cat.Tracks, want)
	}
	direct := newClient(t, b.URL)
	master := listener.do("GET", want, nil, nil)
	if master.StatusCode != 200 || !bytes.Equal(master.Body, direct.do("GET", up.Track.HLSURL, nil, nil).Body) {
		t.Fatalf("master playlist through the cache: %d\n%s", master.StatusCode, master.Body)
	}
	base := strings.TrimSuffix(want, "master.m3u8")
	variant := firstURI(t, string(master.Body))
	playlist := listener.do("GET", base+variant, nil, nil)
	seg := firstURI(t, string(playlist.Body))
	dir := variant[:strings.LastIndex(variant, "/")+1]
	first := listener.do("GET", base+dir+seg, nil, nil)
	fromB := direct.do("GET", strings.TrimSuffix(up.Track.HLSURL, "master.m3u8")+dir+seg, nil, nil)
	if first.StatusCode != 200 || len(first.Body) < 500 || !bytes.Equal(first.Body, fromB.Body) || first.Header.Get("Content-Type") != "audio/mp4" {
		t.Fatalf("segment through the cache: %d, %d bytes (%d from B), %q", first.StatusCode, len(first.Body), len(fromB.Body), first.Header.Get("Content-Type"))
	}

	b.Stop()
	again := listener.do("GET", base+dir+seg, nil, nil)
	if again.StatusCode != 200 || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("a cached segment while B is down: %d", again.StatusCode)
	}
	if r := listener.do("GET", base+dir+"seg999.m4s", nil, nil); r.StatusCode == 200 {
		t.Errorf("an uncached segment of a server that is down answered 200")
	}
	for _, path := range []string{
		"/media/remote/unknown.example/media/tracks/1/hls/master.m3u8", // a server it never federated with
		"/media/remote/" + hostB + "/api/v1/me",                        // not media
		"/media/remote/" + hostB + up.Track.OriginalURL,                // not a streaming file
	} {
		if r := listener.do("GET", path, nil, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s answered %d, want 404", path, r.StatusCode)
		}
	}
}
