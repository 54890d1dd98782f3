#!/usr/bin/env bash
# make bench-network: the country's peak hour against one national hub on
# this machine (axisctl bench --network, issue 17). Writes a throwaway DEMO
# network (PKI, the national hub's config, 63 province peers) into a temp
# folder, starts axisd on it, posts the hour (3,200 envelopes, ~3.5 GiB,
# signed first, not timed), prints the report and axisd's VmHWM, keeps the
# per-envelope results in var/bench-network/ and removes the rest. It needs
# ~8 GB of disk in the temp folder (the pool and the hub's store) and about
# 5 minutes on 2 cores.
#
# BENCH_PROVINCES (default 63), BENCH_DOCS (default 3200), BENCH_DIR (a
# parent folder for the temp one, default $TMPDIR or /tmp: not a tmpfs),
# BENCH_NETWORK_ARGS (more load flags, e.g. "--size-scale 0.1 --json").
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/axis-bench-network.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bin/axisd --version
echo "== a DEMO network of ${BENCH_PROVINCES:-63} provinces in $work (axisctl bench --network --init)"
bin/axisctl bench --network --init "$work" --provinces "${BENCH_PROVINCES:-63}" >/dev/null 2>"$work/init.log" ||
  { cat "$work/init.log"; exit 1; }

bin/axisd --config "$work/axis-national.yaml" 2>"$work/axisd.log" &
pid=$!
addr=""
for _ in $(seq 200); do
  addr=$(grep -o '"addr":"[^"]*"' "$work/axisd.log" | head -1 | cut -d'"' -f4 || true)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$addr" ]; then echo "axisd did not start"; cat "$work/axisd.log"; exit 1; fi

rc=0
# shellcheck disable=SC2086 # BENCH_NETWORK_ARGS is a list of flags
bin/axisctl bench --network --dir "$work" --hub "http://$addr" --pid "$pid" \
  --docs "${BENCH_DOCS:-3200}" ${BENCH_NETWORK_ARGS:-} || rc=$?
echo "axisd peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
if [ -f "$work/results.jsonl" ]; then
  mkdir -p var/bench-network && cp "$work/results.jsonl" var/bench-network/results.jsonl
  echo "one line per envelope kept in var/bench-network/results.jsonl"
fi
echo "axisd log: $(grep -c '"level":"ERROR"' "$work/axisd.log" || true) errors, $(grep -c '"msg":"relay failed"' "$work/axisd.log" || true) relay failures logged (the province hubs are not running: relays queue)"
exit "$rc"
