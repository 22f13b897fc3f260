// Package disk stores media blobs as files under one directory on local
// disk. All access goes through an os.Root, so no key can reach outside it.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Store is a nineten.BlobStore on a local directory.
type Store struct {
	dir     string
	root    *os.Root
	dirFile *os.File // the directory, for openat2 on Linux
}

var _ nineten.BlobStore = (*Store)(nil)

// Open opens (creating it if needed) the blob directory dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nineten.E("disk.Open", nineten.KindUnavailable, "cannot create the media directory", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nineten.E("disk.Open", nineten.KindUnavailable, "cannot open the media directory", err)
	}
	dirFile, err := os.Open(dir)
	if err != nil {
		root.Close()
		return nil, nineten.E("disk.Open", nineten.KindUnavailable, "cannot open the media directory", err)
	}
	return &Store{dir: dir, root: root, dirFile: dirFile}, nil
}

// Close releases the directory handles.
func (s *Store) Close() error { return errors.Join(s.root.Close(), s.dirFile.Close()) }

// Dir is the directory the store keeps its files in.
func (s *Store) Dir() string { return s.dir }

// checkKey rejects keys that are not clean relative slash paths. os.Root
// would refuse an escape anyway; checking first gives a clearer error.
func checkKey(op, key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || key == "." ||
		strings.HasPrefix(key, "../") || key == ".." || strings.Contains(key, "\\") {
		return nineten.E(op, nineten.KindInvalid, "bad blob key "+key)
	}
	return nil
}

func (s *Store) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	return s.root.MkdirAll(dir, 0o750)
}

// tempName returns a hidden name next to key for writing before a rename,
// so readers never see a partial file.
func tempName(key string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return path.Join(path.Dir(key), ".tmp-"+path.Base(key)+"-"+hex.EncodeToString(b[:]))
}

// Put writes r to key atomically (write to a temporary file, fsync, rename).
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	const op = "disk.Put"
	if err := checkKey(op, key); err != nil {
		return 0, err
	}
	if err := s.mkdirs(path.Dir(key)); err != nil {
		return 0, nineten.E(op, err)
	}
	tmp := tempName(key)
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, nineten.E(op, err)
	}
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, key)
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return 0, nineten.E(op, "cannot store "+key, err)
	}
	return n, nil
}

// Import moves localPath to key: a rename when both are on one file system,
// else a copy.
func (s *Store) Import(ctx context.Context, key, localPath string) error {
	const op = "disk.Import"
	if err := checkKey(op, key); err != nil {
		return err
	}
	if err := s.mkdirs(path.Dir(key)); err != nil {
		return nineten.E(op, err)
	}
	if err := os.Rename(localPath, filepath.Join(s.dir, filepath.FromSlash(key))); err == nil {
		return nil
	}
	f, err := os.Open(localPath)
	if err != nil {
		return nineten.E(op, err)
	}
	defer f.Close()
	if _, err := s.Put(ctx, key, f); err != nil {
		return err
	}
	return os.Remove(localPath)
}

type file struct {
	*os.File
	size int64
	mod  time.Time
}

func (f file) Size() int64        { return f.size }
func (f file) ModTime() time.Time { return f.mod }

// OSFile exposes the open file so HTTP serving can hand it to the kernel
// (sendfile) instead of copying it through user space.
func (f file) OSFile() *os.File { return f.File }

// Open opens the blob at key for reading.
func (s *Store) Open(ctx context.Context, key string) (nineten.Blob, error) {
	const op = "disk.Open"
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	f, err := s.openRead(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nineten.E(op, nineten.KindNotFound, key+" does not exist")
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		f.Close()
		return nil, nineten.E(op, nineten.KindNotFound, key+" is not a file")
	}
	return file{f, st.Size(), st.ModTime()}, nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey("disk.Delete", key); err != nil {
		return err
	}
	if err := s.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nineten.E("disk.Delete", err)
	}
	return nil
}

// DeletePrefix removes the directory prefix and everything in it.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if err := checkKey("disk.DeletePrefix", prefix); err != nil {
		return err
	}
	if err := s.root.RemoveAll(prefix); err != nil {
		return nineten.E("disk.DeletePrefix", err)
	}
	return nil
}

// List returns every key under prefix, sorted, skipping unfinished writes.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkKey("disk.List", prefix); err != nil {
		return nil, err
	}
	var keys []string
	err := fs.WalkDir(s.root.FS(), prefix, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == prefix {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".tmp-") {
			keys = append(keys, p)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, nineten.E("disk.List", err)
	}
	sort.Strings(keys)
	return keys, nil
}

// ctxReader stops a long copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
