// Package synth makes synthetic months of listening from a seed: thousands
// of legitimate listeners, some of them unusual (heavy listeners,
// households and campuses sharing a network, night owls, repeat-one fans,
// new accounts), mixed with fraud farms of several kinds, each labelled.
// The fraud benchmark (`go run ./bench -only fraud`) and the detector's
// tests measure the rules' precision and recall on them.
package synth

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"nineten.dev/anomaly"
)

// Config says what month to make.
type Config struct {
	Seed      uint64
	Listeners int       // legitimate listeners (farms come on top)
	Days      int       // days to evaluate; anomaly.History of warm-up come before
	Start     time.Time // midnight UTC of the first evaluated day
}

// Month is the listening made, with every listener's kind.
type Month struct {
	Config
	Listens []anomaly.Listen   // by start, then id
	Kind    map[int64]string   // listener → kind (see Legit and Fraud)
	Targets map[string][]int64 // fraud kind → the artists its farms pushed
}

// The kinds of listeners. Legit ones are people, unusual or not; every
// listen of a fraud kind's accounts is fake.
var (
	Legit = []string{"normal", "new_account", "heavy", "household", "campus", "night_owl", "repeat_one"}
	Fraud = []string{"marathon", "parallel", "nonstop", "nonstop_stealth", "network_farm", "device_farm",
		"threshold", "threshold_stealth", "lockstep", "lockstep_stealth", "artist_spike", "loop_farm", "loop_stealth"}
)

// IsFraud says whether kind is a fraud kind.
func IsFraud(kind string) bool { return slices.Contains(Fraud, kind) }

const (
	sec  = int64(1000)
	min_ = 60 * sec
	hour = 60 * min_
	day  = 24 * hour
)

type gen struct {
	cfg      Config
	r        *rand.Rand
	m        *Month
	artists  []artist
	artistW  []float64 // cumulative popularity
	tracks   []track
	lists    [][]int // public playlists: track indexes
	next     int64   // next listener id
	networks int
	devices  int
	start    int64 // first generated day (warm-up included)
	first    int64 // first evaluated day
}

type artist struct {
	id     int64
	tracks []int // indexes into gen.tracks, in album order
}

type track struct {
	id, artist int64
	ms         int64
}

// Generate makes the month of cfg; the same config makes the same month.
func Generate(cfg Config) *Month {
	g := &gen{
		cfg: cfg,
		r:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		m:   &Month{Config: cfg, Kind: map[int64]string{}, Targets: map[string][]int64{}},
	}
	g.first = cfg.Start.UnixMilli()
	g.start = g.first - anomaly.History.Milliseconds()
	g.catalog(max(200, cfg.Listeners/8))
	g.people()
	g.farms()
	ls := g.m.Listens
	slices.SortFunc(ls, func(a, b anomaly.Listen) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Listener, b.Listener))
	})
	for i := range ls {
		ls[i].ID = int64(i + 1)
	}
	return g.m
}

// catalog makes n artists of 6–15 tracks, popular by a Zipf law, and
// public playlists of popular tracks.
func (g *gen) catalog(n int) {
	var total float64
	for i := range n {
		a := artist{id: int64(i + 1)}
		for range 6 + g.r.IntN(10) {
			ms := (150 + g.r.Int64N(210)) * sec
			if g.r.IntN(20) == 0 {
				ms = (60 + g.r.Int64N(50)) * sec
			}
			a.tracks = append(a.tracks, len(g.tracks))
			g.tracks = append(g.tracks, track{id: int64(len(g.tracks) + 1), artist: a.id, ms: ms})
		}
		g.artists = append(g.artists, a)
		total += 1 / float64(i+1)
		g.artistW = append(g.artistW, total)
	}
	for range 40 {
		var pl []int
		for range 12 + g.r.IntN(20) {
			pl = append(pl, g.popularTrack())
		}
		g.lists = append(g.lists, pl)
	}
}

func (g *gen) popularArtist() int {
	x := g.r.Float64() * g.artistW[len(g.artistW)-1]
	i, _ := slices.BinarySearch(g.artistW, x)
	return min(i, len(g.artists)-1)
}

// trackOf picks a track of artist a, the first ones (the singles) likelier.
func (g *gen) trackOf(a int) int {
	ts := g.artists[a].tracks
	return ts[min(len(ts)-1, int(float64(len(ts))*g.r.Float64()*g.r.Float64()))]
}

func (g *gen) popularTrack() int { return g.trackOf(g.popularArtist()) }

// tailArtists picks n artists from the long tail, for farms to push.
func (g *gen) tailArtists(n int) []int {
	var out []int
	for len(out) < n {
		a := len(g.artists)/3 + g.r.IntN(len(g.artists)*2/3)
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (g *gen) network() string { g.networks++; return fmt.Sprintf("n%d", g.networks) }
func (g *gen) device() string  { g.devices++; return fmt.Sprintf("d%d", g.devices) }

// account makes a listener of kind.
func (g *gen) account(kind string) int64 {
	g.next++
	g.m.Kind[g.next] = kind
	return g.next
}

// play records one listen.
func (g *gen) play(listener, since int64, t int, start, heard int64, network, device string) {
	tr := g.tracks[t]
	g.m.Listens = append(g.m.Listens, anomaly.Listen{
		Listener: listener, Since: since, Track: tr.id, Artist: tr.artist, TrackMS: tr.ms,
		Start: start, HeardMS: min(heard, tr.ms), Network: network, Device: device,
	})
}

func (g *gen) days() int { return g.cfg.Days + int(anomaly.History.Hours()/24) }

func (g *gen) between(lo, hi int64) int64 { return lo + g.r.Int64N(max(1, hi-lo)) }
