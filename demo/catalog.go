// Package demo makes the demo catalogue of 9ten: three fictional artists,
// an album each, with music and cover art synthesized here from code, so a
// newcomer's node has something pleasant to play and no recording whose
// rights belong to anyone else. The tracks come out in every audio format
// 9ten accepts, tagged, so that the demo exercises the whole upload path.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"nineten.dev"
)

// File is one generated audio file.
type File struct {
	Path string
	Tags nineten.Tags
	// Format is the file's extension without the dot, which names its
	// format: "flac", "mp3", "ogg" (Vorbis), "opus", "m4a" (AAC) or "wav".
	Format string
	// HasCover reports whether the album cover is embedded in the file.
	HasCover bool
}

// Artist is a demo artist's profile.
type Artist struct{ Name, Bio string }

type album struct {
	artist Artist
	title  string
	genre  string
	year   int
	style  style
	tracks []track
}

// track is a catalogue entry; its song's seed and style are filled in from
// its title and album.
type track struct {
	title  string
	format string
	song   song
}

var (
	synthwave = style{
		groove:     fourOnFloor,
		padWave:    saw,
		padCutoff:  1400,
		bassWave:   saw,
		bassCutoff: 220,
		lead:       fmPatch{ratio: 1, index: 2.2, decay: 0.2, env: adsr{a: 0.005, d: 0.3, s: 0.45, r: 0.2}},
		reverb:     0.25,
	}
	dreamPop = style{
		groove:     halfTime,
		padWave:    saw,
		padCutoff:  1100,
		padSeventh: true,
		bassWave:   triangle,
		bassCutoff: 400,
		// An inharmonic ratio makes a bell.
		lead:      fmPatch{ratio: 3.5, index: 1.2, decay: 0.5, env: adsr{a: 0.003, d: 0.6, s: 0.2, r: 0.6}},
		leadShift: 12,
		arpEvery:  2,
		reverb:    0.4,
	}
	lofi = style{
		groove:     boomBap,
		swing:      0.6,
		padWave:    square,
		padCutoff:  900,
		padSeventh: true,
		bassWave:   square,
		bassCutoff: 300,
		// A gentle 1:1 FM with a slow decay sounds like an electric piano.
		lead:     fmPatch{ratio: 1, index: 1, decay: 0.6, env: adsr{a: 0.002, d: 0.8, s: 0.3, r: 0.3}},
		arpEvery: 4,
		reverb:   0.2,
	}
)

// catalogue is the demo catalogue, about five and a half minutes of music.
// Chords are 0-based scale degrees: {0, 4, 5, 3} is I–V–vi–IV.
var catalogue = []album{
	{
		artist: Artist{
			Name: "Lumen Drift",
			Bio:  "Lumen Drift makes warm, neon-lit synthwave for night drives along empty coastal roads. A demo artist: the music is synthesized by 9ten.",
		},
		title: "Glass Horizons", genre: "Synthwave", year: 2023, style: synthwave,
		tracks: []track{
			{"Neon Tide", "flac", song{tonic: 69, minor: true, bpm: 104, length: 38 * time.Second, chords: []int{0, 5, 2, 6}}},
			{"Afterglow Protocol", "mp3", song{tonic: 60, bpm: 110, length: 33 * time.Second, chords: []int{0, 4, 5, 3}}},
			{"Polar Lights", "ogg", song{tonic: 66, minor: true, bpm: 98, length: 42 * time.Second, chords: []int{0, 3, 5, 4}}},
		},
	},
	{
		artist: Artist{
			Name: "The Night Orchard",
			Bio:  "The Night Orchard is a dream-pop project of bells, slow drums and long reverb, recorded (it says) among apple trees after dark. A demo artist: the music is synthesized by 9ten.",
		},
		title: "Pale Blossom Hours", genre: "Dream Pop", year: 2021, style: dreamPop,
		tracks: []track{
			{"Moth Choir", "opus", song{tonic: 64, bpm: 78, length: 36 * time.Second, chords: []int{0, 5, 3, 4}}},
			{"Orchard at Dusk", "m4a", song{tonic: 62, bpm: 82, length: 44 * time.Second, chords: []int{0, 4, 5, 3}}},
			{"Quiet Harvest", "wav", song{tonic: 59, minor: true, bpm: 74, length: 30 * time.Second, chords: []int{0, 6, 5, 6}}},
		},
	},
	{
		artist: Artist{
			Name: "Kite Theory",
			Bio:  "Kite Theory builds lo-fi beats from electric piano, plucked strings and a lazy swing, best with a window and weather. A demo artist: the music is synthesized by 9ten.",
		},
		title: "Paper Altitude", genre: "Lo-fi", year: 2025, style: lofi,
		tracks: []track{
			{"Crosswind", "flac", song{tonic: 67, bpm: 88, length: 35 * time.Second, chords: []int{5, 3, 0, 4}}},
			{"String and Sky", "mp3", song{tonic: 63, bpm: 92, length: 40 * time.Second, chords: []int{1, 4, 0, 5}}},
			{"Updraft", "ogg", song{tonic: 60, minor: true, bpm: 86, length: 32 * time.Second, chords: []int{0, 3, 6, 2}}},
		},
	},
}

// songOf returns the full description of track t of album a.
func songOf(a *album, t *track) *song {
	s := t.song
	s.seed = seedOf(a.artist.Name + "/" + t.title)
	s.style = a.style
	return &s
}

// Artists returns the demo artists in catalogue order.
func Artists() []Artist {
	out := make([]Artist, len(catalogue))
	for i, a := range catalogue {
		out[i] = a.artist
	}
	return out
}

// encoding is how ffmpeg writes a format.
type encoding struct {
	args  []string // output options
	cover bool     // the container can carry an attached picture
}

var encodings = map[string]encoding{
	"flac": {args: []string{"-c:a", "flac"}, cover: true},
	// ID3v2.3 rather than ffmpeg's default 2.4, because more players read it.
	"mp3":  {args: []string{"-c:a", "libmp3lame", "-q:a", "2", "-id3v2_version", "3"}, cover: true},
	"ogg":  {args: []string{"-c:a", "libvorbis", "-q:a", "5"}},
	"opus": {args: []string{"-c:a", "libopus", "-b:a", "128k"}},
	// The fast coder takes half the time of the default one; at 192 kb/s
	// its quality is ample for a demo.
	"m4a": {args: []string{"-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k"}, cover: true},
	"wav": {args: []string{"-c:a", "pcm_s16le"}},
}

// job is one file to make.
type job struct {
	file  File
	song  *song
	total int    // tracks on the album
	cover string // path of the album's cover PNG when the file embeds it
}

// Generate writes the catalogue's audio files into dir, creating it if
// needed, and returns them in catalogue order. It encodes with the ffmpeg
// at ffmpegPath, several tracks at once. progress, if not nil, is called
// after each file with the number done so far; calls never overlap. On
// error, files finished before it are left in dir.
func Generate(ctx context.Context, dir, ffmpegPath string, progress func(done, total int)) ([]File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: creating %s: %w", dir, err)
	}
	// ffmpeg's standard input carries the audio, so covers go through files.
	coverDir, err := os.MkdirTemp("", "9ten-demo-covers-")
	if err != nil {
		return nil, fmt.Errorf("demo: creating a directory for covers: %w", err)
	}
	defer os.RemoveAll(coverDir)

	var jobs []job
	for i := range catalogue {
		a := &catalogue[i]
		cover := filepath.Join(coverDir, slug(a.artist.Name+" "+a.title)+".png")
		if err := createCover(cover, a.artist.Name+"/"+a.title); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		for n := range a.tracks {
			t := &a.tracks[n]
			j := job{
				file: File{
					Path:   filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.%s", slug(a.artist.Name), n+1, slug(t.title), t.format)),
					Format: t.format,
					Tags: nineten.Tags{
						Title:       t.title,
						Artist:      a.artist.Name,
						Album:       a.title,
						TrackNumber: n + 1,
						Year:        a.year,
						Genre:       a.genre,
					},
				},
				song:  songOf(a, t),
				total: len(a.tracks),
			}
			if encodings[t.format].cover {
				j.file.HasCover, j.cover = true, cover
			}
			jobs = append(jobs, j)
		}
	}
	if err := runAll(ctx, jobs, ffmpegPath, progress); err != nil {
		return nil, err
	}
	files := make([]File, len(jobs))
	for i, j := range jobs {
		files[i] = j.file
	}
	return files, nil
}

// runAll encodes the jobs, one per CPU at a time: each is a render in Go
// followed by a mostly single-threaded ffmpeg. The first failure cancels
// the rest.
func runAll(ctx context.Context, jobs []job, ffmpegPath string, progress func(done, total int)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *job)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range min(runtime.NumCPU(), len(jobs)) {
		wg.Go(func() {
			for j := range next {
				if ctx.Err() != nil {
					continue // a job handed over just as the work was cancelled
				}
				if err := encode(ctx, ffmpegPath, j); err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				done++
				if progress != nil {
					progress(done, len(jobs))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case next <- &jobs[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("demo: generating the catalogue: %w", err)
	}
	return nil
}

func createCover(path, name string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating cover: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing cover: %w", cerr)
		}
	}()
	return writeCover(f, name)
}

// encode renders a job's song and pipes it as WAV into ffmpeg, which writes
// the tagged file. A failed file is removed so that none is left half made.
func encode(ctx context.Context, ffmpegPath string, j *job) error {
	enc := encodings[j.file.Format]
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "wav", "-i", "pipe:0"}
	if j.cover != "" {
		args = append(args, "-i", j.cover, "-map", "0:a", "-map", "1:v",
			"-c:v", "copy", "-disposition:v", "attached_pic",
			"-metadata:s:v", "title=Album cover", "-metadata:s:v", "comment=Cover (front)")
	}
	args = append(args, enc.args...)
	tags := j.file.Tags
	for _, kv := range [][2]string{
		{"title", tags.Title},
		{"artist", tags.Artist},
		{"album", tags.Album},
		{"track", fmt.Sprintf("%d/%d", tags.TrackNumber, j.total)},
		{"date", strconv.Itoa(tags.Year)},
		{"genre", tags.Genre},
	} {
		args = append(args, "-metadata", kv[0]+"="+kv[1])
	}
	args = append(args, j.file.Path)

	m := j.song.render()
	cmd := exec.CommandContext(ctx, ffmpegPath, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("encoding %s: %w", j.file.Path, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("encoding %s: starting ffmpeg: %w", j.file.Path, err)
	}
	werr := writeWAV(stdin, m)
	if cerr := stdin.Close(); werr == nil {
		werr = cerr
	}
	// ffmpeg's own complaint explains a broken pipe better than the pipe.
	if err := cmd.Wait(); err != nil {
		os.Remove(j.file.Path)
		return fmt.Errorf("encoding %s: ffmpeg: %w: %s", j.file.Path, err, strings.TrimSpace(stderr.String()))
	}
	if werr != nil {
		os.Remove(j.file.Path)
		return fmt.Errorf("encoding %s: piping audio to ffmpeg: %w", j.file.Path, werr)
	}
	return nil
}

// slug makes a lower-case, dash-separated file name part of s.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
