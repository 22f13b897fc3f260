package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"nineten.dev"
)

// The store keeps ledger entries as it is given them: these tests make up
// entries whose hashes are simply distinct 32-byte values, since computing
// and checking them is the ledger's business, not the store's.

// ledgerEntry returns entry seq, following prev, with made-up contents.
func ledgerEntry(seq int64, prev []byte, op string) nineten.LedgerEntry {
	h := sha256.Sum256(fmt.Appendf(nil, "entry %d %s", seq, op))
	return nineten.LedgerEntry{
		Seq: seq, Prev: bytes.Clone(prev), Op: op,
		Args:   fmt.Appendf(nil, `{"n":%d}`, seq),
		Writes: []byte(`[]`), Events: []byte(`[{"name":"` + op + `"}]`),
		Hash: h[:], Signer: "ed25519:test", Sig: bytes.Repeat([]byte{byte(seq)}, 64),
		At: at(time.Duration(seq) * time.Hour),
	}
}

var zeroHash = make([]byte, 32)

// commitChain appends n entries, each writing "k/<seq>" = "v<seq>", and
// returns them.
func (e *env) commitChain(n int) []nineten.LedgerEntry {
	e.Helper()
	var out []nineten.LedgerEntry
	prev := zeroHash
	for i := range int64(n) {
		le := ledgerEntry(i+1, prev, "op")
		e.ok(e.s.LedgerCommit(e.ctx, le, []nineten.LedgerWrite{{Key: fmt.Sprintf("k/%d", i+1), Value: fmt.Appendf(nil, "v%d", i+1)}}))
		out = append(out, le)
		prev = le.Hash
	}
	return out
}

func (e *env) entries(from int64) []nineten.LedgerEntry {
	e.Helper()
	var out []nineten.LedgerEntry
	e.ok(e.s.LedgerEntries(e.ctx, from, func(le nineten.LedgerEntry) error {
		out = append(out, le)
		return nil
	}))
	return out
}

func (e *env) state() map[string]string {
	e.Helper()
	m := map[string]string{}
	e.ok(e.s.LedgerRange(e.ctx, "", "", func(k string, v []byte) error {
		m[k] = string(v)
		return nil
	}))
	return m
}

// unchangedLedger runs f and checks that the log and the state are as they were.
func (e *env) unchangedLedger(f func()) {
	e.Helper()
	log, st := e.entries(1), e.state()
	seq, hash, err := e.s.LedgerHead(e.ctx)
	e.ok(err)
	f()
	e.same("log", log, e.entries(1))
	e.same("state", st, e.state())
	seq2, hash2, err := e.s.LedgerHead(e.ctx)
	e.ok(err)
	if seq2 != seq || !bytes.Equal(hash, hash2) {
		e.Fatalf("head moved from %d to %d", seq, seq2)
	}
}

var ledgerTests = []test{
	{"Ledger/Empty", func(e *env) {
		seq, hash, err := e.s.LedgerHead(e.ctx)
		e.ok(err)
		if seq != 0 || hash != nil {
			e.Errorf("head of an empty log = %d, %x; want 0, nil", seq, hash)
		}
		v, err := e.s.LedgerGet(e.ctx, "nothing")
		e.ok(err)
		if v != nil {
			e.Errorf("LedgerGet of a missing key = %q; want nil", v)
		}
		if got := e.entries(1); len(got) != 0 {
			e.Errorf("an empty log has %d entries", len(got))
		}
	}},

	{"Ledger/CommitRoundTrip", func(e *env) {
		le := ledgerEntry(1, zeroHash, "deposit")
		writes := []nineten.LedgerWrite{
			{Key: "bal/listener:a/ann", Value: []byte("10000000")},
			{Key: "empty", Value: []byte{}},
			{Key: "bin", Value: []byte{0, 0xff, '\n', 0}},
		}
		e.ok(e.s.LedgerCommit(e.ctx, le, writes))
		got := e.entries(1)
		if len(got) != 1 {
			e.Fatalf("%d entries after one commit", len(got))
		}
		e.same("entry", le, got[0])
		for _, w := range writes {
			v, err := e.s.LedgerGet(e.ctx, w.Key)
			e.ok(err)
			if v == nil || !bytes.Equal(v, w.Value) {
				e.Errorf("LedgerGet(%q) = %q (nil %v); want %q", w.Key, v, v == nil, w.Value)
			}
		}
		seq, hash, err := e.s.LedgerHead(e.ctx)
		e.ok(err)
		if seq != 1 || !bytes.Equal(hash, le.Hash) {
			e.Errorf("head = %d, %x; want 1, %x", seq, hash, le.Hash)
		}
		// A later write replaces the value.
		le2 := ledgerEntry(2, le.Hash, "payout")
		e.ok(e.s.LedgerCommit(e.ctx, le2, []nineten.LedgerWrite{{Key: "bal/listener:a/ann", Value: []byte("0")}}))
		v, err := e.s.LedgerGet(e.ctx, "bal/listener:a/ann")
		e.ok(err)
		if string(v) != "0" {
			e.Errorf("value after the second commit = %q; want 0", v)
		}
	}},

	{"Ledger/CommitManyWrites", func(e *env) {
		// A settlement commits a hundred thousand rows at once, written in
		// multi-row statements: every row must land, across chunk edges.
		const n = 1000
		writes := make([]nineten.LedgerWrite, n)
		for i := range writes {
			writes[i] = nineten.LedgerWrite{Key: fmt.Sprintf("k/%04d", i), Value: fmt.Appendf(nil, "v%d", i)}
		}
		// An empty key late in the batch fails the whole commit.
		bad := slices.Clone(writes)
		bad[n-1].Key = ""
		e.wantKind(e.s.LedgerCommit(e.ctx, ledgerEntry(1, zeroHash, "bad"), bad), nineten.KindInvalid)
		if v, err := e.s.LedgerGet(e.ctx, "k/0000"); err != nil || v != nil {
			e.Errorf("after a failed commit k/0000 = %q, %v; want nothing", v, err)
		}
		e.ok(e.s.LedgerCommit(e.ctx, ledgerEntry(1, zeroHash, "many"), writes))
		i := 0
		e.ok(e.s.LedgerRange(e.ctx, "k/", "k0", func(k string, v []byte) error {
			if i < n && (k != writes[i].Key || !bytes.Equal(v, writes[i].Value)) {
				e.Errorf("row %d = %q=%q; want %q=%q", i, k, v, writes[i].Key, writes[i].Value)
			}
			i++
			return nil
		}))
		if i != n {
			e.Errorf("%d rows stored; want %d", i, n)
		}
	}},

	{"Ledger/RangeInByteOrder", func(e *env) {
		// Keys chosen so that byte order differs from any case-folding,
		// numeric or Unicode-aware order a store might slip into.
		keys := []string{"b/2", "a", "b/", "b/10", "B", "b/1", "b0", "b/é", "b/z", "c", "b/Z", "b"}
		var writes []nineten.LedgerWrite
		for _, k := range keys {
			writes = append(writes, nineten.LedgerWrite{Key: k, Value: []byte("=" + k)})
		}
		e.ok(e.s.LedgerCommit(e.ctx, ledgerEntry(1, zeroHash, "op"), writes))
		rangeOf := func(start, end string) string {
			var got []string
			e.ok(e.s.LedgerRange(e.ctx, start, end, func(k string, v []byte) error {
				if string(v) != "="+k {
					e.Errorf("value of %q is %q", k, v)
				}
				got = append(got, k)
				return nil
			}))
			return strings.Join(got, " ")
		}
		for _, c := range []struct{ start, end, want string }{
			{"", "", "B a b b/ b/1 b/10 b/2 b/Z b/z b/é b0 c"},
			{"b/", "b0", "b/ b/1 b/10 b/2 b/Z b/z b/é"}, // a prefix: end is the prefix's successor
			{"b/10", "b/Z", "b/10 b/2"},
			{"b/", "", "b/ b/1 b/10 b/2 b/Z b/z b/é b0 c"},
			{"x", "", ""},
			{"b/2", "b/2", ""},
		} {
			if got := rangeOf(c.start, c.end); got != c.want {
				e.Errorf("range [%q, %q) = %q; want %q", c.start, c.end, got, c.want)
			}
		}
		// An error of fn stops the iteration and comes back as it is.
		n := 0
		err := e.s.LedgerRange(e.ctx, "", "", func(string, []byte) error {
			n++
			return errAbort
		})
		if !errors.Is(err, errAbort) || n != 1 {
			e.Errorf("LedgerRange with a failing fn: %v after %d calls", err, n)
		}
	}},

	{"Ledger/EntriesInOrderFromSeq", func(e *env) {
		chain := e.commitChain(5)
		e.same("all entries", chain, e.entries(1))
		e.same("entries from 3", chain[2:], e.entries(3))
		e.same("entries from 0", chain, e.entries(0))
		if got := e.entries(6); len(got) != 0 {
			e.Errorf("entries after the head: %d", len(got))
		}
		seq, hash, err := e.s.LedgerHead(e.ctx)
		e.ok(err)
		if seq != 5 || !bytes.Equal(hash, chain[4].Hash) {
			e.Errorf("head = %d; want 5", seq)
		}
		n := 0
		err = e.s.LedgerEntries(e.ctx, 1, func(nineten.LedgerEntry) error {
			n++
			return errAbort
		})
		if !errors.Is(err, errAbort) || n != 1 {
			e.Errorf("LedgerEntries with a failing fn: %v after %d calls", err, n)
		}
	}},

	// A commit that cannot take the next place in the log fails as a
	// whole: its state writes are not applied either.
	{"Ledger/FirstEntryFollowsTheZeroHash", func(e *env) {
		e.unchangedLedger(func() {
			e.wantKind(e.s.LedgerCommit(e.ctx, ledgerEntry(1, bytes.Repeat([]byte{1}, 32), "first"), nil), nineten.KindConflict)
			e.wantKind(e.s.LedgerCommit(e.ctx, ledgerEntry(2, zeroHash, "second"), nil), nineten.KindConflict)
		})
	}},

	{"Ledger/DuplicateSeqIsConflictAndWritesNothing", func(e *env) {
		chain := e.commitChain(2)
		e.unchangedLedger(func() {
			dup := ledgerEntry(2, chain[0].Hash, "other")
			e.wantKind(e.s.LedgerCommit(e.ctx, dup, []nineten.LedgerWrite{{Key: "k/1", Value: []byte("changed")}, {Key: "new", Value: []byte("x")}}), nineten.KindConflict)
		})
	}},

	{"Ledger/GapOrWrongPrevIsConflict", func(e *env) {
		chain := e.commitChain(2)
		w := []nineten.LedgerWrite{{Key: "k/1", Value: []byte("changed")}}
		e.unchangedLedger(func() {
			e.wantKind(e.s.LedgerCommit(e.ctx, ledgerEntry(4, chain[1].Hash, "gap"), w), nineten.KindConflict)
			e.wantKind(e.s.LedgerCommit(e.ctx, ledgerEntry(3, chain[0].Hash, "fork"), w), nineten.KindConflict)
			e.wantKind(e.s.LedgerCommit(e.ctx, ledgerEntry(3, nil, "no prev"), w), nineten.KindConflict)
		})
		e.ok(e.s.LedgerCommit(e.ctx, ledgerEntry(3, chain[1].Hash, "next"), w))
	}},

	// A write that fails after the entry and other writes went in rolls
	// all of them back.
	{"Ledger/FailingWriteRollsBackTheCommit", func(e *env) {
		chain := e.commitChain(1)
		e.unchangedLedger(func() {
			err := e.s.LedgerCommit(e.ctx, ledgerEntry(2, chain[0].Hash, "bad"), []nineten.LedgerWrite{
				{Key: "k/1", Value: []byte("changed")},
				{Key: "new", Value: []byte("x")},
				{Key: "", Value: []byte("an empty key")},
			})
			e.wantKind(err, nineten.KindInvalid)
		})
		// The place is still free.
		e.ok(e.s.LedgerCommit(e.ctx, ledgerEntry(2, chain[0].Hash, "good"), nil))
	}},

	{"Ledger/CommitInsideWithTxRollsBack", func(e *env) {
		chain := e.commitChain(1)
		e.unchangedLedger(func() {
			err := e.s.WithTx(e.ctx, func(tx nineten.Store) error {
				if err := tx.LedgerCommit(e.ctx, ledgerEntry(2, chain[0].Hash, "op"), []nineten.LedgerWrite{{Key: "k/1", Value: []byte("changed")}}); err != nil {
					return err
				}
				// The transaction sees its own commit.
				if v, err := tx.LedgerGet(e.ctx, "k/1"); err != nil || string(v) != "changed" {
					e.Errorf("inside the transaction k/1 = %q, %v", v, err)
				}
				if seq, _, err := tx.LedgerHead(e.ctx); err != nil || seq != 2 {
					e.Errorf("inside the transaction the head is %d, %v", seq, err)
				}
				return errAbort
			})
			if !errors.Is(err, errAbort) {
				e.Fatalf("WithTx = %v; want errAbort", err)
			}
		})
	}},
}
