package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// runCompact: axisctl compact --db FILE [--json]. Rewriting a stopped
// hub's store file without its free pages takes the storage engine: it
// runs `axisd compact` with the same arguments (the axisd found as for
// audit-verify --db), which prints and exits as it does: the file keeps
// its name, the original stays beside it as FILE.precompact.
func runCompact(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	bin, err := axisdBinary()
	if err != nil {
		return fail(stderr, err)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"compact"}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return fail(stderr, fmt.Errorf("%s compact: %w", bin, err))
	}
	return exitOK
}
