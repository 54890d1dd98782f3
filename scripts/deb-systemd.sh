#!/usr/bin/env bash
# README.md's "Installing on Debian" under a real systemd, which
# scripts/deb-smoke.sh cannot give (CI has no systemd as PID 1): this
# machine's own root as an overlay whose writes are discarded, booted with
# systemd-nspawn (private network), the package installed in it, then the
# section's blocks as printed, except: `make deb` runs here, outside;
# `editor` is the demo's edits made with sed; `journalctl -f` is stopped
# after 2 s; `systemctl edit`'s editor inserts the ini block that follows
# it. With the demo PKI for the operator's files, SoftHSM2 for the token.
#
# Root, overlayfs, systemd-nspawn (apt-get install systemd-container),
# softhsm2, xmlsec1, curl. Not run by CI; `make deb` first if dist/ is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
fail() { printf 'deb-systemd: FAIL: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root"
for tool in systemd-nspawn nsenter softhsm2-util xmlsec1 curl; do
	command -v "$tool" >/dev/null || fail "$tool is missing"
done
debs=(dist/axis_*_amd64.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "want one dist/axis_*_amd64.deb (make deb), got: ${debs[*]}"

work=$(mktemp -d /tmp/axis-deb-systemd.XXXXXX)
nspawn= leader=
cleanup() {
	local rc=$?
	if [ -n "$leader" ]; then kill -RTMIN+3 "$leader" 2>/dev/null || true; fi # systemd: halt
	if [ -n "$nspawn" ]; then
		for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$nspawn" 2>/dev/null || true
		wait "$nspawn" 2>/dev/null || true
	fi
	umount "$work/ovl/root" 2>/dev/null || true
	umount "$work/ovl" 2>/dev/null || true
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/ovl"
mount -t tmpfs -o size=2g tmpfs "$work/ovl"
mkdir -p "$work/ovl/upper" "$work/ovl/work" "$work/ovl/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$work/ovl/root"
in=$work/ovl/root/root/deb-systemd # /root/deb-systemd in the container
mkdir -p "$in/dist" "$in/testdata"
cp "${debs[0]}" "$in/dist/"
cp README.md "$in/"
cp -r testdata/pki testdata/envelopes testdata/demo "$in/testdata/"
# the operator's files, as the README names them
cp testdata/pki/demo-root-ca.crt "$in/roots.pem"
cp testdata/pki/demo-hub-h40.key "$in/hub.key"
cp testdata/pki/demo-hub-h40.chain.pem "$in/hub.chain.pem"

# The section's fenced blocks, numbered in order: block-N.sh, block-N.ini.
awk -v dir="$in" '
	/^## Installing on Debian$/ { on = 1; next }
	on && /^## / { on = 0 }
	on && /^```(sh|ini)$/ { n++; f = dir "/block-" n "." substr($0, 4); inb = 1; next }
	inb && /^```$/ { inb = 0; next }
	inb { print > f }
' README.md
ls "$in"/block-* >/dev/null 2>&1 || fail "README.md: no blocks in \"Installing on Debian\""

cat >"$in/run.sh" <<'EOF'
set -euo pipefail
trap 'echo "deb-systemd: FAIL: run.sh line $LINENO: $BASH_COMMAND" >&2' ERR
cd /root/deb-systemd
rm -f /usr/sbin/policy-rc.d # this container's copy of the machine's (Docker's "start nothing")
say() { printf '== %s\n' "$*"; }
fail() { printf 'deb-systemd: FAIL: %s\n' "$*" >&2; exit 1; }
# One README line, printed, then run; $1 is the block, $2 the line (grep -F).
line() { grep -F -- "$2" "block-$1.sh" | head -1; }
run() { local l; l=$(line "$1" "$2"); [ -n "$l" ] || { echo "block $1: no line with $2" >&2; exit 1; }; echo "\$ $l"; eval "$l"; }
# systemctl edit, as printed, its editor inserting the ini block N.
edit_with() {
	printf '#!/bin/sh\nsed -i "/^### Anything between here/r /root/deb-systemd/block-%s.ini" "$1"\n' "$1" >/root/deb-systemd/editor
	chmod +x /root/deb-systemd/editor
	echo "\$ systemctl edit axisd   # with block-$1.ini"
	script -qec "SYSTEMD_EDITOR=/root/deb-systemd/editor systemctl edit axisd" /dev/null </dev/null >/dev/null
	cat /etc/systemd/system/axisd.service.d/override.conf; echo
}
ready() { for _ in $(seq 50); do curl -fsS -o /dev/null "$1/readyz" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

say "install"
run 1 "dpkg -i dist/axis_*_amd64.deb"
[ "$(systemctl is-enabled axisd || true)" = disabled ] || fail "dpkg -i enabled axisd"
if systemctl -q is-active axisd; then fail "dpkg -i started axisd"; fi
echo "axisd: disabled, inactive"

say "configure, start, log, reload"
run 2 "roots.pem /etc/axis/pki/roots.pem"
run 2 "hub.key /etc/axis/pki/hub.key"
run 2 "hub.chain.pem /etc/axis/pki/hub.chain.pem"
echo "(editor: the demo admin token, agencies and CRLs, with sed)"
H=$(printf %s demo-admin-token | sha256sum | cut -d' ' -f1)
sed -i -e "s|^  token_sha256: \[\]|  token_sha256: [$H]|" \
	-e "s|^    # crl_files: .*|    crl_files: [/etc/axis/pki/root-ca.crl, /etc/axis/pki/issuing-ca.crl]|" /etc/axis/axis.yaml
install -o root -g axis -m 0640 testdata/pki/demo-root-ca.crl /etc/axis/pki/root-ca.crl
install -o root -g axis -m 0640 testdata/pki/demo-issuing-ca.crl /etc/axis/pki/issuing-ca.crl
install -o root -g axis -m 0640 testdata/demo/agencies-h40.yaml /etc/axis/agencies.yaml
run 2 "systemctl enable --now axisd"
ready http://127.0.0.1:8080 || fail "axisd not ready: $(journalctl -u axisd --no-pager -n 5)"
run 2 "curl -fsS http://127.0.0.1:8080/readyz"
l=$(line 2 "journalctl -u axisd -f"); echo "\$ timeout 2 $l"
eval "timeout 2 $l" | tail -3 || true
pid=$(systemctl show -p MainPID --value axisd)
run 2 "systemctl reload axisd"
sleep 0.5
[ "$(systemctl show -p MainPID --value axisd)" = "$pid" ] || fail "systemctl reload: a new process"
systemctl -q is-active axisd || fail "axisd inactive after systemctl reload"
echo "reloaded, same process"
systemd-analyze security axisd --no-pager | tail -1

say "send a document, get its receipt (the hub key from the PEM file)"
export AXIS_HUB=http://127.0.0.1:8080 AXIS_TOKEN=demo-token-000.07.35.H40
P=testdata/pki
doc() { # SUBJECT_SUFFIX: sign a new document, send it, verify its receipt
	sed "s|</edXML:Subject>| $1</edXML:Subject>|" testdata/envelopes/unsigned-new.xml >/tmp/u.xml
	axisctl sign --key $P/demo-agency-000.07.35.H40.key --cert $P/demo-agency-000.07.35.H40.chain.pem /tmp/u.xml >/tmp/s.xml
	local id
	id=$(axisctl send /tmp/s.xml | grep -o '"doc_id": "[^"]*"' | cut -d'"' -f4)
	axisctl receipt "$id" -o /tmp/r.xml
	local v
	v=$(xmlsec1 --verify --trusted-pem $P/demo-root-ca.crt --enabled-reference-uris empty /tmp/r.xml 2>&1) || fail "the receipt of $id: $v"
	echo "receipt of $id: xmlsec1 ${v%%$'\n'*}"
}
doc pem

say "the nightly reconciliation"
ADMIN_TOKEN=demo-admin-token
run 3 "/etc/axis/admin.env"
run 3 "systemctl enable --now axis-reconcile.timer"
run 3 "systemctl list-timers axis-reconcile.timer"
run 3 "systemctl start axis-reconcile.service"
d=$(TZ=Asia/Ho_Chi_Minh date -d yesterday +%F)
ls /var/lib/axis/reconcile/"$d"/report.json || fail "no report for $d"
journalctl -u axis-reconcile.service --no-pager -n 3 | grep -F "report in" | tail -1

say "a port below 1024 (drop-in block 4)"
sed -i 's|^listen: 127.0.0.1:8080$|listen: 127.0.0.1:80|' /etc/axis/axis.yaml
systemctl restart axisd || true
sleep 1
if ready http://127.0.0.1:80; then fail "port 80 without the drop-in: served"; fi
journalctl -u axisd --no-pager -n 5 | grep -F -m1 "permission denied"
edit_with 4
systemctl reset-failed axisd 2>/dev/null || true
systemctl restart axisd
ready http://127.0.0.1:80 || fail "port 80 with the drop-in: not served"
echo "port 80 with the drop-in: $(curl -fsS http://127.0.0.1:80/readyz)"
rm -r /etc/systemd/system/axisd.service.d
sed -i 's|^listen: 127.0.0.1:80$|listen: 127.0.0.1:8080|' /etc/axis/axis.yaml
systemctl daemon-reload

say "the hub key in SoftHSM2 (blocks 5, 6)"
AXIS_HSM_PIN=1234 SO_PIN=5678
rm -rf /var/lib/softhsm/tokens/* # this container's copy
sed -i -e 's|^  key: /etc/axis/pki/hub.key .*|  pkcs11: {module: /usr/lib/softhsm/libsofthsm2.so, token_label: axis, key_label: hub-key, pin_env: AXIS_HSM_PIN}|' /etc/axis/axis.yaml
grep -n '^  pkcs11:' /etc/axis/axis.yaml
run 5 "adduser axis softhsm"
run 5 "softhsm2-util --init-token"
run 5 "openssl pkcs8"
run 5 "softhsm2-util --import"
run 5 "shred -u"
run 5 "/etc/axis/axisd.env"
edit_with 6
systemctl restart axisd
ready http://127.0.0.1:8080 || fail "axisd with the key in SoftHSM2: not ready: $(journalctl -u axisd --no-pager -n 3)"
doc hsm
systemd-analyze security axisd --no-pager | tail -1

say "remove, purge"
dpkg -r axis >/dev/null
if systemctl -q is-active axisd || systemctl -q is-active axis-reconcile.timer; then fail "dpkg -r left axisd or the timer running"; fi
echo "dpkg -r: axisd and the timer stopped"
dpkg -P axis >/dev/null
if ls /etc/systemd/system/*.wants/axis* 2>/dev/null; then fail "dpkg -P left enablement links"; fi
echo "dpkg -P: no enablement link left"
say "deb-systemd: OK"
EOF

(systemd-nspawn -D "$work/ovl/root" --register=no --keep-unit --link-journal=no --private-network \
	--machine="axis-deb-$$" --console=passive -b >"$work/nspawn.log" 2>&1) &
nspawn=$!
for _ in $(seq 100); do
	leader=$(pgrep -P "$(pgrep -P "$nspawn" -x systemd-nspawn || echo "$nspawn")" -x systemd 2>/dev/null || true)
	[ -n "$leader" ] && break
	kill -0 "$nspawn" 2>/dev/null || fail "systemd-nspawn ended: $(cat "$work/nspawn.log")"
	sleep 0.1
done
[ -n "$leader" ] || fail "no systemd in the container: $(cat "$work/nspawn.log")"
state=
for _ in $(seq 120); do
	state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
	case "$state" in running | degraded) break ;; esac
	sleep 0.5
done
echo "== the container booted ($state)"
nsenter -t "$leader" -a bash /root/deb-systemd/run.sh
