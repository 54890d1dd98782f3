# Sourced by the bench scripts: start_axisd DIR [ARGS...] starts bin/axisd
# with the demo province on 127.0.0.1:0 and data dir DIR (its log in
# DIR/axisd.log) and sets AXISD_PID and AXISD_ADDR once it listens.
start_axisd() {
  local dir=$1; shift
  bin/axisd --config testdata/demo/axis-h40.yaml --listen 127.0.0.1:0 --data-dir "$dir" "$@" 2>"$dir/axisd.log" &
  AXISD_PID=$! AXISD_ADDR=""
  for _ in $(seq 200); do
    AXISD_ADDR=$(grep -o '"addr":"[^"]*"' "$dir/axisd.log" | head -1 | cut -d'"' -f4 || true)
    [ -n "$AXISD_ADDR" ] && return 0
    sleep 0.05
  done
  echo "axisd did not start"; cat "$dir/axisd.log"; exit 1
}

# The demo senders of the standard scenarios, as axisctl bench flags: the
# commune (to one recipient) and the provincial committee (the directive).
P=testdata/pki
sender_flags() { echo --token "demo-token-$1" --key "$P/demo-agency-$1.key" --cert "$P/demo-agency-$1.chain.pem" --from "$1"; }
read -ra COMMUNE <<<"$(sender_flags 000.07.35.H40)"
read -ra PROVINCE <<<"$(sender_flags 000.00.00.H40)"
