#!/usr/bin/env bash
# Profiles of axisd under make bench's first two scenarios (issue 17:
# "measure before changing"): for each, a fresh axisd on a fresh data dir
# with --cpuprofile and --memprofile, the load of bin/axisctl bench, then
# the top of both profiles. The profiles are kept in PROFILE_DIR (default
# var/profile) for `go tool pprof -http` or a later comparison.
# BENCH_DURATION (default 10s) and BENCH_CONCURRENCY (default 32) tune the
# load.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
. scripts/axisd-lib.sh
D=${BENCH_DURATION:-10s}
C=${BENCH_CONCURRENCY:-32}
OUT=${PROFILE_DIR:-var/profile}
mkdir -p "$OUT"

profile() {
  local name=$1; shift
  local dir; dir=$(mktemp -d)
  start_axisd "$dir" --cpuprofile "$OUT/$name.cpu.pprof" --memprofile "$OUT/$name.allocs.pprof"
  local pid=$AXISD_PID addr=$AXISD_ADDR
  echo "== $name"
  bin/axisctl bench --hub "http://$addr" --roots "$P/demo-root-ca.crt" --concurrency "$C" --duration "$D" "$@"
  kill -INT "$pid"; wait "$pid" || true
  rm -rf "$dir"
  echo "-- CPU, by cumulative time ($OUT/$name.cpu.pprof)"
  go tool pprof -top -cum -nodecount 25 bin/axisd "$OUT/$name.cpu.pprof" 2>/dev/null | sed -n '1,32p'
  echo "-- allocations, by bytes ($OUT/$name.allocs.pprof)"
  go tool pprof -top -sample_index=alloc_space -nodecount 15 bin/axisd "$OUT/$name.allocs.pprof" 2>/dev/null | sed -n '1,22p'
  echo
}

profile intake-20KB "${COMMUNE[@]}" --to 000.00.11.H40 --size 20KB --pool 8000
profile directive-240 "${PROVINCE[@]}" --to-demo-offices 240 --size 20KB --pool 3000
