package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
)

// --blob picks the media store: by default the media directory in --data,
// else a directory or an s3:// URL; --media-redirect needs S3.
func TestOpenBlobs(t *testing.T) {
	data := t.TempDir()
	s, err := openBlobs(t.Context(), options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if d, ok := s.(*disk.Store); !ok || d.Dir() != filepath.Join(data, "media") {
		t.Errorf("default store %T %v, want disk in %s/media", s, s, data)
	}
	elsewhere := filepath.Join(t.TempDir(), "music")
	if s, err = openBlobs(t.Context(), options{Data: data, Blob: elsewhere}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(elsewhere); err != nil {
		t.Errorf("--blob %s: %v", elsewhere, err)
	}
	for blob, want := range map[string]string{
		"gs://media":                "s3://",
		"s3://media?colour=red":     "unknown option colour",
		"s3://key:secret@media":     "AWS_ACCESS_KEY_ID",
		"s3://media?insecure=maybe": "insecure",
	} {
		if _, err := openBlobs(t.Context(), options{Data: data, Blob: blob}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--blob %s: %v, want an error saying %q", blob, err, want)
		}
	}
	_, err = openBlobs(t.Context(), options{Data: data, MediaRedirect: true})
	if err == nil || !strings.Contains(err.Error(), "--blob s3://") {
		t.Errorf("--media-redirect on disk: %v", err)
	}
	if _, err := openBlobs(t.Context(), options{Data: data, Blob: "s3://media?style=sideways"}); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("a bad S3 URL: %v, want KindInvalid", err)
	}
}

// Both settings come from the environment and the config file too.
func TestBlobSettings(t *testing.T) {
	t.Setenv("NINETEN_BLOB", "s3://media?endpoint=127.0.0.1:9000&insecure=1")
	t.Setenv("NINETEN_MEDIA_REDIRECT", "true")
	var o options
	cmd := &cobra.Command{Use: "serve"}
	nodeFlags(cmd, &o)
	if err := applyConfig(cmd); err != nil {
		t.Fatal(err)
	}
	if o.Blob != "s3://media?endpoint=127.0.0.1:9000&insecure=1" || !o.MediaRedirect {
		t.Errorf("from the environment: blob %q, media redirect %v", o.Blob, o.MediaRedirect)
	}
}
