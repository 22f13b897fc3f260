package chaincode

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The rules of the split.
const (
	TopArtists       = 9       // a listener's money goes to at most this many artists
	MinListenSeconds = 30      // a listen counts when at least this long (the node counts only those)
	MaxSecondsHeard  = 1 << 40 // bound on one aggregate's seconds (~35,000 years), keeps the arithmetic exact
	SilentMonths     = 3       // held money is refunded after this many settled months without listening
)

// Aggregate is one listener's verified listening to one artist in a month:
// Listens eligible listens (each at least MinListenSeconds long) adding up to
// SecondsHeard seconds. Listener is the listener's id on the settling node;
// Artist is "<node>/<id>" of the artist's home node, which may be any node
// of the federation.
type Aggregate struct {
	Listener     string `json:"listener"`
	Artist       string `json:"artist"`
	Listens      int64  `json:"listens"`
	SecondsHeard int64  `json:"secondsHeard"`
}

// Share is one artist's part of a listener's money.
type Share struct {
	Artist       string `json:"artist"` // "<node>/<id>"
	Rank         int    `json:"rank"`   // 1 = most listened
	Listens      int64  `json:"listens"`
	SecondsHeard int64  `json:"secondsHeard"`
	Amount       Micro  `json:"amount"`
}

// SettleResult is what Settle did for a node and month.
type SettleResult struct {
	Node     string `json:"node"`
	Period   string `json:"period"`
	Digest   string `json:"digest"`   // identifies the listening totals: "v2:" and a SHA-256 (hex) of their canonical form (see doc.go)
	Paid     int    `json:"paid"`     // listeners whose money went to their artists
	Held     int    `json:"held"`     // listeners without listening whose money is (still) held
	Refunded int    `json:"refunded"` // listeners refunded after SilentMonths months without listening

	ToArtists      Micro    `json:"toArtists"`
	ToHeld         Micro    `json:"toHeld"` // moved from the pool into held accounts this month
	RefundedAmount Micro    `json:"refundedAmount"`
	Artists        int      `json:"artists"`           // distinct artists credited
	Ignored        []string `json:"ignored,omitempty"` // listened, but neither paid for the month nor had held money
	FirstTx        uint64   `json:"firstTx,omitempty"`
	LastTx         uint64   `json:"lastTx,omitempty"`
}

// HeldRecord counts a listener's consecutive settled months without
// eligible listening while their money is held.
type HeldRecord struct {
	Listener string `json:"listener"`
	Silent   int    `json:"silent"`          // consecutive settled months without listening
	Since    string `json:"since,omitempty"` // first of those months
}

// Statement is what one node's listeners paid one artist in a month: the
// line a node sends to the artist's home node over the federation.
type Statement struct {
	Node   string `json:"node"`   // the artist's home node
	Artist string `json:"artist"` // the artist's id there
	From   string `json:"from"`   // the node whose listeners paid
	Amount Micro  `json:"amount"`
}

func checkAggregate(op string, a Aggregate) error {
	if err := checkID(op, "listener", a.Listener); err != nil {
		return err
	}
	if _, _, ok := splitArtist(a.Artist); !ok {
		return errorf(op, KindInvalid, "artist "+strconv.Quote(a.Artist)+" is not <node>/<id>")
	}
	what := a.Listener + "×" + a.Artist
	switch {
	case a.Listens < 0 || a.SecondsHeard < 0:
		return errorf(op, KindInvalid, what+": listening cannot be negative")
	case a.SecondsHeard > MaxSecondsHeard:
		return errorf(op, KindOverflow, what+": "+strconv.FormatInt(a.SecondsHeard, 10)+" seconds is more than the bound of "+strconv.FormatInt(MaxSecondsHeard, 10))
	case a.SecondsHeard > 0 && a.Listens == 0:
		return errorf(op, KindInvalid, what+": seconds heard without an eligible listen")
	case a.Listens > a.SecondsHeard/MinListenSeconds:
		return errorf(op, KindInvalid, what+": "+strconv.FormatInt(a.Listens, 10)+" eligible listens need at least "+strconv.Itoa(MinListenSeconds)+" seconds each")
	}
	return nil
}

// TieHash is the last tie-breaker between two artists a listener heard for
// the same seconds with the same number of listens: SHA-256 of the listener
// id, a newline and the artist reference; the lower hash (as bytes) ranks
// first. It is fixed per listener and artist, favours no part of the
// alphabet, orders the same artists differently for different listeners, and
// anybody can recompute it.
func TieHash(listener, artist string) [32]byte {
	return sha256.Sum256([]byte(listener + "\n" + artist))
}

// rankRecs orders a listener's eligible records (seconds > 0) by seconds
// heard, then listens, then TieHash, and returns the first TopArtists. es is
// reordered in place. artists names the records' artist numbers, which are
// in lexical order, so the first sort needs no strings; hashes are computed
// only for runs of equal seconds and listens that reach into the top.
func rankRecs(listener string, es []rec, artists []string) []rec {
	sortRecs(es, byRank)
	for i := 0; i < len(es) && i < TopArtists; {
		j := i + 1
		for j < len(es) && es[j].seconds == es[i].seconds && es[j].listens == es[i].listens {
			j++
		}
		if j-i > 1 {
			breakTies(listener, es[i:j], artists)
		}
		i = j
	}
	return es[:min(len(es), TopArtists)]
}

// breakTies orders a run of equally heard records by TieHash (then artist,
// should two hashes ever be equal).
func breakTies(listener string, run []rec, artists []string) {
	type hashed struct {
		h [32]byte
		r rec
	}
	hs := make([]hashed, len(run))
	buf := make([]byte, 0, 2*128+1)
	for i, r := range run {
		buf = append(append(append(buf[:0], listener...), '\n'), artists[r.artist]...)
		hs[i] = hashed{sha256.Sum256(buf), r}
	}
	slices.SortFunc(hs, func(a, b hashed) int {
		if c := bytes.Compare(a.h[:], b.h[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.r.artist, b.r.artist)
	})
	for i := range hs {
		run[i] = hs[i].r
	}
}

// splitShares divides amount among the ranked top records in proportion to
// their seconds with the largest-remainder (Hamilton) method, into
// out[:len(top)]: everyone gets the floor of their exact quota, then the
// micro-units left over go one each to the largest remainders, ties to the
// better rank. The shares sum to exactly amount. amount ≥ 0; seconds > 0 and
// ≤ MaxSecondsHeard, so the 128-bit products and the sum of seconds never
// overflow.
func splitShares(amount Micro, top []rec, out []Micro) {
	var total uint64
	for _, r := range top {
		total += uint64(r.seconds)
	}
	var rems [TopArtists]uint64
	var order [TopArtists]int
	left := amount
	for i, r := range top {
		hi, lo := bits.Mul64(uint64(amount), uint64(r.seconds))
		q, rem := bits.Div64(hi, lo, total) // q ≤ amount, so hi < total
		out[i], rems[i], order[i] = Micro(q), rem, i
		left -= Micro(q)
	}
	// Largest remainder first; moving only past strictly smaller ones keeps
	// equal remainders in rank order.
	for i := 1; i < len(top); i++ {
		for j := i; j > 0 && rems[order[j]] > rems[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for i := 0; Micro(i) < left; i++ {
		out[order[i]]++
	}
}

// Split is the rule Settle applies to one listener: the listener's eligible
// aggregates (those with seconds heard) are ranked by seconds heard, then
// eligible listens, then TieHash; the first min(9, n) share amount in
// proportion to their seconds by the largest-remainder method, exactly to
// the micro-unit. It returns the shares in rank order (a share can be 0 when
// an artist's seconds are tiny next to the others'), or none when there is
// no eligible listening. Every aggregate must be the listener's, and an
// artist may appear only once.
func Split(listener string, amount Micro, aggs []Aggregate) ([]Share, error) {
	const op = "chaincode.Split"
	if amount < 0 {
		return nil, errorf(op, KindInvalid, "cannot split a negative amount")
	}
	seen := make(map[string]bool, len(aggs))
	var names []string
	for _, a := range aggs {
		if err := checkAggregate(op, a); err != nil {
			return nil, err
		}
		if a.Listener != listener {
			return nil, errorf(op, KindInvalid, "an aggregate of "+a.Listener+" among "+listener+"'s")
		}
		if seen[a.Artist] {
			return nil, errorf(op, KindInvalid, "two aggregates for "+listener+"×"+a.Artist)
		}
		seen[a.Artist] = true
		if a.SecondsHeard > 0 {
			names = append(names, a.Artist)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	var es []rec
	for _, a := range aggs {
		if a.SecondsHeard > 0 {
			i, _ := slices.BinarySearch(names, a.Artist)
			es = append(es, rec{int32(i), a.Listens, a.SecondsHeard})
		}
	}
	top := rankRecs(listener, es, names)
	amounts := make([]Micro, len(top))
	splitShares(amount, top, amounts)
	shares := make([]Share, len(top))
	for i, r := range top {
		shares[i] = Share{Artist: names[r.artist], Rank: i + 1, Listens: r.listens, SecondsHeard: r.seconds, Amount: amounts[i]}
	}
	return shares, nil
}

// settleConfig is how a settlement is cut up. The result does not depend
// on workers; batch decides how the transactions are stored. Tests vary
// both (and compare states settled with one worker and with several byte
// for byte).
type settleConfig struct {
	workers    int // goroutines a settlement may use
	batch      int // transactions per stored batch
	minBatches int // the fewest batches worth a goroutine
	minAggs    int // the fewest aggregates worth a goroutine
}

func defaultSettleConfig() settleConfig {
	return settleConfig{workers: min(runtime.GOMAXPROCS(0), 8), batch: 1024, minBatches: 4, minAggs: 1 << 17}
}

// The transactions a settlement records for a listener.
const (
	txSettle uint8 = iota + 1 // their money to their artists
	txHold                    // this month's $9 into held money
	txRefund                  // all held money back to their balance
)

// planned is one transaction of a settlement, decided in order of listener
// before any money is split, so that it has its number and batch up front.
type planned struct {
	listener string
	group    int32 // the listener's listening in the month
	kind     uint8
	member   bool  // paid for the month: the pool's $9 goes in
	heldBal  Micro // the listener's held money before
	amount   Micro // settle, refund: the money that moves; hold: the held money after
	off      int32 // settle: the shares paid are shares[off:off+n] of the worker that split it
	n        uint8
}

// share is a part of a listener's money, for an artist number of the month.
type share struct {
	artist int32
	amount Micro
}

// Settle pays out node's pool of period, by the 25th, from the month's
// verified listening totals (one Aggregate per listener × artist; the order
// does not matter). Every listener who paid for the month, and every
// listener with held money, is settled in order of listener id, each in one
// transaction:
//   - with eligible listening: their $9 plus any held money is split among
//     their top artists (see Split);
//   - without: the $9 goes to held:<node>/<listener>; at the third
//     consecutive settled month without listening, everything held (this
//     month's $9 included) is refunded to the listener's balance.
//
// Listening of listeners who neither paid for the month nor have held money
// pays nothing and is listed in Ignored. Months are settled in order, once
// each, after OpenMonth. Settle is idempotent: called again with the same
// totals (in any order) it returns the first result and moves nothing;
// with different totals it is a KindConflict error.
//
// The transactions are stored in batches (see doc.go); SettlementOf reads
// one listener's. A large month is split over several goroutines, which
// changes nothing in the result: the work is cut at fixed places, each part
// writes only its own output, and the parts are joined in order.
func (Contract) Settle(st State, node, period string, listening []Aggregate) (SettleResult, error) {
	return settle(st, node, period, listening, defaultSettleConfig())
}

func settle(st State, node, period string, listening []Aggregate, cfg settleConfig) (SettleResult, error) {
	const op = "chaincode.Settle"
	workers, batchSize := max(1, cfg.workers), max(1, cfg.batch)
	if err := firstErr(checkID(op, "node", node), checkPeriod(op, period)); err != nil {
		return SettleResult{}, err
	}
	// The listening is grouped on another goroutine while the state is
	// read. Its errors come first, as if it had run first, and it has always
	// finished when Settle returns (it reads the caller's slice).
	var m *month
	var groupErr error
	var grouping sync.WaitGroup
	if workers > 1 {
		grouping.Go(func() { m, groupErr = groupMonth(op, listening, workers, cfg.minAggs) })
	} else {
		m, groupErr = groupMonth(op, listening, 1, cfg.minAggs)
	}
	defer grouping.Wait()
	fail := func(err error) (SettleResult, error) {
		grouping.Wait()
		if groupErr != nil {
			return SettleResult{}, groupErr
		}
		return SettleResult{}, err
	}

	s := begin(st, op, node)
	pr, err := s.period(period)
	if err != nil {
		return fail(wrap(op, err))
	}
	if pr.Settle != nil {
		if grouping.Wait(); groupErr != nil {
			return SettleResult{}, groupErr
		}
		if !m.sameListening(pr.Settle.Digest) {
			return *pr.Settle, errorf(op, KindConflict, period+" of "+node+" was settled with other listening totals (digest "+pr.Settle.Digest+")")
		}
		return *pr.Settle, nil
	}
	if pr.Open == nil {
		return fail(errorf(op, KindConflict, period+" of "+node+" is not open yet: OpenMonth first"))
	}
	nr, err := s.nodeRecord()
	if err != nil {
		return fail(wrap(op, err))
	}
	if nr.LastSettled != "" && period <= nr.LastSettled {
		return fail(errorf(op, KindConflict, period+" of "+node+" is closed: "+nr.LastSettled+" is settled"))
	}
	if len(nr.Pending) > 0 && nr.Pending[0] < period {
		return fail(errorf(op, KindConflict, "settle "+nr.Pending[0]+" of "+node+" first: months are settled in order"))
	}
	// Who takes part: members of the month and holders of held money.
	members, err := s.members(period)
	if err != nil {
		return fail(wrap(op, err))
	}
	holders, err := s.holders()
	if err != nil {
		return fail(wrap(op, err))
	}
	heldBals, err := s.heldBalances()
	if err != nil {
		return fail(wrap(op, err))
	}
	seq0, err := s.loadSeq()
	if err != nil {
		return fail(wrap(op, err))
	}
	if grouping.Wait(); groupErr != nil {
		return SettleResult{}, groupErr
	}
	digest := make(chan string, 1)
	if workers > 1 {
		go func() { digest <- m.digest() }()
	} else {
		digest <- m.digest()
	}

	// Decide every listener's transaction, in order of listener: members,
	// holders and listeners are each sorted, and are merged.
	res := SettleResult{Node: node, Period: period}
	var plans []planned
	var heldRecs []HeldRecord
	i, j, k, hb := 0, 0, 0, 0
	for i < len(members) || j < len(holders) || k < len(m.listeners) {
		// The next listener: the least of the three lists' next ones (ids
		// are never empty).
		l := ""
		if i < len(members) {
			l = members[i]
		}
		if j < len(holders) && (l == "" || holders[j].Listener < l) {
			l = holders[j].Listener
		}
		if k < len(m.listeners) && (l == "" || m.listeners[k] < l) {
			l = m.listeners[k]
		}
		isMember := i < len(members) && members[i] == l
		if isMember {
			i++
		}
		var h HeldRecord
		hadRecord := j < len(holders) && holders[j].Listener == l
		if hadRecord {
			h = holders[j]
			j++
		}
		group := -1
		if k < len(m.listeners) && m.listeners[k] == l {
			group = k
			k++
		}
		for hb < len(heldBals) && heldBals[hb].listener < l {
			hb++
		}
		var heldBal Micro
		if hb < len(heldBals) && heldBals[hb].listener == l {
			heldBal = heldBals[hb].balance
		}
		heard := group >= 0 && m.heard[group]
		if !isMember && heldBal == 0 {
			if heard {
				res.Ignored = append(res.Ignored, l)
			}
			continue
		}
		if heldBal < 0 {
			return SettleResult{}, errorf(op, KindInternal, HeldAccount(node, l)+" is negative: "+heldBal.String())
		}
		amount := heldBal
		if isMember {
			if amount, err = amount.Add(PoolShare); err != nil {
				return SettleResult{}, wrap(op, err)
			}
		}
		p := planned{listener: l, group: int32(group), member: isMember, heldBal: heldBal, amount: amount}
		h.Listener = l
		if heard {
			p.kind = txSettle
			plans = append(plans, p)
			res.Paid++
			if res.ToArtists, err = res.ToArtists.Add(amount); err != nil {
				return SettleResult{}, wrap(op, err)
			}
			if hadRecord && h.Silent != 0 {
				heldRecs = append(heldRecs, HeldRecord{Listener: l})
			}
			continue
		}
		h.Silent++
		if h.Since == "" {
			h.Since = period
		}
		if h.Silent >= SilentMonths {
			p.kind = txRefund
			plans = append(plans, p)
			res.Refunded++
			if res.RefundedAmount, err = res.RefundedAmount.Add(amount); err != nil {
				return SettleResult{}, wrap(op, err)
			}
			h = HeldRecord{Listener: l}
		} else {
			if isMember {
				p.kind = txHold
				plans = append(plans, p)
				if res.ToHeld, err = res.ToHeld.Add(PoolShare); err != nil {
					return SettleResult{}, wrap(op, err)
				}
			}
			res.Held++
		}
		heldRecs = append(heldRecs, h)
	}

	// Split every listener's money, batch by batch, in parallel: each
	// worker splits a fixed run of batches into its own shares and totals.
	nb := (len(plans) + batchSize - 1) / batchSize
	parts := splitRange(nb, workers, cfg.minBatches)
	type work struct {
		shares []share
		totals []Micro // by artist number
		err    error
	}
	works := make([]work, len(parts))
	planRange := func(p int) (int, int) {
		return parts[p][0] * batchSize, min(parts[p][1]*batchSize, len(plans))
	}
	parallel(len(parts), func(p int) {
		w := &works[p]
		w.totals = make([]Micro, len(m.artists))
		lo, hi := planRange(p)
		w.shares = make([]share, 0, (hi-lo)*TopArtists)
		var es []rec
		var amounts [TopArtists]Micro
		for pi := lo; pi < hi; pi++ {
			pl := &plans[pi]
			if pl.kind != txSettle {
				continue
			}
			es = es[:0]
			for _, r := range m.of(int(pl.group)) {
				if r.seconds > 0 {
					es = append(es, r)
				}
			}
			top := rankRecs(pl.listener, es, m.artists)
			splitShares(pl.amount, top, amounts[:len(top)])
			pl.off = int32(len(w.shares))
			for x, r := range top {
				if amounts[x] == 0 {
					continue
				}
				w.shares = append(w.shares, share{r.artist, amounts[x]})
				var err error
				if w.totals[r.artist], err = w.totals[r.artist].Add(amounts[x]); err != nil {
					w.err = wrap(op, err)
					return
				}
			}
			pl.n = uint8(int32(len(w.shares)) - pl.off)
		}
	})
	totals := works[0].totals
	for p := range works {
		if works[p].err != nil {
			return SettleResult{}, works[p].err
		}
		if p == 0 {
			continue
		}
		for a, t := range works[p].totals {
			if totals[a], err = totals[a].Add(t); err != nil {
				return SettleResult{}, wrap(op, err)
			}
		}
	}
	// The artists paid are the settlement's artist list, which batch lines
	// refer to by place: most paid first (ties in lexical order), so that
	// the artists named most often have the shortest numbers.
	var order []int32
	for a, t := range totals {
		if t > 0 {
			order = append(order, int32(a))
		}
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b)) })
	paid := make([]string, len(order))
	listed := make([]int32, len(m.artists))
	for a := range listed {
		listed[a] = -1
	}
	for i, a := range order {
		listed[a] = int32(i)
		paid[i] = m.artists[a]
	}

	// Encode the batches, in parallel on the same parts.
	values := make([][]byte, nb)
	parallel(len(parts), func(p int) {
		w := &works[p]
		for b := parts[p][0]; b < parts[p][1]; b++ {
			lo, hi := b*batchSize, min((b+1)*batchSize, len(plans))
			v := make([]byte, 0, (hi-lo)*(64+TopArtists*16))
			v = appendBatchHeader(v, node, period, seq0+uint64(lo)+1, seq0+uint64(hi))
			for pi := lo; pi < hi; pi++ {
				pl := &plans[pi]
				switch pl.kind {
				case txSettle:
					v = append(v, "settle "...)
				case txHold:
					v = append(v, "hold "...)
				case txRefund:
					v = append(v, "refund "...)
				}
				v = append(v, pl.listener...)
				if pl.member {
					v = appendLeg(v, refPool, PoolShare)
				}
				if pl.heldBal > 0 && pl.kind != txHold {
					v = appendLeg(v, refHeld, pl.heldBal)
				}
				v = append(v, " |"...)
				switch pl.kind {
				case txSettle:
					for _, sh := range w.shares[pl.off : pl.off+int32(pl.n)] {
						v = appendArtistLeg(v, int(listed[sh.artist]), sh.amount)
					}
				case txHold:
					v = appendLeg(v, refHeld, PoolShare)
				case txRefund:
					v = appendLeg(v, refListener, pl.amount)
				}
				v = append(v, '\n')
			}
			values[b] = v
		}
	})

	// The writes: batches and index, balances, statements, records.
	if len(plans) > 0 {
		refs := make([]batchRef, nb)
		for b := range nb {
			refs[b] = batchRef{first: seq0 + uint64(b*batchSize) + 1, listener: plans[b*batchSize].listener}
			s.o.put(txKey(node, refs[b].first), values[b])
		}
		s.o.put(settleKey(node, period), appendIndex(nil, refs, paid))
		s.first, s.last = seq0+1, seq0+uint64(len(plans))
		s.o.put(keySeq+node, []byte(strconv.FormatUint(s.last, 10)))
	}
	if err := s.creditArtists(period, m.artists, totals, listed); err != nil {
		return SettleResult{}, err
	}
	pool := PoolAccount(node, period)
	if len(members) > 0 {
		debit, err := PoolShare.Mul(int64(len(members)))
		if err != nil {
			return SettleResult{}, wrap(op, err)
		}
		if err := s.debit(pool, debit); err != nil {
			return SettleResult{}, err
		}
	}
	if b, err := s.balance(pool); err != nil || b != 0 {
		return SettleResult{}, firstErr(wrap(op, err), errorf(op, KindInternal, "the pool of "+period+" still holds "+b.String()+" after settlement"))
	}
	for pi := range plans {
		pl := &plans[pi]
		switch {
		case pl.kind == txHold:
			s.setBalance(HeldAccount(node, pl.listener), pl.amount)
		case pl.heldBal > 0:
			s.setBalance(HeldAccount(node, pl.listener), 0)
		}
		if pl.kind == txRefund {
			if err := s.credit(ListenerAccount(node, pl.listener), pl.amount); err != nil {
				return SettleResult{}, err
			}
		}
	}
	for _, h := range heldRecs {
		if err := s.putJSON(heldKey(node, h.Listener), h); err != nil {
			return SettleResult{}, err
		}
	}
	res.Digest = <-digest
	res.Artists = len(paid)
	res.FirstTx, res.LastTx = s.first, s.last
	pr.Settle = &res
	if err := s.putJSON(periodKey(node, period), pr); err != nil {
		return SettleResult{}, err
	}
	nr.LastSettled = period
	if i, ok := slices.BinarySearch(nr.Pending, period); ok {
		nr.Pending = slices.Delete(nr.Pending, i, i+1)
	}
	if err := s.putJSON(keyNode+node, nr); err != nil {
		return SettleResult{}, err
	}
	return res, s.commit(Notice{Op: "settle", Period: period})
}

// members returns the listeners who paid for period, in order. Their
// records are read as the State iterates and not cached: a node may have a
// million, and each is read once. The usual record is recognised without a
// JSON decoder.
func (s *session) members(period string) ([]string, error) {
	mp := memberPrefix(s.node, period)
	var out []string
	err := s.o.scan(mp, prefixEnd(mp), func(k string, v []byte) error {
		l, opened, err := s.parseMember(k, k[len(mp):], v)
		if err != nil {
			return err
		}
		if !opened {
			return errorf(s.op, KindInternal, l+"'s $10 for "+period+" was never split")
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// parseMember reads a member record. The record putJSON writes for a
// listener whose $10 was split is {"listener":"<id>","opened":true,"tx":<n>};
// that form (ids need no escaping) is taken as is, anything else goes
// through encoding/json.
func (s *session) parseMember(key, listener string, v []byte) (string, bool, error) {
	const pre, mid = `{"listener":"`, `","opened":true,"tx":`
	if n := len(pre) + len(listener) + len(mid); len(v) > n+1 && string(v[:len(pre)]) == pre &&
		string(v[len(pre):len(pre)+len(listener)]) == listener && string(v[len(pre)+len(listener):n]) == mid &&
		v[len(v)-1] == '}' && allDigits(v[n:len(v)-1]) {
		return listener, true, nil
	}
	var m memberRecord
	if err := json.Unmarshal(v, &m); err != nil {
		return "", false, &Error{Op: s.op, Kind: KindInternal, Message: "stored record " + key + " is corrupt", Err: err}
	}
	return m.Listener, m.Opened, nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0 && len(b) <= 19
}

// holders returns node's held records, in order of listener.
func (s *session) holders() ([]HeldRecord, error) {
	hp := keyHeld + s.node + "/"
	var out []HeldRecord
	err := s.o.scan(hp, prefixEnd(hp), func(k string, v []byte) error {
		var h HeldRecord
		if err := json.Unmarshal(v, &h); err != nil {
			return &Error{Op: s.op, Kind: KindInternal, Message: "stored record " + k + " is corrupt", Err: err}
		}
		out = append(out, h)
		return nil
	})
	return out, err
}

// Holders returns node's held records, in order of listener: the
// listeners whose months without listening are being counted (Silent) or
// were (a record with Silent 0 stays).
func (Contract) Holders(st State, node string) ([]HeldRecord, error) {
	const op = "chaincode.Holders"
	if err := checkID(op, "node", node); err != nil {
		return nil, err
	}
	out, err := begin(st, op, node).holders()
	return out, wrap(op, err)
}

type heldBalance struct {
	listener string
	balance  Micro
}

// heldBalances returns the balances of node's held accounts, in order of
// listener: one range read instead of a read per listener.
func (s *session) heldBalances() ([]heldBalance, error) {
	prefix := keyBalance + HeldAccount(s.node, "")
	var out []heldBalance
	err := s.o.scan(prefix, prefixEnd(prefix), func(k string, v []byte) error {
		b, err := parseMicro(k, v)
		if err != nil {
			return err
		}
		out = append(out, heldBalance{k[len(prefix):], b})
		return nil
	})
	return out, err
}

// creditArtists adds each artist's total (by artist number) to their
// balance and writes the statements: for each artist node, one record
// stmt/<period>/<artist node>/<paying node> with a line "<artist id>
// <amount>" per artist. listed marks the artists paid (≥ 0). Artists come in
// lexical order of "<node>/<id>", so each node's are together and in order
// of id, the order of their balance keys: for a node with many artists paid
// their balances are read with one range, else one by one.
func (s *session) creditArtists(period string, artists []string, totals []Micro, listed []int32) error {
	for a := 0; a < len(artists); {
		if listed[a] < 0 {
			a++
			continue
		}
		an, _, _ := splitArtist(artists[a])
		var ids []int // this node's artists paid
		for ; a < len(artists); a++ {
			if listed[a] < 0 {
				continue
			}
			n, _, _ := splitArtist(artists[a])
			if n != an {
				break
			}
			ids = append(ids, a)
		}
		old := make([]Micro, len(ids))
		prefix := keyBalance + ArtistAccount(an, "")
		if len(ids) >= 32 {
			x := 0
			err := s.o.scan(prefix, prefixEnd(prefix), func(k string, v []byte) error {
				id := k[len(prefix):]
				for x < len(ids) && artists[ids[x]][len(an)+1:] < id {
					x++
				}
				if x < len(ids) && artists[ids[x]][len(an)+1:] == id {
					b, err := parseMicro(k, v)
					if err != nil {
						return err
					}
					old[x] = b
				}
				return nil
			})
			if err != nil {
				return wrap(s.op, err)
			}
		} else {
			for x, a := range ids {
				b, err := s.balance(KindArtist + ":" + artists[a])
				if err != nil {
					return wrap(s.op, err)
				}
				old[x] = b
			}
		}
		var stmt []byte
		for x, a := range ids {
			account := KindArtist + ":" + artists[a]
			nb, err := old[x].Add(totals[a])
			if err != nil {
				return &Error{Op: s.op, Kind: KindOverflow, Message: "crediting " + account + " with " + totals[a].String() + " would overflow"}
			}
			s.setBalance(account, nb)
			stmt = append(stmt, artists[a][len(an)+1:]...)
			stmt = append(stmt, ' ')
			stmt = strconv.AppendInt(stmt, int64(totals[a]), 10)
			stmt = append(stmt, '\n')
		}
		s.o.put(keyStmt+period+"/"+an+"/"+s.node, stmt)
	}
	return nil
}

// credit adds amount to account's balance.
func (s *session) credit(account string, amount Micro) error {
	b, err := s.balance(account)
	if err != nil {
		return wrap(s.op, err)
	}
	nb, err := b.Add(amount)
	if err != nil {
		return &Error{Op: s.op, Kind: KindOverflow, Message: "crediting " + account + " with " + amount.String() + " would overflow"}
	}
	s.setBalance(account, nb)
	return nil
}

// debit takes amount from account, which must hold it.
func (s *session) debit(account string, amount Micro) error {
	b, err := s.balance(account)
	if err != nil {
		return wrap(s.op, err)
	}
	nb, err := b.Sub(amount)
	if err != nil {
		return &Error{Op: s.op, Kind: KindOverflow, Message: "debiting " + account + " by " + amount.String() + " would overflow"}
	}
	if nb < 0 && AccountKind(account) != KindExternal {
		return errorf(s.op, KindInsufficient, account+" holds "+b.String()+", needs "+amount.String())
	}
	s.setBalance(account, nb)
	return nil
}

// StatementsFor returns what was paid to artists in period, one line per
// artist and paying node, ordered by the artist's node, the artist and the
// paying node: the statements each node sends its federation peers.
func (Contract) StatementsFor(st State, period string) ([]Statement, error) {
	const op = "chaincode.StatementsFor"
	if err := checkPeriod(op, period); err != nil {
		return nil, err
	}
	return statements(op, st, keyStmt+period+"/")
}

// StatementsTo returns the lines of StatementsFor(period) for artists homed
// at node.
func (Contract) StatementsTo(st State, period, node string) ([]Statement, error) {
	const op = "chaincode.StatementsTo"
	if err := firstErr(checkPeriod(op, period), checkID(op, "node", node)); err != nil {
		return nil, err
	}
	return statements(op, st, keyStmt+period+"/"+node+"/")
}

// statements reads the statement records under prefix: one per artist
// node and paying node, with a line "<artist id> <amount>" per artist (an
// older layout kept one key stmt/<period>/<artist node>/<artist>/<paying
// node> per artist, holding the amount; both are read). The lines are
// ordered by artist node, artist and paying node, each compared as a whole.
func statements(op string, st State, prefix string) ([]Statement, error) {
	var out []Statement
	base := len(keyStmt) + len("YYYY-MM/")
	err := st.Range(prefix, prefixEnd(prefix), func(k string, v []byte) error {
		parts := strings.Split(k[base:], "/")
		switch len(parts) {
		case 2:
			ls := &lines{s: string(v)}
			for {
				line, ok := ls.next()
				if !ok {
					break
				}
				id, num, _ := strings.Cut(line, " ")
				m, err := strconv.ParseInt(num, 10, 64)
				if err != nil || !validID(id) {
					return errorf(op, KindInternal, "malformed statement "+k)
				}
				out = append(out, Statement{Node: parts[0], Artist: id, From: parts[1], Amount: Micro(m)})
			}
			if ls.bad {
				return errorf(op, KindInternal, "malformed statement "+k)
			}
		case 3:
			m, err := parseMicro(k, v)
			if err != nil {
				return err
			}
			out = append(out, Statement{Node: parts[0], Artist: parts[1], From: parts[2], Amount: m})
		default:
			return errorf(op, KindInternal, "malformed statement key "+k)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Statement) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Artist, b.Artist), strings.Compare(a.From, b.From))
	})
	return out, wrap(op, err)
}
