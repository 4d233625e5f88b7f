#!/usr/bin/env bash
# tests/package/run.sh BUILD_DIR - the `package` ctest: build the Debian
# package from the tree as a fresh clone would, install it with apt (which
# resolves its Depends), and check what a user of the installed package gets:
#   files, modes, the conffile, lintian, systemd-analyze verify/security, the
#   man page, --version/--check-config, the installed binary started the way
#   the unit starts it (sd_notify READY=1, e2e modules against it, SIGHUP
#   certificate reload without dropping connections), an upgrade from the
#   previous commit's package keeping the state dir, certificate and users,
#   and purge.
# Installs into this machine, so it runs only as root with XG_RUN_PACKAGE=1
# (CI sets it) and when /var/lib/xapi-gateway is not in use; else exit 77.
# The built .deb is left in BUILD_DIR/deb/ (the real-Xen stage installs it).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)

if [ "${XG_RUN_PACKAGE:-0}" != 1 ] || [ "$(id -u)" != 0 ]; then
  echo "skipped: needs root and XG_RUN_PACKAGE=1 (it installs the package on this machine)"
  exit 77
fi
if dpkg-query -W -f='${Status}' xapi-gateway 2>/dev/null | grep -q installed ||
   [ -e /var/lib/xapi-gateway ]; then
  echo "skipped: xapi-gateway is installed or /var/lib/xapi-gateway exists on this machine"
  exit 77
fi
for t in dpkg-buildpackage lintian help2man systemd-analyze; do
  command -v $t >/dev/null || { echo "missing $t (tools/deps.sh installs it with XG_RUN_PACKAGE=1)"; exit 1; }
done

WORK=$(mktemp -d /tmp/xg-pkg.XXXXXX)
GWPID=
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
ok() { echo "ok: $*"; }
cleanup() {
  [ -n "$GWPID" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null
  apt-get purge -y -qq -o DPkg::Lock::Timeout=600 xapi-gateway >/dev/null 2>&1 || true
  rm -f /usr/sbin/policy-rc.d.xg-test
  [ -f "$WORK/policy-rc.d.saved" ] && mv "$WORK/policy-rc.d.saved" /usr/sbin/policy-rc.d ||
    rm -f /usr/sbin/policy-rc.d
  rm -rf "$WORK"
}
trap cleanup EXIT
# a package install must not start the service on this machine (it would
# listen on 0.0.0.0:443): policy-rc.d 101 is how Debian says "not now"
[ -e /usr/sbin/policy-rc.d ] && cp -p /usr/sbin/policy-rc.d "$WORK/policy-rc.d.saved"
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SCALE=${XG_TIME_SCALE:-1}

# ---- build: this tree, and the previous commit when it has a package ----
mkdir -p "$BUILD/deb"
rm -f "$BUILD"/deb/*.deb
t0=$(date +%s)
NEW=$("$ROOT/tools/package.sh" "$BUILD/deb" | tail -1) || { echo "FAIL: package build"; exit 1; }
ok "built $(basename "$NEW") in $(( $(date +%s) - t0 )) s"
OLD=
if git -C "$ROOT" rev-parse -q --verify HEAD~1 >/dev/null &&
   git -C "$ROOT" cat-file -e HEAD~1:debian/control 2>/dev/null; then
  OLD=$("$ROOT/tools/package.sh" "$WORK/old" HEAD~1 | tail -1) || OLD=
  [ -n "$OLD" ] && ok "built the previous commit's $(basename "$OLD")"
fi

lintian --fail-on error,warning "$NEW" > "$WORK/lintian.txt" 2>&1
lrc=$?
lintian_out=$(grep -v 'running with root privileges' "$WORK/lintian.txt")
[ $lrc = 0 ] && ok "lintian: no error or warning${lintian_out:+ ($lintian_out)}" || fail "lintian: $lintian_out"

# ---- runs the installed binary as the unit does (+ a loopback port) ----
PORT=$(free_port)
start_installed() {
  local log=$1; shift
  python3 "$HERE/notify_listener.py" "$WORK/notify.sock" "$WORK/notify.out" &
  local lp=$!
  for _ in $(seq 50); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done
  NOTIFY_SOCKET=$WORK/notify.sock XAPI_GATEWAY_ROOT_PASSWORD=pkg-test-pw \
    /usr/sbin/xapi-gateway --config /etc/xapi-gateway/xapi-gateway.conf \
    --https 127.0.0.1:$PORT --driver sim --sim-vms 3 "$@" >> "$log" 2>&1 &
  GWPID=$!
  local ready=0
  for _ in $(seq $((300 * SCALE))); do
    grep -q '^READY=1' "$WORK/notify.out" 2>/dev/null && { ready=1; break; }
    kill -0 $GWPID 2>/dev/null || break
    sleep 0.1
  done
  kill $lp 2>/dev/null; wait $lp 2>/dev/null; rm -f "$WORK/notify.sock"
  [ $ready = 1 ]
}
stop_installed() {
  kill -TERM "$GWPID"; wait "$GWPID"; local rc=$?; GWPID=
  return $rc
}
login_ok() {  # login_ok PASSWORD
  python3 - "$PORT" "$1" <<'PY'
import ssl, sys, xmlrpc.client
x = xmlrpc.client.ServerProxy(f"https://127.0.0.1:{sys.argv[1]}/", context=ssl._create_unverified_context())
r = x.session.login_with_password("root", sys.argv[2], "2.21", "pkg-test")
sys.exit(0 if r["Status"] == "Success" else 1)
PY
}
cert_fp() { echo | openssl s_client -connect 127.0.0.1:$PORT 2>/dev/null | openssl x509 -noout -fingerprint -sha256; }

# ---- upgrade path: previous commit's package first, with state in it ----
if [ -n "$OLD" ]; then
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$OLD" > "$WORK/apt-old.log" 2>&1 || { fail "install of $OLD"; tail "$WORK/apt-old.log"; }
  if start_installed "$WORK/old.log"; then
    echo 'kept-user-pw' | /usr/sbin/xapi-gateway --config /etc/xapi-gateway/xapi-gateway.conf passwd root >/dev/null
    FP_OLD=$(cert_fp)
    stop_installed || fail "old package: SIGTERM exit status"
  else
    fail "old package's gateway did not become ready"; cat "$WORK/old.log"
  fi
  echo '# local change kept across upgrades' >> /etc/xapi-gateway/xapi-gateway.conf
fi

# ---- install this tree's package ----
apt-get install -y -qq -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$NEW" > "$WORK/apt.log" 2>&1 && ok "apt-get install $(basename "$NEW")" ||
  { fail "apt-get install"; cat "$WORK/apt.log"; exit 1; }

mode() { stat -c '%a %U:%G' "$1" 2>/dev/null; }
[ "$(mode /usr/sbin/xapi-gateway)" = "755 root:root" ] && ok "/usr/sbin/xapi-gateway 755" || fail "binary mode $(mode /usr/sbin/xapi-gateway)"
[ "$(mode /etc/xapi-gateway/xapi-gateway.conf)" = "644 root:root" ] && ok "conffile 644" || fail "conffile mode"
[ "$(mode /var/lib/xapi-gateway)" = "700 root:root" ] && ok "state dir 700 root" || fail "state dir mode $(mode /var/lib/xapi-gateway)"
dpkg-query -W -f='${Conffiles}\n' xapi-gateway | grep -q ' /etc/xapi-gateway/xapi-gateway.conf ' &&
  ok "xapi-gateway.conf is a conffile" || fail "not a conffile"
[ "$(mode /etc/xapi.d/plugins/updater.py)" = "755 root:root" ] && ok "updater.py plugin 755" ||
  fail "updater.py plugin mode $(mode /etc/xapi.d/plugins/updater.py)"
for f in /lib/systemd/system/xapi-gateway.service /usr/share/man/man8/xapi-gateway.8.gz; do
  [ -f "$f" ] && ok "$f" || fail "missing $f"
done
# every setting the binary knows is documented in the installed file
for k in $(/usr/sbin/xapi-gateway --dump-config | sed -n 's/^#\([a-z0-9-]*\) = .*/\1/p'); do
  grep -q "^#$k = " /etc/xapi-gateway/xapi-gateway.conf || fail "conffile lacks $k"
done
/usr/sbin/xapi-gateway --version | grep -q '^xapi-gateway [0-9]' && ok "--version" || fail "--version"
/usr/sbin/xapi-gateway --config /etc/xapi-gateway/xapi-gateway.conf --check-config >/dev/null &&
  ok "--check-config on the conffile" || fail "--check-config"
printf 'driver = xen\n' > "$WORK/bad.conf"
/usr/sbin/xapi-gateway --config "$WORK/bad.conf" --check-config >/dev/null 2>&1 &&
  fail "--check-config accepted a bad file" || ok "--check-config refuses a bad file"

v=$(systemd-analyze verify /lib/systemd/system/xapi-gateway.service 2>&1 | grep -v -e 'Failed to load' -e 'No such file' -e 'proc-xen.mount' -e 'xenstored' -e 'xenconsoled')
[ -z "$v" ] && ok "systemd-analyze verify" || fail "systemd-analyze verify: $v"
score=$(systemd-analyze security --offline=true /lib/systemd/system/xapi-gateway.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: overall exposure ${score:-?}"
[ -n "$score" ] && awk -v s="$score" 'BEGIN{exit !(s <= 6.5)}' && ok "exposure $score <= 6.5" || fail "exposure ${score:-unknown}"

mw=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l /usr/share/man/man8/xapi-gateway.8.gz 2>&1 >"$WORK/man.txt")
[ -z "$mw" ] && grep -q -- '--check-config' "$WORK/man.txt" && grep -q 'SIGHUP' "$WORK/man.txt" &&
  ok "man page renders ($(wc -l < "$WORK/man.txt") lines)" || fail "man page: $mw"

# ---- the installed gateway, started as the unit starts it ----
if start_installed "$WORK/gw.log"; then
  ok "READY=1 through NOTIFY_SOCKET"
  if [ -n "$OLD" ]; then
    login_ok kept-user-pw && ok "upgrade kept the users file" || fail "upgrade lost root's password"
    [ "$(cert_fp)" = "$FP_OLD" ] && ok "upgrade kept the certificate" || fail "upgrade changed the certificate"
    grep -q 'local change kept' /etc/xapi-gateway/xapi-gateway.conf && ok "upgrade kept the edited conffile" || fail "conffile edit lost"
    PW=kept-user-pw
  else
    PW=pkg-test-pw
    echo "note: no previous commit with a package; upgrade path not exercised"
  fi
  XG_E2E_URL=https://127.0.0.1:$PORT XG_E2E_PASSWORD=$PW PYTHONDONTWRITEBYTECODE=1 \
    timeout $((600 * SCALE)) python3 "$ROOT/tests/e2e/run_e2e.py" "" test_wire test_session test_records \
    > "$WORK/e2e.log" 2>&1 && ok "e2e (wire, session, records) against the installed binary" ||
    { fail "e2e against the installed binary"; tail -40 "$WORK/e2e.log"; }
  # SIGHUP: a new certificate for new connections, open connections live on
  python3 "$HERE/reload_check.py" "$PORT" "$PW" "$GWPID" "$WORK" && ok "SIGHUP reloads the certificate, keeps connections" ||
    { fail "SIGHUP reload"; tail -20 "$WORK/gw.log"; }
  stop_installed && ok "SIGTERM: exit 0" || fail "SIGTERM exit status"
else
  fail "installed gateway not ready"; cat "$WORK/gw.log"
fi

apt-get purge -y -qq -o DPkg::Lock::Timeout=600 xapi-gateway > "$WORK/purge.log" 2>&1 && ok "purge" || fail "purge"
[ ! -e /etc/xapi-gateway/xapi-gateway.conf ] && [ ! -e /var/lib/xapi-gateway ] &&
  ok "purge removed the conffile and the state" || fail "purge left files"
[ ! -e /etc/xapi.d/plugins/updater.py ] && ok "purge removed the updater plugin" || fail "purge left updater.py"

echo "package: $fails failure(s)"
[ $fails = 0 ]
