package s3_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"

	nineten "nineten.dev"
	"nineten.dev/blob/s3"
	"nineten.dev/testkit/s3test"
)

// recorder is a reverse proxy in front of the S3 service that notes each
// request's method and Range and counts the bytes of the answers.
type recorder struct {
	URL   *url.URL
	mu    sync.Mutex
	reqs  []string
	bytes atomic.Int64
}

func newRecorder(t *testing.T, endpoint string) *recorder {
	rec := &recorder{}
	target := &url.URL{Scheme: "http", Host: endpoint}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the client signed the Host it sent
			rec.mu.Lock()
			rec.reqs = append(rec.reqs, strings.TrimSpace(r.In.Method+" "+r.In.Header.Get("Range")))
			rec.mu.Unlock()
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Body = countingBody{resp.Body, &rec.bytes}
			return nil
		},
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	rec.URL, _ = url.Parse(srv.URL)
	return rec
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
	r.bytes.Store(0)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// storeAt opens a store on bucket b through endpoint.
func storeAt(t *testing.T, b s3test.Bucket, endpoint, prefix string) *s3.Store {
	t.Helper()
	s, err := s3.Open(t.Context(), s3.Config{
		Bucket: b.Name, Prefix: prefix, Endpoint: endpoint, Region: b.Region, Insecure: true, Style: "path",
		Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Open costs one HEAD, and a Range served from the blob costs one GET of
// that range: serving a few bytes of a large original never downloads it.
func TestRangeReadsFetchOnlyTheRange(t *testing.T) {
	direct, b := open(t)
	const size = 32 << 20
	if _, err := direct.Put(t.Context(), "tracks/1/original", io.LimitReader(zeros{}, size)); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t, b.Endpoint)
	s := storeAt(t, b, rec.URL.Host, "")
	rec.reset()

	blob, err := s.Open(t.Context(), "tracks/1/original")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.requests(); !slices.Equal(got, []string{"HEAD"}) {
		t.Errorf("Open made requests %q, want one HEAD", got)
	}
	req := httptest.NewRequest(http.MethodGet, "/media/tracks/1/original", nil)
	req.Header.Set("Range", "bytes=25165824-25231359") // 64 KiB at 24 MiB
	w := httptest.NewRecorder()
	// As the node does: with a type, ServeContent need not sniff one
	// from the first bytes.
	w.Header().Set("Content-Type", "audio/flac")
	http.ServeContent(w, req, "", blob.ModTime(), blob)
	blob.Close()
	if w.Code != http.StatusPartialContent || w.Body.Len() != 64<<10 {
		t.Fatalf("ServeContent answered %d with %d bytes", w.Code, w.Body.Len())
	}
	if got := rec.requests(); !slices.Equal(got, []string{"HEAD", "GET bytes=25165824-33554431"}) {
		t.Errorf("serving a Range made requests %q, want the HEAD and one GET from the range on", got)
	}
	// The GET asks for the rest of the object (a Seek says where reading
	// starts, not where it ends); closing the blob stops it early. Even
	// unstopped it reads 8 of the 32 MiB.
	if n := rec.bytes.Load(); n > 8<<20 {
		t.Errorf("serving 64 KiB fetched %d bytes", n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A blob replaced while it is open fails the next read with KindConflict
// instead of returning bytes of the new object as if they were the old one's.
func TestReplacedWhileOpenIsConflict(t *testing.T) {
	s, _ := open(t)
	if _, err := s.Put(t.Context(), "seg", strings.NewReader("old content")); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(t.Context(), "seg")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := s.Put(t.Context(), "seg", strings.NewReader("new content")); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(b)
	if nineten.ErrorKind(err) != nineten.KindConflict {
		t.Errorf("reading a replaced blob = %q, %v; want KindConflict", data, err)
	}
}

// Stores with different prefixes share a bucket without seeing each other.
func TestPrefixesShareABucket(t *testing.T) {
	_, b := open(t)
	a, c := storeAt(t, b, b.Endpoint, "node-a"), storeAt(t, b, b.Endpoint, "node-c")
	whole := storeAt(t, b, b.Endpoint, "")
	for _, s := range []*s3.Store{a, c} {
		if _, err := s.Put(t.Context(), "tracks/1/original", strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := a.List(t.Context(), "tracks"); err != nil || !slices.Equal(keys, []string{"tracks/1/original"}) {
		t.Errorf("List with a prefix = %v, %v", keys, err)
	}
	if err := a.DeletePrefix(t.Context(), "tracks"); err != nil {
		t.Fatal(err)
	}
	if keys, err := whole.List(t.Context(), "node-c"); err != nil || !slices.Equal(keys, []string{"node-c/tracks/1/original"}) {
		t.Errorf("after node-a's DeletePrefix the bucket holds %v, %v; want node-c's blob", keys, err)
	}
}

// Misconfiguration fails at Open with KindUnavailable and a message
// saying what to fix.
func TestOpenExplainsMisconfiguration(t *testing.T) {
	_, b := open(t)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	for name, c := range map[string]s3.Config{
		"wrong secret":    {Bucket: b.Name, Endpoint: b.Endpoint, Creds: credentials.NewStaticV4(b.AccessKey, "wrong", "")},
		"unknown key":     {Bucket: b.Name, Endpoint: b.Endpoint, Creds: credentials.NewStaticV4("nobody", "nothing", "")},
		"missing bucket":  {Bucket: "no-such-bucket", Endpoint: b.Endpoint, Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, "")},
		"no server there": {Bucket: b.Name, Endpoint: closed, Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, "")},
		"no credentials":  {Bucket: b.Name, Endpoint: b.Endpoint, Creds: credentials.New(&credentials.Static{})},
	} {
		c.Region, c.Insecure, c.Style = b.Region, true, "path"
		want := map[string]string{
			"wrong secret": "AWS_SECRET_ACCESS_KEY", "unknown key": "AWS_ACCESS_KEY_ID", "missing bucket": "does not exist",
			"no server there": "cannot reach", "no credentials": "AWS_ACCESS_KEY_ID",
		}[name]
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		s, err := s3.Open(ctx, c)
		cancel()
		if err == nil {
			s.Close()
		}
		if nineten.ErrorKind(err) != nineten.KindUnavailable || !strings.Contains(nineten.ErrorMessage(err), want) {
			t.Errorf("%s: Open = %v; want KindUnavailable saying %q", name, err, want)
		}
	}
}

// A pre-signed URL serves the blob to a plain HTTP client, with the
// response headers the node asked for.
func TestPresignGet(t *testing.T) {
	s, _ := open(t)
	want := bytes.Repeat([]byte("opus"), 5000)
	if _, err := s.Put(t.Context(), "tracks/3/original", bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignGet(t.Context(), "tracks/3/original", 15*time.Minute, http.Header{
		"Content-Type":        {"audio/flac"},
		"Content-Disposition": {`attachment; filename="song.flac"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if exp := u.Query().Get("X-Amz-Expires"); exp != "900" {
		t.Errorf("URL expires after %q seconds, want 900", exp)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Fatalf("GET of the signed URL: %s with %d bytes", resp.Status, len(body))
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "audio/flac" || cd != `attachment; filename="song.flac"` {
		t.Errorf("signed URL answered Content-Type %q, Content-Disposition %q", ct, cd)
	}
	if _, err := s.PresignGet(t.Context(), "tracks/3/original", time.Minute, http.Header{"Set-Cookie": {"x"}}); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("presigning an impossible header = %v, want KindInvalid", err)
	}
}
