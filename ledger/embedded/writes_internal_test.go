package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"nineten.dev"
)

// encodeWritesJSON is EncodeWrites as it was first written: encoding/json
// over the write records. The log's canonical form is defined by it.
func encodeWritesJSON(writes []nineten.LedgerWrite) ([]byte, error) {
	out := make([]writeJSON, len(writes))
	for i, w := range writes {
		out[i] = writeJSON{w.Key, toPayload(w.Value)}
	}
	return json.Marshal(out)
}

// TestEncodeWritesIsEncodingJSON: the hand-written encoder gives exactly
// the bytes of encoding/json, for ledger-like values and for strings made
// to hit every escape: quotes, backslashes, HTML characters, every control
// character, text beyond ASCII, U+2028, and bytes that are not UTF-8.
func TestEncodeWritesIsEncodingJSON(t *testing.T) {
	pieces := []string{"a", "Z", "0", " ", "/", ":", "=", "|", `"`, `\`, "<", ">", "&", "\n", "\r", "\t", "\x00", "\x01", "\x08", "\x0c", "\x1f", "\x7f",
		"é", "€", "\u2028", "\u2029", "\U0001F3B5", "\xff", "\xc3", "\xe2\x80", "{\"listener\":\"ann\"}", "settle ann pool=9000000 | 0=9000000\n"}
	r := rand.New(rand.NewPCG(5, 6))
	random := func() string {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	var checked, fallbacks int
	for round := range 3000 {
		keys := map[string]bool{}
		var writes []nineten.LedgerWrite
		for range 1 + r.IntN(6) {
			k := "k" + random()
			if keys[k] {
				continue
			}
			keys[k] = true
			v := []byte(random())
			if r.IntN(10) == 0 {
				v = []byte{}
			}
			writes = append(writes, nineten.LedgerWrite{Key: k, Value: v})
		}
		slices.SortFunc(writes, func(a, b nineten.LedgerWrite) int { return strings.Compare(a.Key, b.Key) })
		got, err := EncodeWrites(writes)
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeWritesJSON(writes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: %q\nEncodeWrites  %s\nencoding/json %s", round, writes, got, want)
		}
		if bytes.Contains(want, []byte(`\u`)) || bytes.Contains(want, []byte("base64")) {
			fallbacks++
		}
		// A key that is not UTF-8 comes back with U+FFFD (the contract
		// never writes one); everything else round-trips.
		validKeys := !slices.ContainsFunc(writes, func(w nineten.LedgerWrite) bool { return !utf8.ValidString(w.Key) })
		if back, err := DecodeWrites(got); validKeys && (err != nil || fmt.Sprint(back) != fmt.Sprint(writes)) {
			t.Fatalf("round %d: DecodeWrites = %q, %v", round, back, err)
		}
		checked++
	}
	if fallbacks < 100 {
		t.Fatalf("only %d of %d cases needed an escape", fallbacks, checked)
	}
	for _, w := range [][]nineten.LedgerWrite{nil, {}} {
		if got, _ := EncodeWrites(w); string(got) != "[]" {
			t.Fatalf("EncodeWrites(%#v) = %s", w, got)
		}
	}
}
