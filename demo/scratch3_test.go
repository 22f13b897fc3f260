package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMelodyDump(t *testing.T) {
	names := []string{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}
	for _, idx := range [][2]int{{0, 0}, {1, 1}, {2, 2}} {
		a := &catalogue[idx[0]]
		s := songOf(a, &a.tracks[idx[1]])
		m := newMix(s.frames())
		noise := rand.New(rand.NewPCG(s.seed, 1))
		var b strings.Builder
		bar := -1
		nop := func(*mix, note) {}
		var cur float64
		c := &composer{song: s, m: m, rnd: rand.New(rand.NewPCG(s.seed, 2)), sixth: 60 / s.bpm / 4,
			snare: nop, hat: nop, openHat: nop, bass: nop, pluck: nop, kick: nop,
			pad: func(_ *mix, at, _ float64, p []int, _ float64) { cur = at }, scratch: &mix{}}
		_ = noise
		c.lead = func(_ *mix, n note) {
			i := int((cur + 0.01) / (16 * c.sixth))
			if i != bar {
				bar = i
				fmt.Fprintf(&b, "\n bar %2d [%v]:", i, c.chords[i%len(c.chords)]+1)
			}
			p := int(n.pitch)
			fmt.Fprintf(&b, " %s%d/%d", names[p%12], p/12-1, int(n.gate/c.sixth+0.5))
		}
		c.compose()
		t.Logf("%s (tonic %s, minor %v):%s", a.tracks[idx[1]].title, names[s.tonic%12], s.minor, b.String())
	}
}
