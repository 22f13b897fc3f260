package embedded_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/chaincode"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

var c chaincode.Contract

// testKey is the ledger key of the tests: fixed, so that a child process
// (crash_test.go) signs with the same key as its parent.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))

func testPub() ed25519.PublicKey { return testKey.Public().(ed25519.PublicKey) }

// fixedClock ticks a second per call, so entries have distinct times.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

// openDB opens a fresh database of dialect (see dbtest), and returns it
// with what opens it again (a path or a URL).
func openDB(t testing.TB, dialect string) (*sqlstore.DB, string) {
	t.Helper()
	dsn := dbtest.DSN(t, dialect)
	return openAt(t, dsn), dsn
}

// openAt opens the database dsn, closed when t ends.
func openAt(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	return dbtest.OpenDSN(t, dsn)
}

func newLedger(store nineten.LedgerStore) *embedded.Ledger {
	return &embedded.Ledger{Store: store, Key: testKey, Clock: &fixedClock{t: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// invoker runs one contract operation: on a MemState directly, or through
// a Ledger.
type invoker func(op string, args any, fn func(chaincode.State) error) error

func onMem(st *chaincode.MemState) invoker {
	return func(_ string, _ any, fn func(chaincode.State) error) error { return fn(st) }
}

func onLedger(ctx context.Context, l *embedded.Ledger) invoker {
	return func(op string, args any, fn func(chaincode.State) error) error {
		_, err := l.Invoke(ctx, op, args, fn)
		return err
	}
}

const (
	na = "a.example"
	nb = "b.example"
)

// Argument records, as the node would log them.
type (
	depositArgs struct {
		Node, Listener, Ext string
		Amount              chaincode.Micro
	}
	periodArgs struct{ Node, Listener, Period string }
	settleArgs struct {
		Node, Period string
		Listening    []chaincode.Aggregate
	}
)

func deposit(inv invoker, node, listener, ext string, amount chaincode.Micro) error {
	return inv("deposit", depositArgs{node, listener, ext, amount}, func(st chaincode.State) error {
		_, err := c.Deposit(st, node, listener, ext, amount)
		return err
	})
}

func subscribe(inv invoker, node, listener, period string) error {
	return inv("subscribe", periodArgs{node, listener, period}, func(st chaincode.State) error {
		_, err := c.Subscribe(st, node, listener, period)
		return err
	})
}

func openMonth(inv invoker, node, period string) error {
	return inv("open", periodArgs{Node: node, Period: period}, func(st chaincode.State) error {
		_, err := c.OpenMonth(st, node, period)
		return err
	})
}

func renewAll(inv invoker, node, period string) error {
	return inv("renew-all", periodArgs{Node: node, Period: period}, func(st chaincode.State) error {
		_, err := c.RenewAll(st, node, period)
		return err
	})
}

func settle(inv invoker, node, period string, aggs []chaincode.Aggregate) error {
	return inv("settle", settleArgs{node, period, aggs}, func(st chaincode.State) error {
		_, err := c.Settle(st, node, period, aggs)
		return err
	})
}

func agg(listener, artist string, listens, seconds int64) chaincode.Aggregate {
	return chaincode.Aggregate{Listener: listener, Artist: artist, Listens: listens, SecondsHeard: seconds}
}

// story is two months of a node's life: deposits, subscriptions, a
// listener who cannot pay, opening, settling (with a listener of more than 9
// artists, one who listened to nothing, an artist on another node),
// renewals into grace, repeated operations that change nothing, and a
// payout. It fails t when an operation does not end as the contract says.
func story(t testing.TB, inv invoker) {
	t.Helper()
	ok := func(err error) {
		t.Helper()
		noErr(t, err)
	}
	refused := func(err error, k chaincode.Kind) {
		t.Helper()
		if chaincode.KindOf(err) != k {
			t.Fatalf("got %v; want a %v error", err, k)
		}
	}
	ok(deposit(inv, na, "ann", "usdp:0x01:0", 25_000_000))
	ok(deposit(inv, na, "bob", "usdp:0x02:1", 10_000_000))
	ok(deposit(inv, na, "cy", "card:a:77", 30_000_000))
	ok(deposit(inv, na, "dee", "usdp:0x03:0", 5_000_000))
	refused(deposit(inv, na, "ann", "usdp:0x01:0", 25_000_000), chaincode.KindConflict) // credited once
	for _, l := range []string{"ann", "bob", "cy"} {
		ok(subscribe(inv, na, l, "2025-06"))
	}
	refused(subscribe(inv, na, "dee", "2025-06"), chaincode.KindInsufficient)
	ok(openMonth(inv, na, "2025-06"))
	ok(openMonth(inv, na, "2025-06")) // again: nothing moves
	ok(deposit(inv, na, "dee", "usdp:0x04:2", 5_000_000))
	ok(subscribe(inv, na, "dee", "2025-06")) // the month is open: split at once

	var june []chaincode.Aggregate
	june = append(june, agg("ann", na+"/7", 10, 3000), agg("ann", nb+"/1", 4, 600), agg("ann", na+"/8", 1, 31))
	for i := range 12 { // bob heard 12 artists: the top 9 share
		june = append(june, agg("bob", fmt.Sprintf("%s/%d", na, 20+i), 1+int64(i%3), 100+int64(i)*37))
	}
	june = append(june, agg("dee", nb+"/1", 2, 400), agg("eve", na+"/7", 3, 900)) // eve did not pay: ignored
	ok(settle(inv, na, "2025-06", june))
	ok(settle(inv, na, "2025-06", june)) // again with the same totals: nothing moves
	refused(settle(inv, na, "2025-06", june[:3]), chaincode.KindConflict)

	ok(renewAll(inv, na, "2025-07")) // ann and cy renew; bob and dee go into grace
	ok(openMonth(inv, na, "2025-07"))
	ok(settle(inv, na, "2025-07", []chaincode.Aggregate{agg("cy", na+"/7", 5, 1200), agg("cy", na+"/9", 5, 1200)}))
	ok(inv("payout", periodArgs{Node: na, Listener: "7"}, func(st chaincode.State) error {
		_, err := c.Payout(st, na, chaincode.ArtistAccount(na, "7"), "usdp:0x99:0", 5_000_000)
		return err
	}))
}

// storyEntries is how many operations of story change anything.
const storyEntries = 15

// dump returns every key and value of the stored state, in order.
func dump(t testing.TB, st nineten.LedgerStore) []string {
	t.Helper()
	var out []string
	noErr(t, st.LedgerRange(context.Background(), "", "", func(k string, v []byte) error {
		out = append(out, k+"="+string(v))
		return nil
	}))
	return out
}

func dumpMem(st *chaincode.MemState) []string {
	var out []string
	_ = st.Range("", "", func(k string, v []byte) error {
		out = append(out, k+"="+string(v))
		return nil
	})
	return out
}

func head(t testing.TB, st nineten.LedgerStore) (int64, []byte) {
	t.Helper()
	seq, h, err := st.LedgerHead(context.Background())
	noErr(t, err)
	return seq, h
}
