package federation

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The W3C's test vector of eddsa-jcs-2022 (Data Integrity EdDSA
// Cryptosuites, "Representation: eddsa-jcs-2022"): the same key, document
// and time must give the same proof, and that proof must verify.
func TestProofW3CVector(t *testing.T) {
	secret, err := unbase58(strings.TrimPrefix("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq", "z"))
	if err != nil || len(secret) != 34 || secret[0] != 0x80 || secret[1] != 0x26 {
		t.Fatalf("the vector's secret key decodes to %x, %v", secret, err)
	}
	key := ed25519.NewKeyFromSeed(secret[2:])
	if got := multikey(key.Public().(ed25519.PublicKey)); got != "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2" {
		t.Fatalf("public key %s", got)
	}
	const credential = `{
		"@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
		"id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
		"type": ["VerifiableCredential", "AlumniCredential"],
		"name": "Alumni Credential",
		"description": "A minimum viable example of an Alumni Credential.",
		"issuer": "https://vc.example/issuers/5678",
		"validFrom": "2023-01-01T00:00:00Z",
		"credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}
	}`
	doc, err := decodeDoc([]byte(credential))
	if err != nil {
		t.Fatal(err)
	}
	const vm = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
	if err := signProof(doc, key, vm, time.Date(2023, 2, 24, 23, 36, 38, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	const want = "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
	if got := doc["proof"].(map[string]any)["proofValue"]; got != want {
		t.Errorf("proofValue %v, want %s", got, want)
	}
	// Through the wire and back, as a receiver reads it.
	b, _ := json.Marshal(doc)
	back, err := decodeDoc(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyProof(back, key.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("the vector does not verify: %v", err)
	}
	// Any change of the document or of the proof's options fails.
	back["name"] = "Alumni Credential!"
	if err := verifyProof(back, key.Public().(ed25519.PublicKey)); err == nil {
		t.Error("an altered document verified")
	}
	back, _ = decodeDoc(b)
	back["proof"].(map[string]any)["created"] = "2023-02-24T23:36:39Z"
	if err := verifyProof(back, key.Public().(ed25519.PublicKey)); err == nil {
		t.Error("altered proof options verified")
	}
}

func TestCanonicalJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"b": 1, "a": "€\n\u0001", "c": [true, null, -7]}`: `{"a":"€\n\u0001","b":1,"c":[true,null,-7]}`,
		// Names sort by UTF-16 code units: U+1F600 (a surrogate pair,
		// 0xD83D…) before U+FB33, though its code point is larger.
		`{"\ufb33": 1, "\ud83d\ude00": 2, "</>": "&"}`: "{\"</>\":\"&\",\"\U0001F600\":2,\"\uFB33\":1}",
	} {
		doc, err := decodeDoc([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := canonicalJSON(doc)
		if err != nil || string(got) != want {
			t.Errorf("canonicalJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`{"a": 1.5}`, `{"a": 1e3}`, `{"a": 9007199254740993}`} {
		doc, _ := decodeDoc([]byte(in))
		if _, err := canonicalJSON(doc); err == nil {
			t.Errorf("canonicalJSON(%s) took a number that is not a safe integer", in)
		}
	}
}

// VerifyProof checks a stored attestation offline: as signed it verifies,
// with another key or with any field changed it does not.
func TestVerifyProofOfAStoredAttestation(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	doc := map[string]any{"type": "ReportAttestation", "attributedTo": "https://b.example/actor", "month": "2026-10",
		"reportHash": "ab12", "verdict": "agree", "findings": []any{}}
	if err := signProof(doc, key, "https://b.example/actor#ed25519-key", time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	signed, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(signed, pub); err != nil {
		t.Fatalf("as signed: %v", err)
	}
	if err := VerifyProof(signed, other); err == nil {
		t.Fatal("verifies with another key")
	}
	for _, change := range [][2]string{{`"agree"`, `"disagree"`}, {`"ab12"`, `"ab13"`}, {`"2026-10"`, `"2026-11"`}} {
		altered := strings.Replace(string(signed), change[0], change[1], 1)
		if altered == string(signed) {
			t.Fatalf("%s is not in %s", change[0], signed)
		}
		if err := VerifyProof([]byte(altered), pub); err == nil {
			t.Errorf("%s → %s: still verifies", change[0], change[1])
		}
	}
	if err := VerifyProof([]byte("not json"), pub); err == nil {
		t.Error("not JSON verifies")
	}
}
