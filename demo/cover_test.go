package demo

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func TestCovers(t *testing.T) {
	var encoded [][]byte
	var images []image.Image
	for _, a := range catalogue {
		name := a.artist.Name + "/" + a.title
		var buf bytes.Buffer
		if err := writeCover(&buf, name); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("cover of %s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 600 {
			t.Errorf("cover of %s is %dx%d, want 600x600", name, b.Dx(), b.Dy())
		}
		var again bytes.Buffer
		if err := writeCover(&again, name); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Errorf("cover of %s differs between two runs", name)
		}
		encoded = append(encoded, buf.Bytes())
		images = append(images, img)
	}
	for i := range images {
		for j := i + 1; j < len(images); j++ {
			if bytes.Equal(encoded[i], encoded[j]) {
				t.Errorf("albums %d and %d have the same cover", i, j)
			}
			// Distinct means visibly so, not a few pixels apart.
			if d := meanDifference(images[i], images[j]); d < 20 {
				t.Errorf("covers of albums %d and %d differ by %.1f per channel on average; want them clearly distinct", i, j, d)
			}
		}
	}
}

// meanDifference returns the mean absolute difference of two same-sized
// images' colour channels, on a scale of 0–255.
func meanDifference(a, b image.Image) float64 {
	var sum, n float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			for _, d := range [3]int{int(ar) - int(br), int(ag) - int(bg), int(ab) - int(bb)} {
				sum += float64(abs(d)) / 257
				n++
			}
		}
	}
	return sum / n
}
