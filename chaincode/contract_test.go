package chaincode

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

const (
	na = "a.example"
	nb = "b.example"
)

type world struct {
	t   *testing.T
	st  *MemState
	ext int
}

func newWorld(t *testing.T) *world { return &world{t: t, st: NewMemState()} }

func (w *world) deposit(node, listener string, amount Micro) Tx {
	w.t.Helper()
	w.ext++
	tx, err := c.Deposit(w.st, node, listener, fmt.Sprintf("usdp:0x%04x:%d", w.ext, w.ext%3), amount)
	noErr(w.t, err)
	conserved(w.t, w.st)
	return tx
}

func (w *world) subscribe(node, listener, period string) Subscription {
	w.t.Helper()
	sub, err := c.Subscribe(w.st, node, listener, period)
	noErr(w.t, err)
	conserved(w.t, w.st)
	return sub
}

func (w *world) open(node, period string) OpenResult {
	w.t.Helper()
	res, err := c.OpenMonth(w.st, node, period)
	noErr(w.t, err)
	conserved(w.t, w.st)
	return res
}

func (w *world) settle(node, period string, aggs ...Aggregate) SettleResult {
	w.t.Helper()
	res, err := c.Settle(w.st, node, period, aggs)
	noErr(w.t, err)
	conserved(w.t, w.st)
	return res
}

func (w *world) renewAll(node, period string) RenewSummary {
	w.t.Helper()
	res, err := c.RenewAll(w.st, node, period)
	noErr(w.t, err)
	conserved(w.t, w.st)
	return res
}

func (w *world) status(node, listener string) Subscription {
	w.t.Helper()
	sub, ok, err := c.SubscriptionOf(w.st, node, listener)
	noErr(w.t, err)
	if !ok {
		w.t.Fatalf("%s has no subscription", listener)
	}
	return sub
}

func (w *world) audit() {
	w.t.Helper()
	noErr(w.t, c.Audit(w.st))
}

func TestDeposit(t *testing.T) {
	w := newWorld(t)
	first, err := c.Deposit(w.st, na, "ann", "usdp:0xfeed:7", 25*USD)
	noErr(t, err)
	if first.Seq != 1 || first.Op != "deposit" || first.Inputs[0] != (Leg{"external:a.example", 25 * USD}) || first.Outputs[0] != (Leg{"listener:a.example/ann", 25 * USD}) {
		t.Fatalf("deposit tx = %+v", first)
	}
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 25*USD)
	wantBalance(t, w.st, ExternalAccount(na), -25*USD)

	// The same payment again, even claimed for someone else on another node: refused, original returned.
	unchanged(t, w.st, func() {
		for _, try := range []struct {
			node, listener string
			amount         Micro
		}{{na, "ann", 25 * USD}, {nb, "bob", 1}} {
			again, err := c.Deposit(w.st, try.node, try.listener, "usdp:0xfeed:7", try.amount)
			wantKind(t, err, KindConflict)
			if !errors.Is(err, ErrAlreadyCredited) || !errors.Is(err, ErrConflict) {
				t.Fatalf("duplicate deposit error %v is not ErrAlreadyCredited", err)
			}
			if fmt.Sprint(again) != fmt.Sprint(first) {
				t.Fatalf("duplicate deposit returned %+v; want the first %+v", again, first)
			}
		}
	})
	t.Log(func() error { _, err := c.Deposit(w.st, na, "ann", "usdp:0xfeed:7", 25*USD); return err }())

	for _, bad := range []struct {
		node, listener, ext string
		amount              Micro
	}{{na, "ann", "x", 0}, {na, "ann", "y", -5}, {"", "ann", "z", 1}, {na, "a/b", "z", 1}, {na, "ann", "", 1}, {na, "ann", "a b", 1}} {
		unchanged(t, w.st, func() {
			_, err := c.Deposit(w.st, bad.node, bad.listener, bad.ext, bad.amount)
			wantKind(t, err, KindInvalid)
		})
	}
	w.audit()
}

func TestDepositOverflow(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", MaxMicro)
	unchanged(t, w.st, func() {
		_, err := c.Deposit(w.st, na, "ann", "one-more", 1)
		wantKind(t, err, KindOverflow)
		_, err = c.Deposit(w.st, na, "bob", "one-more", 2) // external:a would go below MinInt64
		wantKind(t, err, KindOverflow)
	})
	w.deposit(na, "bob", 1) // external reaches MinInt64 exactly
	wantBalance(t, w.st, ExternalAccount(na), math.MinInt64)
	w.audit()
	// The statement "balances sum to zero" holds with sums beyond int64.
	w.deposit(nb, "cy", MaxMicro)
	w.audit()
}

func TestPayout(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 30*USD)
	tx, err := c.Payout(w.st, na, ListenerAccount(na, "ann"), "bank:a:1", 12*USD)
	noErr(t, err)
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 18*USD)
	wantBalance(t, w.st, ExternalAccount(na), -18*USD)
	unchanged(t, w.st, func() {
		again, err := c.Payout(w.st, na, ListenerAccount(na, "ann"), "bank:a:1", 12*USD)
		if !errors.Is(err, ErrAlreadyCredited) || again.Seq != tx.Seq {
			t.Fatalf("second payout: %v, %+v", err, again)
		}
		_, err = c.Payout(w.st, na, ListenerAccount(na, "ann"), "bank:a:2", 19*USD)
		wantKind(t, err, KindInsufficient)
		_, err = c.Payout(w.st, na, ListenerAccount(nb, "ann"), "bank:a:3", 1)
		wantKind(t, err, KindInvalid)
		_, err = c.Payout(w.st, na, PoolAccount(na, "2025-01"), "bank:a:4", 1)
		wantKind(t, err, KindInvalid)
		// An artist of another node is paid out by the node whose
		// listeners paid them, from what they earned there.
		_, err = c.Payout(w.st, na, ArtistAccount(nb, "7"), "bank:a:5", 1)
		wantKind(t, err, KindInsufficient)
	})
	conserved(t, w.st)
	w.audit()
}

func TestMonth(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 20*USD)
	w.deposit(na, "bob", 10*USD)
	w.deposit(na, "cy", 9*USD)

	unchanged(t, w.st, func() {
		_, err := c.Subscribe(w.st, na, "cy", "2025-03")
		wantKind(t, err, KindInsufficient)
		_, err = c.Subscribe(w.st, na, "cy", "2025-3")
		wantKind(t, err, KindInvalid)
		_, err = c.Settle(w.st, na, "2025-03", nil)
		wantKind(t, err, KindConflict) // not open
	})
	if s := w.subscribe(na, "ann", "2025-03"); s.Status != Active || s.Paid != "2025-03" || s.First != "2025-03" {
		t.Fatalf("subscription %+v", s)
	}
	w.subscribe(na, "bob", "2025-03")
	unchanged(t, w.st, func() {
		_, err := c.Subscribe(w.st, na, "ann", "2025-03")
		wantKind(t, err, KindConflict)
	})
	wantBalance(t, w.st, EscrowAccount(na, "2025-03"), 20*USD)
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 10*USD)

	res := w.open(na, "2025-03")
	if res.Subscribers != 2 || res.ToOperator != 2*USD || res.ToPool != 18*USD {
		t.Fatalf("open = %+v", res)
	}
	wantBalance(t, w.st, OperatorAccount(na), 2*USD)
	wantBalance(t, w.st, PoolAccount(na, "2025-03"), 18*USD)
	wantBalance(t, w.st, EscrowAccount(na, "2025-03"), 0)
	unchanged(t, w.st, func() {
		again, err := c.OpenMonth(w.st, na, "2025-03")
		noErr(t, err)
		if again != res {
			t.Fatalf("second open = %+v; want %+v", again, res)
		}
	})

	// Mid-month: cy tops up and subscribes on the 20th; the month is open, so the split is immediate.
	w.deposit(na, "cy", 1*USD)
	w.subscribe(na, "cy", "2025-03")
	wantBalance(t, w.st, OperatorAccount(na), 3*USD)
	wantBalance(t, w.st, PoolAccount(na, "2025-03"), 27*USD)
	wantBalance(t, w.st, ListenerAccount(na, "cy"), 0)
	if m, err := c.Members(w.st, na, "2025-03"); err != nil || !slices.Equal(m, []string{"ann", "bob", "cy"}) {
		t.Fatalf("members = %v, %v", m, err)
	}

	listening := []Aggregate{
		agg("ann", "a.example/low", 2, 100), agg("ann", "b.example/mid", 4, 200), agg("ann", "a.example/top", 8, 400),
		agg("bob", "a.example/top", 1, 30),
		agg("cy", "b.example/mid", 3, 90), agg("cy", "c.example/far", 3, 90),
		agg("dan", "a.example/top", 50, 9000), // never subscribed: ignored
	}
	set := w.settle(na, "2025-03", listening...)
	if set.Paid != 3 || set.Held != 0 || set.ToArtists != 27*USD || set.Artists != 4 || !slices.Equal(set.Ignored, []string{"dan"}) {
		t.Fatalf("settle = %+v", set)
	}
	// cy: a full tie between b.example/mid and c.example/far: $4.5 each, no leftover.
	wantBalance(t, w.st, ArtistAccount(na, "top"), 5_142_857+9_000_000)
	wantBalance(t, w.st, ArtistAccount(nb, "mid"), 2_571_429+4_500_000)
	wantBalance(t, w.st, ArtistAccount(na, "low"), 1_285_714)
	wantBalance(t, w.st, ArtistAccount("c.example", "far"), 4_500_000)
	wantBalance(t, w.st, PoolAccount(na, "2025-03"), 0)

	st, err := c.StatementsFor(w.st, "2025-03")
	noErr(t, err)
	want := []Statement{
		{"a.example", "low", na, 1_285_714}, {"a.example", "top", na, 14_142_857},
		{"b.example", "mid", na, 7_071_429}, {"c.example", "far", na, 4_500_000},
	}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Fatalf("statements = %v\nwant %v", st, want)
	}
	if to, err := c.StatementsTo(w.st, "2025-03", nb); err != nil || fmt.Sprint(to) != fmt.Sprint(want[2:3]) {
		t.Fatalf("statements to b = %v, %v", to, err)
	}

	// Idempotent, in any order; different totals are refused.
	shuffled := slices.Clone(listening)
	slices.Reverse(shuffled)
	unchanged(t, w.st, func() {
		again, err := c.Settle(w.st, na, "2025-03", shuffled)
		noErr(t, err)
		if fmt.Sprint(again) != fmt.Sprint(set) {
			t.Fatalf("second settle = %+v", again)
		}
		shuffled[0].SecondsHeard++
		_, err = c.Settle(w.st, na, "2025-03", shuffled)
		wantKind(t, err, KindConflict)
		_, err = c.Subscribe(w.st, na, "cy", "2025-03") // closed now
		wantKind(t, err, KindConflict)
		_, err = c.OpenMonth(w.st, na, "2025-02") // before a settled month
		wantKind(t, err, KindConflict)
	})

	// The transaction log: what happened, in order, each balanced.
	var ops []string
	for _, tx := range txs(t, w.st) {
		ops = append(ops, tx.Op)
	}
	if want := []string{"deposit", "deposit", "deposit", "subscribe", "subscribe", "open", "deposit", "subscribe", "settle", "settle", "settle"}; !slices.Equal(ops, want) {
		t.Fatalf("ops = %v; want %v", ops, want)
	}
	var names []string
	for _, e := range w.st.Emitted() {
		names = append(names, e.Name)
	}
	if want := []string{"deposit", "deposit", "deposit", "subscribe", "subscribe", "open", "deposit", "subscribe", "settle"}; !slices.Equal(names, want) {
		t.Fatalf("events = %v; want %v", names, want)
	}
	var n Notice
	noErr(t, json.Unmarshal(w.st.Emitted()[8].Payload, &n))
	if n.FirstTx != 9 || n.LastTx != 11 || n.Period != "2025-03" {
		t.Fatalf("settle notice = %+v", n)
	}
	w.audit()
}

func TestSettleOrder(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 100*USD)
	w.subscribe(na, "ann", "2025-01")
	w.subscribe(na, "ann", "2025-02") // paying ahead
	w.open(na, "2025-01")
	w.open(na, "2025-02")
	unchanged(t, w.st, func() {
		_, err := c.Settle(w.st, na, "2025-02", nil)
		wantKind(t, err, KindConflict) // 2025-01 first
	})
	w.settle(na, "2025-01", agg("ann", "a.example/x", 1, 30))
	w.settle(na, "2025-02", agg("ann", "a.example/x", 1, 30))
	wantBalance(t, w.st, ArtistAccount(na, "x"), 18*USD)
	// Another node settles its own months independently.
	w.deposit(nb, "bo", 10*USD)
	w.subscribe(nb, "bo", "2025-01")
	w.open(nb, "2025-01")
	w.settle(nb, "2025-01", agg("bo", "a.example/x", 1, 30))
	wantBalance(t, w.st, ArtistAccount(na, "x"), 27*USD)
	st, err := c.StatementsFor(w.st, "2025-01")
	noErr(t, err)
	if want := []Statement{{na, "x", na, 9 * USD}, {na, "x", nb, 9 * USD}}; fmt.Sprint(st) != fmt.Sprint(want) {
		t.Fatalf("statements = %v", st)
	}
	w.audit()
}

func TestNoListening(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 60*USD)
	w.deposit(na, "bob", 60*USD)
	months := []string{"2025-10", "2025-11", "2025-12", "2026-01", "2026-02"}
	held := HeldAccount(na, "ann")
	for i, p := range months {
		if i == 0 {
			w.subscribe(na, "ann", p)
			w.subscribe(na, "bob", p)
		} else if s := w.renewAll(na, p); s.Renewed != 2 {
			t.Fatalf("renew %s = %+v", p, s)
		}
		w.open(na, p)
		// bob listens in October and February only; ann never.
		var aggs []Aggregate
		if i == 0 || i == 4 {
			aggs = append(aggs, agg("bob", "b.example/z", 1, 40))
		}
		if i == 3 {
			aggs = append(aggs, agg("bob", "b.example/z", 0, 0)) // an aggregate with nothing eligible is no listening
		}
		res := w.settle(na, p, aggs...)
		switch i {
		case 0: // ann: held 1st month
			wantBalance(t, w.st, held, 9*USD)
			if res.Held != 1 || res.ToHeld != 9*USD || res.Paid != 1 {
				t.Fatalf("%s: %+v", p, res)
			}
		case 1: // held 2nd month; bob's first silent month
			wantBalance(t, w.st, held, 18*USD)
			wantBalance(t, w.st, HeldAccount(na, "bob"), 9*USD)
		case 2: // 3rd consecutive month: everything refunded, this month's $9 included
			wantBalance(t, w.st, held, 0)
			wantBalance(t, w.st, ListenerAccount(na, "ann"), 60*USD-30*USD+27*USD)
			wantBalance(t, w.st, HeldAccount(na, "bob"), 18*USD)
			if res.Refunded != 1 || res.RefundedAmount != 27*USD || res.Held != 1 {
				t.Fatalf("%s: %+v", p, res)
			}
		case 3: // the count starts again for ann; bob's 3rd silent month refunds him
			wantBalance(t, w.st, held, 9*USD)
			wantBalance(t, w.st, HeldAccount(na, "bob"), 0)
			wantBalance(t, w.st, ListenerAccount(na, "bob"), 60*USD-40*USD+27*USD)
		case 4:
			wantBalance(t, w.st, held, 18*USD)
			wantBalance(t, w.st, ArtistAccount(nb, "z"), 18*USD)
		}
	}
	var h HeldRecord
	b, err := w.st.Get(heldKey(na, "ann"))
	noErr(t, err)
	noErr(t, json.Unmarshal(b, &h))
	if h.Silent != 2 || h.Since != "2026-01" {
		t.Fatalf("held record = %+v", h)
	}
	w.audit()
}

func TestHeldRollsOver(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 30*USD)
	w.subscribe(na, "ann", "2025-05")
	w.open(na, "2025-05")
	w.settle(na, "2025-05") // no listening at all: held
	w.renewAll(na, "2025-06")
	w.open(na, "2025-06")
	res := w.settle(na, "2025-06", agg("ann", "a.example/x", 2, 100), agg("ann", "b.example/y", 1, 200))
	// $9 held + $9 of June = $18, split 1:2.
	wantBalance(t, w.st, ArtistAccount(na, "x"), 6*USD)
	wantBalance(t, w.st, ArtistAccount(nb, "y"), 12*USD)
	wantBalance(t, w.st, HeldAccount(na, "ann"), 0)
	if res.ToArtists != 18*USD {
		t.Fatalf("settle = %+v", res)
	}
	last := txs(t, w.st)
	tx := last[len(last)-1]
	if want := []Leg{{PoolAccount(na, "2025-06"), 9 * USD}, {HeldAccount(na, "ann"), 9 * USD}}; !slices.Equal(tx.Inputs, want) {
		t.Fatalf("inputs = %v", tx.Inputs)
	}
	// Next silent month starts counting from one again.
	w.renewAll(na, "2025-07")
	w.open(na, "2025-07")
	w.settle(na, "2025-07")
	w.renewAll(na, "2025-08") // balance is 0 now: grace, not in the pool
	if s := w.status(na, "ann"); s.Status != Grace || s.Grace != "2025-08" {
		t.Fatalf("status = %+v", s)
	}
	w.open(na, "2025-08")
	// Not subscribed, but her held money is hers: her August listening pays it out.
	res = w.settle(na, "2025-08", agg("ann", "a.example/x", 1, 30))
	if res.Paid != 1 || res.ToArtists != 9*USD {
		t.Fatalf("settle = %+v", res)
	}
	wantBalance(t, w.st, ArtistAccount(na, "x"), 15*USD)
	w.audit()
}

func TestHeldWithoutSubscription(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 10*USD)
	w.subscribe(na, "ann", "2025-05")
	_, err := c.Cancel(w.st, na, "ann")
	noErr(t, err)
	w.open(na, "2025-05")
	w.settle(na, "2025-05")
	for _, p := range []string{"2025-06", "2025-07"} {
		w.renewAll(na, p)
		w.open(na, p)
		res := w.settle(na, p, agg("nobody", "a.example/x", 1, 30))
		if p == "2025-06" && (res.Held != 1 || res.ToHeld != 0) {
			t.Fatalf("%s: %+v", p, res)
		}
	}
	if s := w.status(na, "ann"); s.Status != Expired {
		t.Fatalf("status = %+v", s)
	}
	// Three settled months without listening: the $9 comes back.
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 9*USD)
	wantBalance(t, w.st, HeldAccount(na, "ann"), 0)
	w.audit()
}

func TestRenewal(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 25*USD)
	w.deposit(na, "bob", 10*USD)
	w.deposit(na, "cy", 10*USD)
	for _, l := range []string{"ann", "bob", "cy"} {
		w.subscribe(na, l, "2025-01")
	}
	_, err := c.Cancel(w.st, na, "cy")
	noErr(t, err)
	w.open(na, "2025-01")
	// Everyone listens, so nothing is held or refunded in this test.
	listen := []Aggregate{agg("ann", "a.example/y", 1, 30), agg("bob", "a.example/y", 1, 30), agg("cy", "a.example/x", 1, 30)}
	w.settle(na, "2025-01", listen...) // cancelled still counts for the paid month
	wantBalance(t, w.st, ArtistAccount(na, "x"), 9*USD)

	s := w.renewAll(na, "2025-02")
	if s != (RenewSummary{Node: na, Period: "2025-02", Renewed: 1, Grace: 1, Expired: 1}) {
		t.Fatalf("renew = %+v", s)
	}
	unchanged(t, w.st, func() {
		if again := w.renewAll(na, "2025-02"); again.Unchanged != 3 {
			t.Fatalf("renew again = %+v", again)
		}
	})
	if st := w.status(na, "bob"); st.Status != Grace || st.Grace != "2025-02" || st.Paid != "2025-01" {
		t.Fatalf("bob = %+v", st)
	}
	if st := w.status(na, "cy"); st.Status != Expired {
		t.Fatalf("cy = %+v", st)
	}
	wantBalance(t, w.st, ListenerAccount(na, "cy"), 0)
	// bob tops up during grace and is renewed for February.
	w.deposit(na, "bob", 20*USD)
	sub, err := c.Renew(w.st, na, "bob", "2025-02")
	noErr(t, err)
	if sub.Status != Active || sub.Paid != "2025-02" || sub.Grace != "" {
		t.Fatalf("bob = %+v", sub)
	}
	w.open(na, "2025-02")
	w.settle(na, "2025-02", listen...)
	// March: ann has $5 left: grace; April: still $5: expired.
	w.renewAll(na, "2025-03")
	if st := w.status(na, "ann"); st.Status != Grace {
		t.Fatalf("ann = %+v", st)
	}
	if m, _ := c.Members(w.st, na, "2025-03"); slices.Contains(m, "ann") {
		t.Fatal("ann in grace is in the pool")
	}
	w.open(na, "2025-03")
	if res := w.settle(na, "2025-03", listen...); res.Paid != 1 || !slices.Equal(res.Ignored, []string{"ann", "cy"}) {
		t.Fatalf("settle = %+v", res) // ann in grace pays nothing for March
	}
	if s := w.renewAll(na, "2025-04"); s.Expired != 1 || s.Grace != 1 {
		t.Fatalf("renew = %+v", s)
	}
	if st := w.status(na, "ann"); st.Status != Expired || st.Paid != "2025-02" {
		t.Fatalf("ann = %+v", st)
	}
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 5*USD)
	// Expired: Renew does nothing, Subscribe starts again.
	unchanged(t, w.st, func() {
		if s, err := c.Renew(w.st, na, "ann", "2025-05"); err != nil || s.Status != Expired {
			t.Fatalf("renew expired = %+v, %v", s, err)
		}
		_, err := c.Renew(w.st, na, "zed", "2025-05")
		wantKind(t, err, KindNotFound)
		_, err = c.Cancel(w.st, na, "zed")
		wantKind(t, err, KindNotFound)
		_, err = c.Renew(w.st, na, "ann", "2025-03") // settled
		wantKind(t, err, KindConflict)
	})
	w.deposit(na, "ann", 5*USD)
	if s := w.subscribe(na, "ann", "2025-04"); s.Status != Active || s.First != "2025-04" {
		t.Fatalf("resubscribe = %+v", s)
	}
	w.audit()
}

func TestCancel(t *testing.T) {
	w := newWorld(t)
	w.deposit(na, "ann", 30*USD)
	w.subscribe(na, "ann", "2025-01")
	s, err := c.Cancel(w.st, na, "ann")
	noErr(t, err)
	if s.Status != Cancelled {
		t.Fatalf("cancel = %+v", s)
	}
	unchanged(t, w.st, func() {
		if s, err := c.Cancel(w.st, na, "ann"); err != nil || s.Status != Cancelled {
			t.Fatalf("cancel twice = %+v, %v", s, err)
		}
	})
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 20*USD) // no refund
	// Changing her mind within the paid month: un-cancelled, no new charge.
	if s := w.subscribe(na, "ann", "2025-01"); s.Status != Active {
		t.Fatalf("un-cancel = %+v", s)
	}
	wantBalance(t, w.st, ListenerAccount(na, "ann"), 20*USD)
	// Paying ahead for March skips February.
	w.subscribe(na, "ann", "2025-03")
	if s := w.status(na, "ann"); s.Paid != "2025-03" {
		t.Fatalf("pay ahead = %+v", s)
	}
	if s := w.renewAll(na, "2025-02"); s.Unchanged != 1 {
		t.Fatalf("renew = %+v", s)
	}
	// Grace then cancel: expired at once.
	w.deposit(na, "bob", 10*USD)
	w.subscribe(na, "bob", "2025-01")
	w.renewAll(na, "2025-02")
	if s := w.status(na, "bob"); s.Status != Grace {
		t.Fatalf("bob = %+v", s)
	}
	unchanged(t, w.st, func() {
		_, err := c.Subscribe(w.st, na, "bob", "2025-01")
		wantKind(t, err, KindConflict)
	})
	s, err = c.Cancel(w.st, na, "bob")
	noErr(t, err)
	if s.Status != Expired {
		t.Fatalf("cancel in grace = %+v", s)
	}
	w.audit()
}

// fabricState behaves like Fabric: reads see only what was committed
// before the operation started; writes become visible at "block" commit.
type fabricState struct {
	committed *MemState
	pending   map[string][]byte
	order     []string
	events    int
}

func (f *fabricState) Get(k string) ([]byte, error) { return f.committed.Get(k) }
func (f *fabricState) Range(s, e string, fn func(string, []byte) error) error {
	return f.committed.Range(s, e, fn)
}
func (f *fabricState) Put(k string, v []byte) error {
	if _, ok := f.pending[k]; ok {
		return fmt.Errorf("key %s written twice in one transaction", k)
	}
	f.pending[k] = v
	f.order = append(f.order, k)
	return nil
}
func (f *fabricState) Emit(name string, p []byte) error {
	f.events++
	if f.events > 1 {
		return errors.New("Fabric keeps one event per transaction")
	}
	return f.committed.Emit(name, p)
}
func (f *fabricState) block() {
	for _, k := range f.order {
		f.committed.Put(k, f.pending[k])
	}
	f.pending, f.order, f.events = map[string][]byte{}, nil, 0
}

// TestFabricSemantics: the contract never needs to read its own writes and
// emits at most one event per operation, so it gives the same state on a
// Fabric-like store as on MemState.
func TestFabricSemantics(t *testing.T) {
	mem := NewMemState()
	fab := &fabricState{committed: NewMemState(), pending: map[string][]byte{}}
	for _, st := range []State{mem, fab} {
		step := func(err error) {
			t.Helper()
			noErr(t, err)
			if f, ok := st.(*fabricState); ok {
				f.block()
			}
		}
		_, err := c.Deposit(st, na, "ann", "e1", 100*USD)
		step(err)
		_, err = c.Deposit(st, na, "bob", "e2", 15*USD)
		step(err)
		for _, l := range []string{"ann", "bob"} {
			_, err = c.Subscribe(st, na, l, "2025-01")
			step(err)
		}
		_, err = c.OpenMonth(st, na, "2025-01")
		step(err)
		_, err = c.Settle(st, na, "2025-01", []Aggregate{agg("ann", "a.example/x", 1, 30), agg("ann", "a.example/y", 1, 60)})
		step(err)
		for _, p := range []string{"2025-02", "2025-03"} {
			_, err = c.RenewAll(st, na, p)
			step(err)
			_, err = c.OpenMonth(st, na, p)
			step(err)
			_, err = c.Settle(st, na, p, []Aggregate{agg("ann", "a.example/x", 1, 30), agg("bob", "a.example/x", 1, 30)})
			step(err)
		}
	}
	if a, b := mem.Snapshot(), fab.committed.Snapshot(); string(a) != string(b) {
		t.Fatalf("MemState and Fabric-like state differ:\n%s\n---\n%s", a, b)
	}
	noErr(t, c.Audit(fab.committed))
}

// failingState fails its n-th Put.
type failingState struct {
	*MemState
	n int
}

func (f *failingState) Put(k string, v []byte) error {
	f.n--
	if f.n == 0 {
		return errors.New("disk full")
	}
	return f.MemState.Put(k, v)
}

func TestStateErrors(t *testing.T) {
	st := &failingState{MemState: NewMemState(), n: 1}
	_, err := c.Deposit(st, na, "ann", "e1", USD)
	wantKind(t, err, KindInternal)
	if !errors.Is(err, ErrInternal) || err.Error() != "chaincode.Deposit: internal error: the state store failed: disk full" {
		t.Fatalf("err = %q", err)
	}
}

func TestOverlayRange(t *testing.T) {
	st := NewMemState()
	for _, k := range []string{"a/1", "a/3", "a/5", "b/1"} {
		noErr(t, st.Put(k, []byte(k)))
	}
	o := newOverlay(st)
	o.put("a/2", []byte("new"))
	o.put("a/3", []byte("changed"))
	o.put("c/1", []byte("out"))
	var got []string
	noErr(t, o.rangeKeys("a/", prefixEnd("a/"), func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		o.put("a/4", []byte("during")) // writes during a range are allowed and not visited
		return nil
	}))
	if want := []string{"a/1=a/1", "a/2=new", "a/3=changed", "a/5=a/5"}; !slices.Equal(got, want) {
		t.Fatalf("range = %v", got)
	}
	if v, _ := st.Get("a/2"); v != nil {
		t.Fatal("overlay wrote before commit")
	}
	noErr(t, o.commit())
	got = nil
	noErr(t, st.Range("", "", func(k string, v []byte) error { got = append(got, k); return nil }))
	if want := []string{"a/1", "a/2", "a/3", "a/4", "a/5", "b/1", "c/1"}; !slices.Equal(got, want) {
		t.Fatalf("after commit = %v", got)
	}
	got = nil
	noErr(t, st.Range("a/3", "b/1", func(k string, v []byte) error { got = append(got, k); return nil }))
	if want := []string{"a/3", "a/4", "a/5"}; !slices.Equal(got, want) {
		t.Fatalf("[a/3, b/1) = %v", got)
	}
	if err := st.Range("", "", func(string, []byte) error { return errStop }); err != errStop {
		t.Fatalf("range error = %v", err)
	}
	if v, err := st.Get("nope"); v != nil || err != nil {
		t.Fatalf("missing = %v, %v", v, err)
	}
	if st.Len() != 7 || string(st.Clone().Snapshot()) != string(st.Snapshot()) {
		t.Fatal("clone differs")
	}
}

// TestSettleOverflowIsAtomic: when one credit of a settlement would
// overflow, the whole settlement is refused and nothing moves.
func TestSettleOverflowIsAtomic(t *testing.T) {
	w := newWorld(t)
	// An artist already holding nearly the most an int64 can count, balanced by money from outside.
	noErr(t, w.st.Put(keyBalance+ArtistAccount(nb, "rich"), []byte(fmt.Sprint(int64(MaxMicro-5)))))
	noErr(t, w.st.Put(keyBalance+ExternalAccount(nb), []byte(fmt.Sprint(-int64(MaxMicro-5)))))
	conserved(t, w.st)
	w.deposit(na, "ann", 10*USD)
	w.deposit(na, "bob", 10*USD)
	w.subscribe(na, "ann", "2025-01")
	w.subscribe(na, "bob", "2025-01")
	w.open(na, "2025-01")
	unchanged(t, w.st, func() {
		// ann's settlement (first in order) would succeed; bob's overflows.
		_, err := c.Settle(w.st, na, "2025-01", []Aggregate{agg("ann", "a.example/x", 1, 30), agg("bob", "b.example/rich", 1, 30)})
		wantKind(t, err, KindOverflow)
	})
	w.settle(na, "2025-01", agg("ann", "a.example/x", 1, 30), agg("bob", "a.example/x", 1, 30))
}

// TestOneEventPerChange: each operation that changes something emits
// exactly one event; one that changes nothing emits none.
func TestOneEventPerChange(t *testing.T) {
	w := newWorld(t)
	events := func() int { return len(w.st.Emitted()) }
	step := func(want int, f func() error) {
		t.Helper()
		before := events()
		noErr(t, f())
		if got := events() - before; got != want {
			t.Fatalf("%d events; want %d", got, want)
		}
	}
	step(1, func() error { _, err := c.Deposit(w.st, na, "ann", "e", 20*USD); return err })
	step(1, func() error { _, err := c.Subscribe(w.st, na, "ann", "2025-01"); return err })
	step(1, func() error { _, err := c.RenewAll(w.st, na, "2025-02"); return err })
	step(0, func() error { _, err := c.RenewAll(w.st, na, "2025-02"); return err })
	step(0, func() error { _, err := c.Renew(w.st, na, "ann", "2025-02"); return err })
	step(1, func() error { _, err := c.Cancel(w.st, na, "ann"); return err })
	step(0, func() error { _, err := c.Cancel(w.st, na, "ann"); return err })
	step(1, func() error { _, err := c.OpenMonth(w.st, na, "2025-01"); return err })
	step(0, func() error { _, err := c.OpenMonth(w.st, na, "2025-01"); return err })
	step(1, func() error { _, err := c.Settle(w.st, na, "2025-01", nil); return err })
	step(0, func() error { _, err := c.Settle(w.st, na, "2025-01", nil); return err })
	step(1, func() error { _, err := c.OpenMonth(w.st, na, "2025-02"); return err }) // an empty month opens too
	w.audit()
}
