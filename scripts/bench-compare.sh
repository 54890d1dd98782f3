#!/bin/bash
# Compares the intake, search and reconciliation benchmarks of two trees in
# one run: OLD and NEW (default HEAD) are checked out side by side, their
# test binaries built once, then each round runs every benchmark on both,
# the order alternating (odd rounds OLD first) so that neither always runs
# right after the other's disk writes. Prints the median of each and
# NEW/OLD. These machines are noisy: trust many rounds, not one.
#
#   scripts/bench-compare.sh c283f03 [HEAD] [ROUNDS]
set -euo pipefail
old=${1:?usage: scripts/bench-compare.sh OLD [NEW] [ROUNDS]} new=${2:-HEAD} rounds=${3:-8}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; git -C "$root" worktree remove --force "$work/new" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for t in old new; do
  rev=$old; [ $t = new ] && rev=$new
  git -C "$root" worktree add -q --detach "$work/$t" "$rev"
  # The reconciliation benchmark came with this script; an older tree gets it too.
  [ -f "$work/$t/axis/reconcile_bench_test.go" ] || cp "$root/axis/reconcile_bench_test.go" "$work/$t/axis/"
  (cd "$work/$t" && go test -c -o "$work/$t-axis.test" ./axis && go test -c -o "$work/$t-store.test" ./store && go test -c -o "$work/$t-axisd.test" ./cmd/axisd)
done
out=$work/results.txt
bench() { # tree dir binary pattern benchtime
  (cd "$work/$1/$2" && "$work/$1-$3.test" -test.run '^$' -test.bench "$4" -test.benchtime "$5") | grep '^Benchmark' | sed "s/^/$1 /" >> "$out"
}
for r in $(seq 1 "$rounds"); do
  order="old new"; [ $((r % 2)) = 0 ] && order="new old"
  for t in $order; do
    bench $t axis axis 'Intake20KB' 400x
    bench $t axis axis 'Reconcile' 30x
    bench $t store store 'Reads/Search' 10000x
    bench $t cmd/axisd axisd 'IntakeRevocation/off' 1000x
  done
  echo "round $r of $rounds done" >&2
done
python3 - "$out" <<'PY'
import sys, statistics
rows = {}
for l in open(sys.argv[1]):
    p = l.split()
    extra = float(p[p.index('envelopes/s') - 1]) if 'envelopes/s' in p else None
    rows.setdefault(p[1], {}).setdefault(p[0], []).append((float(p[3]), extra))
for name, d in rows.items():
    o, n = (statistics.median(x[0] for x in d[t]) for t in ('old', 'new'))
    line = f"{name:40s} old {o/1e3:10.1f} µs/op  new {n/1e3:10.1f} µs/op  new/old {n/o:.3f}  (rounds {len(d['old'])})"
    if d['old'][0][1]:
        oe, ne = (statistics.median(x[1] for x in d[t]) for t in ('old', 'new'))
        line += f"  envelopes/s old {oe:.1f} new {ne:.1f} ({ne/oe:.3f})"
    print(line)
PY
