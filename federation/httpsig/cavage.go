package httpsig

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"nineten.dev"
)

// SignCavage signs r in the draft-cavage-http-signatures-12 format that
// every ActivityPub server accepts, the way Mastodon does: it sets Date
// (and, except on GET and HEAD, Digest: SHA-256=… of body) and a Signature
// header covering "(request-target) host date [digest]". RSA keys declare
// algorithm "rsa-sha256", the name Mastodon sends and all servers know;
// Ed25519 keys declare "hs2019" ("derive the algorithm from the key"),
// since cavage has no standard name for Ed25519.
//
// body must be the exact bytes that will be sent as r's body.
func SignCavage(r *http.Request, body []byte, k Key, now time.Time) error {
	if err := checkKey(opSignCavage, k); err != nil {
		return err
	}
	if requestHost(r) == "" {
		return nineten.E(opSignCavage, nineten.KindInvalid, "the request has no host to sign")
	}
	alg := "rsa-sha256"
	if keyType(k) == algEd25519 {
		alg = "hs2019"
	}
	r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	headers := []string{"(request-target)", "host", "date"}
	if needsDigest(r.Method) {
		sum := sha256.Sum256(body)
		r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
		headers = append(headers, "digest")
	}
	sig := &cavageSignature{keyID: k.ID, algorithm: alg, headers: headers}
	msg, err := sig.signingString(r, requestTarget(r))
	if err != nil {
		return nineten.E(opSignCavage, err)
	}
	raw, err := signWith(k, []byte(msg))
	if err != nil {
		return nineten.E(opSignCavage, err)
	}
	r.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`,
		k.ID, alg, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(raw)))
	return nil
}

// cavageSignature is a parsed Signature header.
type cavageSignature struct {
	keyID     string
	algorithm string   // "" when absent
	headers   []string // lowercase, in signing order
	created   string   // the parameter as sent, "" when absent
	expires   string
	signature []byte
}

func (s *cavageSignature) covers(h string) bool {
	for _, x := range s.headers {
		if x == h {
			return true
		}
	}
	return false
}

// parseCavage parses the Signature header strictly: name="value" pairs
// separated by commas, values quoted, except created and expires, which
// may be bare numbers. Unknown parameters are ignored, as the draft says.
func parseCavage(value string) (*cavageSignature, error) {
	seen := map[string]string{}
	p := &sfParser{s: value}
	p.skipOWS()
	for !p.eof() {
		start := p.i
		for !p.eof() && isAlpha(p.peek()) {
			p.i++
		}
		name := p.s[start:p.i]
		if name == "" || p.eof() || p.peek() != '=' {
			return nil, fmt.Errorf("expected name=value at byte %d", start)
		}
		p.i++
		var val string
		switch {
		case !p.eof() && p.peek() == '"':
			var err error
			if val, err = parseQuoted(p); err != nil {
				return nil, err
			}
		case name == "created" || name == "expires":
			start := p.i
			for !p.eof() && (isDigit(p.peek()) || p.peek() == '.') {
				p.i++
			}
			val = p.s[start:p.i]
		default:
			return nil, fmt.Errorf("the value of %s is not quoted", clip(name))
		}
		if _, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s appears twice", clip(name))
		}
		seen[name] = val
		p.skipOWS()
		if p.eof() {
			break
		}
		if p.peek() != ',' {
			return nil, fmt.Errorf("expected a comma at byte %d", p.i)
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, fmt.Errorf("trailing comma")
		}
	}

	s := &cavageSignature{keyID: seen["keyId"], algorithm: seen["algorithm"], created: seen["created"], expires: seen["expires"]}
	if s.keyID == "" {
		return nil, fmt.Errorf("keyId is missing")
	}
	sig, ok := seen["signature"]
	if !ok || sig == "" {
		return nil, fmt.Errorf("signature is missing")
	}
	var err error
	if s.signature, err = decodeBase64(sig); err != nil {
		return nil, fmt.Errorf("signature is not base64")
	}
	if h, ok := seen["headers"]; ok {
		s.headers = strings.Fields(strings.ToLower(h))
		if len(s.headers) == 0 {
			return nil, fmt.Errorf("headers is empty")
		}
	} else if s.algorithm == "hs2019" || s.algorithm == "" {
		s.headers = []string{"(created)"} // the draft's default
	} else {
		s.headers = []string{"date"} // what rsa-sha256 signers meant before (created) existed
	}
	dup := map[string]bool{}
	for _, h := range s.headers {
		if dup[h] {
			return nil, fmt.Errorf("headers lists %s twice", clip(h))
		}
		dup[h] = true
	}
	return s, nil
}

// parseQuoted reads an HTTP quoted-string (RFC 9110 section 5.6.4).
func parseQuoted(p *sfParser) (string, error) {
	p.i++ // '"'
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.eof() {
				return "", fmt.Errorf("unterminated quoted value")
			}
			b.WriteByte(p.peek())
			p.i++
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", fmt.Errorf("control character in a quoted value")
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated quoted value")
}

// signingString builds the string the draft signs: one "name: value" line
// per covered header, in the order given.
func (s *cavageSignature) signingString(r *http.Request, target string) (string, error) {
	var b strings.Builder
	for i, h := range s.headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		var val string
		switch h {
		case "(request-target)":
			val = strings.ToLower(r.Method) + " " + target
		case "(created)", "(expires)":
			// The draft forbids these with the rsa-*, hmac-* and ecdsa-*
			// algorithms, whose verifiers predate them; Mastodon refuses
			// them too.
			if s.algorithm != "hs2019" && s.algorithm != "" {
				return "", fmt.Errorf("%s cannot be signed with algorithm %s", h, s.algorithm)
			}
			val = s.created
			if h == "(expires)" {
				val = s.expires
			}
			if val == "" {
				return "", fmt.Errorf("%s is signed but its parameter is missing", h)
			}
		default:
			var ok bool
			if val, ok = fieldValue(r, h); !ok {
				return "", fmt.Errorf("the signed header %s is missing", clip(h))
			}
		}
		b.WriteString(h)
		b.WriteString(": ")
		b.WriteString(val)
	}
	return b.String(), nil
}

func (v *Verifier) verifyCavage(ctx context.Context, r *http.Request, body []byte) (string, error) {
	if len(r.Header.Values("Signature")) > 1 {
		return "", deny("the request has more than one Signature header")
	}
	s, err := parseCavage(r.Header.Get("Signature"))
	if err != nil {
		return "", deny("the Signature header is malformed: %v", err)
	}
	var alg keyAlgorithm
	switch s.algorithm {
	case "rsa-sha256":
		alg = algRSA
	case "hs2019", "":
		alg = algFromKey
	default:
		return "", deny("the signature algorithm %q is not supported; use rsa-sha256 or hs2019", clip(s.algorithm))
	}

	// What must be covered, so that the signature cannot be moved to
	// another request: the method and path always, the host on GET (an
	// authorized fetch must not be replayable against another server), the
	// body digest whenever there is a body, and a time.
	if !s.covers("(request-target)") {
		return "", deny("the signature must cover (request-target)")
	}
	if !needsDigest(r.Method) && !s.covers("host") {
		return "", deny("the signature must cover the Host header on %s", r.Method)
	}
	if needsDigest(r.Method) && !s.covers("digest") {
		return "", deny("the signature must cover the Digest header on %s", r.Method)
	}
	if !s.covers("date") && !s.covers("(created)") {
		return "", deny("the signature must cover the Date header or (created)")
	}

	if s.covers("date") {
		d, ok := fieldValue(r, "date")
		if !ok {
			return "", deny("the signed Date header is missing")
		}
		t, err := http.ParseTime(d)
		if err != nil {
			return "", deny("the Date header %q is not an HTTP date", clip(d))
		}
		if err := v.checkTime("Date", t); err != nil {
			return "", err
		}
	}
	if s.covers("(created)") {
		sec, err := strconv.ParseInt(s.created, 10, 64)
		if err != nil {
			return "", deny("created %q is not a Unix time", clip(s.created))
		}
		if err := v.checkTime("creation time", time.Unix(sec, 0)); err != nil {
			return "", err
		}
	}
	if s.covers("(expires)") {
		// The draft allows a fraction of a second here.
		sec, err := strconv.ParseFloat(s.expires, 64)
		if err != nil || sec < 0 || sec > 1e15 {
			return "", deny("expires %q is not a Unix time", clip(s.expires))
		}
		if err := v.checkExpires(time.Unix(int64(sec), 0)); err != nil {
			return "", err
		}
	}
	if s.covers("digest") {
		if err := checkDigestHeader(r, body); err != nil {
			return "", err
		}
	}

	c := candidate{keyID: s.keyID, alg: alg, signature: s.signature}
	target := requestTarget(r)
	msg, err := s.signingString(r, target)
	if err != nil {
		return "", deny("the signature cannot be checked: %v", err)
	}
	c.messages = append(c.messages, []byte(msg))
	if i := strings.IndexByte(target, '?'); i >= 0 {
		// Older Mastodon versions signed (request-target) without the query
		// string; Mastodon and GoToSocial still accept that form, and so
		// does 9ten, so that signed GETs of paged collections from such
		// servers verify. It only ever drops the query, never the path.
		legacy, _ := s.signingString(r, target[:i])
		c.messages = append(c.messages, []byte(legacy))
	}
	if err := v.checkSignature(ctx, c); err != nil {
		return "", err
	}
	return s.keyID, nil
}

// checkDigestHeader checks a Digest header (RFC 3230: "SHA-256=<base64>",
// comma-separated, algorithm names case-insensitive) against the body.
func checkDigestHeader(r *http.Request, body []byte) error {
	h, ok := fieldValue(r, "digest")
	if !ok {
		return deny("the signed Digest header is missing")
	}
	offered := map[string][]byte{}
	for _, part := range strings.Split(h, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return deny("the Digest header %q is malformed", clip(h))
		}
		name = strings.ToLower(name)
		if _, known := digestAlgorithms[name]; !known {
			continue
		}
		sum, err := decodeBase64(strings.TrimSpace(val))
		if err != nil {
			return deny("the %s value of the Digest header is not base64", name)
		}
		if _, dup := offered[name]; dup {
			return deny("the Digest header has %s twice", name)
		}
		offered[name] = sum
	}
	return checkDigests("Digest", offered, body)
}
