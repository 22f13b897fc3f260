package federation

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"
)

// A signed delivery is valid for hours (the date window of its signature),
// so a captured one could be sent again. The inbox remembers the
// signatures it accepted within that window and refuses one it has seen.
// The memory is per process: a replay that reaches another process of the
// node is still harmless, as activities are kept once by their id.

const (
	replayWindow = 13 * time.Hour // the signature's age limit plus its clock-skew allowance
	replayBucket = time.Hour
	// replayBucketCap bounds the memory: past it, older signatures of the
	// same hour are forgotten first (a replay would then be caught only by
	// the activity's id).
	replayBucketCap = 100_000
)

type replayGuard struct {
	mu      sync.Mutex
	buckets map[int64]map[[32]byte]struct{} // by hour of acceptance
}

// signatureOf is what identifies a signed request: its signature headers.
func signatureOf(r *http.Request) [32]byte {
	h := sha256.New()
	for _, name := range []string{"Signature", "Signature-Input"} {
		h.Write([]byte(r.Header.Get(name)))
		h.Write([]byte{0})
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// seen reports whether sig was accepted within the window.
func (g *replayGuard) seen(sig [32]byte, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	oldest := hourOf(now) - int64(replayWindow/replayBucket)
	for k, b := range g.buckets {
		if k < oldest {
			delete(g.buckets, k)
			continue
		}
		if _, ok := b[sig]; ok {
			return true
		}
	}
	return false
}

// accepted remembers sig: called once the delivery was taken, so that a
// sender may retry one that failed on our side.
func (g *replayGuard) accepted(sig [32]byte, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.buckets == nil {
		g.buckets = map[int64]map[[32]byte]struct{}{}
	}
	hour := hourOf(now)
	b := g.buckets[hour]
	if b == nil || len(b) >= replayBucketCap {
		b = map[[32]byte]struct{}{}
		g.buckets[hour] = b
	}
	b[sig] = struct{}{}
}

func hourOf(t time.Time) int64 { return t.Unix() / int64(replayBucket/time.Second) }
