// Package httpsig signs and verifies the HTTP requests that ActivityPub
// servers send each other, in the two formats the fediverse uses:
//
//   - draft-cavage-http-signatures-12: one Signature header naming the
//     signed headers. Mastodon, GoToSocial, Misskey, Pleroma and Funkwhale
//     all send it, so it is what 9ten sends first.
//   - RFC 9421 HTTP Message Signatures: Signature-Input and Signature
//     structured fields. Mastodon accepts it and retries with it when a
//     cavage-signed delivery is refused.
//
// Both formats carry a body digest (Digest for cavage, Content-Digest from
// RFC 9530 for RFC 9421) so that a signature vouches for the body too;
// Verify recomputes the digest from the body it is given.
//
// Signing supports RSA keys (RSASSA-PKCS1-v1_5 with SHA-256, which every
// ActivityPub server verifies) and Ed25519 keys. Looking up a public key by
// its id (fetching the actor, caching it) is the caller's job.
package httpsig

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"

	"nineten.dev"
)

// Key is a signing key and the id under which verifiers find its public
// half (for ActivityPub, the actor's key id such as
// "https://example.org/users/alice#main-key").
type Key struct {
	ID      string
	Private crypto.Signer // *rsa.PrivateKey, ed25519.PrivateKey, or any Signer of those key types
}

// Verifier checks signed requests. The zero value (plus Lookup) uses the
// defaults documented on each field.
type Verifier struct {
	// Lookup returns the public key (*rsa.PublicKey or ed25519.PublicKey)
	// for a key id. Verify calls it once with refresh false; if the
	// signature does not verify with that key it calls it once more with
	// refresh true, so that the caller can refetch a key that was rotated
	// since it was cached. An error whose kind is KindUnavailable (the
	// key's server is down) keeps that kind so the sender retries later;
	// any other error makes the request unauthenticated.
	Lookup func(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error)
	// MaxSkew is how far in the future a signature's date may be, for
	// clocks that run ahead. Default 1 h, as Mastodon allows.
	MaxSkew time.Duration
	// MaxAge is how old a signature's date may be. Default 12 h, the limit
	// Mastodon puts on a signature's lifetime; deliveries that are retried
	// later are signed afresh.
	MaxAge time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Scheme is the scheme used to rebuild the RFC 9421 "@target-uri" of a
	// request that arrived without TLS and without an absolute URL, which
	// is what a node behind a TLS-terminating proxy sees. Default "https",
	// because federation runs over HTTPS.
	Scheme string
}

const (
	opVerify     = "httpsig.Verify"
	opSignCavage = "httpsig.SignCavage"
	opSign9421   = "httpsig.SignRFC9421"
)

// Verify checks the signature the request carries and returns the id of
// the key that made it. A request with Signature-Input is checked as RFC
// 9421; otherwise a Signature header is checked as draft-cavage. body is
// the request body, already read by the caller (with its own size limit).
//
// Beyond a valid signature, Verify requires that the signature cover the
// method and target (so it cannot be replayed against another URL), the
// host on GET, a date or creation time within [now-MaxAge, now+MaxSkew],
// and on every method but GET and HEAD a digest that matches body. Every
// failure is a KindUnauthenticated *nineten.Error (or KindUnavailable, see
// Lookup) whose message tells the remote admin what is wrong.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (string, error) {
	if v.Lookup == nil {
		return "", nineten.E(opVerify, "no key lookup is configured")
	}
	if len(r.Header.Values("Signature-Input")) > 0 {
		return v.verifyRFC9421(ctx, r, body)
	}
	if len(r.Header.Values("Signature")) > 0 {
		return v.verifyCavage(ctx, r, body)
	}
	return "", deny("the request is not signed")
}

func deny(format string, args ...any) error {
	return nineten.E(opVerify, nineten.KindUnauthenticated, fmt.Sprintf(format, args...))
}

// clip shortens text that came from the request before it goes into an
// error message, so that a hostile header cannot flood the logs.
func clip(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return time.Hour
}

func (v *Verifier) maxAge() time.Duration {
	if v.MaxAge > 0 {
		return v.MaxAge
	}
	return 12 * time.Hour
}

// checkTime checks a signed point in time (a Date header or a created
// parameter) against the window.
func (v *Verifier) checkTime(what string, t time.Time) error {
	now := v.now()
	if d := t.Sub(now); d > v.maxSkew() {
		return deny("the signed %s is %s in the future; check the sending server's clock", what, d.Round(time.Second))
	}
	if d := now.Sub(t); d > v.maxAge() {
		return deny("the signed %s is %s old, more than the %s allowed; sign each request when sending it", what, d.Round(time.Second), v.maxAge())
	}
	return nil
}

// checkExpires enforces a signer's own expiry, allowing the same clock skew
// as for dates (a sender whose clock runs behind expires early).
func (v *Verifier) checkExpires(expires time.Time) error {
	if v.now().Sub(expires) > v.maxSkew() {
		return deny("the signature expired at %s", expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// needsDigest reports whether a request of this method must sign its body.
// ActivityPub only GETs and POSTs; every method that may carry a body is
// treated like POST.
func needsDigest(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// keyAlgorithm says which algorithm family a signature declares: "" means
// "derive it from the key" (cavage hs2019, or no alg in RFC 9421).
type keyAlgorithm string

const (
	algFromKey keyAlgorithm = ""
	algRSA     keyAlgorithm = "rsa"
	algEd25519 keyAlgorithm = "ed25519"
)

// candidate is a parsed signature: what was signed (one or more signing
// strings; cavage has a legacy variant) and by whom.
type candidate struct {
	keyID     string
	alg       keyAlgorithm
	messages  [][]byte
	signature []byte
}

// checkSignature looks up the key and verifies; if that fails it asks for a
// fresh key once, for actors that rotated their key since it was cached.
func (v *Verifier) checkSignature(ctx context.Context, c candidate) error {
	for _, refresh := range []bool{false, true} {
		pub, err := v.Lookup(ctx, c.keyID, refresh)
		if err != nil {
			kind := nineten.KindUnauthenticated
			if nineten.ErrorKind(err) == nineten.KindUnavailable {
				kind = nineten.KindUnavailable
			}
			return nineten.E(opVerify, kind, fmt.Sprintf("the key %q could not be fetched", clip(c.keyID)), err)
		}
		for _, m := range c.messages {
			if verifyWithKey(pub, c.alg, m, c.signature) {
				return nil
			}
		}
	}
	return deny("the signature does not verify with the key %q", clip(c.keyID))
}

// verifyWithKey verifies one signature. A key that does not fit the
// declared algorithm fails like a wrong key, so that it too leads to a
// refetch (the actor may have switched key types).
func verifyWithKey(pub crypto.PublicKey, alg keyAlgorithm, msg, sig []byte) bool {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if pub == nil || pub.N == nil || (alg != algFromKey && alg != algRSA) {
			return false
		}
		h := sha256.Sum256(msg)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
	case ed25519.PublicKey:
		// ed25519.Verify panics on a key of the wrong length.
		if len(pub) != ed25519.PublicKeySize || (alg != algFromKey && alg != algEd25519) {
			return false
		}
		return ed25519.Verify(pub, msg, sig)
	}
	return false
}

// signWith signs msg with k: RSASSA-PKCS1-v1_5 over SHA-256 for RSA keys,
// pure Ed25519 for Ed25519 keys.
func signWith(k Key, msg []byte) ([]byte, error) {
	switch keyType(k) {
	case algRSA:
		h := sha256.Sum256(msg)
		return k.Private.Sign(rand.Reader, h[:], crypto.SHA256)
	case algEd25519:
		return k.Private.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	return nil, fmt.Errorf("unsupported key type %T", k.Private)
}

func keyType(k Key) keyAlgorithm {
	if k.Private == nil {
		return "none"
	}
	switch k.Private.Public().(type) {
	case *rsa.PublicKey:
		return algRSA
	case ed25519.PublicKey:
		return algEd25519
	}
	return "unsupported"
}

func checkKey(op string, k Key) error {
	if t := keyType(k); t != algRSA && t != algEd25519 {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the signing key must be RSA or Ed25519, not %T", k.Private))
	}
	if k.ID == "" {
		return nineten.E(op, nineten.KindInvalid, "the signing key has no id")
	}
	for i := 0; i < len(k.ID); i++ {
		// Both formats put the key id in a quoted string; quotes and
		// backslashes are left out because cavage parsers differ on escapes.
		if c := k.ID[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the key id %q has a character that cannot be signed", k.ID))
		}
	}
	return nil
}

// requestHost is the host the client addressed: r.Host on a server (Go
// moves the Host header there), r.URL.Host on a client request that does
// not override it.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// requestTarget is the request-target as sent on the request line: the
// raw one on a server, the one Go's client will write otherwise.
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// fieldValue is a header's value for a signing string: the values of all
// its lines, trimmed and joined with ", " (RFC 9421 section 2.1; cavage
// section 2.3 says the same).
func fieldValue(r *http.Request, name string) (string, bool) {
	if name == "host" {
		h := requestHost(r)
		return h, h != ""
	}
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		return "", false
	}
	for i, s := range vals {
		vals[i] = strings.TrimSpace(s)
	}
	return strings.Join(vals, ", "), true
}

// digestAlgorithms are the body digests accepted; the key is the lowercase
// name, which both Digest (case-insensitive) and Content-Digest use.
var digestAlgorithms = map[string]func([]byte) []byte{
	"sha-256": func(b []byte) []byte { h := sha256.Sum256(b); return h[:] },
	"sha-512": func(b []byte) []byte { h := sha512.Sum512(b); return h[:] },
}

// checkDigests compares the digests a header offered with the body. Unknown
// algorithms are ignored, but at least one known one must be present and
// every known one must match: a correct SHA-256 next to a wrong SHA-512
// still means the body is not what was signed.
func checkDigests(header string, offered map[string][]byte, body []byte) error {
	known := 0
	for alg, want := range offered {
		sum, ok := digestAlgorithms[alg]
		if !ok {
			continue
		}
		known++
		if subtle.ConstantTimeCompare(sum(body), want) != 1 {
			return deny("the %s header does not match the body (%s)", header, alg)
		}
	}
	if known == 0 {
		return deny("the %s header has no SHA-256 or SHA-512 digest", header)
	}
	return nil
}
