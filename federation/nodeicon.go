package federation

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"sync"
)

// The node actor's icon: Mastodon and GoToSocial show an actor without one
// as a grey silhouette, and take no SVG, so the node draws a small PNG of
// its own once (the web app's accent colours in a diagonal gradient).
var nodeIcon = sync.OnceValue(func() []byte {
	const side = 128
	from, to := color.RGBA{0x8b, 0x7c, 0xf6, 0xff}, color.RGBA{0x4f, 0xc3, 0xf7, 0xff}
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	mix := func(a, b uint8, t, n int) uint8 { return uint8((int(a)*(n-t) + int(b)*t) / n) }
	for y := range side {
		for x := range side {
			t, n := x+y, 2*(side-1)
			img.SetRGBA(x, y, color.RGBA{mix(from.R, to.R, t, n), mix(from.G, to.G, t, n), mix(from.B, to.B, t, n), 0xff})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
})

const nodeIconPath = "/actor/icon.png"

func (f *Service) serveNodeIcon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(nodeIcon())
}
