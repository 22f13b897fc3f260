package federation

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Object integrity proofs (FEP-8b32): a document signed with its actor's
// Ed25519 key (the FEP-521a assertionMethod key, #ed25519-key), so that it
// can be checked by anyone who holds it, long after the HTTP request that
// carried it. The cryptosuite is eddsa-jcs-2022 of W3C's Data Integrity
// EdDSA: the proof options and the document without its proof are each
// canonicalized with JCS (RFC 8785) and hashed with SHA-256, and the
// signature covers the two hashes, options first.

const dataIntegrityContext = "https://w3id.org/security/data-integrity/v2"

// signProof adds a proof to doc (which must not have one), made by the key
// named keyID.
func signProof(doc map[string]any, key ed25519.PrivateKey, keyID string, created time.Time) error {
	options := map[string]any{
		"type":               "DataIntegrityProof",
		"cryptosuite":        "eddsa-jcs-2022",
		"verificationMethod": keyID,
		"proofPurpose":       "assertionMethod",
		"created":            created.UTC().Format(time.RFC3339),
	}
	data, err := proofInput(doc, options)
	if err != nil {
		return err
	}
	options["proofValue"] = "z" + base58(ed25519.Sign(key, data))
	doc["proof"] = options
	return nil
}

// proofInput is what the signature covers: SHA-256 of the canonical proof
// options (with the document's @context) and of the canonical document
// without its proof.
func proofInput(doc, options map[string]any) ([]byte, error) {
	unsigned := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			unsigned[k] = v
		}
	}
	opts := make(map[string]any, len(options)+1)
	for k, v := range options {
		if k != "proofValue" {
			opts[k] = v
		}
	}
	if c, ok := doc["@context"]; ok {
		opts["@context"] = c
	}
	co, err := canonicalJSON(opts)
	if err != nil {
		return nil, err
	}
	cd, err := canonicalJSON(unsigned)
	if err != nil {
		return nil, err
	}
	ho, hd := sha256.Sum256(co), sha256.Sum256(cd)
	return append(ho[:], hd[:]...), nil
}

// proofOf reads the proof of a document and the key id it names.
func proofOf(doc map[string]any) (options map[string]any, keyID string, err error) {
	options, ok := doc["proof"].(map[string]any)
	if !ok {
		return nil, "", errors.New("it carries no proof (an object integrity proof, FEP-8b32)")
	}
	keyID, _ = options["verificationMethod"].(string)
	if options["type"] != "DataIntegrityProof" || options["cryptosuite"] != "eddsa-jcs-2022" || options["proofPurpose"] != "assertionMethod" || keyID == "" {
		return nil, "", errors.New("its proof is not a DataIntegrityProof of eddsa-jcs-2022 for assertionMethod with a verificationMethod")
	}
	return options, keyID, nil
}

// verifyProof checks doc's proof with pub, the key its verificationMethod
// names.
func verifyProof(doc map[string]any, pub ed25519.PublicKey) error {
	options, _, err := proofOf(doc)
	if err != nil {
		return err
	}
	value, _ := options["proofValue"].(string)
	sig, ok := strings.CutPrefix(value, "z")
	raw, err := unbase58(sig)
	if !ok || err != nil || len(raw) != ed25519.SignatureSize {
		return errors.New("its proofValue is not a base58btc Ed25519 signature")
	}
	data, err := proofInput(doc, options)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, data, raw) {
		return errors.New("its proof does not verify: the document was altered, or not signed by that key")
	}
	return nil
}

// decodeDoc parses a JSON document keeping numbers as written, for
// canonicalJSON.
func decodeDoc(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// maxSafeInteger is the largest integer JSON numbers (IEEE doubles) hold
// exactly; JCS writes numbers as doubles, so larger ones are refused
// rather than rounded.
const maxSafeInteger = 1<<53 - 1

// canonicalJSON writes v in the JSON Canonicalization Scheme (RFC 8785):
// object members sorted by the UTF-16 code units of their names, no
// whitespace, strings with only the required escapes. Numbers must be
// integers within ±2^53: 9ten signs amounts and counts, never fractions,
// and refusing the rest keeps the number formatting trivially right.
func canonicalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeCanonical(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writeCanonicalString(b, v)
	case json.Number:
		n, ok := new(big.Int).SetString(string(v), 10)
		if !ok || n.CmpAbs(big.NewInt(maxSafeInteger)) > 0 {
			return fmt.Errorf("the number %s is not an integer of at most 2^53", v)
		}
		b.WriteString(n.String())
	case int:
		return writeCanonical(b, json.Number(strconv.Itoa(v)))
	case int64:
		return writeCanonical(b, json.Number(strconv.FormatInt(v, 10)))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return writeCanonical(b, items)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(x, y string) int { return slices.Compare(utf16.Encode([]rune(x)), utf16.Encode([]rune(y))) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonicalString(b, k)
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("a value of type %T cannot be canonicalized", v)
	}
	return nil
}

// writeCanonicalString escapes what JSON requires (quote, backslash,
// control characters) and nothing else, as RFC 8785 says.
func writeCanonicalString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r == utf8.RuneError:
			b.WriteString("\ufffd")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// unbase58 decodes base58btc (the Bitcoin alphabet).
func unbase58(s string) ([]byte, error) {
	n := new(big.Int)
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base58Alphabet, s[i])
		if d < 0 {
			return nil, fmt.Errorf("%q is not a base58 digit", s[i])
		}
		n.Mul(n, big.NewInt(58))
		n.Add(n, big.NewInt(int64(d)))
	}
	return append(make([]byte, zeros), n.Bytes()...), nil
}

// multikeyPublic reads an Ed25519 public key from a Multikey
// publicKeyMultibase ("z" + base58btc(0xed 0x01 ‖ key)).
func multikeyPublic(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(s, "z")
	raw, err := unbase58(rest)
	if !ok || err != nil || len(raw) != 2+ed25519.PublicKeySize || raw[0] != 0xed || raw[1] != 0x01 {
		return nil, errors.New("not an Ed25519 Multikey")
	}
	return ed25519.PublicKey(raw[2:]), nil
}
