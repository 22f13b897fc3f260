package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tools returns the paths of ffmpeg and ffprobe, skipping the test when
// they are not installed.
func tools(t *testing.T) (ffmpeg, ffprobe string) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg is not installed")
	}
	ffprobe, err = exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe is not installed")
	}
	return ffmpeg, ffprobe
}

// probed is the part of ffprobe's JSON that the tests read.
type probed struct {
	Streams []struct {
		CodecName   string            `json:"codec_name"`
		CodecType   string            `json:"codec_type"`
		SampleRate  string            `json:"sample_rate"`
		Channels    int               `json:"channels"`
		Disposition map[string]int    `json:"disposition"`
		Tags        map[string]string `json:"tags"`
	} `json:"streams"`
	Format struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

func probe(t *testing.T, ffprobe, path string) *probed {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return &p
}

// want is what ffprobe must find in a file of each format.
var want = map[string]struct{ container, codec string }{
	"flac": {"flac", "flac"},
	"mp3":  {"mp3", "mp3"},
	"ogg":  {"ogg", "vorbis"},
	"opus": {"ogg", "opus"},
	"m4a":  {"mov,mp4,m4a,3gp,3g2,mj2", "aac"},
	"wav":  {"wav", "pcm_s16le"},
}

func TestGenerate(t *testing.T) {
	ffmpeg, ffprobe := tools(t)
	dir := t.TempDir()
	var calls []string
	start := time.Now()
	files, err := Generate(t.Context(), dir, ffmpeg, func(done, total int) {
		calls = append(calls, fmt.Sprintf("%d/%d", done, total))
	})
	if err != nil {
		t.Fatal(err)
	}
	var audio time.Duration
	var size int64
	for _, f := range files {
		info, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		size += info.Size()
	}
	for _, a := range catalogue {
		for _, tr := range a.tracks {
			audio += tr.song.length
		}
	}
	t.Logf("Generate made %v of audio in %d files, %.1f MB, in %v", audio, len(files), float64(size)/1e6, time.Since(start).Round(time.Millisecond))

	if want := []string{"1/9", "2/9", "3/9", "4/9", "5/9", "6/9", "7/9", "8/9", "9/9"}; !slices.Equal(calls, want) {
		t.Errorf("progress calls %v, want %v", calls, want)
	}
	if len(files) != 9 {
		t.Fatalf("Generate returned %d files, want 9", len(files))
	}
	formats := map[string]bool{}
	artists := map[string]bool{}
	k := 0
	for _, a := range catalogue {
		artists[a.artist.Name] = true
		for _, tr := range a.tracks {
			f := files[k]
			k++
			formats[f.Format] = true
			t.Run(tr.title, func(t *testing.T) {
				t.Parallel()
				checkFile(t, ffprobe, f, tr.song.length)
			})
		}
	}
	if got := slices.Sorted(maps.Keys(formats)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("formats %v, want every one of %v", got, slices.Sorted(maps.Keys(want)))
	}
	for _, a := range Artists() {
		if !artists[a.Name] || a.Bio == "" {
			t.Errorf("artist %+v is not one of the catalogue's, or has no bio", a)
		}
	}
}

func checkFile(t *testing.T, ffprobe string, f File, length time.Duration) {
	p := probe(t, ffprobe, f.Path)
	w := want[f.Format]
	if p.Format.FormatName != w.container {
		t.Errorf("container %q, want %q", p.Format.FormatName, w.container)
	}
	tags := map[string]string{}
	var audio, pictures int
	for _, s := range p.Streams {
		switch s.CodecType {
		case "audio":
			audio++
			if s.CodecName != w.codec || s.SampleRate != "48000" || s.Channels != 2 {
				t.Errorf("audio stream %s %s Hz × %d, want %s 48000 Hz × 2", s.CodecName, s.SampleRate, s.Channels, w.codec)
			}
			// Ogg keeps tags per stream, other containers per file.
			for k, v := range s.Tags {
				tags[strings.ToLower(k)] = v
			}
		case "video":
			if s.Disposition["attached_pic"] == 1 {
				pictures++
			}
		}
	}
	for k, v := range p.Format.Tags {
		tags[strings.ToLower(k)] = v
	}
	if audio != 1 {
		t.Errorf("%d audio streams, want 1", audio)
	}
	if want := map[bool]int{true: 1, false: 0}[f.HasCover]; pictures != want {
		t.Errorf("%d attached pictures, want %d", pictures, want)
	}
	for key, value := range map[string]string{
		"title":  f.Tags.Title,
		"artist": f.Tags.Artist,
		"album":  f.Tags.Album,
		"track":  fmt.Sprintf("%d/3", f.Tags.TrackNumber),
		"date":   strconv.Itoa(f.Tags.Year),
		"genre":  f.Tags.Genre,
	} {
		if tags[key] != value {
			t.Errorf("tag %s = %q, want %q", key, tags[key], value)
		}
	}
	secs, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("duration %q: %v", p.Format.Duration, err)
	}
	if d := time.Duration(secs * float64(time.Second)); (d - length).Abs() > 200*time.Millisecond {
		t.Errorf("duration %v, want %v ± 200ms", d, length)
	}
}

func TestGenerateCancelled(t *testing.T) {
	ffmpeg, _ := tools(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), ffmpeg, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestGenerateWithoutFFmpeg(t *testing.T) {
	_, err := Generate(t.Context(), t.TempDir(), "/nonexistent/ffmpeg", nil)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/ffmpeg") {
		t.Errorf("Generate with a missing ffmpeg: %v, want an error naming it", err)
	}
}
