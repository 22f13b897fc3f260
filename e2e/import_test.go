package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// TestImportFolder imports a music folder with the admin command, then
// serves it: the good files become playable tracks, the bad one is reported.
func TestImportFolder(t *testing.T) {
	bin := nodetest.Binary(t)
	data, music := t.TempDir(), t.TempDir()
	audiotest.Make(t, music, audiotest.Spec{Name: "01.flac", Seconds: 3, Title: "Opening", Album: "Imported", Track: "1"})
	os.MkdirAll(filepath.Join(music, "disc2"), 0o750)
	audiotest.Make(t, filepath.Join(music, "disc2"), audiotest.Spec{Name: "02.mp3", Seconds: 3, Title: "Closing", Album: "Imported", Track: "2"})
	os.WriteFile(filepath.Join(music, "broken.ogg"), []byte("not really ogg"), 0o600)
	os.WriteFile(filepath.Join(music, "notes.txt"), []byte("ignored"), 0o600)

	run := func(args ...string) (string, error) {
		out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("user", "create", "--data", data, "--username", "imp", "--password", "password-imp", "--display-name", "Imp Orter"); err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	out, err := run("import", "--data", data, "--user", "imp", music)
	if err == nil || !strings.Contains(out, "broken.ogg") || !strings.Contains(out, "1 of 3 files could not be imported") {
		t.Errorf("import should report the broken file and fail: %v\n%s", err, out)
	}
	if !strings.Contains(out, "transcoded 2/2 tracks") {
		t.Errorf("import did not process the good files:\n%s", out)
	}

	node := nodetest.Start(t, "--data", data)
	anon := newClient(t, node.URL)
	var p page
	anon.must(anon.json("GET", "/api/v1/tracks", nil), 200, &p)
	if p.Total != 2 {
		t.Fatalf("after import %d tracks are listed, want 2", p.Total)
	}
	for _, tr := range p.Items {
		if tr.Status != "ready" || tr.Album != "Imported" || tr.Artist != "Imp Orter" {
			t.Errorf("imported track %+v", tr)
		}
	}
}
