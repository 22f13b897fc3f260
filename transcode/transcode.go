// Package transcode turns uploaded audio into what 9ten streams: it
// implements nineten.Transcoder with the ffmpeg and ffprobe command-line
// tools, which must be installed on the node.
//
// Every tool runs as a child process without a shell, with paths made
// absolute so that ffmpeg never mistakes a file name for a protocol
// ("concat:…") or an option ("-…").
package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// FFmpeg is the ffmpeg/ffprobe implementation of nineten.Transcoder.
type FFmpeg struct {
	FFmpegPath  string
	FFprobePath string
	// SegmentDuration is the target length of an HLS segment; zero means 4 s.
	SegmentDuration time.Duration
	// Threads caps the threads ffmpeg gives each decoder and encoder, so that
	// transcoding leaves room for serving; zero lets ffmpeg choose.
	Threads int
}

var _ nineten.Transcoder = (*FFmpeg)(nil)

const defaultSegmentDuration = 4 * time.Second

// installHint ends every message about missing tools, because the fix is
// always the same on the Debian machines 9ten runs on.
const installHint = "install it with `apt-get install ffmpeg`"

// New returns an FFmpeg using the ffmpeg and ffprobe found on PATH. It does
// not fail when they are missing: Check says so in words an admin can act on.
func New() *FFmpeg {
	return &FFmpeg{
		FFmpegPath:      lookPath("ffmpeg"),
		FFprobePath:     lookPath("ffprobe"),
		SegmentDuration: defaultSegmentDuration,
	}
}

func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	// Keep the bare name so that the error on first use names the tool.
	return name
}

// Check reports, as a KindUnavailable error, whether ffmpeg and ffprobe can
// run and whether ffmpeg has the encoders the renditions need. Some minimal
// ffmpeg builds lack libopus, so running is not enough.
func (f *FFmpeg) Check(ctx context.Context) error {
	const op = "transcode.Check"
	var encoders []byte
	_, err := f.run(ctx, f.FFmpegPath, []string{"-hide_banner", "-encoders"}, func(r io.Reader) (err error) {
		encoders, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "ffmpeg cannot run; "+installHint, err)
	}
	for _, name := range []string{"libopus", "aac", "libmp3lame"} {
		if !hasEncoder(encoders, name) {
			return nineten.E(op, nineten.KindUnavailable,
				fmt.Sprintf("the ffmpeg at %s has no %s encoder; %s", f.FFmpegPath, name, installHint))
		}
	}
	if _, err := f.run(ctx, f.FFprobePath, []string{"-hide_banner", "-version"}, nil); err != nil {
		return nineten.E(op, nineten.KindUnavailable, "ffprobe cannot run; "+installHint, err)
	}
	return nil
}

// hasEncoder looks for an audio encoder in the output of `ffmpeg -encoders`,
// whose lines read " A..... libopus   libopus Opus (codec opus)".
func hasEncoder(list []byte, name string) bool {
	for line := range strings.Lines(string(list)) {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[1] == name && strings.HasPrefix(fields[0], "A") {
			return true
		}
	}
	return false
}

func (f *FFmpeg) segmentDuration() time.Duration {
	if f.SegmentDuration > 0 {
		return f.SegmentDuration
	}
	return defaultSegmentDuration
}

// threadArgs limits the threads of the codecs that the options following
// it configure; ffmpeg takes -threads per input and per output.
func (f *FFmpeg) threadArgs() []string {
	if f.Threads <= 0 {
		return nil
	}
	return []string{"-threads", strconv.Itoa(f.Threads)}
}

// run runs a tool to completion. If stdout is not nil it consumes the tool's
// standard output while the tool runs, which lets callers stream decoded
// audio instead of holding it. The returned tail keeps the end of the tool's
// standard error for error messages.
//
// extra files are handed to the tool as file descriptors 3, 4, …; run
// closes them once the tool has its own copies.
func (f *FFmpeg) run(ctx context.Context, bin string, args []string, stdout func(io.Reader) error, extra ...*os.File) (*tail, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	dieWithNode(cmd)
	stderr := &tail{}
	cmd.Stderr = stderr
	cmd.ExtraFiles = extra
	defer func() {
		for _, f := range extra {
			f.Close()
		}
	}()
	var out io.ReadCloser
	if stdout != nil {
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			return stderr, err
		}
	}
	slog.DebugContext(ctx, "running media tool", "cmd", cmd.String())
	err := cmd.Start()
	for _, f := range extra {
		// The tool holds its own copies; ours would keep pipes from ending.
		f.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return stderr, ctx.Err()
		}
		return stderr, &startError{err}
	}
	var consumeErr error
	if out != nil {
		if consumeErr = stdout(out); consumeErr != nil {
			// The output is useless now; stop the tool rather than let it
			// block on a full pipe.
			_ = cmd.Process.Kill()
		}
		// Wait closes the pipe, so whatever the consumer left must be read
		// first or the tool could block writing it.
		_, _ = io.Copy(io.Discard, out)
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		return stderr, ctx.Err()
	}
	var exit *exec.ExitError
	if consumeErr != nil && (err == nil || errors.As(err, &exit) && exit.ExitCode() < 0) {
		// We killed the tool, so why we did is the error. When the tool
		// failed on its own, its exit (and stderr) explain more than the
		// consumer's complaint about output cut short.
		return stderr, consumeErr
	}
	return stderr, err
}

// startError marks a tool that could not even start: it is missing or not
// executable, which is the admin's problem rather than the file's.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// failure turns a failed ffmpeg run into an error for the user, with what
// ffmpeg said as the cause for the logs. Decoder complaints mean the upload
// is damaged (KindInvalid); anything else is ours to fix.
func failure(op, doing string, err error, stderr *tail) error {
	var se *startError
	if errors.As(err, &se) {
		return nineten.E(op, nineten.KindUnavailable, "ffmpeg cannot run; "+installHint, err)
	}
	if stderr.String() != "" {
		err = fmt.Errorf("%w; ffmpeg said: %s", err, stderr.lastLines(5))
	}
	if stderr.corrupt() {
		return nineten.E(op, nineten.KindInvalid, "the audio is damaged and cannot be decoded", err)
	}
	return nineten.E(op, "ffmpeg failed while "+doing, err)
}

// absPath makes path absolute, for the reason in the package comment.
func absPath(op, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nineten.E(op, "cannot resolve the media path", err)
	}
	return abs, nil
}

// tail keeps the last tailSize bytes written to it: enough to explain a
// failure, without growing when a damaged file makes ffmpeg complain about
// every frame.
type tail struct{ buf []byte }

const tailSize = 16 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string { return string(bytes.TrimSpace(t.buf)) }

// logPrefix matches the "[flac @ 0x55d1c0a3e400] " that starts ffmpeg's log
// lines; the address means nothing to a reader.
var logPrefix = regexp.MustCompile(`\[([^]@]+?) @ 0x[0-9a-f]+\] `)

// lastLines returns the last n non-empty lines, joined into one.
func (t *tail) lastLines(n int) string {
	var lines []string
	for line := range strings.Lines(t.String()) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, logPrefix.ReplaceAllString(line, "$1: "))
		}
	}
	lines = lines[max(0, len(lines)-n):]
	return strings.Join(lines, "; ")
}

// corruptSigns are what ffmpeg's demuxers and decoders say about broken
// input, as opposed to failures of our own (a full disk, a missing encoder).
var corruptSigns = []string{
	"invalid data found",
	"error while decoding",
	"decode_frame() failed",
	"corrupt",
	"truncat",
	"header missing",
	"invalid frame",
}

func (t *tail) corrupt() bool {
	s := strings.ToLower(string(t.buf))
	for _, sign := range corruptSigns {
		if strings.Contains(s, sign) {
			return true
		}
	}
	return false
}
