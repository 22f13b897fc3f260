package httpsig

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"nineten.dev"
)

// label is the name 9ten gives its RFC 9421 signature; one request carries
// one signature, so any name would do.
const label = "sig1"

// maxSignatures bounds how many labelled RFC 9421 signatures Verify tries
// on one request, since each may make it look up a key.
const maxSignatures = 4

// SignRFC9421 signs r as RFC 9421 describes and Mastodon verifies it: it
// sets Content-Digest (RFC 9530, sha-256) except on GET and HEAD, and
// Signature-Input/Signature labelled "sig1", covering "@method",
// "@target-uri" and "content-digest", with the created, keyid and alg
// parameters. alg is "rsa-v1_5-sha256" for RSA keys and "ed25519" for
// Ed25519 keys.
//
// The signature replaces any Signature header already set: the two formats
// share that header, so one request carries one format. body must be the
// exact bytes that will be sent as r's body.
func SignRFC9421(r *http.Request, body []byte, k Key, now time.Time) error {
	if err := checkKey(opSign9421, k); err != nil {
		return err
	}
	if requestHost(r) == "" {
		return nineten.E(opSign9421, nineten.KindInvalid, "the request has no host to sign")
	}
	alg := "rsa-v1_5-sha256"
	if keyType(k) == algEd25519 {
		alg = "ed25519"
	}
	in := innerList{items: []item{{value: "@method"}, {value: "@target-uri"}}}
	if needsDigest(r.Method) {
		sum := sha256.Sum256(body)
		r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		in.items = append(in.items, item{value: "content-digest"})
	}
	in.params = params{{"created", now.Unix()}, {"keyid", k.ID}, {"alg", alg}}
	scheme := "https"
	if r.URL.Scheme != "" {
		scheme = strings.ToLower(r.URL.Scheme)
	}
	base, err := signatureBase(r, scheme, in)
	if err != nil {
		return nineten.E(opSign9421, err)
	}
	raw, err := signWith(k, []byte(base))
	if err != nil {
		return nineten.E(opSign9421, err)
	}
	var b strings.Builder
	b.WriteString(label + "=")
	if err := in.serialize(&b); err != nil {
		return nineten.E(opSign9421, err)
	}
	r.Header.Set("Signature-Input", b.String())
	r.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(raw)+":")
	return nil
}

// signatureBase builds the RFC 9421 signature base (section 2.5) of r for
// the covered components and parameters in in. Component parameters (sf,
// key, bs, req, tr, name) are not supported and make it fail, as the RFC
// requires of parameters a verifier does not understand.
func signatureBase(r *http.Request, scheme string, in innerList) (string, error) {
	var b strings.Builder
	seen := map[string]bool{}
	for _, it := range in.items {
		name, ok := it.value.(string)
		if !ok {
			return "", fmt.Errorf("a covered component is not a string")
		}
		if len(it.params) > 0 {
			return "", fmt.Errorf("component parameters (;%s on %q) are not supported", it.params[0].key, clip(name))
		}
		if seen[name] {
			return "", fmt.Errorf("%q is covered twice", clip(name))
		}
		seen[name] = true
		val, err := componentValue(r, scheme, name)
		if err != nil {
			return "", err
		}
		for i := 0; i < len(val); i++ {
			// A value must stay on its line and be ASCII (section 2.5);
			// anything else could make two messages share a base.
			if c := val[i]; c < 0x20 && c != '\t' || c > 0x7e {
				return "", fmt.Errorf("the value of %q has a byte that cannot be signed", clip(name))
			}
		}
		if err := serializeBareItem(&b, name); err != nil {
			return "", err
		}
		b.WriteString(": ")
		b.WriteString(val)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	if err := in.serialize(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// componentValue derives one component's value (RFC 9421 sections 2.1 and
// 2.2).
func componentValue(r *http.Request, scheme, name string) (string, error) {
	target := requestTarget(r)
	path, query, hasQuery := strings.Cut(target, "?")
	switch name {
	case "@method":
		return r.Method, nil
	case "@target-uri":
		return scheme + "://" + authority(r, scheme) + target, nil
	case "@authority":
		return authority(r, scheme), nil
	case "@scheme":
		return scheme, nil
	case "@request-target":
		return target, nil
	case "@path":
		if path == "" {
			path = "/"
		}
		return path, nil
	case "@query":
		if !hasQuery {
			return "?", nil
		}
		return "?" + query, nil
	case "@signature-params":
		return "", fmt.Errorf("@signature-params must not be a covered component")
	}
	if strings.HasPrefix(name, "@") {
		return "", fmt.Errorf("the derived component %q is not supported", clip(name))
	}
	if name != strings.ToLower(name) {
		return "", fmt.Errorf("the component name %q is not lowercase", clip(name))
	}
	val, ok := fieldValue(r, name)
	if !ok {
		return "", fmt.Errorf("the signed header %s is missing", clip(name))
	}
	return val, nil
}

// authority is the request's authority normalized as RFC 9421 section
// 2.2.3 asks: lowercase, without the scheme's default port.
func authority(r *http.Request, scheme string) string {
	a := strings.ToLower(requestHost(r))
	switch {
	case scheme == "https" && strings.HasSuffix(a, ":443"):
		a = strings.TrimSuffix(a, ":443")
	case scheme == "http" && strings.HasSuffix(a, ":80"):
		a = strings.TrimSuffix(a, ":80")
	}
	return a
}

// scheme is the scheme of the target URI as the verifier sees it.
func (v *Verifier) scheme(r *http.Request) string {
	switch {
	case r.URL.Scheme != "":
		return strings.ToLower(r.URL.Scheme)
	case r.TLS != nil:
		return "https"
	case v.Scheme != "":
		return strings.ToLower(v.Scheme)
	}
	return "https"
}

func (v *Verifier) verifyRFC9421(ctx context.Context, r *http.Request, body []byte) (string, error) {
	inputs, err := parseDictionary(strings.Join(r.Header.Values("Signature-Input"), ", "))
	if err != nil {
		return "", deny("the Signature-Input header is malformed: %v", err)
	}
	sigs, err := parseDictionary(strings.Join(r.Header.Values("Signature"), ", "))
	if err != nil {
		return "", deny("the Signature header is malformed: %v", err)
	}
	if len(inputs) == 0 {
		return "", deny("the Signature-Input header is empty")
	}
	if len(inputs) > maxSignatures {
		return "", deny("the request carries %d signatures; at most %d are checked", len(inputs), maxSignatures)
	}
	// Any one valid signature that meets the requirements is enough; a
	// proxy may have added its own. The first failure is reported.
	var first error
	for _, m := range inputs {
		keyID, err := v.verifyLabel(ctx, r, body, m, sigs)
		if err == nil {
			return keyID, nil
		}
		if first == nil {
			first = err
		}
	}
	return "", first
}

func (v *Verifier) verifyLabel(ctx context.Context, r *http.Request, body []byte, m member, sigs dictionary) (string, error) {
	in, ok := m.value.(innerList)
	if !ok {
		return "", deny("Signature-Input %s is not a list of components", m.key)
	}
	sv, ok := sigs.get(m.key)
	if !ok {
		return "", deny("the Signature header has no %s to go with Signature-Input", m.key)
	}
	sit, _ := sv.(item)
	sig, ok := sit.value.([]byte)
	if !ok {
		return "", deny("Signature %s is not a byte sequence", m.key)
	}

	keyID, ok := stringParam(in.params, "keyid")
	if !ok || keyID == "" {
		return "", deny("Signature-Input %s has no keyid", m.key)
	}
	created, ok := intParam(in.params, "created")
	if !ok {
		return "", deny("Signature-Input %s has no created time", m.key)
	}
	alg := algFromKey
	if _, present := in.params.get("alg"); present {
		name, _ := stringParam(in.params, "alg")
		switch name {
		case "rsa-v1_5-sha256":
			alg = algRSA
		case "ed25519":
			alg = algEd25519
		default:
			return "", deny("the signature algorithm %q is not supported; use rsa-v1_5-sha256 or ed25519", clip(name))
		}
	}

	covered := map[string]bool{}
	for _, it := range in.items {
		if s, ok := it.value.(string); ok {
			covered[s] = true
		}
	}
	// Mastodon's requirements: the method and full target URI always, so
	// the signature cannot be replayed against another URL or server, and
	// the body digest whenever there is a body.
	if !covered["@method"] || !covered["@target-uri"] {
		return "", deny("the signature must cover @method and @target-uri")
	}
	if needsDigest(r.Method) && !covered["content-digest"] {
		return "", deny("the signature must cover the Content-Digest header on %s", r.Method)
	}

	if err := v.checkTime("creation time", time.Unix(created, 0)); err != nil {
		return "", err
	}
	if covered["date"] {
		d, _ := fieldValue(r, "date")
		t, err := http.ParseTime(d)
		if err != nil {
			return "", deny("the Date header %q is not an HTTP date", clip(d))
		}
		if err := v.checkTime("Date", t); err != nil {
			return "", err
		}
	}
	if _, present := in.params.get("expires"); present {
		expires, ok := intParam(in.params, "expires")
		if !ok {
			return "", deny("expires of Signature-Input %s is not an integer", m.key)
		}
		if err := v.checkExpires(time.Unix(expires, 0)); err != nil {
			return "", err
		}
	}
	if covered["content-digest"] {
		if err := checkContentDigest(r, body); err != nil {
			return "", err
		}
	}

	base, err := signatureBase(r, v.scheme(r), in)
	if err != nil {
		return "", deny("the signature cannot be checked: %v", err)
	}
	c := candidate{keyID: keyID, alg: alg, messages: [][]byte{[]byte(base)}, signature: sig}
	if err := v.checkSignature(ctx, c); err != nil {
		return "", err
	}
	return keyID, nil
}

func stringParam(ps params, key string) (string, bool) {
	v, _ := ps.get(key)
	s, ok := v.(string)
	return s, ok
}

func intParam(ps params, key string) (int64, bool) {
	v, _ := ps.get(key)
	n, ok := v.(int64)
	return n, ok
}

// checkContentDigest checks a Content-Digest header (RFC 9530: a
// dictionary of algorithm = byte sequence) against the body.
func checkContentDigest(r *http.Request, body []byte) error {
	h, ok := fieldValue(r, "content-digest")
	if !ok {
		return deny("the signed Content-Digest header is missing")
	}
	d, err := parseDictionary(h)
	if err != nil {
		return deny("the Content-Digest header is malformed: %v", err)
	}
	offered := map[string][]byte{}
	for _, m := range d {
		if _, known := digestAlgorithms[m.key]; !known {
			continue
		}
		it, _ := m.value.(item)
		sum, ok := it.value.([]byte)
		if !ok {
			return deny("the %s value of the Content-Digest header is not a byte sequence", m.key)
		}
		offered[m.key] = sum
	}
	return checkDigests("Content-Digest", offered, body)
}
