package demo

import (
	"math/rand/v2"
	"time"
)

// song is one piece of demo music: what sets it apart from the others, and
// a seed for the choices made while composing and playing it. The same song
// always renders to the same samples on a given platform.
type song struct {
	seed   uint64
	tonic  int // MIDI note of the key's tonic, in the octave of the melody
	minor  bool
	bpm    float64
	length time.Duration
	chords []int // chord roots as 0-based scale degrees, one per bar, cycled
	style  style
}

// style is what an album's songs share: their groove and their sounds.
type style struct {
	groove     groove
	swing      float64 // delay of off-beat eighths, in sixteenths
	padWave    wave
	padCutoff  float64 // Hz
	padSeventh bool    // four-note chords
	bassWave   wave
	bassCutoff float64 // Hz
	lead       fmPatch
	leadShift  int     // semitones the melody is moved from the tonic's octave
	arpEvery   int     // sixteenths between arpeggio notes; 0 for none
	reverb     float64 // wet level
}

// groove selects the drum and bass patterns.
type groove int

const (
	fourOnFloor groove = iota // kick on every beat, driving eighth-note bass
	halfTime                  // snare on beat 3, long bass notes: slow and airy
	boomBap                   // syncopated kick, swung hats: laid back
)

var (
	majorScale = [7]int{0, 2, 4, 5, 7, 9, 11}
	minorScale = [7]int{0, 2, 3, 5, 7, 8, 10}
)

// tail is the time left after the last bar for the final chord to ring out.
const tail = 3 * time.Second

// frames is the song's length in samples.
func (s *song) frames() int {
	return int(int64(s.length) * sampleRate / int64(time.Second))
}

// render plays the whole song into a mastered stereo buffer.
func (s *song) render() *mix {
	m := newMix(s.frames())
	// Separate random streams for sound and for composition, so that a
	// change in how a drum is voiced does not rewrite the melody.
	noise := rand.New(rand.NewPCG(s.seed, 1))
	c := &composer{
		song:    s,
		m:       m,
		rnd:     rand.New(rand.NewPCG(s.seed, 2)),
		sixth:   60 / s.bpm / 4,
		kick:    kick,
		snare:   snare(noise),
		hat:     hat(noise, 0.025),
		openHat: hat(noise, 0.12),
		bass:    bass(s.style.bassWave, s.style.bassCutoff),
		pad:     pad(s.style.padWave, s.style.padCutoff, noise),
		scratch: &mix{},
		lead:    fm(s.style.lead),
		pluck:   pluck(noise),
	}
	c.compose()
	master(m, s.style.reverb)
	return m
}

// pitch returns the MIDI note of scale degree deg (0 is the tonic; degrees
// past 6 or below 0 continue into the next octaves).
func (s *song) pitch(deg int) int {
	oct := deg / 7
	if deg%7 < 0 {
		oct--
	}
	scale := majorScale
	if s.minor {
		scale = minorScale
	}
	return s.tonic + 12*oct + scale[deg-7*oct]
}

// composer turns a song into notes, bar by bar.
type composer struct {
	*song
	m     *mix
	rnd   *rand.Rand
	sixth float64 // seconds per sixteenth note

	kick, snare, hat, openHat, bass, lead, pluck instrument
	pad                                          chordInstrument
	scratch                                      *mix // where a melody note is played before it is echoed
}

// section says which parts play in a bar.
type section struct{ arp, hats, kick, bass, lead, fill bool }

func (c *composer) compose() {
	bar := 16 * c.sixth
	bars := int((c.length - tail).Seconds() / bar)
	// An intro brings the parts in one by one, a two-bar breakdown past the
	// middle drops the drums, and the song ends on the tonic.
	intro := 2
	if bars >= 12 {
		intro = 4
	}
	brk := (bars * 5 / 8) &^ 1
	a, b := c.newMotif(), c.newMotif()
	for i := range bars {
		sec := section{arp: true, hats: true, kick: true, bass: true, lead: true}
		switch {
		case i < intro:
			sec = section{arp: true, hats: i >= intro/2, bass: i >= intro/2}
		case i == brk || i == brk+1:
			sec = section{arp: true, hats: i == brk+1, lead: true}
		}
		sec.fill = i == brk-1 || i == bars-1
		c.bar(i, sec)
		// Melody phrases span two bars: A, a variation of A, B, and A
		// varied again, as so many tunes do.
		if k := i - intro; sec.lead && k%2 == 0 {
			phrase := a
			switch k / 2 % 4 {
			case 1, 3:
				phrase = a.vary(c.rnd)
			case 2:
				phrase = b
			}
			c.melody(phrase, i, min(i+2, bars))
		}
	}
	c.ending(bars)
}

// chord returns the scale degrees of the chord of bar i.
func (c *composer) chord(i int) []int {
	root := c.chords[i%len(c.chords)]
	tones := []int{root, root + 2, root + 4}
	if c.style.padSeventh {
		tones = append(tones, root+6)
	}
	return tones
}

// near moves pitch p by octaves into the octave around center, which
// voice-leads chords: each tone lands close to where the last chord's was.
func near(p, center int) int {
	for p < center-6 {
		p += 12
	}
	for p >= center+6 {
		p -= 12
	}
	return p
}

// at returns the time of sixteenth step of bar i, with swing on the
// off-beat eighths and a few milliseconds of human looseness.
func (c *composer) at(i, step int) float64 {
	t := float64(i*16+step) * c.sixth
	if step%4 == 2 {
		t += c.style.swing * c.sixth
	}
	return max(0, t+(c.rnd.Float64()-0.5)*0.006)
}

// vel varies a velocity a little, as a player would.
func (c *composer) vel(v float64) float64 { return v * (0.9 + 0.2*c.rnd.Float64()) }

func (c *composer) bar(i int, sec section) {
	chord := c.chord(i)
	c.padChord(c.at(i, 0), 16*c.sixth, chord)
	if sec.arp && c.style.arpEvery > 0 {
		c.arpeggio(i, chord)
	}
	if sec.bass {
		c.bassLine(i)
	}
	c.drums(i, sec)
}

// padChord holds the chord of scale degrees from `at` for gate seconds,
// voiced around the middle of the keyboard.
func (c *composer) padChord(at, gate float64, chord []int) {
	pitches := make([]int, len(chord))
	for j, d := range chord {
		pitches[j] = near(c.pitch(d), c.tonic-3)
	}
	c.pad(c.m, at, gate, pitches, 0.08)
}

// arpeggio runs up and down the chord over two octaves.
func (c *composer) arpeggio(i int, chord []int) {
	var tones []int
	for _, oct := range []int{0, 12} {
		for _, d := range chord[:3] {
			tones = append(tones, near(c.pitch(d), c.tonic)+oct)
		}
	}
	order := []int{0, 1, 2, 3, 4, 5, 4, 3, 2, 1}
	every := c.style.arpEvery
	for j, step := 0, 0; step < 16; j, step = j+1, step+every {
		v := 0.4
		if step%4 == 0 {
			v = 0.5
		}
		p := tones[order[j%len(order)]]
		c.pluck(c.m, note{at: c.at(i, step), gate: float64(every) * c.sixth, pitch: float64(p), vel: c.vel(v), pan: -0.35, tone: 0.5})
	}
}

// bassLine plays the bar's chord root in the groove's pattern.
func (c *composer) bassLine(i int) {
	root := c.chords[i%len(c.chords)]
	low := near(c.pitch(root), c.tonic-24)
	type hit struct{ step, length, pitch int }
	var hits []hit
	switch c.style.groove {
	case fourOnFloor:
		for step := 0; step < 16; step += 2 {
			p := low
			if step%8 == 6 {
				p += 12
			}
			hits = append(hits, hit{step, 2, p})
		}
	case halfTime:
		fifth := near(c.pitch(root+4), low+7)
		hits = []hit{{0, 7, low}, {8, 5, fifth}, {14, 2, low}}
	case boomBap:
		// The last note steps toward the next bar's root.
		next := c.chords[(i+1)%len(c.chords)]
		approach := near(c.pitch(next-1), low)
		hits = []hit{{0, 5, low}, {7, 2, low}, {10, 3, low + 12}, {14, 2, approach}}
	}
	for _, h := range hits {
		v, tone := 0.35, 0.6
		if h.step == 0 {
			v, tone = 0.42, 1
		}
		c.bass(c.m, note{at: c.at(i, h.step), gate: float64(h.length) * c.sixth * 0.85, pitch: float64(h.pitch), vel: c.vel(v), tone: tone})
	}
}

func (c *composer) drums(i int, sec section) {
	var kicks, snares []int
	switch c.style.groove {
	case fourOnFloor:
		kicks, snares = []int{0, 4, 8, 12}, []int{4, 12}
	case halfTime:
		kicks, snares = []int{0, 10}, []int{8}
	case boomBap:
		kicks, snares = []int{0, 7, 10}, []int{4, 12}
	}
	if sec.kick {
		for _, step := range kicks {
			c.kick(c.m, note{at: c.at(i, step), vel: c.vel(0.85)})
		}
		for _, step := range snares {
			if !sec.fill || step < 12 {
				c.snare(c.m, note{at: c.at(i, step), vel: c.vel(0.7), pan: 0.1, tone: 0.5})
			}
		}
		if sec.fill {
			// A rising roll on the last beat announces what comes next.
			for step := 12; step < 16; step++ {
				c.snare(c.m, note{at: c.at(i, step), vel: 0.2 + 0.1*float64(step-12), pan: 0.1, tone: 0.8})
			}
		}
	}
	if sec.hats {
		c.hats(i)
	}
}

func (c *composer) hats(i int) {
	every := 2
	if c.style.groove == fourOnFloor {
		every = 1
	}
	for step := 0; step < 16; step += every {
		v := 0.16
		if step%4 == 0 {
			v = 0.25
		}
		h := c.hat
		if c.style.groove == fourOnFloor && step%4 == 2 {
			h, v = c.openHat, 0.2
		}
		h(c.m, note{at: c.at(i, step), vel: c.vel(v), pan: 0.3})
	}
}

// motif is a two-bar melodic idea: when its notes fall (in sixteenths from
// the phrase start), how long they last, and how far each moves along the
// scale from the one before.
type motif struct{ steps, lengths, moves []int }

// newMotif invents a motif. Notes favour the strong beats, the last beat is
// left mostly free so that phrases breathe, and the line moves mostly by
// step, sometimes by a leap.
func (c *composer) newMotif() motif {
	var m motif
	for step := 0; step < 32; step += 2 {
		p := 0.4
		switch {
		case step >= 28:
			p = 0.15
		case step%16 == 0:
			p = 0.9
		case step%4 == 0:
			p = 0.6
		}
		if c.rnd.Float64() < p {
			m.steps = append(m.steps, step)
		}
		if step%4 == 2 && step < 28 && c.rnd.Float64() < 0.12 {
			m.steps = append(m.steps, step+1)
		}
	}
	if len(m.steps) == 0 {
		m.steps = []int{0}
	}
	for j, step := range m.steps {
		end := 32
		if j+1 < len(m.steps) {
			end = m.steps[j+1]
		}
		m.lengths = append(m.lengths, min(end-step, 6))
		m.moves = append(m.moves, c.move())
	}
	return m
}

// move picks a melodic step along the scale.
func (c *composer) move() int {
	moves := [...]int{-2, -1, -1, -1, 0, 1, 1, 1, 2, 3, -3, -4}
	return moves[c.rnd.IntN(len(moves))]
}

// vary returns a copy of m whose second bar moves differently.
func (m motif) vary(rnd *rand.Rand) motif {
	v := motif{steps: m.steps, lengths: m.lengths, moves: append([]int(nil), m.moves...)}
	for j, step := range m.steps {
		if step >= 16 && rnd.Float64() < 0.6 {
			v.moves[j] += rnd.IntN(3) - 1
		}
	}
	return v
}

// melody plays motif m from bar `from` up to bar `to`. Notes on beats snap
// to the bar's chord so the tune always fits the harmony.
func (c *composer) melody(m motif, from, to int) {
	const lo, hi = -3, 9 // range in scale degrees around the tonic
	// Every phrase sets off from the fifth, so that a motif played again
	// sounds like itself.
	deg := 4
	for j, step := range m.steps {
		i := from + step/16
		if i >= to {
			break
		}
		move := m.moves[j]
		if deg+move < lo || deg+move > hi {
			move = -move
		}
		deg += move
		if step%4 == 0 || j == len(m.steps)-1 {
			deg = c.chordTone(deg, i, move)
		}
		v, tone := 0.42, 0.8
		if step%16 == 0 {
			v, tone = 0.5, 1
		}
		c.leadNote(note{
			at:    c.at(i, step%16),
			gate:  float64(m.lengths[j]) * c.sixth * 0.9,
			pitch: float64(c.pitch(deg) + c.style.leadShift),
			vel:   c.vel(v),
			tone:  tone,
		})
	}
}

// chordTone returns the chord tone of bar i nearest to degree deg in the
// direction the melody is moving: snapping back against it would keep
// returning the line to the same note. Tones of a triad are never more than
// two degrees apart, so one is always found.
func (c *composer) chordTone(deg, i, move int) int {
	root := c.chords[i%len(c.chords)]
	dir := 1
	if move < 0 {
		dir = -1
	}
	for ; ; deg += dir {
		if r := ((deg-root)%7 + 7) % 7; r == 0 || r == 2 || r == 4 {
			return deg
		}
	}
}

// leadNote plays a melody note and its echoes: a ping-pong delay of a
// dotted eighth, each repeat quieter and darker, on alternating sides. The
// note is played once into scratch and copied for each echo, which costs
// far less than a delay line over the whole song or playing it four times.
func (c *composer) leadNote(n note) {
	at := n.at
	n.at = 0
	frames := int((n.gate+c.style.lead.env.r)*sampleRate) + 1
	if cap(c.scratch.l) < frames {
		c.scratch = newMix(frames)
	}
	c.scratch.l, c.scratch.r = c.scratch.l[:frames], c.scratch.r[:frames]
	clear(c.scratch.l)
	clear(c.scratch.r)
	c.lead(c.scratch, n)
	gain, smooth := 1.0, 1.0
	for e := range 4 {
		pan := 0.0
		if e > 0 {
			pan = 0.6 - 1.2*float64(e%2)
		}
		c.m.blend(c.scratch, at+float64(e)*3*c.sixth, gain, pan, smooth)
		gain *= 0.4
		smooth *= 0.5
	}
}

// ending lands on the tonic chord after the last bar and lets it ring.
func (c *composer) ending(i int) {
	t := c.at(i, 0)
	ring := tail.Seconds() * 0.5
	c.padChord(t, ring, []int{0, 2, 4})
	c.bass(c.m, note{at: t, gate: ring, pitch: float64(near(c.tonic, c.tonic-24)), vel: 0.42, tone: 1})
	c.kick(c.m, note{at: t, vel: 0.85})
	c.openHat(c.m, note{at: t, vel: 0.15, pan: 0.3})
	c.leadNote(note{at: t, gate: ring, pitch: float64(c.tonic + c.style.leadShift), vel: 0.45, tone: 1})
}
