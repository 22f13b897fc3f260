package chaincode

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchMonth builds a node with subscribers who paid for an opened month,
// and their listening: perListener aggregates each, over max(2,000,
// subscribers/10) artists on three nodes, in random order.
func benchMonth(b *testing.B, subscribers, perListener int) (*MemState, []Aggregate) {
	st := NewMemState()
	r := rand.New(rand.NewPCG(1, 2))
	nArtists := max(2000, subscribers/10)
	artists := make([]string, nArtists)
	for k := range artists {
		artists[k] = fmt.Sprintf("n%d.example/artist%06d", k%3, k)
	}
	var aggs []Aggregate
	for i := range subscribers {
		l := fmt.Sprintf("listener%07d", i)
		if _, err := c.Deposit(st, na, l, "pay:"+l, Price); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Subscribe(st, na, l, "2025-03"); err != nil {
			b.Fatal(err)
		}
		seen := map[int]bool{}
		for len(seen) < perListener {
			k := r.IntN(nArtists)
			if seen[k] {
				continue
			}
			seen[k] = true
			listens := 1 + r.Int64N(40)
			aggs = append(aggs, agg(l, artists[k], listens, listens*30+r.Int64N(listens*200)))
		}
	}
	if _, err := c.OpenMonth(st, na, "2025-03"); err != nil {
		b.Fatal(err)
	}
	r.Shuffle(len(aggs), func(i, j int) { aggs[i], aggs[j] = aggs[j], aggs[i] })
	return st, aggs
}

// BenchmarkSettle settles a month on a fresh copy of the node each time
// (copying is not timed); the figure includes writing every transaction,
// balance and statement into the MemState.
func BenchmarkSettle(b *testing.B) {
	sizes := []struct{ subscribers, perListener int }{{1_000, 50}, {10_000, 50}, {100_000, 10}}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("%dx%d", size.subscribers, size.perListener), func(b *testing.B) {
			base, aggs := benchMonth(b, size.subscribers, size.perListener)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st := base.Clone()
				b.StartTimer()
				res, err := c.Settle(st, na, "2025-03", aggs)
				if err != nil || res.Paid != size.subscribers {
					b.Fatal(res, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size.subscribers), "ns/listener")
		})
	}
}

// BenchmarkSplit is the split of one listener's month with 50 artists.
func BenchmarkSplit(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var aggs []Aggregate
	for k := range 50 {
		aggs = append(aggs, agg("ann", fmt.Sprintf("n/a%d", k), 2, 60+r.Int64N(3)*30))
	}
	for b.Loop() {
		if _, err := Split("ann", PoolShare, aggs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupMonth is the grouping of a month's listening: 2,000,000
// aggregates of 200,000 listeners (given listener by listener, as the
// node's query yields them) over 100,000 artists, a few much heard.
func BenchmarkGroupMonth(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	zipf := rand.NewZipf(r, 1.07, 8, 99_999)
	artists := make([]string, 100_000)
	for i := range artists {
		artists[i] = fmt.Sprintf("n%02d.example/artist%07d", i%19, i)
	}
	var aggs []Aggregate
	for l := range 200_000 {
		listener := fmt.Sprintf("u%08d", l*7919%100_000_000)
		seen := map[uint64]bool{}
		for len(seen) < 10 {
			k := zipf.Uint64()
			if !seen[k] {
				seen[k] = true
				aggs = append(aggs, agg(listener, artists[k], 2, 100))
			}
		}
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprint(workers, "workers"), func(b *testing.B) {
			for b.Loop() {
				if _, err := groupMonth("bench", aggs, workers, 1<<17); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(aggs)), "ns/aggregate")
		})
	}
}
