package synth

// person is a legitimate listener and their habits.
type person struct {
	id, since  int64
	kind       string
	favorites  []int // artists
	home       string
	mobile     string // a carrier's network, shared by many; "" if none
	devices    []string
	hours      float64 // usual listening a day
	active     float64 // chance of listening on a given day
	wake, span int64   // the part of the day they may listen: from wake, for span (may pass midnight)
	sessions   int     // most sessions a day
	loop       int     // the repeat-one fan's track
}

// people makes the legitimate listeners: ordinary ones and new accounts,
// heavy listeners, households and campuses sharing one network, night owls
// and repeat-one fans, some on a carrier's shared mobile networks.
func (g *gen) people() {
	carriers := []string{g.network(), g.network(), g.network(), g.network()}
	var ps []*person
	n := g.cfg.Listeners
	// Campuses or offices: dozens of people behind one address.
	for range max(1, n/1500) {
		net := g.network()
		for range 30 + g.r.IntN(30) {
			c := g.person("campus")
			c.home = net
			ps = append(ps, c)
		}
	}
	for len(ps) < n {
		p := g.person("normal")
		switch x := g.r.IntN(100); {
		case x < 6:
			p.kind, p.hours, p.active, p.wake, p.span, p.sessions = "heavy", 9+g.r.Float64()*5, 0.95, 7*hour+g.r.Int64N(2*hour), 17*hour, 5
		case x < 11:
			p.kind, p.wake, p.span, p.hours = "night_owl", 21*hour+g.r.Int64N(2*hour), 8*hour, 1+g.r.Float64()*4
		case x < 15:
			p.kind, p.loop = "repeat_one", g.trackOf(p.favorites[0])
		case x < 29:
			p.kind, p.since = "new_account", g.first+g.r.Int64N(int64(g.cfg.Days))*day
		case x < 36:
			// A household: two to five people, one network, a shared tablet.
			net, tablet := g.network(), g.device()
			size := 2 + g.r.IntN(4)
			for i := range size {
				h := g.person("household")
				h.home = net
				if i < 3 {
					h.devices = append(h.devices, tablet)
				}
				ps = append(ps, h)
			}
			continue
		}
		if g.r.IntN(10) < 4 {
			p.mobile = carriers[g.r.IntN(len(carriers))]
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.id = g.account(p.kind)
		for d := range g.days() {
			g.personDay(p, g.start+int64(d)*day)
		}
	}
}

func (g *gen) person(kind string) *person {
	p := &person{
		kind: kind, since: g.start - g.r.Int64N(400)*day,
		home: g.network(), devices: []string{g.device()},
		hours: 0.3 + g.r.Float64()*2.7, active: 0.4 + g.r.Float64()*0.5,
		wake: 7*hour + g.r.Int64N(3*hour), span: 15 * hour, sessions: 3,
	}
	if g.r.IntN(2) == 0 {
		p.devices = append(p.devices, g.device())
	}
	for range 5 + g.r.IntN(30) {
		p.favorites = append(p.favorites, g.popularArtist())
	}
	return p
}

// personDay is one day of a person's listening: a few sessions spread
// over their waking hours, each albums, playlists or their favourites on
// shuffle, now and then a skip or a pause; a repeat-one fan sometimes
// loops their track for an hour or three.
func (g *gen) personDay(p *person, d int64) {
	if d < p.since || g.r.Float64() > p.active {
		return
	}
	target := int64(p.hours * (0.6 + 0.6*g.r.Float64()) * float64(hour))
	target = min(target, p.span-hour)
	k := 1 + g.r.IntN(p.sessions)
	slot := p.span / int64(k)
	for s := range k {
		at := d + p.wake + int64(s)*slot
		length := min(target/int64(k), slot-10*min_)
		loops := p.kind == "repeat_one" && s == 0 && g.r.IntN(4) == 0
		if !loops {
			at += g.r.Int64N(max(1, slot-length-5*min_))
		}
		net := p.home
		if p.mobile != "" && g.r.IntN(10) < 3 {
			net = p.mobile
		}
		dev := p.devices[g.r.IntN(len(p.devices))]
		if loops {
			// Looping one track for the session, a long one.
			tr := g.tracks[p.loop]
			for range min(20+g.r.IntN(60), int((slot-10*min_)/(tr.ms+2*sec))) {
				g.play(p.id, p.since, p.loop, at, tr.ms, net, dev)
				at += tr.ms + g.r.Int64N(2*sec)
			}
			continue
		}
		g.session(p, at, at+length, net, dev)
	}
}

// session plays from start until end.
func (g *gen) session(p *person, at, end int64, net, dev string) {
	var queue []int
	for at < end {
		if len(queue) == 0 {
			switch x := g.r.IntN(10); {
			case x < 4:
				a := g.artists[p.favorites[g.r.IntN(len(p.favorites))]]
				queue = append(queue, a.tracks...)
			case x < 6:
				queue = append(queue, g.lists[g.r.IntN(len(g.lists))]...)
			default:
				for range 10 {
					if g.r.IntN(10) < 7 {
						queue = append(queue, g.trackOf(p.favorites[g.r.IntN(len(p.favorites))]))
					} else {
						queue = append(queue, g.popularTrack())
					}
				}
			}
		}
		t := queue[0]
		queue = queue[1:]
		tr := g.tracks[t]
		heard := tr.ms
		switch x := g.r.IntN(10); {
		case x < 2: // skipped before 30 s: no listen at all
			at += g.between(3*sec, 29*sec)
			continue
		case x < 4: // skipped later
			heard = g.between(30*sec, tr.ms)
		}
		g.play(p.id, p.since, t, at, heard, net, dev)
		at += heard + g.r.Int64N(3*sec)
		if g.r.IntN(25) == 0 {
			at += g.between(2*min_, 20*min_)
		}
	}
}
