#!/usr/bin/env bash
# make bench: the three standard load scenarios, each against a fresh axisd
# on a fresh data dir, with the demo province. BENCH_DURATION (default 10s)
# and BENCH_CONCURRENCY (default 8) tune every scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
. scripts/axisd-lib.sh
P=testdata/pki
D=${BENCH_DURATION:-10s}
C=${BENCH_CONCURRENCY:-8}

scenario() {
  local name=$1; shift
  local dir; dir=$(mktemp -d)
  start_axisd "$dir"
  local pid=$AXISD_PID addr=$AXISD_ADDR
  echo "== $name"
  bin/axisctl bench --hub "http://$addr" --roots "$P/demo-root-ca.crt" --concurrency "$C" --duration "$D" "$@"
  echo "axisd peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" || true
  rm -rf "$dir"
  echo
}

commune=000.07.35.H40
province=000.00.00.H40
scenario "20 KB to one recipient" --token "demo-token-$commune" \
  --key "$P/demo-agency-$commune.key" --cert "$P/demo-agency-$commune.chain.pem" \
  --from "$commune" --to 000.00.11.H40 --size 20KB --pool 8000
scenario "20 KB to 240 recipients (the province-wide directive)" --token "demo-token-$province" \
  --key "$P/demo-agency-$province.key" --cert "$P/demo-agency-$province.chain.pem" \
  --from "$province" --to-demo-offices 240 --size 20KB --pool 3000
scenario "2 MB to one recipient" --token "demo-token-$commune" \
  --key "$P/demo-agency-$commune.key" --cert "$P/demo-agency-$commune.chain.pem" \
  --from "$commune" --to 000.00.11.H40 --size 2MB --pool 100
