package federation

import (
	"context"
	"sync"
	"time"
)

// hostSlots bounds the deliveries in flight from this process to each
// remote host, so that one slow or stalled server holds at most a few
// delivery workers while deliveries to every other server go on.
//
// Why a bounded wait and not just a try: a healthy server answers in
// milliseconds, so a delivery that finds its host's slots taken usually
// gets one very soon, and waiting a little is far cheaper than putting the
// job back in the queue. A stalled server never frees its slots, so the
// wait is short (Service.hostWait) and only a few deliveries may wait per
// host (as many as there are slots): any further one gives up at once.
// A host can therefore hold at most twice its limit of workers, and those
// beyond the limit only briefly; a delivery that gives up is handed back to
// the queue to run again a little later (see Deliverer.postpone).
type hostSlots struct {
	mu    sync.Mutex
	hosts map[string]*host
}

type host struct {
	slots   chan struct{} // one token per request in flight
	waiting int           // deliveries waiting for a slot
	users   int           // holders and waiters: the entry is dropped at 0
}

// acquire takes one of limit slots for h, waiting at most wait. It returns
// the function that frees the slot, or ok false when there was none.
func (s *hostSlots) acquire(ctx context.Context, h string, limit int, wait time.Duration) (release func(), ok bool) {
	s.mu.Lock()
	if s.hosts == nil {
		s.hosts = map[string]*host{}
	}
	e := s.hosts[h]
	if e == nil {
		e = &host{slots: make(chan struct{}, limit)}
		s.hosts[h] = e
	}
	e.users++
	select {
	case e.slots <- struct{}{}:
		s.mu.Unlock()
		return func() { s.release(h, e) }, true
	default:
	}
	if e.waiting >= cap(e.slots) || wait <= 0 {
		s.drop(h, e)
		s.mu.Unlock()
		return nil, false
	}
	e.waiting++
	s.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case e.slots <- struct{}{}:
		ok = true
	case <-timer.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.waiting--
	if !ok {
		s.drop(h, e)
		return nil, false
	}
	return func() { s.release(h, e) }, true
}

func (s *hostSlots) release(h string, e *host) {
	<-e.slots
	s.mu.Lock()
	s.drop(h, e)
	s.mu.Unlock()
}

// drop forgets a user of e, and e once nobody uses it, so that the map
// holds only hosts with deliveries in flight. s.mu must be held.
func (s *hostSlots) drop(h string, e *host) {
	e.users--
	if e.users == 0 {
		delete(s.hosts, h)
	}
}
