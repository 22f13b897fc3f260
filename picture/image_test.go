package picture

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	nineten "nineten.dev"
)

// photo draws a w×h picture whose left half is red and right half blue, so
// that a crop and a scale can be checked by the colours they keep.
func photo(w, h int, alpha uint8) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{R: 220, B: 20, A: alpha}
			if x >= w/2 {
				c = color.NRGBA{R: 20, B: 220, A: alpha}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// WithEXIF puts an APP1 Exif segment naming a GPS position right after a
// JPEG's start marker, where cameras and phones write it.
func WithEXIF(jpg []byte, text string) []byte {
	payload := append([]byte("Exif\x00\x00"), text...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func TestProcessStripsMetadata(t *testing.T) {
	const gps = "GPSLatitude 48/1 51/1 2964/100 N GPSLongitude 2/1 17/1 4008/100 E"
	in := WithEXIF(encodeJPEG(t, photo(800, 600, 255)), gps)
	if !bytes.Contains(in, []byte(gps)) {
		t.Fatal("the test picture carries no EXIF")
	}
	// The upload decodes as it is: the standard decoder skips APP1.
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	p, err := Process("test", bytes.NewReader(in), Avatar)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"Exif", "GPS", "48/1"} {
		if bytes.Contains(p.Data, []byte(leak)) {
			t.Errorf("the stored avatar still holds %q", leak)
		}
	}
	// No APP segment but what the encoder writes itself (none): after SOI
	// comes the quantisation table.
	if !bytes.HasPrefix(p.Data, []byte{0xFF, 0xD8, 0xFF, 0xDB}) {
		t.Errorf("the stored avatar starts % X, want SOI then DQT", p.Data[:4])
	}
}

func TestProcessShapes(t *testing.T) {
	cases := []struct {
		name      string
		kind      Kind
		w, h      int
		wantW     int
		wantH     int
		wantSplit bool // the red and blue halves are both still there
	}{
		{"a landscape photo becomes a 400 px square of its centre", Avatar, 1200, 800, 400, 400, true},
		{"a portrait photo too", Avatar, 600, 1000, 400, 400, true},
		{"a small avatar is cropped, never enlarged", Avatar, 120, 90, 90, 90, true},
		{"a square header becomes 3:1", Header, 1600, 1600, 1500, 500, true},
		{"a very wide header keeps its middle", Header, 6000, 500, 1500, 500, true},
		{"a small header is cropped, never enlarged", Header, 300, 300, 300, 100, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Process("test", bytes.NewReader(encodeJPEG(t, photo(c.w, c.h, 255))), c.kind)
			if err != nil {
				t.Fatal(err)
			}
			img, format, err := image.Decode(bytes.NewReader(p.Data))
			if err != nil || format != "jpeg" || p.MediaType != "image/jpeg" {
				t.Fatalf("stored %s %q: %v", p.MediaType, format, err)
			}
			if b := img.Bounds(); b.Dx() != c.wantW || b.Dy() != c.wantH || p.Width != c.wantW || p.Height != c.wantH {
				t.Errorf("%d×%d (said %d×%d), want %d×%d", b.Dx(), b.Dy(), p.Width, p.Height, c.wantW, c.wantH)
			}
			// Centred: the left edge is red, the right edge blue.
			b := img.Bounds()
			lr, _, lb, _ := img.At(b.Min.X+1, b.Dy()/2).RGBA()
			rr, _, rb, _ := img.At(b.Max.X-2, b.Dy()/2).RGBA()
			if c.wantSplit && !(lr > lb && rb > rr) {
				t.Errorf("left %d/%d, right %d/%d: the crop is off centre", lr>>8, lb>>8, rr>>8, rb>>8)
			}
		})
	}
}

func TestProcessKeepsTransparencyAsPNG(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, photo(500, 500, 128)); err != nil {
		t.Fatal(err)
	}
	p, err := Process("test", &b, Avatar)
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(p.Data))
	if err != nil || format != "png" || p.MediaType != "image/png" || p.Ext() != "png" {
		t.Fatalf("%s %q: %v", p.MediaType, format, err)
	}
	if _, _, _, a := img.At(10, 10).RGBA(); a>>8 < 120 || a>>8 > 136 {
		t.Errorf("alpha %d, want about 128", a>>8)
	}
}

func TestProcessReadsGIF(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 64, 64), color.Palette{color.Black, color.White})
	var b bytes.Buffer
	if err := gif.Encode(&b, pal, nil); err != nil {
		t.Fatal(err)
	}
	p, err := Process("test", &b, Avatar)
	if err != nil || p.Width != 64 || p.MediaType != "image/jpeg" {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestProcessRefuses(t *testing.T) {
	good := encodeJPEG(t, photo(300, 300, 255))
	var hugePNG bytes.Buffer
	// A PNG header claiming 20000×20000 pixels, its data never sent.
	_ = png.Encode(&hugePNG, image.NewGray(image.Rect(0, 0, 20000, 1)))
	huge := hugePNG.Bytes()
	binary.BigEndian.PutUint32(huge[20:], 20000) // IHDR height
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	// 9000×9000: within the limit a side, above 8K's pixels.
	wide := bytes.Clone(huge)
	binary.BigEndian.PutUint32(wide[16:], 9000)
	binary.BigEndian.PutUint32(wide[20:], 9000)
	binary.BigEndian.PutUint32(wide[29:], crc32.ChecksumIEEE(wide[12:29]))
	cases := []struct {
		name string
		body []byte
		kind nineten.Kind
		says string
	}{
		{"cut short", good[:len(good)/2], nineten.KindInvalid, "damaged or cut short"},
		{"a PNG signature over garbage", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 200)...), nineten.KindInvalid, "damaged or cut short"},
		{"a JPEG start over garbage", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 500)...), nineten.KindInvalid, "damaged or cut short"},
		{"not a picture", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), nineten.KindUnsupported, "upload a JPEG, PNG or GIF"},
		{"empty", nil, nineten.KindInvalid, "empty"},
		{"too tall", huge, nineten.KindTooLarge, "limited to 10000 pixels a side"},
		{"too many pixels", wide, nineten.KindTooLarge, "33 megapixels (8K)"},
		{"too small", encodeJPEG(t, photo(8, 8, 255)), nineten.KindInvalid, "at least 16 pixels"},
		{"too many bytes", append(good, make([]byte, MaxBytes)...), nineten.KindTooLarge, "limited to 10 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Process("test", bytes.NewReader(c.body), Avatar)
			if nineten.ErrorKind(err) != c.kind || !strings.Contains(err.Error(), c.says) {
				t.Errorf("%v (kind %v), want %v saying %q", err, nineten.ErrorKind(err), c.kind, c.says)
			}
		})
	}
}

// BenchmarkProcess makes an avatar and a header of a 12-megapixel photo,
// as a phone takes it.
func BenchmarkProcess(b *testing.B) {
	var in bytes.Buffer
	if err := jpeg.Encode(&in, photo(4000, 3000, 255), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	for _, kind := range []Kind{Avatar, Header} {
		b.Run(string(kind), func(b *testing.B) {
			for b.Loop() {
				if _, err := Process("bench", bytes.NewReader(in.Bytes()), kind); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
