package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	nineten "nineten.dev"
)

// probeJSON is the part of `ffprobe -print_format json` that we read.
// ffprobe prints most numbers as strings, and "N/A" when it does not know.
type probeJSON struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		BitRate    string            `json:"bit_rate"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

type probeStream struct {
	Index       int               `json:"index"`
	CodecName   string            `json:"codec_name"`
	CodecType   string            `json:"codec_type"`
	SampleRate  string            `json:"sample_rate"`
	Channels    int               `json:"channels"`
	Duration    string            `json:"duration"`
	BitRate     string            `json:"bit_rate"`
	Disposition map[string]int    `json:"disposition"`
	Tags        map[string]string `json:"tags"`
}

// pictureCodecs are the codecs of cover art and of the image files that
// Cover accepts in place of audio.
var pictureCodecs = map[string]bool{"mjpeg": true, "png": true, "webp": true}

// isPicture tells cover art from real video, which 9ten ignores.
func (s *probeStream) isPicture() bool {
	return s.Disposition["attached_pic"] == 1 ||
		(s.CodecType == "video" && pictureCodecs[s.CodecName])
}

func (p *probeJSON) audio() *probeStream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == "audio" {
			return &p.Streams[i]
		}
	}
	return nil
}

func (p *probeJSON) picture() *probeStream {
	for i := range p.Streams {
		if p.Streams[i].isPicture() {
			return &p.Streams[i]
		}
	}
	return nil
}

// estimatedDuration is what ffprobe warns when it guesses a duration from
// the file size, as it does for MP3s without a Xing header and raw AAC; such
// guesses can be off by seconds.
const estimatedDuration = "Estimating duration from bitrate"

// ffprobe reads the streams and format of the file at abs. It also reports
// whether ffprobe's duration is only an estimate.
func (f *FFmpeg) ffprobe(ctx context.Context, op, abs string) (*probeJSON, bool, error) {
	var info probeJSON
	args := []string{"-hide_banner", "-loglevel", "warning", "-print_format", "json", "-show_format", "-show_streams", abs}
	stderr, err := f.run(ctx, f.FFprobePath, args, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(&info)
	})
	if err != nil {
		var se *startError
		if errors.As(err, &se) {
			return nil, false, nineten.E(op, nineten.KindUnavailable, "ffprobe cannot run; "+installHint, err)
		}
		if ctx.Err() != nil {
			return nil, false, nineten.E(op, err)
		}
		if stderr.String() != "" {
			err = fmt.Errorf("%w; ffprobe said: %s", err, stderr.lastLines(3))
		}
		return nil, false, nineten.E(op, nineten.KindUnsupported,
			"the file is not audio we can read: its format is unknown or it is damaged", err)
	}
	return &info, strings.Contains(stderr.String(), estimatedDuration), nil
}

// Probe reads what 9ten needs to know of an uploaded file. Its duration is
// exact: when ffprobe can only guess, Probe decodes the file to measure it,
// because the catalog shows it and HLS checks its output against it.
func (f *FFmpeg) Probe(ctx context.Context, path string) (*nineten.Probe, error) {
	const op = "transcode.Probe"
	abs, err := absPath(op, path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, nineten.E(op, "cannot read the uploaded file", err)
	}
	if st.Size() == 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the file is empty")
	}
	info, estimated, err := f.ffprobe(ctx, op, abs)
	if err != nil {
		return nil, err
	}
	a := info.audio()
	if a == nil {
		return nil, nineten.E(op, nineten.KindUnsupported, "the file is not audio we can read: it has no sound in it")
	}
	durMS, ok := secondsToMS(info.Format.Duration)
	if !ok {
		durMS, ok = secondsToMS(a.Duration)
	}
	if !ok || estimated {
		if durMS, err = f.decodedMS(ctx, op, abs); err != nil {
			return nil, err
		}
	}
	if durMS <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the file contains no audio: its duration is zero")
	}
	bitRate, err := strconv.ParseInt(a.BitRate, 10, 64)
	if err != nil {
		bitRate, _ = strconv.ParseInt(info.Format.BitRate, 10, 64)
	}
	sampleRate, _ := strconv.Atoi(a.SampleRate)
	return &nineten.Probe{
		Format:     info.Format.FormatName,
		Codec:      a.CodecName,
		DurationMS: durMS,
		SampleRate: sampleRate,
		Channels:   a.Channels,
		BitRate:    bitRate,
		Tags:       parseTags(info.Format.Tags, a.Tags),
		HasCover:   info.picture() != nil,
	}, nil
}

// decodedMS measures the duration of the first audio stream by decoding it
// all, for files whose headers do not tell.
func (f *FFmpeg) decodedMS(ctx context.Context, op, abs string) (int64, error) {
	var last int64
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
		"-i", abs, "-map", "0:a:0", "-f", "null", "-"}
	stderr, err := f.run(ctx, f.FFmpegPath, args, func(r io.Reader) error {
		return readProgress(r, func(ms int64) { last = ms })
	})
	if err != nil {
		return 0, failure(op, "measuring the duration", err, stderr)
	}
	return last, nil
}

// secondsToMS parses a duration in seconds as ffprobe prints it.
func secondsToMS(s string) (int64, bool) {
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 {
		return 0, false
	}
	return int64(math.Round(sec * 1000)), true
}

// parseTags merges container tags with the audio stream's: MP3, MP4 and
// FLAC keep tags in the container, Ogg (Vorbis, Opus) in the stream. Keys
// are compared case-insensitively because Vorbis comments are upper case.
func parseTags(format, stream map[string]string) nineten.Tags {
	tags := map[string]string{}
	for _, m := range []map[string]string{stream, format} {
		for k, v := range m {
			if v = strings.TrimSpace(v); v != "" {
				tags[strings.ToLower(k)] = v
			}
		}
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := tags[k]; v != "" {
				return v
			}
		}
		return ""
	}
	return nineten.Tags{
		Title:       first("title"),
		Artist:      first("artist", "album_artist", "albumartist"),
		Album:       first("album"),
		TrackNumber: leadingInt(first("track", "tracknumber")),
		Year:        year(first("date", "year", "originaldate")),
		Genre:       first("genre"),
	}
}

// leadingInt reads the number that starts s, so that "3/12" (track 3 of
// 12) gives 3. It returns 0 when s does not start with a digit.
func leadingInt(s string) int {
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(s)
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// year reads the year from dates such as "2024", "2024-05-01" or
// "2024-05-01T10:00:00Z".
func year(date string) int {
	if len(date) < 4 {
		return 0
	}
	y := leadingInt(date[:4])
	if y < 1000 {
		return 0
	}
	return y
}
