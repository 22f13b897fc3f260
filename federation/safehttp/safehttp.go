// Package safehttp is the HTTP client 9ten uses for every request to
// another server: ActivityPub actors and objects, WebFinger, media.
//
// Those URLs come from strangers, so a plain http.Client would let anyone
// make the node fetch from its own LAN, its loopback services or the
// cloud metadata endpoint (server-side request forgery), and let a hostile
// server hang it or exhaust its memory. This client therefore:
//
//   - fetches only https URLs (http too in dev mode), without userinfo;
//   - checks the addresses a host resolves to at dial time and connects to
//     exactly the checked address, so DNS rebinding cannot slip past;
//   - checks every redirect target the same way, follows at most a few, and
//     does not carry credentials (Authorization, HTTP signatures) to
//     another host;
//   - ignores HTTP_PROXY and friends, since a proxy would do the dialing;
//   - bounds the whole request in time and the response body in size.
//
// Errors are *nineten.Error values whose message names the URL and says
// what was refused and why, for the node admin to read in the logs: a
// refused address is KindPermission ("refusing to fetch
// https://evil.example/: evil.example resolves to 10.0.0.5, a private
// address"), a URL or redirect that breaks the rules is KindInvalid.
package safehttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"nineten.dev"
)

// Options configures a Client. The zero value is the production setting.
type Options struct {
	// AllowLoopback is for dev and tests only: it permits 127.0.0.0/8 and
	// ::1 (never any other private range) and plain http URLs.
	AllowLoopback bool
	// Timeout bounds the whole request, body included. Default 10 s.
	Timeout time.Duration
	// MaxBody is the largest response body read. Default 1 MiB, enough
	// for any JSON document; media fetches use a Client with a larger one.
	MaxBody int64
	// MaxRedirects is how many redirects are followed. 0 means the
	// default of 3; a negative number means none.
	MaxRedirects int
	// UserAgent is sent with every request, e.g.
	// "9ten/dev (+https://host/)". Default "9ten".
	UserAgent string
}

const (
	defaultTimeout      = 10 * time.Second
	defaultMaxBody      = 1 << 20
	defaultMaxRedirects = 3
	defaultUserAgent    = "9ten"
)

// Client is safe for concurrent use. Create one with New and keep it: it
// pools connections.
type Client struct {
	opts      Options
	hc        *http.Client
	transport *http.Transport

	// lookup and dial are the two points where the client meets the
	// network. Tests replace them to resolve names to chosen addresses
	// and to count (or forbid) connections.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dial   func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error)
}

// New returns a Client with o's zero fields set to their defaults.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = defaultMaxBody
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = defaultMaxRedirects
	}
	if o.MaxRedirects < 0 {
		o.MaxRedirects = 0
	}
	if o.UserAgent == "" {
		o.UserAgent = defaultUserAgent
	}
	c := &Client{opts: o}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second, Control: c.control}
	c.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	c.dial = func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr.String())
	}
	c.transport = &http.Transport{
		// No Proxy: a proxy taken from the environment would dial for us
		// and bypass the address checks.
		Proxy:                  nil,
		DialContext:            c.dialContext,
		ForceAttemptHTTP2:      true,                                      // a custom dialer turns it off otherwise
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12}, // what every maintained server speaks
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 64 << 10, // a hostile server's headers are not our memory's problem
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
	}
	c.hc = &http.Client{
		Transport:     c.transport,
		Timeout:       o.Timeout,
		CheckRedirect: c.checkRedirect,
	}
	return c
}

// signKey carries GetJSON's signer to checkRedirect through the request
// context, the only thing redirected requests share with the first one.
type signKey struct{}

// Do sends req after checking its URL and returns the response with its
// body limited to MaxBody: reading past it fails with KindTooLarge, and a
// declared Content-Length above it fails at once. Errors are
// *nineten.Error: KindInvalid for a URL that is not allowed, KindPermission
// for a refused address, KindUnavailable for network failures and
// timeouts. req itself is not modified.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	return c.do("safehttp.Do", req)
}

func (c *Client) do(op string, req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the request has no URL")
	}
	if err := c.checkURL(req.URL); err != nil {
		return nil, c.wrap(op, req.URL, req.URL.String(), err)
	}
	req = req.Clone(req.Context())
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		failed := req.URL.String()
		var ue *url.Error
		if errors.As(err, &ue) {
			failed = ue.URL
		}
		return nil, c.wrap(op, req.URL, failed, err)
	}
	where := resp.Request.URL.String()
	if resp.ContentLength > c.opts.MaxBody {
		resp.Body.Close()
		return nil, nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("%s declares a %d-byte body, over the %s limit",
			show(where), resp.ContentLength, size(c.opts.MaxBody)))
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.opts.MaxBody, op: op, where: where, max: c.opts.MaxBody}
	return resp, nil
}

// checkURL applies the rules that do not need the network. An IP literal
// is judged here, so a redirect to http://169.254.169.254/ is refused
// before anything is dialed; host names are judged by the dialer once
// resolved.
func (c *Client) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
	case "http":
		if !c.opts.AllowLoopback {
			return &refused{kind: nineten.KindInvalid, why: "federation requires https"}
		}
	default:
		return &refused{kind: nineten.KindInvalid, why: fmt.Sprintf("the %q scheme is not fetched, only https", u.Scheme)}
	}
	if u.User != nil {
		// Credentials in a URL from a stranger are never ours to send, and
		// "https://trusted@evil/" is a classic way to mislead a reader.
		return &refused{kind: nineten.KindInvalid, why: "the URL contains a user name or password"}
	}
	host := u.Hostname()
	if host == "" {
		return &refused{kind: nineten.KindInvalid, why: "the URL has no host"}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := refusal(ip, c.opts.AllowLoopback); why != "" {
			return &refused{kind: nineten.KindPermission, why: ip.String() + " is " + why}
		}
	}
	return nil
}

// checkRedirect runs before each redirect is followed: it limits their
// number, stops loops, applies the URL rules to the target, and removes
// credentials meant for the first host.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	err := c.checkRedirectRules(req, via)
	var r *refused
	if errors.As(err, &r) {
		// Go reports the Location header as written, maybe relative;
		// the admin needs the absolute URL.
		r.url = req.URL.String()
	}
	return err
}

func (c *Client) checkRedirectRules(req *http.Request, via []*http.Request) error {
	if len(via) > c.opts.MaxRedirects {
		if c.opts.MaxRedirects == 0 {
			return &refused{kind: nineten.KindInvalid, why: "redirects are not followed"}
		}
		return &refused{kind: nineten.KindInvalid, why: fmt.Sprintf("more than %d redirects", c.opts.MaxRedirects)}
	}
	target := req.URL.String()
	for _, v := range via {
		if v.URL.String() == target {
			hops := make([]string, 0, len(via)+1)
			for _, v := range via {
				hops = append(hops, show(v.URL.String()))
			}
			hops = append(hops, show(target))
			return &refused{kind: nineten.KindInvalid, why: "redirect loop " + strings.Join(hops, " -> ")}
		}
	}
	if err := c.checkURL(req.URL); err != nil {
		return err
	}
	// The Referer would tell the next server where we came from, and
	// nothing needs it.
	req.Header.Del("Referer")
	// Go copies the first request's headers to each redirect and drops
	// Authorization only for unrelated domains; it keeps it for subdomains
	// and other ports, and always keeps HTTP signatures. A signature is a
	// credential too: it proves our key signed a request to the first host.
	sign, _ := req.Context().Value(signKey{}).(func(*http.Request) error)
	if !sameOrigin(via[0].URL, req.URL) {
		dropCredentials(req.Header)
		return nil
	}
	if sign != nil {
		// Same server, new path: the old signature covers the old
		// request-target and would fail, so sign this request afresh.
		dropCredentials(req.Header)
		if err := sign(req); err != nil {
			return fmt.Errorf("signing the redirected request: %w", err)
		}
	}
	return nil
}

func dropCredentials(h http.Header) {
	for _, k := range []string{"Authorization", "Signature", "Signature-Input", "Cookie", "Proxy-Authorization"} {
		h.Del(k)
	}
}

// sameOrigin compares scheme, host and port: a different port is a
// different server as far as credentials go.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

// wrap turns a failure of the request to orig, which failed at the URL
// failed (a redirect target, maybe), into an error an admin can act on.
func (c *Client) wrap(op string, orig *url.URL, failed string, err error) error {
	var r *refused
	if errors.As(err, &r) && r.url != "" {
		failed = r.url
	}
	where := show(failed)
	if failed != orig.String() {
		where += " (redirected from " + show(orig.String()) + ")"
	}
	if r != nil {
		return nineten.E(op, r.kind, "refusing to fetch "+where+": "+r.why)
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err // its text would repeat the URL
	}
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout()) {
		return nineten.E(op, nineten.KindUnavailable, "timed out fetching "+where, cause)
	}
	if errors.Is(err, context.Canceled) {
		return nineten.E(op, nineten.KindUnavailable, "fetching "+where+" was canceled", cause)
	}
	return nineten.E(op, nineten.KindUnavailable, "could not fetch "+where, cause)
}

// show prepares a URL for an error message: without its password, which
// must not reach the logs, and cut short so that a stranger's URL cannot
// flood them.
func show(s string) string {
	if u, err := url.Parse(s); err == nil {
		s = u.Redacted()
	}
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// limitedBody passes through at most max bytes and then fails with
// KindTooLarge, rather than truncating silently: a cut-off document
// must not be mistaken for a complete one.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	err   error
	op    string
	where string
	max   int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for one byte more than allowed, to tell "exactly max" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		return n, err
	}
	n = int(b.left)
	b.left = 0
	b.err = nineten.E(b.op, nineten.KindTooLarge, fmt.Sprintf("the response from %s is over the %s limit", show(b.where), size(b.max)))
	return n, b.err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
