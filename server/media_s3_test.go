package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/blob/s3"
	"nineten.dev/listen"
	"nineten.dev/server"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// s3Node is the node's HTTP surface over SQLite and a bucket of the test
// S3 service, with one public track and one hidden track ready to play.
type s3Node struct {
	t        *testing.T
	db       *sqlstore.DB
	bucket   s3test.Bucket
	listens  *listen.Service
	url      string
	public   nineten.ID
	hidden   nineten.ID
	segment  []byte
	original []byte
}

const playlist = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.000,\nseg0.m4s\n#EXTINF:4.000,\nseg1.m4s\n#EXT-X-ENDLIST\n"

func newS3Node(t *testing.T, redirect bool) *s3Node {
	t.Helper()
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n := &s3Node{t: t, db: db, bucket: s3test.NewBucket(t),
		segment: bytes.Repeat([]byte("segment!"), 4096), original: bytes.Repeat([]byte("fLaC"), 100_000)}
	blobs := n.store()
	u := &nineten.User{Username: "artist", PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := &nineten.Artist{OwnerID: u.ID, Name: "A", Slug: "a", CreatedAt: time.Now()}
	if err := db.CreateArtist(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, hidden := range []bool{false, true} {
		tr := &nineten.Track{ArtistID: a.ID, Title: "T", DurationMS: 8000, Status: nineten.TrackReady, Hidden: hidden,
			Original:  nineten.Original{MIMEType: "audio/flac", Filename: "Song.flac"},
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateTrack(ctx, tr); err != nil {
			t.Fatal(err)
		}
		for file, content := range map[string][]byte{
			"hls/opus64/index.m3u8": []byte(playlist), "hls/opus64/init.mp4": []byte("init"),
			"hls/opus64/seg0.m4s": n.segment, "hls/opus64/seg1.m4s": n.segment, "original": n.original,
		} {
			if _, err := blobs.Put(ctx, fmt.Sprintf("tracks/%d/%s", tr.ID, file), bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
		}
		if hidden {
			n.hidden = tr.ID
		} else {
			n.public = tr.ID
		}
	}
	n.listens = &listen.Service{Store: db, Blobs: blobs, Secret: bytes.Repeat([]byte{7}, 32)}
	n.url = n.serve(blobs, redirect)
	return n
}

// store opens the bucket afresh, as another process would.
func (n *s3Node) store() *s3.Store {
	n.t.Helper()
	c, err := s3.ParseURL(n.bucket.URL())
	if err != nil {
		n.t.Fatal(err)
	}
	c.Creds = credentials.NewStaticV4(n.bucket.AccessKey, n.bucket.SecretKey, "")
	s, err := s3.Open(n.t.Context(), c)
	if err != nil {
		n.t.Fatal(err)
	}
	return s
}

func (n *s3Node) serve(blobs nineten.BlobStore, redirect bool) string {
	srv := httptest.NewServer((&server.Server{Store: n.db, Blobs: blobs, Listens: n.listens, MediaRedirect: redirect}).Handler())
	n.t.Cleanup(srv.Close)
	return srv.URL
}

// get fetches a media file of a track, following redirects, and returns
// the final answer with its body and the status of the first hop.
func (n *s3Node) get(base string, track nineten.ID, file string, header http.Header) (first int, resp *http.Response, body []byte) {
	n.t.Helper()
	req, _ := http.NewRequestWithContext(n.t.Context(), http.MethodGet, fmt.Sprintf("%s/media/tracks/%d/%s", base, track, file), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if first == 0 {
			first = r.Response.StatusCode
		}
		return nil
	}}
	resp, err := client.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	if first == 0 {
		first = resp.StatusCode
	}
	return first, resp, body
}

func (n *s3Node) served(sessionID string) []int {
	n.t.Helper()
	segs, err := n.db.ServedSegments(n.t.Context(), sessionID)
	if err != nil {
		n.t.Fatal(err)
	}
	var idx []int
	for _, s := range segs {
		idx = append(idx, s.Index)
	}
	return idx
}

// servedSoon waits for the served segments of a session to be want: when
// the node sends bytes itself it records them after the last byte, which
// the client may read first.
func (n *s3Node) servedSoon(sessionID string, want ...int) {
	n.t.Helper()
	deadline := time.After(5 * time.Second)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for {
		got := n.served(sessionID)
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-deadline:
			n.t.Fatalf("served segments %v, want %v", got, want)
		case <-poll.C:
		}
	}
}

func (n *s3Node) session() string {
	n.t.Helper()
	st, err := n.listens.Start(n.t.Context(), nil, "anon-browser", n.public, listen.Client{})
	if err != nil {
		n.t.Fatal(err)
	}
	return st.SessionID
}

// Media on S3 is served through the node as media on disk is: ranges,
// ETags that another process gives too, 304s, and served segments counted.
func TestS3MediaThroughTheNode(t *testing.T) {
	n := newS3Node(t, false)
	sid := n.session()
	// A range first: it must not count, and the whole segment after it
	// must (waiting for the second record outlasts the first).
	status, _, body := n.get(n.url, n.public, "hls/opus64/seg1.m4s", http.Header{"Range": {"bytes=8-15"}, "X-Listen-Session": {sid}})
	if status != http.StatusPartialContent || !bytes.Equal(body, n.segment[8:16]) {
		t.Errorf("GET Range: %d %q", status, body)
	}
	status, resp, body := n.get(n.url, n.public, "hls/opus64/seg0.m4s", http.Header{"X-Listen-Session": {sid}})
	etag := resp.Header.Get("ETag")
	if status != http.StatusOK || !bytes.Equal(body, n.segment) || etag == "" {
		t.Fatalf("GET segment: %d with %d bytes, ETag %q", status, len(body), etag)
	}
	n.servedSoon(sid, 0)
	// Another node process on the same bucket names the blob alike, so a
	// player's cached copy revalidates against either.
	other := n.serve(n.store(), false)
	status, resp, _ = n.get(other, n.public, "hls/opus64/seg0.m4s", http.Header{"If-None-Match": {etag}})
	if status != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag at another process: %d (ETag there %q, here %q)", status, resp.Header.Get("ETag"), etag)
	}
}

// In redirect mode a media GET is a 302 to a pre-signed URL that a plain
// HTTP client follows to the bytes in the bucket; playlists, HEADs and
// hidden tracks stay with the node; a whole segment granted to a session
// counts as served, a range does not.
func TestMediaRedirect(t *testing.T) {
	n := newS3Node(t, true)
	sid := n.session()

	status, resp, body := n.get(n.url, n.public, "hls/opus64/seg1.m4s", http.Header{"X-Listen-Session": {sid}})
	if status != http.StatusFound || resp.StatusCode != http.StatusOK || !bytes.Equal(body, n.segment) {
		t.Fatalf("GET segment: first %d, then %d with %d bytes", status, resp.StatusCode, len(body))
	}
	if resp.Request.URL.Host != n.bucket.Endpoint {
		t.Errorf("the segment came from %s, not the bucket at %s", resp.Request.URL.Host, n.bucket.Endpoint)
	}
	if got := n.served(sid); len(got) != 1 || got[0] != 1 {
		t.Errorf("after a redirect for segment 1 the served segments are %v", got)
	}
	status, _, body = n.get(n.url, n.public, "hls/opus64/seg0.m4s", http.Header{"X-Listen-Session": {sid}, "Range": {"bytes=0-7"}})
	if status != http.StatusFound || !bytes.Equal(body, n.segment[:8]) {
		t.Errorf("GET Range: first %d, then %q", status, body)
	}
	if got := n.served(sid); len(got) != 1 {
		t.Errorf("a redirect for a range counted as served: %v", got)
	}

	// The 302 itself is never cached: each fetch must reach the node.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("%s/media/tracks/%d/original?download", n.url, n.public), nil)
	first, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	first.Body.Close()
	loc, _ := url.Parse(first.Header.Get("Location"))
	if cc := first.Header.Get("Cache-Control"); first.StatusCode != http.StatusFound || cc != "private, no-store" || loc.Query().Get("X-Amz-Expires") != "900" {
		t.Errorf("redirect: %d, Cache-Control %q, Location %s", first.StatusCode, cc, loc)
	}
	status, resp, body = n.get(n.url, n.public, "original?download", nil)
	if status != http.StatusFound || !bytes.Equal(body, n.original) ||
		resp.Header.Get("Content-Type") != "audio/flac" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("original: first %d, %d bytes, Content-Type %q, Content-Disposition %q",
			status, len(body), resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}

	// The node serves what it writes or checks itself.
	status, resp, body = n.get(n.url, n.public, "hls/opus64/index.m3u8", nil)
	if status != http.StatusOK || string(body) != playlist || resp.Request.URL.Host == n.bucket.Endpoint {
		t.Errorf("playlist: %d from %s", status, resp.Request.URL.Host)
	}
	if _, _, body = n.get(n.url, n.public, "hls/opus64/index.m3u8?ls="+sid, nil); !strings.Contains(string(body), "seg0.m4s?ls=") {
		t.Errorf("a session's playlist was not rewritten: %q", body)
	}
	head, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, fmt.Sprintf("%s/media/tracks/%d/hls/opus64/seg0.m4s", n.url, n.public), nil)
	if resp, err := http.DefaultTransport.RoundTrip(head); err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(n.segment)) {
		t.Errorf("HEAD: %v, %v", resp, err)
	}
	if status, _, _ := n.get(n.url, n.hidden, "hls/opus64/seg0.m4s", nil); status != http.StatusNotFound {
		t.Errorf("a hidden track's segment answered %d to a stranger", status)
	}

	// A store that cannot presign (local disk) is served by the node.
	dir := t.TempDir()
	d, err := disk.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Put(t.Context(), fmt.Sprintf("tracks/%d/hls/opus64/seg0.m4s", n.public), bytes.NewReader(n.segment)); err != nil {
		t.Fatal(err)
	}
	if status, _, body := n.get(n.serve(d, true), n.public, "hls/opus64/seg0.m4s", nil); status != http.StatusOK || !bytes.Equal(body, n.segment) {
		t.Errorf("redirect mode on disk: %d with %d bytes", status, len(body))
	}
}
