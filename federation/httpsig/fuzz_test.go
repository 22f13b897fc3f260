package httpsig

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"nineten.dev"
)

// FuzzVerify feeds Verify arbitrary requests (as wire bytes, parsed the way
// the HTTP server parses them) and bodies. It must never panic, must fail
// only with KindUnauthenticated, and may succeed only for a key it knows.
// The seeds are valid signed requests of both formats, both key types, GET
// and POST, and a few broken ones, so mutations explore near-valid input.
func FuzzVerify(f *testing.F) {
	keys := testKeys(f)
	for _, s := range signers {
		for _, k := range keys {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				url, body := target(method)
				f.Add(signedWire(f, s.sign, k.key, method, url, body), body)
			}
		}
	}
	for _, w := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\nSignature: keyId=\"k\",signature=\"\"\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nSignature: keyId=\"k\",headers=\"(request-target) host (created) (expires)\",created=1,expires=1.5,signature=\"AAAA\"\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nSignature-Input: s=(\"@method\" \"@target-uri\" \"content-digest\");created=1;keyid=\"k\"\r\nSignature: s=:AAAA:\r\nContent-Digest: sha-256=:AAAA:\r\nContent-Length: 0\r\n\r\n",
		"GET /?q HTTP/1.1\r\nHost: A:443\r\nSignature-Input: s=(\"@query\" \"@path\" \"@scheme\" \"@request-target\" \"@authority\" \"date\");created=1;keyid=\"k\";alg=\"ed25519\"\r\nSignature: s=:AAAA:\r\n\r\n",
	} {
		f.Add([]byte(w), []byte(nil))
	}

	lookup := map[string]crypto.PublicKey{}
	for _, k := range keys {
		lookup[k.key.ID] = k.pub
	}
	v := &Verifier{
		Now: func() time.Time { return signTime },
		Lookup: func(_ context.Context, id string, _ bool) (crypto.PublicKey, error) {
			if k, ok := lookup[id]; ok {
				return k, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	f.Fuzz(func(t *testing.T, wire, body []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
		if err != nil {
			return
		}
		id, err := v.Verify(context.Background(), r, body)
		if err != nil {
			if k := nineten.ErrorKind(err); k != nineten.KindUnauthenticated {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			if nineten.ErrorMessage(err) == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		if _, ok := lookup[id]; !ok {
			t.Fatalf("verified with unknown key id %q", id)
		}
		if !strings.Contains(r.Header.Get("Signature-Input")+r.Header.Get("Signature"), id) {
			t.Fatalf("key id %q is not in the request's signature", id)
		}
	})
}
