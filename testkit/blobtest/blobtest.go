// Package blobtest is the shared conformance suite of the nineten.BlobStore
// port: every implementation (local disk, S3) must pass it unchanged.
package blobtest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	nineten "nineten.dev"
)

// Run runs the suite against stores made by open, a fresh empty one per call.
func Run(t *testing.T, open func(t *testing.T) nineten.BlobStore) {
	t.Run("PutOpenRoundTrip", func(t *testing.T) {
		s := open(t)
		want := bytes.Repeat([]byte("9ten"), 10_000)
		n, err := s.Put(t.Context(), "tracks/1/hls/opus64/seg0.m4s", bytes.NewReader(want))
		if err != nil || n != int64(len(want)) {
			t.Fatalf("Put = %d, %v; want %d, nil", n, err, len(want))
		}
		b, err := s.Open(t.Context(), "tracks/1/hls/opus64/seg0.m4s")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Size() != int64(len(want)) {
			t.Errorf("Size = %d, want %d", b.Size(), len(want))
		}
		if b.ModTime().IsZero() {
			t.Error("ModTime is zero")
		}
		if _, err := b.Seek(4, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(b)
		if !bytes.Equal(got, want[4:]) {
			t.Error("content after Seek differs")
		}
	})
	t.Run("PutReplaces", func(t *testing.T) {
		s := open(t)
		put(t, s, "a/b", "old")
		put(t, s, "a/b", "new")
		if got := read(t, s, "a/b"); got != "new" {
			t.Errorf("got %q, want new", got)
		}
	})
	t.Run("OpenMissingIsNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.Open(t.Context(), "nope/none")
		if nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("Open missing: %v, want KindNotFound", err)
		}
	})
	t.Run("RejectsEscapingKeys", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"../x", "/etc/passwd", "a/../../x", "", "a//b", `a\..\b`} {
			if _, err := s.Put(t.Context(), k, strings.NewReader("x")); nineten.ErrorKind(err) != nineten.KindInvalid {
				t.Errorf("Put(%q) = %v, want KindInvalid", k, err)
			}
			if _, err := s.Open(t.Context(), k); err == nil {
				t.Errorf("Open(%q) succeeded", k)
			}
		}
	})
	t.Run("ImportMovesFile", func(t *testing.T) {
		s := open(t)
		src := filepath.Join(t.TempDir(), "upload.flac")
		if err := os.WriteFile(src, []byte("fLaC-data"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Import(t.Context(), "tracks/2/original", src); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, "tracks/2/original"); got != "fLaC-data" {
			t.Errorf("imported content %q", got)
		}
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Errorf("source still exists after Import: %v", err)
		}
	})
	t.Run("ListAndDeletePrefix", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"tracks/3/b", "tracks/3/a/x", "tracks/30/c", "other/d"} {
			put(t, s, k, k)
		}
		keys, err := s.List(t.Context(), "tracks/3")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"tracks/3/a/x", "tracks/3/b"}; !slices.Equal(keys, want) {
			t.Errorf("List = %v, want %v", keys, want)
		}
		if err := s.DeletePrefix(t.Context(), "tracks/3"); err != nil {
			t.Fatal(err)
		}
		if keys, _ := s.List(t.Context(), "tracks/3"); len(keys) != 0 {
			t.Errorf("after DeletePrefix List = %v", keys)
		}
		if got := read(t, s, "tracks/30/c"); got != "tracks/30/c" {
			t.Error("DeletePrefix removed a sibling with a longer name")
		}
		if keys, err := s.List(t.Context(), "empty"); err != nil || len(keys) != 0 {
			t.Errorf("List of missing prefix = %v, %v", keys, err)
		}
	})
	t.Run("DeleteIsIdempotent", func(t *testing.T) {
		s := open(t)
		put(t, s, "x/y", "1")
		for range 2 {
			if err := s.Delete(t.Context(), "x/y"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Open(t.Context(), "x/y"); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("deleted blob still opens: %v", err)
		}
	})
	runLarge(t, open)
	runAtomic(t, open)
	runReads(t, open)
	runLists(t, open)
}

func put(t *testing.T, s nineten.BlobStore, key, content string) {
	t.Helper()
	if _, err := s.Put(t.Context(), key, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s nineten.BlobStore, key string) string {
	t.Helper()
	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
