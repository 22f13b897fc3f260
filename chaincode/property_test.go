package chaincode

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"nineten.dev/chaincode/settleref"
)

// sim drives the contract through random months on one State: deposits
// (some replayed), subscriptions (some unaffordable), renewals, cancels,
// openings, late subscriptions and settlements with random listening on
// one or two paying nodes. It checks, after every operation, Conservation;
// that refused and repeated operations change nothing; every settlement
// against the reference implementation (settleref), given the state before
// it; and at the end, Audit. shuffle reorders the aggregates given to
// Settle and picks how many goroutines settle; the seed picks the batch
// size, so two runs with one seed must give byte-identical states.
type sim struct {
	t       *testing.T
	seed    uint64
	r, sh   *rand.Rand
	st      *MemState
	cfg     settleConfig
	ext     int
	extUsed []string
	counts  map[string]int
	seen    map[string]uint64 // node → transactions already looked at
	charged map[string]int64  // node → subscriptions charged so far
}

// newTxs returns node's transactions recorded since the last call.
func (s *sim) newTxs(node string) []Tx {
	// Each call ends after a whole settlement, so the next transaction
	// starts a key of its own (a single one or a batch).
	var out []Tx
	s.ok(forEachTx(s.st, txKey(node, s.seen[node]+1), prefixEnd(keyTx+node+"/"), func(tx Tx) error {
		out = append(out, tx)
		s.seen[node] = tx.Seq
		return nil
	}))
	return out
}

func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("seed %d: "+format, append([]any{s.seed}, args...)...)
}

func (s *sim) ok(err error) {
	s.t.Helper()
	if err != nil {
		s.fail("%v", err)
	}
	if err := c.Conservation(s.st); err != nil {
		s.fail("%v", err)
	}
}

// refused checks that err is of kind k and that st is unchanged since before.
func (s *sim) refused(before uint64, err error, k Kind) {
	s.t.Helper()
	if err == nil || KindOf(err) != k {
		s.fail("err = %v; want kind %v", err, k)
	}
	s.same(before)
}

func (s *sim) same(before uint64) {
	s.t.Helper()
	if before != s.st.Changes() {
		s.fail("state changed by an operation that should change nothing")
	}
}

func (s *sim) bal(account string) Micro {
	b, err := c.Balance(s.st, account)
	if err != nil {
		s.fail("%v", err)
	}
	return b
}

func runSim(t *testing.T, seed, shuffle uint64) *sim {
	s := &sim{t: t, seed: seed, r: rand.New(rand.NewPCG(seed, 1)), sh: rand.New(rand.NewPCG(shuffle, 2)), st: NewMemState(),
		cfg:    settleConfig{workers: 1 + int(shuffle%3), batch: []int{1, 2, 3, 1024}[seed%4], minBatches: 1, minAggs: 1},
		counts: map[string]int{}, seen: map[string]uint64{}, charged: map[string]int64{}}
	r := s.r
	nodes := []string{"a.example", "b.example"}[:1+r.IntN(2)]
	listeners := map[string][]string{}
	for _, n := range nodes {
		for i := range 1 + r.IntN(8) {
			listeners[n] = append(listeners[n], fmt.Sprintf("l%d", i))
		}
	}
	nArtists := 1 + r.IntN(30)
	period := "2025-10"
	for month := range 2 + r.IntN(4) {
		for _, node := range nodes {
			s.month(node, period, month, listeners[node], nArtists)
		}
		period, _ = NextPeriod(period)
	}
	if err := c.Audit(s.st); err != nil {
		s.fail("%v", err)
	}
	return s
}

func (s *sim) month(node, period string, month int, listeners []string, nArtists int) {
	r := s.r
	// Deposits, some of them replays of payments already credited.
	for _, l := range listeners {
		if r.IntN(2) == 0 {
			continue
		}
		if len(s.extUsed) > 0 && r.IntN(8) == 0 {
			before := s.st.Changes()
			_, err := c.Deposit(s.st, node, l, s.extUsed[r.IntN(len(s.extUsed))], USD)
			s.refused(before, err, KindConflict)
			s.counts["duplicate deposits"]++
			continue
		}
		amount := []Micro{USD, 5 * USD, 10 * USD, 20 * USD, 30 * USD}[r.IntN(5)] + Micro(r.IntN(3))
		s.ext++
		id := fmt.Sprintf("usdp:0x%x:%d", s.ext, r.IntN(4))
		_, err := c.Deposit(s.st, node, l, id, amount)
		s.ok(err)
		s.extUsed = append(s.extUsed, id)
	}
	// Renewals, then new subscriptions.
	if month > 0 {
		_, err := c.RenewAll(s.st, node, period)
		s.ok(err)
		before := s.st.Changes()
		_, err = c.RenewAll(s.st, node, period)
		s.ok(err)
		s.same(before)
	}
	subscribe := func(l string) {
		sub, found, err := c.SubscriptionOf(s.st, node, l)
		s.ok(err)
		if found && sub.Status != Expired {
			return
		}
		before := s.st.Changes()
		enough := s.bal(ListenerAccount(node, l)) >= Price
		_, err = c.Subscribe(s.st, node, l, period)
		if !enough {
			s.refused(before, err, KindInsufficient)
			s.counts["unaffordable subscriptions"]++
			return
		}
		s.ok(err)
		s.counts["subscriptions"]++
	}
	for _, l := range listeners {
		if r.IntN(4) != 0 {
			subscribe(l)
		}
	}
	if r.IntN(4) == 0 {
		l := listeners[r.IntN(len(listeners))]
		if _, found, _ := c.SubscriptionOf(s.st, node, l); found {
			_, err := c.Cancel(s.st, node, l)
			s.ok(err)
			s.counts["cancels"]++
		}
	}
	// After renewal: active and cancelled subscriptions have paid for this month, grace ones have not.
	members, err := c.Members(s.st, node, period)
	s.ok(err)
	for _, l := range listeners {
		sub, found, err := c.SubscriptionOf(s.st, node, l)
		s.ok(err)
		if !found {
			continue
		}
		paid := slices.Contains(members, l)
		switch {
		case sub.Status == Active && (!paid || sub.Paid != period),
			sub.Status == Cancelled && !paid,
			sub.Status == Grace && (paid || sub.Grace != period || s.bal(ListenerAccount(node, l)) >= Price):
			s.fail("%s/%s in %s: %+v, paid %v", node, l, period, sub, paid)
		}
		s.counts["status "+string(sub.Status)]++
	}
	// The 1st.
	res, err := c.OpenMonth(s.st, node, period)
	s.ok(err)
	before := s.st.Changes()
	again, err := c.OpenMonth(s.st, node, period)
	s.ok(err)
	s.same(before)
	if again != res {
		s.fail("OpenMonth again = %+v; want %+v", again, res)
	}
	// Mid-month subscriptions.
	for _, l := range listeners {
		if r.IntN(6) == 0 {
			if s.bal(ListenerAccount(node, l)) < Price && r.IntN(2) == 0 {
				s.ext++
				_, err := c.Deposit(s.st, node, l, fmt.Sprintf("card:%d", s.ext), Price)
				s.ok(err)
			}
			subscribe(l)
		}
	}
	s.settle(node, period, listeners, nArtists)
}

func (s *sim) settle(node, period string, listeners []string, nArtists int) {
	r := s.r
	var aggs []Aggregate
	who := slices.Clone(listeners)
	who = append(who, "stranger")
	for _, l := range who {
		if r.IntN(4) == 0 {
			continue // no aggregates at all
		}
		aggs = append(aggs, randomListening(r, l, nArtists)...)
	}
	s.sh.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })

	want, err := settleref.Settle(beforeOf(s.t, s.st, node, period), toRef(aggs))
	if err != nil {
		s.fail("reference: %v", err)
	}
	res, err := settle(s.st, node, period, aggs, s.cfg)
	s.ok(err)
	s.counts["listeners paid"] += want.Paid
	s.counts["refunds"] += want.Refunded
	s.counts["months held"] += want.HeldListeners
	txs := s.newTxs(node)
	for _, tx := range txs {
		if tx.Op == "subscribe" || tx.Op == "renew" {
			s.charged[node]++
		}
	}
	if msg := compareSettlement(s.st, node, period, res, want, txs); msg != "" {
		s.fail("%s", msg)
	}
	toArtists := res.ToArtists
	// Statements of this node add up to what went to artists.
	sts, err := c.StatementsFor(s.st, period)
	s.ok(err)
	var stmtSum Micro
	for _, st := range sts {
		if st.From == node {
			stmtSum += st.Amount
		}
	}
	if stmtSum != toArtists {
		s.fail("statements sum to %v; paid %v", stmtSum, toArtists)
	}
	// Idempotent in any order; other totals are refused.
	before := s.st.Changes()
	s.sh.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })
	again, err := settle(s.st, node, period, aggs, s.cfg)
	s.ok(err)
	s.same(before)
	if fmt.Sprint(again) != fmt.Sprint(res) {
		s.fail("Settle again = %+v; want %+v", again, res)
	}
	if len(aggs) > 0 {
		changed := slices.Clone(aggs)
		changed[0].Listens, changed[0].SecondsHeard = 1, 31
		if aggs[0].SecondsHeard == 31 {
			changed[0].SecondsHeard = 32
		}
		_, err := settle(s.st, node, period, changed, s.cfg)
		s.refused(before, err, KindConflict)
	}
	// The operator got exactly $1 per subscription charged so far (all are split by now).
	if s.bal(OperatorAccount(node)) != OperatorShare*Micro(s.charged[node]) {
		s.fail("operator holds %v for %d subscriptions", s.bal(OperatorAccount(node)), s.charged[node])
	}
}

// TestContractProperties runs 2,000 random simulations (in parallel
// chunks), each twice with the aggregates in different orders: both runs
// must end in byte-identical states (balances, records, transactions and
// events).
func TestContractProperties(t *testing.T) {
	var mu sync.Mutex
	total := map[string]int{}
	n := uint64(2000)
	if testing.Short() {
		n = 200
	}
	const chunks = 4
	t.Run("sims", func(t *testing.T) {
		for ch := range uint64(chunks) {
			t.Run(fmt.Sprint(ch), func(t *testing.T) {
				t.Parallel()
				for seed := 1 + ch; seed <= n; seed += chunks {
					a := runSim(t, seed, seed)
					b := runSim(t, seed, seed+1_000_000)
					if !bytes.Equal(a.st.Snapshot(), b.st.Snapshot()) {
						t.Fatalf("seed %d: the same operations with aggregates in another order give another state", seed)
					}
					mu.Lock()
					for k, v := range a.counts {
						total[k] += v
					}
					mu.Unlock()
				}
			})
		}
	})
	keys := make([]string, 0, len(total))
	for k := range total {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%6d %s", total[k], k)
		if total[k] < 10 {
			t.Errorf("only %d %s: the simulation does not exercise it", total[k], k)
		}
	}
	for _, k := range []string{"refunds", "months held", "status grace", "status cancelled", "status expired", "duplicate deposits", "unaffordable subscriptions"} {
		if total[k] == 0 {
			t.Errorf("no %s in the simulation", k)
		}
	}
}
