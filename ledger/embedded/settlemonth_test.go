package embedded_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"nineten.dev/chaincode"
	"nineten.dev/chaincode/settleref"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
)

// smKey signs the ledgers of this file's tests.
var smKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{77}, ed25519.SeedSize))

// smMonth is a month of n listeners of node sm.example (every 50th without
// listening, every 40th listening without paying), over artists of four
// nodes with a few much heard, shuffled.
func smMonth(n int, seed uint64) (members []string, aggs []chaincode.Aggregate) {
	r := rand.New(rand.NewPCG(seed, 11))
	zipf := rand.NewZipf(r, 1.2, 3, 999)
	for i := range n {
		l := fmt.Sprintf("l%05d", (i*7919)%100_000)
		if i%40 != 7 {
			members = append(members, l)
		}
		if i%50 == 3 {
			continue
		}
		seen := map[uint64]bool{}
		for range 1 + r.IntN(25) {
			k := zipf.Uint64()
			if seen[k] {
				continue
			}
			seen[k] = true
			listens := 1 + r.Int64N(30)
			aggs = append(aggs, chaincode.Aggregate{Listener: l, Artist: fmt.Sprintf("n%d.example/a%d", k%4, k),
				Listens: listens, SecondsHeard: listens*30 + r.Int64N(listens*200)})
		}
	}
	r.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })
	return members, aggs
}

// smPay has members deposit and subscribe for period, then opens it: on
// st directly (a MemState, or a ledger's State inside one invocation).
func smPay(st chaincode.State, members []string, period string) error {
	var c chaincode.Contract
	for _, l := range members {
		if _, err := c.Deposit(st, "sm.example", l, "card:"+period+":"+l, chaincode.Price); err != nil {
			return err
		}
		if _, err := c.Subscribe(st, "sm.example", l, period); err != nil {
			return err
		}
	}
	_, err := c.OpenMonth(st, "sm.example", period)
	return err
}

func smOpen(t testing.TB) (*sqlstore.DB, *embedded.Ledger) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &embedded.Ledger{Store: db, Key: smKey}
}

// TestSettleMonthOnLedger settles months of a few thousand listeners
// through the ledger into SQLite, each in one entry: the stored state equals
// the contract's run on a MemState byte for byte, balances and transactions
// equal the reference implementation's, one listener's settlement is found
// through a query, and the whole ledger verifies.
func TestSettleMonthOnLedger(t *testing.T) {
	ctx := context.Background()
	var c chaincode.Contract
	db, l := smOpen(t)
	mem := chaincode.NewMemState()
	for month, period := range []string{"2026-01", "2026-02"} {
		members, aggs := smMonth(3000, uint64(month))
		for _, st := range []func(func(chaincode.State) error) error{
			func(fn func(chaincode.State) error) error { return fn(mem) },
			func(fn func(chaincode.State) error) error { _, err := l.Invoke(ctx, "pay", period, fn); return err },
		} {
			if err := st(func(s chaincode.State) error { return smPay(s, members, period) }); err != nil {
				t.Fatal(err)
			}
		}
		before := settleref.Before{Node: "sm.example", Period: period, Held: map[string]settleref.HeldState{}, Balances: map[string]int64{}}
		var err error
		if before.Members, err = c.Members(mem, "sm.example", period); err != nil {
			t.Fatal(err)
		}
		holders, err := c.Holders(mem, "sm.example")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range holders {
			before.Held[h.Listener] = settleref.HeldState{Silent: h.Silent, Since: h.Since}
		}
		if err := c.Balances(mem, func(a string, b chaincode.Micro) error { before.Balances[a] = int64(b); return nil }); err != nil {
			t.Fatal(err)
		}
		refAggs := make([]settleref.Aggregate, len(aggs))
		for i, a := range aggs {
			refAggs[i] = settleref.Aggregate(a)
		}
		want, err := settleref.Settle(before, refAggs)
		if err != nil {
			t.Fatal(err)
		}

		memRes, err := c.Settle(mem, "sm.example", period, aggs)
		if err != nil {
			t.Fatal(err)
		}
		var res chaincode.SettleResult
		e, err := l.Invoke(ctx, "settle", []any{"sm.example", period, len(aggs)}, func(st chaincode.State) error {
			res, err = c.Settle(st, "sm.example", period, aggs)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res) != fmt.Sprint(memRes) || res.Paid != want.Paid || int64(res.ToArtists) != want.ToArtists || res.Artists != want.Artists {
			t.Fatalf("%s: ledger %+v\nMemState %+v\nreference paid %d, %d to %d artists", period, res, memRes, want.Paid, want.ToArtists, want.Artists)
		}
		writes, err := embedded.DecodeWrites(e.Writes)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d aggregates, %d transactions, one entry of %d writes, %d bytes", period, len(aggs), res.LastTx-res.FirstTx+1, len(writes), len(e.Writes))

		// The stored state is the MemState's.
		var stored []string
		if err := db.LedgerRange(ctx, "", "", func(k string, v []byte) error { stored = append(stored, k+"="+string(v)); return nil }); err != nil {
			t.Fatal(err)
		}
		var inMem []string
		_ = mem.Range("", "", func(k string, v []byte) error { inMem = append(inMem, k+"="+string(v)); return nil })
		if !slices.Equal(stored, inMem) {
			t.Fatalf("%s: the stored state differs from the MemState's", period)
		}
		// Balances and transactions are the reference's.
		err = l.Query(ctx, func(st chaincode.State) error {
			n := 0
			err := c.Balances(st, func(a string, b chaincode.Micro) error {
				if int64(b) != want.Balances[a] {
					return fmt.Errorf("%s holds %d; reference %d", a, b, want.Balances[a])
				}
				n++
				return nil
			})
			if err != nil {
				return err
			}
			i := 0
			err = c.Events(st, func(tx chaincode.Tx) error {
				if tx.Seq < res.FirstTx || tx.Seq > res.LastTx {
					return nil
				}
				w := want.Txs[i]
				i++
				if tx.Op != w.Op || tx.Listener != w.Listener || fmt.Sprint(legs(tx.Outputs)) != fmt.Sprint(w.Outputs) || fmt.Sprint(legs(tx.Inputs)) != fmt.Sprint(w.Inputs) {
					return fmt.Errorf("transaction %d: %+v; reference %+v", tx.Seq, tx, w)
				}
				return nil
			})
			if err != nil || i != len(want.Txs) {
				return fmt.Errorf("%d transactions of %d: %v", i, len(want.Txs), err)
			}
			w := want.Txs[len(want.Txs)/2]
			one, found, err := c.SettlementOf(st, "sm.example", period, w.Listener)
			if err != nil || !found || one.Listener != w.Listener || one.Op != w.Op || fmt.Sprint(legs(one.Outputs)) != fmt.Sprint(w.Outputs) {
				return fmt.Errorf("SettlementOf(%s) = %+v, %v, %v; want %+v", w.Listener, one, found, err, w)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", period, err)
		}
	}
	rep, err := l.Verify(ctx, smKey.Public().(ed25519.PublicKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = c.Events(mem, func(chaincode.Tx) error { n++; return nil })
	if rep.Transactions != n || n < 2*3000 {
		t.Fatalf("verified %d transactions; the MemState has %d", rep.Transactions, n)
	}
}

func legs(ls []chaincode.Leg) []settleref.Leg {
	var out []settleref.Leg
	for _, l := range ls {
		out = append(out, settleref.Leg{Account: l.Account, Amount: int64(l.Amount)})
	}
	return out
}

// BenchmarkSettleOnLedger settles a month of 20,000 listeners (about
// 260,000 aggregates) end to end: the contract over SQLite, the entry
// encoded, hashed and signed, and committed with its writes. The state
// before is copied afresh for each round (not timed).
func BenchmarkSettleOnLedger(b *testing.B) {
	ctx := context.Background()
	members, aggs := smMonth(20_000, 1)
	dir := b.TempDir()
	master := filepath.Join(dir, "before.db")
	db, err := sqlstore.Open(ctx, master)
	if err != nil {
		b.Fatal(err)
	}
	l := &embedded.Ledger{Store: db, Key: smKey}
	if _, err := l.Invoke(ctx, "pay", nil, func(st chaincode.State) error { return smPay(st, members, "2026-01") }); err != nil {
		b.Fatal(err)
	}
	db.Close()
	var c chaincode.Contract
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		path := filepath.Join(dir, fmt.Sprintf("r%d.db", round))
		if err := smCopyFile(master, path); err != nil {
			b.Fatal(err)
		}
		db, err := sqlstore.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		l := &embedded.Ledger{Store: db, Key: smKey}
		b.StartTimer()
		_, err = l.Invoke(ctx, "settle", nil, func(st chaincode.State) error {
			_, err := c.Settle(st, "sm.example", "2026-01", aggs)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(aggs)), "ns/aggregate")
}

func smCopyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
