package disk_test

import (
	"os"
	"path/filepath"
	"testing"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/testkit/blobtest"
)

func TestDiskStore(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) nineten.BlobStore {
		s, err := disk.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// A symlink planted in the media directory cannot lead reads outside it.
func TestSymlinksCannotEscape(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("node secret"), 0o600)
	os.Symlink(secret, filepath.Join(dir, "media", "link"))
	os.Symlink(dir, filepath.Join(dir, "media", "up"))
	for _, key := range []string{"link", "up/secret"} {
		if b, err := s.Open(t.Context(), key); err == nil {
			b.Close()
			t.Errorf("Open(%q) followed a symlink out of the media directory", key)
		}
	}
}
