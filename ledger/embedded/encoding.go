package embedded

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"nineten.dev"
	"nineten.dev/chaincode"
)

// hashTag starts every hashed encoding, so that an entry's hash can never
// be mistaken for the hash of some other 9ten structure (or of a later
// version of this one).
const hashTag = "9ten ledger entry v1\n"

// HashSize is the length of an entry's Hash and Prev.
const HashSize = sha256.Size

// Hash returns the SHA-256 hash of e's canonical encoding, which covers
// every field but Hash and Sig themselves (see the package documentation).
// Two entries that differ in any covered field have different encodings.
func Hash(e *nineten.LedgerEntry) []byte {
	h := sha256.New()
	var n [8]byte
	fixed := func(v uint64) {
		binary.BigEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
	field := func(b []byte) {
		fixed(uint64(len(b)))
		h.Write(b)
	}
	h.Write([]byte(hashTag))
	fixed(uint64(e.Seq))
	field(e.Prev)
	field([]byte(e.Op))
	field(e.Args)
	field(e.Writes)
	field(e.Events)
	field([]byte(e.Signer))
	fixed(uint64(atMillis(e)))
	return h.Sum(nil)
}

// atMillis is the entry's time as stored: Unix milliseconds, 0 for the
// zero time (a store reads 0 back as the zero time, so both must hash alike).
func atMillis(e *nineten.LedgerEntry) int64 {
	if e.At.IsZero() {
		return 0
	}
	return e.At.UnixMilli()
}

// KeyID names an Ed25519 public key in entries' Signer: "ed25519:" and the
// key in hex. It is the whole key, so an auditor holding a log knows which
// key to check it with.
func KeyID(pub ed25519.PublicKey) string { return "ed25519:" + hex.EncodeToString(pub) }

// payload is the bytes of a write or an event in the log's JSON: Text when
// they are valid UTF-8 (all the contract writes is JSON or decimal numbers,
// so auditors can read the log), Base64 otherwise. Exactly one is set, and
// the bytes decide which, so the encoding stays canonical.
type payload struct {
	Text   *string `json:"text,omitempty"`
	Base64 []byte  `json:"base64,omitempty"`
}

func toPayload(b []byte) payload {
	if utf8.Valid(b) {
		s := string(b)
		return payload{Text: &s}
	}
	return payload{Base64: b}
}

func (p payload) bytes() ([]byte, error) {
	switch {
	case p.Text != nil && p.Base64 == nil:
		return []byte(*p.Text), nil
	case p.Text == nil && p.Base64 != nil:
		return p.Base64, nil
	}
	return nil, errors.New("a value needs exactly one of text and base64")
}

type writeJSON struct {
	Key string `json:"key"`
	payload
}

type eventJSON struct {
	Name string `json:"name"`
	payload
}

// EncodeWrites returns the canonical JSON of writes: an array of
// {"key": key, "text": value} (or "base64" instead of "text" for a value
// that is not UTF-8) in strictly ascending byte order of the key, as
// encoding/json writes it. writes must be in that order, without repeats.
//
// A settlement writes some hundred megabytes, so the usual case is written
// here directly, byte for byte what encoding/json writes (the tests compare
// the two); anything else (a value that is not UTF-8, a string with a
// character beyond ASCII or a control character but newline, return and
// tab) goes through encoding/json.
func EncodeWrites(writes []nineten.LedgerWrite) ([]byte, error) {
	size := 2
	for i, w := range writes {
		if w.Key == "" {
			return nil, errors.New("a write has an empty key")
		}
		if i > 0 && writes[i-1].Key >= w.Key {
			return nil, fmt.Errorf("writes are not in ascending order of key: %q before %q", writes[i-1].Key, w.Key)
		}
		size += len(w.Key) + len(w.Value) + len(`{"key":"","text":""},`)
	}
	out := make([]byte, 0, size+size/32)
	out = append(out, '[')
	for i, w := range writes {
		if i > 0 {
			out = append(out, ',')
		}
		if !utf8.Valid(w.Value) {
			b, err := json.Marshal(writeJSON{w.Key, toPayload(w.Value)})
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
			continue
		}
		out = append(out, `{"key":`...)
		out = appendJSONString(out, w.Key)
		out = append(out, `,"text":`...)
		out = appendJSONString(out, w.Value)
		out = append(out, '}')
	}
	return append(out, ']'), nil
}

// appendJSONString appends s as encoding/json writes a string (with its
// default HTML escaping). Printable ASCII, newline, return and tab are
// written here; a string with anything else is left to encoding/json.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	const hex = "0123456789abcdef"
	start := len(dst)
	dst = append(dst, '"')
	last := 0 // s[last:i] is still to be copied
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		var esc string
		switch c {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		case '\t':
			esc = `\t`
		case '<', '>', '&':
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			last = i + 1
			continue
		default:
			b, _ := json.Marshal(string(s)) // a string always encodes
			return append(dst[:start], b...)
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}

// DecodeWrites parses the Writes of an entry and checks that they are in
// canonical form: encoding them again gives the same bytes.
func DecodeWrites(b []byte) ([]nineten.LedgerWrite, error) {
	var in []writeJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	writes := make([]nineten.LedgerWrite, len(in))
	for i, w := range in {
		v, err := w.bytes()
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", w.Key, err)
		}
		writes[i] = nineten.LedgerWrite{Key: w.Key, Value: v}
	}
	again, err := EncodeWrites(writes)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, b) {
		return nil, errors.New("they are not in canonical form")
	}
	return writes, nil
}

// encodeEvents returns the JSON of the events an invocation emitted, in
// the order emitted: {"name": event, "text": payload} (or "base64").
func encodeEvents(events []chaincode.Emission) ([]byte, error) {
	out := make([]eventJSON, len(events))
	for i, e := range events {
		out[i] = eventJSON{e.Name, toPayload(e.Payload)}
	}
	return json.Marshal(out)
}

// decodeEvents parses the Events of an entry, checking their form like
// DecodeWrites.
func decodeEvents(b []byte) ([]chaincode.Emission, error) {
	var in []eventJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, err
	}
	events := make([]chaincode.Emission, len(in))
	for i, e := range in {
		p, err := e.bytes()
		if err != nil {
			return nil, fmt.Errorf("event %q: %w", e.Name, err)
		}
		events[i] = chaincode.Emission{Name: e.Name, Payload: p}
	}
	again, err := encodeEvents(events)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, b) {
		return nil, errors.New("they are not in canonical form")
	}
	return events, nil
}

// short abbreviates a hash for messages.
func short(h []byte) string {
	if len(h) == 0 {
		return "(none)"
	}
	s := hex.EncodeToString(h)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// quote shows a stored value in a message, cut short when long.
func quote(v []byte) string {
	s := fmt.Sprintf("%q", v)
	if len(s) > 80 {
		s = s[:77] + "…\""
	}
	return s
}
