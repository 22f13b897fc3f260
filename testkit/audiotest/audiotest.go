// Package audiotest makes real audio files for tests with ffmpeg's
// synthesizers: a tone chord of any length, in any supported format, with
// tags and optionally an embedded cover picture.
package audiotest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Spec describes a file to make.
type Spec struct {
	Name                        string  // file name, its extension picks the format: .flac .mp3 .wav .ogg .opus .m4a
	Seconds                     float64 // length
	Title, Artist, Album, Genre string
	Track                       string // e.g. "2/9"
	Date                        string // e.g. "2024"
	Cover                       bool   // embed a picture (flac, mp3, m4a)
}

// Make writes the file into dir and returns its path.
func Make(t testing.TB, dir string, s Spec) string {
	t.Helper()
	path := filepath.Join(dir, s.Name)
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:duration=%g:sample_rate=48000", s.Seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=554.37:duration=%g:sample_rate=48000", s.Seconds),
	}
	if s.Cover {
		args = append(args, "-f", "lavfi", "-i", "testsrc=size=320x320:rate=1:duration=1")
	}
	args = append(args, "-filter_complex", "[0:a][1:a]amerge=inputs=2,volume=0.5[a]", "-map", "[a]")
	ext := filepath.Ext(s.Name)
	if s.Cover {
		args = append(args, "-map", "2:v", "-frames:v", "1", "-disposition:v", "attached_pic")
		switch ext {
		case ".mp3":
			args = append(args, "-c:v", "mjpeg", "-id3v2_version", "3")
		case ".m4a":
			args = append(args, "-c:v", "mjpeg")
		default:
			args = append(args, "-c:v", "png")
		}
	}
	switch ext {
	case ".flac":
		args = append(args, "-c:a", "flac")
	case ".mp3":
		args = append(args, "-c:a", "libmp3lame", "-b:a", "128k")
	case ".wav":
		args = append(args, "-c:a", "pcm_s16le")
	case ".ogg":
		args = append(args, "-c:a", "libvorbis", "-q:a", "3")
	case ".opus":
		args = append(args, "-c:a", "libopus", "-b:a", "96k")
	case ".m4a":
		args = append(args, "-c:a", "aac", "-b:a", "128k")
	default:
		t.Fatalf("audiotest: unknown format %q", ext)
	}
	for k, v := range map[string]string{"title": s.Title, "artist": s.Artist, "album": s.Album, "genre": s.Genre, "track": s.Track, "date": s.Date} {
		if v != "" {
			args = append(args, "-metadata", k+"="+v)
		}
	}
	args = append(args, path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg making %s: %v\n%s", s.Name, err, out)
	}
	return path
}

// Truncate writes the first fraction of src's bytes to dst, making a
// corrupt file.
func Truncate(t testing.TB, src, dst string, fraction float64) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b[:int(float64(len(b))*fraction)], 0o600); err != nil {
		t.Fatal(err)
	}
}
