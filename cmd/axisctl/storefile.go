package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/axis-h40/axis/store/record"
)

// verifyStoreFile checks the event chain of a store file (a backup, a copy)
// offline. Reading a store file takes the storage engine, which axisctl
// does not link (it talks to hubs over HTTP and shares only wire types with
// them), so it runs `axisd audit-verify --db FILE`: the axisd beside this
// axisctl (bin/ after make build, /usr/bin in the package), else the one on
// PATH, or $AXISD when set.
func verifyStoreFile(ctx context.Context, file string, tsaRoots ...string) (*record.ChainReport, error) {
	bin, err := axisdBinary()
	if err != nil {
		return nil, err
	}
	var out, errOut bytes.Buffer
	args := []string{"audit-verify", "--db", file}
	if len(tsaRoots) > 0 && tsaRoots[0] != "" {
		args = append(args, "--tsa-roots", tsaRoots[0])
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(errOut.String()), "axisd:")); msg != "" {
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("%s audit-verify: %w", bin, err)
	}
	var r record.ChainReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("%s audit-verify answered %q: %w", bin, oneLine(out.String()), err)
	}
	return &r, nil
}

func axisdBinary() (string, error) {
	if p := os.Getenv("AXISD"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "axisd")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("axisd")
	if err != nil {
		return "", errors.New("reading a store file takes axisd (axisd audit-verify --db FILE): none beside axisctl, none on PATH, $AXISD not set")
	}
	return p, nil
}

// runMigrateStore: axisctl migrate-store (--from FILE | --from-dsn-env VAR)
// (--to FILE | --to-dsn-env VAR) [--json]. Moving a store takes the
// storage engine: it runs `axisd migrate-store` with the same arguments
// (the axisd found as for audit-verify --db), which prints and exits as
// it does.
func runMigrateStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	bin, err := axisdBinary()
	if err != nil {
		return fail(stderr, err)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"migrate-store"}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return fail(stderr, fmt.Errorf("%s migrate-store: %w", bin, err))
	}
	return exitOK
}
