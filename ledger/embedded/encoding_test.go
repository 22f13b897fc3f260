package embedded_test

import (
	"bytes"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/ledger/embedded"
)

func sampleEntry() nineten.LedgerEntry {
	return nineten.LedgerEntry{
		Seq: 7, Prev: bytes.Repeat([]byte{1}, 32), Op: "settle",
		Args: []byte(`{"a":1}`), Writes: []byte(`[{"key":"k","text":"v"}]`), Events: []byte(`[]`),
		Signer: "ed25519:00", At: time.Date(2025, 6, 25, 12, 0, 0, 0, time.UTC),
	}
}

// Every field but Hash and Sig is covered, and moving bytes from one field
// to its neighbour changes the hash: the fields are length-prefixed, not
// simply concatenated.
func TestHashCoversEveryField(t *testing.T) {
	base := sampleEntry()
	h := embedded.Hash(&base)
	if len(h) != embedded.HashSize {
		t.Fatalf("hash of %d bytes", len(h))
	}
	for name, change := range map[string]func(e *nineten.LedgerEntry){
		"seq":              func(e *nineten.LedgerEntry) { e.Seq++ },
		"prev":             func(e *nineten.LedgerEntry) { e.Prev[31] ^= 1 },
		"op":               func(e *nineten.LedgerEntry) { e.Op = "settlE" },
		"args":             func(e *nineten.LedgerEntry) { e.Args = []byte(`{"a":2}`) },
		"writes":           func(e *nineten.LedgerEntry) { e.Writes = []byte(`[{"key":"k","text":"w"}]`) },
		"events":           func(e *nineten.LedgerEntry) { e.Events = []byte(`[ ]`) },
		"signer":           func(e *nineten.LedgerEntry) { e.Signer = "ed25519:01" },
		"at":               func(e *nineten.LedgerEntry) { e.At = e.At.Add(time.Millisecond) },
		"op→args boundary": func(e *nineten.LedgerEntry) { e.Op, e.Args = "settl", append([]byte("e"), e.Args...) },
		"args→writes":      func(e *nineten.LedgerEntry) { e.Args, e.Writes = append(e.Args, e.Writes[0]), e.Writes[1:] },
		"writes→events": func(e *nineten.LedgerEntry) {
			e.Writes, e.Events = e.Writes[:len(e.Writes)-1], append([]byte("]"), e.Events...)
		},
		"empty prev":         func(e *nineten.LedgerEntry) { e.Prev = nil },
		"prev→op (33 bytes)": func(e *nineten.LedgerEntry) { e.Prev, e.Op = append(e.Prev, 's'), "ettle" },
	} {
		e := sampleEntry()
		change(&e)
		if bytes.Equal(embedded.Hash(&e), h) {
			t.Errorf("changing %s leaves the hash as it was", name)
		}
	}
	e := sampleEntry()
	e.Hash, e.Sig = []byte("anything"), []byte("else")
	if !bytes.Equal(embedded.Hash(&e), h) {
		t.Error("the hash depends on Hash or Sig")
	}
	// The time hashes in stored precision: what a store reads back (UTC,
	// milliseconds) hashes like what was written.
	e = sampleEntry()
	e.At = e.At.In(time.FixedZone("X", 3600))
	if !bytes.Equal(embedded.Hash(&e), h) {
		t.Error("the time zone changes the hash")
	}
	e.At = time.Time{}
	z := embedded.Hash(&e)
	e.At = time.UnixMilli(0)
	if !bytes.Equal(embedded.Hash(&e), z) {
		t.Error("the zero time and the epoch hash differently, but a store keeps both as 0")
	}
}

func TestWritesEncoding(t *testing.T) {
	writes := []nineten.LedgerWrite{
		{Key: "a", Value: []byte("12")},
		{Key: "b<&>", Value: []byte(`{"x":"é"}`)},
		{Key: "bin", Value: []byte{0xff, 0, 1}},
		{Key: "empty", Value: []byte{}},
	}
	b, err := embedded.EncodeWrites(writes)
	noErr(t, err)
	want := `[{"key":"a","text":"12"},{"key":"b\u003c\u0026\u003e","text":"{\"x\":\"é\"}"},{"key":"bin","base64":"/wAB"},{"key":"empty","text":""}]`
	if string(b) != want {
		t.Fatalf("encoding\n%s\nwant\n%s", b, want)
	}
	back, err := embedded.DecodeWrites(b)
	noErr(t, err)
	if len(back) != len(writes) {
		t.Fatalf("decoded %d writes", len(back))
	}
	for i := range writes {
		if back[i].Key != writes[i].Key || !bytes.Equal(back[i].Value, writes[i].Value) || back[i].Value == nil {
			t.Errorf("write %d decoded as %+v", i, back[i])
		}
	}

	for _, bad := range [][]nineten.LedgerWrite{
		{{Key: "b", Value: []byte("1")}, {Key: "a", Value: []byte("2")}},
		{{Key: "a", Value: []byte("1")}, {Key: "a", Value: []byte("2")}},
		{{Key: "", Value: []byte("1")}},
	} {
		if _, err := embedded.EncodeWrites(bad); err == nil {
			t.Errorf("EncodeWrites(%+v) succeeded", bad)
		}
	}
	for _, bad := range []string{
		`[{"key":"b","text":"1"},{"key":"a","text":"2"}]`, // out of order
		`[{"key":"a","text":"1"},{"key":"a","text":"2"}]`, // a key twice
		`[{"key":"a", "text":"1"}]`,                       // not as encoding/json writes it
		`[{"text":"1","key":"a"}]`,                        // fields reordered
		`[{"key":"a","text":"1","base64":"MQ=="}]`,        // both
		`[{"key":"a"}]`,                                   // neither
		`[{"key":"a","base64":"MQ=="}]`,                   // UTF-8 given as base64
		`[{"KEY":"a","text":"1"}]`,                        // case-folded field name
		`[{"key":"a","text":"1","extra":true}]`,           // a field too many
		`[{"key":"\u00e9","text":"1"}]`,                   // escaped where encoding/json would not
		`{"key":"a","text":"1"}`,                          // not an array
	} {
		if _, err := embedded.DecodeWrites([]byte(bad)); err == nil {
			t.Errorf("DecodeWrites accepted %s", bad)
		}
	}
}
