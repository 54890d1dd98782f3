//go:build !unix

package browser

import "os/exec"

func setProcAttr(cmd *exec.Cmd) {}

func killGroup(pid int) {}
