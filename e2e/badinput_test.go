package e2e_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

func TestBadUploadsGetClearProblemsAndLeaveNothing(t *testing.T) {
	node := nodetest.Start(t, "--max-upload-mib", "1")
	artist, _ := signupArtist(t, node.URL, "bea", "Bea Noise")
	dir := t.TempDir()
	good := audiotest.Make(t, dir, audiotest.Spec{Name: "good.flac", Seconds: 3})

	pic := filepath.Join(dir, "cover.flac")
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	img.Set(1, 1, color.White)
	png.Encode(&buf, img)
	os.WriteFile(pic, buf.Bytes(), 0o600)
	text := filepath.Join(dir, "song.mp3")
	os.WriteFile(text, []byte(strings.Repeat("this is not music\n", 100)), 0o600)
	empty := filepath.Join(dir, "empty.wav")
	os.WriteFile(empty, nil, 0o600)
	big := audiotest.Make(t, dir, audiotest.Spec{Name: "big.wav", Seconds: 12}) // ~2.3 MB of PCM
	silentZero := filepath.Join(dir, "zero.wav")
	zeroWAV(t, silentZero)

	cases := []struct {
		name, path, filename, ctype string
		status                      int
		detail                      string
	}{
		{"picture named .flac", pic, "cover.flac", "", 415, "not audio"},
		{"text named .mp3", text, "song.mp3", "", 415, "not audio"},
		{"program extension", good, "setup.exe", "", 415, "not a supported audio file"},
		{"declared as an image", good, "good.flac", "image/png", 415, "image/png"},
		{"empty file", empty, "empty.wav", "", 422, "empty"},
		{"zero-length audio", silentZero, "zero.wav", "", 422, "no audio"},
		{"over the size limit", big, "big.wav", "", 413, "MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := artist.upload(c.path, c.filename, c.ctype)
			if r.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, r.Body)
			}
			p := r.problem(t)
			if !strings.Contains(fmt.Sprint(p["detail"]), c.detail) {
				t.Errorf("detail %q does not mention %q", p["detail"], c.detail)
			}
		})
	}

	t.Run("truncated audio never becomes a playable track", func(t *testing.T) {
		whole := audiotest.Make(t, dir, audiotest.Spec{Name: "whole.flac", Seconds: 20})
		cut := filepath.Join(dir, "cut.flac")
		audiotest.Truncate(t, whole, cut, 0.4)
		r := artist.uploadFile(cut)
		if r.StatusCode == 202 {
			var up struct{ Track track }
			r.decode(t, &up)
			tr := artist.waitTrack(up.Track.ID)
			if tr.Status != "failed" || tr.Error == "" {
				t.Fatalf("truncated upload ended %q (error %q), want failed with a reason", tr.Status, tr.Error)
			}
		} else if r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Fatalf("truncated upload answered %d: %s", r.StatusCode, r.Body)
		}
	})

	t.Run("path traversal in the file name", func(t *testing.T) {
		var up struct{ Track track }
		artist.must(artist.upload(good, "../../../../tmp/evil.flac", ""), 202, &up)
		if up.Track.Original.Filename != "evil.flac" {
			t.Errorf("stored filename %q, want evil.flac", up.Track.Original.Filename)
		}
		if tr := artist.waitTrack(up.Track.ID); tr.Status != "ready" {
			t.Errorf("good audio with a hostile name ended %q: %s", tr.Status, tr.Error)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(node.Data), "evil.flac")); err == nil {
			t.Error("a file escaped the data directory")
		}
	})

	t.Run("malformed requests", func(t *testing.T) {
		r := artist.do("POST", "/api/v1/uploads", strings.NewReader("x"), map[string][]string{"Content-Type": {"text/plain"}})
		if r.StatusCode != 415 {
			t.Errorf("non-multipart upload: %d", r.StatusCode)
		}
		r = artist.json("POST", "/api/v1/artists", map[string]any{"name": "X", "colour": "red"})
		if r.StatusCode != 422 || !strings.Contains(fmt.Sprint(r.problem(t)["detail"]), "colour") {
			t.Errorf("unknown field: %d %s", r.StatusCode, r.Body)
		}
		r = artist.do("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"`+strings.Repeat("a", 2<<20)+`"}`), map[string][]string{"Content-Type": {"application/json"}})
		if r.StatusCode != 413 {
			t.Errorf("oversized JSON: %d", r.StatusCode)
		}
		for _, path := range []string{"/api/v1/nope", "/favicon.ico", "/media/tracks/1/../../9ten.db"} {
			r = artist.json("GET", path, nil)
			if r.StatusCode != 404 {
				t.Errorf("GET %s: %d", path, r.StatusCode)
			}
			r.problem(t)
		}
	})

	// Of everything above, the public sees only the one good track.
	var p page
	anon := newClient(t, node.URL)
	anon.must(anon.json("GET", "/api/v1/tracks", nil), 200, &p)
	if p.Total != 1 || p.Items[0].Status != "ready" {
		t.Errorf("public track list after bad uploads: %+v", p)
	}
	for _, sub := range []string{"scratch/uploads", "scratch/work"} {
		entries, _ := os.ReadDir(filepath.Join(node.Data, sub))
		if len(entries) != 0 {
			t.Errorf("%s holds leftovers: %v", sub, entries)
		}
	}
}

// zeroWAV writes a valid WAV header with no samples.
func zeroWAV(t *testing.T, path string) {
	h := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x80\xbb\x00\x00\x00\xee\x02\x00\x04\x00\x10\x00data\x00\x00\x00\x00")
	if err := os.WriteFile(path, h, 0o600); err != nil {
		t.Fatal(err)
	}
}
