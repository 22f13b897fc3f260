package disk_test

import (
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
