package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/server"
	"nineten.dev/sqlstore"
)

// mediaRig serves one ready track's segment both through the node's media
// handler and through http.FileServer, from the same files.
func mediaRig(b *testing.B) (ours, ref string) {
	dir := b.TempDir()
	db, err := sqlstore.Open(b.Context(), filepath.Join(dir, "9ten.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	blobs, err := disk.Open(filepath.Join(dir, "media"))
	if err != nil {
		b.Fatal(err)
	}
	u := &nineten.User{Username: "bench", PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: time.Now()}
	db.CreateUser(b.Context(), u)
	a := &nineten.Artist{OwnerID: u.ID, Name: "B", Slug: "b", CreatedAt: time.Now()}
	db.CreateArtist(b.Context(), a)
	t := &nineten.Track{ArtistID: a.ID, Title: "T", DurationMS: 4000, Status: nineten.TrackReady, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	db.CreateTrack(b.Context(), t)
	blobs.Put(b.Context(), fmt.Sprintf("tracks/%d/hls/opus128/seg0.m4s", t.ID), strings.NewReader(strings.Repeat("x", 64<<10)))
	s := &server.Server{Store: db, Blobs: blobs}
	o := httptest.NewServer(s.Handler())
	f := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "media"))))
	b.Cleanup(func() { o.Close(); f.Close() })
	return fmt.Sprintf("%s/media/tracks/%d/hls/opus128/seg0.m4s", o.URL, t.ID), fmt.Sprintf("%s/tracks/%d/hls/opus128/seg0.m4s", f.URL, t.ID)
}

func get(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkSegment compares one keep-alive client fetching a 64 KiB segment
// from the media handler and from http.FileServer.
func BenchmarkSegment(b *testing.B) {
	ours, ref := mediaRig(b)
	for name, url := range map[string]string{"9ten": ours, "FileServer": ref} {
		b.Run(name, func(b *testing.B) {
			c := &http.Client{}
			for b.Loop() {
				get(b, c, url)
			}
		})
	}
}
