#!/bin/bash
# Issue 17: the verify rate of axis's envelope.Verifier.Verify, bare
# goxmldsig (Validate after an etree parse) and libxmlsec1 (Debian's C
# library with its OpenSSL engine) on the same envelopes, in one run:
# README's table ("Verify next to goxmldsig and libxmlsec1").
#
#   scripts/verify-compare.sh [ROUNDS]        (make verify-compare COUNT=ROUNDS)
#
# 1. TestWriteBenchEnvelopes writes the bytes the Go benchmarks verify
#    (envelope/bench_test.go: benchEnvelope) to a temp dir: 20KB.xml,
#    2MB.xml and the demo root they chain to.
# 2. gcc builds scripts/xmlsec-verify-bench.c into that temp dir (never into
#    the repository): it loads the root once, then per verification parses
#    the file's bytes with libxml2 and verifies with xmlSecDSigCtxVerify,
#    the key from the chain in KeyInfo checked against the root (what
#    `xmlsec1 --verify --trusted-pem ROOT --enabled-reference-uris empty`
#    does), and fails on any verification that does not succeed.
# 3. ROUNDS rounds (default 6), the order alternating: odd rounds Go first,
#    even rounds libxmlsec1 first. Go's side of a round is
#      go test ./envelope -run '^$' -bench '^Benchmark(Verify|BareGoxmldsig)(20KB|2MB)$' -benchmem -count 1
#    (the test binary built once with go test -c, run in envelope/);
#    libxmlsec1's is the harness for 1 s on each file, as long as Go's
#    default -benchtime.
# 4. The medians over the rounds, as a markdown table on stdout; progress
#    and the raw lines on stderr.
#
# Needs Go, gcc, pkg-config and libxmlsec1-dev (Debian: apt-get install gcc
# pkg-config libxmlsec1-dev; it brings libxml2-dev, libssl-dev and
# libxmlsec1-openssl). These machines are noisy: trust many rounds on an
# idle machine, not one.
set -euo pipefail
rounds=${1:-6}
case $rounds in '' | *[!0-9]* | 0) echo "usage: scripts/verify-compare.sh [ROUNDS]" >&2; exit 2 ;; esac
GO=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in "$GO" gcc pkg-config; do
  command -v "$tool" >/dev/null || { echo "verify-compare: $tool not found (apt-get install gcc pkg-config libxmlsec1-dev)" >&2; exit 1; }
done
pkg-config --exists xmlsec1-openssl || { echo "verify-compare: no xmlsec1-openssl for pkg-config (apt-get install libxmlsec1-dev)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"

echo "verify-compare: writing the benchmark envelopes to $work" >&2
if ! out=$(AXIS_BENCH_ENVELOPES_DIR=$work "$GO" test ./envelope -run '^TestWriteBenchEnvelopes$' -count 1 -v 2>&1) ||
  ! grep -q -- '--- PASS: TestWriteBenchEnvelopes' <<<"$out"; then
  echo "$out" >&2
  exit 1
fi
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -O2 -Wall -o "$work/xmlsec-verify-bench" scripts/xmlsec-verify-bench.c $(pkg-config --cflags --libs xmlsec1-openssl)
"$GO" test -c -o "$work/envelope.test" ./envelope

sizes="20KB 2MB"
results=$work/results.txt
: >"$results"
run_go() {
  if ! (cd envelope && "$work/envelope.test" -test.run '^$' -test.bench '^Benchmark(Verify|BareGoxmldsig)(20KB|2MB)$' -test.benchmem -test.count 1) >"$work/go.out" 2>&1; then
    cat "$work/go.out" >&2
    exit 1
  fi
  grep '^Benchmark' "$work/go.out" | tee -a "$results" >&2
}
run_xmlsec() {
  for s in $sizes; do
    "$work/xmlsec-verify-bench" -t 1 "$work/root-ca.crt" "$work/$s.xml" | tee -a "$results" >&2
  done
}
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then run_go; run_xmlsec; else run_xmlsec; run_go; fi
  echo "verify-compare: round $r of $rounds done" >&2
done

# What was measured: the tree, the toolchain, the library, the machine.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
changed=$({ git status --porcelain -- envelope 2>/dev/null || true; } | awk '{ print $NF }' | sed 's|^envelope/||' | tr '\n' ' ')
[ -z "$changed" ] || commit="$commit (changed in envelope/: ${changed% })"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
gomaxprocs=$(sed -n 's/^BenchmarkVerify20KB-\([0-9]*\).*/\1/p' "$results" | head -1)

# The medians: one line per benchmark and unit, then the table.
awk '{ sub(/-[0-9]+$/, "", $1); for (i = 3; i < NF; i += 2) print $1, $(i + 1), $i }' "$results" |
  sort -k1,1 -k2,2 -k3,3g |
  awk -v sizes="$sizes" -v rounds="$rounds" -v commit="$commit" -v goversion="$("$GO" env GOVERSION)" \
    -v xmlsec="$(pkg-config --modversion xmlsec1-openssl)" -v openssl="$(pkg-config --modversion libcrypto 2>/dev/null || echo '?')" \
    -v cpu="${cpu:-unknown CPU}" -v procs="${gomaxprocs:-?}" -v bytes20KB="$(wc -c <"$work/20KB.xml")" -v bytes2MB="$(wc -c <"$work/2MB.xml")" '
    function flush() { if (n) { m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2; med[key] = m; lo[key] = v[1]; hi[key] = v[n]; cnt[key] = n } n = 0 }
    { k = $1 SUBSEP $2; if (k != key) { flush(); key = k } v[++n] = $3 }
    END {
      flush()
      split("Verify BareGoxmldsig Libxmlsec1Verify", impl, " ")
      label["Verify"] = "axis `Verifier.Verify`"; label["BareGoxmldsig"] = "bare goxmldsig v1.6.1"; label["Libxmlsec1Verify"] = "libxmlsec1 " xmlsec " (OpenSSL " openssl ")"
      fileBytes["20KB"] = bytes20KB; fileBytes["2MB"] = bytes2MB
      print "| envelope | verifier | µs/op (median) | min–max µs/op | verifies/s | MB/s | B/op | allocs/op | time ÷ axis |"
      print "|---|---|---:|---:|---:|---:|---:|---:|---:|"
      ns = split(sizes, sz, " ")
      for (i = 1; i <= ns; i++) {
        axis = med["BenchmarkVerify" sz[i], "ns/op"]
        for (j = 1; j <= 3; j++) {
          b = "Benchmark" impl[j] sz[i]
          t = med[b, "ns/op"]
          if (cnt[b, "ns/op"] != rounds) { printf "verify-compare: %s: %d results, want %d\n", b, cnt[b, "ns/op"], rounds > "/dev/stderr"; bad = 1 }
          printf "| %s | %s | %.0f | %.0f–%.0f | %.0f | %.1f | %.0f | %.0f | %.2f |\n", \
            (j == 1 ? sz[i] " (" fileBytes[sz[i]] " bytes)" : ""), label[impl[j]], t / 1e3, lo[b, "ns/op"] / 1e3, hi[b, "ns/op"] / 1e3, \
            1e9 / t, med[b, "MB/s"], med[b, "B/op"], med[b, "allocs/op"], t / axis
        }
      }
      printf "\nMedians of %d rounds (scripts/verify-compare.sh %d) at %s; %s, GOMAXPROCS=%s; %s.\n", rounds, rounds, commit, goversion, procs, cpu
      print "libxmlsec1 is one thread; B/op and allocs/op are what libxml2, libxmlsec1 and OpenSSL asked malloc and realloc for, per verification."
      exit bad
    }'
