package safehttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"nineten.dev"
)

// testClient is a Client whose name lookups come from a table and whose
// connections are counted. Its dialer refuses anything but loopback, so a
// bug in the guard fails the test instead of sending packets elsewhere.
type testClient struct {
	*Client
	dials   atomic.Int32
	lookups atomic.Int32
	mu      sync.Mutex
	names   map[string][]string // host -> addresses, consumed in turn if several answers are queued
}

func newTestClient(t *testing.T, o Options) *testClient {
	t.Helper()
	tc := &testClient{Client: New(o), names: map[string][]string{}}
	tc.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		tc.lookups.Add(1)
		tc.mu.Lock()
		defer tc.mu.Unlock()
		answer, ok := tc.names[host]
		if !ok {
			return nil, fmt.Errorf("test resolver: no such host %q", host)
		}
		var out []netip.Addr
		for _, a := range answer {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
	dial := tc.dial
	tc.dial = func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
		tc.dials.Add(1)
		if !addr.Addr().IsLoopback() {
			t.Errorf("the client dialed %v: the guard let a non-loopback address through", addr)
			return nil, errors.New("tests connect to loopback only")
		}
		return dial(ctx, network, addr)
	}
	t.Cleanup(tc.transport.CloseIdleConnections)
	return tc
}

func (tc *testClient) resolve(host string, addrs ...string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.names[host] = addrs
}

// wantErr fails unless err is a *nineten.Error of kind with a message
// containing every fragment.
func wantErr(t *testing.T, err error, kind nineten.Kind, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	var e *nineten.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not a *nineten.Error", err, err)
	}
	if got := nineten.ErrorKind(err); got != kind {
		t.Errorf("kind %v, want %v (error: %v)", got, kind, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

// counting wraps h and counts the requests that reached it.
func counting(h http.HandlerFunc) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}, &n
}

func actor(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
	io.WriteString(w, `{"type":"Person","preferredUsername":"ada"}`)
}

func serverPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func TestLoopbackRefusedByDefault(t *testing.T) {
	h, hits := counting(actor)
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	p := serverPort(t, srv)
	c := newTestClient(t, Options{})

	for _, tt := range []struct{ url, why string }{
		{"https://127.0.0.1:" + p + "/actor", "127.0.0.1 is a loopback address"},
		{"https://[::1]:" + p + "/actor", "::1 is a loopback address"},
		{"https://[::ffff:127.0.0.1]:" + p + "/actor", "IPv4-mapped form of 127.0.0.1"},
	} {
		var v map[string]any
		err := c.GetJSON(context.Background(), tt.url, "", nil, &v)
		wantErr(t, err, nineten.KindPermission, "refusing to fetch "+tt.url, tt.why)
	}

	// A name is judged by what it resolves to at dial time: here the
	// system resolver's answer for localhost (from /etc/hosts).
	c.lookup = New(Options{}).lookup
	var v map[string]any
	err := c.GetJSON(context.Background(), "https://localhost:"+p+"/actor", "", nil, &v)
	wantErr(t, err, nineten.KindPermission, "localhost resolves to", "loopback address")

	// And by a resolver we control, so the test does not depend on the host.
	c = newTestClient(t, Options{})
	c.resolve("peer.test", "127.0.0.1")
	err = c.GetJSON(context.Background(), "https://peer.test:"+p+"/actor", "", nil, &v)
	wantErr(t, err, nineten.KindPermission, "refusing to fetch https://peer.test:"+p+"/actor: peer.test resolves to 127.0.0.1, a loopback address")
	if c.lookups.Load() != 1 {
		t.Errorf("%d lookups, want 1: the name must be judged by its resolved address", c.lookups.Load())
	}

	// Plain http is dev-only.
	err = c.GetJSON(context.Background(), "http://peer.test:"+p+"/actor", "", nil, &v)
	wantErr(t, err, nineten.KindInvalid, "federation requires https")

	if c.dials.Load() != 0 || hits.Load() != 0 {
		t.Errorf("%d dials, %d requests served; want none", c.dials.Load(), hits.Load())
	}
}

func TestLoopbackAllowedInDevMode(t *testing.T) {
	var gotUA, gotAccept string
	h, hits := counting(func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAccept = r.UserAgent(), r.Header.Get("Accept")
		actor(w, r)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := serverPort(t, srv)
	c := newTestClient(t, Options{AllowLoopback: true, UserAgent: "9ten/test (+http://127.0.0.1/)"})
	c.resolve("peer.test", "127.0.0.1")

	for _, u := range []string{srv.URL + "/actor", "http://peer.test:" + p + "/actor"} {
		var v struct{ PreferredUsername string }
		if err := c.GetJSON(context.Background(), u, "", nil, &v); err != nil {
			t.Fatalf("GetJSON(%s): %v", u, err)
		}
		if v.PreferredUsername != "ada" {
			t.Errorf("decoded %+v", v)
		}
	}
	if hits.Load() != 2 {
		t.Errorf("%d requests served, want 2", hits.Load())
	}
	if gotUA != "9ten/test (+http://127.0.0.1/)" || gotAccept != DefaultAccept {
		t.Errorf("User-Agent %q, Accept %q", gotUA, gotAccept)
	}

	// https works too, with the test server's certificate trusted.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(actor))
	defer tlsSrv.Close()
	c.transport.TLSClientConfig = tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	var v map[string]any
	if err := c.GetJSON(context.Background(), tlsSrv.URL+"/actor", "", nil, &v); err != nil {
		t.Fatalf("GetJSON over https: %v", err)
	}
}

// TestDevModeStillRefusesPrivate: AllowLoopback opens loopback and nothing
// else, and a name with one bad address among good ones is refused whole.
func TestDevModeStillRefusesPrivate(t *testing.T) {
	c := newTestClient(t, Options{AllowLoopback: true})
	c.resolve("lan.test", "192.168.1.10")
	c.resolve("mixed.test", "127.0.0.1", "10.0.0.5")
	c.resolve("meta.test", "169.254.169.254")
	c.resolve("mapped.test", "::ffff:10.1.2.3")
	c.resolve("nat64.test", "64:ff9b::a9fe:a9fe")
	for host, why := range map[string]string{
		"lan.test":    "lan.test resolves to 192.168.1.10, a private address",
		"mixed.test":  "mixed.test resolves to 10.0.0.5, a private address",
		"meta.test":   "the cloud metadata address",
		"mapped.test": "IPv4-mapped form of 10.1.2.3, a private address",
		"nat64.test":  "NAT64 address embedding 169.254.169.254",
	} {
		var v any
		err := c.GetJSON(context.Background(), "http://"+host+"/x", "", nil, &v)
		wantErr(t, err, nineten.KindPermission, "refusing to fetch http://"+host+"/x", why)
	}
	for _, u := range []string{"http://10.0.0.5/x", "http://[fd00::1]/x", "http://0.0.0.0/x", "http://[::]/x"} {
		var v any
		err := c.GetJSON(context.Background(), u, "", nil, &v)
		wantErr(t, err, nineten.KindPermission, "refusing to fetch "+u)
	}
	if c.dials.Load() != 0 {
		t.Errorf("%d dials, want 0", c.dials.Load())
	}
}

// TestDNSRebinding: a name that first resolves to a good address and then
// to a bad one is refused on the second connection: the check is made on
// each dial's own answer, not remembered.
func TestDNSRebinding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(actor))
	defer srv.Close()
	c := newTestClient(t, Options{AllowLoopback: true})
	c.transport.DisableKeepAlives = true // each request dials
	u := "http://rebind.test:" + serverPort(t, srv) + "/actor"
	var v any
	c.resolve("rebind.test", "127.0.0.1")
	if err := c.GetJSON(context.Background(), u, "", nil, &v); err != nil {
		t.Fatal(err)
	}
	c.resolve("rebind.test", "10.0.0.5")
	err := c.GetJSON(context.Background(), u, "", nil, &v)
	wantErr(t, err, nineten.KindPermission, "rebind.test resolves to 10.0.0.5, a private address")
	if c.dials.Load() != 1 {
		t.Errorf("%d dials, want 1", c.dials.Load())
	}
}

func TestRedirectToRefusedTarget(t *testing.T) {
	targets := map[string]string{
		"/metadata": "http://169.254.169.254/latest/meta-data/iam/",
		"/mapped":   "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
		"/private":  "http://10.0.0.5:8080/admin",
		"/named":    "http://metadata.test/computeMetadata/v1/",
		"/file":     "file:///etc/passwd",
		"/userinfo": "http://admin:hunter2@127.0.0.1/",
	}
	h, hits := counting(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targets[r.URL.Path], http.StatusFound)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newTestClient(t, Options{AllowLoopback: true})
	c.resolve("metadata.test", "169.254.169.254")

	for path, target := range targets {
		before := c.dials.Load()
		var v any
		err := c.GetJSON(context.Background(), srv.URL+path, "", nil, &v)
		kind, why := nineten.KindPermission, "169.254.169.254"
		switch path {
		case "/private":
			why = "10.0.0.5 is a private address"
		case "/file":
			kind, why = nineten.KindInvalid, `the "file" scheme is not fetched`
		case "/userinfo":
			kind, why = nineten.KindInvalid, "user name or password"
		}
		shown := strings.Replace(target, "hunter2", "xxxxx", 1) // passwords are redacted
		wantErr(t, err, kind, "refusing to fetch "+shown+" (redirected from "+srv.URL+path+")", why)
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows a password: %v", err)
		}
		// Only the first hop may have dialed, and only if no pooled
		// connection was free.
		if d := c.dials.Load() - before; d > 1 {
			t.Errorf("%s: %d dials, want at most 1 (to the loopback server)", path, d)
		}
	}
	if c.dials.Load() < 1 || hits.Load() != int32(len(targets)) {
		t.Errorf("%d dials, %d requests served", c.dials.Load(), hits.Load())
	}
	// The literal addresses were refused before any lookup; only the name
	// was resolved.
	if c.lookups.Load() != 1 {
		t.Errorf("%d lookups, want 1", c.lookups.Load())
	}
}

func TestBodyLimit(t *testing.T) {
	big := strings.Repeat("x", 2000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", "2000")
			io.WriteString(w, big)
		case "/chunked", "/exact":
			n := 2000
			if r.URL.Path == "/exact" {
				n = 1000
			}
			for i := 0; i < n; i += 100 {
				io.WriteString(w, big[:100])
				w.(http.Flusher).Flush() // no Content-Length: the limit must act while reading
			}
		case "/gzip":
			// 1 MB of JSON that compresses to about 1 KB: the limit applies
			// to what is decoded, not what crossed the wire.
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			fmt.Fprintf(zw, `{"a":"%s"}`, strings.Repeat("0", 1<<20))
			zw.Close()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(buf.Bytes())
		case "/json":
			w.Header().Set("Content-Type", "application/activity+json")
			fmt.Fprintf(w, `{"a":"%s"}`, big)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Options{AllowLoopback: true, MaxBody: 1000})

	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Do(req)
	}
	_, err := get("/declared")
	wantErr(t, err, nineten.KindTooLarge, "declares a 2000-byte body", "1000-byte limit")

	resp, err := get("/chunked")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantErr(t, err, nineten.KindTooLarge, srv.URL+"/chunked", "over the 1000-byte limit")
	if len(data) != 1000 {
		t.Errorf("read %d bytes before the error, want 1000", len(data))
	}

	resp, err = get("/exact")
	if err != nil {
		t.Fatal(err)
	}
	data, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(data) != 1000 {
		t.Errorf("a body of exactly MaxBody: %d bytes, %v", len(data), err)
	}

	for _, path := range []string{"/json", "/gzip"} {
		var v any
		err = c.GetJSON(context.Background(), srv.URL+path, "", nil, &v)
		wantErr(t, err, nineten.KindTooLarge, "over the 1000-byte limit")
	}
}

func TestJSONChecks(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, body := "application/activity+json", `{"ok":true}`
		switch r.URL.Path {
		case "/deep-array":
			body = strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
		case "/deep-object":
			body = deep
		case "/html":
			ct, body = "text/html; charset=utf-8", "<html></html>"
		case "/none":
			ct = ""
		case "/ld":
			ct = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
		case "/jrd":
			ct = "application/jrd+json; charset=utf-8"
		case "/plain-json":
			ct = "application/json"
		case "/broken":
			body = `{"ok":`
		case "/wrong-shape":
			body = `{"ok":"yes"}`
		}
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header()["Content-Type"] = nil // stop Go from sniffing one
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c := newTestClient(t, Options{AllowLoopback: true})
	get := func(path string) error {
		var v struct{ OK bool }
		err := c.GetJSON(context.Background(), srv.URL+path, "", nil, &v)
		if err == nil && !v.OK {
			t.Errorf("%s: decoded %+v", path, v)
		}
		return err
	}
	for _, path := range []string{"/ok", "/ld", "/jrd", "/plain-json"} {
		if err := get(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	wantErr(t, get("/deep-array"), nineten.KindInvalid, "nests deeper than 64 levels")
	wantErr(t, get("/deep-object"), nineten.KindInvalid, "nests deeper than 64 levels")
	wantErr(t, get("/html"), nineten.KindInvalid, `Content-Type "text/html; charset=utf-8", not JSON`)
	wantErr(t, get("/none"), nineten.KindInvalid, `Content-Type "", not JSON`)
	wantErr(t, get("/broken"), nineten.KindInvalid, "not the JSON expected")
	wantErr(t, get("/wrong-shape"), nineten.KindInvalid, "not the JSON expected")
}

func TestStatusKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(r.URL.Path, "/%d", &code)
		w.WriteHeader(code)
	}))
	defer srv.Close()
	c := newTestClient(t, Options{AllowLoopback: true})
	for code, kind := range map[int]nineten.Kind{
		404: nineten.KindNotFound, 410: nineten.KindNotFound,
		401: nineten.KindPermission, 403: nineten.KindPermission,
		429: nineten.KindUnavailable, 502: nineten.KindUnavailable,
		418: nineten.KindInvalid,
	} {
		var v any
		err := c.GetJSON(context.Background(), fmt.Sprintf("%s/%d", srv.URL, code), "", nil, &v)
		wantErr(t, err, kind, fmt.Sprintf("answered %d", code))
	}
}

func TestRedirectLimits(t *testing.T) {
	h, hits := counting(func(w http.ResponseWriter, r *http.Request) {
		var n int
		switch {
		case r.URL.Path == "/a":
			http.Redirect(w, r, "/b", http.StatusFound)
		case r.URL.Path == "/b":
			http.Redirect(w, r, "/a", http.StatusMovedPermanently)
		case r.URL.Path == "/done":
			actor(w, r)
		default:
			fmt.Sscanf(r.URL.Path, "/chain/%d", &n)
			if n == 0 {
				http.Redirect(w, r, "/done", http.StatusFound)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusTemporaryRedirect)
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newTestClient(t, Options{AllowLoopback: true})
	var v any

	err := c.GetJSON(context.Background(), srv.URL+"/a", "", nil, &v)
	wantErr(t, err, nineten.KindInvalid, "refusing to fetch "+srv.URL+"/a: redirect loop "+srv.URL+"/a -> "+srv.URL+"/b -> "+srv.URL+"/a")

	// /chain/2 -> /chain/1 -> /chain/0 -> /done: three redirects, allowed.
	if err := c.GetJSON(context.Background(), srv.URL+"/chain/2", "", nil, &v); err != nil {
		t.Errorf("three redirects: %v", err)
	}
	hits.Store(0)
	err = c.GetJSON(context.Background(), srv.URL+"/chain/3", "", nil, &v)
	wantErr(t, err, nineten.KindInvalid, "more than 3 redirects")
	if hits.Load() != 4 {
		t.Errorf("%d requests for four hops, want 4", hits.Load())
	}

	none := newTestClient(t, Options{AllowLoopback: true, MaxRedirects: -1})
	err = none.GetJSON(context.Background(), srv.URL+"/chain/0", "", nil, &v)
	wantErr(t, err, nineten.KindInvalid, "redirects are not followed")
}

// TestRedirectCredentials: a signed fetch redirected within its server is
// signed again for the new path; redirected to another server (another
// port counts) it carries no Authorization, signature or Referer.
func TestRedirectCredentials(t *testing.T) {
	type seen struct {
		path                          string
		authorization, sig, sigInput  string
		referer, cookie, customHeader string
	}
	var mu sync.Mutex
	var log []seen
	record := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, seen{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Signature"),
			r.Header.Get("Signature-Input"), r.Header.Get("Referer"), r.Header.Get("Cookie"), r.Header.Get("X-Custom")})
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		actor(w, r)
	}))
	defer other.Close()
	otherPort := serverPort(t, other)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, "/moved?"+r.URL.RawQuery, http.StatusFound)
		case "/moved":
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
		}
	}))
	defer first.Close()

	c := newTestClient(t, Options{AllowLoopback: true})
	c.resolve("other.test", "127.0.0.1")
	sign := func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer secret")
		r.Header.Set("Signature", "sig of "+r.URL.Path)
		r.Header.Set("Signature-Input", "sig1")
		return nil
	}
	for _, to := range []string{
		"http://127.0.0.1:" + otherPort + "/final", // same address, other port
		"http://other.test:" + otherPort + "/final",
	} {
		log = nil
		var v any
		u := first.URL + "/start?to=" + url.QueryEscape(to)
		if err := c.GetJSON(context.Background(), u, "", sign, &v); err != nil {
			t.Fatalf("GetJSON: %v", err)
		}
		if len(log) != 3 {
			t.Fatalf("requests %+v, want 3", log)
		}
		if log[0].sig != "sig of /start" || log[1].sig != "sig of /moved" || log[1].authorization != "Bearer secret" {
			t.Errorf("same-server requests not (re)signed: %+v", log[:2])
		}
		if f := log[2]; f.path != "/final" || f.authorization != "" || f.sig != "" || f.sigInput != "" || f.referer != "" {
			t.Errorf("the other server received credentials: %+v", f)
		}
	}

	// Do, with credentials set by the caller: the same rule.
	log = nil
	req, _ := http.NewRequest(http.MethodGet, first.URL+"/start?to="+url.QueryEscape("http://127.0.0.1:"+otherPort+"/final"), nil)
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Signature", "sig")
	req.Header.Set("Cookie", "session=1")
	req.Header.Set("X-Custom", "kept")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(log) != 3 {
		t.Fatalf("requests %+v, want 3", log)
	}
	if log[1].authorization != "Bearer secret" || log[1].sig != "sig" {
		t.Errorf("same-server redirect lost the caller's headers: %+v", log[1])
	}
	if f := log[2]; f.authorization != "" || f.sig != "" || f.cookie != "" || f.customHeader != "kept" {
		t.Errorf("other server received %+v; want no credentials but the custom header", f)
	}
	if req.Header.Get("User-Agent") != "" {
		t.Error("Do modified the caller's request")
	}
}

func TestURLRules(t *testing.T) {
	c := newTestClient(t, Options{})
	for u, why := range map[string]string{
		"ftp://example.com/actor":            `the "ftp" scheme is not fetched`,
		"http://example.com/actor":           "federation requires https",
		"https://admin:pw@example.com/actor": "user name or password",
		"https://example.com@10.0.0.5/actor": "user name or password",
		"https:///actor":                     "no host",
		"https://169.254.169.254/latest/":    "the cloud metadata address",
		"https://[fe80::1%25eth0]:8443/":     "scoped",
		"https://100.64.0.1:8443/":           "carrier-grade NAT",
	} {
		var v any
		err := c.GetJSON(context.Background(), u, "", nil, &v)
		kind := nineten.KindInvalid
		if strings.Contains(u, "169.254") || strings.Contains(u, "fe80") || strings.Contains(u, "100.64") {
			kind = nineten.KindPermission
		}
		wantErr(t, err, kind, why)
	}
	var v any
	wantErr(t, c.GetJSON(context.Background(), "https://exa mple.com/", "", nil, &v), nineten.KindInvalid, "not a URL")
	// A signer is never called for a refused URL.
	signed := false
	err := c.GetJSON(context.Background(), "https://10.0.0.5/", "", func(*http.Request) error { signed = true; return nil }, &v)
	wantErr(t, err, nineten.KindPermission, "private address")
	if signed {
		t.Error("the request to a refused URL was signed")
	}
	if c.dials.Load() != 0 || c.lookups.Load() != 0 {
		t.Errorf("%d dials, %d lookups, want none", c.dials.Load(), c.lookups.Load())
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, Options{AllowLoopback: true, Timeout: 200 * time.Millisecond})
	start := time.Now()
	var v any
	err := c.GetJSON(context.Background(), srv.URL+"/slow", "", nil, &v)
	wantErr(t, err, nineten.KindUnavailable, "timed out fetching "+srv.URL+"/slow")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with a 200 ms timeout", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.GetJSON(ctx, srv.URL+"/slow", "", nil, &v)
	wantErr(t, err, nineten.KindUnavailable, "canceled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
}

// TestNoProxy: the transport must dial itself. A proxy from HTTP_PROXY
// would receive the URL and connect wherever it says, past the guard.
func TestNoProxy(t *testing.T) {
	c := New(Options{})
	if c.transport.Proxy != nil {
		t.Error("the transport has a Proxy function")
	}
	if c.hc.Transport != c.transport || c.transport.DialContext == nil || c.transport.DialTLSContext != nil {
		t.Error("a dial path other than the guarded dialContext is configured")
	}
}
