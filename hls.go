package nineten

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Segment is one media segment of an HLS media playlist and the span of the
// track it covers.
type Segment struct {
	URI     string // as written in the playlist, relative to it
	StartMS int64
	EndMS   int64
}

// ParseMediaPlaylist reads the segments of an HLS media playlist, turning the
// durations of its #EXTINF tags into spans of the track. Spans are rounded
// from the running total rather than summed after rounding, so they stay
// contiguous and do not drift over many segments.
func ParseMediaPlaylist(r io.Reader) ([]Segment, error) {
	const op = "nineten.ParseMediaPlaylist"
	var (
		segs    []Segment
		elapsed float64 // seconds before the next segment
		pending = -1.0  // duration of the segment whose URI comes next
		lineNo  int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if lineNo == 1 && line != "#EXTM3U" {
			return nil, E(op, KindInvalid, "the playlist does not start with #EXTM3U")
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXTINF:"):
			durText, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(strings.TrimSpace(durText), 64)
			if err != nil || d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
				return nil, E(op, KindInvalid,
					fmt.Sprintf("line %d has a bad segment duration %q", lineNo, durText))
			}
			pending = d
		case strings.HasPrefix(line, "#"):
			// Other tags do not change where segments fall in time.
		default:
			if pending < 0 {
				return nil, E(op, KindInvalid,
					fmt.Sprintf("line %d names %q without an #EXTINF duration; is this a master playlist?", lineNo, line))
			}
			segs = append(segs, Segment{
				URI:     line,
				StartMS: int64(math.Round(elapsed * 1000)),
				EndMS:   int64(math.Round((elapsed + pending) * 1000)),
			})
			elapsed += pending
			pending = -1
		}
	}
	if err := sc.Err(); err != nil {
		return nil, E(op, "cannot read the playlist", err)
	}
	if lineNo == 0 {
		return nil, E(op, KindInvalid, "the playlist is empty")
	}
	if pending >= 0 {
		return nil, E(op, KindInvalid, "the playlist ends with an #EXTINF that names no segment")
	}
	return segs, nil
}
