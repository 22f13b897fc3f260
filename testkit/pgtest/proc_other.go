//go:build !linux

package pgtest

import (
	"errors"
	"os"
	"os/exec"
)

// quitSignal asks the server to stop; without SIGQUIT, an interrupt is a
// fast shutdown.
var quitSignal = os.Interrupt

// setDeathSignal does nothing where the kernel offers no parent-death
// signal: Main's cleanup stops the server.
func setDeathSignal(*exec.Cmd) {}

type credential struct{}

// unprivileged refuses to run as root where it cannot switch users.
func unprivileged() (*credential, error) {
	if os.Geteuid() == 0 {
		return nil, errors.New("running as root: run the tests as another user, or set " + EnvServer)
	}
	return nil, nil
}

func chownTo(string, *credential) error { return nil }

func setCredential(*exec.Cmd, *credential) {}

// lockDir marks a cluster directory; without flock, stale directories are
// not recognised and stay.
func lockDir(string) (*os.File, error) { return nil, nil }

func tryLock(string) (*os.File, bool) { return nil, false }
