// Package settleref is the reference implementation of a month's
// settlement (nineten.dev/chaincode, Contract.Settle): the most obvious
// code for the rules of chaincode/doc.go, written for being checked by eye
// rather than for speed. Tests use it as the oracle and the benchmark
// (bench -only settle) as the baseline.
//
// It shares no code, not even types, with the contract: it imports only the
// standard library, so that the contract's own tests can import it, and a
// mistake in the contract cannot hide in code both use. Listening is
// grouped with maps, artists ranked with sort.Slice on the rules as the
// documentation states them (the tie-break hash compared as hex strings),
// shares computed as exact rationals with math/big, and balances kept as
// big integers (any that ends outside an int64 is an overflow error).
//
// Account names, the money amounts and the transaction shapes are the ones
// doc.go documents; they are spelled out again here on purpose.
package settleref

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// The rules, as doc.go states them.
const (
	PoolShare       = 9_000_000 // a listener's $9 in micro-USD
	TopArtists      = 9         // their money goes to at most 9 artists
	SilentMonths    = 3         // held money is refunded at the 3rd settled month without listening
	MinListen       = 30        // an eligible listen lasts at least 30 seconds
	MaxSecondsHeard = 1 << 40   // the bound on one aggregate's seconds
)

// Aggregate is one listener's listening to one artist in the month. It has
// the fields of chaincode.Aggregate, so one converts to the other.
type Aggregate struct {
	Listener     string
	Artist       string // "<node>/<id>"
	Listens      int64
	SecondsHeard int64
}

// HeldState is a listener's held record: consecutive settled months without
// listening, and the first of them.
type HeldState struct {
	Silent int
	Since  string
}

// Before is the state a settlement starts from.
type Before struct {
	Node, Period string
	Members      []string             // listeners who paid for Period on Node
	Held         map[string]HeldState // held records of Node's listeners, by listener
	Balances     map[string]int64     // every account's balance, by account name
}

// Share is one artist's part of a listener's money.
type Share struct {
	Artist string // "<node>/<id>"
	Amount int64
}

// Leg is one side of a transfer.
type Leg struct {
	Account string
	Amount  int64
}

// Tx is one transaction of the settlement.
type Tx struct {
	Op       string // settle, hold or refund
	Listener string
	Inputs   []Leg
	Outputs  []Leg
}

// Result is what the settlement does.
type Result struct {
	Balances   map[string]int64     // every account's balance afterwards (accounts of Before included)
	Txs        []Tx                 // in order of listener
	Shares     map[string][]Share   // each paid listener's top artists in rank order, zero shares included
	Held       map[string]HeldState // held records afterwards
	Ignored    []string             // listened without having paid or held money
	Statements map[string]int64     // artist → what Node's listeners paid them

	Paid, HeldListeners, Refunded     int
	ToArtists, ToHeld, RefundedAmount int64
	Artists                           int    // artists paid something
	Digest                            string // Digest of the listening
}

// Settle computes the settlement of before.Period on before.Node from the
// month's listening. It returns an error for listening the contract refuses
// (negative or impossible numbers, two aggregates of one listener for one
// artist) and when an amount does not fit in an int64.
func Settle(before Before, listening []Aggregate) (*Result, error) {
	byListener := map[string][]Aggregate{}
	seen := map[string]bool{}
	for _, a := range listening {
		if err := check(a); err != nil {
			return nil, err
		}
		pair := a.Listener + "\n" + a.Artist
		if seen[pair] {
			return nil, fmt.Errorf("two aggregates for %s×%s", a.Listener, a.Artist)
		}
		seen[pair] = true
		byListener[a.Listener] = append(byListener[a.Listener], a)
	}
	member := map[string]bool{}
	everyone := map[string]bool{}
	for _, l := range before.Members {
		member[l] = true
		everyone[l] = true
	}
	for l := range before.Held {
		everyone[l] = true
	}
	for l := range byListener {
		everyone[l] = true
	}
	order := make([]string, 0, len(everyone))
	for l := range everyone {
		order = append(order, l)
	}
	sort.Strings(order)

	bal := map[string]*big.Int{}
	for acc, b := range before.Balances {
		bal[acc] = big.NewInt(b)
	}
	get := func(acc string) *big.Int {
		if bal[acc] == nil {
			bal[acc] = new(big.Int)
		}
		return bal[acc]
	}
	move := func(tx Tx) {
		for _, l := range tx.Inputs {
			get(l.Account).Sub(get(l.Account), big.NewInt(l.Amount))
		}
		for _, l := range tx.Outputs {
			get(l.Account).Add(get(l.Account), big.NewInt(l.Amount))
		}
	}
	held := map[string]HeldState{}
	for l, h := range before.Held {
		held[l] = h
	}
	res := &Result{Shares: map[string][]Share{}, Held: held, Statements: map[string]int64{}, Digest: Digest(listening)}
	stmt := map[string]*big.Int{}
	toArtists, toHeld, refunded := new(big.Int), new(big.Int), new(big.Int)

	pool := "pool:" + before.Node + "/" + before.Period
	for _, l := range order {
		heldAcc := "held:" + before.Node + "/" + l
		heldBal := new(big.Int).Set(get(heldAcc))
		listened := false
		for _, a := range byListener[l] {
			if a.SecondsHeard > 0 {
				listened = true
			}
		}
		if !member[l] && heldBal.Sign() == 0 {
			if listened {
				res.Ignored = append(res.Ignored, l)
			}
			continue
		}
		if heldBal.Sign() < 0 {
			return nil, fmt.Errorf("%s is negative", heldAcc)
		}
		amount := new(big.Int).Set(heldBal)
		var inputs []Leg
		if member[l] {
			amount.Add(amount, big.NewInt(PoolShare))
			inputs = append(inputs, Leg{pool, PoolShare})
		}
		if !amount.IsInt64() {
			return nil, errors.New("a listener's money does not fit in an int64")
		}
		if heldBal.Sign() > 0 {
			inputs = append(inputs, Leg{heldAcc, heldBal.Int64()})
		}
		h, hadRecord := held[l]
		if listened {
			shares := Split(l, amount.Int64(), byListener[l])
			res.Shares[l] = shares
			tx := Tx{Op: "settle", Listener: l, Inputs: inputs}
			for _, s := range shares {
				if s.Amount == 0 {
					continue
				}
				node, id, _ := strings.Cut(s.Artist, "/")
				tx.Outputs = append(tx.Outputs, Leg{"artist:" + node + "/" + id, s.Amount})
				if stmt[s.Artist] == nil {
					stmt[s.Artist] = new(big.Int)
				}
				stmt[s.Artist].Add(stmt[s.Artist], big.NewInt(s.Amount))
			}
			move(tx)
			res.Txs = append(res.Txs, tx)
			res.Paid++
			toArtists.Add(toArtists, amount)
			if hadRecord && h.Silent != 0 {
				held[l] = HeldState{}
			}
			continue
		}
		h.Silent++
		if h.Since == "" {
			h.Since = before.Period
		}
		switch {
		case h.Silent >= SilentMonths:
			tx := Tx{Op: "refund", Listener: l, Inputs: inputs,
				Outputs: []Leg{{"listener:" + before.Node + "/" + l, amount.Int64()}}}
			move(tx)
			res.Txs = append(res.Txs, tx)
			res.Refunded++
			refunded.Add(refunded, amount)
			h = HeldState{}
		case member[l]:
			tx := Tx{Op: "hold", Listener: l, Inputs: []Leg{{pool, PoolShare}}, Outputs: []Leg{{heldAcc, PoolShare}}}
			move(tx)
			res.Txs = append(res.Txs, tx)
			toHeld.Add(toHeld, big.NewInt(PoolShare))
			res.HeldListeners++
		default:
			res.HeldListeners++ // no money this month; the held money waits
		}
		held[l] = h
	}
	if get(pool).Sign() != 0 {
		return nil, fmt.Errorf("the pool holds %s after the settlement", get(pool))
	}

	res.Balances = map[string]int64{}
	for acc, b := range bal {
		if !b.IsInt64() {
			return nil, fmt.Errorf("the balance of %s does not fit in an int64", acc)
		}
		if b.Sign() < 0 && !strings.HasPrefix(acc, "external:") {
			return nil, fmt.Errorf("%s would be negative", acc)
		}
		res.Balances[acc] = b.Int64()
	}
	for a, s := range stmt {
		if !s.IsInt64() {
			return nil, errors.New("a statement does not fit in an int64")
		}
		res.Statements[a] = s.Int64()
	}
	res.Artists = len(stmt)
	for _, t := range []struct {
		from *big.Int
		to   *int64
	}{{toArtists, &res.ToArtists}, {toHeld, &res.ToHeld}, {refunded, &res.RefundedAmount}} {
		if !t.from.IsInt64() {
			return nil, errors.New("a total does not fit in an int64")
		}
		*t.to = t.from.Int64()
	}
	return res, nil
}

// Digest identifies a month's listening as doc.go defines it: "v2:" and
// the hex SHA-256 of "9ten listening v2\n", the number of artists and each
// artist (lexical order) as its length and bytes, the number of listeners
// and, for each listener (lexical order), its length and bytes, the number
// of its aggregates and, for each (in order of artist), the artist's place
// in the artist list, the listens and the seconds; every number an
// unsigned varint (encoding/binary).
func Digest(listening []Aggregate) string {
	artistSet := map[string]bool{}
	byListener := map[string][]Aggregate{}
	for _, a := range listening {
		artistSet[a.Artist] = true
		byListener[a.Listener] = append(byListener[a.Listener], a)
	}
	var artists, listeners []string
	for a := range artistSet {
		artists = append(artists, a)
	}
	for l := range byListener {
		listeners = append(listeners, l)
	}
	sort.Strings(artists)
	sort.Strings(listeners)
	place := map[string]uint64{}
	for i, a := range artists {
		place[a] = uint64(i)
	}
	var b []byte
	b = append(b, "9ten listening v2\n"...)
	b = binary.AppendUvarint(b, uint64(len(artists)))
	for _, a := range artists {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	b = binary.AppendUvarint(b, uint64(len(listeners)))
	for _, l := range listeners {
		aggs := byListener[l]
		sort.Slice(aggs, func(i, j int) bool { return aggs[i].Artist < aggs[j].Artist })
		b = binary.AppendUvarint(b, uint64(len(l)))
		b = append(b, l...)
		b = binary.AppendUvarint(b, uint64(len(aggs)))
		for _, a := range aggs {
			b = binary.AppendUvarint(b, place[a.Artist])
			b = binary.AppendUvarint(b, uint64(a.Listens))
			b = binary.AppendUvarint(b, uint64(a.SecondsHeard))
		}
	}
	sum := sha256.Sum256(b)
	return "v2:" + hex.EncodeToString(sum[:])
}

func check(a Aggregate) error {
	switch {
	case a.Listener == "" || strings.Contains(a.Listener, "/"):
		return fmt.Errorf("listener %q is not an id", a.Listener)
	case strings.Count(a.Artist, "/") != 1 || strings.HasPrefix(a.Artist, "/") || strings.HasSuffix(a.Artist, "/"):
		return fmt.Errorf("artist %q is not <node>/<id>", a.Artist)
	case a.Listens < 0 || a.SecondsHeard < 0 || a.SecondsHeard > MaxSecondsHeard:
		return fmt.Errorf("%s×%s: listening out of bounds", a.Listener, a.Artist)
	case a.SecondsHeard > 0 && a.Listens == 0:
		return fmt.Errorf("%s×%s: seconds without a listen", a.Listener, a.Artist)
	case a.Listens > 0 && new(big.Int).Mul(big.NewInt(a.Listens), big.NewInt(MinListen)).Cmp(big.NewInt(a.SecondsHeard)) > 0:
		return fmt.Errorf("%s×%s: listens shorter than %d seconds", a.Listener, a.Artist, MinListen)
	}
	return nil
}

// Ranked returns the listener's aggregates with seconds heard, best first:
// most seconds, then most listens, then the lower hex SHA-256 of
// "<listener>\n<artist>".
func Ranked(listener string, aggs []Aggregate) []Aggregate {
	var el []Aggregate
	for _, a := range aggs {
		if a.SecondsHeard > 0 {
			el = append(el, a)
		}
	}
	key := func(a Aggregate) string {
		h := sha256.Sum256([]byte(listener + "\n" + a.Artist))
		return hex.EncodeToString(h[:])
	}
	sort.Slice(el, func(i, j int) bool {
		a, b := el[i], el[j]
		if a.SecondsHeard != b.SecondsHeard {
			return a.SecondsHeard > b.SecondsHeard
		}
		if a.Listens != b.Listens {
			return a.Listens > b.Listens
		}
		return key(a) < key(b)
	})
	return el
}

// Split divides amount among the listener's top artists (at most
// TopArtists of Ranked) in proportion to their seconds, by the largest
// remainder: everyone gets the floor of their exact quota, and what is left
// goes one micro-unit each to the largest fractions, ties to the better
// rank. It returns the shares in rank order, zeros included; nil without
// listening.
func Split(listener string, amount int64, aggs []Aggregate) []Share {
	ranked := Ranked(listener, aggs)
	if len(ranked) > TopArtists {
		ranked = ranked[:TopArtists]
	}
	if len(ranked) == 0 {
		return nil
	}
	total := new(big.Int)
	for _, a := range ranked {
		total.Add(total, big.NewInt(a.SecondsHeard))
	}
	type quota struct {
		rank  int
		floor *big.Int
		frac  *big.Rat
	}
	qs := make([]quota, len(ranked))
	handed := new(big.Int)
	for i, a := range ranked {
		q := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(a.SecondsHeard)), total)
		fl := new(big.Int).Quo(q.Num(), q.Denom()) // q ≥ 0: truncation is the floor
		qs[i] = quota{i, fl, new(big.Rat).Sub(q, new(big.Rat).SetInt(fl))}
		handed.Add(handed, fl)
	}
	left := new(big.Int).Sub(big.NewInt(amount), handed).Int64() // fewer than len(ranked)
	byFrac := append([]quota(nil), qs...)
	sort.SliceStable(byFrac, func(i, j int) bool {
		if c := byFrac[i].frac.Cmp(byFrac[j].frac); c != 0 {
			return c > 0
		}
		return byFrac[i].rank < byFrac[j].rank
	})
	extra := make([]int64, len(ranked))
	for i := int64(0); i < left; i++ {
		extra[byFrac[i].rank]++
	}
	out := make([]Share, len(ranked))
	for i, a := range ranked {
		out[i] = Share{a.Artist, qs[i].floor.Int64() + extra[i]}
	}
	return out
}
