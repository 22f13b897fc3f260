// Package anomaly finds fake streams before money moves: rules with
// scores over a day's listening (Detect, pure and deterministic, so that
// tests and the benchmark run it as the node does), and the use case that
// runs them every day and before a settlement, holds the flagged listens
// out of settlement and lets admins review them (Service).
package anomaly

import (
	"cmp"
	"slices"
	"time"
)

// Listen is one verified listen as the rules see it. Times are Unix
// milliseconds; Since is when the listener's account was made; Network and
// Device are opaque tags (empty when unknown).
type Listen struct {
	ID       int64
	Listener int64
	Since    int64
	Track    int64
	Artist   int64
	TrackMS  int64
	Start    int64
	HeardMS  int64
	Network  string
	Device   string
	// Held says a flag holds the listen already (awaiting review or
	// confirmed): it is not part of anyone's usual listening.
	Held bool
}

// End is when the listen stopped playing, as far as anyone knows.
func (l *Listen) End() int64 { return l.Start + l.HeardMS }

// Flag is one rule's finding. Summary names no account, network or device:
// the listeners and artists concerned read it.
type Flag struct {
	Rule     string
	Subject  string // "listener:12", "network:<tag>", "artist:3", …
	Score    int    // 1–100
	Summary  string
	Evidence map[string]int64
	Listens  []int64 // ascending
}

// The rules.
const (
	RuleDailySeconds     = "daily_seconds"
	RuleParallel         = "parallel_streams"
	RuleNoPauses         = "no_pauses"
	RuleSharedNetwork    = "shared_network"
	RuleSharedDevice     = "shared_device"
	RuleThresholdCluster = "threshold_cluster"
	RuleLockstep         = "lockstep"
	RuleNewAccountSpike  = "new_account_spike"
	RuleTrackLoop        = "track_loop"
)

// Rules lists every rule with what it looks for, for people.
var Rules = []struct{ Name, Means string }{
	{RuleDailySeconds, "more listening in a day than a person can hear"},
	{RuleParallel, "one account playing several tracks at once for long"},
	{RuleNoPauses, "listening around the clock without the pauses of sleep"},
	{RuleSharedNetwork, "many accounts on one network, listening to the same few artists"},
	{RuleSharedDevice, "many accounts on one device"},
	{RuleThresholdCluster, "listens stopped just after the 30 s that make them count"},
	{RuleLockstep, "accounts playing the same tracks at the same moments"},
	{RuleNewAccountSpike, "a sudden rise of one artist's listening from new accounts"},
	{RuleTrackLoop, "accounts looping one track, several of them the same one"},
}

// Thresholds are the rules' limits. The defaults were tuned on synthetic
// months (see synth and the fraud benchmark), never on the held-out seeds.
type Thresholds struct {
	MaxDailyHeard     time.Duration // daily_seconds
	MaxOverlap        time.Duration // parallel_streams: listening beyond the wall clock
	MinActiveHours    int           // no_pauses: hours of the day with listening…
	MaxGapForNoPauses time.Duration // …and no longer pause than this, around the clock
	NetworkAccounts   int           // shared_network: accounts on one network in a day…
	NetworkTopShare   int           // …percent of their listens on their top 3 artists
	DeviceAccounts    int           // shared_device
	ClusterListens    int           // threshold_cluster: listens in a day…
	ClusterShare      int           // …percent of them stopped before ClusterWindow
	ClusterWindow     time.Duration
	LockstepMatches   int           // lockstep: listens two accounts share in time…
	LockstepWindow    time.Duration // …started this close together
	LockstepAccounts  int           // …in a group of at least this many accounts
	NewAccountAge     time.Duration // new_account_spike: an account this young is new
	SpikeListens      int           // listens of an artist by new accounts in a day…
	SpikeAccounts     int           // …by this many new accounts…
	SpikeFactor       int           // …this many times the artist's usual day (+3)
	LoopPlays         int           // track_loop: plays of one track in a day…
	LoopShare         int           // …percent of the account's listens…
	LoopAccounts      int           // …by this many accounts on one track,
	LoopAlone         int           // or this many by one account
}

// Default are the thresholds the node runs with.
var Default = Thresholds{
	MaxDailyHeard:     18 * time.Hour,
	MaxOverlap:        time.Hour,
	MinActiveHours:    22,
	MaxGapForNoPauses: 2 * time.Hour,
	NetworkAccounts:   10,
	NetworkTopShare:   45,
	DeviceAccounts:    5,
	ClusterListens:    25,
	ClusterShare:      70,
	ClusterWindow:     40 * time.Second,
	LockstepMatches:   15,
	LockstepWindow:    3 * time.Minute,
	LockstepAccounts:  3,
	NewAccountAge:     30 * 24 * time.Hour,
	SpikeListens:      30,
	SpikeAccounts:     6,
	SpikeFactor:       4,
	LoopPlays:         50,
	LoopShare:         90,
	LoopAccounts:      3,
	LoopAlone:         200,
}

// History is how far before the day the rules look (for an artist's usual
// listening): Detect wants the listens of [day-History, day+24h).
const History = 7 * 24 * time.Hour

const dayMS = 24 * 3600 * 1000

// loopLookback is how far before the day a loop is followed: a loop that
// started the evening before and ran past midnight is one loop.
const loopLookback = 12 * time.Hour

// Detect runs every rule over the listens that started on the UTC day
// beginning at day, with the days before it (see History) as context.
// listens must be sorted by Start, then ID. Flags come sorted by rule and
// subject; the same input always gives the same flags.
func Detect(listens []Listen, day time.Time, th Thresholds) []Flag {
	from := day.UnixMilli()
	d := &detection{th: th, from: from, to: from + dayMS}
	i, _ := slices.BinarySearchFunc(listens, from, func(l Listen, t int64) int { return cmp.Compare(l.Start, t) })
	j, _ := slices.BinarySearchFunc(listens, from+dayMS, func(l Listen, t int64) int { return cmp.Compare(l.Start, t) })
	d.before = listens[:i]
	for k := i; k < j; k++ {
		d.day = append(d.day, &listens[k])
	}
	d.byListener = groupBy(d.day, func(l *Listen) int64 { return l.Listener })
	var recent []*Listen
	for k := range d.before {
		if d.before[k].Start >= from-loopLookback.Milliseconds() {
			recent = append(recent, &d.before[k])
		}
	}
	d.recent = groupBy(recent, func(l *Listen) int64 { return l.Listener })
	d.listenerDay()
	d.sharedContext()
	d.lockstep()
	d.spike()
	slices.SortFunc(d.flags, func(a, b Flag) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Subject, b.Subject))
	})
	return d.flags
}

type detection struct {
	th         Thresholds
	from, to   int64
	day        []*Listen // the listens of the day, by start
	before     []Listen
	byListener []group[int64]
	recent     []group[int64] // listens of the hours before the day, by listener
	perArtist  map[int64]int  // the day's listens per artist
	flags      []Flag
}

// group is the listens (pointers into the day) sharing a key.
type group[K cmp.Ordered] struct {
	key     K
	listens []*Listen
}

// groupBy groups ls by key, in key order, each group in the order of ls.
func groupBy[K cmp.Ordered](ls []*Listen, key func(*Listen) K) []group[K] {
	idx := make(map[K]int)
	var out []group[K]
	for i := range ls {
		k := key(ls[i])
		n, ok := idx[k]
		if !ok {
			n = len(out)
			idx[k] = n
			out = append(out, group[K]{key: k})
		}
		out[n].listens = append(out[n].listens, ls[i])
	}
	slices.SortFunc(out, func(a, b group[K]) int { return cmp.Compare(a.key, b.key) })
	return out
}

func (d *detection) flag(f Flag, ls []*Listen) {
	f.Score = min(max(f.Score, 1), 100)
	seen := make(map[int64]bool, len(ls))
	for _, l := range ls {
		if !seen[l.ID] {
			seen[l.ID] = true
			f.Listens = append(f.Listens, l.ID)
		}
	}
	slices.Sort(f.Listens)
	d.flags = append(d.flags, f)
}

// score grows from 50 at a threshold to 100 at twice it.
func score(value, threshold int64) int {
	if threshold <= 0 {
		return 100
	}
	return int(min(100, 50+50*(value-threshold)/threshold))
}

// RuleNames lists the rules' names in the order of Rules.
func RuleNames() []string {
	out := make([]string, len(Rules))
	for i, r := range Rules {
		out[i] = r.Name
	}
	return out
}
