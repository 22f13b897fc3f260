package ratelimit_test

import (
	"testing"
	"time"

	"nineten.dev/internal/ratelimit"
)

func TestLimiterBurstThenRefill(t *testing.T) {
	l := &ratelimit.Limiter{Burst: 3, Interval: 10 * time.Second}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("10.0.0.1", now); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("10.0.0.1", now)
	if ok || wait != 10*time.Second {
		t.Fatalf("4th attempt: ok=%v wait=%v, want refused for 10s", ok, wait)
	}
	if ok, _ := l.Allow("10.0.0.2", now); !ok {
		t.Error("another address was limited too")
	}
	if ok, _ := l.Allow("10.0.0.1", now.Add(5*time.Second)); ok {
		t.Error("allowed before a token refilled")
	}
	if ok, _ := l.Allow("10.0.0.1", now.Add(11*time.Second)); !ok {
		t.Error("refused after a token refilled")
	}
}
