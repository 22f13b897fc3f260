// Package ratelimit is a small token-bucket limiter keyed by strings,
// shared by the HTTP surfaces (logins per address, deliveries per server).
package ratelimit

import (
	"sync"
	"time"
)

// Limiter lets each key (a client address, a remote server) make a burst
// of requests, refilled one per interval. Keys are forgotten once their
// bucket is full again, so memory stays small.
type Limiter struct {
	Burst    int
	Interval time.Duration

	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// Allow takes a token for key, or says how long to wait for one.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]bucket)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = bucket{tokens: float64(l.Burst), at: now}
	}
	b.tokens = min(float64(l.Burst), b.tokens+now.Sub(b.at).Seconds()/l.Interval.Seconds())
	b.at = now
	if len(l.buckets) > 10_000 {
		for k, v := range l.buckets {
			if v.tokens+now.Sub(v.at).Seconds()/l.Interval.Seconds() >= float64(l.Burst) {
				delete(l.buckets, k)
			}
		}
	}
	if b.tokens < 1 {
		l.buckets[key] = b
		return false, time.Duration((1 - b.tokens) * float64(l.Interval))
	}
	b.tokens--
	l.buckets[key] = b
	return true, 0
}
