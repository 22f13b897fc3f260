package disk

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openRead opens key for reading with one openat2 system call that the
// kernel confines to the media directory (no "..", no symlinks out) — the
// guarantee os.Root gives, without os.Root's one system call per path
// component, which made segment serving 20 % slower than a plain file
// server. Kernels without openat2 (before 5.6) fall back to os.Root.
func (s *Store) openRead(key string) (*os.File, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(int(s.dirFile.Fd()), key, how)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return s.root.Open(key)
	}
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: key, Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(s.dir, filepath.FromSlash(key))), nil
}
