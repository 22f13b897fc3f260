package chaincode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// sim drives the contract through random months on one State: deposits
// (some replayed), subscriptions (some unaffordable), renewals, cancels,
// openings, late subscriptions and settlements with random listening on
// one or two paying nodes. It checks, after every operation, Conservation;
// that refused and repeated operations change nothing; every settlement
// against the oracle and an independent model of the no-listening rule; and
// at the end, Audit. shuffle only reorders the aggregates given to Settle.
type sim struct {
	t       *testing.T
	seed    uint64
	r, sh   *rand.Rand
	st      *MemState
	ext     int
	extUsed []string
	held    map[string]Micro // model: node/listener → held money
	silent  map[string]int   // model: consecutive silent months
	counts  map[string]int
	seen    map[string]uint64 // node → transactions already looked at
	charged map[string]int64  // node → subscriptions charged so far
}

// newTxs returns node's transactions recorded since the last call.
func (s *sim) newTxs(node string) []Tx {
	b, err := s.st.Get(keySeq + node)
	s.ok(err)
	last, _ := strconv.ParseUint(string(b), 10, 64)
	var out []Tx
	for seq := s.seen[node] + 1; seq <= last; seq++ {
		v, err := s.st.Get(txKey(node, seq))
		s.ok(err)
		var tx Tx
		s.ok(json.Unmarshal(v, &tx))
		out = append(out, tx)
	}
	s.seen[node] = last
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
		held: map[string]Micro{}, silent: map[string]int{}, counts: map[string]int{},
		seen: map[string]uint64{}, charged: map[string]int64{}}
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
	members, err = c.Members(s.st, node, period)
	s.ok(err)
	s.settle(node, period, listeners, members, nArtists)
}

func (s *sim) settle(node, period string, listeners, members []string, nArtists int) {
	r := s.r
	var aggs []Aggregate
	byListener := map[string][]Aggregate{}
	who := slices.Clone(listeners)
	who = append(who, "stranger")
	for _, l := range who {
		if r.IntN(4) == 0 {
			continue // no aggregates at all
		}
		la := randomListening(r, l, nArtists)
		byListener[l] = la
		aggs = append(aggs, la...)
	}
	s.sh.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })

	// What the model expects.
	type expect struct {
		op     string
		amount Micro
		shares []refShare
	}
	want := map[string]expect{}
	var ignored []string
	for _, l := range who {
		key := node + "/" + l
		member := slices.Contains(members, l)
		hasListening := len(refRanked(l, byListener[l])) > 0
		if !member && s.held[key] == 0 {
			if hasListening {
				ignored = append(ignored, l)
			}
			continue
		}
		amount := s.held[key]
		if member {
			amount += PoolShare
		}
		switch {
		case hasListening:
			want[l] = expect{op: "settle", amount: amount, shares: splitReference(l, amount, byListener[l])}
			s.held[key], s.silent[key] = 0, 0
			s.counts["listeners paid"]++
		case s.silent[key]+1 >= SilentMonths:
			want[l] = expect{op: "refund", amount: amount}
			s.held[key], s.silent[key] = 0, 0
			s.counts["refunds"]++
		default:
			s.silent[key]++
			if member {
				s.held[key] += PoolShare
				want[l] = expect{op: "hold", amount: PoolShare}
			}
			s.counts["months held"]++
		}
	}

	res, err := c.Settle(s.st, node, period, aggs)
	s.ok(err)
	if !slices.Equal(res.Ignored, ignored) {
		s.fail("ignored = %v; want %v", res.Ignored, ignored)
	}
	got := map[string]Tx{}
	var toArtists Micro
	for _, tx := range s.newTxs(node) {
		if tx.Op == "subscribe" || tx.Op == "renew" {
			s.charged[node]++
		}
		if res.FirstTx > 0 && tx.Seq >= res.FirstTx && tx.Seq <= res.LastTx {
			if _, dup := got[tx.Listener]; dup || tx.Period != period {
				s.fail("transaction %+v", tx)
			}
			got[tx.Listener] = tx
		}
	}
	if len(got) != len(want) {
		s.fail("%d settlement transactions; want %d", len(got), len(want))
	}
	for l, e := range want {
		tx := got[l]
		var in Micro
		for _, leg := range tx.Inputs {
			in += leg.Amount
		}
		if tx.Op != e.op || in != e.amount {
			s.fail("%s: %s of %v; want %s of %v", l, tx.Op, in, e.op, e.amount)
		}
		switch e.op {
		case "settle":
			var wantLegs []Leg
			for _, sh := range e.shares {
				if sh.Amount > 0 {
					an, aid, _ := splitArtist(sh.Artist)
					wantLegs = append(wantLegs, Leg{ArtistAccount(an, aid), sh.Amount})
				}
			}
			if !slices.Equal(tx.Outputs, wantLegs) {
				s.fail("%s: paid %v; oracle %v", l, tx.Outputs, wantLegs)
			}
			toArtists += e.amount
		case "refund":
			if !slices.Equal(tx.Outputs, []Leg{{ListenerAccount(node, l), e.amount}}) {
				s.fail("%s: refund %v", l, tx.Outputs)
			}
		}
	}
	for _, l := range who {
		if got := s.bal(HeldAccount(node, l)); got != s.held[node+"/"+l] {
			s.fail("held of %s = %v; model %v", l, got, s.held[node+"/"+l])
		}
	}
	if res.ToArtists != toArtists || s.bal(PoolAccount(node, period)) != 0 {
		s.fail("settle = %+v", res)
	}
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
	again, err := c.Settle(s.st, node, period, aggs)
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
		_, err := c.Settle(s.st, node, period, changed)
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
