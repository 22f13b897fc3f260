package demo

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
)

// coverSize is the width and height of a cover, in pixels.
const coverSize = 600

// seedOf derives a seed from a name, so that everything generated for a
// name is stable as long as the name is.
func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// rgb is a colour with float channels in [0, 1], for blending.
type rgb struct{ r, g, b float64 }

// hsv converts hue (in turns; any value wraps), saturation and value.
func hsv(h, s, v float64) rgb {
	h = (h - math.Floor(h)) * 6
	f := h - math.Floor(h)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(h) {
	case 0:
		return rgb{v, t, p}
	case 1:
		return rgb{q, v, p}
	case 2:
		return rgb{p, v, t}
	case 3:
		return rgb{p, q, v}
	case 4:
		return rgb{t, p, v}
	}
	return rgb{v, p, q}
}

// mixRGB blends from a toward b by w in [0, 1].
func mixRGB(a, b rgb, w float64) rgb {
	return rgb{a.r + (b.r-a.r)*w, a.g + (b.g-a.g)*w, a.b + (b.b-a.b)*w}
}

// coverage turns a signed distance in pixels (negative inside a shape) into
// how much of the pixel the shape covers, which anti-aliases its edges.
func coverage(dist float64) float64 { return max(0, min(1, 0.5-dist)) }

// hill is one layer of a landscape: a horizon made of a few sine waves.
type hill struct {
	base  float64
	amp   [3]float64
	freq  [3]float64
	phase [3]float64
	col   rgb
}

func (h *hill) height(x float64) float64 {
	y := h.base
	for j := range h.amp {
		y += h.amp[j] * math.Sin(h.freq[j]*x+h.phase[j])
	}
	return y
}

// coverImage paints an album cover from the album's name: a sky in a
// gradient, a sun (striped or ringed), layered hills and a few stars. All
// choices come from the name's seed, so each album looks different but
// always the same.
func coverImage(name string) *image.RGBA {
	rnd := rand.New(rand.NewPCG(seedOf(name), 0))
	const size = float64(coverSize)
	hue := rnd.Float64()
	skyTop := hsv(hue, 0.7, 0.18)
	skyLow := hsv(hue+0.08+0.1*rnd.Float64(), 0.55, 0.85)
	sunHue := hue + 0.4 + 0.2*rnd.Float64()
	sunTop, sunLow := hsv(sunHue, 0.35, 1), hsv(sunHue+0.08, 0.8, 0.95)
	sunX := size * (0.35 + 0.3*rnd.Float64())
	sunY := size * (0.33 + 0.12*rnd.Float64())
	sunR := size * (0.14 + 0.12*rnd.Float64())
	striped, ringed := rnd.IntN(2) == 0, rnd.IntN(2) == 0

	hills := make([]hill, 3+rnd.IntN(2))
	for j := range hills {
		h := &hills[j]
		h.base = size * (0.55 + 0.12*float64(j))
		for w := range h.amp {
			h.amp[w] = size * 0.04 * rnd.Float64() / float64(w+1)
			h.freq[w] = (1 + 3*rnd.Float64()) * float64(w+1) * twoPi / size
			h.phase[w] = twoPi * rnd.Float64()
		}
		// Nearer hills are darker, as in haze.
		h.col = hsv(hue+0.5+0.05*float64(j), 0.5, 0.55-0.13*float64(j))
	}
	type star struct{ x, y, r float64 }
	stars := make([]star, 30+rnd.IntN(40))
	for j := range stars {
		stars[j] = star{size * rnd.Float64(), size * 0.5 * rnd.Float64(), 0.6 + 1.4*rnd.Float64()}
	}

	// Horizons depend on x alone: compute each once per column.
	horizon := make([][coverSize]float64, len(hills))
	for j := range hills {
		for px := range coverSize {
			horizon[j][px] = hills[j].height(float64(px) + 0.5)
		}
	}

	img := image.NewRGBA(image.Rect(0, 0, coverSize, coverSize))
	for py := range coverSize {
		y := float64(py) + 0.5
		for px := range coverSize {
			x := float64(px) + 0.5
			c := mixRGB(skyTop, skyLow, y/size)
			for _, s := range stars {
				if math.Abs(x-s.x) > s.r+1 || math.Abs(y-s.y) > s.r+1 {
					continue // far from the star: skip the square root
				}
				if d := math.Hypot(x-s.x, y-s.y) - s.r; d < 1 {
					c = mixRGB(c, rgb{1, 1, 1}, 0.8*coverage(d)*(1-y/(0.6*size)))
				}
			}
			d := math.Hypot(x-sunX, y-sunY)
			if ringed {
				// Thin rings around the sun, fading with distance.
				ring := math.Abs(math.Mod(d-sunR, sunR*0.35)-sunR*0.175) - 1
				if d > sunR && d < sunR*2.2 {
					c = mixRGB(c, sunTop, 0.35*coverage(ring)*(2.2-d/sunR))
				}
			}
			sun := coverage(d - sunR)
			if striped && y > sunY {
				// Bands that widen toward the horizon cut the sun's lower half.
				band := math.Mod((y-sunY)/sunR*6, 1)
				sun *= coverage((0.1 + 0.4*(y-sunY)/sunR - band) * sunR / 6)
			}
			c = mixRGB(c, mixRGB(sunTop, sunLow, (y-sunY+sunR)/(2*sunR)), sun)
			for j, h := range hills {
				c = mixRGB(c, h.col, coverage(horizon[j][px]-y))
			}
			img.SetRGBA(px, py, color.RGBA{channel(c.r), channel(c.g), channel(c.b), 255})
		}
	}
	return img
}

func channel(v float64) uint8 { return uint8(math.Round(255 * max(0, min(1, v)))) }

// writeCover writes the cover of the named album to w as a PNG.
func writeCover(w io.Writer, name string) error {
	if err := png.Encode(w, coverImage(name)); err != nil {
		return fmt.Errorf("encoding cover of %q: %w", name, err)
	}
	return nil
}

// WritePicture writes a picture for the named profile to w as a PNG: a
// scene drawn as the covers are, for the demo artists' avatars and headers.
func WritePicture(w io.Writer, name string) error { return writeCover(w, name) }
