package ui

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesAssets(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/ui/index.html", "text/html; charset=utf-8", `<script type="importmap">`},
		{"/ui/app.js", "text/javascript; charset=utf-8", "window.nineten"},
		{"/ui/app.css", "text/css; charset=utf-8", ".player"},
		{"/ui/pages/track.js", "text/javascript; charset=utf-8", "play-count"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			etag := rec.Header().Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			again := get(t, h, tc.path, http.Header{"If-None-Match": {etag}})
			if again.Code != http.StatusNotModified {
				t.Errorf("revalidation status = %d, want 304", again.Code)
			}
		})
	}
}

func TestHandlerNotFound(t *testing.T) {
	for _, p := range []string{"/ui/", "/ui/pages", "/ui/pages/", "/ui/nope.js", "/ui/../ui.go"} {
		if rec := get(t, Handler(), p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", p, rec.Code)
		}
	}
}

func TestIndex(t *testing.T) {
	rec := httptest.NewRecorder()
	serveIndex(rec, httptest.NewRequest(http.MethodGet, "/app/tracks/7", nil), true)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `src="/ui/app.js"`) {
		t.Errorf("with vendor files: status %d, body %.80q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}

	rec = httptest.NewRecorder()
	serveIndex(rec, httptest.NewRequest(http.MethodGet, "/", nil), false)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "npm ci --prefix ui") {
		t.Errorf("without vendor files: status %d, body %.80q", rec.Code, rec.Body.String())
	}

	// The exported handler picks the branch that matches this build.
	rec = get(t, Index(), "/", nil)
	want := http.StatusServiceUnavailable
	if VendorPresent() {
		want = http.StatusOK
	} else {
		t.Log("static/vendor is empty: run `npm ci --prefix ui` to embed the player's dependencies")
	}
	if rec.Code != want {
		t.Errorf("Index: status = %d, want %d", rec.Code, want)
	}
}

// importMap reads the bare-specifier map out of index.html.
func importMap(t *testing.T) map[string]string {
	t.Helper()
	html, err := fs.ReadFile(embedded, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`).FindSubmatch(html)
	if m == nil {
		t.Fatal("index.html has no import map")
	}
	var im struct{ Imports map[string]string }
	if err := json.Unmarshal(m[1], &im); err != nil {
		t.Fatalf("import map: %v", err)
	}
	return im.Imports
}

func TestImportMapMatchesVendorFiles(t *testing.T) {
	for spec, target := range importMap(t) {
		name, ok := strings.CutPrefix(target, "/ui/")
		if !ok || !slices.Contains(vendorFiles, name) {
			t.Errorf("import map: %s → %s is not one of vendorFiles %v", spec, target, vendorFiles)
			continue
		}
		if VendorPresent() {
			if _, ok := lookup(name); !ok {
				t.Errorf("import map: %s → %s is not embedded", spec, target)
			}
		}
	}
}

// Module specifiers in static imports and re-exports, side-effect imports
// and dynamic imports.
var importPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?m)(?:^|[;\s])(?:import|export)\s+[\w\s{},*$]*?\s*from\s*['"]([^'"]+)['"]`),
	regexp.MustCompile(`(?m)(?:^|[;\s])import\s*['"]([^'"]+)['"]`),
	regexp.MustCompile(`\bimport\(\s*['"]([^'"]+)['"]\s*\)`),
}

// TestModuleGraph checks that every import of our modules resolves, to an
// embedded file or through the import map, and that every module is
// reachable from app.js, so nothing is dead or missing from the graph.
func TestModuleGraph(t *testing.T) {
	imports := importMap(t)
	modules := map[string]bool{} // path under static/ → reached from app.js
	err := fs.WalkDir(embedded, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && name == "static/vendor" {
			return fs.SkipDir // third-party code, resolved through the import map
		}
		if !d.IsDir() && path.Ext(name) == ".js" {
			modules[name] = false
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	queue := []string{"static/app.js"}
	modules["static/app.js"] = true
	for len(queue) > 0 {
		module := queue[0]
		queue = queue[1:]
		src, err := fs.ReadFile(embedded, module)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range importPatterns {
			for _, m := range re.FindAllSubmatch(src, -1) {
				target, ok := resolveSpecifier(t, module, string(m[1]), imports)
				if ok && !modules[target] {
					modules[target] = true
					queue = append(queue, target)
				}
			}
		}
	}
	for name, reached := range modules {
		if !reached {
			t.Errorf("%s is not imported by app.js or any module it imports", name)
		}
	}
	if len(modules) < 10 {
		t.Errorf("only %d modules found under static/", len(modules))
	}
}

// resolveSpecifier checks one import and returns the module it names when
// that is one of ours.
func resolveSpecifier(t *testing.T, module, spec string, imports map[string]string) (string, bool) {
	t.Helper()
	switch {
	case strings.HasPrefix(spec, "./"), strings.HasPrefix(spec, "../"):
		target := path.Join(path.Dir(module), spec)
		if !strings.HasPrefix(target, "static/") {
			t.Errorf("%s: import %q leaves static/", module, spec)
			return "", false
		}
		if _, ok := lookup(strings.TrimPrefix(target, "static/")); !ok {
			t.Errorf("%s: import %q does not resolve to an embedded file (%s)", module, spec, target)
			return "", false
		}
		return target, true
	case strings.HasPrefix(spec, "/"):
		t.Errorf("%s: import %q: use a relative path or an import-map name", module, spec)
	default:
		if _, ok := imports[spec]; !ok {
			t.Errorf("%s: bare import %q is not in index.html's import map", module, spec)
		}
	}
	return "", false
}

// TestJavaScriptSelftest runs the Node tests of the pure modules (listen
// signing and metering) as part of go test.
func TestJavaScriptSelftest(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	out, err := exec.Command(node, "scripts/selftest.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node scripts/selftest.mjs: %v\n%s", err, out)
	}
}
