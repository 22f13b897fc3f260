// Package server is the node's HTTP surface: the JSON API under /api/v1,
// media (HLS, originals, covers, waveforms) under /media, the web app, and
// health endpoints. Each surface has its own http.ServeMux; this package
// composes them and turns domain errors into RFC 9457 problem documents.
package server

import (
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/anomaly"
	"nineten.dev/catalog"
	"nineten.dev/listen"
	"nineten.dev/payout"
	"nineten.dev/picture"
	"nineten.dev/playlist"
	"nineten.dev/report"
	"nineten.dev/subscription"
)

// Server serves one node over HTTP.
type Server struct {
	Accounts *account.Service
	Catalog  *catalog.Service
	Listens  *listen.Service
	// Subscriptions and Payouts are the money: a listener's balance and
	// subscription, the month's settlement.
	Subscriptions *subscription.Service
	Payouts       *payout.Service
	// Anomalies runs fake-stream detection and the review of its flags.
	Anomalies *anomaly.Service
	// Reports are the node's listening reports (admins see their status).
	Reports   *report.Service
	Playlists *playlist.Service // listeners' own playlists
	Pictures  *picture.Service  // avatars and headers
	Store     nineten.Store
	Blobs     nineten.BlobStore
	Log       *slog.Logger
	// UI serves the web app's assets under /ui/ and Index its pages.
	UI, Index http.Handler
	// Federation serves ActivityPub and discovery under FederationPaths.
	Federation      http.Handler
	FederationPaths []string
	// Federator follows remote actors and reads the feed for the API.
	Federator nineten.Federator
	// Social is likes, boosts, comments, shared listens and follow
	// requests.
	Social nineten.Social
	// Statements sends settlement statements to other nodes and records
	// payouts of their artists.
	Statements nineten.Statements
	// PeerReviews sends monthly reports to the cluster's peers.
	PeerReviews nineten.Reviews
	// SecureCookies marks cookies Secure even on plain HTTP (behind a
	// TLS-terminating proxy).
	SecureCookies  bool
	MaxUploadBytes int64
	SessionTTL     time.Duration
	// MediaRedirect answers GETs of media files (not playlists) with a
	// redirect to a short-lived pre-signed URL of the blob store, when the
	// store can make one, instead of relaying the bytes (see presigned).
	MediaRedirect bool
	// RemoteMediaCache streams other servers' tracks through this node's
	// cache (see remotecache.go).
	RemoteMediaCache bool

	// Chain and Gateways take real money and pay artists, when the node
	// is configured for them (nil and empty otherwise); Webhooks serves
	// the gateways' webhooks under /webhooks/.
	Chain    nineten.ChainPayments
	Gateways []nineten.GatewayPayments
	Webhooks http.Handler

	ready  atomic.Bool
	routes []route

	visMu sync.Mutex
	vis   map[nineten.ID]visibility
}

// SetReady marks the node ready (or not) for /readyz.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler returns the node's HTTP handler.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.routes = nil
	api := http.NewServeMux()
	s.registerAPI(api)
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "there is no "+r.Method+" "+r.URL.Path+" endpoint; the API is described at /api/v1/openapi.json")
	})
	media := http.NewServeMux()
	media.HandleFunc("GET /media/tracks/{id}/{file...}", s.trackMedia)
	media.HandleFunc("GET /media/albums/{id}/{file}", s.albumCover)
	media.HandleFunc("GET /media/profiles/{file}", s.profilePicture)
	media.HandleFunc("GET /media/remote/{host}/{path...}", s.remoteMedia)
	media.HandleFunc("OPTIONS /media/", mediaPreflight)
	media.HandleFunc("/media/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such media file")
	})

	root := http.NewServeMux()
	root.Handle("/api/", s.protect(api))
	root.Handle("/media/", media)
	root.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeProblem(w, r, http.StatusServiceUnavailable, "the node is starting")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	if s.UI != nil {
		root.Handle("GET /ui/", s.UI)
	}
	if s.Index != nil {
		root.Handle("GET /{$}", s.Index)
		root.Handle("GET /app/", s.Index)
	}
	if s.Webhooks != nil {
		// Outside the API's cross-origin guard: gateways call from their
		// servers, and every event is verified by its signature.
		root.Handle("/webhooks/", s.Webhooks)
	}
	if s.Federation != nil {
		for _, p := range s.FederationPaths {
			root.Handle(p, s.Federation)
		}
	}
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "nothing is at "+r.URL.Path+"; the web app is at / and the API under /api/v1/")
	})
	return s.logRequests(root)
}

// protect guards the API against cross-site request forgery: browsers'
// unsafe cross-origin requests are refused (Sec-Fetch-Site / Origin), and
// session cookies are SameSite=Lax on top.
func (s *Server) protect(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusForbidden, "cross-origin requests that change state are refused; use the node's own web app or an API token")
	}))
	return cop.Handler(h)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path open through the wrapper.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests sets the security headers every response carries and logs
// API requests that changed something, failures on the server, and every
// request at debug level; media requests are too many to log at info.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if !strings.HasPrefix(r.URL.Path, "/media/") {
			// For pages: media files are never framed or followed.
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// A bug in one handler answers 500 and is logged with its stack,
			// instead of net/http dropping the connection.
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.ErrorContext(r.Context(), "handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeProblem(sw, r, http.StatusInternalServerError, "something went wrong on the node; the admin can find the details in its log")
				}
			}
		}()
		next.ServeHTTP(sw, r)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		} else if strings.HasPrefix(r.URL.Path, "/api/") && r.Method != http.MethodGet {
			level = slog.LevelInfo
		}
		// Checked first: building the record costs more than the request
		// itself on the media path.
		if s.Log.Enabled(r.Context(), level) {
			s.Log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "bytes", sw.bytes, "ms", time.Since(start).Milliseconds())
		}
	})
}
