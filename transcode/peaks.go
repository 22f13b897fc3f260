package transcode

import (
	"encoding/binary"
	"errors"
	"io"
)

// peaksRate is the sample rate the waveform is measured at. A waveform drawing needs
// far less than the audio has, and fewer samples mean less to pipe and scan.
const peaksRate = 8000

// newPeakMeter measures n peaks of a decoded track of durationMS with
// channels interleaved channels at peaksRate. The duration fixes the slice
// each sample belongs to before the first sample arrives, so memory stays
// flat for long tracks.
func newPeakMeter(n int, durationMS int64, channels int) *peakMeter {
	return &peakMeter{peaks: make([]int, n), total: max(1, durationMS*peaksRate/1000*int64(channels))}
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
