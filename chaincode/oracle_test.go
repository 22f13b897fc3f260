package chaincode

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"nineten.dev/chaincode/settleref"
)

// beforeOf reads what the reference implementation needs from st through
// the contract's public reads: members, held records, every balance.
func beforeOf(t testing.TB, st State, node, period string) settleref.Before {
	t.Helper()
	b := settleref.Before{Node: node, Period: period, Held: map[string]settleref.HeldState{}, Balances: map[string]int64{}}
	var err error
	b.Members, err = c.Members(st, node, period)
	noErr(t, err)
	holders, err := c.Holders(st, node)
	noErr(t, err)
	for _, h := range holders {
		b.Held[h.Listener] = settleref.HeldState{Silent: h.Silent, Since: h.Since}
	}
	noErr(t, c.Balances(st, func(account string, m Micro) error {
		b.Balances[account] = int64(m)
		return nil
	}))
	return b
}

// compareSettlement checks a settlement against the reference's result:
// the counts, every transaction (txs holds the node's transactions since
// before it, as Events gives them) and SettlementOf's view of it, every
// balance, the held records and the node's statements. It returns what
// differs first, or "".
func compareSettlement(st State, node, period string, res SettleResult, want *settleref.Result, txs []Tx) string {
	if res.Digest != want.Digest {
		return fmt.Sprintf("digest %s; reference %s", res.Digest, want.Digest)
	}
	if res.Paid != want.Paid || res.Held != want.HeldListeners || res.Refunded != want.Refunded ||
		int64(res.ToArtists) != want.ToArtists || int64(res.ToHeld) != want.ToHeld ||
		int64(res.RefundedAmount) != want.RefundedAmount || res.Artists != want.Artists ||
		!slices.Equal(res.Ignored, want.Ignored) {
		return fmt.Sprintf("settle = %+v\nreference: paid %d, held %d, refunded %d, to artists %d, to held %d, refunded %d, artists %d, ignored %v",
			res, want.Paid, want.HeldListeners, want.Refunded, want.ToArtists, want.ToHeld, want.RefundedAmount, want.Artists, want.Ignored)
	}
	var got []Tx
	for _, tx := range txs {
		if res.FirstTx > 0 && tx.Seq >= res.FirstTx && tx.Seq <= res.LastTx {
			got = append(got, tx)
		}
	}
	if len(got) != len(want.Txs) || (len(got) > 0 && uint64(len(got)) != res.LastTx-res.FirstTx+1) {
		return fmt.Sprintf("%d settlement transactions (%d to %d); the reference has %d", len(got), res.FirstTx, res.LastTx, len(want.Txs))
	}
	legs := func(ls []settleref.Leg) []Leg {
		var out []Leg
		for _, l := range ls {
			out = append(out, Leg{l.Account, Micro(l.Amount)})
		}
		return out
	}
	for i, tx := range got {
		w := want.Txs[i]
		if tx.Node != node || tx.Period != period || tx.Seq != res.FirstTx+uint64(i) || tx.Op != w.Op || tx.Listener != w.Listener ||
			!slices.Equal(tx.Inputs, legs(w.Inputs)) || !slices.Equal(tx.Outputs, legs(w.Outputs)) {
			return fmt.Sprintf("transaction %d:\n  %+v\nreference\n  %+v", tx.Seq, tx, w)
		}
		one, found, err := c.SettlementOf(st, node, period, tx.Listener)
		if err != nil || !found || fmt.Sprint(one) != fmt.Sprint(tx) {
			return fmt.Sprintf("SettlementOf(%s) = %+v, %v, %v; want %+v", tx.Listener, one, found, err, tx)
		}
	}
	balances := map[string]Micro{}
	if err := c.Balances(st, func(account string, m Micro) error {
		balances[account] = m
		return nil
	}); err != nil {
		return err.Error()
	}
	for account, m := range balances {
		if int64(m) != want.Balances[account] {
			return fmt.Sprintf("balance of %s = %d; reference %d", account, m, want.Balances[account])
		}
	}
	for account, m := range want.Balances {
		if int64(balances[account]) != m {
			return fmt.Sprintf("balance of %s = %d; reference %d", account, balances[account], m)
		}
	}
	holders, err := c.Holders(st, node)
	if err != nil {
		return err.Error()
	}
	if len(holders) != len(want.Held) {
		return fmt.Sprintf("%d held records; reference %d", len(holders), len(want.Held))
	}
	for _, h := range holders {
		if w, ok := want.Held[h.Listener]; !ok || w.Silent != h.Silent || w.Since != h.Since {
			return fmt.Sprintf("held record %+v; reference %+v (%v)", h, w, ok)
		}
	}
	sts, err := c.StatementsFor(st, period)
	if err != nil {
		return err.Error()
	}
	paid := map[string]int64{}
	for _, s := range sts {
		if s.From == node {
			paid[s.Node+"/"+s.Artist] = int64(s.Amount)
		}
	}
	if fmt.Sprint(paid) != fmt.Sprint(want.Statements) {
		return fmt.Sprintf("statements %v\nreference %v", paid, want.Statements)
	}
	return ""
}

// monthWorld is a node with many listeners over several months, for
// settling whole months against the reference: skewed listening (a few
// artists most heard, a long tail) of artists on several nodes, many ties,
// members who do not listen for a while (held, then paid out or refunded),
// listeners who stop paying (grace, expiry) and listeners who never pay.
type monthWorld struct {
	t         *testing.T
	r         *rand.Rand
	st        *MemState
	node      string
	listeners []string
	artists   []string
	zipf      *rand.Zipf
	sleepy    map[string]int // listener → months of silence left
	ext       int
}

func newMonthWorld(t *testing.T, seed uint64, listeners, artists int) *monthWorld {
	w := &monthWorld{t: t, r: rand.New(rand.NewPCG(seed, 0x5e771e)), st: NewMemState(), node: "home.example", sleepy: map[string]int{}}
	nodes := 2 + w.r.IntN(5)
	for i := range artists {
		w.artists = append(w.artists, fmt.Sprintf("n%d.example/art%d", (i*7)%nodes, i))
	}
	w.r.Shuffle(len(w.artists), func(i, j int) { w.artists[i], w.artists[j] = w.artists[j], w.artists[i] })
	w.zipf = rand.NewZipf(w.r, 1.1, 2, uint64(artists-1))
	for i := range listeners {
		w.listeners = append(w.listeners, fmt.Sprintf("u%x", i*2654435761%(1<<32)))
	}
	return w
}

// pay has most listeners deposit and subscribe for period (some leave some
// months unpaid), renews the others and opens the month.
func (w *monthWorld) pay(period string, first bool) {
	t, r := w.t, w.r
	if !first {
		_, err := c.RenewAll(w.st, w.node, period)
		noErr(t, err)
	}
	for i, l := range w.listeners {
		switch {
		case i%17 == 5: // never pays, but listens
			continue
		case first || r.IntN(10) == 0: // tops up for a month or a few
			w.ext++
			_, err := c.Deposit(w.st, w.node, l, fmt.Sprintf("card:%d", w.ext), Price*Micro(1+r.IntN(3)))
			noErr(t, err)
		}
		sub, found, err := c.SubscriptionOf(w.st, w.node, l)
		noErr(t, err)
		if first || !found || sub.Status == Expired {
			if balance(t, w.st, ListenerAccount(w.node, l)) >= Price {
				_, err := c.Subscribe(w.st, w.node, l, period)
				noErr(t, err)
			}
		}
		if r.IntN(40) == 0 && found {
			_, err := c.Cancel(w.st, w.node, l)
			noErr(t, err)
		}
	}
	_, err := c.OpenMonth(w.st, w.node, period)
	noErr(t, err)
}

// listening makes the month's aggregates, shuffled.
func (w *monthWorld) listening() []Aggregate {
	r := w.r
	var aggs []Aggregate
	for _, l := range w.listeners {
		if w.sleepy[l] > 0 {
			w.sleepy[l]--
			continue
		}
		if r.IntN(12) == 0 {
			w.sleepy[l] = r.IntN(4) // silent for 1 to 4 months
			continue
		}
		n := 1 + r.IntN(20)
		seen := map[int]bool{}
		for range n {
			k := int(w.zipf.Uint64())
			if seen[k] {
				continue
			}
			seen[k] = true
			var listens, seconds int64
			switch r.IntN(8) {
			case 0, 1: // from a small set: many ties, at the 9th place too
				listens = 1 + r.Int64N(2)
				seconds = 30 * listens * (1 + r.Int64N(2))
			case 2:
				listens, seconds = 0, 0 // nothing eligible
			case 3:
				listens = 1 + r.Int64N(1000)
				seconds = MaxSecondsHeard - r.Int64N(1000)
			default:
				listens = 1 + r.Int64N(60)
				seconds = listens*30 + r.Int64N(listens*300+1)
			}
			aggs = append(aggs, agg(l, w.artists[k], listens, seconds))
		}
	}
	r.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })
	return aggs
}

// TestSettleMonthsAgainstReference settles whole months of thousands of
// listeners, one after another on one state (held money carried between
// months), and checks each against the reference implementation given the
// state before it. Each month is settled twice from the same state, with
// one worker and with several and different batch sizes' worth of
// goroutines: the two states must be byte-identical.
func TestSettleMonthsAgainstReference(t *testing.T) {
	seeds := uint64(6)
	if testing.Short() {
		seeds = 2
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			w := newMonthWorld(t, seed, 1500+int(seed)*300, 300+int(seed)*150)
			batch := []int{1, 7, 64, 1024}[seed%4]
			period := "2026-01"
			totals := map[string]int{}
			for month := range 5 {
				w.pay(period, month == 0)
				aggs := w.listening()
				want, err := settleref.Settle(beforeOf(t, w.st, w.node, period), toRef(aggs))
				noErr(t, err)
				other := w.st.Clone()
				res, err := settle(w.st, w.node, period, aggs, settleConfig{workers: 1, batch: batch, minBatches: 1, minAggs: 1})
				noErr(t, err)
				slices.Reverse(aggs)
				res2, err := settle(other, w.node, period, aggs, settleConfig{workers: 3, batch: batch, minBatches: 1, minAggs: 1})
				noErr(t, err)
				if fmt.Sprint(res) != fmt.Sprint(res2) || !bytes.Equal(w.st.Snapshot(), other.Snapshot()) {
					t.Fatalf("%s: settling with 1 and with 3 workers gives different states", period)
				}
				var txs []Tx
				noErr(t, c.Events(w.st, func(tx Tx) error {
					if res.FirstTx > 0 && tx.Seq >= res.FirstTx {
						txs = append(txs, tx)
					}
					return nil
				}))
				if msg := compareSettlement(w.st, w.node, period, res, want, txs); msg != "" {
					t.Fatalf("%s: %s", period, msg)
				}
				totals["paid"] += want.Paid
				totals["held"] += want.HeldListeners
				totals["refunded"] += want.Refunded
				totals["ignored"] += len(want.Ignored)
				for _, sh := range want.Shares {
					if len(sh) == TopArtists {
						totals["full top 9"]++
					}
				}
				if res.LastTx-res.FirstTx+1 > uint64(batch) {
					totals["months over several batches"]++
				}
				period, _ = NextPeriod(period)
			}
			noErr(t, c.Audit(w.st))
			t.Log(totals)
			for _, k := range []string{"paid", "held", "refunded", "ignored", "full top 9"} {
				if totals[k] < 5 {
					t.Errorf("only %d %s: the months do not exercise it", totals[k], k)
				}
			}
		})
	}
}

// TestSettlementRecords: a settlement's transactions are stored in
// batches under the transaction keys, with one index; tampering with a batch
// is caught by the decoder, and Audit replays batches like any transaction.
func TestSettlementRecords(t *testing.T) {
	w := newMonthWorld(t, 99, 40, 30)
	w.pay("2026-01", true)
	aggs := w.listening()
	res, err := settle(w.st, w.node, "2026-01", aggs, settleConfig{workers: 2, batch: 8, minBatches: 1, minAggs: 1})
	noErr(t, err)
	var batches []string
	noErr(t, w.st.Range(keyTx+w.node+"/", prefixEnd(keyTx+w.node+"/"), func(k string, v []byte) error {
		if bytes.HasPrefix(v, []byte(batchTag)) {
			batches = append(batches, k)
		}
		return nil
	}))
	n := res.LastTx - res.FirstTx + 1
	if want := (n + 7) / 8; uint64(len(batches)) != want || batches[0] != txKey(w.node, res.FirstTx) {
		t.Fatalf("%d transactions in batches %v; want %d batches from %d", n, batches, want, res.FirstTx)
	}
	idx, err := w.st.Get(settleKey(w.node, "2026-01"))
	noErr(t, err)
	if !strings.HasPrefix(string(idx), fmt.Sprintf("batches %d\n%d ", len(batches), res.FirstTx)) {
		t.Fatalf("index = %q", idx)
	}
	first, _ := w.st.Get(batches[0])
	t.Logf("first batch:\n%s", first)
	noErr(t, c.Audit(w.st))

	for name, edit := range map[string]func(string) string{
		"amount changed": func(v string) string { return strings.Replace(v, "=9000000", "=9000001", 1) },
		"line dropped": func(v string) string {
			i := strings.Index(v, "\n")
			j := strings.Index(v[i+1:], "\n")
			return v[:i+1] + v[i+1+j+1:]
		},
		"unknown artist": func(v string) string {
			i := strings.Index(v, " | ") + len(" | ")
			for v[i] >= '0' && v[i] <= '9' {
				i++
			}
			return v[:strings.Index(v, " | ")] + " | 99999" + v[i:]
		},
		"header replaced": func(v string) string { return strings.Replace(v, "settle "+w.node, "settle other.example", 1) },
		"no newline":      func(v string) string { return strings.TrimSuffix(v, "\n") },
	} {
		st := w.st.Clone()
		edited := edit(string(first))
		if edited == string(first) {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		noErr(t, st.Put(batches[0], []byte(edited)))
		if err := c.Audit(st); err == nil {
			t.Errorf("%s: Audit passes", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestSettleErrorsDoNotDependOnWorkers: with the listening cut into parts
// grouped in parallel, the error is still the first invalid aggregate in
// the order given, then the first repeated listener × artist in lexical
// order, whatever the number of workers; and nothing is written.
func TestSettleErrorsDoNotDependOnWorkers(t *testing.T) {
	w := newMonthWorld(t, 7, 200, 50)
	w.pay("2026-01", true)
	good := w.listening()
	r := rand.New(rand.NewPCG(7, 8))
	cases := 0
	for round := range 60 {
		aggs := slices.Clone(good)
		for range 1 + r.IntN(4) {
			i := r.IntN(len(aggs))
			switch r.IntN(5) {
			case 0:
				aggs[i].Listener = "no/slash"
			case 1:
				aggs[i].Artist = "nonode"
			case 2:
				aggs[i].SecondsHeard = -1
			case 3:
				aggs[i].Listens = aggs[i].SecondsHeard + 1
			case 4: // a repeat: valid, but the listener has this artist already
				j := r.IntN(len(aggs))
				aggs[i].Listener, aggs[i].Artist = aggs[j].Listener, aggs[j].Artist
				if i == j {
					continue
				}
			}
		}
		var want string
		for _, workers := range []int{1, 2, 3, 5} {
			st := w.st.Clone()
			before := st.Changes()
			_, err := settle(st, w.node, "2026-01", aggs, settleConfig{workers: workers, batch: 16, minBatches: 1, minAggs: 1 + r.IntN(300)})
			if err == nil {
				if want != "" {
					t.Fatalf("round %d: %d workers settle what 1 refused (%s)", round, workers, want)
				}
				break // every edit happened to be valid
			}
			if st.Changes() != before {
				t.Fatalf("round %d: a refused settlement wrote", round)
			}
			if workers == 1 {
				want = err.Error()
				cases++
				continue
			}
			if err.Error() != want {
				t.Fatalf("round %d: %d workers: %v\n1 worker: %s", round, workers, err, want)
			}
		}
		// The error is the first invalid aggregate's, if there is one.
		for i := range aggs {
			if err := checkAggregate("chaincode.Settle", aggs[i]); err != nil {
				if err.Error() != want {
					t.Fatalf("round %d: %s; the first invalid aggregate (%d) says %v", round, want, i, err)
				}
				break
			}
		}
	}
	if cases < 40 {
		t.Fatalf("only %d refused months", cases)
	}
}

// TestLegacyDigest: a month settled before the digest took its binary
// form ("v2:") records the SHA-256 of text lines; settling it again with the
// same totals still finds them the same, and other totals still conflict.
func TestLegacyDigest(t *testing.T) {
	w := newMonthWorld(t, 3, 300, 60)
	w.pay("2026-01", true)
	aggs := w.listening()
	res := w.settleOnce(aggs)
	if !strings.HasPrefix(res.Digest, "v2:") || res.Digest != settleref.Digest(toRef(aggs)) {
		t.Fatalf("digest %s; reference %s", res.Digest, settleref.Digest(toRef(aggs)))
	}
	// The first form, written out here from its definition.
	sorted := slices.Clone(aggs)
	slices.SortFunc(sorted, func(a, b Aggregate) int {
		return cmp.Or(strings.Compare(a.Listener, b.Listener), strings.Compare(a.Artist, b.Artist))
	})
	h := sha256.New()
	for _, a := range sorted {
		fmt.Fprintf(h, "%s\t%s\t%d\t%d\n", a.Listener, a.Artist, a.Listens, a.SecondsHeard)
	}
	legacy := hex.EncodeToString(h.Sum(nil))
	var pr periodRecord
	b, err := w.st.Get(periodKey(w.node, "2026-01"))
	noErr(t, err)
	noErr(t, json.Unmarshal(b, &pr))
	pr.Settle.Digest = legacy
	b, err = json.Marshal(pr)
	noErr(t, err)
	noErr(t, w.st.Put(periodKey(w.node, "2026-01"), b))

	slices.Reverse(aggs)
	unchanged(t, w.st, func() {
		again, err := c.Settle(w.st, w.node, "2026-01", aggs)
		noErr(t, err)
		if again.Digest != legacy || again.Paid != res.Paid {
			t.Fatalf("settled again: %+v", again)
		}
		aggs[0].Listens, aggs[0].SecondsHeard = 1, 31+aggs[0].SecondsHeard%2
		_, err = c.Settle(w.st, w.node, "2026-01", aggs)
		wantKind(t, err, KindConflict)
	})
}

// settleOnce settles the world's first month with the default settings.
func (w *monthWorld) settleOnce(aggs []Aggregate) SettleResult {
	w.t.Helper()
	res, err := c.Settle(w.st, w.node, "2026-01", aggs)
	noErr(w.t, err)
	return res
}
