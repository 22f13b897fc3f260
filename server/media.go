package server

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// isMediaFile lists the files of a track that may be served, so a request
// can never name anything else in the blob store: hls/{master,opus,aac}.m3u8,
// hls/preview.mp3,
// hls/<rendition>/{index.m3u8,init.mp4,seg<N>.m4s}, waveform.json,
// cover-600.jpg, cover-200.jpg and original. (Written out rather than as a
// regular expression: it runs on every segment request.)
func isMediaFile(file string) bool {
	switch file {
	case "hls/master.m3u8", "hls/opus.m3u8", "hls/aac.m3u8", "hls/preview.mp3", "waveform.json", "cover-600.jpg", "cover-200.jpg", "original":
		return true
	}
	rest, ok := strings.CutPrefix(file, "hls/")
	if !ok {
		return false
	}
	rendition, name, ok := strings.Cut(rest, "/")
	if !ok || !isRendition(rendition) {
		return false
	}
	if name == "index.m3u8" || name == "init.mp4" {
		return true
	}
	n, hasSeg := strings.CutPrefix(name, "seg")
	n, hasExt := strings.CutSuffix(n, ".m4s")
	if !hasSeg || !hasExt || len(n) == 0 || len(n) > 6 {
		return false
	}
	return strings.Trim(n, "0123456789") == ""
}

// isRendition matches rendition names: letters then digits, e.g. "opus128".
func isRendition(s string) bool {
	letters := strings.TrimLeft(s, "abcdefghijklmnopqrstuvwxyz")
	return len(letters) < len(s) && len(letters) > 0 && strings.Trim(letters, "0123456789") == ""
}

// visibility is a short-lived cache of whether a track is public: media
// requests are the node's hottest path, and most are for public tracks.
type visibility struct {
	visible  bool
	mime     string
	filename string
	until    time.Time
}

const visibilityTTL = 2 * time.Second

func (s *Server) forgetVisibility(id nineten.ID) {
	s.visMu.Lock()
	delete(s.vis, id)
	s.visMu.Unlock()
}

func (s *Server) trackVisibility(r *http.Request, id nineten.ID) (visibility, *nineten.Track, error) {
	now := time.Now()
	s.visMu.Lock()
	v, ok := s.vis[id]
	s.visMu.Unlock()
	if ok && now.Before(v.until) {
		return v, nil, nil
	}
	t, err := s.Store.TrackByID(r.Context(), id)
	if err != nil {
		return visibility{}, nil, err
	}
	v = visibility{visible: t.Visible(), mime: t.Original.MIMEType, filename: t.Original.Filename, until: now.Add(visibilityTTL)}
	s.visMu.Lock()
	if s.vis == nil || len(s.vis) > 100_000 {
		s.vis = make(map[nineten.ID]visibility)
	}
	s.vis[id] = v
	s.visMu.Unlock()
	return v, t, nil
}

// trackMedia serves a track's media file with Range, ETag and caching.
// Segments served to a listen session (X-Listen-Session header, or the ls
// query parameter for players that cannot set headers) are recorded as the
// evidence that verifies listens.
func (s *Server) trackMedia(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	file := r.PathValue("file")
	if err != nil || !isMediaFile(file) {
		writeProblem(w, r, http.StatusNotFound, "no such media file")
		return
	}
	v, t, err := s.trackVisibility(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	private := !v.visible
	if private {
		if t == nil {
			if t, err = s.Store.TrackByID(r.Context(), id); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		viewer, err := s.viewer(r)
		if err != nil || !s.Catalog.MayManage(r.Context(), viewer, t) {
			writeProblem(w, r, http.StatusNotFound, fmt.Sprintf("track %d does not exist", id))
			return
		}
	}
	key := fmt.Sprintf("tracks/%d/%s", id, file)
	// HLS files are revalidated on every use (ETag → 304) rather than kept
	// fresh in caches: a replay must reach the node, or a later playback
	// of the same track could not be verified.
	ctype, cache := mediaType(file), "public, no-cache"
	if !strings.HasPrefix(file, "hls/") {
		cache = "public, max-age=86400"
	}
	if private {
		cache = "private, no-store"
	} else {
		// Public media may be played from other nodes' web apps.
		allowCrossOrigin(w)
	}
	if file == "original" {
		ctype = v.mime
		disp := "inline"
		if r.URL.Query().Has("download") {
			disp = "attachment"
		}
		w.Header().Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": v.filename}))
	}
	if sid := listenSession(r); sid != "" && r.URL.RawQuery != "" && path.Ext(file) == ".m3u8" {
		s.sessionPlaylist(w, r, key, sid)
		return
	}
	// Playlists stay with the node (above: it rewrites them per session);
	// the files they list may be fetched from the blob store directly.
	if path.Ext(file) != ".m3u8" {
		if u, ok := s.presigned(r, key, ctype, cache, w.Header().Get("Content-Disposition")); ok {
			// A redirect is a grant, not a delivery: the node cannot know
			// whether the player fetched the segment. It counts a segment
			// granted whole (no Range) as served, before the player has
			// the URL, which makes redirect mode's evidence of listening
			// weaker than the bytes the node sends itself.
			if r.Header.Get("Range") == "" {
				s.segmentServed(r, id, file)
			}
			redirect(w, r, u)
			return
		}
	}
	// The outer logging wrapper already counts what was sent.
	sw, ok := w.(*statusWriter)
	if !ok {
		sw = &statusWriter{ResponseWriter: w}
	}
	size, ok := s.serveBlob(sw, r, key, ctype, cache)
	if !ok || r.Method != http.MethodGet {
		return
	}
	// Count a segment sent whole, or confirmed to a player that holds it
	// already (304); a partial range is not evidence of listening.
	if sw.status == http.StatusOK && sw.bytes == size || sw.status == http.StatusNotModified {
		s.segmentServed(r, id, file)
	}
}

// segmentServed records, as evidence for the request's listen session,
// that a track's media segment was served to it.
func (s *Server) segmentServed(r *http.Request, id nineten.ID, file string) {
	if sid := listenSession(r); sid != "" && path.Ext(file) == ".m4s" {
		if err := s.Listens.SegmentServed(r.Context(), sid, id, file[len("hls/"):]); err != nil {
			s.Log.WarnContext(r.Context(), "recording a served segment failed", "track", id, "file", file, "err", err)
		}
	}
}

// presignTTL is how long a pre-signed media URL works: long enough for a
// player to follow the redirect and for a slow download of an original
// to start, short enough that a leaked URL of a private track soon dies.
const presignTTL = 15 * time.Minute

// presigner is what a blob store offers when clients can fetch its blobs
// directly (blob/s3): a URL that lets anyone holding it GET key until ttl
// passes, with the given response headers. An optional capability, checked
// like OSFile, not part of the BlobStore port.
type presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, header http.Header) (*url.URL, error)
}

// presigned returns, in redirect mode, a pre-signed URL of the blob at key
// that answers with the given headers, so that its bytes flow from the
// store and not through the node. It reports false when the node must
// serve the request itself: redirect mode is off, the store cannot presign,
// the request is not a GET (a URL is signed for one method), or presigning
// failed (then the node serves the blob rather than fail the player).
func (s *Server) presigned(r *http.Request, key, ctype, cache, disposition string) (string, bool) {
	p, ok := s.Blobs.(presigner)
	if !s.MediaRedirect || !ok || r.Method != http.MethodGet {
		return "", false
	}
	h := http.Header{"Content-Type": {ctype}, "Cache-Control": {cache}}
	if disposition != "" {
		h.Set("Content-Disposition", disposition)
	}
	u, err := p.PresignGet(r.Context(), key, presignTTL, h)
	if err != nil {
		s.Log.WarnContext(r.Context(), "presigning a media URL failed; serving it from the node", "key", key, "err", err)
		return "", false
	}
	return u.String(), true
}

// redirect sends the player to a pre-signed URL. The redirect itself is
// never cached: every fetch has to reach the node (to count segments, and
// to check a private track's access again), and the URL expires.
func redirect(w http.ResponseWriter, r *http.Request, u string) {
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Del("Content-Disposition")
	http.Redirect(w, r, u, http.StatusFound)
}

// sessionPlaylist serves a playlist whose every URI carries the listen
// session as the ls query parameter. Players that fetch HLS themselves
// (Safari's native player) cannot add a header, but follow these URIs.
func (s *Server) sessionPlaylist(w http.ResponseWriter, r *http.Request, key, sid string) {
	b, err := s.Blobs.Open(r.Context(), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer b.Close()
	body, err := io.ReadAll(io.LimitReader(b, 1<<20))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := "?ls=" + url.QueryEscape(sid)
	var out strings.Builder
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			line = strings.Replace(line, `.mp4"`, `.mp4`+q+`"`, 1)
		case line != "" && !strings.HasPrefix(line, "#"):
			line += q
		}
		out.WriteString(line + "\n")
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = io.WriteString(w, out.String())
}

// allowCrossOrigin lets browsers on other origins read public media (a
// listener on another node playing this node's tracks). No credentials:
// cookies are never sent cross-origin to media.
func allowCrossOrigin(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag")
}

// mediaPreflight answers CORS preflights for media: players send Range
// and the listen-session header.
func mediaPreflight(w http.ResponseWriter, r *http.Request) {
	allowCrossOrigin(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD")
	h.Set("Access-Control-Allow-Headers", "Range, X-Listen-Session")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func listenSession(r *http.Request) string {
	if sid := r.Header.Get("X-Listen-Session"); sid != "" || r.URL.RawQuery == "" {
		return sid
	}
	return r.URL.Query().Get("ls")
}

// albumCover serves an album's cover art.
func (s *Server) albumCover(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	file := r.PathValue("file")
	if err != nil || (file != "cover-600.jpg" && file != "cover-200.jpg") {
		writeProblem(w, r, http.StatusNotFound, "no such media file")
		return
	}
	// Short-lived: artists can replace an album's cover.
	key, cache := fmt.Sprintf("albums/%d/%s", id, file), "public, max-age=300"
	if u, ok := s.presigned(r, key, "image/jpeg", cache, ""); ok {
		redirect(w, r, u)
		return
	}
	s.serveBlob(w, r, key, "image/jpeg", cache)
}

// serveBlob serves a stored file with http.ServeContent, which answers
// Range, If-None-Match, If-Modified-Since and HEAD.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, key, ctype, cache string) (int64, bool) {
	b, err := s.Blobs.Open(r.Context(), key)
	if err != nil {
		if nineten.ErrorKind(err) == nineten.KindNotFound {
			writeProblem(w, r, http.StatusNotFound, "this media file does not exist (yet): the track may still be processing")
			return 0, false
		}
		s.writeError(w, r, err)
		return 0, false
	}
	defer b.Close()
	return serveOpened(w, r, b, ctype, cache), true
}

// serveOpened serves an open blob with its validators and returns its size.
func serveOpened(w http.ResponseWriter, r *http.Request, b nineten.Blob, ctype, cache string) int64 {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cache)
	etag := make([]byte, 0, 40)
	etag = append(strconv.AppendInt(append(etag, '"'), b.Size(), 16), '-')
	etag = append(strconv.AppendInt(etag, b.ModTime().UnixNano(), 16), '"')
	h.Set("ETag", string(etag))
	var content io.ReadSeeker = b
	// A blob on local disk is served with sendfile when we pass the
	// *os.File itself: net/http recognizes nothing else.
	if f, ok := b.(interface{ OSFile() *os.File }); ok {
		content = f.OSFile()
	}
	http.ServeContent(w, r, "", b.ModTime(), content)
	return b.Size()
}

func mediaType(file string) string {
	switch path.Ext(file) {
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".m4s", ".mp4":
		return "audio/mp4"
	case ".json":
		return "application/json"
	case ".jpg":
		return "image/jpeg"
	case ".mp3":
		return "audio/mpeg"
	}
	return "application/octet-stream"
}
