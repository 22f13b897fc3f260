package demo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestStems(t *testing.T) {
	for i := range catalogue {
		a := &catalogue[i]
		s := songOf(a, &a.tracks[0])
		for _, stem := range []string{"kick", "snare", "hat", "bass", "pad", "lead", "pluck"} {
			m := newMix(s.frames())
			noise := rand.New(rand.NewPCG(s.seed, 1))
			nop := func(*mix, note) {}
			c := &composer{song: s, m: m, rnd: rand.New(rand.NewPCG(s.seed, 2)), sixth: 60 / s.bpm / 4,
				snare: nop, hat: nop, openHat: nop, bass: nop, lead: nop, pluck: nop,
				pad: func(*mix, float64, float64, []int, float64) {}, scratch: &mix{}, kick: nop}
			switch stem {
			case "kick":
				c.kick = kick
			case "snare":
				c.snare = snare(noise)
			case "hat":
				c.hat, c.openHat = hat(noise, 0.025), hat(noise, 0.12)
			case "bass":
				c.bass = bass(s.style.bassWave, s.style.bassCutoff)
			case "pad":
				c.pad = pad(s.style.padWave, s.style.padCutoff, noise)
			case "lead":
				c.lead = fm(s.style.lead)
			case "pluck":
				c.pluck = pluck(noise)
			}
			c.compose()
			var peak, sum float64
			for k := range m.l {
				peak = max(peak, math.Abs(float64(m.l[k])))
				sum += float64(m.l[k]) * float64(m.l[k])
			}
			t.Logf("%s %s: peak %.3f rms %.4f (%.1f dB)", a.title, stem, peak, math.Sqrt(sum/float64(len(m.l))), 20*math.Log10(math.Sqrt(sum/float64(len(m.l)))))
		}
	}
}
