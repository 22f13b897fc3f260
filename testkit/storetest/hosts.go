package storetest

import (
	"time"

	"nineten.dev"
)

var hostTests = []test{
	// A host's failures accumulate from the first one; an answer resets
	// them; giving up on a host keeps the first time it was given up on
	// until it answers again.
	{"Hosts/FailUnavailableAlive", func(e *env) {
		h, err := e.s.Host(e.ctx, "far.example")
		e.ok(err)
		e.same("a host never heard of", nineten.HostHealth{Host: "far.example"}, h)

		h, err = e.s.HostFailed(e.ctx, "far.example", at(0))
		e.ok(err)
		e.same("after one failure", nineten.HostHealth{Host: "far.example", FailingSince: at(0), Failures: 1}, h)
		h, err = e.s.HostFailed(e.ctx, "far.example", at(time.Hour))
		e.ok(err)
		e.same("after two failures", nineten.HostHealth{Host: "far.example", FailingSince: at(0), Failures: 2}, h)

		e.ok(e.s.MarkHostUnavailable(e.ctx, "far.example", at(2*time.Hour)))
		e.ok(e.s.MarkHostUnavailable(e.ctx, "far.example", at(3*time.Hour)))
		_, err = e.s.HostFailed(e.ctx, "near.example", at(0))
		e.ok(err)
		down, err := e.s.UnavailableHosts(e.ctx)
		e.ok(err)
		e.same("unavailable hosts", []nineten.HostHealth{{Host: "far.example", FailingSince: at(0), Failures: 2, UnavailableSince: at(2 * time.Hour)}}, down)

		e.ok(e.s.HostAlive(e.ctx, "far.example", at(4*time.Hour)))
		h, err = e.s.Host(e.ctx, "far.example")
		e.ok(err)
		e.same("after it answered", nineten.HostHealth{Host: "far.example", LastSuccessAt: at(4 * time.Hour)}, h)
		down, err = e.s.UnavailableHosts(e.ctx)
		e.ok(err)
		if len(down) != 0 {
			e.Errorf("unavailable after it answered: %+v", down)
		}
	}},
}
