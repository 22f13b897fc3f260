package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	nineten "nineten.dev"
)

// randomBytes returns n reproducible bytes that no compression or
// deduplication can shortcut.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	return b
}

// onlyReader hides everything but Read, as an upload from the network
// does: a store cannot learn the length or seek.
type onlyReader struct{ io.Reader }

// sameContent compares a blob's whole content with want without holding
// a second copy of it.
func sameContent(t *testing.T, b nineten.Blob, want []byte) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, b)
	if err != nil {
		t.Fatalf("reading the blob: %v", err)
	}
	if n != int64(len(want)) || [32]byte(h.Sum(nil)) != sha256.Sum256(want) {
		t.Fatalf("read %d bytes that differ from the %d stored", n, len(want))
	}
}

// readAt seeks b to off and reads up to n bytes there.
func readAt(t *testing.T, b nineten.Blob, off int64, whence int, n int) []byte {
	t.Helper()
	if _, err := b.Seek(off, whence); err != nil {
		t.Fatalf("Seek(%d, %d): %v", off, whence, err)
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(b, buf)
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatalf("reading %d bytes after Seek(%d, %d): %v", n, off, whence, err)
	}
	return buf[:got]
}

// runLarge checks files larger than an S3 multipart part (5–16 MiB).
func runLarge(t *testing.T, open func(t *testing.T) nineten.BlobStore) {
	t.Run("LargePutStreamsInParts", func(t *testing.T) {
		s := open(t)
		want := randomBytes(1, 40<<20+123)
		n, err := s.Put(t.Context(), "tracks/9/original", onlyReader{bytes.NewReader(want)})
		if err != nil || n != int64(len(want)) {
			t.Fatalf("Put = %d, %v; want %d, nil", n, err, len(want))
		}
		b, err := s.Open(t.Context(), "tracks/9/original")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Size() != int64(len(want)) {
			t.Fatalf("Size = %d, want %d", b.Size(), len(want))
		}
		sameContent(t, b, want)
		// Ranges across the boundaries of 5, 8 and 16 MiB parts, back and forth.
		for _, off := range []int{16<<20 - 7, 5<<20 - 3, 32<<20 + 11, 8 << 20, len(want) - 100, 0} {
			got := readAt(t, b, int64(off), io.SeekStart, 4096)
			if end := min(off+4096, len(want)); !bytes.Equal(got, want[off:end]) {
				t.Errorf("%d bytes at %d differ", len(got), off)
			}
		}
	})
	// An upload of unknown length must stream: the store may hold a part
	// of it in memory, never the whole file.
	t.Run("PutDoesNotBufferTheWholeFile", func(t *testing.T) {
		s := open(t)
		const size = 64 << 20
		stream := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{6}), size) }
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n, err := s.Put(t.Context(), "tracks/9/original", stream())
		runtime.ReadMemStats(&after)
		if err != nil || n != size {
			t.Fatalf("Put = %d, %v; want %d, nil", n, err, size)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
			t.Errorf("Put of %d MiB allocated %d MiB", size>>20, alloc>>20)
		}
		b, err := s.Open(t.Context(), "tracks/9/original")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		want, got := sha256.New(), sha256.New()
		io.Copy(want, stream())
		if m, err := io.Copy(got, b); err != nil || m != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			t.Errorf("read back %d bytes (%v) that differ from the %d stored", m, err, size)
		}
	})
	t.Run("ImportLargeFile", func(t *testing.T) {
		s := open(t)
		want := randomBytes(2, 24<<20+5)
		src := filepath.Join(t.TempDir(), "upload.wav")
		if err := os.WriteFile(src, want, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Import(t.Context(), "tracks/9/original", src); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Errorf("source still exists after Import: %v", err)
		}
		b, err := s.Open(t.Context(), "tracks/9/original")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		sameContent(t, b, want)
	})
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// runAtomic checks that readers see the old blob or the whole new one.
func runAtomic(t *testing.T, open func(t *testing.T) nineten.BlobStore) {
	t.Run("FailedPutKeepsOld", func(t *testing.T) {
		s := open(t)
		put(t, s, "a/b", "old")
		broken := io.MultiReader(bytes.NewReader(randomBytes(3, 6<<20)), failingReader{errors.New("the upload broke off")})
		if _, err := s.Put(t.Context(), "a/b", onlyReader{broken}); err == nil {
			t.Fatal("Put of a broken stream succeeded")
		}
		if _, err := s.Put(t.Context(), "a/c", onlyReader{io.MultiReader(strings.NewReader("partial"), failingReader{io.ErrUnexpectedEOF})}); err == nil {
			t.Fatal("Put of a broken stream succeeded")
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Put(ctx, "a/b", strings.NewReader("new")); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		if got := read(t, s, "a/b"); got != "old" {
			t.Errorf("after failed Puts a/b = %.20q, want old", got)
		}
		if _, err := s.Open(t.Context(), "a/c"); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("a failed Put left a blob: %v", err)
		}
		if keys, err := s.List(t.Context(), "a"); err != nil || !slices.Equal(keys, []string{"a/b"}) {
			t.Errorf("after failed Puts List = %v, %v; want [a/b]", keys, err)
		}
	})
	// While a blob is replaced again and again, every read returns one
	// version whole. A store may instead fail a read whose blob was
	// replaced under it, with KindConflict; it may never mix versions.
	t.Run("ReadersSeeOldOrNew", func(t *testing.T) {
		s := open(t)
		version := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 300_000+i*7919) }
		if _, err := s.Put(t.Context(), "seg", bytes.NewReader(version(0))); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		reads := 0
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					b, err := s.Open(t.Context(), "seg")
					if err != nil {
						t.Errorf("Open during replacements: %v", err)
						return
					}
					data, err := io.ReadAll(b)
					b.Close()
					if err != nil {
						if nineten.ErrorKind(err) != nineten.KindConflict {
							t.Errorf("read during replacements: %v (only KindConflict may fail it)", err)
						}
						continue
					}
					if i := int(data[0] - 'a'); len(data) == 0 || !bytes.Equal(data, version(i)) {
						t.Errorf("read %d bytes that are no version whole", len(data))
						return
					}
					if int64(len(data)) != b.Size() {
						t.Errorf("read %d bytes of a blob of Size %d", len(data), b.Size())
					}
					mu.Lock()
					reads++
					mu.Unlock()
				}
			})
		}
		for i := range 12 {
			if _, err := s.Put(t.Context(), "seg", bytes.NewReader(version(1+i%5))); err != nil {
				t.Error(err)
				break
			}
		}
		close(done)
		wg.Wait()
		if reads == 0 {
			t.Error("no read completed while the blob was replaced")
		}
	})
}

// runReads checks what serving media needs: ranges after seeks, as
// http.ServeContent asks for them, and a size and time that stay the same
// from one Open to the next (the node's ETag is made of them).
func runReads(t *testing.T, open func(t *testing.T) nineten.BlobStore) {
	t.Run("SeeksFromStartCurrentAndEnd", func(t *testing.T) {
		s := open(t)
		want := randomBytes(4, 1<<20)
		if _, err := s.Put(t.Context(), "w", bytes.NewReader(want)); err != nil {
			t.Fatal(err)
		}
		b, err := s.Open(t.Context(), "w")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if got := readAt(t, b, 1000, io.SeekStart, 100); !bytes.Equal(got, want[1000:1100]) {
			t.Error("bytes at 1000 differ")
		}
		if got := readAt(t, b, 5000, io.SeekCurrent, 10); !bytes.Equal(got, want[6100:6110]) {
			t.Error("bytes 5000 past the current offset differ")
		}
		if got := readAt(t, b, -10, io.SeekEnd, 100); !bytes.Equal(got, want[len(want)-10:]) {
			t.Errorf("last 10 bytes: read %d that differ", len(got))
		}
		if got := readAt(t, b, 0, io.SeekStart, 4); !bytes.Equal(got, want[:4]) {
			t.Error("first bytes after seeking back differ")
		}
		end, err := b.Seek(0, io.SeekEnd)
		if err != nil || end != int64(len(want)) {
			t.Fatalf("Seek(0, SeekEnd) = %d, %v; want %d", end, err, len(want))
		}
		if n, err := b.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
		}
	})
	t.Run("ServeContentRanges", func(t *testing.T) {
		s := open(t)
		want := randomBytes(5, 300_000)
		if _, err := s.Put(t.Context(), "tracks/1/hls/opus64/seg1.m4s", bytes.NewReader(want)); err != nil {
			t.Fatal(err)
		}
		serve := func(rng string) *http.Response {
			b, err := s.Open(t.Context(), "tracks/1/hls/opus64/seg1.m4s")
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			req := httptest.NewRequest(http.MethodGet, "/seg1.m4s", nil)
			req.Header.Set("Range", rng)
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "seg1.m4s", b.ModTime(), b)
			return rec.Result()
		}
		for rng, span := range map[string][2]int{"bytes=100-199": {100, 200}, "bytes=-10": {len(want) - 10, len(want)}, "bytes=250000-": {250000, len(want)}} {
			resp := serve(rng)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[span[0]:span[1]]) {
				t.Errorf("Range %s: %s with %d bytes, want 206 with bytes %d–%d", rng, resp.Status, len(body), span[0], span[1])
			}
		}
		resp := serve("bytes=0-9,150000-150009")
		_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		mr := multipart.NewReader(resp.Body, params["boundary"])
		for i, off := range []int{0, 150000} {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d of a multi-range answer: %v", i, err)
			}
			if got, _ := io.ReadAll(p); !bytes.Equal(got, want[off:off+10]) {
				t.Errorf("part %d of a multi-range answer differs", i)
			}
		}
	})
	t.Run("StableSizeAndModTime", func(t *testing.T) {
		s := open(t)
		before := time.Now()
		put(t, s, "tracks/2/waveform.json", "[1,2,3]")
		var sizes []int64
		var times []time.Time
		for range 2 {
			b, err := s.Open(t.Context(), "tracks/2/waveform.json")
			if err != nil {
				t.Fatal(err)
			}
			sizes, times = append(sizes, b.Size()), append(times, b.ModTime())
			b.Close()
		}
		if sizes[0] != 7 || sizes[1] != 7 || !times[0].Equal(times[1]) {
			t.Errorf("two opens disagree: sizes %v, times %v", sizes, times)
		}
		// Stores may round to the second; a wrong clock or a zero time is
		// still far off.
		if d := times[0].Sub(before); d < -2*time.Second || d > time.Hour {
			t.Errorf("ModTime %v is %v from the time of the Put", times[0], d)
		}
	})
	t.Run("EmptyBlob", func(t *testing.T) {
		s := open(t)
		if n, err := s.Put(t.Context(), "e/empty", strings.NewReader("")); err != nil || n != 0 {
			t.Fatalf("Put of nothing = %d, %v", n, err)
		}
		b, err := s.Open(t.Context(), "e/empty")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if data, err := io.ReadAll(b); err != nil || len(data) != 0 || b.Size() != 0 {
			t.Errorf("empty blob: Size %d, read %q, %v", b.Size(), data, err)
		}
	})
	t.Run("OpenOfAPrefixIsNotFound", func(t *testing.T) {
		s := open(t)
		put(t, s, "tracks/4/hls/master.m3u8", "#EXTM3U")
		for _, k := range []string{"tracks/4", "tracks/4/hls"} {
			if b, err := s.Open(t.Context(), k); nineten.ErrorKind(err) != nineten.KindNotFound {
				if err == nil {
					b.Close()
				}
				t.Errorf("Open(%q) of a prefix = %v, want KindNotFound", k, err)
			}
		}
	})
}

// runLists checks listing and deleting more keys than one S3 request
// returns or deletes (1,000).
func runLists(t *testing.T, open func(t *testing.T) nineten.BlobStore) {
	t.Run("ManyKeys", func(t *testing.T) {
		s := open(t)
		const n = 1005
		want := make([]string, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := range n {
			want[i] = fmt.Sprintf("tracks/5/hls/opus64/seg%d.m4s", i)
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if _, err := s.Put(t.Context(), want[i], strings.NewReader("x")); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		put(t, s, "tracks/50/original", "sibling")
		slices.Sort(want)
		keys, err := s.List(t.Context(), "tracks/5")
		if err != nil || !slices.Equal(keys, want) {
			t.Fatalf("List = %d keys, %v; want the %d stored, sorted", len(keys), err, n)
		}
		if err := s.DeletePrefix(t.Context(), "tracks/5"); err != nil {
			t.Fatal(err)
		}
		if keys, err := s.List(t.Context(), "tracks/5"); err != nil || len(keys) != 0 {
			t.Errorf("after DeletePrefix List = %d keys, %v", len(keys), err)
		}
		if keys, err := s.List(t.Context(), "tracks"); err != nil || !slices.Equal(keys, []string{"tracks/50/original"}) {
			t.Errorf("after DeletePrefix of a sibling List = %v, %v", keys, err)
		}
	})
}
