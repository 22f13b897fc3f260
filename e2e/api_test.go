// Package e2e_test drives real 9ten nodes (the built binary, real SQLite,
// real ffmpeg) over real HTTP on loopback, as users and players would.
package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/listen"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

func TestTrackFromUploadToVerifiedListen(t *testing.T) {
	node := nodetest.Start(t, "--listen-threshold", "2s")
	artist, _ := signupArtist(t, node.URL, "ada", "Ada Tone")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{
		Name: "chord.flac", Seconds: 10, Title: "First Chord", Album: "Test Album",
		Genre: "Ambient", Track: "3/9", Date: "2024-05-01", Cover: true,
	})

	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	if up.Track.Status != "processing" || up.Track.Title != "First Chord" {
		t.Fatalf("upload answered %+v, want a processing track titled from its tags", up.Track)
	}
	anon := newClient(t, node.URL)
	if r := anon.json("GET", fmt.Sprintf("/api/v1/tracks/%d", up.Track.ID), nil); r.StatusCode != 404 {
		t.Errorf("a processing track is visible to the public: %d", r.StatusCode)
	}

	tr := artist.waitTrack(up.Track.ID)
	if tr.Status != "ready" {
		t.Fatalf("track ended %q: %s", tr.Status, tr.Error)
	}
	if tr.Album != "Test Album" || tr.TrackNumber != 3 || tr.Year != 2024 || tr.Genre != "Ambient" || tr.Artist != "Ada Tone" {
		t.Errorf("tags not read: %+v", tr)
	}
	if tr.DurationMS < 9900 || tr.DurationMS > 10100 {
		t.Errorf("duration_ms = %d, want ~10000", tr.DurationMS)
	}
	if tr.CoverURL == nil || tr.Original.MIMEType != "audio/flac" || tr.Original.Filename != "chord.flac" {
		t.Errorf("cover or original wrong: %+v", tr)
	}

	t.Run("catalog", func(t *testing.T) {
		var p page
		anon.must(anon.json("GET", "/api/v1/tracks", nil), 200, &p)
		if p.Total != 1 || p.Items[0].ID != tr.ID || p.Items[0].HLSURL == "" || p.Items[0].OriginalURL == "" {
			t.Errorf("track list = %+v", p)
		}
		for _, q := range []string{"firs", "test alb", "ambient", "ada"} {
			anon.must(anon.json("GET", "/api/v1/tracks?q="+strings.ReplaceAll(q, " ", "+"), nil), 200, &p)
			if p.Total != 1 {
				t.Errorf("search %q found %d tracks, want 1", q, p.Total)
			}
		}
		anon.must(anon.json("GET", "/api/v1/tracks?q=zebra", nil), 200, &p)
		if p.Total != 0 {
			t.Errorf("search zebra found %d", p.Total)
		}
		var album struct {
			Title  string
			Tracks []track
		}
		anon.must(anon.json("GET", fmt.Sprintf("/api/v1/albums/%d", *tr.AlbumID), nil), 200, &album)
		if album.Title != "Test Album" || len(album.Tracks) != 1 {
			t.Errorf("album = %+v", album)
		}

		// The artist replaces the album's cover with a picture of their own.
		pic := filepath.Join(t.TempDir(), "new-cover.png")
		img := image.NewRGBA(image.Rect(0, 0, 900, 900))
		for i := range img.Pix {
			img.Pix[i] = 200
		}
		f, _ := os.Create(pic)
		png.Encode(f, img)
		f.Close()
		coverPath := fmt.Sprintf("/api/v1/albums/%d/cover", *tr.AlbumID)
		var withCover struct {
			CoverURL *string `json:"cover_url"`
		}
		artist.must(artist.multipart("PUT", coverPath, pic, "new-cover.png", "image/png"), 200, &withCover)
		if withCover.CoverURL == nil {
			t.Fatal("album has no cover_url after upload")
		}
		cover := anon.do("GET", *withCover.CoverURL, nil, nil)
		if got, err := jpeg.DecodeConfig(bytes.NewReader(cover.Body)); err != nil || got.Width != 600 {
			t.Errorf("new cover: %v, %+v", err, got)
		}
		if r := artist.multipart("PUT", coverPath, src, "chord.flac", ""); r.StatusCode != 415 {
			t.Errorf("audio as a cover answered %d", r.StatusCode)
		}
		stranger, _ := signupArtist(t, node.URL, "sly", "Sly Stranger")
		if r := stranger.multipart("PUT", coverPath, pic, "x.png", "image/png"); r.StatusCode != 403 {
			t.Errorf("another artist's cover change answered %d", r.StatusCode)
		}
	})

	t.Run("media", func(t *testing.T) {
		r := anon.do("GET", tr.HLSURL, nil, nil)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
			t.Fatalf("master playlist: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
		}
		master := string(r.Body)
		if strings.Count(master, `CODECS="opus"`) != 2 || strings.Count(master, `CODECS="mp4a.40.2"`) != 2 {
			t.Errorf("master playlist lacks two Opus and two AAC renditions:\n%s", master)
		}
		r = anon.do("GET", tr.HLSOpusURL, nil, nil)
		if strings.Contains(string(r.Body), "mp4a") || !strings.Contains(string(r.Body), "opus") {
			t.Errorf("opus playlist:\n%s", r.Body)
		}
		segs := variantSegments(t, anon, tr.ID, "opus128")
		if last := segs[len(segs)-1].EndMS; last < 9800 || last > 10200 {
			t.Errorf("segments cover %d ms, want ~10000", last)
		}
		seg := anon.do("GET", fmt.Sprintf("/media/tracks/%d/hls/opus128/%s", tr.ID, segs[0].URI), nil, nil)
		if seg.StatusCode != 200 || seg.Header.Get("Content-Type") != "audio/mp4" || len(seg.Body) < 1000 {
			t.Errorf("segment: %d %q %d bytes", seg.StatusCode, seg.Header.Get("Content-Type"), len(seg.Body))
		}

		orig := anon.do("GET", tr.OriginalURL, nil, nil)
		want, _ := os.ReadFile(src)
		if sha256.Sum256(orig.Body) != sha256.Sum256(want) || orig.Header.Get("Content-Type") != "audio/flac" {
			t.Errorf("original differs from the upload (or type %q)", orig.Header.Get("Content-Type"))
		}
		etag, lm := orig.Header.Get("ETag"), orig.Header.Get("Last-Modified")
		if etag == "" || lm == "" || !strings.Contains(orig.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("caching headers missing: %v", orig.Header)
		}
		part := anon.do("GET", tr.OriginalURL, nil, http.Header{"Range": {"bytes=100-199"}})
		if part.StatusCode != 206 || len(part.Body) != 100 || string(part.Body) != string(want[100:200]) ||
			part.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(want)) {
			t.Errorf("range request: %d, %d bytes, %q", part.StatusCode, len(part.Body), part.Header.Get("Content-Range"))
		}
		if r := anon.do("GET", tr.OriginalURL, nil, http.Header{"If-None-Match": {etag}}); r.StatusCode != 304 {
			t.Errorf("If-None-Match answered %d, want 304", r.StatusCode)
		}
		var wave struct{ Peaks []int }
		anon.must(anon.do("GET", tr.WaveformURL, nil, nil), 200, &wave)
		if len(wave.Peaks) != 1000 || maxInt(wave.Peaks) < 30 {
			t.Errorf("waveform: %d peaks, max %d", len(wave.Peaks), maxInt(wave.Peaks))
		}
		if r := anon.do("GET", *tr.CoverURL, nil, nil); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("cover: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
		}
		for _, bad := range []string{"../../9ten.db", "hls/../../../9ten.db", "hls/opus128/seg1.ts", "original/x"} {
			if r := anon.do("GET", fmt.Sprintf("/media/tracks/%d/%s", tr.ID, bad), nil, nil); r.StatusCode != 404 {
				t.Errorf("media %q answered %d, want 404", bad, r.StatusCode)
			}
		}
	})

	t.Run("listen", func(t *testing.T) {
		fan := newClient(t, node.URL)
		fan.must(fan.json("POST", "/api/v1/auth/signup", map[string]string{"username": "fan1", "password": "password-fan1"}), 201, nil)
		started := time.Now()
		var s listen.Started
		fan.must(fan.json("POST", "/api/v1/listens", map[string]any{"track_id": tr.ID}), 201, &s)
		key := mustHex(t, s.Key)
		report := func(seq, heard int64, sig string) *response {
			r := listen.Report{Seq: seq, PositionMS: heard, HeardMS: heard}
			r.Sig = sig
			if sig == "" {
				r.Sig = listen.Sign(key, s.SessionID, r)
			}
			return fan.json("POST", "/api/v1/listens/"+s.SessionID+"/progress", r)
		}
		// A forged signature is refused.
		if r := report(1, 2500, strings.Repeat("ab", 32)); r.StatusCode != 401 {
			t.Errorf("forged report answered %d, want 401", r.StatusCode)
		} else {
			r.problem(t)
		}
		// Claiming a listen before the node served any audio does not count.
		var out listen.Outcome
		fan.must(report(1, 2500, ""), 200, &out)
		if out.Counted || out.Status != "unverified" {
			t.Errorf("claim without served audio: %+v", out)
		}
		// The player fetches the first segment through its session.
		segs := variantSegments(t, fan, tr.ID, "opus128")
		r := fan.do("GET", fmt.Sprintf("/media/tracks/%d/hls/opus128/%s", tr.ID, segs[0].URI), nil, http.Header{"X-Listen-Session": {s.SessionID}})
		if r.StatusCode != 200 {
			t.Fatalf("segment: %d", r.StatusCode)
		}
		// Real time must pass for real listening: the threshold is 2 s here.
		time.Sleep(time.Until(started.Add(2500 * time.Millisecond)))
		fan.must(report(2, 2600, ""), 200, &out)
		if !out.Counted || out.Status != "verified" || out.ServedMS < 2000 {
			t.Fatalf("listen after served audio: %+v", out)
		}
		// A replayed report is refused; later reports never count again.
		if r := report(2, 2600, ""); r.StatusCode != 409 {
			t.Errorf("replayed report answered %d, want 409", r.StatusCode)
		}
		fan.must(report(3, 3000, ""), 200, &out)
		var after track
		anon.must(anon.json("GET", fmt.Sprintf("/api/v1/tracks/%d", tr.ID), nil), 200, &after)
		if after.PlayCount != 1 {
			t.Errorf("play_count = %d, want 1", after.PlayCount)
		}
		// A player that cannot set headers (Safari's native HLS) follows
		// session-stamped playlists instead; its segments count the same.
		var s2 listen.Started
		fan.must(fan.json("POST", "/api/v1/listens", map[string]any{"track_id": tr.ID}), 201, &s2)
		master := fan.do("GET", tr.HLSAACURL+"?ls="+s2.SessionID, nil, nil)
		variant := firstURI(t, string(master.Body))
		if !strings.HasSuffix(variant, "?ls="+s2.SessionID) {
			t.Fatalf("variant URI %q does not carry the session", variant)
		}
		media := fan.do("GET", fmt.Sprintf("/media/tracks/%d/hls/%s", tr.ID, variant), nil, nil)
		if !strings.Contains(string(media.Body), `init.mp4?ls=`+s2.SessionID) || media.Header.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("session playlist:\n%s", media.Body)
		}
		seg := firstURI(t, string(media.Body))
		dir := strings.SplitN(variant, "/", 2)[0]
		if r := fan.do("GET", fmt.Sprintf("/media/tracks/%d/hls/%s/%s", tr.ID, dir, seg), nil, nil); r.StatusCode != 200 {
			t.Fatalf("segment via session URI: %d", r.StatusCode)
		}
		key2 := mustHex(t, s2.Key)
		rep := listen.Report{Seq: 1, PositionMS: 100, HeardMS: 100}
		rep.Sig = listen.Sign(key2, s2.SessionID, rep)
		fan.must(fan.json("POST", "/api/v1/listens/"+s2.SessionID+"/progress", rep), 200, &out)
		if out.Status != "pending" || out.ServedMS < 3000 {
			t.Errorf("segments fetched through session URIs were not recorded: %+v", out)
		}

		var recent struct {
			Items []struct {
				Track   track
				HeardMS int64 `json:"heard_ms"`
			}
		}
		fan.must(fan.json("GET", "/api/v1/me/listens", nil), 200, &recent)
		if len(recent.Items) != 1 || recent.Items[0].Track.ID != tr.ID || recent.Items[0].HeardMS < 2600 {
			t.Errorf("recently played = %+v", recent.Items)
		}
	})
}

func variantSegments(t *testing.T, c *client, id int64, rendition string) []nineten.Segment {
	t.Helper()
	r := c.do("GET", fmt.Sprintf("/media/tracks/%d/hls/%s/index.m3u8", id, rendition), nil, nil)
	segs, err := nineten.ParseMediaPlaylist(strings.NewReader(string(r.Body)))
	if err != nil || len(segs) == 0 {
		t.Fatalf("variant playlist %s: %v\n%s", rendition, err, r.Body)
	}
	return segs
}

// firstURI returns the first URI line of a playlist.
func firstURI(t *testing.T, playlist string) string {
	t.Helper()
	for line := range strings.Lines(playlist) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatalf("no URI in playlist:\n%s", playlist)
	return ""
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("key %q is not hex: %v", s, err)
	}
	return b
}
