package demo

import (
	"math"
	"math/rand/v2"
)

// sampleRate is the rate of all audio made here. 48 kHz is Opus's native
// rate, so no encoder of the demo catalogue has to resample.
const sampleRate = 48000

const twoPi = 2 * math.Pi

// midiHz converts a MIDI note number (69 is A4, 440 Hz) to a frequency.
func midiHz(n float64) float64 { return 440 * math.Exp2((n-69)/12) }

// panGains returns constant-power gains for a pan position from −1 (left)
// to 1 (right), so a sound keeps its loudness as it moves across.
func panGains(pan float64) (l, r float64) {
	a := (pan + 1) * math.Pi / 4
	return math.Cos(a), math.Sin(a)
}

// wave is an oscillator waveform.
type wave int

const (
	sine wave = iota
	saw
	square
	triangle
)

// level scales a waveform to the loudness of a sawtooth, so that an
// instrument sounds as loud whichever wave it is given. (A square's RMS is
// 1; a saw's and a triangle's 1/√3; a sine's 1/√2.)
func (w wave) level() float64 {
	switch w {
	case square:
		return 1 / math.Sqrt(3)
	case sine:
		return math.Sqrt(2) / math.Sqrt(3)
	}
	return 1
}

// osc is a phase-accumulating oscillator; phase runs over [0, 1) and inc is
// the frequency in cycles per sample.
type osc struct{ phase, inc float64 }

func newOsc(hz, phase float64) osc { return osc{phase: phase, inc: hz / sampleRate} }

// next returns the oscillator's current sample of w and advances it.
func (o *osc) next(w wave) float64 {
	p := o.phase
	var v float64
	switch w {
	case sine:
		v = sin1(p)
	case saw:
		// A naive ramp's jump aliases audibly in the upper octaves; the
		// polyBLEP residual rounds the jump off over one sample each side.
		v = 2*p - 1 - polyBLEP(p, o.inc)
	case square:
		v = 1
		if p >= 0.5 {
			v = -1
		}
		half := p + 0.5
		if half >= 1 {
			half--
		}
		v += polyBLEP(p, o.inc) - polyBLEP(half, o.inc)
	case triangle:
		// A triangle has no jumps, only corners, so its aliasing is weak
		// enough to leave it naive.
		v = 1 - 4*math.Abs(p-0.5)
	}
	o.phase += o.inc
	if o.phase >= 1 {
		o.phase -= math.Floor(o.phase)
	}
	return v
}

// polyBLEP is the correction that turns an ideal step at phase 0 into a
// band-limited one, for a phase increment of dt per sample.
func polyBLEP(p, dt float64) float64 {
	switch {
	case p < dt:
		p /= dt
		return p + p - p*p - 1
	case p > 1-dt:
		p = (p - 1) / dt
		return p*p + p + p + 1
	}
	return 0
}

// sineBits sets the size of the sine table: 4096 points with linear
// interpolation are off by less than 10⁻⁶, far below 16-bit resolution.
const sineBits = 12

var sineTable = func() (t [1<<sineBits + 1]float64) {
	for i := range t {
		t[i] = math.Sin(twoPi * float64(i) / (1 << sineBits))
	}
	return t
}()

// sin1 returns sin(2π·turns). It looks the value up in a table because
// math.Sin, called for every sample of nearly every voice, was the largest
// cost of rendering a song.
func sin1(turns float64) float64 {
	x := turns * (1 << sineBits)
	// Floor by conversion: math.Floor is a function call on the default
	// amd64 target, and this is the innermost loop of every voice.
	xi := int(x)
	if float64(xi) > x {
		xi--
	}
	f := x - float64(xi)
	i := xi & (1<<sineBits - 1) // whole turns drop out
	return sineTable[i] + f*(sineTable[i+1]-sineTable[i])
}

// decay is an exponential fall with time constant tau, computed with one
// multiplication per sample rather than a call to math.Exp.
type decay struct{ v, mul float64 }

func newDecay(start, tau float64) decay {
	return decay{v: start, mul: math.Exp(-1 / (tau * sampleRate))}
}

// next returns the current value and advances one sample.
func (d *decay) next() float64 {
	v := d.v
	d.v *= d.mul
	return v
}

// adsr is an attack–decay–sustain–release envelope. Times are in seconds;
// decay and release are exponential like a capacitor's, which sounds
// natural, and release is the time to fall by 60 dB.
type adsr struct{ a, d, s, r float64 }

// envelope runs an adsr for one note, sample by sample.
type envelope struct {
	k, attack, gate int // samples: now, attack time, time held
	sustain         float64
	decay           decay // the part of the level above sustain
	release         float64
	level           float64
}

// start begins the envelope of a note held for gate seconds.
func (e adsr) start(gate float64) envelope {
	return envelope{
		attack:  int(e.a * sampleRate),
		gate:    int(gate * sampleRate),
		sustain: e.s,
		decay:   newDecay(1-e.s, e.d),
		release: math.Exp(-6.9 / (e.r * sampleRate)),
	}
}

// next returns the envelope's level and advances one sample.
func (e *envelope) next() float64 {
	switch {
	case e.k >= e.gate:
		e.level *= e.release
	case e.k < e.attack:
		e.level = float64(e.k) / float64(e.attack)
	default:
		e.level = e.sustain + e.decay.next()
	}
	e.k++
	return e.level
}

// svf is a state-variable filter in the trapezoidal ("zero-delay
// feedback") form, which stays stable while its cutoff is swept.
type svf struct{ k, a1, a2, a3, ic1, ic2 float64 }

func (f *svf) set(cutoff, q float64) {
	cutoff = min(cutoff, 0.45*sampleRate)
	g := math.Tan(math.Pi * cutoff / sampleRate)
	f.k = 1 / q
	f.a1 = 1 / (1 + g*(g+f.k))
	f.a2 = g * f.a1
	f.a3 = g * f.a2
}

// process filters one sample and returns its low-, band- and high-passed
// versions.
func (f *svf) process(x float64) (low, band, high float64) {
	v3 := x - f.ic2
	v1 := f.a1*f.ic1 + f.a2*v3
	v2 := f.ic2 + f.a2*f.ic1 + f.a3*v3
	f.ic1 = 2*v1 - f.ic1
	f.ic2 = 2*v2 - f.ic2
	return v2, v1, x - f.k*v1 - v2
}

// retuneEvery is how many samples a swept filter keeps its coefficients:
// recomputing the tangent every sample would cost more than the rest of
// the voice, and a sweep changes little in a third of a millisecond.
const retuneEvery = 16

// mix is a stereo buffer that sounds are added into.
type mix struct{ l, r []float32 }

func newMix(frames int) *mix {
	return &mix{l: make([]float32, frames), r: make([]float32, frames)}
}

// declick is how long every sound fades out at its end, so that cutting a
// voice off never clicks.
const declick = sampleRate / 200

// play adds dur seconds of sound starting at `at` seconds. fn returns the
// left and right samples for sample k of the sound, t seconds after its
// onset; it is called for consecutive k, so voices may keep state.
func (m *mix) play(at, dur float64, fn func(k int, t float64) (l, r float64)) {
	start := int(at*sampleRate + 0.5)
	n := min(int(dur*sampleRate), len(m.l)-start)
	fade := min(n, declick)
	for k := range n {
		l, r := fn(k, float64(k)/sampleRate)
		if rest := n - k; rest < fade {
			g := float64(rest) / float64(fade)
			l, r = l*g, r*g
		}
		m.l[start+k] += float32(l)
		m.r[start+k] += float32(r)
	}
}

// blend adds src to m from `at` seconds on, as a mono sound scaled by
// gain, panned, and low-passed by a one-pole filter whose coefficient
// smooth is 1 to let everything through and smaller to darken.
func (m *mix) blend(src *mix, at, gain, pan, smooth float64) {
	start := int(at*sampleRate + 0.5)
	n := min(len(src.l), len(m.l)-start)
	gl, gr := panGains(pan)
	gl, gr = gl*gain*math.Sqrt2/2, gr*gain*math.Sqrt2/2 // undo the source's centre pan
	var y float64
	for k := range n {
		y += smooth * (float64(src.l[k]+src.r[k]) - y)
		m.l[start+k] += float32(y * gl)
		m.r[start+k] += float32(y * gr)
	}
}

// note is one sound to play.
type note struct {
	at    float64 // onset, seconds from the start of the song
	gate  float64 // how long the note is held, seconds
	pitch float64 // MIDI note number
	vel   float64 // loudness, 0–1
	pan   float64 // −1 (left) … 1 (right)
	tone  float64 // brightness, 0–1: accents are brighter
}

// instrument plays a note into a mix.
type instrument func(m *mix, n note)

// kick is the classic drum-machine bass drum: a sine whose pitch falls fast
// from a thump to a low boom, gently saturated for punch.
func kick(m *mix, n note) {
	gl, gr := panGains(n.pan)
	var phase float64
	drop, amp := newDecay(130, 0.03), newDecay(n.vel, 0.16)
	m.play(n.at, 0.5, func(_ int, t float64) (float64, float64) {
		phase += (46 + drop.next()) / sampleRate
		v := math.Tanh(2*sin1(phase)) * amp.next() * min(1, t/0.001)
		return v * gl, v * gr
	})
}

// snare mixes a short low tone (the drum's body) with band-passed noise
// (the wires).
func snare(noise *rand.Rand) instrument {
	return func(m *mix, n note) {
		gl, gr := panGains(n.pan)
		var bp svf
		bp.set(1800+1400*n.tone, 0.7)
		body := newOsc(185, 0)
		bodyAmp, wiresAmp := newDecay(0.8*n.vel, 0.04), newDecay(1.8*n.vel, 0.09)
		m.play(n.at, 0.35, func(int, float64) (float64, float64) {
			_, wires, _ := bp.process(noise.Float64()*2 - 1)
			v := body.next(sine)*bodyAmp.next() + wires*wiresAmp.next()
			return v * gl, v * gr
		})
	}
}

// hat is a hi-hat: high-passed noise with a decay of the given time
// constant, short for a closed hat and long for an open one.
func hat(noise *rand.Rand, tau float64) instrument {
	return func(m *mix, n note) {
		gl, gr := panGains(n.pan)
		var hp svf
		hp.set(7000, 0.8)
		amp := newDecay(n.vel, tau)
		m.play(n.at, 6*tau, func(int, float64) (float64, float64) {
			_, _, v := hp.process(noise.Float64()*2 - 1)
			v *= amp.next()
			return v * gl, v * gr
		})
	}
}

// bass is a mono synth bass: an oscillator through a resonant low-pass whose
// cutoff snaps open at each note and closes again (the "pluck" of analog
// basses), over a sine at the same pitch for weight.
func bass(w wave, cutoff float64) instrument {
	env := adsr{a: 0.004, d: 0.25, s: 0.65, r: 0.08}
	return func(m *mix, n note) {
		hz := midiHz(n.pitch)
		o, sub := newOsc(hz, 0), newOsc(hz, 0)
		var lp svf
		sweep, amp := newDecay(3*n.tone, 0.09), env.start(n.gate)
		m.play(n.at, n.gate+env.r, func(k int, _ float64) (float64, float64) {
			if s := sweep.next(); k%retuneEvery == 0 {
				lp.set(cutoff*(1+s), 1.3)
			}
			low, _, _ := lp.process(o.next(w) * w.level())
			v := (0.6*low + 0.45*sub.next(sine)) * amp.next() * n.vel
			return v, v
		})
	}
}

// chordInstrument plays several pitches as one voice.
type chordInstrument func(m *mix, at, gate float64, pitches []int, vel float64)

// pad is a lush chord voice: each pitch on two oscillators detuned apart,
// one leaning left and one right, so the beating between them swirls across
// the stereo field; all through one low-pass with a slowly breathing cutoff.
// Oscillators start at random phases so that chords don't all begin with
// the same phasing swoosh.
func pad(w wave, cutoff float64, rnd *rand.Rand) chordInstrument {
	env := adsr{a: 0.35, d: 1.2, s: 0.8, r: 1.0}
	const detune = 0.1 // semitones either way
	near, far := panGains(-0.7)
	return func(m *mix, at, gate float64, pitches []int, vel float64) {
		oscs := make([]osc, 0, 2*len(pitches))
		for _, p := range pitches {
			oscs = append(oscs,
				newOsc(midiHz(float64(p)-detune), rnd.Float64()),
				newOsc(midiHz(float64(p)+detune), rnd.Float64()))
		}
		var fl, fr svf
		amp := env.start(gate)
		m.play(at, gate+env.r, func(k int, t float64) (float64, float64) {
			if k%retuneEvery == 0 {
				// The LFO runs on song time so that consecutive chords breathe
				// together.
				c := cutoff * (1 + 0.35*sin1(0.15*(at+t)))
				fl.set(c, 0.8)
				fr.set(c, 0.8)
			}
			var a, b float64
			for j := 0; j < len(oscs); j += 2 {
				a += oscs[j].next(w)
				b += oscs[j+1].next(w)
			}
			a, b = a*w.level(), b*w.level()
			l, _, _ := fl.process(a*near + b*far)
			r, _, _ := fr.process(a*far + b*near)
			e := amp.next() * vel
			return l * e, r * e
		})
	}
}

// fmPatch is a two-operator FM sound: a sine carrier whose phase a sine
// modulator at ratio × the pitch pushes around. The modulation index falls
// from index with the given time constant, so notes start bright and
// mellow out, like a struck or plucked thing.
type fmPatch struct {
	ratio, index, decay float64
	env                 adsr
}

// fm is the melody instrument. A delayed vibrato keeps held notes alive.
func fm(p fmPatch) instrument {
	return func(m *mix, n note) {
		gl, gr := panGains(n.pan)
		hz := midiHz(n.pitch) / sampleRate
		var pc, pm float64
		index := newDecay(p.index*n.tone, p.decay)
		amp := p.env.start(n.gate)
		m.play(n.at, n.gate+p.env.r, func(_ int, t float64) (float64, float64) {
			vib := 1 + 0.003*sin1(5.2*t)*min(1, t/0.5)
			// Wrapping keeps the phases small, where float64 is precise.
			if pc += hz * vib; pc >= 1 {
				pc--
			}
			if pm += hz * vib * p.ratio; pm >= 1 {
				pm--
			}
			// Some modulation stays after the decay so held notes keep a
			// little edge. The index is in radians, sin1 works in turns.
			mod := (0.15*p.index*n.tone + index.next()) / twoPi
			v := sin1(pc+mod*sin1(pm)) * amp.next() * n.vel
			return v * gl, v * gr
		})
	}
}

// pluck is a Karplus–Strong string: a burst of noise circulating in a delay
// line one period long, averaged on each round trip so that high harmonics
// die first, as on a real string. The delay is read with linear
// interpolation so that high notes stay in tune.
func pluck(noise *rand.Rand) instrument {
	const loss = 0.996 // per round trip: how long the string rings
	release := adsr{a: 0.001, d: 1, s: 1, r: 0.15}
	return func(m *mix, n note) {
		gl, gr := panGains(n.pan)
		// The two-tap average delays by half a sample, the line the rest.
		delay := sampleRate/midiHz(n.pitch) - 0.5
		whole := int(delay)
		frac := delay - float64(whole)
		hist := make([]float64, whole+3)
		size := len(hist)
		past := func(k, d int) float64 { return hist[(k-d+size)%size] }
		smooth := 0.15 + 0.6*n.tone // a darker burst makes a softer pluck
		var burst float64
		amp := release.start(n.gate)
		m.play(n.at, n.gate+release.r, func(k int, _ float64) (float64, float64) {
			a := (1-frac)*past(k, whole) + frac*past(k, whole+1)
			b := (1-frac)*past(k, whole+1) + frac*past(k, whole+2)
			y := loss * 0.5 * (a + b)
			if k <= whole {
				burst += smooth * (noise.Float64()*2 - 1 - burst)
				y += burst
			}
			hist[k%size] = y
			v := y * amp.next() * n.vel
			return v * gl, v * gr
		})
	}
}
