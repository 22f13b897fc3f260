package embedded_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"nineten.dev"
	"nineten.dev/chaincode"
	"nineten.dev/ledger/embedded"
	"nineten.dev/testkit/dbtest"
)

// The contract run through the ledger on SQLite ends in exactly the state it
// reaches on a MemState, byte for byte, and the log verifies.
func TestInvokeMatchesMemState(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		l := newLedger(db)
		story(t, onLedger(ctx, l))
		mem := chaincode.NewMemState()
		story(t, onMem(mem))

		got, want := dump(t, db), dumpMem(mem)
		if !slices.Equal(got, want) {
			t.Fatalf("the ledger's state differs from the MemState's:\nledger:\n%s\nmem:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, acc := range []string{chaincode.ListenerAccount(na, "ann"), chaincode.ArtistAccount(na, "7"), chaincode.ArtistAccount(nb, "1"),
			chaincode.OperatorAccount(na), chaincode.HeldAccount(na, "cy"), chaincode.ExternalAccount(na)} {
			var b chaincode.Micro
			noErr(t, l.Query(ctx, func(st chaincode.State) (err error) {
				b, err = c.Balance(st, acc)
				return err
			}))
			m, _ := c.Balance(mem, acc)
			if b != m {
				t.Errorf("balance of %s: ledger %v, MemState %v", acc, b, m)
			}
		}
		if seq, _ := head(t, db); seq != storyEntries {
			t.Errorf("the log has %d entries; want %d (one per operation that changed something)", seq, storyEntries)
		}

		rep, err := l.Verify(ctx, testPub(), nil)
		noErr(t, err)
		var inside chaincode.Micro
		noErr(t, c.Balances(mem, func(acc string, b chaincode.Micro) error {
			if chaincode.AccountKind(acc) != chaincode.KindExternal {
				inside += b
			}
			return nil
		}))
		var txs int
		noErr(t, c.Events(mem, func(chaincode.Tx) error { txs++; return nil }))
		_, h := head(t, db)
		if rep.Entries != storyEntries || !bytes.Equal(rep.Head, h) || rep.Keys != mem.Len() || rep.Balance != inside || rep.Transactions != txs || rep.Accounts == 0 {
			t.Errorf("report %+v; want %d entries, %d keys, %v inside, %d transactions", rep, storyEntries, mem.Len(), inside, txs)
		}
	})
}

// Each entry is chained, hashed and signed, and says what happened.
func TestInvokeEntries(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		l := newLedger(db)
		e1, err := l.Invoke(ctx, "deposit", depositArgs{na, "ann", "x:1", 12_000_000}, func(st chaincode.State) error {
			_, err := c.Deposit(st, na, "ann", "x:1", 12_000_000)
			return err
		})
		noErr(t, err)
		e2, err := l.Invoke(ctx, "subscribe", periodArgs{na, "ann", "2025-06"}, func(st chaincode.State) error {
			_, err := c.Subscribe(st, na, "ann", "2025-06")
			return err
		})
		noErr(t, err)
		if e1.Seq != 1 || !bytes.Equal(e1.Prev, make([]byte, 32)) || e2.Seq != 2 || !bytes.Equal(e2.Prev, e1.Hash) {
			t.Errorf("chain: entry %d prev %x, entry %d prev %x (entry 1 hash %x)", e1.Seq, e1.Prev, e2.Seq, e2.Prev, e1.Hash)
		}
		if !bytes.Equal(e1.Hash, embedded.Hash(e1)) {
			t.Error("the entry's hash is not the hash of its contents")
		}
		if e1.Signer != embedded.KeyID(testPub()) || !strings.HasPrefix(e1.Signer, "ed25519:") {
			t.Errorf("signer %q", e1.Signer)
		}
		if string(e1.Args) != `{"Node":"a.example","Listener":"ann","Ext":"x:1","Amount":12000000}` {
			t.Errorf("args %s", e1.Args)
		}
		writes, err := embedded.DecodeWrites(e1.Writes)
		noErr(t, err)
		var keys []string
		for _, w := range writes {
			keys = append(keys, w.Key)
		}
		want := []string{"bal/external:a.example", "bal/listener:a.example/ann", "ext/x:1", "seq/a.example", "tx/a.example/00000000000000000001"}
		if !slices.Equal(keys, want) {
			t.Errorf("entry 1 wrote %q; want %q", keys, want)
		}
		if !strings.Contains(string(e1.Writes), `{"key":"bal/listener:a.example/ann","text":"12000000"}`) {
			t.Errorf("writes are not readable: %s", e1.Writes)
		}
		if !strings.HasPrefix(string(e1.Events), `[{"name":"deposit","text":"{\"op\":\"deposit\"`) {
			t.Errorf("events %s", e1.Events)
		}
		// What the store returns is what Invoke returned.
		var stored []nineten.LedgerEntry
		noErr(t, db.LedgerEntries(ctx, 1, func(e nineten.LedgerEntry) error { stored = append(stored, e); return nil }))
		if len(stored) != 2 || !bytes.Equal(stored[1].Hash, e2.Hash) || !stored[1].At.Equal(e2.At) || string(stored[1].Writes) != string(e2.Writes) {
			t.Errorf("stored entries differ from the returned ones: %+v", stored)
		}
	})
}

// Failed operations and operations that change nothing leave no entry.
func TestInvokeLogsOnlyChanges(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		l := newLedger(db)
		noErr(t, deposit(onLedger(ctx, l), na, "ann", "x:1", 1_000_000))
		e, err := l.Invoke(ctx, "subscribe", nil, func(st chaincode.State) error {
			_, err := c.Subscribe(st, na, "ann", "2025-06")
			return err
		})
		if chaincode.KindOf(err) != chaincode.KindInsufficient || e != nil {
			t.Fatalf("subscribing without money: %v, %v", e, err)
		}
		// An error of fn after writes: nothing of them stays.
		boom := errors.New("boom")
		_, err = l.Invoke(ctx, "half", nil, func(st chaincode.State) error {
			if err := st.Put("bal/listener:a.example/ann", []byte("999")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Invoke = %v; want fn's error", err)
		}
		e, err = l.Invoke(ctx, "read", nil, func(st chaincode.State) error {
			_, err := c.Balance(st, chaincode.ListenerAccount(na, "ann"))
			return err
		})
		if err != nil || e != nil {
			t.Fatalf("a read: %v, %v; want no entry", e, err)
		}
		if seq, _ := head(t, db); seq != 1 {
			t.Errorf("%d entries; want 1", seq)
		}
		if v, _ := db.LedgerGet(ctx, "bal/listener:a.example/ann"); string(v) != "1000000" {
			t.Errorf("balance %q after a failed invocation", v)
		}
	})
}

// The State of an invocation sees its own writes, and Range merges them
// with the stored keys in order.
func TestInvokeViewMergesWrites(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		l := newLedger(db)
		_, err := l.Invoke(ctx, "seed", nil, func(st chaincode.State) error {
			for _, k := range []string{"k/a", "k/c", "k/e", "z"} {
				if err := st.Put(k, []byte("old "+k)); err != nil {
					return err
				}
			}
			return nil
		})
		noErr(t, err)
		rangeOf := func(st chaincode.State, start, end string) string {
			var out []string
			noErr(t, st.Range(start, end, func(k string, v []byte) error {
				out = append(out, k+"="+string(v))
				return nil
			}))
			return strings.Join(out, " ")
		}
		_, err = l.Invoke(ctx, "mix", nil, func(st chaincode.State) error {
			for _, k := range []string{"k/b", "k/c", "k/f", "a"} {
				noErr(t, st.Put(k, []byte("new "+k)))
			}
			if v, _ := st.Get("k/c"); string(v) != "new k/c" {
				t.Errorf("Get of a buffered write = %q", v)
			}
			if v, _ := st.Get("k/e"); string(v) != "old k/e" {
				t.Errorf("Get of a stored key = %q", v)
			}
			if got, want := rangeOf(st, "k/", "k0"), "k/a=old k/a k/b=new k/b k/c=new k/c k/e=old k/e k/f=new k/f"; got != want {
				t.Errorf("Range = %q\nwant    %q", got, want)
			}
			if got, want := rangeOf(st, "", ""), "a=new a k/a=old k/a k/b=new k/b k/c=new k/c k/e=old k/e k/f=new k/f z=old z"; got != want {
				t.Errorf("Range = %q\nwant    %q", got, want)
			}
			if got, want := rangeOf(st, "k/b", "k/e"), "k/b=new k/b k/c=new k/c"; got != want {
				t.Errorf("Range = %q\nwant    %q", got, want)
			}
			// Like MemState: fn sees the latest value of a key it has not
			// reached yet, and not the keys it creates meanwhile.
			var seen []string
			noErr(t, st.Range("k/", "k0", func(k string, v []byte) error {
				seen = append(seen, k+"="+string(v))
				if k == "k/a" {
					noErr(t, st.Put("k/e", []byte("newer")))
					noErr(t, st.Put("k/d", []byte("created")))
				}
				return nil
			}))
			if got, want := strings.Join(seen, " "), "k/a=old k/a k/b=new k/b k/c=new k/c k/e=newer k/f=new k/f"; got != want {
				t.Errorf("Range while writing = %q\nwant    %q", got, want)
			}
			stop := errors.New("stop")
			n := 0
			if err := st.Range("", "", func(string, []byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
				t.Errorf("Range with a failing fn = %v after %d calls", err, n)
			}
			return nil
		})
		noErr(t, err)
		if got := strings.Join(dump(t, db), " "); got != "a=new a k/a=old k/a k/b=new k/b k/c=new k/c k/d=created k/e=newer k/f=new k/f z=old z" {
			t.Errorf("state %q", got)
		}
		_, err = l.Invoke(ctx, "empty key", nil, func(st chaincode.State) error { return st.Put("", []byte("x")) })
		if nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("Put of an empty key: %v", err)
		}
	})
}

func TestQueryIsReadOnly(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		l := newLedger(db)
		noErr(t, deposit(onLedger(ctx, l), na, "ann", "x:1", 3_000_000))
		err := l.Query(ctx, func(st chaincode.State) error {
			b, err := c.Balance(st, chaincode.ListenerAccount(na, "ann"))
			if b != 3_000_000 {
				t.Errorf("balance %v", b)
			}
			return err
		})
		noErr(t, err)
		err = l.Query(ctx, func(st chaincode.State) error {
			_, err := c.Deposit(st, na, "ann", "x:2", 1)
			return err
		})
		if err == nil {
			t.Error("a deposit through Query succeeded")
		}
		if seq, _ := head(t, db); seq != 1 {
			t.Errorf("%d entries", seq)
		}
	})
}

// Concurrent invocations are serialized: every one is recorded, the chain
// stays linear and the balances add up.
func TestConcurrentInvokes(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		l := newLedger(db)
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				errs <- deposit(onLedger(ctx, l), na, fmt.Sprintf("l%02d", i), fmt.Sprintf("x:%d", i), chaincode.Micro(1_000_000+i))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			noErr(t, err)
		}
		rep, err := l.Verify(ctx, testPub(), nil)
		noErr(t, err)
		if rep.Entries != n || rep.Transactions != n {
			t.Errorf("report %+v; want %d entries and transactions", rep, n)
		}
	})
}

// Two writers on one store (two processes, say): the one that read an
// older head loses with KindConflict instead of forking the chain, and
// succeeds when it runs again.
func TestSecondWriterConflicts(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		db, _ := openDB(t, dialect)
		first, second := newLedger(db), newLedger(db)
		calls := 0
		op := func(st chaincode.State) error {
			calls++
			if calls == 1 {
				// The other writer appends while this one is running.
				noErr(t, deposit(onLedger(ctx, second), na, "bob", "x:2", 2_000_000))
			}
			_, err := c.Deposit(st, na, "ann", "x:1", 1_000_000)
			return err
		}
		_, err := first.Invoke(ctx, "deposit", nil, op)
		if nineten.ErrorKind(err) != nineten.KindConflict {
			t.Fatalf("the stale writer got %v; want a conflict", err)
		}
		e, err := first.Invoke(ctx, "deposit", nil, op)
		noErr(t, err)
		if e.Seq != 2 {
			t.Errorf("retry appended entry %d; want 2", e.Seq)
		}
		if _, err := first.Verify(ctx, testPub(), nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInvokeNeedsAKey(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		db, _ := openDB(t, dialect)
		l := &embedded.Ledger{Store: db}
		if _, err := l.Invoke(context.Background(), "deposit", nil, func(chaincode.State) error { return nil }); err == nil {
			t.Error("Invoke without a key succeeded")
		}
		if _, err := l.Verify(context.Background(), nil, nil); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("Verify without a key: %v", err)
		}
	})
}
