package demo

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// shortSong is quick to render: twelve seconds leave room for an intro,
// a few bars with drums and the ending.
func shortSong(seed uint64) *song {
	return &song{seed: seed, tonic: 62, bpm: 120, length: 12 * time.Second, chords: []int{0, 4, 5, 3}, style: synthwave}
}

func renderWAV(t *testing.T, s *song) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeWAV(&buf, s.render()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderIsDeterministic(t *testing.T) {
	a, b := renderWAV(t, shortSong(1)), renderWAV(t, shortSong(1))
	if !bytes.Equal(a, b) {
		t.Error("the same seed rendered different audio")
	}
	if c := renderWAV(t, shortSong(2)); bytes.Equal(a, c) {
		t.Error("different seeds rendered the same audio")
	}
}

func TestWAVHeader(t *testing.T) {
	s := shortSong(1)
	wav := renderWAV(t, s)
	le := binary.LittleEndian
	u16 := func(off int) int { return int(le.Uint16(wav[off:])) }
	u32 := func(off int) int { return int(le.Uint32(wav[off:])) }
	frames := 12 * sampleRate
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"RIFF id", string(wav[0:4]), "RIFF"},
		{"RIFF size", u32(4), len(wav) - 8},
		{"WAVE id", string(wav[8:12]), "WAVE"},
		{"fmt id", string(wav[12:16]), "fmt "},
		{"fmt size", u32(16), 16},
		{"format", u16(20), 1},
		{"channels", u16(22), 2},
		{"sample rate", u32(24), 48000},
		{"byte rate", u32(28), 48000 * 4},
		{"block align", u16(32), 4},
		{"bits", u16(34), 16},
		{"data id", string(wav[36:40]), "data"},
		{"data size", u32(40), frames * 4},
		{"file size", len(wav), 44 + frames*4},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// samples decodes the interleaved 16-bit samples of a WAV made by writeWAV.
func samples(wav []byte) []int16 {
	pcm := wav[44:]
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	return out
}

// TestCatalogueSounds checks every song of the catalogue: loud enough,
// never clipping, and shaped like music, with the strongest rhythm of its
// onsets repeating every bar.
func TestCatalogueSounds(t *testing.T) {
	for i := range catalogue {
		a := &catalogue[i]
		for n := range a.tracks {
			s := songOf(a, &a.tracks[n])
			t.Run(a.tracks[n].title, func(t *testing.T) {
				t.Parallel()
				pcm := samples(renderWAV(t, s))
				checkLevels(t, pcm)
				checkRhythm(t, pcm, s.bpm)
			})
		}
	}
}

func checkLevels(t *testing.T, pcm []int16) {
	t.Helper()
	var peak int
	var sum float64
	for _, v := range pcm {
		peak = max(peak, abs(int(v)))
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum/float64(len(pcm))) / math.MaxInt16
	t.Logf("peak %d, RMS %.1f dBFS", peak, 20*math.Log10(rms))
	if peak >= math.MaxInt16 {
		t.Errorf("peak %d: the audio clips", peak)
	}
	if rms < 0.08 {
		t.Errorf("RMS %.3f of full scale: the audio is too quiet", rms)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// checkRhythm looks at how loudness rises over time, in 10 ms steps. A
// piece of music's loudness varies a lot, and its rises (onsets) repeat
// with the bar: their autocorrelation at one bar must be strong, and weak
// half a sixteenth off it.
func checkRhythm(t *testing.T, pcm []int16, bpm float64) {
	t.Helper()
	const hop = sampleRate / 100 // frames
	var env []float64
	for i := 0; i+2*hop <= len(pcm); i += 2 * hop {
		var sum float64
		for _, v := range pcm[i : i+2*hop] {
			sum += float64(v) * float64(v)
		}
		env = append(env, math.Sqrt(sum/(2*hop)))
	}
	mean, sd := meanSD(env)
	if cv := sd / mean; cv < 0.3 {
		t.Errorf("loudness varies by %.2f of its mean; music varies more", cv)
	}
	onsets := make([]float64, len(env))
	for i := 1; i < len(env); i++ {
		onsets[i] = max(0, env[i]-env[i-1])
	}
	mean, _ = meanSD(onsets)
	autocorr := func(lag int) float64 {
		var s float64
		for i := 0; i+lag < len(onsets); i++ {
			s += (onsets[i] - mean) * (onsets[i+lag] - mean)
		}
		return s / float64(len(onsets)-lag)
	}
	beat := 60 / bpm * 100 // in 10 ms steps
	onBar := autocorr(int(4*beat+0.5)) / autocorr(0)
	offBar := autocorr(int(4*beat+beat/8+0.5)) / autocorr(0)
	t.Logf("onset autocorrelation: %.2f at one bar, %.2f half a sixteenth later", onBar, offBar)
	if onBar < 0.25 || offBar > onBar/3 {
		t.Errorf("onsets don't repeat with the bar: autocorrelation %.2f at one bar, %.2f half a sixteenth later", onBar, offBar)
	}
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}

func TestSoftClip(t *testing.T) {
	for _, x := range []float64{0, 0.3, -0.6} {
		if got := softClip(x); got != x {
			t.Errorf("softClip(%g) = %g; quiet samples must pass unchanged", x, got)
		}
	}
	prev := 0.6
	for x := 0.61; x < 20; x += 0.01 {
		got := softClip(x)
		if got > 1 || got < prev {
			t.Fatalf("softClip(%g) = %g; want rising, and at most 1", x, got)
		}
		if softClip(-x) != -got {
			t.Fatalf("softClip(%g) = %g, softClip(%g) = %g; want symmetry", x, got, -x, softClip(-x))
		}
		prev = got
	}
}

func TestSin1(t *testing.T) {
	for turns := -3.0; turns < 3; turns += 0.0137 {
		if got, want := sin1(turns), math.Sin(2*math.Pi*turns); math.Abs(got-want) > 1e-6 {
			t.Fatalf("sin1(%g) = %g, want %g", turns, got, want)
		}
	}
}
