package server

import (
	"bytes"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	nineten "nineten.dev"
)

// The cache of remote media: when the node's admin turns it on, listeners
// here stream other servers' tracks through this node, which fetches each
// streaming file once and keeps it in its blob store under remote/<host>/.
// The other server then no longer sees those plays (its listen sessions
// get no segments), so they are not counted there; it saves that server's
// bandwidth and keeps playing while it is unreachable. Streaming files of
// a ready track never change, so a cached file is kept as it is.

// remoteMediaPrefix is where cached remote media are served:
// /media/remote/<host>/<path on that host>.
const remoteMediaPrefix = "/media/remote/"

// cachedRemoteURL is the URL through the cache for a media URL of another
// server, or raw when it is not a streaming file of a track.
func cachedRemoteURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.HasPrefix(u.Path, "/media/tracks/") || u.RawQuery != "" {
		return raw
	}
	return remoteMediaPrefix + u.Host + u.Path
}

// remoteMedia serves a remote track's streaming file from the cache,
// fetching it on first use. Without the cache, it still relays the files
// of a remote track to the listen session playing it through this node
// (listen/remote.go), and records the segments sent, so the play counts.
func (s *Server) remoteMedia(w http.ResponseWriter, r *http.Request) {
	host, p := r.PathValue("host"), "/"+r.PathValue("path")
	key := "remote/" + strings.ToLower(host) + p
	sid := listenSession(r)
	relay := sid != "" && s.Listens != nil && s.Listens.Relays(r.Context(), sid, key)
	if !s.RemoteMediaCache && !relay || s.Federator == nil || strings.Contains(p, "..") || strings.ContainsAny(host, "/\\") {
		writeProblem(w, r, http.StatusNotFound, "no such media file")
		return
	}
	sw, ok := w.(*statusWriter)
	if !ok {
		sw = &statusWriter{ResponseWriter: w}
	}
	size, ok := s.serveRemote(sw, r, key)
	if !ok {
		body, ctype, err := s.Federator.RemoteMedia(r.Context(), host, p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if s.RemoteMediaCache {
			if _, err := s.Blobs.Put(r.Context(), key, bytes.NewReader(body)); err != nil {
				s.Log.WarnContext(r.Context(), "caching a remote media file", "key", key, "err", err)
			} else {
				size, ok = s.serveRemote(sw, r, key)
			}
		}
		if !ok {
			allowCrossOrigin(sw)
			sw.Header().Set("Content-Type", cmpType(ctype, p))
			sw.Header().Set("Cache-Control", "no-cache")
			http.ServeContent(sw, r, "", time.Time{}, bytes.NewReader(body))
			size = int64(len(body))
		}
	}
	// As for the node's own tracks: a segment sent whole, or confirmed to
	// a player that holds it (304), is evidence of listening.
	if relay && r.Method == http.MethodGet && path.Ext(p) == ".m4s" && (sw.status == http.StatusOK && sw.bytes == size || sw.status == http.StatusNotModified) {
		if err := s.Listens.RemoteSegmentServed(r.Context(), sid, key); err != nil {
			s.Log.WarnContext(r.Context(), "recording a served segment failed", "key", key, "err", err)
		}
	}
}

// serveRemote serves a cached file; ok is false when it is not cached.
func (s *Server) serveRemote(w http.ResponseWriter, r *http.Request, key string) (int64, bool) {
	b, err := s.Blobs.Open(r.Context(), key)
	if err != nil {
		if nineten.ErrorKind(err) != nineten.KindNotFound {
			s.Log.WarnContext(r.Context(), "reading the cache of remote media", "key", key, "err", err)
		}
		return 0, false
	}
	defer b.Close()
	allowCrossOrigin(w)
	return serveOpened(w, r, b, mediaType(key), "no-cache"), true
}

func cmpType(ctype, p string) string {
	if ctype != "" {
		return ctype
	}
	return mediaType(p)
}
