package transcode

import (
	"os/exec"
	"syscall"
)

// dieWithNode makes the kernel kill the tool when the node process dies.
// Otherwise a node killed mid-transcode (a crash, kill -9, the OOM killer)
// leaves ffmpeg running, still writing into the work directory that the
// job's next attempt cleans and uses.
func dieWithNode(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
