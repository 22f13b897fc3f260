// Package ui embeds 9ten's web app: static ES modules, styles and the
// vendored preact, htm and hls.js builds, served without a build step.
//
// The vendored files are copied into static/vendor by `npm ci --prefix ui`
// (see scripts/vendor.mjs) and are not committed; a binary built without
// them still serves a page that says how to fix the build.
package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:static
var embedded embed.FS

// vendorFiles are the third-party files copied by scripts/vendor.mjs: the
// modules index.html's import map points at. The app cannot play without
// any of them.
var vendorFiles = []string{
	"vendor/preact.mjs",
	"vendor/preact-hooks.mjs",
	"vendor/htm.mjs",
	"vendor/hls.mjs",
}

// contentTypes pins the types of the files we ship, so they do not depend
// on the host's mime.types (which may, for example, drop the charset).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// asset is one embedded file with the validator we answer revalidations with.
type asset struct {
	name string
	etag string
	typ  string
}

var (
	assetsOnce sync.Once
	assets     map[string]asset // keyed by path relative to static/
	staticFS   fs.FS
)

// loadAssets hashes every embedded file once: embedded files have no
// modification time, so a content hash is the only useful validator.
func loadAssets() {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	staticFS = sub
	assets = make(map[string]asset)
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		typ, ok := contentTypes[path.Ext(name)]
		if !ok {
			typ = mime.TypeByExtension(path.Ext(name))
		}
		assets[name] = asset{
			name: name,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
			typ:  typ,
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
}

func lookup(name string) (asset, bool) {
	assetsOnce.Do(loadAssets)
	a, ok := assets[name]
	return a, ok
}

// VendorPresent reports whether the vendored third-party modules were
// embedded, that is whether npm ran before the binary was built.
func VendorPresent() bool {
	for _, name := range vendorFiles {
		if _, ok := lookup(name); !ok {
			return false
		}
	}
	return true
}

// Handler serves the embedded assets under /ui/. Responses carry an ETag
// and Cache-Control: no-cache, so browsers revalidate cheaply and never
// run a stale module graph after an upgrade.
func Handler() http.Handler {
	return http.StripPrefix("/ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		a, ok := lookup(name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		serveAsset(w, r, a)
	}))
}

// Index serves the single-page app's shell for every client-side route
// (the server mounts it at GET / and GET /app/...). Without the vendored
// modules it serves an explanation instead of an app that cannot load.
func Index() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveIndex(w, r, VendorPresent())
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, vendorPresent bool) {
	if !vendorPresent {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, missingVendorPage)
		return
	}
	a, _ := lookup("index.html")
	serveAsset(w, r, a)
}

func serveAsset(w http.ResponseWriter, r *http.Request, a asset) {
	f, err := staticFS.Open(a.name)
	if err != nil {
		http.Error(w, "asset unavailable", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", a.typ)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// Embedded files are always seekable; ServeContent handles HEAD,
	// ranges and If-None-Match against the ETag set above.
	http.ServeContent(w, r, a.name, time.Time{}, f.(io.ReadSeeker))
}

const missingVendorPage = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>9ten – web player unavailable</title>
<style>body{font:16px/1.5 system-ui,sans-serif;background:#111318;color:#e8e9ee;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#23262f;padding:.1rem .3rem;border-radius:4px}</style>
<h1>Web player assets are missing</h1>
<p>Web player assets are missing: run <code>npm ci --prefix ui</code> (or <code>scripts/demo</code>) and rebuild.</p>
<p>The API under <code>/api/v1/</code> works without them.</p>
</html>
`
