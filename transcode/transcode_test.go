package transcode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	nineten "nineten.dev"
	"nineten.dev/transcode"
)

// The tests run the real ffmpeg on short files that ffmpeg itself makes
// from its lavfi test sources, so every format is exercised end to end.

var tags = nineten.Tags{
	Title:       "Song of Tests",
	Artist:      "The Fixtures",
	Album:       "Generated",
	TrackNumber: 3,
	Year:        2024,
	Genre:       "Electronic",
}

// tagArgs sets tags the way taggers write them: a track "of" a total and
// a full date.
var tagArgs = []string{
	"-metadata", "title=" + tags.Title,
	"-metadata", "artist=" + tags.Artist,
	"-metadata", "album=" + tags.Album,
	"-metadata", "track=3/12",
	"-metadata", "date=2024-05-01",
	"-metadata", "genre=" + tags.Genre,
}

func newFFmpeg(t testing.TB) *transcode.FFmpeg {
	t.Helper()
	f := transcode.New()
	// No skipping: a machine without ffmpeg cannot run 9ten, and CI must
	// say so rather than pass.
	if err := f.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	return f
}

// ffmpeg makes a fixture; args are everything after the global options.
func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making a fixture with ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Sources of test signals: a mono tone, and a stereo pair of tones so that
// the channels differ.
func mono(seconds string) []string {
	return []string{"-f", "lavfi", "-i", "sine=frequency=440:duration=" + seconds}
}

func stereo(seconds string) []string {
	return []string{
		"-f", "lavfi", "-i", "sine=frequency=440:duration=" + seconds,
		"-f", "lavfi", "-i", "sine=frequency=660:duration=" + seconds,
		"-filter_complex", "[0:a][1:a]amerge=inputs=2",
	}
}

func join(parts ...[]string) []string { return slices.Concat(parts...) }

// coverMP3 makes a tagged mono MP3 with a 320×240 red JPEG as cover art.
func coverMP3(t testing.TB, dir, seconds string) string {
	t.Helper()
	jpg := filepath.Join(dir, "cover.jpg")
	ffmpeg(t, "-f", "lavfi", "-i", "color=c=red:s=320x240", "-frames:v", "1", jpg)
	mp3 := filepath.Join(dir, "cover.mp3")
	ffmpeg(t, join(mono(seconds), []string{"-i", jpg, "-map", "0:a", "-map", "1:v", "-c:v", "copy",
		"-disposition:v", "attached_pic", "-c:a", "libmp3lame"}, tagArgs, []string{mp3})...)
	return mp3
}

func TestCheck(t *testing.T) {
	newFFmpeg(t)
	missing := &transcode.FFmpeg{FFmpegPath: "/nonexistent/ffmpeg", FFprobePath: "/nonexistent/ffprobe"}
	err := missing.Check(t.Context())
	if nineten.ErrorKind(err) != nineten.KindUnavailable {
		t.Fatalf("Check with no ffmpeg = %v, want KindUnavailable", err)
	}
	if !strings.Contains(nineten.ErrorMessage(err), "apt-get install ffmpeg") {
		t.Errorf("message %q does not tell the admin how to install ffmpeg", nineten.ErrorMessage(err))
	}
}

func TestProbe(t *testing.T) {
	f := newFFmpeg(t)
	// encode makes a tagged 6 s file named name from a signal.
	encode := func(name string, signal []string, codec ...string) func(*testing.T, string) string {
		return func(t *testing.T, dir string) string {
			path := filepath.Join(dir, name)
			ffmpeg(t, join(signal, tagArgs, codec, []string{path})...)
			return path
		}
	}
	tests := []struct {
		name           string
		make           func(t *testing.T, dir string) string
		format, codec  string
		rate, channels int
		cover          bool
	}{
		{"flac", encode("a.flac", stereo("6")), "flac", "flac", 44100, 2, false},
		{"mp3 with cover", func(t *testing.T, dir string) string { return coverMP3(t, dir, "6") }, "mp3", "mp3", 44100, 1, true},
		{"wav", encode("a.wav", stereo("6")), "wav", "pcm_s16le", 44100, 2, false},
		{"vorbis", encode("a.ogg", mono("6"), "-c:a", "libvorbis"), "ogg", "vorbis", 44100, 1, false},
		{"opus", encode("a.opus", stereo("6"), "-c:a", "libopus"), "ogg", "opus", 48000, 2, false},
		{"m4a", encode("a.m4a", mono("6"), "-c:a", "aac"), "mov,mp4,m4a,3gp,3g2,mj2", "aac", 44100, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.make(t, t.TempDir())
			p, err := f.Probe(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			if p.Format != tt.format || p.Codec != tt.codec {
				t.Errorf("format, codec = %q, %q; want %q, %q", p.Format, p.Codec, tt.format, tt.codec)
			}
			if p.SampleRate != tt.rate || p.Channels != tt.channels {
				t.Errorf("rate, channels = %d, %d; want %d, %d", p.SampleRate, p.Channels, tt.rate, tt.channels)
			}
			if d := p.DurationMS - 6000; d < -100 || d > 100 {
				t.Errorf("duration = %d ms, want 6000 ± 100", p.DurationMS)
			}
			if p.BitRate <= 0 {
				t.Errorf("bit rate = %d, want > 0", p.BitRate)
			}
			if p.Tags != tags {
				t.Errorf("tags = %+v\nwant %+v", p.Tags, tags)
			}
			if p.HasCover != tt.cover {
				t.Errorf("HasCover = %v, want %v", p.HasCover, tt.cover)
			}
		})
	}
}

// TestProbeEstimatedDuration covers raw AAC, whose duration ffprobe can only
// guess from the file size: Probe must measure it instead.
func TestProbeEstimatedDuration(t *testing.T) {
	f := newFFmpeg(t)
	path := filepath.Join(t.TempDir(), "raw.aac")
	ffmpeg(t, join(mono("6"), []string{"-c:a", "aac", path})...)
	p, err := f.Probe(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	// ADTS keeps the encoder's priming samples, about 23 ms at 44.1 kHz.
	if d := p.DurationMS - 6000; d < 0 || d > 100 {
		t.Errorf("duration = %d ms, want 6000 + up to 100", p.DurationMS)
	}
}

func TestProbeRejects(t *testing.T) {
	f := newFFmpeg(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	silentWAV := filepath.Join(dir, "nothing.wav")
	ffmpeg(t, "-f", "lavfi", "-i", "anullsrc", "-frames:a", "0", silentWAV)
	picture := filepath.Join(dir, "picture.png")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=s=64x64", "-frames:v", "1", picture)
	tests := []struct {
		name, path string
		kind       nineten.Kind
	}{
		{"text", write("notes.txt", "these are not the sounds you are looking for\n"), nineten.KindUnsupported},
		{"garbage", write("noise.mp3", strings.Repeat("\x00\x13\x37\xff", 4096)), nineten.KindUnsupported},
		{"image", picture, nineten.KindUnsupported},
		{"empty", write("empty.flac", ""), nineten.KindInvalid},
		{"no samples", silentWAV, nineten.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.Probe(t.Context(), tt.path)
			if err == nil {
				t.Fatalf("Probe = %+v, want an error", p)
			}
			if k := nineten.ErrorKind(err); k != tt.kind {
				t.Errorf("kind = %v, want %v (error: %v)", k, tt.kind, err)
			}
			if nineten.ErrorMessage(err) == "" {
				t.Errorf("error %v has no message for the user", err)
			}
		})
	}
}

func TestHLS(t *testing.T) {
	f := newFFmpeg(t)
	tests := []struct {
		name string
		make func(t *testing.T, dir string) string
	}{
		{"stereo flac", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "in.flac")
			ffmpeg(t, join(stereo("10"), []string{p})...)
			return p
		}},
		// Mono must come out stereo, and the cover must not become a stream.
		{"mono mp3 with cover", func(t *testing.T, dir string) string { return coverMP3(t, dir, "7") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := tt.make(t, t.TempDir())
			probe, err := f.Probe(t.Context(), src)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			var progress []int64
			hls, err := f.HLS(t.Context(), src, out, func(ms int64) { progress = append(progress, ms) })
			if err != nil {
				t.Fatal(err)
			}

			var names []string
			for _, r := range hls.Renditions {
				names = append(names, r.Name)
			}
			if want := []string{"opus64", "opus128", "aac96", "aac192"}; !slices.Equal(names, want) {
				t.Errorf("renditions = %v, want %v", names, want)
			}
			if hls.SegmentMS != 4000 {
				t.Errorf("SegmentMS = %d, want 4000", hls.SegmentMS)
			}
			for _, r := range hls.Renditions {
				checkRendition(t, out, r, probe.DurationMS)
			}
			checkMaster(t, out, "master.m3u8", hls.Renditions)
			checkMaster(t, out, "opus.m3u8", hls.Renditions[:2])
			checkMaster(t, out, "aac.m3u8", hls.Renditions[2:])
			preview := filepath.Join(out, "preview.mp3")
			pp, err := f.Probe(t.Context(), preview)
			if err != nil || pp.Codec != "mp3" {
				t.Fatalf("preview: %+v, %v", pp, err)
			}
			if want := min(probe.DurationMS, transcode.PreviewSeconds*1000); pp.DurationMS < want-150 || pp.DurationMS > want+150 {
				t.Errorf("preview lasts %d ms, want %d", pp.DurationMS, want)
			}

			if len(progress) == 0 {
				t.Fatal("progress was never reported")
			}
			for i := 1; i < len(progress); i++ {
				if progress[i] <= progress[i-1] {
					t.Fatalf("progress went from %d to %d ms", progress[i-1], progress[i])
				}
			}
			if last := progress[len(progress)-1]; last < probe.DurationMS-300 || last > probe.DurationMS {
				t.Errorf("progress ended at %d ms, want near %d", last, probe.DurationMS)
			}
		})
	}
}

func checkRendition(t *testing.T, out string, r nineten.Rendition, durationMS int64) {
	t.Helper()
	playlist, err := os.ReadFile(filepath.Join(out, r.Playlist))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(playlist, []byte(`#EXT-X-MAP:URI="init.mp4"`)) {
		t.Errorf("%s does not use init.mp4:\n%s", r.Playlist, playlist)
	}
	segs, err := nineten.ParseMediaPlaylist(bytes.NewReader(playlist))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 2 {
		t.Fatalf("%s has %d segments, want several", r.Playlist, len(segs))
	}
	for i, s := range segs {
		if want := "seg" + strconv.Itoa(i) + ".m4s"; s.URI != want {
			t.Errorf("segment %d is %q, want %q", i, s.URI, want)
		}
		if _, err := os.Stat(filepath.Join(out, r.Name, s.URI)); err != nil {
			t.Error(err)
		}
	}
	if d := segs[len(segs)-1].EndMS - durationMS; d < -150 || d > 150 {
		t.Errorf("%s lasts %d ms, want %d ± 150", r.Name, segs[len(segs)-1].EndMS, durationMS)
	}

	// A segment plays only after its init segment, as a player would feed it.
	init, err := os.ReadFile(filepath.Join(out, r.Name, "init.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(out, r.Name, "seg1.m4s"))
	if err != nil {
		t.Fatal(err)
	}
	joined := filepath.Join(t.TempDir(), r.Name+".mp4")
	if err := os.WriteFile(joined, append(init, seg...), 0o644); err != nil {
		t.Fatal(err)
	}
	streams := probeStreams(t, joined)
	if len(streams) != 1 {
		t.Fatalf("%s segment has %d streams, want only audio: %+v", r.Name, len(streams), streams)
	}
	if s := streams[0]; s.CodecName != r.Codec || s.Channels != 2 || s.SampleRate != "48000" {
		t.Errorf("%s segment is %s, %d channels at %s Hz; want %s, stereo at 48000 Hz",
			r.Name, s.CodecName, s.Channels, s.SampleRate, r.Codec)
	}
}

type stream struct {
	CodecName  string `json:"codec_name"`
	SampleRate string `json:"sample_rate"`
	Channels   int    `json:"channels"`
}

func probeStreams(t *testing.T, path string) []stream {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "ffprobe", "-v", "error", "-print_format", "json", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var info struct{ Streams []stream }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	return info.Streams
}

// checkMaster asserts that a master playlist lists exactly want, in order,
// with their codecs and a plausible bandwidth.
func checkMaster(t *testing.T, out, name string, want []nineten.Rendition) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	head := []string{"#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"}
	if len(lines) != len(head)+2*len(want) || !slices.Equal(lines[:len(head)], head) {
		t.Fatalf("%s:\n%s\nwant the header %q and %d variants", name, data, head, len(want))
	}
	for i, r := range want {
		inf, uri := lines[len(head)+2*i], lines[len(head)+2*i+1]
		if uri != r.Playlist {
			t.Errorf("%s variant %d is %q, want %q", name, i, uri, r.Playlist)
		}
		attrs, ok := strings.CutPrefix(inf, "#EXT-X-STREAM-INF:")
		if !ok || !strings.HasSuffix(attrs, `,CODECS="`+r.Codecs+`"`) {
			t.Errorf("%s variant %d: %q does not end with CODECS=%q", name, i, inf, r.Codecs)
		}
		bandwidthText, _, _ := strings.Cut(strings.TrimPrefix(attrs, "BANDWIDTH="), ",")
		bandwidth, err := strconv.Atoi(bandwidthText)
		if !strings.HasPrefix(attrs, "BANDWIDTH=") || err != nil {
			t.Fatalf("%s variant %d: %q does not start with a BANDWIDTH", name, i, inf)
		}
		// Loose bounds: they catch bytes for bits or seconds for
		// milliseconds, not an encoder's choices.
		if bandwidth < r.Bitrate/4 || bandwidth > r.Bitrate*3 {
			t.Errorf("%s: BANDWIDTH of %s = %d, want near %d", name, r.Name, bandwidth, r.Bitrate)
		}
	}
}

// TestHLSTruncated feeds HLS the first 30 % of valid files, whose headers
// still promise 10 s: a FLAC, cut mid-frame so that decoding fails, and an
// MP3, whose Xing header counts frames that are gone, which decodes
// without a complaint.
func TestHLSTruncated(t *testing.T) {
	f := newFFmpeg(t)
	for _, ext := range []string{"flac", "mp3"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			whole := filepath.Join(dir, "whole."+ext)
			ffmpeg(t, join(stereo("10"), []string{whole})...)
			data, err := os.ReadFile(whole)
			if err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(dir, "cut."+ext)
			if err := os.WriteFile(cut, data[:len(data)*3/10], 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = f.HLS(t.Context(), cut, t.TempDir(), nil)
			if err == nil {
				t.Fatal("HLS of a truncated file succeeded")
			}
			if k := nineten.ErrorKind(err); k != nineten.KindInvalid {
				t.Errorf("kind = %v, want %v (error: %v)", k, nineten.KindInvalid, err)
			}
			t.Logf("error: %v", err)
		})
	}
}

// TestHLSCanceled stops a transcode halfway, as a shutting-down worker
// would: ffmpeg must be stopped and the cancellation must show.
func TestHLSCanceled(t *testing.T) {
	f := newFFmpeg(t)
	src := filepath.Join(t.TempDir(), "in.flac")
	ffmpeg(t, join(stereo("10"), []string{src})...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := f.HLS(ctx, src, t.TempDir(), func(ms int64) {
		if ms > 1000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("HLS = %v, want context.Canceled", err)
	}
}

func TestPeaks(t *testing.T) {
	f := newFFmpeg(t)
	src := filepath.Join(t.TempDir(), "quiet-then-loud.wav")
	// 3 s of silence, then 3 s of a tone at 80 % of full scale.
	ffmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
		"-filter_complex", "[0:a]atrim=duration=3[quiet];[1:a]volume=6.4[loud];[quiet][loud]concat=n=2:v=0:a=1",
		src)
	out, err := f.HLS(t.Context(), src, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	peaks, n := out.Peaks, nineten.WaveformPeaks
	if len(peaks) != n {
		t.Fatalf("got %d peaks, want %d", len(peaks), n)
	}
	// The slices around the change at 3 s may catch the resampler's ringing.
	for i, p := range peaks {
		switch {
		case p < 0 || p > 1000:
			t.Errorf("peak %d = %d, out of 0–1000", i, p)
		case i < n/2-20 && p > 10:
			t.Errorf("peak %d = %d in the silent half, want ≈ 0", i, p)
		case i > n/2+20 && (p < 700 || p > 900):
			t.Errorf("peak %d = %d in the loud half, want ≈ 800", i, p)
		}
	}
}

func TestCover(t *testing.T) {
	f := newFFmpeg(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.png")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=s=1200x800", "-frames:v", "1", big)
	tall := filepath.Join(dir, "tall.webp")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=s=300x900", "-frames:v", "1", tall)
	tests := []struct {
		name    string
		src     string
		w6, h6  int // cover-600.jpg
		w2, h2  int // cover-200.jpg
		noCover bool
	}{
		{name: "mp3 cover, small: never upscaled", src: coverMP3(t, dir, "2"), w6: 320, h6: 240, w2: 200, h2: 150},
		{name: "png file", src: big, w6: 600, h6: 400, w2: 200, h2: 133},
		{name: "webp file", src: tall, w6: 200, h6: 600, w2: 67, h2: 200},
		{name: "no cover", src: flacWithoutCover(t, dir), noCover: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			ok, err := f.Cover(t.Context(), tt.src, out)
			if err != nil {
				t.Fatal(err)
			}
			if ok == tt.noCover {
				t.Fatalf("Cover = %v, want %v", ok, !tt.noCover)
			}
			if tt.noCover {
				if entries, _ := os.ReadDir(out); len(entries) != 0 {
					t.Errorf("Cover wrote %d files for a file without cover art", len(entries))
				}
				return
			}
			checkJPEG(t, filepath.Join(out, "cover-600.jpg"), tt.w6, tt.h6)
			checkJPEG(t, filepath.Join(out, "cover-200.jpg"), tt.w2, tt.h2)
		})
	}
}

func flacWithoutCover(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "plain.flac")
	ffmpeg(t, join(mono("2"), []string{p})...)
	return p
}

func checkJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	img, err := jpeg.Decode(file)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// Scalers may round an odd edge either way.
	if b := img.Bounds(); abs(b.Dx()-w) > 1 || abs(b.Dy()-h) > 1 {
		t.Errorf("%s is %dx%d, want %dx%d", filepath.Base(path), b.Dx(), b.Dy(), w, h)
	}
}

func abs(x int) int { return max(x, -x) }

func BenchmarkHLS(b *testing.B) {
	f := newFFmpeg(b)
	src := filepath.Join(b.TempDir(), "in.flac")
	ffmpeg(b, join(stereo("30"), []string{src})...)
	for b.Loop() {
		if _, err := f.HLS(b.Context(), src, b.TempDir(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
