package transcode

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	nineten "nineten.dev"
)

// peaksRate is the sample rate Peaks decodes at. A waveform drawing needs
// far less than the audio has, and fewer samples mean less to pipe and scan.
const peaksRate = 8000

// Peaks returns n waveform peaks of src, each the loudest sample, in any
// channel, of its slice of the track, scaled to 0–1000. The decoded audio
// streams through a pipe and is reduced as it comes, so memory stays flat
// for long tracks.
func (f *FFmpeg) Peaks(ctx context.Context, src string, n int) ([]int, error) {
	const op = "transcode.Peaks"
	if n <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the number of peaks must be positive")
	}
	src, err := absPath(op, src)
	if err != nil {
		return nil, err
	}
	// The duration fixes the slice each sample belongs to before the first
	// sample arrives.
	p, err := f.Probe(ctx, src)
	if err != nil {
		return nil, err
	}
	// Every channel is kept rather than mixed into one: a mixdown would
	// halve the peaks of an instrument panned hard to one side.
	channels := max(1, p.Channels)
	m := &peakMeter{
		peaks: make([]int, n),
		total: max(1, p.DurationMS*peaksRate/1000*int64(channels)),
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error"}
	args = append(args, f.threadArgs()...)
	args = append(args, "-i", src, "-map", "0:a:0", "-ac", strconv.Itoa(channels),
		"-ar", strconv.Itoa(peaksRate), "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1")
	stderr, err := f.run(ctx, f.FFmpegPath, args, m.consume)
	if err != nil {
		return nil, failure(op, "drawing the waveform", err, stderr)
	}
	return m.peaks, nil
}

// peakMeter keeps the loudest sample of each of len(peaks) equal slices of
// total samples. Channels are interleaved, so counting samples rather than
// frames puts each frame's samples in the same slice, give or take the
// frame that straddles a boundary.
type peakMeter struct {
	peaks []int
	total int64 // samples expected, from the probed duration
	seen  int64
}

// consume reads signed 16-bit little-endian samples until EOF.
func (m *peakMeter) consume(r io.Reader) error {
	buf := make([]byte, 32<<10) // even, so only the last read can split a sample
	for {
		k, err := io.ReadFull(r, buf)
		for i := 0; i+1 < k; i += 2 {
			m.add(int16(binary.LittleEndian.Uint16(buf[i:])))
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (m *peakMeter) add(s int16) {
	n := int64(len(m.peaks))
	// Samples past the probed duration (decoders pad a little) belong to
	// the last slice rather than nowhere.
	i := min(m.seen*n/m.total, n-1)
	m.seen++
	v := int(s)
	if v < 0 {
		v = -v
	}
	m.peaks[i] = max(m.peaks[i], min(1000, v*1000/32767))
}
