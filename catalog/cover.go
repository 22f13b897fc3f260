package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	nineten "nineten.dev"
)

// maxCoverBytes bounds an uploaded cover picture.
const maxCoverBytes = 20 << 20

// sniffImage accepts the picture formats covers come in.
func sniffImage(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}) || // JPEG
		bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")) ||
		len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP"))
}

// SetAlbumCover replaces an album's cover art with an uploaded picture
// (JPEG, PNG or WebP), resized like covers read from audio files; the
// album's owner or an admin only.
func (s *Service) SetAlbumCover(ctx context.Context, u *nineten.User, id nineten.ID, body io.Reader) (*nineten.Album, error) {
	const op = "catalog.SetAlbumCover"
	a, err := s.editableAlbum(ctx, op, u, id)
	if err != nil {
		return nil, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	work := filepath.Join(s.ScratchDir, "work", "cover-"+hex.EncodeToString(rnd[:]))
	if err := os.MkdirAll(work, 0o750); err != nil {
		return nil, nineten.E(op, err)
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "upload")
	if err := receiveImage(op, body, src); err != nil {
		return nil, err
	}
	ok, err := s.Transcoder.Cover(ctx, src, work)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if !ok {
		return nil, nineten.E(op, nineten.KindInvalid, "the picture could not be read; upload a JPEG, PNG or WebP file")
	}
	a.CoverKey = fmt.Sprintf("albums/%d", a.ID)
	for _, name := range []string{"cover-600.jpg", "cover-200.jpg"} {
		if err := s.Blobs.Import(ctx, a.CoverKey+"/"+name, filepath.Join(work, name)); err != nil {
			return nil, nineten.E(op, err)
		}
	}
	if err := s.Store.UpdateAlbum(ctx, a); err != nil {
		return nil, nineten.E(op, err)
	}
	if s.AlbumChanged != nil {
		s.AlbumChanged(ctx, a)
	}
	return a, nil
}

// receiveImage streams a picture to path, checking size and signature.
func receiveImage(op string, body io.Reader, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return nineten.E(op, err)
	}
	defer f.Close()
	head := &headBuffer{max: 16}
	n, err := io.Copy(io.MultiWriter(f, head), io.LimitReader(body, maxCoverBytes+1))
	switch {
	case err != nil:
		return nineten.E(op, nineten.KindInvalid, "the upload was interrupted; try again", err)
	case n > maxCoverBytes:
		return nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("cover pictures are limited to %d MiB", maxCoverBytes>>20))
	case !sniffImage(head.buf):
		return nineten.E(op, nineten.KindUnsupported, "the file is not a picture: upload a JPEG, PNG or WebP file")
	}
	return f.Close()
}
