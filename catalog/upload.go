package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	nineten "nineten.dev"
)

// Upload is one audio file an artist sends.
type Upload struct {
	ArtistID    nineten.ID // zero: the uploader's only artist profile
	Filename    string
	ContentType string // as declared by the client; may be empty
	Body        io.Reader
}

// processPayload is the durable job's input.
type processPayload struct {
	TrackID nineten.ID `json:"track_id"`
	// Upload is the uploaded file, relative to the scratch directory.
	Upload string `json:"upload"`
}

const supportedFormats = "FLAC, MP3, WAV, Ogg Vorbis, Opus or M4A/AAC"

// extensions are the file name extensions we accept.
var extensions = map[string]bool{
	".flac": true, ".mp3": true, ".wav": true, ".ogg": true, ".oga": true,
	".opus": true, ".m4a": true, ".mp4": true, ".aac": true,
}

// Supported reports whether a file name extension (".flac") is one we accept.
func Supported(ext string) bool { return extensions[ext] }

// originalMIME maps a probed container and codec to the MIME type the
// original is served with, and rejects combinations we do not accept.
func originalMIME(p *nineten.Probe) (string, bool) {
	switch {
	case p.Codec == "flac" && p.Format == "flac":
		return "audio/flac", true
	case p.Codec == "mp3":
		return "audio/mpeg", true
	case strings.HasPrefix(p.Codec, "pcm_") && p.Format == "wav":
		return "audio/wav", true
	case (p.Codec == "vorbis" || p.Codec == "opus" || p.Codec == "flac") && p.Format == "ogg":
		return "audio/ogg", true
	case (p.Codec == "aac" || p.Codec == "alac") && strings.Contains(p.Format, "mp4"):
		return "audio/mp4", true
	case p.Codec == "aac" && p.Format == "aac":
		return "audio/aac", true
	}
	return "", false
}

// sniffAudio checks a file's first bytes for the signature of a supported
// container, so a picture or a document is turned away before any decoder
// touches it.
func sniffAudio(head []byte) bool {
	switch {
	case bytes.HasPrefix(head, []byte("fLaC")),
		bytes.HasPrefix(head, []byte("ID3")),
		bytes.HasPrefix(head, []byte("OggS")),
		len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WAVE")),
		len(head) >= 8 && bytes.Equal(head[4:8], []byte("ftyp")),
		len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0: // MPEG audio / ADTS frame sync
		return true
	}
	return false
}

// safeFilename keeps the base name of what the client sent, without
// directories or control characters, so it can be offered on download.
func safeFilename(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.TrimLeft(name, "."))
	if len(name) > 200 {
		ext := filepath.Ext(name)
		name = name[:200-len(ext)] + ext
	}
	return name
}

func declaredAudio(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "" || ct == "application/octet-stream" || strings.HasPrefix(ct, "audio/") ||
		ct == "application/ogg" || ct == "video/mp4" || ct == "application/x-flac"
}

// uploadArtist finds the profile an upload goes to and checks u may use it.
func (s *Service) uploadArtist(ctx context.Context, op string, u *nineten.User, id nineten.ID) (*nineten.Artist, error) {
	if id != 0 {
		a, err := s.Store.ArtistByID(ctx, id)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		if !mayEdit(u, a) {
			return nil, nineten.E(op, nineten.KindPermission, "you can upload only to your own artist profiles")
		}
		return a, nil
	}
	own, err := s.Store.ArtistsByOwner(ctx, u.ID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	switch len(own) {
	case 0:
		return nil, nineten.E(op, nineten.KindPermission, "create an artist profile before uploading music")
	case 1:
		return &own[0], nil
	}
	return nil, nineten.E(op, nineten.KindInvalid, "you have several artist profiles: say which one with artist_id")
}

// Upload stores an uploaded file on local scratch space (streamed, never
// held in memory), checks that it is audio we support, creates the track
// in "processing" and queues the job that makes it playable. On any error
// nothing is left behind.
func (s *Service) Upload(ctx context.Context, u *nineten.User, up Upload) (*nineten.Track, error) {
	const op = "catalog.Upload"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	artist, err := s.uploadArtist(ctx, op, u, up.ArtistID)
	if err != nil {
		return nil, err
	}
	name := safeFilename(up.Filename)
	ext := strings.ToLower(filepath.Ext(name))
	if !extensions[ext] {
		return nil, nineten.E(op, nineten.KindUnsupported, fmt.Sprintf("%q is not a supported audio file: upload %s", name, supportedFormats))
	}
	if !declaredAudio(up.ContentType) {
		return nil, nineten.E(op, nineten.KindUnsupported, fmt.Sprintf("the file was sent as %s, not audio: upload %s", up.ContentType, supportedFormats))
	}
	rel, size, sum, err := s.receive(op, up.Body, ext)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.ScratchDir, rel)
	track, err := s.admit(ctx, op, artist, path, rel, name, size, sum)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	if s.Enqueued != nil {
		s.Enqueued()
	}
	return track, nil
}

// receive streams body into the scratch uploads directory, enforcing the
// size limit and checking the signature, and returns the file's relative
// path, size and SHA-256.
func (s *Service) receive(op string, body io.Reader, ext string) (rel string, size int64, sum string, err error) {
	dir := filepath.Join(s.ScratchDir, "uploads")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", 0, "", nineten.E(op, err)
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	rel = filepath.Join("uploads", hex.EncodeToString(rnd[:])+ext)
	f, err := os.OpenFile(filepath.Join(s.ScratchDir, rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", 0, "", nineten.E(op, err)
	}
	fail := func(err error) (string, int64, string, error) {
		f.Close()
		os.Remove(filepath.Join(s.ScratchDir, rel))
		return "", 0, "", err
	}
	h := sha256.New()
	limit := s.maxUpload()
	head := &headBuffer{max: 16}
	n, err := io.Copy(io.MultiWriter(f, h, head), io.LimitReader(body, limit+1))
	if err != nil {
		// The wrapped cause tells the HTTP layer when its own body limit hit.
		return fail(nineten.E(op, nineten.KindInvalid, "the upload was interrupted; try again", err))
	}
	if n > limit {
		return fail(nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("files are limited to %d MiB", limit>>20)))
	}
	if n == 0 {
		return fail(nineten.E(op, nineten.KindInvalid, "the file is empty"))
	}
	if !sniffAudio(head.buf) {
		return fail(nineten.E(op, nineten.KindUnsupported, "the file is not audio: upload "+supportedFormats))
	}
	if err := f.Close(); err != nil {
		return fail(nineten.E(op, err))
	}
	return rel, n, hex.EncodeToString(h.Sum(nil)), nil
}

// admit probes the received file and creates the track and its job.
func (s *Service) admit(ctx context.Context, op string, artist *nineten.Artist, path, rel, name string, size int64, sum string) (*nineten.Track, error) {
	probe, err := s.Transcoder.Probe(ctx, path)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if probe.DurationMS <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the file holds no audio (zero length)")
	}
	mime, ok := originalMIME(probe)
	if !ok {
		return nil, nineten.E(op, nineten.KindUnsupported, fmt.Sprintf("%s audio in a %s container is not supported: upload %s", probe.Codec, probe.Format, supportedFormats))
	}
	tags := probe.Tags
	if tags.Title == "" {
		tags.Title = strings.TrimSuffix(name, filepath.Ext(name))
	}
	now := s.now()
	t := &nineten.Track{
		ArtistID: artist.ID, ArtistName: artist.Name,
		Title: tags.Title, TrackNumber: tags.TrackNumber, Year: tags.Year, Genre: tags.Genre,
		DurationMS: probe.DurationMS, Status: nineten.TrackProcessing,
		Original: nineten.Original{
			Filename: name, MIMEType: mime, Size: size, SHA256: sum,
			Format: probe.Format, Codec: probe.Codec,
		},
		CreatedAt: now, UpdatedAt: now,
	}
	// Tags longer than we store are cut, not rejected: they come from files.
	t.Title, t.Genre, tags.Album = truncate(t.Title, 200), truncate(t.Genre, 64), truncate(tags.Album, 200)
	if t.TrackNumber < 0 || t.TrackNumber > 999 {
		t.TrackNumber = 0
	}
	if t.Year < 1000 || t.Year > 9999 {
		t.Year = 0
	}
	err = s.Store.WithTx(ctx, func(tx nineten.Store) error {
		album, err := findOrCreateAlbum(ctx, tx, artist.ID, tags, now)
		if err != nil {
			return err
		}
		if album != nil {
			t.AlbumID, t.AlbumTitle = album.ID, album.Title
		}
		if err := tx.CreateTrack(ctx, t); err != nil {
			return err
		}
		payload, _ := json.Marshal(processPayload{TrackID: t.ID, Upload: filepath.ToSlash(rel)})
		return tx.Enqueue(ctx, &nineten.Job{Kind: JobProcessTrack, Payload: payload, MaxAttempts: 3, RunAt: now})
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return t, nil
}

func truncate(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// headBuffer keeps the first bytes written through it.
type headBuffer struct {
	buf []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
