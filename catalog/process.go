package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	nineten "nineten.dev"
)

// Processor is the background job that turns an uploaded file into
// streamable media: HLS renditions, a waveform and resized cover art. It
// is idempotent: a run interrupted by a crash starts over cleanly.
type Processor struct{ *Service }

// Processor returns the job handler for JobProcessTrack.
func (s *Service) Processor() Processor { return Processor{s} }

func (s *Service) workDir(id nineten.ID) string {
	return filepath.Join(s.ScratchDir, "work", fmt.Sprintf("track-%d", id))
}

// removeScratch deletes a track's work directory (not its upload, which
// the job payload names).
func (s *Service) removeScratch(id nineten.ID) { os.RemoveAll(s.workDir(id)) }

// Run processes one track.
func (p Processor) Run(ctx context.Context, job *nineten.Job, progress func(int)) error {
	var in processPayload
	if err := json.Unmarshal(job.Payload, &in); err != nil {
		return nineten.E("catalog.Process", nineten.KindInvalid, "bad job payload", err)
	}
	upload := filepath.Join(p.ScratchDir, filepath.FromSlash(in.Upload))
	t, err := p.Store.TrackByID(ctx, in.TrackID)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		os.Remove(upload) // deleted while queued
		return nil
	}
	if err != nil {
		return err
	}
	if t.Status == nineten.TrackReady {
		os.Remove(upload)
		return nil
	}
	if err := p.restoreUpload(ctx, t, upload); err != nil {
		return err
	}
	work := p.workDir(t.ID)
	// Whatever an interrupted attempt left is discarded.
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o750); err != nil {
		return err
	}
	defer os.RemoveAll(work)

	hls, err := p.Transcoder.HLS(ctx, upload, filepath.Join(work, "hls"), func(doneMS int64) {
		if t.DurationMS > 0 {
			progress(int(min(90, doneMS*90/t.DurationMS)))
		}
	})
	if err != nil {
		return err
	}
	wave, _ := json.Marshal(map[string]any{"version": 1, "duration_ms": t.DurationMS, "peaks": hls.Peaks})
	if err := os.WriteFile(filepath.Join(work, "waveform.json"), wave, 0o640); err != nil {
		return err
	}
	hasCover, err := p.Transcoder.Cover(ctx, upload, work)
	if err != nil {
		return err
	}
	progress(95)
	prefix := trackPrefix(t.ID)
	if err := p.putTree(ctx, work, prefix); err != nil {
		return err
	}
	if err := p.Blobs.Import(ctx, prefix+"/original", upload); err != nil {
		return err
	}
	if err := p.markReady(ctx, t.ID, work, hasCover); err != nil {
		return err
	}
	if ready, err := p.Store.TrackByID(ctx, t.ID); err == nil && ready.Visible() {
		p.changed(ctx, ready, nineten.TrackPublished)
	}
	return nil
}

// restoreUpload makes sure the uploaded file is on scratch space: a run
// that crashed after moving it into the blob store copies it back.
func (p Processor) restoreUpload(ctx context.Context, t *nineten.Track, upload string) error {
	if _, err := os.Stat(upload); err == nil {
		return nil
	}
	b, err := p.Blobs.Open(ctx, trackPrefix(t.ID)+"/original")
	if err != nil {
		return nineten.E("catalog.Process", nineten.KindInvalid, "the uploaded file is gone; upload it again", err)
	}
	defer b.Close()
	if err := os.MkdirAll(filepath.Dir(upload), 0o750); err != nil {
		return err
	}
	f, err := os.Create(upload)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// putTree stores every file under dir in the blob store under prefix.
func (p Processor) putTree(ctx context.Context, dir, prefix string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		return p.Blobs.Import(ctx, prefix+"/"+filepath.ToSlash(rel), path)
	})
}

// markReady publishes the track, and gives its album a cover when it has none.
func (p Processor) markReady(ctx context.Context, id nineten.ID, work string, hasCover bool) error {
	return p.Store.WithTx(ctx, func(tx nineten.Store) error {
		t, err := tx.TrackByID(ctx, id)
		if err != nil {
			return err
		}
		t.Status, t.Error, t.MediaKey, t.UpdatedAt = nineten.TrackReady, "", trackPrefix(id), p.now()
		if hasCover {
			t.CoverKey = trackPrefix(id)
		}
		if err := tx.UpdateTrack(ctx, t); err != nil {
			return err
		}
		if !hasCover || t.AlbumID == 0 {
			return nil
		}
		album, err := tx.AlbumByID(ctx, t.AlbumID)
		if err != nil || album.CoverKey != "" {
			return err
		}
		album.CoverKey = fmt.Sprintf("albums/%d", album.ID)
		for _, size := range []string{"cover-600.jpg", "cover-200.jpg"} {
			if err := p.copyBlob(ctx, t.CoverKey+"/"+size, album.CoverKey+"/"+size); err != nil {
				return err
			}
		}
		return tx.UpdateAlbum(ctx, album)
	})
}

func (p Processor) copyBlob(ctx context.Context, from, to string) error {
	b, err := p.Blobs.Open(ctx, from)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = p.Blobs.Put(ctx, to, b)
	return err
}

// GiveUp marks the track failed with a reason the artist can act on and
// removes everything the upload produced, keeping the failed entry so the
// artist sees what happened.
func (p Processor) GiveUp(ctx context.Context, job *nineten.Job, cause error) {
	var in processPayload
	if json.Unmarshal(job.Payload, &in) != nil {
		return
	}
	os.Remove(filepath.Join(p.ScratchDir, filepath.FromSlash(in.Upload)))
	p.removeScratch(in.TrackID)
	if err := p.Blobs.DeletePrefix(ctx, trackPrefix(in.TrackID)); err != nil {
		p.log().Warn("removing media of a failed track", "track", in.TrackID, "err", err)
	}
	msg := nineten.ErrorMessage(cause)
	if msg == "" {
		msg = "processing failed; try uploading the file again"
	}
	p.failTrack(ctx, in.TrackID, msg)
}

func (s *Service) failTrack(ctx context.Context, id nineten.ID, msg string) {
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		t, err := tx.TrackByID(ctx, id)
		if err != nil {
			return err
		}
		t.Status, t.Error, t.UpdatedAt = nineten.TrackFailed, msg, s.now()
		return tx.UpdateTrack(ctx, t)
	})
	if err != nil && nineten.ErrorKind(err) != nineten.KindNotFound {
		s.log().Error("marking a track failed", "track", id, "err", err)
	}
}

// Sweep removes what interrupted work left behind: tracks stuck in
// processing with no job left to finish them, scratch files no job needs,
// and media of tracks that no longer exist. The node runs it at start and
// periodically, so no orphan file stays forever.
func (s *Service) Sweep(ctx context.Context, minAge time.Duration) error {
	active, err := s.Store.ActiveJobs(ctx)
	if err != nil {
		return err
	}
	busyTracks := map[nineten.ID]bool{}
	busyUploads := map[string]bool{}
	for _, j := range active {
		var in processPayload
		if j.Kind == JobProcessTrack && json.Unmarshal(j.Payload, &in) == nil {
			busyTracks[in.TrackID] = true
			busyUploads[filepath.Join(s.ScratchDir, filepath.FromSlash(in.Upload))] = true
		}
	}
	exists := map[nineten.ID]bool{}
	// Stores cap a page's size, so walk every page: a track missed here
	// would have its media deleted below.
	for p := (nineten.Page{Limit: 200}); ; p.Offset += p.Limit {
		page, _, err := s.Store.ListTracks(ctx, nineten.TrackFilter{All: true}, p)
		if err != nil {
			return err
		}
		for _, t := range page {
			exists[t.ID] = true
			if t.Status == nineten.TrackProcessing && !busyTracks[t.ID] && s.now().Sub(t.UpdatedAt) > minAge {
				s.failTrack(ctx, t.ID, "processing was interrupted too often; upload the file again")
			}
		}
		if len(page) < p.Limit {
			break
		}
	}
	cutoff := time.Now().Add(-minAge)
	var errs []error
	for _, sub := range []string{"uploads", "work"} {
		entries, _ := os.ReadDir(filepath.Join(s.ScratchDir, sub))
		for _, e := range entries {
			path := filepath.Join(s.ScratchDir, sub, e.Name())
			info, err := e.Info()
			if err != nil || busyUploads[path] || info.ModTime().After(cutoff) {
				continue
			}
			var id nineten.ID
			if _, err := fmt.Sscanf(e.Name(), "track-%d", &id); sub == "work" && err == nil && busyTracks[id] {
				continue
			}
			errs = append(errs, os.RemoveAll(path))
		}
	}
	keys, err := s.Blobs.List(ctx, "tracks")
	if err != nil {
		return err
	}
	gone := map[nineten.ID]bool{}
	for _, k := range keys {
		var id nineten.ID
		if _, err := fmt.Sscanf(k, "tracks/%d/", &id); err == nil && !exists[id] && !busyTracks[id] {
			gone[id] = true
		}
	}
	for id := range gone {
		errs = append(errs, s.Blobs.DeletePrefix(ctx, trackPrefix(id)))
	}
	return errors.Join(errs...)
}
