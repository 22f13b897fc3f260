package demo

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// comb is a feedback delay with a low-pass in its loop: the echo train of a
// room whose walls absorb highs.
type comb struct {
	buf          []float64
	i            int
	fb, damp, lp float64
}

func (c *comb) process(x float64) float64 {
	y := c.buf[c.i]
	c.lp = y*(1-c.damp) + c.lp*c.damp
	c.buf[c.i] = x + c.lp*c.fb
	if c.i++; c.i == len(c.buf) {
		c.i = 0
	}
	return y
}

// allpass smears echoes into a dense tail without colouring the sound.
type allpass struct {
	buf []float64
	i   int
}

func (a *allpass) process(x float64) float64 {
	const g = 0.5
	d := a.buf[a.i]
	v := x + g*d
	a.buf[a.i] = v
	if a.i++; a.i == len(a.buf) {
		a.i = 0
	}
	return d - g*v
}

// reverb is a small Schroeder reverberator per channel: parallel combs
// into series all-passes. The channels' delays differ a little, which is
// what makes the tail wide.
type reverb struct {
	combs [2][4]comb
	aps   [2][2]allpass
	hp    float64 // state of the input high-pass
}

func newReverb() *reverb {
	// Mutually prime delays (in samples, 30–40 ms for the combs) keep the
	// echoes from piling up on the same instants.
	combLen := [2][4]int{{1433, 1601, 1741, 1867}, {1471, 1637, 1777, 1901}}
	apLen := [2][2]int{{241, 601}, {263, 619}}
	rv := &reverb{}
	for ch := range 2 {
		for j, n := range combLen[ch] {
			rv.combs[ch][j] = comb{buf: make([]float64, n), fb: 0.8, damp: 0.3}
		}
		for j, n := range apLen[ch] {
			rv.aps[ch][j] = allpass{buf: make([]float64, n)}
		}
	}
	return rv
}

// process returns the reverberated left and right for one input sample.
// Lows are cut from the input first: a reverberating kick and bass would
// only muddy the mix.
func (rv *reverb) process(x float64) (l, r float64) {
	const hpCoef = 0.96 // about 300 Hz at 48 kHz
	rv.hp = hpCoef*rv.hp + (1-hpCoef)*x
	x -= rv.hp
	var out [2]float64
	for ch := range 2 {
		var s float64
		for j := range rv.combs[ch] {
			s += rv.combs[ch][j].process(x)
		}
		s /= 4
		for j := range rv.aps[ch] {
			s = rv.aps[ch][j].process(s)
		}
		out[ch] = s
	}
	return out[0], out[1]
}

// Loudness targets of the master. The mix is brought to targetRMS, unless
// that would push its peaks more than maxDrive into the soft clipper.
const (
	targetRMS = 0.16 // about −16 dBFS
	maxDrive  = 1.3
	ceiling   = 0.97 // the clipper's output never exceeds this
	fadeOut   = 1.0  // seconds
)

// master finishes a rendered song: it adds reverb, fades the very end to
// silence, sets the loudness and soft-clips, so that every sample is within
// ±ceiling whatever the parts added up to.
func master(m *mix, wet float64) {
	rv := newReverb()
	for i := range m.l {
		l, r := rv.process(float64(m.l[i]+m.r[i]) / 2)
		m.l[i] += float32(wet * l)
		m.r[i] += float32(wet * r)
	}
	n := len(m.l)
	fade := min(n, int(fadeOut*sampleRate))
	for k := range fade {
		g := float32(k) / float32(fade)
		m.l[n-1-k] *= g
		m.r[n-1-k] *= g
	}
	var peak, sum float64
	for i := range m.l {
		for _, v := range [2]float64{float64(m.l[i]), float64(m.r[i])} {
			peak = max(peak, math.Abs(v))
			sum += v * v
		}
	}
	if peak == 0 {
		return
	}
	rms := math.Sqrt(sum / float64(2*n))
	gain := min(targetRMS/rms, maxDrive/peak)
	for i := range m.l {
		m.l[i] = float32(ceiling * softClip(gain*float64(m.l[i])))
		m.r[i] = float32(ceiling * softClip(gain*float64(m.r[i])))
	}
}

// softClip passes quiet samples unchanged and bends loud ones smoothly
// toward ±1, never past it: a limiter without attack or release.
func softClip(x float64) float64 {
	const knee = 0.6
	a := math.Abs(x)
	if a <= knee {
		return x
	}
	// tanh has slope 1 at 0, so the curve joins the straight part smoothly.
	return math.Copysign(knee+(1-knee)*math.Tanh((a-knee)/(1-knee)), x)
}

// writeWAV writes m as a 16-bit stereo PCM WAV file. It converts and writes
// in blocks, so the encoded file is never held in memory whole.
func writeWAV(w io.Writer, m *mix) error {
	const (
		channels   = 2
		bytesPer   = 2
		blockAlign = channels * bytesPer
		headerLen  = 44
	)
	dataLen := uint64(len(m.l)) * blockAlign
	if dataLen > math.MaxUint32-headerLen {
		return fmt.Errorf("wav: %d frames is too long for a WAV file", len(m.l))
	}
	hdr := make([]byte, 0, headerLen)
	hdr = append(hdr, "RIFF"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(headerLen-8+dataLen))
	hdr = append(hdr, "WAVEfmt "...)
	hdr = binary.LittleEndian.AppendUint32(hdr, 16) // fmt chunk length
	hdr = binary.LittleEndian.AppendUint16(hdr, 1)  // PCM
	hdr = binary.LittleEndian.AppendUint16(hdr, channels)
	hdr = binary.LittleEndian.AppendUint32(hdr, sampleRate)
	hdr = binary.LittleEndian.AppendUint32(hdr, sampleRate*blockAlign)
	hdr = binary.LittleEndian.AppendUint16(hdr, blockAlign)
	hdr = binary.LittleEndian.AppendUint16(hdr, 8*bytesPer)
	hdr = append(hdr, "data"...)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(dataLen))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("wav: writing header: %w", err)
	}
	const block = 4096 // frames per write
	buf := make([]byte, 0, block*blockAlign)
	for i := 0; i < len(m.l); i += block {
		buf = buf[:0]
		for j := i; j < min(i+block, len(m.l)); j++ {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(pcm16(m.l[j])))
			buf = binary.LittleEndian.AppendUint16(buf, uint16(pcm16(m.r[j])))
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("wav: writing samples: %w", err)
		}
	}
	return nil
}

// pcm16 converts a sample in [−1, 1] to 16 bits, saturating beyond.
func pcm16(v float32) int16 {
	return int16(math.Round(max(-1, min(1, float64(v))) * math.MaxInt16))
}
