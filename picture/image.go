// Package picture is the use case of profile pictures: the avatar and the
// header image of a listener or an artist profile, as their actors publish
// them (icon and image). An upload is decoded, cropped, scaled down and
// encoded again by the standard library, so what the node stores and
// serves is pixels only: no EXIF (a phone's GPS position), no comments, no
// colour profiles, nothing a forged file could smuggle.
package picture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // GIF uploads: the first frame is kept
	"image/jpeg"
	"image/png"
	"io"

	nineten "nineten.dev"
)

// Kind is which profile picture: the square avatar or the wide header.
type Kind string

const (
	Avatar Kind = "avatar"
	Header Kind = "header"
)

// Valid reports whether k names a profile picture.
func (k Kind) Valid() bool { return k == Avatar || k == Header }

// size is the largest picture kept of each kind, and its shape: avatars are
// squares of 400 px, headers 3:1 at 1500×500, as Mastodon crops them.
func (k Kind) size() (w, h int) {
	if k == Header {
		return 1500, 500
	}
	return 400, 400
}

const (
	// MaxBytes bounds an uploaded picture.
	MaxBytes = 10 << 20
	// maxSide and maxPixels bound what a picture may claim to be before it
	// is decoded: a small file can claim a huge image (a decompression
	// bomb) that would take gigabytes to decode. 7680×4320 (8K) is
	// Mastodon's limit too; decoded, it takes 133 MB.
	maxSide   = 10000
	maxPixels = 7680 * 4320
	// minSide is the smallest picture worth showing.
	minSide = 16
)

var decoding = make(chan struct{}, 2)

// Picture is a profile picture as the node stores it.
type Picture struct {
	Data          []byte
	MediaType     string // "image/jpeg", or "image/png" when it has transparency
	Width, Height int
}

// Ext is the file extension of the picture's format.
func (p *Picture) Ext() string {
	if p.MediaType == "image/png" {
		return "png"
	}
	return "jpg"
}

// Process reads an uploaded picture (JPEG, PNG or GIF), crops it to the
// kind's shape around its centre, scales it down to the kind's size (never
// up) and encodes it again: JPEG, or PNG when it has transparency.
func Process(op string, r io.Reader, kind Kind) (*Picture, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	switch {
	case err != nil:
		return nil, nineten.E(op, nineten.KindInvalid, "the upload was interrupted; try again", err)
	case len(data) > MaxBytes:
		return nil, nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("pictures are limited to %d MiB", MaxBytes>>20))
	case len(data) == 0:
		return nil, nineten.E(op, nineten.KindInvalid, "the upload is empty: send a JPEG, PNG or GIF file")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return nil, nineten.E(op, nineten.KindUnsupported, "the file is not a picture this node reads: upload a JPEG, PNG or GIF file")
	}
	if err != nil {
		return nil, damaged(op, format, err)
	}
	if cfg.Width > maxSide || cfg.Height > maxSide || cfg.Width*cfg.Height > maxPixels {
		return nil, nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("the picture is %d×%d pixels; pictures are limited to %d pixels a side and %d megapixels (8K)", cfg.Width, cfg.Height, maxSide, maxPixels/1_000_000))
	}
	if cfg.Width < minSide || cfg.Height < minSide {
		return nil, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the picture is %d×%d pixels; it needs at least %d pixels a side", cfg.Width, cfg.Height, minSide))
	}
	// Two pictures at most are decoded at once, so that a burst of uploads
	// cannot take more than a few hundred MB.
	decoding <- struct{}{}
	defer func() { <-decoding }()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, damaged(op, format, err)
	}
	img := scale(crop(src, kind), kind)
	var out bytes.Buffer
	p := &Picture{MediaType: "image/jpeg", Width: img.Rect.Dx(), Height: img.Rect.Dy()}
	if img.Opaque() {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 88})
	} else {
		p.MediaType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	p.Data = out.Bytes()
	return p, nil
}

// damaged is the error about a picture whose header reads but whose pixels
// do not: a truncated download, or a file that only starts like a picture.
func damaged(op, format string, err error) error {
	if format == "" {
		format = "picture"
	}
	return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the %s file is damaged or cut short (%v): export it again and upload the whole file", format, err))
}

// crop copies the centre of src in the kind's aspect ratio into an RGBA
// image (premultiplied, which averaging in scale needs).
func crop(src image.Image, kind Kind) *image.RGBA {
	kw, kh := kind.size()
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w*kh > h*kw { // wider than the shape: cut the sides
		w = h * kw / kh
	} else {
		h = w * kh / kw
	}
	w, h = max(w, 1), max(h, 1)
	at := image.Pt(b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Rect, src, at, draw.Src)
	return dst
}

// scale shrinks src to fit the kind's size by averaging the source pixels
// under each output pixel (a box filter: sharp enough for a downscale and
// free of the aliasing of picking one pixel in many).
func scale(src *image.RGBA, kind Kind) *image.RGBA {
	kw, kh := kind.size()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw <= kw && sh <= kh {
		return src
	}
	// crop gave src the kind's shape, so both sides shrink alike.
	dw, dh := kw, kh
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for dy := range dh {
		y0, y1 := dy*sh/dh, max((dy+1)*sh/dh, dy*sh/dh+1)
		for dx := range dw {
			x0, x1 := dx*sw/dw, max((dx+1)*sw/dw, dx*sw/dw+1)
			var sum [4]int
			for y := y0; y < y1; y++ {
				row := src.Pix[y*src.Stride+x0*4 : y*src.Stride+x1*4]
				for i := 0; i < len(row); i += 4 {
					sum[0] += int(row[i])
					sum[1] += int(row[i+1])
					sum[2] += int(row[i+2])
					sum[3] += int(row[i+3])
				}
			}
			n := (x1 - x0) * (y1 - y0)
			o := dy*dst.Stride + dx*4
			for c := range 4 {
				dst.Pix[o+c] = uint8((sum[c] + n/2) / n)
			}
		}
	}
	return dst
}
