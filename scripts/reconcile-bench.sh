#!/usr/bin/env bash
# The reconciliation of a day with 100,000 envelopes (BENCH_DAY_DOCS): a
# store generated once under var/day-100k (internal/cmd/genstore, synthetic
# envelopes spread over 16 hours of 2026-06-01, 97% acked), axisd started on
# it, axisctl reconcile timed; prints the time and axisd's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
N=${BENCH_DAY_DOCS:-100000}
DIR=var/day-$((N / 1000))k
[ -f "$DIR/axis.db" ] || go run ./internal/cmd/genstore -n "$N" -start 2026-06-01T00:00:00Z -span 16h -out "$DIR/axis.db"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|\.\./pki/|$PWD/testdata/pki/|g" -e "s|agencies_file: agencies-h40.yaml|agencies_file: $PWD/testdata/demo/agencies-h40.yaml|" \
    testdata/demo/axis-h40.yaml | sed '/^peers:/,/^vdxp:/{/^vdxp:/!d}' > "$work/h40.yaml"
bin/axisd --config "$work/h40.yaml" --listen "127.0.0.1:$PORT" --data-dir "$DIR" 2>"$work/axisd.log" &
PID=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
rss0=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
t0=$(date +%s.%N)
set +e
bin/axisctl reconcile --hub "http://127.0.0.1:$PORT" --token demo-admin-token --date 2026-06-01 --out "$work/report" | tail -1
code=$?
set -e
t1=$(date +%s.%N)
rss1=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
gosys=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^go_memstats_sys_bytes / {printf "%d", $2/1048576}')
echo "axisd's Go runtime holds $gosys MB from the OS (heap and stacks; the rest of RSS is the store file, memory-mapped)"
python3 - "$t0" "$t1" "$rss0" "$rss1" "$work/report/report.json" "$code" <<'PY'
import json, sys
t0, t1, r0, r1 = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = json.load(open(sys.argv[5]))
print(f"reconciled {r['totals']['accepted']} envelopes ({r['totals']['deliveries']} deliveries, {r['totals']['chain_events']} events in the chain)"
      f" in {t1-t0:.1f}s (axisctl wall time, exit {sys.argv[6]}); axisd peak RSS {r1/1024:.0f} MB (before the run {r0/1024:.0f} MB);"
      f" {r['totals']['discrepancies']} discrepancies")
PY
