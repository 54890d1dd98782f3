// Package pgbin finds Debian's PostgreSQL programs and the user to run
// them as, for the test clusters (internal/pgtest) and make run-ha
// (internal/cmd/runha): postgres refuses to run as root.
package pgbin

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Find is PG_BIN, else the newest /usr/lib/postgresql/*/bin with initdb.
func Find() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("PG_BIN=%s: %v", d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestV := "", -1.0
	for _, d := range dirs {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			continue
		}
		if v > bestV {
			best, bestV = d, v
		}
	}
	if best == "" {
		return "", errors.New("no PostgreSQL binaries (PG_BIN unset, no /usr/lib/postgresql/*/bin/initdb)")
	}
	return best, nil
}

// RunAs is the credential of the unprivileged user PostgreSQL runs as when
// this process is root (postgres refuses to run as root), nil otherwise.
func RunAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres or nobody user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: false}, nil
}
