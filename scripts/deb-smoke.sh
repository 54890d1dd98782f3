#!/usr/bin/env bash
# The Debian package on this machine, as README.md's "Installing on Debian"
# does it: make deb; dpkg -i; the files, the user, the units (systemd-analyze
# verify, and security --offline); then the installed axisd, as the user
# axis, on the installed /etc/axis with demo PKI files put where the README
# puts real ones (a copy of axis.yaml with a temporary data_dir and a free
# port), until /readyz answers, SIGHUP (systemctl reload), SIGTERM, exit 0;
# then dpkg -r and dpkg -P. Root only (CI runs it after make test). It works
# without systemd as PID 1 (no systemctl here: the package's scripts guard
# theirs), and puts the machine back as it found it: the package purged, the
# user, /var/lib/axis and the demo files removed if it made them.
#
# It refuses to run where axis is installed, or a store is in /var/lib/axis.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PKI=$ROOT/testdata/pki

say() { printf '== %s\n' "$*"; }
fail() { printf 'deb-smoke: FAIL: %s\n' "$*" >&2; exit 1; }

# installed, config-files, ... or not-installed (dpkg has never heard of it)
pkg_status() { dpkg-query -W -f='${db:Status-Status}' axis 2>/dev/null || echo not-installed; }

[ "$(id -u)" = 0 ] || fail "run as root (dpkg -i, the user axis)"
for tool in dpkg dpkg-deb systemd-analyze setpriv curl git gcc; do
	command -v "$tool" >/dev/null || fail "$tool is missing (.ci/run installs what this needs)"
done
[ "$(pkg_status)" = not-installed ] ||
	fail "the package axis is on this machine ($(dpkg-query -W -f='${Status} ${Version}' axis)): not touching it"
[ ! -e /var/lib/axis/axis.db ] || fail "/var/lib/axis/axis.db exists: a hub's store, not touching it"
[ -z "$(ls -A /etc/axis 2>/dev/null)" ] || fail "/etc/axis holds files: an installation's configuration, not touching it"

# What was here before, so the cleanup removes only what this run made.
had_user=no had_group=no had_state=no
getent passwd axis >/dev/null && had_user=yes
getent group axis >/dev/null && had_group=yes
[ -e /var/lib/axis ] && had_state=yes
work=$(mktemp -d /tmp/axis-deb-smoke.XXXXXX)
pid=
cleanup() {
	local rc=$?
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f /etc/axis/pki/roots.pem /etc/axis/pki/hub.key /etc/axis/pki/hub.chain.pem
	if [ "$(pkg_status)" != not-installed ]; then dpkg -P axis >/dev/null 2>&1 || true; fi
	[ "$had_state" = yes ] || rm -rf /var/lib/axis
	if [ "$had_user" = no ] && getent passwd axis >/dev/null; then deluser --system --quiet axis >/dev/null 2>&1 || true; fi
	if [ "$had_group" = no ] && getent group axis >/dev/null; then delgroup --system --quiet axis >/dev/null 2>&1 || true; fi
	rm -rf "$work"
	if [ "$rc" != 0 ]; then echo "deb-smoke: failed (exit $rc); the machine is cleaned up" >&2; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "make deb"
make -s deb
debs=(dist/axis_*_amd64.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "make deb: want one dist/axis_*_amd64.deb, got: ${debs[*]}"
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
echo "$deb ($version)"

say "dpkg -i dist/axis_*_amd64.deb"
dpkg -i dist/axis_*_amd64.deb
[ "$(pkg_status)" = installed ] || fail "dpkg -i: axis is not installed"

say "files, owners, modes"
check_path() { # PATH OWNER:GROUP MODE
	[ -e "$1" ] || fail "$1 is missing"
	local got
	got=$(stat -c '%U:%G %a' "$1")
	[ "$got" = "$2 $3" ] || fail "$1: $got, want $2 $3"
	printf '  %-45s %s\n' "$1" "$got"
}
check_path /usr/bin/axisd root:root 755
check_path /usr/bin/axisctl root:root 755
check_path /lib/systemd/system/axisd.service root:root 644
check_path /lib/systemd/system/axis-reconcile.service root:root 644
check_path /lib/systemd/system/axis-reconcile.timer root:root 644
check_path /etc/axis root:axis 750
check_path /etc/axis/pki root:axis 750
check_path /etc/axis/axis.yaml root:axis 640
check_path /etc/axis/agencies.yaml root:axis 640
check_path /usr/share/doc/axis/README.md root:root 644
check_path /usr/share/axis/prometheus/axis-rules.yml root:root 644
check_path /usr/share/axis/grafana/axis.json root:root 644
if [ "$had_state" = no ]; then
	check_path /var/lib/axis axis:axis 750
else
	echo "  /var/lib/axis was there before: left as it was ($(stat -c '%U:%G %a' /var/lib/axis))"
fi
cmp -s /etc/axis/axis.yaml deploy/axis.yaml || fail "/etc/axis/axis.yaml is not deploy/axis.yaml"
conffiles=$(dpkg-query -W -f='${Conffiles}' axis | awk 'NF { print $1 }' | sort | tr '\n' ' ')
[ "$conffiles" = "/etc/axis/agencies.yaml /etc/axis/axis.yaml " ] || fail "conffiles: $conffiles"
echo "  conffiles: $conffiles"

say "the user axis"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd axis) || fail "no user axis"
[ "$(getent group axis | cut -d: -f3)" = "$gid" ] || fail "the user axis is not in the group axis"
[ "$uid" -lt 1000 ] || fail "axis: uid $uid is not a system uid"
[ "$home" = /var/lib/axis ] || fail "axis: home $home"
case "$shell" in */nologin | */false) ;; *) fail "axis: login shell $shell" ;; esac
echo "  axis: uid $uid, gid $gid, home $home, shell $shell"

say "nothing enabled, nothing started"
if compgen -G "/etc/systemd/system/*.wants/axis*" >/dev/null; then
	fail "the package enabled a unit: $(ls /etc/systemd/system/*.wants/axis*)"
fi
echo "  no axis* unit in /etc/systemd/system/*.wants"

say "/usr/bin/axisd --version"
/usr/bin/axisd --version
/usr/bin/axisctl version
# The package is named after the binaries' version (Makefile, deb).
modv=$(/usr/bin/axisd --version | awk '{ print $2 }')
case "$modv" in "(devel)") want=0.0.0~devel ;; *) want=$(echo "$modv" | sed -e 's/^v//' -e 's/-/~/' -e 's/-/./g') ;; esac
[ "$want" = "$version" ] || fail "axisd --version says $modv: the package's version would be $want, it is $version"

say "systemd-analyze verify"
out=$(systemd-analyze verify /lib/systemd/system/axisd.service /lib/systemd/system/axis-reconcile.service /lib/systemd/system/axis-reconcile.timer 2>&1) ||
	fail "systemd-analyze verify: $out"
if grep -E 'axisd|axis-reconcile' <<<"$out"; then fail "systemd-analyze verify complains about the units"; fi
echo "  the three units verify"
if out=$(systemd-analyze security --offline=yes /lib/systemd/system/axisd.service 2>&1); then
	score=$(sed -n 's/.*Overall exposure level for axisd.service: \([0-9.]*\).*/\1/p' <<<"$out")
	echo "  systemd-analyze security --offline=yes: exposure $score (0 = fully sandboxed, 10 = not at all)"
	awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }' || fail "axisd.service exposure $score, above 2.0:
$out"
else
	echo "  (systemd-analyze security --offline needs systemd 250 or later: $(head -1 <<<"$out"))"
fi

say "the installed axisd as axis, on /etc/axis"
# The files the README has the operator put in /etc/axis/pki, the demo ones
# here, with the README's own command.
install -o root -g axis -m 0640 "$PKI/demo-root-ca.crt" /etc/axis/pki/roots.pem
install -o root -g axis -m 0640 "$PKI/demo-hub-h40.key" /etc/axis/pki/hub.key
install -o root -g axis -m 0640 "$PKI/demo-hub-h40.chain.pem" /etc/axis/pki/hub.chain.pem
port=
for p in $(seq 18080 18180); do # the first port nobody answers on
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port in 18080-18180"
install -d -o root -g axis -m 0750 "$work/etc"
install -d -o axis -g axis -m 0750 "$work/data"
chmod 0755 "$work" # the user axis goes through it to its two folders
sed -e "s|^data_dir: /var/lib/axis$|data_dir: $work/data|" -e "s|^listen: 127.0.0.1:8080$|listen: 127.0.0.1:$port|" \
	-e "s|^  dir: /var/lib/axis/archive$|  dir: $work/data/archive|" \
	/etc/axis/axis.yaml >"$work/etc/axis.yaml"
chown root:axis "$work/etc/axis.yaml"
chmod 0640 "$work/etc/axis.yaml"
[ "$(diff /etc/axis/axis.yaml "$work/etc/axis.yaml" | grep -c '^>')" = 3 ] || fail "the copy of axis.yaml: want data_dir, listen and archive.dir changed"

# axisd --check-config: the installed example, with the files it names in
# place, passes; a broken copy fails and names the line ("axisd: FILE:LINE: what").
out=$(/usr/bin/axisd --check-config --config /etc/axis/axis.yaml 2>&1) || fail "axisd --check-config refuses the example config:
$out"
echo "  axisd --check-config --config /etc/axis/axis.yaml: $(grep -m1 'good' <<<"$out" || head -1 <<<"$out")"
cp "$work/etc/axis.yaml" "$work/etc/broken.yaml"
echo "listen: [" >>"$work/etc/broken.yaml"
if out=$(/usr/bin/axisd --check-config --config "$work/etc/broken.yaml" 2>&1); then
	fail "axisd --check-config accepts a broken config"
fi
n=$(wc -l <"$work/etc/broken.yaml") # the line appended
grep -Eq "broken\.yaml:$n:" <<<"$out" || fail "axisd --check-config on a broken config does not name line $n: $out"
echo "  a broken copy (listen: [ on line $n): $(head -1 <<<"$out")"

# As the unit runs it: user and group axis, no capabilities, no new
# privileges, umask 0027 (the rest of the sandbox needs systemd).
(
	umask 0027
	exec setpriv --reuid=axis --regid=axis --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
		/usr/bin/axisd --config "$work/etc/axis.yaml"
) 2>"$work/axisd.log" &
pid=$!
url=http://127.0.0.1:$port
ready=no
for _ in $(seq 100); do
	if curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then ready=yes; break; fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ "$ready" = yes ] || fail "axisd did not answer $url/readyz:
$(cat "$work/axisd.log")"
echo "  GET $url/readyz: $(curl -sS -o /dev/null -w '%{http_code}' "$url/readyz")"
[ "$(stat -c %U "$work/data/axis.db")" = axis ] || fail "axis.db is not the user axis's"
echo "  $work/data/axis.db: $(stat -c '%U:%G %a' "$work/data/axis.db")"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$url/metrics")" = 200 ] || fail "GET /metrics is not 200"
echo "  GET $url/metrics: 200"
kill -HUP "$pid" # ExecReload=/bin/kill -HUP $MAINPID
sleep 0.5
kill -0 "$pid" 2>/dev/null || fail "axisd ended on SIGHUP (systemctl reload):
$(cat "$work/axisd.log")"
curl -fsS -o /dev/null "$url/readyz" || fail "axisd not ready after SIGHUP"
echo "  SIGHUP (systemctl reload axisd): still serving"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "axisd exited $rc on SIGTERM:
$(cat "$work/axisd.log")"
echo "  SIGTERM: exit 0"
if grep -q '"level":"ERROR"' "$work/axisd.log"; then fail "axisd logged errors:
$(grep '"level":"ERROR"' "$work/axisd.log")"; fi
rm -f /etc/axis/pki/roots.pem /etc/axis/pki/hub.key /etc/axis/pki/hub.chain.pem

say "dpkg -r axis"
dpkg -r axis
for f in /usr/bin/axisd /usr/bin/axisctl /lib/systemd/system/axisd.service /lib/systemd/system/axis-reconcile.service /lib/systemd/system/axis-reconcile.timer /usr/share/doc/axis/README.md; do
	[ ! -e "$f" ] || fail "dpkg -r: $f is still there"
done
[ -f /etc/axis/axis.yaml ] || fail "dpkg -r removed the conffile /etc/axis/axis.yaml (only a purge does)"
echo "  binaries and units gone; /etc/axis/axis.yaml kept"

say "dpkg -P axis"
dpkg -P axis
[ ! -e /etc/axis ] || fail "dpkg -P: /etc/axis is still there: $(ls -la /etc/axis)"
[ "$(pkg_status)" = not-installed ] || fail "dpkg -P: axis is still known to dpkg ($(pkg_status))"
getent passwd axis >/dev/null || fail "dpkg -P removed the user axis (it keeps it)"
[ -d /var/lib/axis ] || fail "dpkg -P removed /var/lib/axis (it keeps the store)"
echo "  /etc/axis gone; the user axis and /var/lib/axis kept, as documented"

say "deb-smoke: OK ($deb, sha256 $(sha256sum "$deb" | cut -c1-16)…)"
