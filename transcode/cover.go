package transcode

import (
	"context"
	"fmt"
	"path/filepath"
)

// coverSizes are the boxes the cover art is fitted into, by file name.
var coverSizes = []struct {
	file string
	box  int
}{
	{"cover-600.jpg", 600},
	{"cover-200.jpg", 200},
}

// Cover writes src's embedded cover art, or src itself when it is an image,
// as JPEGs fitted within 600×600 and 200×200 with the aspect ratio kept.
//
// Small pictures are never scaled up: that adds no detail, only bytes, and
// the browser scales an image to its box as well as ffmpeg would. So a
// 320×240 cover gives a 320×240 cover-600.jpg and a 200×150 cover-200.jpg.
func (f *FFmpeg) Cover(ctx context.Context, src, outDir string) (bool, error) {
	const op = "transcode.Cover"
	src, err := absPath(op, src)
	if err != nil {
		return false, err
	}
	if outDir, err = absPath(op, outDir); err != nil {
		return false, err
	}
	info, _, err := f.ffprobe(ctx, op, src)
	if err != nil {
		return false, err
	}
	pic := info.picture()
	if pic == nil {
		return false, nil
	}
	// One decode of the picture, split to one scaler per size.
	graph := fmt.Sprintf("[0:%d]split=%d", pic.Index, len(coverSizes))
	for i := range coverSizes {
		graph += fmt.Sprintf("[in%d]", i)
	}
	for i, c := range coverSizes {
		graph += fmt.Sprintf(";[in%d]scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease[out%d]",
			i, c.box, c.box, i)
	}
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", src, "-filter_complex", graph}
	for i, c := range coverSizes {
		args = append(args, "-map", fmt.Sprintf("[out%d]", i), "-an",
			"-frames:v", "1", "-q:v", "3", "-update", "1", filepath.Join(outDir, c.file))
	}
	if stderr, err := f.run(ctx, f.FFmpegPath, args, nil); err != nil {
		return false, failure(op, "resizing the cover art", err, stderr)
	}
	return true, nil
}
