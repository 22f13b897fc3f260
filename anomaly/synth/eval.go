package synth

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"nineten.dev/anomaly"
)

// Result is how the rules did on a month, counted in listens (what money
// is split by).
type Result struct {
	Kinds []KindResult // fraud kinds, then legit ones
	Rules []RuleResult
	// Over all fraud: flagged fake listens / flagged listens, and
	// flagged fake listens / fake listens.
	Precision, Recall float64
	Listens, Fake     int
}

// KindResult is one kind of listener. For a fraud kind, Recall is the
// share of its listens flagged and Precision the share of fake listens
// among all the listens flagged by the rules that caught it (those that
// flagged at least a tenth of its listens); for a legit kind, Flagged
// counts false positives.
type KindResult struct {
	Kind              string
	Fraud             bool
	Accounts, Listens int
	Flagged           int
	Precision, Recall float64
	CaughtBy          []string
}

// RuleResult is one rule: the listens it flagged, and how many were fake.
type RuleResult struct {
	Rule          string
	Flagged, Fake int
	Precision     float64
}

// Evaluate runs the detector over every evaluated day of m, in order, as
// the node does each night (what it flags is held for the days after),
// and scores its flags against the labels. It marks m's listens held.
func Evaluate(m *Month, th anomaly.Thresholds) Result {
	flagged := map[int64][]string{} // listen → rules
	ls := m.Listens
	for d := range m.Days {
		dayStart := m.Start.Add(time.Duration(d) * 24 * time.Hour)
		from := dayStart.Add(-anomaly.History).UnixMilli()
		to := dayStart.Add(24 * time.Hour).UnixMilli()
		i, _ := slices.BinarySearchFunc(ls, from, func(l anomaly.Listen, t int64) int { return cmp.Compare(l.Start, t) })
		j, _ := slices.BinarySearchFunc(ls, to, func(l anomaly.Listen, t int64) int { return cmp.Compare(l.Start, t) })
		for _, f := range anomaly.Detect(ls[i:j], dayStart, th) {
			for _, id := range f.Listens {
				if !slices.Contains(flagged[id], f.Rule) {
					flagged[id] = append(flagged[id], f.Rule)
				}
				ls[id-1].Held = true // as the node holds them for the days after
			}
		}
	}
	first := m.Start.UnixMilli()
	type tally struct {
		accounts       map[int64]bool
		listens, flags int
		byRule         map[string]int
	}
	kinds := map[string]*tally{}
	rules := map[string]*RuleResult{}
	var res Result
	var tp, fp int
	for _, l := range ls {
		if l.Start < first { // warm-up
			continue
		}
		kind := m.Kind[l.Listener]
		t := kinds[kind]
		if t == nil {
			t = &tally{accounts: map[int64]bool{}, byRule: map[string]int{}}
			kinds[kind] = t
		}
		t.accounts[l.Listener] = true
		t.listens++
		res.Listens++
		fake := IsFraud(kind)
		if fake {
			res.Fake++
		}
		rs := flagged[l.ID]
		if len(rs) == 0 {
			continue
		}
		t.flags++
		if fake {
			tp++
		} else {
			fp++
		}
		for _, r := range rs {
			t.byRule[r]++
			rr := rules[r]
			if rr == nil {
				rr = &RuleResult{Rule: r}
				rules[r] = rr
			}
			rr.Flagged++
			if fake {
				rr.Fake++
			}
		}
	}
	res.Precision, res.Recall = ratio(tp, tp+fp), ratio(tp, res.Fake)
	legitByRule := map[string]int{}
	for _, k := range Legit {
		if t := kinds[k]; t != nil {
			for r, n := range t.byRule {
				legitByRule[r] += n
			}
		}
	}
	for _, k := range append(slices.Clone(Fraud), Legit...) {
		t := kinds[k]
		if t == nil {
			continue
		}
		kr := KindResult{Kind: k, Fraud: IsFraud(k), Accounts: len(t.accounts), Listens: t.listens, Flagged: t.flags}
		for _, r := range anomaly.RuleNames() {
			if !kr.Fraud && t.byRule[r] > 0 {
				kr.CaughtBy = append(kr.CaughtBy, fmt.Sprintf("%s:%d", r, t.byRule[r]))
			}
		}
		if kr.Fraud {
			kr.Recall = ratio(t.flags, t.listens)
			falsePos := 0
			for _, r := range anomaly.RuleNames() {
				if t.byRule[r]*10 >= t.listens && t.byRule[r] > 0 {
					kr.CaughtBy = append(kr.CaughtBy, r)
					falsePos += legitByRule[r]
				}
			}
			kr.Precision = ratio(t.flags, t.flags+falsePos)
		}
		res.Kinds = append(res.Kinds, kr)
	}
	for _, r := range anomaly.RuleNames() {
		if rr := rules[r]; rr != nil {
			rr.Precision = ratio(rr.Fake, rr.Flagged)
			res.Rules = append(res.Rules, *rr)
		}
	}
	return res
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Print writes r as tables.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "%-18s %8s %9s %9s %9s %7s  %s\n", "kind", "accounts", "listens", "flagged", "precision", "recall", "caught by")
	for _, k := range r.Kinds {
		if k.Fraud {
			fmt.Fprintf(w, "%-18s %8d %9d %9d %9.3f %7.3f  %v\n", k.Kind, k.Accounts, k.Listens, k.Flagged, k.Precision, k.Recall, k.CaughtBy)
		} else {
			fmt.Fprintf(w, "%-18s %8d %9d %9d %9s %7s  legit; false positives by %v\n", k.Kind, k.Accounts, k.Listens, k.Flagged, "-", "-", k.CaughtBy)
		}
	}
	fmt.Fprintf(w, "%-18s %8s %9d %9s %9.3f %7.3f  (%d fake listens)\n", "all fraud", "", r.Listens, "", r.Precision, r.Recall, r.Fake)
	fmt.Fprintf(w, "\n%-18s %9s %9s %9s\n", "rule", "flagged", "fake", "precision")
	for _, rr := range r.Rules {
		fmt.Fprintf(w, "%-18s %9d %9d %9.3f\n", rr.Rule, rr.Flagged, rr.Fake, rr.Precision)
	}
}
