package server

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter slows password guessing: each client address may try a burst of
// attempts, refilled one per interval. Addresses are forgotten once their
// bucket is full again, so the map stays small.
type limiter struct {
	burst    int
	interval time.Duration

	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes a token for key, or says how long to wait for one.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]bucket)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = bucket{tokens: float64(l.burst), at: now}
	}
	b.tokens = min(float64(l.burst), b.tokens+now.Sub(b.at).Seconds()/l.interval.Seconds())
	b.at = now
	if len(l.buckets) > 10_000 {
		for k, v := range l.buckets {
			if v.tokens+now.Sub(v.at).Seconds()/l.interval.Seconds() >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
	}
	if b.tokens < 1 {
		l.buckets[key] = b
		return false, time.Duration((1 - b.tokens) * float64(l.interval))
	}
	b.tokens--
	l.buckets[key] = b
	return true, 0
}

// limited wraps an API handler with the limiter, keyed by client address.
func (s *Server) limited(l *limiter, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if ok, wait := l.allow(host, time.Now()); !ok {
			secs := int(wait.Seconds()) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeProblem(w, r, http.StatusTooManyRequests, "too many attempts from your address; try again in "+strconv.Itoa(secs)+" s")
			return nil
		}
		return h(w, r)
	}
}
