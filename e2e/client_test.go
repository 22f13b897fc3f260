package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// client talks to a node's API as one person (one cookie jar).
type client struct {
	t    testing.TB
	base string
	http *http.Client
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 2 * time.Minute}}
}

// response is an HTTP response with its body read.
type response struct {
	*http.Response
	Body []byte
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v\n%s", r.Request.URL, err, r.Body)
	}
}

// problem decodes an RFC 9457 problem body and checks its shape.
func (r *response) problem(t testing.TB) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s %s: Content-Type %q, want application/problem+json; body %s", r.Request.Method, r.Request.URL, ct, r.Body)
	}
	var p map[string]any
	r.decode(t, &p)
	if p["status"] != float64(r.StatusCode) || p["detail"] == "" || p["title"] == "" {
		t.Errorf("malformed problem: %s", r.Body)
	}
	return p
}

func (c *client) do(method, path string, body io.Reader, header http.Header) *response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &response{resp, b}
}

// json sends v as JSON (nil for no body) and returns the response.
func (c *client) json(method, path string, v any) *response {
	c.t.Helper()
	var body io.Reader
	h := http.Header{}
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
		h.Set("Content-Type", "application/json")
	}
	return c.do(method, path, body, h)
}

// must checks the status and decodes the body into out (if not nil).
func (c *client) must(r *response, status int, out any) {
	c.t.Helper()
	if r.StatusCode != status {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
	if out != nil {
		r.decode(c.t, out)
	}
}

// upload posts an audio file to the upload endpoint, declaring ctype as its type.
func (c *client) upload(path, filename, ctype string) *response {
	c.t.Helper()
	return c.multipart("POST", "/api/v1/uploads", path, filename, ctype)
}

// multipart sends a file as the "file" field of a multipart/form-data body.
func (c *client) multipart(method, apiPath, path, filename, ctype string) *response {
	c.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return c.do(method, apiPath, pr, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

func (c *client) uploadFile(path string) *response {
	return c.upload(path, filepath.Base(path), "")
}

type track struct {
	ID          int64   `json:"id"`
	Title       string  `json:"title"`
	Artist      string  `json:"artist"`
	ArtistID    int64   `json:"artist_id"`
	Album       string  `json:"album"`
	AlbumID     *int64  `json:"album_id"`
	TrackNumber int     `json:"track_number"`
	Year        int     `json:"year"`
	Genre       string  `json:"genre"`
	DurationMS  int64   `json:"duration_ms"`
	Status      string  `json:"status"`
	Error       string  `json:"error"`
	Hidden      bool    `json:"hidden"`
	PlayCount   int64   `json:"play_count"`
	CoverURL    *string `json:"cover_url"`
	HLSURL      string  `json:"hls_url"`
	HLSOpusURL  string  `json:"hls_opus_url"`
	HLSAACURL   string  `json:"hls_aac_url"`
	OriginalURL string  `json:"original_url"`
	WaveformURL string  `json:"waveform_url"`
	Original    struct {
		Filename string `json:"filename"`
		MIMEType string `json:"mime_type"`
		Size     int64  `json:"size"`
	} `json:"original"`
	Job *struct {
		Status   string `json:"status"`
		Progress int    `json:"progress"`
	} `json:"job"`
}

type page struct {
	Items []track `json:"items"`
	Total int     `json:"total"`
}

// signupArtist makes an account with an artist profile and returns its client.
func signupArtist(t testing.TB, base, username, artistName string) (*client, int64) {
	c := newClient(t, base)
	c.must(c.json("POST", "/api/v1/auth/signup", map[string]string{"username": username, "password": "password-" + username}), 201, nil)
	var a struct{ ID int64 }
	c.must(c.json("POST", "/api/v1/artists", map[string]string{"name": artistName, "bio": "testing"}), 201, &a)
	return c, a.ID
}

// waitTrack polls a track until its status leaves "processing".
func (c *client) waitTrack(id int64) track {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var tr track
		c.must(c.json("GET", fmt.Sprintf("/api/v1/tracks/%d", id), nil), 200, &tr)
		if tr.Status != "processing" {
			return tr
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("track %d still processing after 2 minutes", id)
		}
		<-tick.C
	}
}
