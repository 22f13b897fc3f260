package e2e_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nineten.dev/testkit/nodetest"
)

// geotagged writes a w×h JPEG carrying an EXIF segment with a GPS position,
// as a phone's photo does.
func geotagged(t *testing.T, w, h int, gps string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte("Exif\x00\x00"), gps...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(payload)+2))
	data := append(append(append([]byte{}, b.Bytes()[:2]...), seg...), payload...)
	data = append(data, b.Bytes()[2:]...)
	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type pictured struct {
	AvatarURL *string `json:"avatar_url"`
	HeaderURL *string `json:"header_url"`
}

// Avatars and headers across two real nodes: Boris on B sets his avatar
// and his artist profile's header from a geotagged photo; B stores them
// without the EXIF, serves them cached for good, publishes them as icon
// and image on the actors, and A, whose Ana follows both, shows them in
// her follow list after the Update. Removing the avatar reaches A too, a
// damaged file is refused with a problem saying so, and closing the
// account erases the pictures.
func TestProfilePicturesAcrossNodes(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")

	boris, artistID := signupArtist(t, b.URL, "boris", "Bo Band")
	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	for _, h := range []string{"@bo-band@" + hostB, "@boris@" + hostB} {
		ana.must(ana.json("POST", "/api/v1/follows", map[string]string{"handle": h}), 201, nil)
	}
	eventually(t, 30*time.Second, "the follows accepted", func() bool {
		f := ana.follows()
		return len(f) == 2 && f[0].State == "accepted" && f[1].State == "accepted"
	})

	const gps = "GPSLatitude 48/1 51/1 2964/100 N"
	photo := geotagged(t, 900, 700, gps)
	var me pictured
	boris.must(boris.multipart("PUT", "/api/v1/me/pictures/avatar", photo, "photo.jpg", "image/jpeg"), 200, &me)
	var artist pictured
	boris.must(boris.multipart("PUT", fmt.Sprintf("/api/v1/artists/%d/pictures/header", artistID), photo, "photo.jpg", "image/jpeg"), 200, &artist)
	if me.AvatarURL == nil || me.HeaderURL != nil || artist.HeaderURL == nil || artist.AvatarURL != nil {
		t.Fatalf("after the uploads: user %+v, artist %+v", me, artist)
	}

	// Served from B: re-encoded (no EXIF), cropped and scaled, cached.
	anon := newClient(t, b.URL)
	for url, size := range map[string]image.Point{*me.AvatarURL: {400, 400}, *artist.HeaderURL: {900, 300}} {
		r := anon.do("GET", url, nil, nil)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("GET %s: %d %q %q", url, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
		}
		if bytes.Contains([]byte(r.Body), []byte("GPS")) || bytes.Contains([]byte(r.Body), []byte("Exif")) {
			t.Errorf("%s still holds the photo's EXIF", url)
		}
		cfg, err := jpeg.DecodeConfig(strings.NewReader(string(r.Body)))
		if err != nil || cfg.Width != size.X || cfg.Height != size.Y {
			t.Errorf("%s: %d×%d %v, want %v", url, cfg.Width, cfg.Height, err, size)
		}
	}

	// On the actors: icon and image as Mastodon reads them.
	user := anon.activity("/users/boris")
	icon, _ := user["icon"].(map[string]any)
	if icon["type"] != "Image" || icon["mediaType"] != "image/jpeg" || icon["url"] != b.URL+*me.AvatarURL || user["image"] != nil {
		t.Errorf("boris's actor: icon %v, image %v", user["icon"], user["image"])
	}
	band := anon.activity("/artists/bo-band")
	header, _ := band["image"].(map[string]any)
	if header["type"] != "Image" || header["url"] != b.URL+*artist.HeaderURL || band["icon"] != nil {
		t.Errorf("bo-band's actor: icon %v, image %v", band["icon"], band["image"])
	}

	// WebFinger names the avatar too, as Mastodon's does.
	var jrd struct {
		Links []struct{ Rel, Type, Href string }
	}
	anon.must(anon.do("GET", "/.well-known/webfinger?resource=acct:boris@"+hostB, nil, nil), 200, &jrd)
	if n := len(jrd.Links); n != 3 || jrd.Links[2].Rel != "http://webfinger.net/rel/avatar" || jrd.Links[2].Type != "image/jpeg" || jrd.Links[2].Href != b.URL+*me.AvatarURL {
		t.Errorf("boris's WebFinger links: %+v", jrd.Links)
	}
	// The node's own actor has an icon of its own, a PNG Mastodon takes.
	node := anon.activity("/actor")
	nodeIcon, _ := node["icon"].(map[string]any)
	if nodeIcon["url"] != b.URL+"/actor/icon.png" || nodeIcon["mediaType"] != "image/png" {
		t.Errorf("the node actor's icon: %v", node["icon"])
	} else if r := anon.do("GET", "/actor/icon.png", nil, nil); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("GET /actor/icon.png: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	} else if cfg, err := png.DecodeConfig(strings.NewReader(string(r.Body))); err != nil || cfg.Width != 128 {
		t.Errorf("the node's icon: %+v %v", cfg, err)
	}

	// A got the Updates and shows the pictures with the follows.
	pictures := func() map[string][2]string {
		var list struct {
			Items []struct {
				Actor struct {
					Handle  string
					IconURL string `json:"icon_url"`
					ImgURL  string `json:"image_url"`
				}
			}
		}
		ana.must(ana.json("GET", "/api/v1/follows", nil), 200, &list)
		out := map[string][2]string{}
		for _, it := range list.Items {
			out[strings.TrimSuffix(it.Actor.Handle, "@"+hostB)] = [2]string{it.Actor.IconURL, it.Actor.ImgURL}
		}
		return out
	}
	eventually(t, 30*time.Second, "the pictures reaching A", func() bool {
		p := pictures()
		return p["boris"] == [2]string{b.URL + *me.AvatarURL, ""} && p["bo-band"] == [2]string{"", b.URL + *artist.HeaderURL}
	})

	// A damaged upload is refused, saying what to do; nothing changes.
	cut := filepath.Join(t.TempDir(), "cut.jpg")
	whole, _ := os.ReadFile(photo)
	if err := os.WriteFile(cut, whole[:len(whole)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	r := boris.multipart("PUT", "/api/v1/me/pictures/avatar", cut, "cut.jpg", "image/jpeg")
	var prob struct{ Detail string }
	r.decode(t, &prob)
	if r.StatusCode != http.StatusUnprocessableEntity || r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(prob.Detail, "cut short") {
		t.Errorf("a truncated JPEG: %d %q %q", r.StatusCode, r.Header.Get("Content-Type"), prob.Detail)
	}
	if got := anon.activity("/users/boris")["icon"].(map[string]any)["url"]; got != b.URL+*me.AvatarURL {
		t.Errorf("after a refused upload the icon is %v", got)
	}

	// Removing the avatar: gone from B (the file too) and from A.
	old := *me.AvatarURL
	boris.must(boris.json("DELETE", "/api/v1/me/pictures/avatar", nil), 200, &me)
	if me.AvatarURL != nil || anon.activity("/users/boris")["icon"] != nil {
		t.Errorf("after removing: %+v, icon %v", me, anon.activity("/users/boris")["icon"])
	}
	if r := anon.do("GET", old, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("the removed avatar answers %d", r.StatusCode)
	}
	eventually(t, 30*time.Second, "the removal reaching A", func() bool { return pictures()["boris"][0] == "" })

	// Closing the account erases the header left.
	boris.must(boris.json("DELETE", "/api/v1/me", map[string]string{"password": "password-boris"}), 204, nil)
	if r := anon.do("GET", *artist.HeaderURL, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("a closed account's header answers %d", r.StatusCode)
	}
}

// TestBrowserProfilePictures drives the web app: Ana on A sets her avatar
// on her account page, and sees the pictures of an artist on B that she
// follows on its catalogue page and in her follow list, loaded from B
// without a referrer.
func TestBrowserProfilePictures(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	boris, artistID := signupArtist(t, b.URL, "boris", "Bo Band")
	photo := geotagged(t, 900, 700, "GPSLatitude 1/1")
	var band pictured
	for _, kind := range []string{"avatar", "header"} {
		boris.must(boris.multipart("PUT", fmt.Sprintf("/api/v1/artists/%d/pictures/%s", artistID, kind), photo, "photo.jpg", "image/jpeg"), 200, &band)
	}
	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	ana.must(ana.json("POST", "/api/v1/follows", map[string]string{"handle": "@bo-band@" + hostB}), 201, nil)
	eventually(t, 30*time.Second, "the follow accepted", func() bool {
		f := ana.follows()
		return len(f) == 1 && f[0].State == "accepted"
	})

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, a.Logs)
	// loaded waits for a picture to be shown: fetched and decoded.
	loaded := func(sel string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`(() => { const i = document.querySelector(%q); return !!i && i.complete && i.naturalWidth > 0; })()`, sel), nil, chromedp.WithPollingTimeout(15*time.Second))
	}
	var mine, theirs, banner, policy, listed string
	run(
		chromedp.Navigate(a.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "ana"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-ana"),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Navigate(a.URL+"/app/me/account"),
		chromedp.WaitReady(`[data-testid=avatar-input]`),
		chromedp.SetUploadFiles(`[data-testid=avatar-input]`, []string{photo}, chromedp.ByQuery),
		loaded(`[data-testid=pictures] img.avatar`),
		chromedp.AttributeValue(`[data-testid=pictures] img.avatar`, "src", &mine, nil),
	)
	screenshot(t, run, "account-pictures.png")
	run(
		chromedp.Navigate(a.URL+"/app/remote?handle="+url.QueryEscape("@bo-band@"+hostB)),
		loaded(`.page-head img.avatar`),
		loaded(`img.profile-header`),
		chromedp.AttributeValue(`.page-head img.avatar`, "src", &theirs, nil),
		chromedp.AttributeValue(`.page-head img.avatar`, "referrerpolicy", &policy, nil),
		chromedp.AttributeValue(`img.profile-header`, "src", &banner, nil),
	)
	screenshot(t, run, "remote-pictures.png")
	run(
		chromedp.Navigate(a.URL+"/app/following"),
		loaded(`.follow-row img.avatar`),
		chromedp.AttributeValue(`.follow-row img.avatar`, "src", &listed, nil),
	)
	var me pictured
	ana.must(ana.json("GET", "/api/v1/me", nil), 200, &struct{ User *pictured }{&me})
	if me.AvatarURL == nil || mine != a.URL+*me.AvatarURL && mine != *me.AvatarURL {
		t.Errorf("the account page shows %q; her avatar is %v", mine, me.AvatarURL)
	}
	if theirs != b.URL+*band.AvatarURL || banner != b.URL+*band.HeaderURL || listed != theirs || policy != "no-referrer" {
		t.Errorf("B's artist on A: avatar %q (referrerpolicy %q), header %q, in the follow list %q; want %s, %s", theirs, policy, banner, listed, b.URL+*band.AvatarURL, b.URL+*band.HeaderURL)
	}
}
