package server

import (
	"bytes"
	"net/http"
	"net/url"
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
// fetching it on first use.
func (s *Server) remoteMedia(w http.ResponseWriter, r *http.Request) {
	host, p := r.PathValue("host"), "/"+r.PathValue("path")
	if !s.RemoteMediaCache || s.Federator == nil || strings.Contains(p, "..") || strings.ContainsAny(host, "/\\") {
		writeProblem(w, r, http.StatusNotFound, "no such media file")
		return
	}
	key := "remote/" + strings.ToLower(host) + p
	if _, ok := s.serveRemote(w, r, key); ok {
		return
	}
	body, ctype, err := s.Federator.RemoteMedia(r.Context(), host, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.Blobs.Put(r.Context(), key, bytes.NewReader(body)); err != nil {
		s.Log.WarnContext(r.Context(), "caching a remote media file", "key", key, "err", err)
		allowCrossOrigin(w)
		w.Header().Set("Content-Type", cmpType(ctype, p))
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
	s.serveRemote(w, r, key)
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
	b.Close()
	allowCrossOrigin(w)
	return s.serveBlob(w, r, key, mediaType(key), "no-cache")
}

func cmpType(ctype, p string) string {
	if ctype != "" {
		return ctype
	}
	return mediaType(p)
}
