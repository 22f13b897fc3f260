//go:build !linux

package transcode

import "os/exec"

// dieWithNode has no portable equivalent outside Linux.
func dieWithNode(*exec.Cmd) {}
