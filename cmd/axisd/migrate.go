package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/axis-h40/axis/store"
)

// migrateStore is `axisd migrate-store`: a whole store copied into an
// empty one, from either engine into either, offline (stop the axisd
// nodes first), then checked. `axisctl migrate-store` runs it (axisctl
// does not link the storage engine).
//
//	axisd migrate-store --from var/axis.db --to-dsn-env AXIS_STORE_DSN
//	axisd migrate-store --from-dsn-env AXIS_STORE_DSN --to copy.db
func migrateStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("axisd migrate-store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the source bbolt store file")
	fromEnv := fs.String("from-dsn-env", "", "or: the environment variable holding the source PostgreSQL DSN")
	to := fs.String("to", "", "the target bbolt store file (must not exist)")
	toEnv := fs.String("to-dsn-env", "", "or: the environment variable holding the target PostgreSQL DSN (a database without documents)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	usage := "usage: axisd migrate-store (--from FILE | --from-dsn-env VAR) (--to FILE | --to-dsn-env VAR) [--json]"
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	loc := func(file, env, side string) (store.Location, bool) {
		switch {
		case (file == "") == (env == ""):
			fmt.Fprintf(stderr, "axisd: migrate-store: name the %s once: a file or a DSN variable\n%s\n", side, usage)
			return store.Location{}, false
		case env != "" && os.Getenv(env) == "":
			fmt.Fprintf(stderr, "axisd: migrate-store: the environment variable %s is empty: it must hold the %s's PostgreSQL DSN\n", env, side)
			return store.Location{}, false
		}
		return store.Location{File: file, DSN: os.Getenv(env)}, true
	}
	src, ok := loc(*from, *fromEnv, "source")
	if !ok || fs.NArg() != 0 {
		return 2
	}
	dst, ok := loc(*to, *toEnv, "target")
	if !ok {
		return 2
	}
	last := time.Now()
	r, err := store.Migrate(ctx, src, dst, func(keys int) {
		if !*asJSON && time.Since(last) > 5*time.Second {
			fmt.Fprintf(stderr, "axisd: migrate-store: %d keys copied\n", keys)
			last = time.Now()
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "axisd:", err)
		return 1
	}
	if *asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stdout, "%s -> %s: %d documents, %d keys in %s; checked; event chain verified on both: %d events, head %s\n",
		src, dst, r.Documents, r.Keys, r.Elapsed.Round(time.Millisecond), r.Target.Events, r.Target.Head)
	return 0
}
