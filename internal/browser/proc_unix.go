//go:build unix

package browser

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the browser in a process group of its own, which its
// helper processes (zygote, renderers, GPU) inherit, so that killGroup
// reaches them all.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group led by pid, if any is left.
func killGroup(pid int) {
	if pid > 0 {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}
