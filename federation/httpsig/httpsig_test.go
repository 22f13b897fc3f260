package httpsig

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"nineten.dev"
)

var ctx = context.Background()

// target returns the URL and body of the test request for a method: an
// inbox delivery for POST, a paged collection fetch for GET.
func target(method string) (string, []byte) {
	if method == http.MethodPost {
		return "https://music.example/users/bob/inbox", []byte(inboxBody)
	}
	return "https://music.example/users/bob/outbox?page=2", nil
}

func TestRoundTrip(t *testing.T) {
	for _, s := range signers {
		for _, k := range testKeys(t) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				t.Run(s.name+"/"+k.name+"/"+method, func(t *testing.T) {
					url, body := target(method)
					r := serverRequest(t, signedWire(t, s.sign, k.key, method, url, body))
					got, err := io.ReadAll(r.Body)
					if err != nil || string(got) != string(body) {
						t.Fatalf("body on the wire = %q, %v", got, err)
					}
					if hasInput := r.Header.Get("Signature-Input") != ""; hasInput != (s.name == "rfc9421") {
						t.Fatalf("Signature-Input present = %v for %s", hasInput, s.name)
					}
					kr := &keyring{keys: map[string]crypto.PublicKey{k.key.ID: k.pub}}
					id, err := verifierFor(kr).Verify(ctx, r, body)
					if err != nil {
						t.Fatalf("Verify: %v\n%v", err, r.Header)
					}
					if id != k.key.ID {
						t.Errorf("key id = %q, want %q", id, k.key.ID)
					}
					if !slices.Equal(kr.calls, []bool{false}) {
						t.Errorf("lookups (refresh flags) = %v, want one cached lookup", kr.calls)
					}
				})
			}
		}
	}
}

// A tamper changes a signed request the way an attacker or a broken proxy
// would; the result must not verify.
type tamper struct {
	name    string
	formats string // "cavage", "rfc9421" or "" for both
	method  string // "" for both
	apply   func(t *testing.T, wire string, body []byte) (string, []byte)
}

func replace(old, new string) func(t *testing.T, wire string, body []byte) (string, []byte) {
	return func(t *testing.T, wire string, body []byte) (string, []byte) {
		t.Helper()
		if !strings.Contains(wire, old) {
			t.Fatalf("%q is not in the request:\n%s", old, wire)
		}
		return strings.Replace(wire, old, new, 1), body
	}
}

// headerValue returns the value of a header in wire bytes.
func headerValue(t *testing.T, wire, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `: (.*)\r$`).FindStringSubmatch(wire)
	if m == nil {
		t.Fatalf("no %s header in\n%s", name, wire)
	}
	return m[1]
}

var tampers = []tamper{
	{"method", "", http.MethodPost, replace("POST /", "PUT /")},
	{"method", "", http.MethodGet, replace("GET /", "HEAD /")},
	{"path", "", http.MethodPost, replace("/users/bob/inbox", "/users/eve/inbox")},
	{"path", "", http.MethodGet, replace("/users/bob/outbox", "/users/eve/outbox")},
	{"query", "", http.MethodGet, replace("?page=2", "?page=3")},
	{"host", "", "", replace("Host: music.example", "Host: evil.example")},
	{"host port", "", "", replace("Host: music.example", "Host: music.example:8443")},
	{"date", "cavage", "", func(t *testing.T, wire string, body []byte) (string, []byte) {
		d := headerValue(t, wire, "Date")
		return replace(d, signTime.Add(time.Second).Format(http.TimeFormat))(t, wire, body)
	}},
	{"body", "", http.MethodPost, func(t *testing.T, wire string, body []byte) (string, []byte) {
		return wire, []byte(strings.Replace(string(body), "Follow", "Block", 1))
	}},
	{"body and digest", "cavage", http.MethodPost, func(t *testing.T, wire string, body []byte) (string, []byte) {
		evil := []byte(strings.Replace(string(body), "Follow", "Block", 1))
		sum := sha256.Sum256(evil)
		wire, _ = replace(headerValue(t, wire, "Digest"), "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))(t, wire, body)
		return wire, evil
	}},
	{"body and digest", "rfc9421", http.MethodPost, func(t *testing.T, wire string, body []byte) (string, []byte) {
		evil := []byte(strings.Replace(string(body), "Follow", "Block", 1))
		sum := sha256.Sum256(evil)
		wire, _ = replace(headerValue(t, wire, "Content-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")(t, wire, body)
		return wire, evil
	}},
	{"created", "rfc9421", "", func(t *testing.T, wire string, body []byte) (string, []byte) {
		c := strconv.FormatInt(signTime.Unix(), 10)
		return replace("created="+c, "created="+strconv.FormatInt(signTime.Unix()-1, 10))(t, wire, body)
	}},
	{"covered components", "rfc9421", http.MethodPost, replace(`("@method" "@target-uri" "content-digest")`, `("@target-uri" "@method" "content-digest")`)},
	{"signed headers", "cavage", "", replace(`headers="(request-target) host date`, `headers="(request-target) date host`)},
	{"key id", "", "", replace("users/alice#", "users/mallory#")},
	{"signature", "", "", func(t *testing.T, wire string, body []byte) (string, []byte) {
		// Flip one bit of the signature value.
		m := regexp.MustCompile(`(signature="|sig1=:)([A-Za-z0-9+/])`).FindStringSubmatchIndex(wire)
		if m == nil {
			t.Fatalf("no signature in\n%s", wire)
		}
		c := wire[m[4]]
		flipped := "A"
		if c == 'A' {
			flipped = "B"
		}
		return wire[:m[4]] + flipped + wire[m[5]:], body
	}},
}

func TestTamperingFails(t *testing.T) {
	for _, s := range signers {
		for _, k := range testKeys(t) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				url, body := target(method)
				wire := string(signedWire(t, s.sign, k.key, method, url, body))
				for _, tp := range tampers {
					if tp.formats != "" && tp.formats != s.name || tp.method != "" && tp.method != method {
						continue
					}
					t.Run(s.name+"/"+k.name+"/"+method+"/"+tp.name, func(t *testing.T) {
						w, b := tp.apply(t, wire, body)
						r := serverRequest(t, []byte(w))
						kr := &keyring{keys: map[string]crypto.PublicKey{
							k.key.ID: k.pub,
							strings.Replace(k.key.ID, "alice", "mallory", 1): otherEd25519().Public(),
						}}
						_, err := verifierFor(kr).Verify(ctx, r, b)
						wantDenied(t, err)
					})
				}
			}
		}
	}
}

func TestTimeWindow(t *testing.T) {
	cases := []struct {
		name    string
		offset  time.Duration // verifier clock minus signing time
		maxAge  time.Duration
		wantErr string // "" for success
	}{
		{"just signed", 0, 0, ""},
		{"11h old", 11 * time.Hour, 0, ""},
		{"older than 12h", 12*time.Hour + time.Second, 0, "old, more than the 12h0m0s allowed"},
		{"sender clock 59min ahead", -59 * time.Minute, 0, ""},
		{"sender clock 61min ahead", -61 * time.Minute, 0, "in the future"},
		{"older than a custom MaxAge", 6 * time.Minute, 5 * time.Minute, "more than the 5m0s allowed"},
	}
	for _, s := range signers {
		for _, k := range testKeys(t) {
			url, body := target(http.MethodPost)
			wire := signedWire(t, s.sign, k.key, http.MethodPost, url, body)
			for _, c := range cases {
				t.Run(s.name+"/"+k.name+"/"+c.name, func(t *testing.T) {
					kr := &keyring{keys: map[string]crypto.PublicKey{k.key.ID: k.pub}}
					v := verifierFor(kr)
					v.MaxAge = c.maxAge
					v.Now = func() time.Time { return signTime.Add(c.offset) }
					_, err := v.Verify(ctx, serverRequest(t, wire), body)
					if c.wantErr == "" {
						if err != nil {
							t.Fatal(err)
						}
						return
					}
					wantDenied(t, err, c.wantErr)
					if len(kr.calls) != 0 {
						t.Errorf("a stale request looked up its key (%v); it should fail first", kr.calls)
					}
				})
			}
		}
	}
}

func TestAnotherKeyFails(t *testing.T) {
	for _, s := range signers {
		for _, k := range testKeys(t) {
			t.Run(s.name+"/"+k.name, func(t *testing.T) {
				url, body := target(http.MethodPost)
				wire := signedWire(t, s.sign, k.key, http.MethodPost, url, body)
				// The actor's published key is not the one that signed.
				var published crypto.PublicKey = otherEd25519().Public()
				if k.name == "rsa" {
					published = &otherRSA().PublicKey
				}
				kr := &keyring{keys: map[string]crypto.PublicKey{k.key.ID: published}}
				_, err := verifierFor(kr).Verify(ctx, serverRequest(t, wire), body)
				wantDenied(t, err, "does not verify with the key")
				if !slices.Equal(kr.calls, []bool{false, true}) {
					t.Errorf("lookups = %v, want the cached key then one refresh", kr.calls)
				}
			})
		}
	}
}

func TestKeyRotation(t *testing.T) {
	for _, s := range signers {
		for _, k := range testKeys(t) {
			t.Run(s.name+"/"+k.name, func(t *testing.T) {
				url, body := target(http.MethodPost)
				wire := signedWire(t, s.sign, k.key, http.MethodPost, url, body)
				// The cache holds the actor's previous key (of the other
				// type, too: key type changes must also refetch); a refetch
				// returns the current one.
				old := map[string]crypto.PublicKey{k.key.ID: &otherRSA().PublicKey}
				if k.name == "rsa" {
					old[k.key.ID] = otherEd25519().Public()
				}
				kr := &keyring{keys: old, fresh: map[string]crypto.PublicKey{k.key.ID: k.pub}}
				id, err := verifierFor(kr).Verify(ctx, serverRequest(t, wire), body)
				if err != nil {
					t.Fatal(err)
				}
				if id != k.key.ID {
					t.Errorf("key id %q", id)
				}
				if !slices.Equal(kr.calls, []bool{false, true}) {
					t.Errorf("lookups = %v, want exactly one refresh", kr.calls)
				}
			})
		}
	}
}

func TestLookupErrors(t *testing.T) {
	k := testKeys(t)[0]
	url, body := target(http.MethodPost)
	wire := signedWire(t, SignCavage, k.key, http.MethodPost, url, body)
	for _, c := range []struct {
		name string
		err  error
		want nineten.Kind
	}{
		{"actor server down", nineten.E("fetch.Actor", nineten.KindUnavailable, "the server did not answer"), nineten.KindUnavailable},
		{"actor gone", nineten.E("fetch.Actor", nineten.KindNotFound, "no such actor"), nineten.KindUnauthenticated},
		{"plain error", errors.New("boom"), nineten.KindUnauthenticated},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			v := &Verifier{Now: func() time.Time { return signTime }, Lookup: func(context.Context, string, bool) (crypto.PublicKey, error) {
				calls++
				return nil, c.err
			}}
			_, err := v.Verify(ctx, serverRequest(t, wire), body)
			if got := nineten.ErrorKind(err); got != c.want {
				t.Fatalf("kind %v (%v), want %v", got, err, c.want)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("the lookup error is not wrapped: %v", err)
			}
			if calls != 1 {
				t.Errorf("%d lookups after a failed one, want 1", calls)
			}
		})
	}
}

func TestUnsigned(t *testing.T) {
	r := serverRequest(t, []byte("POST /inbox HTTP/1.1\r\nHost: music.example\r\nContent-Length: 2\r\n\r\n{}"))
	_, err := verifierFor(&keyring{}).Verify(ctx, r, []byte("{}"))
	wantDenied(t, err, "the request is not signed")
}

func TestSignRejectsBadKeys(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "https://music.example/", nil)
	for _, k := range []Key{
		{ID: "x", Private: nil},
		{ID: "", Private: otherEd25519()},
		{ID: `a"b`, Private: otherEd25519()},
		{ID: "a\nb", Private: otherEd25519()},
	} {
		for _, s := range signers {
			err := s.sign(r, nil, k, signTime)
			if nineten.ErrorKind(err) != nineten.KindInvalid {
				t.Errorf("%s with key %+v: %v, want KindInvalid", s.name, k, err)
			}
		}
	}
}

// cavageHeader builds a draft-cavage Signature header for r with the given
// parameters, assembling the signing string here, independently of the
// package's own code, from the draft's rules.
func cavageHeader(t *testing.T, r *http.Request, signer crypto.Signer, keyID, alg string, headers []string, created, expires string) string {
	t.Helper()
	var lines []string
	for _, h := range headers {
		switch h {
		case "(request-target)":
			lines = append(lines, "(request-target): "+strings.ToLower(r.Method)+" "+r.URL.RequestURI())
		case "(created)":
			lines = append(lines, "(created): "+created)
		case "(expires)":
			lines = append(lines, "(expires): "+expires)
		case "host":
			lines = append(lines, "host: "+r.URL.Host)
		default:
			lines = append(lines, h+": "+strings.Join(r.Header.Values(h), ", "))
		}
	}
	msg := []byte(strings.Join(lines, "\n"))
	var sig []byte
	var err error
	if _, ok := signer.Public().(interface{ Size() int }); ok { // RSA
		h := sha256.Sum256(msg)
		sig, err = signer.Sign(nil, h[:], crypto.SHA256)
	} else {
		sig, err = signer.Sign(nil, msg, crypto.Hash(0))
	}
	if err != nil {
		t.Fatal(err)
	}
	v := fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s"`, keyID, alg, strings.Join(headers, " "))
	if created != "" {
		v += ",created=" + created
	}
	if expires != "" {
		v += ",expires=" + expires
	}
	return v + `,signature="` + base64.StdEncoding.EncodeToString(sig) + `"`
}

// cavageRequest builds a request signed by cavageHeader and returns it as
// the server sees it. extra headers are set before signing.
func cavageRequest(t *testing.T, method, url string, body []byte, signer crypto.Signer, alg string, headers []string, created, expires string, extra map[string]string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Date", signTime.Format(http.TimeFormat))
	sum := sha256.Sum256(body)
	r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	for k, v := range extra {
		r.Header.Set(k, v)
	}
	r.Header.Set("Signature", cavageHeader(t, r, signer, "https://remote.example/users/alice#main-key", alg, headers, created, expires))
	var buf strings.Builder
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return serverRequest(t, []byte(buf.String()))
}

func TestCavageRules(t *testing.T) {
	rk, ek := rfcRSAPrivate(t), rfcEd25519Private(t)
	const id = "https://remote.example/users/alice#main-key"
	created := strconv.FormatInt(signTime.Unix(), 10)
	expires := strconv.FormatInt(signTime.Add(5*time.Minute).Unix(), 10)
	post, get := "https://music.example/inbox", "https://music.example/users/bob/outbox?page=2"
	body := []byte(inboxBody)
	all := []string{"(request-target)", "host", "date", "digest"}
	ecreated := []string{"(request-target)", "host", "(created)", "(expires)", "digest"}
	cases := []struct {
		name    string
		pub     crypto.PublicKey // the key the lookup returns
		r       *http.Request
		body    []byte
		now     time.Duration // verifier clock minus signing time
		wantErr string        // "" for success
	}{
		{"hs2019 ed25519 with (created) and (expires)", ek.Public(),
			cavageRequest(t, "POST", post, body, ek, "hs2019", ecreated, created, expires, nil), body, 0, ""},
		{"hs2019 RSA", rk.Public(), cavageRequest(t, "POST", post, body, rk, "hs2019", all, "", "", nil), body, 0, ""},
		{"(expires) passed", ek.Public(),
			cavageRequest(t, "POST", post, body, ek, "hs2019", ecreated, created, expires, nil), body, 5*time.Minute + time.Hour + time.Second, "expired"},
		{"fractional expires", ek.Public(), cavageRequest(t, "POST", post, body, ek, "hs2019", ecreated, created, expires+".5", nil), body, 0, ""},
		{"(created) with rsa-sha256", rk.Public(),
			cavageRequest(t, "POST", post, body, rk, "rsa-sha256", []string{"(request-target)", "host", "(created)", "digest"}, created, "", nil), body, 0, "cannot be signed with algorithm rsa-sha256"},
		{"(created) in the future", ek.Public(),
			cavageRequest(t, "POST", post, body, ek, "hs2019", []string{"(request-target)", "host", "(created)", "digest"}, strconv.FormatInt(signTime.Add(2*time.Hour).Unix(), 10), "", nil), body, 0, "in the future"},
		{"extra signed headers", rk.Public(), cavageRequest(t, "POST", post, body, rk, "rsa-sha256", []string{"(request-target)", "host", "date", "digest", "content-type", "user-agent"}, "", "", map[string]string{"Content-Type": "application/activity+json", "User-Agent": "remote/1.0"}), body, 0, ""},
		{"unknown algorithm", rk.Public(), cavageRequest(t, "POST", post, body, rk, "rsa-sha512", all, "", "", nil), body, 0, `algorithm "rsa-sha512" is not supported`},
		{"ed25519 key claimed as rsa-sha256", ek.Public(), cavageRequest(t, "POST", post, body, ek, "rsa-sha256", all, "", "", nil), body, 0, "does not verify"},
		{"no (request-target)", rk.Public(), cavageRequest(t, "POST", post, body, rk, "rsa-sha256", []string{"host", "date", "digest"}, "", "", nil), body, 0, "must cover (request-target)"},
		{"POST without digest", rk.Public(), cavageRequest(t, "POST", post, body, rk, "rsa-sha256", []string{"(request-target)", "host", "date"}, "", "", nil), body, 0, "must cover the Digest header on POST"},
		{"GET without host", rk.Public(), cavageRequest(t, "GET", get, nil, rk, "rsa-sha256", []string{"(request-target)", "date"}, "", "", nil), nil, 0, "must cover the Host header on GET"},
		{"no date", rk.Public(), cavageRequest(t, "POST", post, body, rk, "rsa-sha256", []string{"(request-target)", "host", "digest"}, "", "", nil), body, 0, "must cover the Date header or (created)"},
		{"signed header missing", rk.Public(), cavageRequest(t, "POST", post, body, rk, "rsa-sha256", append(all, "x-missing"), "", "", nil), body, 0, "the signed header x-missing is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := verifierFor(&keyring{keys: map[string]crypto.PublicKey{id: c.pub}})
			v.Now = func() time.Time { return signTime.Add(c.now) }
			got, err := v.Verify(ctx, c.r, c.body)
			if c.wantErr == "" {
				if err != nil || got != id {
					t.Fatalf("Verify = %q, %v", got, err)
				}
				return
			}
			wantDenied(t, err, c.wantErr)
		})
	}

	// Tampering with a header the sender chose to sign fails too.
	r := cavageRequest(t, "POST", post, body, rk, "rsa-sha256", []string{"(request-target)", "host", "date", "digest", "content-type", "user-agent"}, "", "", map[string]string{"Content-Type": "application/activity+json", "User-Agent": "remote/1.0"})
	r.Header.Set("User-Agent", "remote/2.0")
	_, err := verifierFor(&keyring{keys: map[string]crypto.PublicKey{id: rk.Public()}}).Verify(ctx, r, body)
	wantDenied(t, err, "does not verify")

	// (created) is bound by the signature: moving it fails.
	r = cavageRequest(t, "POST", post, body, ek, "hs2019", []string{"(request-target)", "host", "(created)", "digest"}, created, "", nil)
	r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "created="+created, "created="+strconv.FormatInt(signTime.Unix()+1, 10), 1))
	_, err = verifierFor(&keyring{keys: map[string]crypto.PublicKey{id: ek.Public()}}).Verify(ctx, r, body)
	wantDenied(t, err, "does not verify")
}

// Older Mastodon versions signed (request-target) without the query.
func TestCavageLegacyQuerylessTarget(t *testing.T) {
	rk := rfcRSAPrivate(t)
	const id = "https://remote.example/users/alice#main-key"
	r, _ := http.NewRequest("GET", "https://music.example/users/bob/outbox", nil)
	r.Header.Set("Date", signTime.Format(http.TimeFormat))
	sig := cavageHeader(t, r, rk, id, "rsa-sha256", []string{"(request-target)", "host", "date"}, "", "")
	wire := "GET /users/bob/outbox?page=2 HTTP/1.1\r\nHost: music.example\r\nDate: " + signTime.Format(http.TimeFormat) + "\r\nSignature: " + sig + "\r\n\r\n"
	kr := &keyring{keys: map[string]crypto.PublicKey{id: rk.Public()}}
	if _, err := verifierFor(kr).Verify(ctx, serverRequest(t, []byte(wire)), nil); err != nil {
		t.Fatal(err)
	}
	// The path itself stays bound.
	wire = strings.Replace(wire, "/users/bob/outbox?", "/users/eve/outbox?", 1)
	_, err := verifierFor(kr).Verify(ctx, serverRequest(t, []byte(wire)), nil)
	wantDenied(t, err, "does not verify")
}

func TestDigests(t *testing.T) {
	body := []byte(inboxBody)
	s256 := sha256.Sum256(body)
	s512 := sha512.Sum512(body)
	b64 := base64.StdEncoding.EncodeToString
	wrong := b64(make([]byte, 64))
	cavage := []struct{ header, wantErr string }{
		{"SHA-256=" + b64(s256[:]), ""},
		{"sha-256=" + b64(s256[:]), ""},
		{"SHA-512=" + b64(s512[:]), ""},
		{"MD5=abc, SHA-256=" + b64(s256[:]), ""},
		{"MD5=abc", "no SHA-256 or SHA-512"},
		{"SHA-256=" + b64(s256[:]) + ",SHA-512=" + wrong, "does not match the body (sha-512)"},
		{"SHA-256=%%%", "not base64"},
		{"SHA-256", "malformed"},
	}
	for _, c := range cavage {
		r, _ := http.NewRequest("POST", "https://music.example/inbox", nil)
		r.Header.Set("Digest", c.header)
		err := checkDigestHeader(r, body)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("Digest %q: %v", c.header, err)
			}
			continue
		}
		wantDenied(t, err, c.wantErr)
	}
	rfc := []struct{ header, wantErr string }{
		{"sha-256=:" + b64(s256[:]) + ":", ""},
		{"sha-512=:" + b64(s512[:]) + ":", ""},
		{"md5=:AAAA:, sha-256=:" + b64(s256[:]) + ":", ""},
		{"md5=:AAAA:", "no SHA-256 or SHA-512"},
		{"sha-256=:" + b64(s256[:]) + ":, sha-512=:" + wrong + ":", "does not match the body (sha-512)"},
		{"sha-256=" + b64(s256[:]), "malformed"},
		{`sha-256="abc"`, "not a byte sequence"},
	}
	for _, c := range rfc {
		r, _ := http.NewRequest("POST", "https://music.example/inbox", nil)
		r.Header.Set("Content-Digest", c.header)
		err := checkContentDigest(r, body)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("Content-Digest %q: %v", c.header, err)
			}
			continue
		}
		wantDenied(t, err, c.wantErr)
	}
}

// sign9421 signs r with an RFC 9421 signature whose Signature-Input member
// is input (label=inner-list), using the package's signature base: these
// tests are about the verifier's rules, and the base itself is checked
// against the RFC's examples in interop_test.go.
func sign9421(t *testing.T, r *http.Request, signer crypto.Signer, input string) {
	t.Helper()
	d, err := parseDictionary(input)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []string
	for _, m := range d {
		base, err := signatureBase(r, "https", m.value.(innerList))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := signWith(Key{ID: "x", Private: signer}, []byte(base))
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, m.key+"=:"+base64.StdEncoding.EncodeToString(raw)+":")
	}
	r.Header.Set("Signature-Input", input)
	r.Header.Set("Signature", strings.Join(sigs, ", "))
}

func TestRFC9421Rules(t *testing.T) {
	rk, ek := rfcRSAPrivate(t), rfcEd25519Private(t)
	const id = "https://remote.example/users/alice#main-key"
	created := strconv.FormatInt(signTime.Unix(), 10)
	params := `;created=` + created + `;keyid="` + id + `"`
	body := []byte(inboxBody)
	sum := sha256.Sum256(body)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	// unsignable marks inputs the package cannot even build a base for; they
	// get a dummy signature, which Verify must refuse before any crypto.
	const unsignable = true
	cases := []struct {
		name, method, input string
		signer              crypto.Signer
		date                time.Time
		wantErr             string
		unsignable          bool
	}{
		{"no alg, RSA", "POST", `sig1=("@method" "@target-uri" "content-digest")` + params, rk, time.Time{}, "", false},
		{"no alg, ed25519", "POST", `sig1=("@method" "@target-uri" "content-digest")` + params, ek, time.Time{}, "", false},
		{"more components", "POST", `sig1=("@method" "@target-uri" "@authority" "@path" "@query" "@scheme" "@request-target" "content-digest" "date" "host")` + params + `;nonce="xyz";tag="ap"`, rk, signTime, "", false},
		{"alg does not fit the key", "POST", `sig1=("@method" "@target-uri" "content-digest")` + params + `;alg="ed25519"`, rk, time.Time{}, "does not verify", false},
		{"unsupported alg", "POST", `sig1=("@method" "@target-uri" "content-digest")` + params + `;alg="rsa-pss-sha512"`, rk, time.Time{}, `"rsa-pss-sha512" is not supported`, false},
		{"no @target-uri", "POST", `sig1=("@method" "@authority" "@path" "content-digest")` + params, rk, time.Time{}, "must cover @method and @target-uri", false},
		{"no @method", "GET", `sig1=("@target-uri")` + params, rk, time.Time{}, "must cover @method and @target-uri", false},
		{"POST without content-digest", "POST", `sig1=("@method" "@target-uri")` + params, rk, time.Time{}, "must cover the Content-Digest header on POST", false},
		{"no created", "POST", `sig1=("@method" "@target-uri" "content-digest");keyid="` + id + `"`, rk, time.Time{}, "has no created time", false},
		{"no keyid", "POST", `sig1=("@method" "@target-uri" "content-digest");created=` + created, rk, time.Time{}, "has no keyid", false},
		{"expired", "POST", `sig1=("@method" "@target-uri" "content-digest")` + params + ";expires=" + strconv.FormatInt(signTime.Add(-2*time.Hour).Unix(), 10), rk, time.Time{}, "expired", false},
		{"old signed Date", "POST", `sig1=("@method" "@target-uri" "content-digest" "date")` + params, rk, signTime.Add(-13 * time.Hour), "the signed Date is 13h0m0s old", false},
		{"component parameters", "POST", `sig1=("@method" "@target-uri" "content-digest";sf)` + params, rk, time.Time{}, "component parameters (;sf", unsignable},
		{"@query-param", "POST", `sig1=("@method" "@target-uri" "content-digest" "@query-param";name="a")` + params, rk, time.Time{}, "component parameters", unsignable},
		{"@status", "POST", `sig1=("@method" "@target-uri" "content-digest" "@status")` + params, rk, time.Time{}, `"@status" is not supported`, unsignable},
		{"uppercase field", "POST", `sig1=("@method" "@target-uri" "Content-Digest")` + params, rk, time.Time{}, "must cover the Content-Digest", unsignable},
		{"duplicate component", "POST", `sig1=("@method" "@target-uri" "content-digest" "@method")` + params, rk, time.Time{}, "covered twice", unsignable},
		{"second of two signatures valid", "POST", `proxy=("@method" "@target-uri" "content-digest");created=` + created + `;keyid="https://unknown.example/key", sig1=("@method" "@target-uri" "content-digest")` + params, rk, time.Time{}, "", false},
		{"too many signatures", "POST", `a=()` + params + `, b=()` + params + `, c=()` + params + `, d=()` + params + `, e=()` + params, rk, time.Time{}, "carries 5 signatures", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := "https://music.example/users/bob/inbox?x=1"
			r, _ := http.NewRequest(c.method, url, strings.NewReader(string(body)))
			r.Header.Set("Content-Digest", digest)
			if !c.date.IsZero() {
				r.Header.Set("Date", c.date.Format(http.TimeFormat))
			}
			if c.unsignable {
				r.Header.Set("Signature-Input", c.input)
				r.Header.Set("Signature", "sig1=:AAAA:")
			} else {
				sign9421(t, r, c.signer, c.input)
			}
			var buf strings.Builder
			if err := r.Write(&buf); err != nil {
				t.Fatal(err)
			}
			sr := serverRequest(t, []byte(buf.String()))
			kr := &keyring{keys: map[string]crypto.PublicKey{id: c.signer.Public()}}
			got, err := verifierFor(kr).Verify(ctx, sr, body)
			if c.wantErr == "" {
				if err != nil || got != id {
					t.Fatalf("Verify = %q, %v", got, err)
				}
				return
			}
			wantDenied(t, err, c.wantErr)
		})
	}
}

func TestRFC9421Scheme(t *testing.T) {
	// A node behind a TLS-terminating proxy sees plain HTTP; the target URI
	// is rebuilt with https unless configured otherwise.
	k := testKeys(t)[1]
	for _, c := range []struct {
		url, scheme string
		ok          bool
	}{
		{"https://music.example/users/bob", "", true},
		{"https://music.example:443/users/bob", "", true}, // the default port is not part of the authority
		{"http://music.example/users/bob", "", false},
		{"http://music.example/users/bob", "http", true},
		{"http://music.example:80/users/bob", "HTTP", true},
		{"http://music.example:8080/users/bob", "http", true},
	} {
		wire := signedWire(t, SignRFC9421, k.key, http.MethodGet, c.url, nil)
		v := verifierFor(&keyring{keys: map[string]crypto.PublicKey{k.key.ID: k.pub}})
		v.Scheme = c.scheme
		_, err := v.Verify(ctx, serverRequest(t, wire), nil)
		if (err == nil) != c.ok {
			t.Errorf("%s with Scheme %q: %v, want ok=%v", c.url, c.scheme, err, c.ok)
		}
	}
}

func TestMalformedHeaders(t *testing.T) {
	const id = "https://remote.example/users/alice#main-key"
	sig := base64.StdEncoding.EncodeToString(make([]byte, 256))
	good := `keyId="` + id + `",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="` + sig + `"`
	cavage := []struct{ value, want string }{
		{"", "not signed"},
		{good[:40], "malformed"},
		{good[:len(good)-1], "unterminated"},
		{strings.Replace(good, `keyId="`+id+`"`, `keyId=`+id, 1), "not quoted"},
		{strings.Replace(good, `",algorithm`, `" algorithm`, 1), "expected a comma"},
		{strings.Replace(good, `keyId="`+id+`",`, "", 1), "keyId is missing"},
		{strings.Replace(good, `,signature="`+sig+`"`, "", 1), "signature is missing"},
		{strings.Replace(good, sig, "!!!!", 1), "not base64"},
		{good + ",", "trailing comma"},
		{strings.Replace(good, ",", ",,", 1), "malformed"},
		{good + `,keyId="other"`, "keyId appears twice"},
		{strings.Replace(good, `headers="(request-target) host date digest"`, `headers=""`, 1), "headers is empty"},
		{strings.Replace(good, `headers="(request-target) host date digest"`, `headers="date date"`, 1), "twice"},
		{strings.Replace(good, "rsa-sha256", "rsa-sha1", 1), "not supported"},
		{`keyId="a",signature="` + sig + `"`, "must cover (request-target)"},
		{`Signature keyId="a",signature="` + sig + `"`, "malformed"},
		{"keyId=\"a\x01\",signature=\"" + sig + "\"", "control character"},
	}
	for _, c := range cavage {
		r, _ := http.NewRequest("POST", "https://music.example/inbox", nil)
		r.Header.Set("Date", signTime.Format(http.TimeFormat))
		r.Header.Set("Digest", "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
		if c.value != "" {
			r.Header.Set("Signature", c.value)
		}
		kr := &keyring{keys: map[string]crypto.PublicKey{id: rfcRSAPublic(t)}}
		_, err := verifierFor(kr).Verify(ctx, r, nil)
		wantDenied(t, err, c.want)
	}
	// Two Signature lines in cavage are ambiguous.
	r, _ := http.NewRequest("POST", "https://music.example/inbox", nil)
	r.Header.Add("Signature", good)
	r.Header.Add("Signature", good)
	_, err := verifierFor(&keyring{}).Verify(ctx, r, nil)
	wantDenied(t, err, "more than one Signature header")

	created := strconv.FormatInt(signTime.Unix(), 10)
	input := `sig1=("@method" "@target-uri" "content-digest");created=` + created + `;keyid="` + id + `"`
	sigv := "sig1=:" + sig + ":"
	rfc := []struct{ input, sig, want string }{
		{input[:30], sigv, "unterminated inner list"},
		{input, sigv[:20], "unterminated byte sequence"},
		{`sig1=(@method @target-uri)`, sigv, "Signature-Input header is malformed"},
		{`sig1=("@method""@target-uri")`, sigv, "expected a space"},
		{input + ",", sigv, "trailing comma"},
		{input, "sig2=:" + sig + ":", "has no sig1"},
		{input, `sig1="` + sig + `"`, "not a byte sequence"},
		{input, "sig1=:" + sig, "unterminated"},
		{`sig1="@method"`, sigv, "not a list of components"},
		{strings.Replace(input, "created="+created, `created="`+created+`"`, 1), sigv, "no created time"},
		{strings.Replace(input, `keyid="`+id+`"`, "keyid=alice", 1), sigv, "no keyid"},
		{strings.Replace(input, "created="+created, "created=1234567890123456", 1), sigv, "more than 15 digits"},
		{strings.Replace(input, "created="+created, "created=-5", 1), sigv, "old"},
		{strings.Replace(input, ";keyid", ";expires=x;keyid", 1), sigv, "not an integer"},
		{strings.Replace(input, `"`+id+`"`, `"`+id+`\x"`, 1), sigv, "bad escape"},
		{`Sig1=("@method")`, sigv, "expected a key"},
		{"", sigv, "Signature-Input header is empty"},
	}
	for _, c := range rfc {
		r, _ := http.NewRequest("POST", "https://music.example/inbox", nil)
		r.Header["Signature-Input"] = []string{c.input}
		r.Header.Set("Signature", c.sig)
		r.Header.Set("Content-Digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
		kr := &keyring{keys: map[string]crypto.PublicKey{id: rfcRSAPublic(t)}}
		_, err := verifierFor(kr).Verify(ctx, r, nil)
		wantDenied(t, err, c.want)
		if len(kr.calls) != 0 {
			t.Errorf("%q: a malformed signature looked up a key", c.input)
		}
	}
}
