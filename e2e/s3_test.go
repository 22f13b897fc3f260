package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
	"nineten.dev/testkit/s3test"
)

// A node started with --blob s3://… keeps every media file in the bucket:
// an upload is transcoded into it, players get playlists from the node and
// (with --media-redirect) the bytes from the bucket, and deleting the
// track empties its part of the bucket.
func TestNodeWithMediaOnS3(t *testing.T) {
	b := s3test.NewBucket(t)
	for _, kv := range b.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	node := nodetest.Start(t, "--blob", b.URL(), "--media-redirect")
	artist, _ := signupArtist(t, node.URL, "sam", "Sam Stone")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "bucket.flac", Seconds: 6, Title: "Bucket Song", Album: "Cloud", Cover: true})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	tr := artist.waitTrack(up.Track.ID)
	if tr.Status != "ready" {
		t.Fatalf("track ended %q: %s", tr.Status, tr.Error)
	}

	bucket := b.Client(t)
	list := func(prefix string) []string {
		var keys []string
		for o := range bucket.ListObjects(t.Context(), b.Name, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			keys = append(keys, strings.TrimPrefix(o.Key, prefix))
		}
		return keys
	}
	prefix := fmt.Sprintf("tracks/%d/", tr.ID)
	keys := list(prefix)
	for _, want := range []string{"original", "hls/master.m3u8", "hls/opus128/index.m3u8", "hls/opus128/init.mp4", "hls/opus128/seg0.m4s", "waveform.json", "cover-600.jpg"} {
		if !slices.Contains(keys, want) {
			t.Errorf("the bucket lacks %s%s; it holds %v", prefix, want, keys)
		}
	}
	if _, err := os.Stat(filepath.Join(node.Data, "media")); !os.IsNotExist(err) {
		t.Errorf("the node made a local media directory: %v", err)
	}

	anon := newClient(t, node.URL)
	nodeHost := strings.TrimPrefix(node.URL, "http://")
	r := anon.do("GET", tr.HLSURL, nil, nil)
	if r.StatusCode != 200 || r.Request.URL.Host != nodeHost || !strings.Contains(string(r.Body), "opus128/index.m3u8") {
		t.Errorf("master playlist: %d from %s", r.StatusCode, r.Request.URL.Host)
	}
	segs := variantSegments(t, anon, tr.ID, "opus128")
	seg := anon.do("GET", fmt.Sprintf("/media/tracks/%d/hls/opus128/%s", tr.ID, segs[0].URI), nil, nil)
	if seg.StatusCode != 200 || seg.Request.URL.Host != b.Endpoint || seg.Header.Get("Content-Type") != "audio/mp4" || len(seg.Body) < 1000 {
		t.Errorf("segment: %d, %d bytes of %q from %s", seg.StatusCode, len(seg.Body), seg.Header.Get("Content-Type"), seg.Request.URL.Host)
	}
	orig := anon.do("GET", tr.OriginalURL, nil, nil)
	want, _ := os.ReadFile(src)
	if sha256.Sum256(orig.Body) != sha256.Sum256(want) || orig.Request.URL.Host != b.Endpoint {
		t.Errorf("original: %d bytes from %s differ from the upload", len(orig.Body), orig.Request.URL.Host)
	}

	artist.must(artist.json("DELETE", fmt.Sprintf("/api/v1/tracks/%d", tr.ID), nil), 204, nil)
	if keys := list(prefix); len(keys) != 0 {
		t.Errorf("after deleting the track the bucket still holds %v", keys)
	}

	// A profile picture goes to the bucket too, is served from it
	// (redirected) with its type, and leaves it when removed.
	var me struct {
		AvatarURL *string `json:"avatar_url"`
	}
	artist.must(artist.multipart("PUT", "/api/v1/me/pictures/avatar", geotagged(t, 500, 500, "GPS"), "me.jpg", "image/jpeg"), 200, &me)
	key := strings.TrimPrefix(*me.AvatarURL, "/media/")
	if keys := list("profiles/"); len(keys) != 1 || "profiles/"+keys[0] != key {
		t.Errorf("the bucket's profiles: %v, want %s", keys, key)
	}
	pic := anon.do("GET", *me.AvatarURL, nil, nil)
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(pic.Body)); err != nil || cfg.Width != 400 || pic.Request.URL.Host != b.Endpoint || pic.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("the avatar from the bucket: %d %q from %s, %+v %v", pic.StatusCode, pic.Header.Get("Content-Type"), pic.Request.URL.Host, cfg, err)
	}
	artist.must(artist.json("DELETE", "/api/v1/me/pictures/avatar", nil), 200, nil)
	if keys := list("profiles/"); len(keys) != 0 {
		t.Errorf("after removing the avatar the bucket still holds %v", keys)
	}
}
