package s3test

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill versitygw if the test binary dies
// without running Main's cleanup (a panic, a timeout, a kill -9).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
