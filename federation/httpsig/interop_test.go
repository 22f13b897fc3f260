package httpsig

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests check the package against signatures it did not make: the
// examples published in RFC 9421 (made by its authors' implementations),
// and draft-cavage signatures whose signing string is written out here by
// hand, the way Mastodon's documentation describes it.

// wireText turns an HTTP message as printed in the RFC (LF line ends) into
// wire bytes.
func wireText(s string) []byte {
	head, body, _ := strings.Cut(s, "\n\n")
	return []byte(strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body)
}

// rfcInput parses one labelled member of a Signature-Input value.
func rfcInput(t *testing.T, r *http.Request, label string) (innerList, []byte) {
	t.Helper()
	in, err := parseDictionary(strings.Join(r.Header.Values("Signature-Input"), ", "))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := parseDictionary(strings.Join(r.Header.Values("Signature"), ", "))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := in.get(label)
	if !ok {
		t.Fatalf("no %s in Signature-Input", label)
	}
	s, _ := sigs.get(label)
	return v.(innerList), s.(item).value.([]byte)
}

// RFC 9421 Appendix B.2.6: signing test-request with ed25519.
func TestRFC9421VectorB26(t *testing.T) {
	r := serverRequest(t, wireText(`POST /foo?param=Value&Pet=dog HTTP/1.1
Host: example.com
Date: Tue, 20 Apr 2021 02:07:55 GMT
Content-Type: application/json
Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
Content-Length: 18
Signature-Input: sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"
Signature: sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:

{"hello": "world"}`))
	wantBase := `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`

	in, sig := rfcInput(t, r, "sig-b26")
	base, err := signatureBase(r, "https", in)
	if err != nil {
		t.Fatal(err)
	}
	if base != wantBase {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, wantBase)
	}
	if !verifyWithKey(rfcEd25519Public(t), algFromKey, []byte(base), sig) {
		t.Error("the RFC's ed25519 signature does not verify")
	}
	// Ed25519 is deterministic: signing the same base with the RFC's
	// private key must give the RFC's bytes.
	mine, err := signWith(Key{ID: "test-key-ed25519", Private: rfcEd25519Private(t)}, []byte(base))
	if err != nil || string(mine) != string(sig) {
		t.Errorf("our signature %x differs from the RFC's %x (%v)", mine, sig, err)
	}
	// The example covers neither @target-uri nor the digest, so ActivityPub
	// rules refuse it even though it is cryptographically valid.
	v := verifierFor(&keyring{keys: map[string]crypto.PublicKey{"test-key-ed25519": rfcEd25519Public(t)}})
	v.Now = func() time.Time { return time.Unix(1618884473, 0) }
	_, err = v.Verify(ctx, r, []byte(`{"hello": "world"}`))
	wantDenied(t, err, "must cover @method and @target-uri")
}

// RFC 9421 section 4.3: a request carrying two signatures, the second
// (proxy_sig) made with rsa-v1_5-sha256 and test-key-rsa.
func TestRFC9421VectorRSAv15(t *testing.T) {
	r := serverRequest(t, wireText(`POST /foo?param=Value&Pet=dog HTTP/1.1
Host: origin.host.internal.example
Date: Tue, 20 Apr 2021 02:07:56 GMT
Content-Type: application/json
Content-Length: 18
Forwarded: for=192.0.2.123;host=example.com;proto=https
Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
Signature-Input: sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length");created=1618884475;keyid="test-key-ecc-p256", proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540
Signature: sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jTDX+sNalzA8ESSaHD3A==:, proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:

{"hello": "world"}`))
	wantBase := `"@method": POST
"@authority": origin.host.internal.example
"@path": /foo
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"content-type": application/json
"content-length": 18
"forwarded": for=192.0.2.123;host=example.com;proto=https
"@signature-params": ("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540`

	in, sig := rfcInput(t, r, "proxy_sig")
	base, err := signatureBase(r, "https", in)
	if err != nil {
		t.Fatal(err)
	}
	if base != wantBase {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, wantBase)
	}
	if !verifyWithKey(rfcRSAPublic(t), algRSA, []byte(base), sig) {
		t.Error("the RFC's rsa-v1_5-sha256 signature does not verify")
	}
	// RSASSA-PKCS1-v1_5 is deterministic too.
	mine, err := signWith(Key{ID: "test-key-rsa", Private: rfcRSAPrivate(t)}, []byte(base))
	if err != nil || string(mine) != string(sig) {
		t.Errorf("our signature differs from the RFC's (%v)", err)
	}
	// The example's body digest is a SHA-512 one; it matches the body.
	if err := checkContentDigest(r, []byte(`{"hello": "world"}`)); err != nil {
		t.Error(err)
	}
}

// RFC 9421 Appendix B.4: header lines of one field are combined; fields and
// query parts not covered may change.
func TestRFC9421VectorTransform(t *testing.T) {
	const sigHeaders = `Signature-Input: transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"
Signature: transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:
`
	wantBase := `"@method": GET
"@path": /demo
"@authority": example.org
"accept": application/json, */*
"@signature-params": ("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`
	for _, c := range []struct {
		name, msg string
		ok        bool
	}{
		{"original", "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: application/json\nAccept: */*\n", true},
		{"query and header added", "GET /demo?name1=Value1&Name2=value2&param=added HTTP/1.1\nHost: example.org\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: application/json\nAccept: */*\nAccept-Language: en-US,en;q=0.5\n", true},
		{"Accept collapsed", "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nReferer: https://developer.example.org/demo\nAccept: application/json, */*\n", true},
		{"fields reordered", "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nAccept: application/json\nAccept: */*\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nHost: example.org\n", true},
		{"method and authority changed", "POST /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.com\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: application/json\nAccept: */*\n", false},
		{"Accept lines swapped", "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nAccept: */*\nAccept: application/json\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := serverRequest(t, wireText(c.msg+sigHeaders+"\n"))
			in, sig := rfcInput(t, r, "transform")
			base, err := signatureBase(r, "https", in)
			if err != nil {
				t.Fatal(err)
			}
			if c.ok && base != wantBase {
				t.Fatalf("signature base:\n%s\nwant:\n%s", base, wantBase)
			}
			if got := verifyWithKey(rfcEd25519Public(t), algEd25519, []byte(base), sig); got != c.ok {
				t.Errorf("verified = %v, want %v", got, c.ok)
			}
		})
	}
}

// A draft-cavage request put together by hand, as Mastodon sends one:
// the signing string below is written out from the draft's rules, not
// produced by this package.
func TestCavageInteropHandBuilt(t *testing.T) {
	const (
		keyID = "https://remote.example/users/alice#main-key"
		date  = "Sat, 14 Mar 2026 15:09:26 GMT"
	)
	body := inboxBody
	sum := sha256.Sum256([]byte(body))
	digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
	signingString := "(request-target): post /users/bob/inbox\n" +
		"host: music.example\n" +
		"date: " + date + "\n" +
		"digest: " + digest
	h := sha256.Sum256([]byte(signingString))
	rsaSig, err := rsa.SignPKCS1v15(nil, rfcRSAPrivate(t), crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	edSig := ed25519.Sign(rfcEd25519Private(t), []byte(signingString))

	for _, c := range []struct {
		name, alg string
		sig       []byte
		pub       crypto.PublicKey
	}{
		{"rsa-sha256", "rsa-sha256", rsaSig, rfcRSAPublic(t)},
		{"hs2019 with RSA", "hs2019", rsaSig, rfcRSAPublic(t)},
		{"hs2019 with Ed25519", "hs2019", edSig, rfcEd25519Public(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			wire := "POST /users/bob/inbox HTTP/1.1\r\n" +
				"Host: music.example\r\n" +
				"User-Agent: http.rb/5.1.1 (Mastodon/4.3.0; +https://remote.example/)\r\n" +
				"Date: " + date + "\r\n" +
				"Accept-Encoding: gzip\r\n" +
				"Digest: " + digest + "\r\n" +
				"Content-Type: application/activity+json\r\n" +
				`Signature: keyId="` + keyID + `",algorithm="` + c.alg + `",headers="(request-target) host date digest",signature="` + base64.StdEncoding.EncodeToString(c.sig) + "\"\r\n" +
				"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
			kr := &keyring{keys: map[string]crypto.PublicKey{keyID: c.pub}}
			id, err := verifierFor(kr).Verify(ctx, serverRequest(t, []byte(wire)), []byte(body))
			if err != nil || id != keyID {
				t.Fatalf("Verify = %q, %v", id, err)
			}
		})
	}
}

// The other direction: what SignCavage and SignRFC9421 write must be what
// the formats say, checked against strings written out by hand.
func TestSignersMatchHandBuiltStrings(t *testing.T) {
	rk := rfcRSAPrivate(t)
	ek := rfcEd25519Private(t)
	const keyID = "https://music.example/users/bob#main-key"
	body := []byte(inboxBody)
	sum := sha256.Sum256(body)
	b64sum := base64.StdEncoding.EncodeToString(sum[:])
	date := "Sat, 14 Mar 2026 15:09:26 GMT"
	created := strconv.FormatInt(signTime.Unix(), 10)

	t.Run("cavage", func(t *testing.T) {
		r, _ := http.NewRequest("POST", "https://remote.example/users/alice/inbox", nil)
		if err := SignCavage(r, body, Key{ID: keyID, Private: rk}, signTime); err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Date") != date || r.Header.Get("Digest") != "SHA-256="+b64sum {
			t.Fatalf("Date %q, Digest %q", r.Header.Get("Date"), r.Header.Get("Digest"))
		}
		m := regexp.MustCompile(`^keyId="([^"]+)",algorithm="rsa-sha256",headers="\(request-target\) host date digest",signature="([A-Za-z0-9+/=]+)"$`).FindStringSubmatch(r.Header.Get("Signature"))
		if m == nil || m[1] != keyID {
			t.Fatalf("Signature header %q", r.Header.Get("Signature"))
		}
		sig, _ := base64.StdEncoding.DecodeString(m[2])
		want := "(request-target): post /users/alice/inbox\nhost: remote.example\ndate: " + date + "\ndigest: SHA-256=" + b64sum
		h := sha256.Sum256([]byte(want))
		if err := rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			t.Error("the signature is not over the expected signing string")
		}
	})
	t.Run("cavage GET ed25519", func(t *testing.T) {
		r, _ := http.NewRequest("GET", "https://remote.example/users/alice/outbox?page=1", nil)
		if err := SignCavage(r, nil, Key{ID: keyID, Private: ek}, signTime); err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Digest") != "" {
			t.Error("a GET got a Digest header")
		}
		m := regexp.MustCompile(`^keyId="[^"]+",algorithm="hs2019",headers="\(request-target\) host date",signature="([A-Za-z0-9+/=]+)"$`).FindStringSubmatch(r.Header.Get("Signature"))
		if m == nil {
			t.Fatalf("Signature header %q", r.Header.Get("Signature"))
		}
		sig, _ := base64.StdEncoding.DecodeString(m[1])
		want := "(request-target): get /users/alice/outbox?page=1\nhost: remote.example\ndate: " + date
		if !ed25519.Verify(ek.Public().(ed25519.PublicKey), []byte(want), sig) {
			t.Error("the signature is not over the expected signing string")
		}
	})
	t.Run("rfc9421", func(t *testing.T) {
		r, _ := http.NewRequest("POST", "https://Remote.Example:443/users/alice/inbox?x=1", nil)
		if err := SignRFC9421(r, body, Key{ID: keyID, Private: rk}, signTime); err != nil {
			t.Fatal(err)
		}
		wantInput := `sig1=("@method" "@target-uri" "content-digest");created=` + created + `;keyid="` + keyID + `";alg="rsa-v1_5-sha256"`
		if got := r.Header.Get("Signature-Input"); got != wantInput {
			t.Fatalf("Signature-Input %q\nwant %q", got, wantInput)
		}
		if got := r.Header.Get("Content-Digest"); got != "sha-256=:"+b64sum+":" {
			t.Fatalf("Content-Digest %q", got)
		}
		m := regexp.MustCompile(`^sig1=:([A-Za-z0-9+/=]+):$`).FindStringSubmatch(r.Header.Get("Signature"))
		if m == nil {
			t.Fatalf("Signature %q", r.Header.Get("Signature"))
		}
		sig, _ := base64.StdEncoding.DecodeString(m[1])
		want := `"@method": POST
"@target-uri": https://remote.example/users/alice/inbox?x=1
"content-digest": sha-256=:` + b64sum + `:
"@signature-params": ("@method" "@target-uri" "content-digest");created=` + created + `;keyid="` + keyID + `";alg="rsa-v1_5-sha256"`
		h := sha256.Sum256([]byte(want))
		if err := rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			t.Error("the signature is not over the expected signature base")
		}
	})
	t.Run("rfc9421 GET ed25519", func(t *testing.T) {
		r, _ := http.NewRequest("GET", "https://remote.example/users/alice", nil)
		if err := SignRFC9421(r, nil, Key{ID: keyID, Private: ek}, signTime); err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Content-Digest") != "" {
			t.Error("a GET got a Content-Digest header")
		}
		params := `("@method" "@target-uri");created=` + created + `;keyid="` + keyID + `";alg="ed25519"`
		if got := r.Header.Get("Signature-Input"); got != "sig1="+params {
			t.Fatalf("Signature-Input %q", got)
		}
		sig, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(r.Header.Get("Signature"), "sig1=:"), ":"))
		want := "\"@method\": GET\n\"@target-uri\": https://remote.example/users/alice\n\"@signature-params\": " + params
		if !ed25519.Verify(ek.Public().(ed25519.PublicKey), []byte(want), sig) {
			t.Error("the signature is not over the expected signature base")
		}
	})
}

// RFC 9421 section 2.1: field values are trimmed, obsolete line folding is
// a space, and repeated fields are joined with ", ".
func TestRFC9421FieldValues(t *testing.T) {
	r := serverRequest(t, wireText("GET / HTTP/1.1\n"+
		"Host: www.example.com\n"+
		"Date: Tue, 20 Apr 2021 02:07:56 GMT\n"+
		"X-OWS-Header:   Leading and trailing whitespace.   \n"+
		"X-Obs-Fold-Header: Obsolete\n    line folding.\n"+
		"Cache-Control: max-age=60\n"+
		"Cache-Control:    must-revalidate\n"+
		"Example-Dict:  a=1,    b=2;x=1;y=2,   c=(a   b   c)\n"+
		"X-Empty-Header: \n\n"))
	// A client-side request holds values as the program set them.
	r.Header["X-Untrimmed"] = []string{"  one ", "\ttwo\t"}
	for name, want := range map[string]string{
		"host":              "www.example.com",
		"date":              "Tue, 20 Apr 2021 02:07:56 GMT",
		"x-ows-header":      "Leading and trailing whitespace.",
		"x-obs-fold-header": "Obsolete line folding.",
		"cache-control":     "max-age=60, must-revalidate",
		"example-dict":      "a=1,    b=2;x=1;y=2,   c=(a   b   c)",
		"x-empty-header":    "",
		"x-untrimmed":       "one, two",
	} {
		got, err := componentValue(r, "https", name)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	// Non-ASCII values cannot be signed as they are (section 2.5, step 4).
	r.Header.Set("X-Name", "café")
	if _, err := signatureBase(r, "https", innerList{items: []item{{value: "x-name"}}}); err == nil {
		t.Error("a non-ASCII value went into a signature base")
	}
}
