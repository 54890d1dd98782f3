// Command retainbench measures what retention (archive.hot_days) does to a
// store: it writes a year of a province's traffic twice, once kept whole
// (today's unbounded store) and once archived by a real hub with
// hot_days, and times opening each after a crash (SIGKILL of the process
// that held it: bbolt then rebuilds its freelist by walking every page in
// use, NoFreelistSync). make bench-retention runs it.
//
//	go run ./internal/cmd/retainbench -days 365 -per-day 130 -size 100000 -hot-days 90 -dir var/retention
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/store"
	"github.com/axis-h40/axis/store/storetest"
	bolt "go.etcd.io/bbolt"
)

func main() {
	days := flag.Int("days", 365, "days of traffic")
	perDay := flag.Int("per-day", 130, "documents a day (a province's ~4,000 a month)")
	size := flag.Int("size", 100_000, "bytes an envelope")
	hot := flag.Int("hot-days", 90, "archive.hot_days of the bounded store")
	dir := flag.String("dir", "var/retention", "where the two stores and the archives go (emptied first)")
	cfgPath := flag.String("config", "testdata/demo/axis-h40.yaml", "the hub's config (its key signs the archives)")
	runs := flag.Int("runs", 5, "opens after a crash, each store")
	hold := flag.String("hold", "", "internal: open this store, write, say ready, wait to be killed")
	open := flag.String("open", "", "internal: open this store and print how long it took")
	flag.Parse()
	switch {
	case *hold != "":
		holdStore(*hold)
		return
	case *open != "":
		t0 := time.Now()
		db, err := store.Open(*open, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(time.Since(t0).Microseconds())
		db.Close()
		return
	}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC) // inside the demo PKI's validity
	if err := os.RemoveAll(*dir); err != nil {
		log.Fatal(err)
	}
	unbounded, bounded := filepath.Join(*dir, "unbounded", "axis.db"), filepath.Join(*dir, "bounded", "axis.db")
	for _, f := range []string{unbounded, bounded} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			log.Fatal(err)
		}
	}
	t0 := time.Now()
	write(unbounded, now, *days, *perDay, *size)
	log.Printf("unbounded store written: %d documents in %s", *days**perDay, time.Since(t0).Round(time.Second))
	if err := copyFile(unbounded, bounded); err != nil {
		log.Fatal(err)
	}

	// A real hub archives the copy: seals every closed day, retires those
	// older than hot_days.
	cfg, err := axis.LoadConfig(*cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	cfg.DataDir, cfg.Peers, cfg.Listen = filepath.Dir(bounded), nil, "127.0.0.1:0"
	cfg.Archive.Dir = filepath.Join(filepath.Dir(bounded), "archive")
	cfg.Archive.HotDays = *hot
	abs, _ := filepath.Abs(cfg.DataDir)
	cfg.DataDir, cfg.Archive.Dir = abs, filepath.Join(abs, "archive")
	h := axis.NewHub(cfg, axis.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t0 = time.Now()
	if err := h.Open(context.Background()); err != nil {
		log.Fatal(err)
	}
	want := *days - *hot
	for {
		seals, err := h.Store().Seals(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		retired := 0
		for _, s := range seals {
			if !s.Retired.IsZero() {
				retired++
			}
		}
		if len(seals) == *days && retired >= want {
			break
		}
		time.Sleep(time.Second)
	}
	h.Close()
	log.Printf("bounded store archived by the hub: %d days sealed, %d retired, in %s", *days, want, time.Since(t0).Round(time.Second))

	self, _ := os.Executable()
	for _, f := range []string{unbounded, bounded} {
		st, _ := os.Stat(f)
		var ms []float64
		for range *runs {
			crash(self, f)
			cold := dropCaches()
			out, err := exec.Command(self, "-open", f).Output()
			if err != nil {
				log.Fatal(err)
			}
			var us int64
			fmt.Sscan(strings.TrimSpace(string(out)), &us)
			ms = append(ms, float64(us)/1000)
			if !cold {
				ms[len(ms)-1] = -ms[len(ms)-1] // marked: warm page cache
			}
		}
		warm := ms[0] < 0
		for i := range ms {
			if ms[i] < 0 {
				ms[i] = -ms[i]
			}
		}
		slices.Sort(ms)
		cache := "cold page cache (dropped before each open)"
		if warm {
			cache = "warm page cache (could not drop it: not root)"
		}
		fmt.Printf("%s: %d MB file, %d MB of pages in use; open after SIGKILL: median %.0f ms, min %.0f, max %.0f over %d runs, %s\n",
			f, st.Size()>>20, inUse(f)>>20, ms[len(ms)/2], ms[0], ms[len(ms)-1], len(ms), cache)
	}
}

// write is days of traffic ending the day before now (storetest.Day),
// from each of five departments to the next.
func write(file string, now time.Time, days, perDay, size int) {
	db, err := store.Open(file, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	organs := []string{"000.00.01.H40", "000.00.02.H40", "000.00.03.H40", "000.00.04.H40", "000.00.05.H40"}
	route := func(j int) (string, string) { return organs[j%len(organs)], organs[(j+1)%len(organs)] }
	for i := days; i >= 1; i-- {
		if err := storetest.LoadSynthetic(context.Background(), db, storetest.Day(now.AddDate(0, 0, -i), perDay, size, route)); err != nil {
			log.Fatal(err)
		}
	}
}

// holdStore is the process crash kills: the store open, a write committed.
func holdStore(file string) {
	db, err := store.Open(file, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := db.AdminAction(context.Background(), "retainbench", "before the crash", "", time.Now()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	select {}
}

func crash(self, file string) {
	cmd := exec.Command(self, "-hold", file)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil {
		log.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

func dropCaches() bool {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200) == nil
}

// inUse is the bytes of the pages the store's buckets hold (branch, leaf
// and overflow pages): its live data, which the freelist rebuild walks.
func inUse(file string) int64 {
	db, err := bolt.Open(file, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		return 0
	}
	defer db.Close()
	var pages int
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			s := b.Stats()
			pages += s.BranchPageN + s.BranchOverflowN + s.LeafPageN + s.LeafOverflowN
			return nil
		})
	})
	return int64(pages) * int64(db.Info().PageSize)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
