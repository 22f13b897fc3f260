package httpsig

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"nineten.dev"
)

// The RFC 9421 Appendix B.1 test keys (spec text). They are published for
// testing only.
const (
	rfcRSAPrivatePEM = `-----BEGIN RSA PRIVATE KEY-----
MIIEqAIBAAKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsP
BRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsd
JKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75
jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKI
lE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZ
SFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQABAoIBAG/JZuSWdoVHbi56
vjgCgkjg3lkO1KrO3nrdm6nrgA9P9qaPjxuKoWaKO1cBQlE1pSWp/cKncYgD5WxE
CpAnRUXG2pG4zdkzCYzAh1i+c34L6oZoHsirK6oNcEnHveydfzJL5934egm6p8DW
+m1RQ70yUt4uRc0YSor+q1LGJvGQHReF0WmJBZHrhz5e63Pq7lE0gIwuBqL8SMaA
yRXtK+JGxZpImTq+NHvEWWCu09SCq0r838ceQI55SvzmTkwqtC+8AT2zFviMZkKR
Qo6SPsrqItxZWRty2izawTF0Bf5S2VAx7O+6t3wBsQ1sLptoSgX3QblELY5asI0J
YFz7LJECgYkAsqeUJmqXE3LP8tYoIjMIAKiTm9o6psPlc8CrLI9CH0UbuaA2JCOM
cCNq8SyYbTqgnWlB9ZfcAm/cFpA8tYci9m5vYK8HNxQr+8FS3Qo8N9RJ8d0U5Csw
DzMYfRghAfUGwmlWj5hp1pQzAuhwbOXFtxKHVsMPhz1IBtF9Y8jvgqgYHLbmyiu1
mwJ5AL0pYF0G7x81prlARURwHo0Yf52kEw1dxpx+JXER7hQRWQki5/NsUEtv+8RT
qn2m6qte5DXLyn83b1qRscSdnCCwKtKWUug5q2ZbwVOCJCtmRwmnP131lWRYfj67
B/xJ1ZA6X3GEf4sNReNAtaucPEelgR2nsN0gKQKBiGoqHWbK1qYvBxX2X3kbPDkv
9C+celgZd2PW7aGYLCHq7nPbmfDV0yHcWjOhXZ8jRMjmANVR/eLQ2EfsRLdW69bn
f3ZD7JS1fwGnO3exGmHO3HZG+6AvberKYVYNHahNFEw5TsAcQWDLRpkGybBcxqZo
81YCqlqidwfeO5YtlO7etx1xLyqa2NsCeG9A86UjG+aeNnXEIDk1PDK+EuiThIUa
/2IxKzJKWl1BKr2d4xAfR0ZnEYuRrbeDQYgTImOlfW6/GuYIxKYgEKCFHFqJATAG
IxHrq1PDOiSwXd2GmVVYyEmhZnbcp8CxaEMQoevxAta0ssMK3w6UsDtvUvYvF22m
qQKBiD5GwESzsFPy3Ga0MvZpn3D6EJQLgsnrtUPZx+z2Ep2x0xc5orneB5fGyF1P
WtP+fG5Q6Dpdz3LRfm+KwBCWFKQjg7uTxcjerhBWEYPmEMKYwTJF5PBG9/ddvHLQ
EQeNC8fHGg4UXU8mhHnSBt3EA10qQJfRDs15M38eG2cYwB1PZpDHScDnDA0=
-----END RSA PRIVATE KEY-----`
	rfcRSAPublicPEM = `-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----`
	rfcEd25519PrivatePEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----`
	rfcEd25519PublicPEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----`
)

func pemBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatal("bad PEM")
	}
	return b.Bytes
}

func rfcRSAPrivate(t testing.TB) *rsa.PrivateKey {
	k, err := x509.ParsePKCS1PrivateKey(pemBytes(t, rfcRSAPrivatePEM))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rfcRSAPublic(t testing.TB) *rsa.PublicKey {
	k, err := x509.ParsePKCS1PublicKey(pemBytes(t, rfcRSAPublicPEM))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rfcEd25519Private(t testing.TB) ed25519.PrivateKey {
	k, err := x509.ParsePKCS8PrivateKey(pemBytes(t, rfcEd25519PrivatePEM))
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

func rfcEd25519Public(t testing.TB) ed25519.PublicKey {
	k, err := x509.ParsePKIXPublicKey(pemBytes(t, rfcEd25519PublicPEM))
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PublicKey)
}

// otherRSA is a second RSA key, generated once: "a signature by another
// key" and key rotation need two keys of the same type.
var otherRSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func otherEd25519() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))
}

// testKeys are the signing keys of the round-trip matrix.
type testKey struct {
	name string
	key  Key
	pub  crypto.PublicKey
}

func testKeys(t testing.TB) []testKey {
	rk, ek := rfcRSAPrivate(t), rfcEd25519Private(t)
	return []testKey{
		{"rsa", Key{ID: "https://remote.example/users/alice#main-key", Private: rk}, &rk.PublicKey},
		{"ed25519", Key{ID: "https://remote.example/users/alice#ed25519-key", Private: ek}, ek.Public()},
	}
}

var signers = []struct {
	name string
	sign func(*http.Request, []byte, Key, time.Time) error
}{
	{"cavage", SignCavage},
	{"rfc9421", SignRFC9421},
}

// signTime is when test requests are signed; verifiers run at this time
// unless a test moves their clock.
var signTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const inboxBody = `{"@context":"https://www.w3.org/ns/activitystreams","id":"https://remote.example/follows/1","type":"Follow","actor":"https://remote.example/users/alice","object":"https://music.example/users/bob"}`

// signedWire signs a client request and returns it as the bytes that go
// over the wire, which is what a receiving server parses.
func signedWire(t testing.TB, sign func(*http.Request, []byte, Key, time.Time) error, k Key, method, url string, body []byte) []byte {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var r *http.Request
	var err error
	if rd != nil {
		r, err = http.NewRequest(method, url, rd)
	} else {
		r, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/activity+json")
	if err := sign(r, body, k, signTime); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serverRequest parses wire bytes the way net/http's server does.
func serverRequest(t testing.TB, wire []byte) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil {
		t.Fatalf("reading request: %v\n%s", err, wire)
	}
	return r
}

// keyring is a Lookup over fixed keys that records its calls.
type keyring struct {
	mu    sync.Mutex
	keys  map[string]crypto.PublicKey // returned when refresh is false
	fresh map[string]crypto.PublicKey // returned when refresh is true, if set
	calls []bool                      // the refresh flag of each call
}

func (kr *keyring) lookup(_ context.Context, id string, refresh bool) (crypto.PublicKey, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.calls = append(kr.calls, refresh)
	if refresh && kr.fresh != nil {
		if k, ok := kr.fresh[id]; ok {
			return k, nil
		}
	}
	if k, ok := kr.keys[id]; ok {
		return k, nil
	}
	return nil, errors.New("no such key")
}

func verifierFor(kr *keyring) *Verifier {
	return &Verifier{Lookup: kr.lookup, Now: func() time.Time { return signTime }}
}

// wantDenied fails unless err is a KindUnauthenticated *nineten.Error whose
// message contains every fragment given.
func wantDenied(t testing.TB, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("verified, want a failure")
	}
	var e *nineten.Error
	if !errors.As(err, &e) || nineten.ErrorKind(err) != nineten.KindUnauthenticated {
		t.Fatalf("error %v (%T), want KindUnauthenticated", err, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
