package synth

// farm is a set of fake accounts run together for some days.
type farm struct {
	kind     string
	accounts []int64
	since    int64
	targets  []int // artists it pushes
	from, to int64 // days it runs: [from, to)
}

// farms makes one farm of every fraud kind, more of them on a bigger
// month, each running for a stretch of the evaluated days.
func (g *gen) farms() {
	copies := max(1, g.cfg.Listeners/2500)
	for _, kind := range Fraud {
		for range copies {
			g.farm(kind)
		}
	}
}

func (g *gen) farm(kind string) {
	days := int64(g.cfg.Days)
	f := &farm{kind: kind, targets: g.tailArtists(1 + g.r.IntN(2))}
	length := min(days, 4+g.r.Int64N(10))
	start := g.r.Int64N(days - length + 1)
	f.from, f.to = g.first+start*day, g.first+(start+length)*day
	f.since = f.from - (20+g.r.Int64N(200))*day
	if kind == "artist_spike" {
		f.since = f.from - g.r.Int64N(3)*day // made for it, days before
	}
	size := map[string][2]int{
		"marathon": {6, 12}, "parallel": {5, 10}, "nonstop": {6, 12}, "nonstop_stealth": {6, 12},
		"network_farm": {15, 40}, "device_farm": {12, 25}, "threshold": {8, 15}, "threshold_stealth": {8, 15},
		"lockstep": {10, 20}, "lockstep_stealth": {6, 10}, "artist_spike": {30, 60}, "loop_farm": {4, 8}, "loop_stealth": {3, 5},
	}[kind]
	for range size[0] + g.r.IntN(size[1]-size[0]+1) {
		f.accounts = append(f.accounts, g.account(kind))
	}
	for _, a := range f.targets {
		g.m.Targets[kind] = append(g.m.Targets[kind], g.artists[a].id)
	}
	switch kind {
	case "lockstep", "lockstep_stealth":
		g.lockstepFarm(f)
		return
	case "network_farm":
		g.networkFarm(f)
		return
	case "device_farm":
		g.deviceFarm(f)
		return
	}
	for _, acc := range f.accounts {
		net, dev := g.network(), g.device()
		loop := g.artists[f.targets[0]].tracks[0]
		for d := f.from; d < f.to; d += day {
			switch kind {
			case "marathon": // two streams at once, most of the day each
				for range 2 {
					g.stream(f, acc, d+g.r.Int64N(hour), d+g.between(20*hour, 23*hour), net, dev, 0, 0)
				}
			case "parallel": // three streams at once, a few hours each
				at := d + g.r.Int64N(8*hour)
				for range 3 {
					g.stream(f, acc, at, at+g.between(4*hour, 5*hour), net, dev, 0, 0)
				}
			case "nonstop": // one stream around the clock
				g.stream(f, acc, d, d+day-g.r.Int64N(20*min_), net, dev, 0, 0)
			case "nonstop_stealth": // bursts and pauses, around the clock
				for at := d + g.r.Int64N(30*min_); at < d+day; {
					end := at + g.between(20*min_, 50*min_)
					g.stream(f, acc, at, end, net, dev, 0, 0)
					at = end + g.between(10*min_, 70*min_)
				}
			case "threshold": // a listen's worth of each track, all day
				at := d + g.between(6*hour, 9*hour)
				g.stream(f, acc, at, at+g.between(3*hour, 5*hour), net, dev, 30*sec, 33*sec)
			case "threshold_stealth": // a little more, and a full play now and then
				at := d + g.between(8*hour, 14*hour)
				g.stream(f, acc, at, at+g.between(40*min_, 90*min_), net, dev, 30*sec, 39*sec)
			case "artist_spike": // human hours and amounts, pushing one artist
				at := d + g.between(8*hour, 20*hour)
				g.stream(f, acc, at, at+g.between(hour, 3*hour), net, dev, 0, 0)
			case "loop_farm": // one track, most of the day
				g.loop(acc, f.since, loop, d+g.between(6*hour, 8*hour), 300+g.r.IntN(200), net, dev)
			case "loop_stealth": // one track, for a few hours
				g.loop(acc, f.since, loop, d+g.between(8*hour, 14*hour), 60+g.r.IntN(60), net, dev)
			}
		}
	}
}

// stream plays tracks back to back from at to end: mostly the farm's
// targets, some popular tracks for cover. heardLo–heardHi, when set, is
// how long each plays (a threshold farm's slice), with an occasional full
// play for cover.
func (g *gen) stream(f *farm, acc, at, end int64, net, dev string, heardLo, heardHi int64) {
	for at < end {
		t := g.popularTrack()
		if g.r.IntN(10) < 7 {
			t = g.trackOf(f.targets[g.r.IntN(len(f.targets))])
		}
		heard := g.tracks[t].ms
		if heardHi > 0 && g.r.IntN(100) >= 8 && heard > 2*heardHi {
			heard = g.between(heardLo, heardHi)
		}
		g.play(acc, f.since, t, at, heard, net, dev)
		at += heard + g.r.Int64N(3*sec)
	}
}

func (g *gen) loop(acc, since int64, t int, at int64, plays int, net, dev string) {
	for range plays {
		g.play(acc, since, t, at, g.tracks[t].ms, net, dev)
		at += g.tracks[t].ms + g.r.Int64N(2*sec)
	}
}

// networkFarm: dozens of accounts behind one address, a few hours each.
func (g *gen) networkFarm(f *farm) {
	net := g.network()
	for _, acc := range f.accounts {
		dev := g.device()
		for d := f.from; d < f.to; d += day {
			if g.r.IntN(10) == 0 {
				continue
			}
			at := d + g.between(7*hour, 18*hour)
			g.stream(f, acc, at, at+g.between(2*hour, 5*hour), net, dev, 0, 0)
		}
	}
}

// deviceFarm: accounts cycled through a few browsers, each session from
// another address (a proxy pool).
func (g *gen) deviceFarm(f *farm) {
	var devs []string
	for range (len(f.accounts) + 7) / 8 {
		devs = append(devs, g.device())
	}
	for i, acc := range f.accounts {
		dev := devs[i%len(devs)]
		for d := f.from; d < f.to; d += day {
			if g.r.IntN(10) == 0 {
				continue
			}
			at := d + g.between(7*hour, 18*hour)
			g.stream(f, acc, at, at+g.between(hour, 4*hour), g.network(), dev, 0, 0)
		}
	}
}

// lockstepFarm: one controller plays the same tracks on every account at
// the same moments, each on its own address and device; the stealthy one
// shifts each account by up to two minutes and drops a quarter of the plays.
func (g *gen) lockstepFarm(f *farm) {
	stealth := f.kind == "lockstep_stealth"
	type slot struct {
		t         int
		at, heard int64
	}
	nets, devs := map[int64]string{}, map[int64]string{}
	for _, acc := range f.accounts {
		nets[acc], devs[acc] = g.network(), g.device()
	}
	for d := f.from; d < f.to; d += day {
		var plan []slot
		at := d + g.between(8*hour, 14*hour)
		end := at + g.between(3*hour, 7*hour)
		for at < end {
			t := g.popularTrack()
			if g.r.IntN(10) < 7 {
				t = g.trackOf(f.targets[g.r.IntN(len(f.targets))])
			}
			plan = append(plan, slot{t: t, at: at, heard: g.tracks[t].ms})
			at += g.tracks[t].ms + g.r.Int64N(3*sec)
		}
		for _, acc := range f.accounts {
			shift := g.r.Int64N(20 * sec)
			if stealth {
				shift = g.r.Int64N(2 * min_)
			}
			for _, s := range plan {
				if stealth && g.r.IntN(4) == 0 {
					continue
				}
				g.play(acc, f.since, s.t, s.at+shift+g.r.Int64N(5*sec), s.heard, nets[acc], devs[acc])
			}
		}
	}
}
