package chaincode

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
	"slices"
	"strconv"
	"strings"
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
	Digest   string `json:"digest"`   // SHA-256 (hex) of the listening totals, in canonical order
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

type entry struct {
	artist           string
	listens, seconds int64
}

// rank orders a listener's eligible entries (seconds > 0) by seconds
// heard, then listens, then TieHash, and returns the first TopArtists.
// entries is reordered in place.
func rank(listener string, entries []entry) []entry {
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(b.seconds, a.seconds); c != 0 {
			return c
		}
		if c := cmp.Compare(b.listens, a.listens); c != 0 {
			return c
		}
		return strings.Compare(a.artist, b.artist)
	})
	// Break ties with the hash, only in runs that reach into the top.
	for i := 0; i < len(entries) && i < TopArtists; {
		j := i + 1
		for j < len(entries) && entries[j].seconds == entries[i].seconds && entries[j].listens == entries[i].listens {
			j++
		}
		if j-i > 1 {
			run := entries[i:j]
			hashes := make(map[string][32]byte, len(run))
			for _, e := range run {
				hashes[e.artist] = TieHash(listener, e.artist)
			}
			slices.SortFunc(run, func(a, b entry) int {
				ha, hb := hashes[a.artist], hashes[b.artist]
				if c := bytes.Compare(ha[:], hb[:]); c != 0 {
					return c
				}
				return strings.Compare(a.artist, b.artist)
			})
		}
		i = j
	}
	return entries[:min(len(entries), TopArtists)]
}

// splitRanked divides amount among the ranked entries in proportion to
// their seconds with the largest-remainder (Hamilton) method: everyone gets
// the floor of their exact quota, then the micro-units left over go one
// each to the largest remainders, ties to the better rank. The shares sum to
// exactly amount. amount ≥ 0; seconds > 0 and ≤ MaxSecondsHeard, so the
// 128-bit products and the sum of seconds never overflow.
func splitRanked(amount Micro, top []entry) []Share {
	var total uint64
	for _, e := range top {
		total += uint64(e.seconds)
	}
	shares := make([]Share, len(top))
	rems := make([]uint64, len(top))
	left := amount
	for i, e := range top {
		hi, lo := bits.Mul64(uint64(amount), uint64(e.seconds))
		q, r := bits.Div64(hi, lo, total) // q ≤ amount, so hi < total
		shares[i] = Share{Artist: e.artist, Rank: i + 1, Listens: e.listens, SecondsHeard: e.seconds, Amount: Micro(q)}
		rems[i] = r
		left -= Micro(q)
	}
	order := make([]int, len(top))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	for i := 0; Micro(i) < left; i++ {
		shares[order[i]].Amount++
	}
	return shares
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
	var entries []entry
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
			entries = append(entries, entry{a.Artist, a.Listens, a.SecondsHeard})
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return splitRanked(amount, rank(listener, entries)), nil
}

// groupListening validates the month's aggregates and groups them by
// listener, both in lexical order, with the SHA-256 digest of that canonical
// form. It is a counting sort: one pass to number the listeners, one to
// place each aggregate in its listener's part of a single slice.
func groupListening(op string, aggs []Aggregate) (listeners []string, groups map[string][]Aggregate, digest string, err error) {
	group := make(map[string]int32)
	var counts []int
	of := make([]int32, len(aggs))
	for i, a := range aggs {
		if err := checkAggregate(op, a); err != nil {
			return nil, nil, "", err
		}
		g, ok := group[a.Listener]
		if !ok {
			g = int32(len(listeners))
			group[a.Listener] = g
			listeners = append(listeners, a.Listener)
			counts = append(counts, 0)
		}
		counts[g]++
		of[i] = g
	}
	slices.Sort(listeners)
	start := make([]int, len(counts))
	next := 0
	for _, l := range listeners {
		g := group[l]
		start[g] = next
		next += counts[g]
	}
	flat := make([]Aggregate, len(aggs))
	fill := slices.Clone(start)
	for i, a := range aggs {
		flat[fill[of[i]]] = a
		fill[of[i]]++
	}
	groups = make(map[string][]Aggregate, len(listeners))
	h := sha256.New()
	var line []byte
	for _, l := range listeners {
		g := group[l]
		part := flat[start[g] : start[g]+counts[g] : start[g]+counts[g]]
		slices.SortFunc(part, func(a, b Aggregate) int { return strings.Compare(a.Artist, b.Artist) })
		groups[l] = part
		for i, a := range part {
			if i > 0 && part[i-1].Artist == a.Artist {
				return nil, nil, "", errorf(op, KindInvalid, "two aggregates for "+l+"×"+a.Artist)
			}
			line = append(line[:0], a.Listener...)
			line = append(line, '\t')
			line = append(line, a.Artist...)
			line = append(line, '\t')
			line = strconv.AppendInt(line, a.Listens, 10)
			line = append(line, '\t')
			line = strconv.AppendInt(line, a.SecondsHeard, 10)
			line = append(line, '\n')
			h.Write(line)
		}
	}
	return listeners, groups, hex.EncodeToString(h.Sum(nil)), nil
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
func (Contract) Settle(st State, node, period string, listening []Aggregate) (SettleResult, error) {
	const op = "chaincode.Settle"
	if err := firstErr(checkID(op, "node", node), checkPeriod(op, period)); err != nil {
		return SettleResult{}, err
	}
	listeners, groups, digest, err := groupListening(op, listening)
	if err != nil {
		return SettleResult{}, err
	}
	s := begin(st, op, node)
	pr, err := s.period(period)
	if err != nil {
		return SettleResult{}, wrap(op, err)
	}
	if pr.Settle != nil {
		if pr.Settle.Digest != digest {
			return *pr.Settle, errorf(op, KindConflict, period+" of "+node+" was settled with other listening totals (digest "+pr.Settle.Digest+")")
		}
		return *pr.Settle, nil
	}
	if pr.Open == nil {
		return SettleResult{}, errorf(op, KindConflict, period+" of "+node+" is not open yet: OpenMonth first")
	}
	nr, err := s.nodeRecord()
	if err != nil {
		return SettleResult{}, wrap(op, err)
	}
	if nr.LastSettled != "" && period <= nr.LastSettled {
		return SettleResult{}, errorf(op, KindConflict, period+" of "+node+" is closed: "+nr.LastSettled+" is settled")
	}
	if len(nr.Pending) > 0 && nr.Pending[0] < period {
		return SettleResult{}, errorf(op, KindConflict, "settle "+nr.Pending[0]+" of "+node+" first: months are settled in order")
	}

	// Who takes part: members of the month and holders of held money.
	var members []string
	mp := memberPrefix(node, period)
	err = s.o.rangeKeys(mp, prefixEnd(mp), func(k string, _ []byte) error {
		var m memberRecord
		if _, err := s.getJSON(k, &m); err != nil {
			return err
		}
		if !m.Opened {
			return errorf(op, KindInternal, m.Listener+"'s $10 for "+period+" was never split")
		}
		members = append(members, m.Listener)
		return nil
	})
	if err != nil {
		return SettleResult{}, wrap(op, err)
	}
	held := map[string]HeldRecord{}
	var holders []string
	hp := keyHeld + node + "/"
	err = s.o.rangeKeys(hp, prefixEnd(hp), func(k string, _ []byte) error {
		var h HeldRecord
		if _, err := s.getJSON(k, &h); err != nil {
			return err
		}
		held[h.Listener] = h
		holders = append(holders, h.Listener)
		return nil
	})
	if err != nil {
		return SettleResult{}, wrap(op, err)
	}

	res := SettleResult{Node: node, Period: period, Digest: digest}
	pool := PoolAccount(node, period)
	toArtist := map[string]Micro{}
	var artists []string
	isMember := map[string]bool{}
	for _, m := range members {
		isMember[m] = true
	}
	everyone := mergeSorted(mergeSorted(members, holders), listeners)
	for _, l := range everyone {
		heldAcc := HeldAccount(node, l)
		heldBal, err := s.balance(heldAcc)
		if err != nil {
			return SettleResult{}, wrap(op, err)
		}
		var entries []entry
		for _, a := range groups[l] {
			if a.SecondsHeard > 0 {
				entries = append(entries, entry{a.Artist, a.Listens, a.SecondsHeard})
			}
		}
		if !isMember[l] && heldBal == 0 {
			if len(entries) > 0 {
				res.Ignored = append(res.Ignored, l)
			}
			continue
		}
		var inputs []Leg
		amount := heldBal
		if isMember[l] {
			inputs = append(inputs, Leg{pool, PoolShare})
			if amount, err = amount.Add(PoolShare); err != nil {
				return SettleResult{}, wrap(op, err)
			}
		}
		if heldBal > 0 {
			inputs = append(inputs, Leg{heldAcc, heldBal})
		}
		h, hadRecord := held[l]
		h.Listener = l
		if len(entries) > 0 {
			tx := Tx{Op: "settle", Period: period, Listener: l, Inputs: inputs}
			for _, sh := range splitRanked(amount, rank(l, entries)) {
				if sh.Amount == 0 {
					continue
				}
				an, aid, _ := splitArtist(sh.Artist)
				tx.Outputs = append(tx.Outputs, Leg{ArtistAccount(an, aid), sh.Amount})
				prev, ok := toArtist[sh.Artist]
				if !ok {
					artists = append(artists, sh.Artist)
				}
				if toArtist[sh.Artist], err = prev.Add(sh.Amount); err != nil {
					return SettleResult{}, wrap(op, err)
				}
			}
			if err := s.record(&tx); err != nil {
				return SettleResult{}, err
			}
			res.Paid++
			if res.ToArtists, err = res.ToArtists.Add(amount); err != nil {
				return SettleResult{}, wrap(op, err)
			}
			if hadRecord && h.Silent != 0 {
				if err := s.putJSON(heldKey(node, l), HeldRecord{Listener: l}); err != nil {
					return SettleResult{}, err
				}
			}
			continue
		}
		h.Silent++
		if h.Since == "" {
			h.Since = period
		}
		if h.Silent >= SilentMonths {
			tx := Tx{Op: "refund", Period: period, Listener: l, Inputs: inputs,
				Outputs: []Leg{{ListenerAccount(node, l), amount}}}
			if err := s.record(&tx); err != nil {
				return SettleResult{}, err
			}
			res.Refunded++
			if res.RefundedAmount, err = res.RefundedAmount.Add(amount); err != nil {
				return SettleResult{}, wrap(op, err)
			}
			h = HeldRecord{Listener: l}
		} else {
			if isMember[l] {
				tx := Tx{Op: "hold", Period: period, Listener: l,
					Inputs: []Leg{{pool, PoolShare}}, Outputs: []Leg{{heldAcc, PoolShare}}}
				if err := s.record(&tx); err != nil {
					return SettleResult{}, err
				}
				if res.ToHeld, err = res.ToHeld.Add(PoolShare); err != nil {
					return SettleResult{}, wrap(op, err)
				}
			}
			res.Held++
		}
		if err := s.putJSON(heldKey(node, l), h); err != nil {
			return SettleResult{}, err
		}
	}
	if b, err := s.balance(pool); err != nil || b != 0 {
		return SettleResult{}, firstErr(wrap(op, err), errorf(op, KindInternal, "the pool of "+period+" still holds "+b.String()+" after settlement"))
	}
	slices.Sort(artists)
	for _, a := range artists {
		an, aid, _ := splitArtist(a)
		s.o.put(keyStmt+period+"/"+an+"/"+aid+"/"+node, []byte(strconv.FormatInt(int64(toArtist[a]), 10)))
	}
	res.Artists = len(artists)
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

// mergeSorted returns the sorted union of two sorted lists.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
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

func statements(op string, st State, prefix string) ([]Statement, error) {
	var out []Statement
	base := len(keyStmt) + len("YYYY-MM/")
	err := st.Range(prefix, prefixEnd(prefix), func(k string, v []byte) error {
		parts := strings.Split(k[base:], "/")
		if len(parts) != 3 {
			return errorf(op, KindInternal, "malformed statement key "+k)
		}
		m, err := parseMicro(k, v)
		if err != nil {
			return err
		}
		out = append(out, Statement{Node: parts[0], Artist: parts[1], From: parts[2], Amount: m})
		return nil
	})
	return out, wrap(op, err)
}
