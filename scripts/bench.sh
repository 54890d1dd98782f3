#!/usr/bin/env bash
# make bench: the standard load scenarios, each against a fresh axisd on a
# fresh data dir, with the demo province: 20 KB to one recipient and the
# province-wide directive at concurrency 32 (issue 17's ratios to
# verify-only), 2 MB at 8, and 64 MB envelopes at concurrency 8, whose
# axisd peak RSS must stay under 1 GB (limits.memory: 1GiB; the script
# fails if it does not). BENCH_DURATION (default 10s) sets each duration;
# BENCH_CONCURRENCY, if set, every concurrency.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
. scripts/axisd-lib.sh
D=${BENCH_DURATION:-10s}
C=${BENCH_CONCURRENCY:-}

# scenario NAME CONCURRENCY MAX_RSS_KB ARGS...
scenario() {
  local name=$1 conc=${C:-$2} maxrss=$3; shift 3
  local dir; dir=$(mktemp -d)
  start_axisd "$dir"
  local pid=$AXISD_PID addr=$AXISD_ADDR
  echo "== $name"
  bin/axisctl bench --hub "http://$addr" --roots "$P/demo-root-ca.crt" --concurrency "$conc" --duration "$D" "$@"
  local rss; rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  echo "axisd peak RSS (VmHWM): $rss kB"
  kill "$pid"; wait "$pid" || true
  rm -rf "$dir"
  if [ -n "$maxrss" ] && [ "$rss" -ge "$maxrss" ]; then
    echo "bench: axisd's peak RSS $rss kB is not under $maxrss kB"; exit 1
  fi
  echo
}

scenario "20 KB to one recipient" 32 "" "${COMMUNE[@]}" --to 000.00.11.H40 --size 20KB --pool 8000
scenario "20 KB to 240 recipients (the province-wide directive)" 32 "" "${PROVINCE[@]}" --to-demo-offices 240 --size 20KB --pool 3000
scenario "2 MB to one recipient" 8 "" "${COMMUNE[@]}" --to 000.00.11.H40 --size 2MB --pool 100
# 64 MB (decimal: just under the 64 MiB envelope limit), 16 of them, so the
# run ends when they are in; 1 GB is 976,562 kB.
scenario "64 MB to one recipient, concurrency 8 (peak RSS under 1 GB)" 8 976562 "${COMMUNE[@]}" --to 000.00.11.H40 --size 64000000 --pool 16
