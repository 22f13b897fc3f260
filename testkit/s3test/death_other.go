//go:build !linux

package s3test

import "os/exec"

// setDeathSignal does nothing where the kernel offers no parent-death
// signal: Main's cleanup stops versitygw.
func setDeathSignal(*exec.Cmd) {}
