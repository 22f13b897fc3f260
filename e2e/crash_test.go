package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// TestKillDuringTranscodeResumes kills the node (SIGKILL) while it
// transcodes an upload, restarts it, and checks that the job finishes,
// the track plays, and no scratch file is left behind.
func TestKillDuringTranscodeResumes(t *testing.T) {
	node := nodetest.Start(t)
	artist, _ := signupArtist(t, node.URL, "kim", "Kim Crash")
	admin := newClient(t, node.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": node.AdminUser, "password": node.AdminPassword}), 200, nil)
	// Long enough that transcoding takes a few seconds on two cores.
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "long.wav", Seconds: 360, Title: "Long One"})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)

	// Wait until the job is running, then crash the node.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(time.Minute); ; <-tick.C {
		var jobs struct {
			Items []struct {
				Status   string
				Progress int
			}
		}
		admin.must(admin.json("GET", "/api/v1/admin/jobs", nil), 200, &jobs)
		if len(jobs.Items) == 1 && jobs.Items[0].Status == "running" {
			break
		}
		if len(jobs.Items) == 0 || time.Now().After(deadline) {
			t.Fatalf("the job finished or vanished before it was seen running: %+v", jobs.Items)
		}
	}
	node.Kill()
	work, _ := os.ReadDir(filepath.Join(node.Data, "scratch", "work"))
	if len(work) == 0 {
		t.Log("note: the crash came before the transcoder wrote output")
	}

	// After restart, the job's lease runs out and another attempt finishes it.
	node.Restart()
	artist.base = node.URL
	tr := artist.waitTrack(up.Track.ID)
	if tr.Status != "ready" {
		t.Fatalf("after restart the track is %q: %s", tr.Status, tr.Error)
	}
	if tr.DurationMS < 359_000 {
		t.Errorf("duration %d ms", tr.DurationMS)
	}
	segs := variantSegments(t, artist, tr.ID, "aac96")
	if end := segs[len(segs)-1].EndMS; end < 359_000 {
		t.Errorf("resumed transcode covers only %d ms", end)
	}
	for _, sub := range []string{"scratch/uploads", "scratch/work"} {
		if entries, _ := os.ReadDir(filepath.Join(node.Data, sub)); len(entries) != 0 {
			t.Errorf("%s holds leftovers after the job finished: %v", sub, entries)
		}
	}
	// The preview for microblogging servers is the first 30 s, as MP3.
	preview := artist.do("GET", fmt.Sprintf("/media/tracks/%d/hls/preview.mp3", tr.ID), nil, nil)
	if preview.Header.Get("Content-Type") != "audio/mpeg" || len(preview.Body) < 400_000 || len(preview.Body) > 560_000 {
		t.Errorf("preview: %q, %d bytes (30 s at 128 kb/s is about 480 kB)", preview.Header.Get("Content-Type"), len(preview.Body))
	}
}
