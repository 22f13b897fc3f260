package chaincode

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"nineten.dev/chaincode/settleref"
)

// refShare is a share as the tests compare them: artist and amount.
type refShare struct {
	Artist string
	Amount Micro
}

// toRef converts aggregates for the reference implementation.
func toRef(aggs []Aggregate) []settleref.Aggregate {
	out := make([]settleref.Aggregate, len(aggs))
	for i, a := range aggs {
		out[i] = settleref.Aggregate(a)
	}
	return out
}

// splitReference is the oracle: settleref.Split, exact rationals straight
// from the definition.
func splitReference(listener string, amount Micro, aggs []Aggregate) []refShare {
	var out []refShare
	for _, s := range settleref.Split(listener, int64(amount), toRef(aggs)) {
		out = append(out, refShare{s.Artist, Micro(s.Amount)})
	}
	return out
}

// refRanked is the oracle's ranking of the listener's eligible aggregates.
func refRanked(listener string, aggs []Aggregate) []settleref.Aggregate {
	return settleref.Ranked(listener, toRef(aggs))
}

func shareAmounts(sh []Share) []refShare {
	var out []refShare
	for _, s := range sh {
		out = append(out, refShare{s.Artist, s.Amount})
	}
	return out
}

func agg(listener, artist string, listens, seconds int64) Aggregate {
	return Aggregate{Listener: listener, Artist: artist, Listens: listens, SecondsHeard: seconds}
}

func wantSplit(t *testing.T, listener string, amount Micro, aggs []Aggregate, want []refShare) {
	t.Helper()
	got, err := Split(listener, amount, aggs)
	noErr(t, err)
	if fmt.Sprint(shareAmounts(got)) != fmt.Sprint(want) {
		t.Fatalf("Split = %v\nwant    %v", shareAmounts(got), want)
	}
	if ref := splitReference(listener, amount, aggs); fmt.Sprint(ref) != fmt.Sprint(want) {
		t.Fatalf("splitReference = %v\nwant           %v", ref, want)
	}
}

func hashOrder(listener string, artists ...string) []string {
	out := slices.Clone(artists)
	slices.SortFunc(out, func(a, b string) int {
		ha, hb := sha256.Sum256([]byte(listener+"\n"+a)), sha256.Sum256([]byte(listener+"\n"+b))
		return slices.Compare(ha[:], hb[:])
	})
	return out
}

func TestSplitKnownAnswers(t *testing.T) {
	t.Run("one artist takes all", func(t *testing.T) {
		wantSplit(t, "ann", PoolShare, []Aggregate{agg("ann", "a/x", 1, 30)}, []refShare{{"a/x", 9_000_000}})
	})
	t.Run("three artists, one leftover micro-dollar", func(t *testing.T) {
		// 9,000,000 × {400,200,100}/700 = 5,142,857.14 / 2,571,428.57 / 1,285,714.29:
		// floors sum to 8,999,999; the leftover goes to the largest fraction (.57).
		wantSplit(t, "ann", PoolShare, []Aggregate{
			agg("ann", "a/low", 2, 100), agg("ann", "b/mid", 4, 200), agg("ann", "a/top", 8, 400),
		}, []refShare{{"a/top", 5_142_857}, {"b/mid", 2_571_429}, {"a/low", 1_285_714}})
	})
	t.Run("exactly nine", func(t *testing.T) {
		var aggs []Aggregate
		var want []refShare
		for k := int64(9); k >= 1; k-- {
			aggs = append(aggs, agg("bo", fmt.Sprintf("n%d/a%d", k%3, k), k, 60*k))
			want = append(want, refShare{fmt.Sprintf("n%d/a%d", k%3, k), Micro(200_000 * k)}) // 9,000,000 × k/45
		}
		slices.Reverse(aggs) // input order does not matter
		wantSplit(t, "bo", PoolShare, aggs, want)
	})
	t.Run("more than nine: the tenth and later get nothing", func(t *testing.T) {
		var aggs []Aggregate
		var want []refShare
		for k := int64(12); k >= 1; k-- {
			aggs = append(aggs, agg("cy", fmt.Sprintf("n/a%02d", k), 1, 30*k))
			if k >= 4 { // 12..4: seconds 30×(4+…+12) = 30×72
				want = append(want, refShare{fmt.Sprintf("n/a%02d", k), Micro(125_000 * k)}) // 9,000,000 × k/72
			}
		}
		wantSplit(t, "cy", PoolShare, aggs, want)
	})
	t.Run("equal seconds: more listens first", func(t *testing.T) {
		// Ten artists, equal seconds; listens decide who is out.
		var aggs []Aggregate
		for k := int64(1); k <= 10; k++ {
			aggs = append(aggs, agg("di", fmt.Sprintf("n/a%02d", k), k, 600))
		}
		got, err := Split("di", PoolShare, aggs)
		noErr(t, err)
		for i, s := range got {
			if want := fmt.Sprintf("n/a%02d", 10-i); s.Artist != want || s.Amount != 1_000_000 {
				t.Fatalf("rank %d: %s %v; want %s $1", i+1, s.Artist, s.Amount, want)
			}
		}
	})
	t.Run("full tie: SHA-256 decides order, exclusion and leftovers", func(t *testing.T) {
		var aggs []Aggregate
		var artists []string
		for k := 1; k <= 10; k++ {
			a := fmt.Sprintf("n%d/artist-%d", k%2, k)
			artists = append(artists, a)
			aggs = append(aggs, agg("eve", a, 3, 300))
		}
		order := hashOrder("eve", artists...)
		var want []refShare
		for _, a := range order[:9] { // the highest hash is left out
			want = append(want, refShare{a, 1_000_000})
		}
		wantSplit(t, "eve", PoolShare, aggs, want)

		// Seven tied: 9,000,000/7 = 1,285,714 r 2: the first two by hash get one more.
		aggs, artists = aggs[:7], artists[:7]
		order = hashOrder("eve", artists...)
		want = nil
		for i, a := range order {
			want = append(want, refShare{a, 1_285_714 + Micro(min(1, max(0, 2-i)))})
		}
		wantSplit(t, "eve", PoolShare, aggs, want)
		// The hash depends on the listener: another listener may order them differently.
		if slices.Equal(hashOrder("eve", artists...), hashOrder("fay", artists...)) {
			t.Log("same order for two listeners (possible, unlikely)")
		}
	})
	t.Run("zero-second aggregates are not listening", func(t *testing.T) {
		got, err := Split("gus", PoolShare, []Aggregate{agg("gus", "n/a", 0, 0), agg("gus", "n/b", 0, 0)})
		noErr(t, err)
		if got != nil {
			t.Fatalf("Split without listening = %v", got)
		}
		wantSplit(t, "gus", PoolShare, []Aggregate{agg("gus", "n/a", 0, 0), agg("gus", "n/b", 1, 31)}, []refShare{{"n/b", PoolShare}})
	})
	t.Run("tiny next to huge: a zero share", func(t *testing.T) {
		wantSplit(t, "hal", 10, []Aggregate{agg("hal", "n/big", 1000, MaxSecondsHeard), agg("hal", "n/small", 1, 30)},
			[]refShare{{"n/big", 10}, {"n/small", 0}})
	})
	t.Run("largest amounts and seconds stay exact", func(t *testing.T) {
		aggs := []Aggregate{agg("ivy", "n/a", 1, MaxSecondsHeard), agg("ivy", "n/b", 1, MaxSecondsHeard-1), agg("ivy", "n/c", 1, 31)}
		got, err := Split("ivy", MaxMicro, aggs)
		noErr(t, err)
		if fmt.Sprint(shareAmounts(got)) != fmt.Sprint(splitReference("ivy", MaxMicro, aggs)) {
			t.Fatalf("Split = %v; reference %v", shareAmounts(got), splitReference("ivy", MaxMicro, aggs))
		}
	})
}

func TestSplitRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		aggs []Aggregate
		kind Kind
	}{
		"negative seconds":        {[]Aggregate{agg("l", "n/a", 0, -1)}, KindInvalid},
		"negative listens":        {[]Aggregate{agg("l", "n/a", -1, 30)}, KindInvalid},
		"seconds without listen":  {[]Aggregate{agg("l", "n/a", 0, 100)}, KindInvalid},
		"listens under 30 s":      {[]Aggregate{agg("l", "n/a", 4, 119)}, KindInvalid},
		"listens without time":    {[]Aggregate{agg("l", "n/a", 1, 0)}, KindInvalid},
		"too many seconds":        {[]Aggregate{agg("l", "n/a", 1, MaxSecondsHeard+1)}, KindOverflow},
		"huge listens":            {[]Aggregate{agg("l", "n/a", 1<<62, MaxSecondsHeard)}, KindInvalid},
		"artist without node":     {[]Aggregate{agg("l", "a", 1, 30)}, KindInvalid},
		"artist with two slashes": {[]Aggregate{agg("l", "n/a/b", 1, 30)}, KindInvalid},
		"other listener":          {[]Aggregate{agg("m", "n/a", 1, 30)}, KindInvalid},
		"duplicate artist":        {[]Aggregate{agg("l", "n/a", 1, 30), agg("l", "n/a", 2, 60)}, KindInvalid},
		"bad listener id":         {[]Aggregate{agg("l/x", "n/a", 1, 30)}, KindInvalid},
	} {
		_, err := Split("l", PoolShare, tc.aggs)
		if err == nil || KindOf(err) != tc.kind {
			t.Errorf("%s: err = %v; want kind %v", name, err, tc.kind)
		}
	}
	_, err := Split("l", -1, nil)
	wantKind(t, err, KindInvalid)
}

// randomListening makes one listener's month: 0–30 artists on up to three
// nodes, many ties in seconds and listens, some zero aggregates.
func randomListening(r *rand.Rand, listener string, nArtists int) []Aggregate {
	var aggs []Aggregate
	n := r.IntN(31)
	perm := r.Perm(nArtists)
	for i := 0; i < n && i < nArtists; i++ {
		artist := fmt.Sprintf("node%d.example/artist%d", perm[i]%3, perm[i])
		var listens, seconds int64
		switch r.IntN(10) {
		case 0: // nothing eligible
		case 1, 2, 3: // from a tiny set: many full ties
			listens = 1 + r.Int64N(2)
			seconds = 30 * listens * (1 + r.Int64N(2))
		case 4: // huge
			seconds = MaxSecondsHeard - r.Int64N(1000)
			listens = 1 + r.Int64N(1000)
		default:
			listens = 1 + r.Int64N(200)
			seconds = listens*30 + r.Int64N(listens*400+1)
		}
		aggs = append(aggs, agg(listener, artist, listens, seconds))
	}
	return aggs
}

// TestSplitProperties: 3,000 random listeners' months against the oracle.
func TestSplitProperties(t *testing.T) {
	var none, fewer, more, boundaryTie int
	defer func() {
		t.Logf("cases: %d without listening, %d with 1–9 artists, %d with more than 9, %d with a full tie across the 9th place", none, fewer, more, boundaryTie)
		if !t.Failed() && (none < 50 || fewer < 500 || more < 500 || boundaryTie < 50) {
			t.Errorf("the random cases do not cover enough of each kind")
		}
	}()
	for seed := uint64(1); seed <= 3000; seed++ {
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		listener := fmt.Sprintf("listener%d", r.IntN(50))
		aggs := randomListening(r, listener, 1+r.IntN(40))
		amount := PoolShare
		switch r.IntN(5) {
		case 0:
			amount = PoolShare * Micro(1+r.IntN(3)) // with rolled-over held money
		case 1:
			amount = Micro(r.Int64N(int64(MaxMicro)))
		case 2:
			amount = Micro(r.IntN(20))
		}
		got, err := Split(listener, amount, aggs)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		want := splitReference(listener, amount, aggs)
		if fmt.Sprint(shareAmounts(got)) != fmt.Sprint(want) {
			t.Fatalf("seed %d: Split = %v\nreference %v", seed, shareAmounts(got), want)
		}
		// Shuffled input, same answer.
		shuffled := slices.Clone(aggs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := Split(listener, amount, shuffled)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("seed %d: shuffled input gives %v, %v; want %v", seed, again, err, got)
		}
		eligible := 0
		for _, a := range aggs {
			if a.SecondsHeard > 0 {
				eligible++
			}
		}
		switch {
		case eligible == 0:
			none++
		case eligible <= 9:
			fewer++
		default:
			more++
			ranked := refRanked(listener, aggs)
			if ranked[8].SecondsHeard == ranked[9].SecondsHeard && ranked[8].Listens == ranked[9].Listens {
				boundaryTie++
			}
		}
		if len(got) != min(9, eligible) {
			t.Fatalf("seed %d: %d shares for %d eligible artists", seed, len(got), eligible)
		}
		// The shares sum exactly; each is within one micro-dollar below or
		// above its exact quota; a better rank never gets less.
		var sum Micro
		var total int64
		for _, s := range got {
			total += s.SecondsHeard
		}
		for i, s := range got {
			sum += s.Amount
			if s.Rank != i+1 {
				t.Fatalf("seed %d: share %d has rank %d", seed, i, s.Rank)
			}
			quota := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(amount)), big.NewInt(s.SecondsHeard)), big.NewInt(total))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(s.Amount)), quota)
			if diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("seed %d: %s gets %v for a quota of %s", seed, s.Artist, s.Amount, quota.String())
			}
			if i > 0 && s.Amount > got[i-1].Amount {
				t.Fatalf("seed %d: rank %d gets more than rank %d", seed, i+1, i)
			}
		}
		if len(got) > 0 && sum != amount {
			t.Fatalf("seed %d: shares sum to %v, not %v", seed, sum, amount)
		}
		// Nobody left out ranks before anybody chosen.
		in := map[string]Share{}
		for _, s := range got {
			in[s.Artist] = s
		}
		last := got
		for _, a := range aggs {
			if _, ok := in[a.Artist]; ok || a.SecondsHeard == 0 || len(last) == 0 {
				continue
			}
			w := last[len(last)-1]
			hw, ha := TieHash(listener, w.Artist), TieHash(listener, a.Artist)
			better := a.SecondsHeard > w.SecondsHeard ||
				a.SecondsHeard == w.SecondsHeard && (a.Listens > w.Listens ||
					a.Listens == w.Listens && string(ha[:]) < string(hw[:]))
			if better {
				t.Fatalf("seed %d: %s (%d s, %d listens) left out but ranks before %s", seed, a.Artist, a.SecondsHeard, a.Listens, w.Artist)
			}
		}
	}
}
