package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"nineten.dev/anomaly"
	"nineten.dev/anomaly/synth"
)

// The seeds the rules' thresholds were tuned on, and the held-out seeds
// they are judged on (never used to tune). 202 and 707 were held out
// until each showed a flaw (202: the shared-network rule let a farm hide
// behind the day's hits, recall 0.46; 707: a spike hid behind another
// farm's plays of the artist, recall 0): they are tuning
// seeds since, and 808, 909 and 1010 joined the held-out ones.
var (
	tuningSeeds    = []uint64{1, 2, 3, 202, 707}
	heldOutSeeds   = []uint64{101, 303, 404, 505, 606, 808, 909, 1010}
	fraudListeners = 4000
)

// fraudBench generates months of synthetic listening with fraud farms and
// prints the detector's precision and recall per fraud kind, on the
// tuning seeds and on the held-out seeds (goal on the held-out ones:
// precision ≥ 0.95, recall ≥ 0.90). NINETEN_FRAUD_SEEDS="7,8" runs others.
func fraudBench() {
	sets := []struct {
		name  string
		seeds []uint64
	}{{"tuning", tuningSeeds}, {"held-out", heldOutSeeds}}
	if s := os.Getenv("NINETEN_FRAUD_SEEDS"); s != "" {
		var seeds []uint64
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			check(err)
			seeds = append(seeds, n)
		}
		sets = sets[:1]
		sets[0].name, sets[0].seeds = "chosen", seeds
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, set := range sets {
		var results []synth.Result
		for _, seed := range set.seeds {
			t0 := time.Now()
			m := synth.Generate(synth.Config{Seed: seed, Listeners: fraudListeners, Days: 31, Start: start})
			gen := time.Since(t0)
			t0 = time.Now()
			res := synth.Evaluate(m, anomaly.Default)
			fmt.Printf("\n== %s seed %d: %d listeners, %d listens (%d fake) over 31 days; generated in %.1f s, detected in %.1f s\n",
				set.name, seed, len(m.Kind), res.Listens, res.Fake, gen.Seconds(), time.Since(t0).Seconds())
			res.Print(os.Stdout)
			results = append(results, res)
		}
		worst(set.name, set.seeds, results)
	}
}

// worst prints, per fraud kind, the lowest precision and recall over a
// set's seeds, and the false positives of each legitimate kind: the table
// the goal is judged on.
func worst(name string, seeds []uint64, results []synth.Result) {
	fmt.Printf("\n== %s seeds %v: the worst of each over the seeds\n", name, seeds)
	fmt.Printf("| %-18s | %9s | %7s |\n|---|---:|---:|\n", "fraud kind", "precision", "recall")
	type pr struct{ p, r float64 }
	low := map[string]pr{}
	fp := map[string][2]int{}
	var kinds []string
	overall := pr{1, 1}
	for _, res := range results {
		overall = pr{min(overall.p, res.Precision), min(overall.r, res.Recall)}
		for _, k := range res.Kinds {
			if _, ok := low[k.Kind]; !ok {
				low[k.Kind] = pr{1, 1}
				kinds = append(kinds, k.Kind)
			}
			if k.Fraud {
				low[k.Kind] = pr{min(low[k.Kind].p, k.Precision), min(low[k.Kind].r, k.Recall)}
			} else {
				fp[k.Kind] = [2]int{fp[k.Kind][0] + k.Flagged, fp[k.Kind][1] + k.Listens}
			}
		}
	}
	for _, k := range kinds {
		if synth.IsFraud(k) {
			fmt.Printf("| %-18s | %9.3f | %7.3f |\n", k, low[k].p, low[k].r)
		}
	}
	fmt.Printf("| %-18s | %9.3f | %7.3f |\n", "all fraud", overall.p, overall.r)
	fmt.Printf("\n| %-18s | %s |\n|---|---:|\n", "legit kind", "listens flagged (false positives)")
	for _, k := range kinds {
		if !synth.IsFraud(k) {
			fmt.Printf("| %-18s | %d of %d |\n", k, fp[k][0], fp[k][1])
		}
	}
}
