package demo

import (
	"os"
	"testing"
	"time"
)

func TestWriteSample(t *testing.T) {
	os.RemoveAll("/tmp/demo-sample")
	t0 := time.Now()
	files, err := Generate(t.Context(), "/tmp/demo-sample", "/usr/bin/ffmpeg", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Generate: %d files in %v", len(files), time.Since(t0))
	for _, a := range catalogue {
		f, err := os.Create("/tmp/demo-sample/cover-" + slug(a.title) + ".png")
		if err != nil {
			t.Fatal(err)
		}
		if err := writeCover(f, a.artist.Name+"/"+a.title); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}
