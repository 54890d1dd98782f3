package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/axis-h40/axis/store"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// compact is `axisd compact --db FILE [--json]`: a stopped hub's bbolt
// store file rewritten without its free pages. bbolt never gives pages
// back to the file system: a store that once held more (documents purged,
// a backlog drained, big envelopes gone) keeps its size, and compaction is
// the way to shrink it. Offline: the hub must be stopped (its lock is
// waited for 2s, then refused). `axisctl compact` runs it.
//
//	axisd compact --db /var/lib/axis/axis.db
//
// The steps, each of which leaves the original untouched when it fails:
// the file is opened read-only (a shared lock, held to the end, so that no
// hub opens it meanwhile) and its event chain verified; FILE.compact.tmp
// is written by bolt.Compact (the same page size and freelist type as the
// store's) and fsynced; its event chain must verify with the same number
// of events and the same head; then the original becomes FILE.precompact
// (never overwriting one: remove an earlier one first) and the copy
// becomes FILE, with the original's mode and owner, and the directory is
// fsynced. A failure removes FILE.compact.tmp. Exit 0 on success, 1 on a
// failure, 2 on a usage error.
func compact(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("axisd compact", flag.ContinueOnError)
	fset.SetOutput(stderr)
	db := fset.String("db", "", "the bbolt store file to compact (its axisd stopped)")
	asJSON := fset.Bool("json", false, "print the report as JSON")
	if err := fset.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *db == "" || fset.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: axisd compact --db FILE [--json]   (offline: stop the axisd that uses FILE first)")
		return 2
	}
	r, err := compactFile(ctx, *db)
	if err != nil {
		fmt.Fprintln(stderr, "axisd: compact:", err)
		return 1
	}
	if *asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stdout, "compacted %s: %d → %d bytes (%s); the original is %s\n", r.File, r.Before, r.After, shrinkage(r.Before, r.After), r.Backup)
	return 0
}

// compactReport is what `axisd compact --json` prints.
type compactReport struct {
	File   string `json:"file"`
	Before int64  `json:"before_bytes"`
	After  int64  `json:"after_bytes"`
	Backup string `json:"backup"`
	Events uint64 `json:"events"`
	Head   string `json:"head"`
}

// shrinkage says how much smaller after is than before, in whole percent.
func shrinkage(before, after int64) string {
	switch {
	case before <= 0 || after == before:
		return "the same size"
	case after > before:
		return fmt.Sprintf("%d%% larger", (after-before)*100/before)
	}
	return fmt.Sprintf("%d%% smaller", (before-after)*100/before)
}

// compactTxMax is how many bytes of keys and values one transaction of the
// copy holds before it commits (bolt.Compact's txMaxSize).
const compactTxMax = 64 << 20

func compactFile(ctx context.Context, path string) (r *compactReport, err error) {
	backup, tmp := path+".precompact", path+".compact.tmp"
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist", path)
	case err != nil:
		return nil, err
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file: not a store file", path)
	case st.Size() == 0:
		return nil, fmt.Errorf("%s is empty: not a store file", path)
	}
	if err := absent(backup, "the original of an earlier compaction? keep it elsewhere or remove it, then compact again"); err != nil {
		return nil, err
	}
	if err := absent(tmp, "left by a compaction that was stopped, or one under way: remove it, then compact again"); err != nil {
		return nil, err
	}

	// The source, read-only: a shared lock, which a running hub's exclusive
	// one excludes, and which keeps a hub from opening the file until the
	// swap is done (held to the end).
	src, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is locked: a running axisd holds it; stop it first (compact is offline): %w", path, store.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("%s does not open as a bbolt store file: %w", path, err)
	}
	defer src.Close()
	if st, err = os.Stat(path); err != nil { // its size now that nothing writes it
		return nil, err
	}
	before, err := store.VerifyChainFile(ctx, path)
	if err != nil {
		return nil, err
	}
	if !before.OK() {
		return nil, fmt.Errorf("the event chain of %s is broken at event %d (%s): not compacting a store whose audit fails (axisd audit-verify --db %s); nothing changed", path, before.BrokenAt, before.BrokenWhy, path)
	}

	// The copy. From here a failure removes it.
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return nil, err
	}
	swapped, unchanged := false, true
	defer func() {
		if !swapped {
			os.Remove(tmp)
			if err != nil && unchanged {
				err = fmt.Errorf("%w; %s is unchanged", err, path)
			}
		}
	}()
	err = f.Chmod(st.Mode().Perm()) // whatever the umask
	if err == nil {
		err = sameOwner(f, st)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// The map freelist, as the store opens it (store/db.go); the freelist
	// written at every commit, so that the file is as a hub's graceful
	// close leaves it and the next open reads the freelist rather than
	// walking every page. NoSync: one fsync at the end does.
	dst, err := bolt.Open(tmp, st.Mode().Perm(), &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType,
		PageSize: src.Info().PageSize, NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", tmp, err)
	}
	err = bolt.Compact(dst, src, compactTxMax)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	after, err := store.VerifyChainFile(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("the compacted copy: %w", err)
	}
	if !after.OK() || after.Events != before.Events || after.Head != before.Head {
		return nil, fmt.Errorf("the compacted copy %s does not hold the original's event chain: %d events, head %s, broken at %d (%s); the original: %d events, head %s",
			tmp, after.Events, after.Head, after.BrokenAt, after.BrokenWhy, before.Events, before.Head)
	}

	// The swap: the original kept as FILE.precompact, the copy in its place.
	if err := keepOriginal(path, backup); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		if rerr := restoreOriginal(path, backup); rerr != nil {
			unchanged = false
			return nil, fmt.Errorf("putting %s in place of %s: %w; and the original could not be put back from %s: %v", tmp, path, err, backup, rerr)
		}
		return nil, fmt.Errorf("putting %s in place of %s: %w", tmp, path, err)
	}
	swapped = true
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%s is compacted and the original is %s, but syncing their directory failed (a crash now could undo the renames): %w", path, backup, err)
	}
	nst, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &compactReport{File: path, Before: st.Size(), After: nst.Size(), Backup: backup, Events: after.Events, Head: after.Head}, nil
}

// absent fails unless nothing is at name.
func absent(name, why string) error {
	_, err := os.Lstat(name)
	switch {
	case err == nil:
		return fmt.Errorf("%s exists (%s); nothing changed", name, why)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// keepOriginal makes path's file also backup's, never replacing a backup
// there: a hard link (path stays in place until the copy replaces it, in
// one rename), or where the file system has none, a rename after a check.
func keepOriginal(path, backup string) error {
	err := os.Link(path, backup)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists (the original of an earlier compaction? keep it elsewhere or remove it, then compact again)", backup)
	}
	if err := absent(backup, "the original of an earlier compaction? keep it elsewhere or remove it, then compact again"); err != nil {
		return err
	}
	if err := os.Rename(path, backup); err != nil {
		return fmt.Errorf("keeping the original as %s: %w", backup, err)
	}
	return nil
}

// restoreOriginal undoes keepOriginal after the copy could not take
// path's place.
func restoreOriginal(path, backup string) error {
	if _, err := os.Stat(path); err == nil {
		return os.Remove(backup) // the hard link: path is still the original
	}
	return os.Rename(backup, path)
}

// sameOwner gives f the owner and group of the file st describes, where
// the platform has them and they differ from this process's (axisd compact
// run as root on a store the hub's system user owns: the hub must still
// open it).
func sameOwner(f *os.File, st os.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid, gid := int(sys.Uid), int(sys.Gid)
	if uid == os.Getuid() && gid == os.Getgid() {
		return nil
	}
	if err := f.Chown(uid, gid); err != nil {
		return fmt.Errorf("giving %s the original's owner %d:%d: %w (run compact as that user, or as root)", f.Name(), uid, gid, err)
	}
	return nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // no fsync of a directory there; renames are journaled by NTFS
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
