package transcode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// PreviewSeconds is the length of the MP3 preview HLS writes beside the
// renditions (as "preview.mp3").
const PreviewSeconds = 30

// renditions is the ladder every track is streamed in, in the order
// HLSOutput lists it. Opus sounds better per bit; AAC is there for the
// players (older Safari) that cannot play Opus in fMP4.
var renditions = []nineten.Rendition{
	{Name: "opus64", Codec: "opus", Codecs: "opus", Bitrate: 64_000, Playlist: "opus64/index.m3u8"},
	{Name: "opus128", Codec: "opus", Codecs: "opus", Bitrate: 128_000, Playlist: "opus128/index.m3u8"},
	{Name: "aac96", Codec: "aac", Codecs: "mp4a.40.2", Bitrate: 96_000, Playlist: "aac96/index.m3u8"},
	{Name: "aac192", Codec: "aac", Codecs: "mp4a.40.2", Bitrate: 192_000, Playlist: "aac192/index.m3u8"},
}

// encoders maps a rendition's codec to the ffmpeg encoder that makes it.
var encoders = map[string]string{"opus": "libopus", "aac": "aac"}

// masters are the master playlists HLS writes, each with the renditions of
// the codecs it names; a player that knows what it can decode asks for
// opus.m3u8 or aac.m3u8 and skips variants it would reject anyway.
var masters = []struct {
	file   string
	codecs []string
}{
	{"master.m3u8", []string{"opus", "aac"}},
	{"opus.m3u8", []string{"opus"}},
	{"aac.m3u8", []string{"aac"}},
}

// HLS encodes src into every rendition in one ffmpeg run, so the source is
// read and decoded once, then writes the master playlists itself.
//
// It fails with KindInvalid when the output is clearly shorter than the
// probed duration. Damaged files often decode "successfully" up to the
// damage, and ffmpeg's -xerror would instead reject files with a single
// glitch that play fine everywhere, so the length of what we produced is the
// test that matters.
func (f *FFmpeg) HLS(ctx context.Context, src, outDir string, progress func(doneMS int64)) (*nineten.HLSOutput, error) {
	const op = "transcode.HLS"
	start := time.Now()
	src, err := absPath(op, src)
	if err != nil {
		return nil, err
	}
	if outDir, err = absPath(op, outDir); err != nil {
		return nil, err
	}
	p, err := f.Probe(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, r := range renditions {
		if err := os.MkdirAll(filepath.Join(outDir, r.Name), 0o755); err != nil {
			return nil, nineten.E(op, "cannot create the output directory", err)
		}
	}
	// The waveform comes from the same decode as the renditions: decoded
	// samples stream out on stdout, progress on a pipe of its own (fd 3).
	channels := max(1, p.Channels)
	meter := newPeakMeter(nineten.WaveformPeaks, p.DurationMS, channels)
	progR, progW, err := os.Pipe()
	if err != nil {
		return nil, nineten.E(op, err)
	}
	progDone := make(chan struct{})
	go func() {
		defer close(progDone)
		_ = readProgress(progR, func(ms int64) {
			if progress != nil {
				// Codec delay makes the output a few ms longer than the
				// source; 100 % is the most anyone should see.
				progress(min(ms, p.DurationMS))
			}
		})
		_, _ = io.Copy(io.Discard, progR)
		progR.Close()
	}()
	stderr, err := f.run(ctx, f.FFmpegPath, f.hlsArgs(src, outDir, channels), meter.consume, progW)
	<-progDone
	if err != nil {
		return nil, failure(op, "converting the audio for streaming", err, stderr)
	}

	segMS := f.segmentDuration().Milliseconds()
	bandwidth := make(map[string]bandwidths, len(renditions))
	for _, r := range renditions {
		segs, err := readPlaylist(filepath.Join(outDir, r.Playlist))
		if err != nil {
			return nil, nineten.E(op, "ffmpeg wrote an unreadable playlist for "+r.Name, err)
		}
		if err := checkComplete(op, segs, p.DurationMS, stderr); err != nil {
			return nil, err
		}
		if bandwidth[r.Name], err = measure(filepath.Join(outDir, r.Name), segs, segMS); err != nil {
			return nil, nineten.E(op, "cannot measure the segments of "+r.Name, err)
		}
	}
	for _, m := range masters {
		if err := writeMaster(filepath.Join(outDir, m.file), m.codecs, bandwidth); err != nil {
			return nil, nineten.E(op, "cannot write "+m.file, err)
		}
	}
	if stderr.String() != "" {
		slog.WarnContext(ctx, "ffmpeg complained but produced the whole track", "src", src, "stderr", stderr.lastLines(5))
	}
	slog.InfoContext(ctx, "transcoded for streaming", "src", src, "duration_ms", p.DurationMS, "took", time.Since(start))
	return &nineten.HLSOutput{Renditions: slices.Clone(renditions), SegmentMS: segMS, Peaks: meter.peaks}, nil
}

// hlsArgs builds the ffmpeg command line: one input and one HLS output per
// rendition. A single HLS output with -var_stream_map would do too, but
// ffmpeg 5.1 then insists on numbering the init segments (init_0.mp4) or
// nesting them one directory deeper, while separate outputs write exactly
// <name>/init.mp4 next to <name>/index.m3u8.
func (f *FFmpeg) hlsArgs(src, outDir string, channels int) []string {
	stereo := []string{"-ac", "2"}
	if channels == 1 {
		// ffmpeg's own upmix puts mono in the centre at -3 dB; copying it
		// to both sides keeps the level the artist mastered.
		stereo = []string{"-af", "pan=stereo|c0=c0|c1=c0"}
	}
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:3"}
	args = append(args, f.threadArgs()...)
	args = append(args, "-i", src)
	segSeconds := strconv.FormatFloat(f.segmentDuration().Seconds(), 'f', -1, 64)
	for _, r := range renditions {
		dir := filepath.Join(outDir, r.Name)
		args = append(args,
			// Only the first audio stream: cover art and video are dropped,
			// and so are tags, which the catalog keeps (and artists edit).
			"-map", "0:a:0", "-map_metadata", "-1",
			"-c:a", encoders[r.Codec], "-b:a", strconv.Itoa(r.Bitrate/1000)+"k",
			// Every rendition is stereo at 48 kHz, Opus's native rate, so
			// players can switch between them without a glitch.
			"-ar", "48000")
		args = append(args, stereo...)
		args = append(args, f.threadArgs()...)
		args = append(args,
			"-f", "hls",
			"-hls_time", segSeconds,
			"-hls_playlist_type", "vod",
			"-hls_segment_type", "fmp4",
			"-hls_fmp4_init_filename", "init.mp4",
			"-hls_flags", "independent_segments",
			// The segment name is a pattern: a % in the directory must not
			// be taken for part of it.
			"-hls_segment_filename", filepath.Join(strings.ReplaceAll(dir, "%", "%%"), "seg%d.m4s"),
			filepath.Join(dir, "index.m3u8"))
	}
	// A 30-second MP3 preview from the same decode: what microblogging
	// servers (Mastodon, GoToSocial) can play as an attachment whatever
	// the original's format or size.
	args = append(args, "-map", "0:a:0", "-map_metadata", "-1", "-t", strconv.Itoa(PreviewSeconds),
		"-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-ac", "2", filepath.Join(outDir, "preview.mp3"))
	// Every channel is kept for the waveform rather than mixed into one: a
	// mixdown would halve the peaks of an instrument panned hard to one side.
	return append(args, "-map", "0:a:0", "-ac", strconv.Itoa(channels),
		"-ar", strconv.Itoa(peaksRate), "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1")
}

// readProgress consumes ffmpeg's -progress output and calls report with
// each position, in milliseconds, that is later than the last one.
func readProgress(r io.Reader, report func(ms int64)) error {
	var last int64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "out_time_us=")
		if !ok {
			continue
		}
		// Before the first frame ffmpeg prints N/A or a negative time.
		us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || us/1000 <= last {
			continue
		}
		last = us / 1000
		report(last)
	}
	return sc.Err()
}

func readPlaylist(path string) ([]nineten.Segment, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return nineten.ParseMediaPlaylist(file)
}

// checkComplete fails when a rendition is shorter than the source by more
// than 1 s or 2 %, whichever is more: encoders pad and trim a few
// milliseconds, but a damaged or cut-off upload loses far more. A longer
// output is not checked, as it loses nothing.
func checkComplete(op string, segs []nineten.Segment, wantMS int64, stderr *tail) error {
	var gotMS int64
	if len(segs) > 0 {
		gotMS = segs[len(segs)-1].EndMS
	}
	if wantMS-gotMS <= max(1000, wantMS/50) {
		return nil
	}
	msg := fmt.Sprintf("the file seems damaged or cut off: only %s of its %s could be decoded",
		formatMS(gotMS), formatMS(wantMS))
	if stderr.String() == "" {
		// A file cut at a frame boundary decodes without a complaint.
		return nineten.E(op, nineten.KindInvalid, msg)
	}
	return nineten.E(op, nineten.KindInvalid, msg, fmt.Errorf("ffmpeg said: %s", stderr.lastLines(5)))
}

func formatMS(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
}

// bandwidths are a rendition's peak and average bit rates, for the
// BANDWIDTH and AVERAGE-BANDWIDTH attributes of a master playlist.
type bandwidths struct{ peak, average int64 }

// measure computes the bit rates of a rendition from its segment files.
// The peak skips a last segment shorter than half the target: its fragment
// header weighs so much against its few milliseconds of audio that it would
// claim a bit rate no part of the stream needs.
func measure(dir string, segs []nineten.Segment, segMS int64) (bandwidths, error) {
	var bw bandwidths
	var totalBits, totalMS int64
	for i, s := range segs {
		st, err := os.Stat(filepath.Join(dir, s.URI))
		if err != nil {
			return bw, err
		}
		ms := s.EndMS - s.StartMS
		if ms <= 0 {
			continue
		}
		bits := st.Size() * 8
		totalBits += bits
		totalMS += ms
		if i < len(segs)-1 || ms >= segMS/2 || len(segs) == 1 {
			bw.peak = max(bw.peak, bits*1000/ms)
		}
	}
	if totalMS > 0 {
		bw.average = totalBits * 1000 / totalMS
	}
	return bw, nil
}

// writeMaster writes a master playlist of the renditions of the given
// codecs. ffmpeg can write one, but only from nominal bit rates and only
// with every variant in it.
func writeMaster(path string, codecs []string, bw map[string]bandwidths) error {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, r := range renditions {
		if !slices.Contains(codecs, r.Codec) {
			continue
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=\"%s\"\n%s\n",
			bw[r.Name].peak, bw[r.Name].average, r.Codecs, r.Playlist)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
