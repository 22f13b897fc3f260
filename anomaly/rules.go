package anomaly

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// listenerDay runs the rules about one listener's day: how much they
// heard, at once and around the clock, how long each listen lasted, and
// whether they looped one track.
func (d *detection) listenerDay() {
	type looper struct {
		listener int64
		plays    int
		share    int
		listens  []*Listen
	}
	loopers := map[int64][]looper{} // by track
	for _, g := range d.byListener {
		ls := g.listens
		subject := fmt.Sprintf("listener:%d", g.key)
		var heard int64
		for _, l := range ls {
			heard += l.HeardMS
		}
		covered, gap, hours := d.coverage(ls)
		if heard > d.th.MaxDailyHeard.Milliseconds() {
			d.flag(Flag{Rule: RuleDailySeconds, Subject: subject, Score: score(heard, d.th.MaxDailyHeard.Milliseconds()),
				Summary:  fmt.Sprintf("%s of listening in one day, more than a person can hear (the limit is %s)", hm(heard), hm(d.th.MaxDailyHeard.Milliseconds())),
				Evidence: map[string]int64{"heard_s": heard / 1000, "limit_s": int64(d.th.MaxDailyHeard.Seconds()), "listens": int64(len(ls))}}, ls)
		}
		if overlap := heard - covered; overlap > d.th.MaxOverlap.Milliseconds() {
			d.flag(Flag{Rule: RuleParallel, Subject: subject, Score: score(overlap, d.th.MaxOverlap.Milliseconds()),
				Summary:  fmt.Sprintf("%s of listens played at the same time as others of the same account in one day", hm(overlap)),
				Evidence: map[string]int64{"overlap_s": overlap / 1000, "heard_s": heard / 1000, "wall_s": covered / 1000}}, ls)
		}
		if hours >= d.th.MinActiveHours && gap <= d.th.MaxGapForNoPauses.Milliseconds() {
			d.flag(Flag{Rule: RuleNoPauses, Subject: subject, Score: int(50 + 50*(d.th.MaxGapForNoPauses.Milliseconds()-gap)/max(1, d.th.MaxGapForNoPauses.Milliseconds())),
				Summary:  fmt.Sprintf("listening in %d of 24 hours of one day, never pausing longer than %s", hours, hm(gap)),
				Evidence: map[string]int64{"active_hours": int64(hours), "longest_pause_s": gap / 1000, "heard_s": heard / 1000}}, ls)
		}
		d.thresholdCluster(subject, ls)
		around := append(slices.Clone(lookup(d.recent, g.key)), ls...)
		if lp, n := topTrack(around); n >= d.th.LoopPlays && n*100 >= d.th.LoopShare*len(around) {
			loopers[lp] = append(loopers[lp], looper{listener: g.key, plays: n, share: 100 * n / len(around), listens: ls})
		}
	}
	for _, track := range sortedKeys(loopers) {
		group := loopers[track]
		if len(group) >= d.th.LoopAccounts {
			var ls []*Listen
			plays := 0
			for _, lp := range group {
				ls = append(ls, lp.listens...)
				plays += lp.plays
			}
			d.flag(Flag{Rule: RuleTrackLoop, Subject: fmt.Sprintf("track:%d", track), Score: score(int64(len(group)), int64(d.th.LoopAccounts)),
				Summary:  fmt.Sprintf("%d accounts each looped the same track all day (%d plays in all)", len(group), plays),
				Evidence: map[string]int64{"accounts": int64(len(group)), "plays": int64(plays), "track": track}}, ls)
			continue
		}
		for _, lp := range group {
			if lp.plays >= d.th.LoopAlone {
				d.flag(Flag{Rule: RuleTrackLoop, Subject: fmt.Sprintf("listener:%d", lp.listener), Score: score(int64(lp.plays), int64(d.th.LoopAlone)),
					Summary:  fmt.Sprintf("one track played %d times in a row, %d%% of the account's listens of the day", lp.plays, lp.share),
					Evidence: map[string]int64{"plays": int64(lp.plays), "share_pct": int64(lp.share), "track": track}}, lp.listens)
			}
		}
	}
}

// coverage is how much of the day the listens cover (their union), the
// longest pause between them (from midnight to midnight), and in how many
// of the day's hours something played.
func (d *detection) coverage(ls []*Listen) (covered, longestGap int64, hours int) {
	var active [24]bool
	end := d.from
	for _, l := range ls { // by start
		s, e := max(l.Start, end), min(l.End(), d.to)
		longestGap = max(longestGap, l.Start-end)
		if e > s {
			covered += e - s
		}
		for h := (l.Start - d.from) / 3600_000; h < 24 && d.from+h*3600_000 < min(l.End(), d.to); h++ {
			active[h] = true
		}
		end = max(end, l.End())
	}
	longestGap = max(longestGap, d.to-end)
	for _, a := range active {
		if a {
			hours++
		}
	}
	return covered, longestGap, hours
}

// thresholdCluster flags a day of listens most of which stopped just
// after the threshold, on tracks long enough to go on: a person skips at
// all sorts of moments, a farm right after the listen counts.
func (d *detection) thresholdCluster(subject string, ls []*Listen) {
	if len(ls) < d.th.ClusterListens {
		return
	}
	short, long := 0, 0
	for _, l := range ls {
		if l.TrackMS < 2*d.th.ClusterWindow.Milliseconds() {
			continue
		}
		long++
		if l.HeardMS < d.th.ClusterWindow.Milliseconds() {
			short++
		}
	}
	if long < d.th.ClusterListens || short*100 < d.th.ClusterShare*long {
		return
	}
	pct := 100 * short / long
	d.flag(Flag{Rule: RuleThresholdCluster, Subject: subject, Score: 50 + (pct-d.th.ClusterShare)*50/max(1, 100-d.th.ClusterShare),
		Summary:  fmt.Sprintf("%d of %d listens in one day stopped within %s of starting, just past the 30 s that make a listen count", short, long, d.th.ClusterWindow),
		Evidence: map[string]int64{"short": int64(short), "listens": int64(long), "share_pct": int64(pct), "window_s": int64(d.th.ClusterWindow.Seconds())}}, ls)
}

// sharedContext flags networks and devices that many accounts used in a
// day. A household or a campus shares a network too, so a network needs
// its accounts to listen to the same few artists as well; a browser
// shared by more than a family is suspicious on its own.
func (d *detection) sharedContext() {
	for _, g := range groupBy(d.day, func(l *Listen) string { return l.Network }) {
		if g.key == "" {
			continue
		}
		accounts := groupBy(g.listens, func(l *Listen) int64 { return l.Listener })
		if len(accounts) < d.th.NetworkAccounts {
			continue
		}
		// A network pushes an artist when most of its accounts played it
		// and it is played far more there than anywhere else on the node
		// (a campus of fans of the day's hits pushes nothing); the accounts
		// that count gave the pushed artists most of their day.
		pushed, lift := d.pushed(accounts, g.listens)
		if len(pushed) == 0 {
			continue
		}
		var ls []*Listen
		together := 0
		for _, acc := range accounts {
			on := 0
			for _, l := range acc.listens {
				if pushed[l.Artist] {
					on++
				}
			}
			if on*100 >= d.th.NetworkTopShare*len(acc.listens) {
				together++
				ls = append(ls, acc.listens...)
			}
		}
		if together < d.th.NetworkAccounts {
			continue
		}
		d.flag(Flag{Rule: RuleSharedNetwork, Subject: "network:" + g.key, Score: score(int64(together), int64(d.th.NetworkAccounts)),
			Summary: fmt.Sprintf("%d accounts listened from one network in one day, each mostly to %d artists played there %d times more than elsewhere (%d accounts used the network)",
				together, len(pushed), lift, len(accounts)),
			Evidence: map[string]int64{"accounts": int64(together), "network_accounts": int64(len(accounts)), "listens": int64(len(ls)),
				"pushed_artists": int64(len(pushed)), "min_share_pct": int64(d.th.NetworkTopShare), "lift": lift}}, ls)
	}
	// A device's accounts are counted over the week: a farm cycles
	// through its accounts over days, a family uses the same two or three.
	week := map[string]map[int64]bool{}
	for i := range d.before {
		l := &d.before[i]
		if l.Device != "" && l.Start >= d.from-History.Milliseconds() {
			if week[l.Device] == nil {
				week[l.Device] = map[int64]bool{}
			}
			week[l.Device][l.Listener] = true
		}
	}
	for _, g := range groupBy(d.day, func(l *Listen) string { return l.Device }) {
		if g.key == "" {
			continue
		}
		accounts := map[int64]bool{}
		for _, l := range g.listens {
			accounts[l.Listener] = true
		}
		today := len(accounts)
		for a := range week[g.key] {
			accounts[a] = true
		}
		if len(accounts) < d.th.DeviceAccounts {
			continue
		}
		d.flag(Flag{Rule: RuleSharedDevice, Subject: "device:" + g.key, Score: score(int64(len(accounts)), int64(d.th.DeviceAccounts)),
			Summary:  fmt.Sprintf("%d accounts listened on one device in a week, %d of them on this day", len(accounts), today),
			Evidence: map[string]int64{"accounts_week": int64(len(accounts)), "accounts_day": int64(today), "listens": int64(len(g.listens))}}, g.listens)
	}
}

// networkLift is how many times more of a network's listens an artist
// must have than of the listens elsewhere for the network to push it.
const networkLift = 4

// pushed is the artists a network pushes: played by at least half of its
// accounts, and a share of its listens at least networkLift times their
// share of the day's listens elsewhere. It returns the smallest lift among
// them (at most 1,000).
func (d *detection) pushed(accounts []group[int64], ls []*Listen) (map[int64]bool, int64) {
	if d.perArtist == nil {
		d.perArtist = map[int64]int{}
		for _, l := range d.day {
			d.perArtist[l.Artist]++
		}
	}
	fans, here := map[int64]int{}, map[int64]int{}
	for _, acc := range accounts {
		seen := map[int64]bool{}
		for _, l := range acc.listens {
			here[l.Artist]++
			if !seen[l.Artist] {
				seen[l.Artist] = true
				fans[l.Artist]++
			}
		}
	}
	out := map[int64]bool{}
	lowest := int64(1000)
	others := len(d.day) - len(ls)
	for _, a := range sortedKeys(here) {
		if fans[a]*2 < len(accounts) {
			continue
		}
		share := float64(here[a]) / float64(len(ls))
		elsewhere := float64(d.perArtist[a]-here[a]) / float64(max(1, others))
		if share >= networkLift*elsewhere {
			out[a] = true
			if elsewhere > 0 {
				lowest = min(lowest, int64(share/elsewhere))
			}
		}
	}
	return out, lowest
}

// topTrack is the track played most in ls and how often.
func topTrack(ls []*Listen) (track int64, plays int) {
	per := map[int64]int{}
	for _, l := range ls {
		per[l.Track]++
	}
	for _, t := range sortedKeys(per) {
		if per[t] > plays {
			track, plays = t, per[t]
		}
	}
	return track, plays
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hm writes milliseconds as hours and minutes.
func hm(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}
