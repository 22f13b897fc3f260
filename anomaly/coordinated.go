package anomaly

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// lockstepTracks is how many different tracks a lockstep sequence has at least.
const lockstepTracks = 5

// lockstep finds accounts that play the same tracks at the same moments,
// as one controller driving many accounts does. Two people may start the
// same track within minutes of each other now and then; dozens of times
// in a day, in a group of three or more, they do not.
func (d *detection) lockstep() {
	window := d.th.LockstepWindow.Milliseconds()
	if window <= 0 {
		return
	}
	// A shared moment is two accounts starting one track within the
	// window; it counts when it follows another shared moment of the same
	// two accounts a track or two earlier in both their days: a sequence.
	// Coincidences of popular tracks do not chain; a controller's do.
	pos := map[*Listen]int{}
	for _, g := range d.byListener {
		for i, l := range g.listens {
			pos[l] = i
		}
	}
	type moment struct {
		pair
		ia, ib int
	}
	trackOf := map[moment]int64{}
	shared := map[moment]bool{}
	var moments []moment
	for _, g := range groupBy(d.day, func(l *Listen) int64 { return l.Track }) {
		ls := g.listens // by start
		for i, a := range ls {
			for _, b := range ls[i+1:] {
				if b.Start-a.Start > window {
					break
				}
				if a.Listener == b.Listener {
					continue
				}
				if a.Listener > b.Listener {
					a, b = b, a
				}
				m := moment{pair{a.Listener, b.Listener}, pos[a], pos[b]}
				shared[m] = true
				trackOf[m] = a.Track
				moments = append(moments, m)
				a = ls[i]
			}
		}
	}
	// Two fans looping one hit at once chain too: a sequence needs
	// several tracks.
	matches := map[pair]int{}
	tracks := map[pair]map[int64]bool{}
	for _, m := range moments {
		for _, back := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}} {
			if shared[moment{m.pair, m.ia - back[0], m.ib - back[1]}] {
				matches[m.pair]++
				if tracks[m.pair] == nil {
					tracks[m.pair] = map[int64]bool{}
				}
				tracks[m.pair][trackOf[m]] = true
				break
			}
		}
	}
	for p := range matches {
		if len(tracks[p]) < lockstepTracks {
			delete(matches, p)
		}
	}
	// Accounts joined by enough shared moments form groups.
	parent := map[int64]int64{}
	var find func(int64) int64
	find = func(x int64) int64 {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	pairs := sortedPairs(matches)
	strongest := map[int64]int{}
	for _, p := range pairs {
		n := matches[p]
		if n < d.th.LockstepMatches {
			continue
		}
		ra, rb := find(p.a), find(p.b)
		parent[p.a], parent[p.b] = ra, rb
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
		strongest[p.a], strongest[p.b] = max(strongest[p.a], n), max(strongest[p.b], n)
	}
	members := map[int64][]int64{}
	for _, x := range sortedKeys(strongest) {
		members[find(x)] = append(members[find(x)], x)
	}
	for _, root := range sortedKeys(members) {
		accounts := members[root]
		if len(accounts) < d.th.LockstepAccounts {
			continue
		}
		var ls []*Listen
		best := 0
		for _, a := range accounts {
			best = max(best, strongest[a])
			ls = append(ls, d.listensOf(a)...)
		}
		d.flag(Flag{Rule: RuleLockstep, Subject: fmt.Sprintf("group:%d", root), Score: score(int64(len(accounts)), int64(d.th.LockstepAccounts)),
			Summary: fmt.Sprintf("%d accounts played the same tracks within %s of each other, up to %d times in one day",
				len(accounts), d.th.LockstepWindow, best),
			Evidence: map[string]int64{"accounts": int64(len(accounts)), "max_shared_moments": int64(best), "window_s": int64(d.th.LockstepWindow.Seconds())}}, ls)
	}
}

// pair is two listeners, the smaller id first.
type pair struct{ a, b int64 }

func sortedPairs(m map[pair]int) []pair {
	out := make([]pair, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y pair) int { return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b)) })
	return out
}

// listensOf is a listener's listens of the day.
func (d *detection) listensOf(listener int64) []*Listen { return lookup(d.byListener, listener) }

// lookup finds the listens of key in groups.
func lookup(groups []group[int64], key int64) []*Listen {
	i, ok := slices.BinarySearchFunc(groups, key, func(g group[int64], k int64) int { return cmp.Compare(g.key, k) })
	if !ok {
		return nil
	}
	return groups[i].listens
}

// spike finds an artist whose day's listening comes mostly from new
// accounts, many of them, far above what the artist's established
// listeners played on an ordinary day of the week before (leaving out
// what flags hold: another farm's plays are nobody's usual listening):
// bought plays come from accounts made for them. The accounts flagged are the new ones
// that gave that artist a good part of their day.
func (d *detection) spike() {
	newAge := d.th.NewAccountAge.Milliseconds()
	usual := map[int64]int{}
	for i := range d.before {
		l := &d.before[i]
		if l.Start >= d.from-History.Milliseconds() && d.from-l.Since >= newAge && !l.Held {
			usual[l.Artist]++
		}
	}
	// Nor is what the other rules flag today: a farm looping the artist
	// must not hide a spike behind its own plays.
	flagged := map[int64]bool{}
	for _, f := range d.flags {
		for _, id := range f.Listens {
			flagged[id] = true
		}
	}
	days := int64(History / (24 * time.Hour))
	type spiking struct {
		artist, baseline int64
		fresh            []*Listen
	}
	var spikes []spiking
	hot := map[int64]bool{}
	for _, g := range groupBy(d.day, func(l *Listen) int64 { return l.Artist }) {
		var fresh []*Listen
		real := 0
		for _, l := range g.listens {
			if d.from-l.Since < newAge {
				fresh = append(fresh, l)
			}
			if !l.Held && !flagged[l.ID] {
				real++
			}
		}
		if len(fresh) < d.th.SpikeListens || len(fresh)*100 < 60*max(real, 1) {
			continue
		}
		baseline := int64(usual[g.key]) / days
		if int64(len(fresh)) < int64(d.th.SpikeFactor)*(baseline+3) {
			continue
		}
		spikes = append(spikes, spiking{g.key, baseline, fresh})
		hot[g.key] = true
	}
	// The accounts flagged are the new ones that gave the spiking artists
	// (a farm may push a few at once) a good part of their day.
	for _, sp := range spikes {
		var accounts []int64
		var ls []*Listen
		for _, acc := range groupBy(sp.fresh, func(l *Listen) int64 { return l.Listener }) {
			mine := d.listensOf(acc.key)
			on := 0
			for _, l := range mine {
				if hot[l.Artist] {
					on++
				}
			}
			if on*100 >= 30*len(mine) {
				accounts = append(accounts, acc.key)
				ls = append(ls, mine...)
			}
		}
		if len(accounts) < d.th.SpikeAccounts {
			continue
		}
		d.flag(Flag{Rule: RuleNewAccountSpike, Subject: fmt.Sprintf("artist:%d", sp.artist), Score: score(int64(len(sp.fresh)), int64(d.th.SpikeFactor)*(sp.baseline+3)),
			Summary: fmt.Sprintf("%d listens of one artist in one day from %d accounts less than %d days old, against about %d a day from established listeners the week before",
				len(sp.fresh), len(accounts), int(d.th.NewAccountAge.Hours()/24), sp.baseline),
			Evidence: map[string]int64{"new_listens": int64(len(sp.fresh)), "new_accounts": int64(len(accounts)), "usual_per_day": sp.baseline, "artist": sp.artist}}, ls)
	}
}
