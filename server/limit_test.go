package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLimiterBurstThenRefill(t *testing.T) {
	l := &limiter{burst: 3, interval: 10 * time.Second}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow("10.0.0.1", now); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait := l.allow("10.0.0.1", now)
	if ok || wait != 10*time.Second {
		t.Fatalf("4th attempt: ok=%v wait=%v, want refused for 10s", ok, wait)
	}
	if ok, _ := l.allow("10.0.0.2", now); !ok {
		t.Error("another address was limited too")
	}
	if ok, _ := l.allow("10.0.0.1", now.Add(5*time.Second)); ok {
		t.Error("allowed before a token refilled")
	}
	if ok, _ := l.allow("10.0.0.1", now.Add(11*time.Second)); !ok {
		t.Error("refused after a token refilled")
	}
}

func TestPanickingHandlerAnswersProblem(t *testing.T) {
	s := &Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := s.logRequests(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("panic answered %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
