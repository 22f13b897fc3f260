package server

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"nineten.dev/internal/ratelimit"
)

// limited wraps an API handler with the limiter, keyed by client address.
func (s *Server) limited(l *ratelimit.Limiter, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ok, wait := l.Allow(clientAddr(r), time.Now()); !ok {
			secs := int(wait.Seconds()) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeProblem(w, r, http.StatusTooManyRequests, "too many attempts from your address; try again in "+strconv.Itoa(secs)+" s")
			return nil
		}
		return h(w, r)
	}
}

// clientAddr is the address of the client of r: the peer's, as the node
// is reached directly or through a proxy it does not trust for headers.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
