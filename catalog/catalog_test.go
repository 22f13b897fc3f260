package catalog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/catalog"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/dbtest"
	"nineten.dev/transcode"
)

type rig struct {
	svc   *catalog.Service
	db    *sqlstore.DB
	blobs *disk.Store
}

func TestMain(m *testing.M) { dbtest.Main(m) }

// eachRig runs fn on every database engine, as subtests, each with a
// fresh rig.
func eachRig(t *testing.T, fn func(t *testing.T, r *rig)) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, newRig(t, db)) })
}

// newRig runs the catalog on real parts: the database db, local disk,
// ffmpeg.
func newRig(t *testing.T, db *sqlstore.DB) *rig {
	dir := t.TempDir()
	blobs, err := disk.Open(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	return &rig{db: db, blobs: blobs, svc: &catalog.Service{
		Store: db, Blobs: blobs, Transcoder: transcode.New(), ScratchDir: filepath.Join(dir, "scratch"),
	}}
}

func (r *rig) user(t *testing.T, name string, role nineten.Role) *nineten.User {
	u := &nineten.User{Username: name, PasswordHash: "x", Role: role, CreatedAt: time.Now()}
	if err := r.db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (r *rig) upload(t *testing.T, u *nineten.User, path string) (*nineten.Track, error) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return r.svc.Upload(t.Context(), u, catalog.Upload{Filename: filepath.Base(path), Body: f})
}

// runJobs runs the queued processing jobs to completion, as a worker would.
func (r *rig) runJobs(t *testing.T) {
	for {
		j, err := r.db.Claim(t.Context(), []string{catalog.JobProcessTrack}, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if j == nil {
			return
		}
		if err := r.svc.Processor().Run(t.Context(), j, func(int) {}); err != nil {
			t.Fatal(err)
		}
		if err := r.db.Complete(t.Context(), j.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestArtistProfiles(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		u := r.user(t, "sam", nineten.RoleListener)
		a1, err := r.svc.CreateArtist(t.Context(), u, "  Sam & The Sines ", "")
		if err != nil {
			t.Fatal(err)
		}
		a2, err := r.svc.CreateArtist(t.Context(), u, "Sam & the sines", "")
		if err != nil {
			t.Fatal(err)
		}
		if a1.Name != "Sam & The Sines" || a1.Slug != "sam-the-sines" || a2.Slug != "sam-the-sines-2" {
			t.Errorf("slugs %q, %q (name %q)", a1.Slug, a2.Slug, a1.Name)
		}
		if got, _ := r.db.UserByID(t.Context(), u.ID); got.Role != nineten.RoleArtist {
			t.Errorf("creating a profile left the role %q", got.Role)
		}
		src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "a.mp3", Seconds: 2})
		if _, err := r.upload(t, u, src); nineten.ErrorKind(err) != nineten.KindInvalid || !strings.Contains(err.Error(), "artist_id") {
			t.Errorf("upload with two profiles and no artist_id: %v", err)
		}
		if _, err := r.svc.CreateArtist(t.Context(), u, "   ", ""); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("blank name: %v", err)
		}
	})
}

func TestUploadProcessAndEdit(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		u := r.user(t, "ana", nineten.RoleListener)
		if _, err := r.upload(t, u, audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "x.wav", Seconds: 1})); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("upload without an artist profile: %v", err)
		}
		if _, err := r.svc.CreateArtist(t.Context(), u, "Ana", ""); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		var ids []nineten.ID
		for i, name := range []string{"one.flac", "two.ogg"} {
			src := audiotest.Make(t, dir, audiotest.Spec{Name: name, Seconds: 3, Title: name, Album: "Pair", Track: fmt.Sprint(i + 1), Cover: i == 0})
			tr, err := r.upload(t, u, src)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tr.ID)
		}
		r.runJobs(t)
		one, _ := r.db.TrackByID(t.Context(), ids[0])
		two, _ := r.db.TrackByID(t.Context(), ids[1])
		if one.Status != nineten.TrackReady || two.Status != nineten.TrackReady || one.AlbumID == 0 || one.AlbumID != two.AlbumID {
			t.Fatalf("tracks %+v / %+v", one, two)
		}
		album, _ := r.db.AlbumByID(t.Context(), one.AlbumID)
		if album.CoverKey == "" || album.TrackCount != 2 {
			t.Errorf("album %+v: want a cover from the first track and 2 tracks", album)
		}
		if _, err := r.blobs.Open(t.Context(), album.CoverKey+"/cover-200.jpg"); err != nil {
			t.Errorf("album cover missing: %v", err)
		}
		// Re-running a finished job changes nothing.
		payload := fmt.Appendf(nil, `{"track_id":%d,"upload":"uploads/gone.flac"}`, one.ID)
		if err := r.svc.Processor().Run(t.Context(), &nineten.Job{Kind: catalog.JobProcessTrack, Payload: payload}, func(int) {}); err != nil {
			t.Errorf("re-running a done job: %v", err)
		}

		// Moving a track to another album creates it; another user may not.
		title := "B-sides"
		moved, err := r.svc.UpdateTrack(t.Context(), u, two.ID, catalog.TrackEdit{Album: &title})
		if err != nil || moved.AlbumTitle != "B-sides" || moved.AlbumID == one.AlbumID {
			t.Fatalf("move: %+v %v", moved, err)
		}
		intruder := r.user(t, "ivo", nineten.RoleArtist)
		if _, err := r.svc.UpdateTrack(t.Context(), intruder, two.ID, catalog.TrackEdit{Title: &title}); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("intruder edit: %v", err)
		}
		bad := 12345
		if _, err := r.svc.UpdateTrack(t.Context(), u, two.ID, catalog.TrackEdit{Year: &bad}); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("five-digit year: %v", err)
		}
	})
}

func TestSweepRemovesWhatInterruptedWorkLeft(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		u := r.user(t, "eve", nineten.RoleListener)
		if _, err := r.svc.CreateArtist(t.Context(), u, "Eve", ""); err != nil {
			t.Fatal(err)
		}
		tr, err := r.upload(t, u, audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "s.flac", Seconds: 2}))
		if err != nil {
			t.Fatal(err)
		}
		// The job gave up without cleaning up (say, the worker died on its last try).
		j, _ := r.db.Claim(t.Context(), []string{catalog.JobProcessTrack}, time.Now(), time.Minute)
		if err := r.db.Fail(t.Context(), j.ID, "worker died", time.Now()); err != nil {
			t.Fatal(err)
		}
		orphanBlob := "tracks/999/hls/opus64/seg0.m4s"
		if _, err := r.blobs.Put(t.Context(), orphanBlob, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		staleWork := filepath.Join(r.svc.ScratchDir, "work", "track-998")
		os.MkdirAll(staleWork, 0o750)
		old := time.Now().Add(-2 * time.Hour)
		uploads, _ := os.ReadDir(filepath.Join(r.svc.ScratchDir, "uploads"))
		for _, e := range uploads {
			os.Chtimes(filepath.Join(r.svc.ScratchDir, "uploads", e.Name()), old, old)
		}
		os.Chtimes(staleWork, old, old)
		// Make the processing track look an hour old too.
		got, _ := r.db.TrackByID(t.Context(), tr.ID)
		got.UpdatedAt = old
		r.db.UpdateTrack(t.Context(), got)

		if err := r.svc.Sweep(t.Context(), time.Hour); err != nil {
			t.Fatal(err)
		}
		got, _ = r.db.TrackByID(t.Context(), tr.ID)
		if got.Status != nineten.TrackFailed || got.Error == "" {
			t.Errorf("stuck track is %q (%q), want failed with a reason", got.Status, got.Error)
		}
		if _, err := r.blobs.Open(t.Context(), orphanBlob); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("orphan media of a missing track survived: %v", err)
		}
		for _, sub := range []string{"uploads", "work"} {
			if entries, _ := os.ReadDir(filepath.Join(r.svc.ScratchDir, sub)); len(entries) != 0 {
				t.Errorf("scratch/%s still holds %v", sub, entries)
			}
		}
	})
}

// Media of existing tracks survives a sweep however many tracks there are
// (stores hand out lists a page at a time).
func TestSweepKeepsMediaOfEveryTrack(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		u := r.user(t, "max", nineten.RoleArtist)
		a := &nineten.Artist{OwnerID: u.ID, Name: "Max", Slug: "max", CreatedAt: time.Now()}
		if err := r.db.CreateArtist(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		var last nineten.ID
		for i := range 450 {
			tr := &nineten.Track{ArtistID: a.ID, Title: fmt.Sprint("t", i), DurationMS: 1000, Status: nineten.TrackReady, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := r.db.CreateTrack(t.Context(), tr); err != nil {
				t.Fatal(err)
			}
			last = tr.ID
		}
		key := fmt.Sprintf("tracks/%d/waveform.json", last)
		if _, err := r.blobs.Put(t.Context(), key, strings.NewReader("{}")); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.Sweep(t.Context(), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := r.blobs.Open(t.Context(), key); err != nil {
			t.Errorf("the sweep deleted media of track %d: %v", last, err)
		}
	})
}

// Artists and users share the fediverse handle namespace.
func TestSlugsAvoidUsernames(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		r.user(t, "echo", nineten.RoleListener)
		u := r.user(t, "echo-owner", nineten.RoleListener)
		a, err := r.svc.CreateArtist(t.Context(), u, "Echo", "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Slug == "echo" {
			t.Errorf("artist got the slug %q, which is a username", a.Slug)
		}
	})
}
