#!/usr/bin/env bash
# Relay throughput, H40 → national, 20 KB envelopes, a backlog of 2,000, next
# to the national hub's own intake rate measured with axisctl bench in the
# same run. BENCH_BACKLOG (default 2000) and BENCH_DURATION (default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
ROOT=$PWD
P=$ROOT/testdata/pki
BACKLOG=${BENCH_BACKLOG:-2000}
ROUNDS=${BENCH_ROUNDS:-3} # the machine is shared and noisy: medians over rounds
D=${BENCH_DURATION:-10s}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NAT=$(port); H40=$(port)
for f in axis-h40 axis-national; do
  sed -e "s|\.\./pki/|$P/|g" -e "s|agencies_file: agencies-h40.yaml|agencies_file: $ROOT/testdata/demo/agencies-h40.yaml|" \
      -e "s|http://127.0.0.1:9090|http://127.0.0.1:$NAT|" -e "s|http://127.0.0.1:8080|http://127.0.0.1:$H40|" \
      "testdata/demo/$f.yaml" > "$work/$f.yaml"
done
# Retry soon while the national hub is down, so the drain measures relay
# throughput, not how long H40's backoff happened to be when the peer came back.
RC=${RELAY_CONCURRENCY:-32}
echo "relay: {retry_min: 50ms, retry_max: 500ms, concurrency: $RC}" >> "$work/axis-h40.yaml"

start() { # name config port datadir [extra flags]
  bin/axisd --config "$work/$2.yaml" --listen "127.0.0.1:$3" --data-dir "$4" ${5:-} 2>"$work/$1.log" &
  echo $! > "$work/$1.pid"
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$3/readyz" >/dev/null && return; sleep 0.05; done
  echo "$1 did not start"; cat "$work/$1.log"; exit 1
}
stop() { kill "$(cat "$work/$1.pid")"; wait "$(cat "$work/$1.pid")" 2>/dev/null || true; }

round() {
  # 1. The national hub's own intake: a central body (G22) posting to another (G06).
  start national axis-national "$NAT" "$work/nat1-$r" "${NAT_PROFILE:+--cpuprofile $NAT_PROFILE.bench}"
  for c in 8 "$RC"; do
    echo "== national intake (axisctl bench, 20 KB, concurrency $c)"
    bin/axisctl bench --hub "http://127.0.0.1:$NAT" --token demo-token-000.00.00.G22 \
      --key "$work/certs/demo-agency-000.00.00.G22.key" --cert "$work/certs/demo-agency-000.00.00.G22.chain.pem" \
      --roots "$P/demo-root-ca.crt" --from 000.00.00.G22 --to 000.00.00.G06 --size 20KB --concurrency "$c" \
      --duration "$D" --pool 6000 2>&1 | grep -E "^(intake|latency|errors|verify-only|ratio)" | tee "$work/intake-$c-$r.txt"
  done
  [ -n "${RELAY_BENCH_DEBUG:-}" ] && curl -s "http://127.0.0.1:$NAT/metrics" | grep -E "^axis_(commit|verify)_seconds_(sum|count)|^axis_commit_batch_size_(sum|count)|^process_cpu_seconds_total" && grep -E "write_bytes|syscw" /proc/$(cat "$work/national.pid")/io
  stop national

  # 2. A backlog at H40 while the national hub is down.
  H40_DATA=${H40_DATA_ROOT:-$work}/h40-$r; mkdir -p "$H40_DATA"
  start h40 axis-h40 "$H40" "$H40_DATA" "${H40_PROFILE:+--cpuprofile $H40_PROFILE}"
  echo "== building a backlog of $BACKLOG at H40 (national hub down)"
  bin/axisctl bench --hub "http://127.0.0.1:$H40" --token demo-token-000.07.35.H40 \
    --key "$P/demo-agency-000.07.35.H40.key" --cert "$P/demo-agency-000.07.35.H40.chain.pem" \
    --roots "$P/demo-root-ca.crt" --from 000.07.35.H40 --to 000.00.00.G22 --size 20KB --concurrency 8 \
    --duration 120s --pool "$BACKLOG" 2>&1 | grep -E "^intake" || true
  depth() { curl -s "http://127.0.0.1:$H40/metrics" | awk '/^axis_outbox_depth\{peer="national"\}/ {print $2}'; }
  echo "outbox depth: $(depth)"

  # 3. The national hub comes back (fresh data); time the drain.
  h40cpu() { curl -s "http://127.0.0.1:$H40/metrics" | awk '/^process_cpu_seconds_total/ {print $2}'; }
  c0=$(h40cpu)
  start national axis-national "$NAT" "$work/nat2-$r" "${NAT_PROFILE:+--cpuprofile $NAT_PROFILE.relay}"
  t0=$(date +%s.%N) # from the moment the national hub is ready (H40 notices within retry_max)
  natdocs() { curl -s "http://127.0.0.1:$NAT/metrics" | awk '/^axis_documents / {print $2}'; }
  while [ "$(natdocs)" = "0" ] || [ -z "$(natdocs)" ]; do sleep 0.01; done
  tf=$(date +%s.%N) # the first envelope has arrived: relaying is under way
  while [ "$(depth)" != "0" ] && [ -n "$(depth)" ]; do sleep 0.05; done
  t1=$(date +%s.%N)
  echo "during the drain: H40 used $(python3 -c "print(round($(h40cpu)-$c0,2))") s of CPU, the national hub $(curl -s "http://127.0.0.1:$NAT/metrics" | awk '/^process_cpu_seconds_total/ {print $2}') s"
  [ -n "${RELAY_BENCH_DEBUG:-}" ] && curl -s "http://127.0.0.1:$NAT/metrics" | grep -E "^axis_(commit|verify)_seconds_(sum|count)|^axis_commit_batch_size_(sum|count)" && grep -E "write_bytes|syscw" /proc/$(cat "$work/national.pid")/io /proc/$(cat "$work/h40.pid")/io
  stop h40; stop national
  python3 - "$tf" "$t1" "$BACKLOG" "$RC" "$work/intake-8-$r.txt" "$work/intake-$RC-$r.txt" "$t0" "$work/rounds.txt" "$r" <<'PY'
import re, sys
t0, t1, n, rc, ready = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[7])
rate = lambda f: float(re.search(r"= ([0-9.]+) envelopes/s", open(f).read()).group(1))
relay = n / (t1 - t0)
print(f"H40 noticed the national hub {t0-ready:.2f}s after it was ready (retry backoff)")
print(f"relay (concurrency {rc}): backlog of {n} drained in {t1-t0:.2f}s from the first arrival = {relay:.1f} envelopes/s"
      f" ({n/(t1-ready):.1f}/s counting from readiness)")
for c, f in (("8", sys.argv[5]), (rc, sys.argv[6])):
    print(f"national intake (axisctl bench, concurrency {c}): {rate(f):.1f} envelopes/s; ratio relay/intake: {relay/rate(f):.2f}")
with open(sys.argv[8], "a") as out:
    out.write(f"{sys.argv[9]} {relay:.1f} {rate(sys.argv[5]):.1f} {rate(sys.argv[6]):.1f}\n")
PY
}

bin/axisctl demo-cert --organ 000.00.00.G22 --out "$work/certs" >/dev/null 2>&1
for r in $(seq "$ROUNDS"); do
  echo "######## round $r of $ROUNDS"
  round
done
python3 - "$work/rounds.txt" "$RC" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
relay = [float(r[1]) for r in rows]; b8 = [float(r[2]) for r in rows]; bc = [float(r[3]) for r in rows]
r8 = [a / b for a, b in zip(relay, b8)]; rc = [a / b for a, b in zip(relay, bc)]
print(f"== {len(rows)} rounds: relay {statistics.median(relay):.1f}/s (median of {', '.join(f'{x:.0f}' for x in relay)})")
print(f"national intake, axisctl bench concurrency 8: median {statistics.median(b8):.1f}/s; "
      f"ratio relay/intake per round {', '.join(f'{x:.2f}' for x in r8)}, median {statistics.median(r8):.2f}")
print(f"national intake, axisctl bench concurrency {sys.argv[2]}: median {statistics.median(bc):.1f}/s; "
      f"ratio per round {', '.join(f'{x:.2f}' for x in rc)}, median {statistics.median(rc):.2f}")
PY
