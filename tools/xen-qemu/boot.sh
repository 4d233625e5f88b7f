#!/bin/bash
# boot.sh - boot Xen 4.17 + a Debian dom0 under qemu-system-x86_64 (TCG) and
# run the freshly built gateway inside dom0 with --driver libxl.
#
# usage: boot.sh [options] [-- CMD [ARG...]]
#   -g PATH     gateway binary (default $XG_GATEWAY_BIN, else build-xen/ or
#               build/xapi-gateway of this repository)
#   -n          no gateway: dom0 + Xen toolstack + control channel only
#   -s          interactive: serial console on this terminal with a root shell
#               in dom0 (Ctrl-A x quits QEMU; exiting the shell powers off)
#   -a SRC:DST  also put host file SRC at DST in dom0 (repeatable)
#   -p PORT     host loopback port forwarded to the gateway's 443 (default: free)
#   -w DIR      work dir for logs (default: a new /tmp/xg-xen.XXXXXX)
#   -t SECS     lifetime limit of QEMU (default 3600)
#   -q          do not print progress
# Without CMD: boots, prints the URL and password and waits until interrupted
# (Ctrl-C / SIGTERM), then tears down. With CMD: runs it on the host with
#   XG_E2E_URL=https://127.0.0.1:PORT XG_E2E_PASSWORD=... XG_XEN_CTL=127.0.0.1:CPORT
#   XG_XEN_WORK=DIR XG_XEN_CTL_PY=<path of ctl.py>
# in its environment, tears down, and exits with CMD's status.
# Exit 3: image build failed, 4: dom0 never came up, 5: gateway never answered.
# Logs in the work dir: serial.log (Xen + dom0 console), gateway.log,
# xen-logs.txt (xenstored/xl/guest console logs), boot-times.txt.
# Environment: XG_XEN_CACHE (image cache), QEMU_CPU (default max,-smap,-xsave:
# QEMU 7.2 TCG bugs, see README.md), QEMU_MEM (3072), QEMU_SMP (2),
# DOM0_MEM (1536M: its root file system is in RAM and holds the state dir, disk images and suspend images), XG_XEN_READY_TIMEOUT (gateway answer, default 180 s).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GW=${XG_GATEWAY_BIN:-}
# XG_GATEWAY_DEB=PATH: install this Debian package in dom0 at boot and run
# the installed gateway as its systemd unit does (instead of the binary)
DEB=${XG_GATEWAY_DEB:-}
NOGW=0 INTERACTIVE=0 QUIET=0 PORT="" WORK="" LIFETIME=3600
ADDS=()
while getopts "g:nsa:p:w:t:qh" o; do
  case $o in
    g) GW=$OPTARG ;;
    n) NOGW=1 ;;
    s) INTERACTIVE=1 ;;
    a) ADDS+=("$OPTARG") ;;
    p) PORT=$OPTARG ;;
    w) WORK=$OPTARG ;;
    t) LIFETIME=$OPTARG ;;
    q) QUIET=1 ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
  esac
done
shift $((OPTIND-1))
[ "${1:-}" = -- ] && shift
CMD=("$@")

QEMU_CPU=${QEMU_CPU:-max,-smap,-xsave}
QEMU_MEM=${QEMU_MEM:-3072}
QEMU_SMP=${QEMU_SMP:-2}
DOM0_MEM=${DOM0_MEM:-1536M}
READY_TIMEOUT=${XG_XEN_READY_TIMEOUT:-180}

log() { [ $QUIET = 1 ] || printf '[boot %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N | cut -c1-14; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ $NOGW = 0 ] && [ -z "$GW" ]; then
  for c in "$ROOT/build-xen/xapi-gateway" "$ROOT/build/xapi-gateway"; do
    [ -x "$c" ] && { GW=$c; break; }
  done
  [ -n "$GW" ] || { echo "boot.sh: no gateway binary (build it, pass -g PATH, or -n)" >&2; exit 2; }
fi
[ $NOGW = 1 ] || [ -x "$GW" ] || { echo "boot.sh: not executable: $GW" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot.sh: apt-get install qemu-system-x86" >&2; exit 2; }

T0=$(now)
IMG=$("$HERE/build-image.sh" | tail -1) || exit 3
[ -f "$IMG/complete" ] || exit 3
T_IMG=$(since "$T0")

[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/xg-xen.XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[ -n "$PORT" ] || PORT=$(free_port)
CPORT=$(free_port)
[ "$CPORT" != "$PORT" ] || CPORT=$(free_port)
PASSWORD=${XG_E2E_PASSWORD:-${XAPI_GATEWAY_ROOT_PASSWORD:-xg-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')}}
export XG_XEN_CTL=127.0.0.1:$CPORT
CTL=("$HERE/ctl.py" -c "$XG_XEN_CTL")

# ---- per-boot overlay: /init, control runner, settings, gateway binary ----
OV=$WORK/overlay
rm -rf "$OV"; mkdir -p "$OV/xg" "$OV/usr/local/sbin"
cp "$HERE/dom0-init.sh" "$OV/init"
cp "$HERE/ctl-serve.sh" "$HERE/gateway.sh" "$OV/xg/"
chmod 755 "$OV/init" "$OV/xg/ctl-serve.sh" "$OV/xg/gateway.sh"
MODE=gateway; [ $NOGW = 1 ] && MODE=none
{
  printf 'XG_MODE=%q\n' "$MODE"
  printf 'XG_PASSWORD=%q\n' "$PASSWORD"
  printf 'XG_GATEWAY_ARGS=%q\n' "${XG_GATEWAY_ARGS:-}"
  printf 'XG_SHELL=%q\n' "$INTERACTIVE"
} > "$OV/xg/env"
[ $NOGW = 1 ] || install -m 755 "$GW" "$OV/usr/local/sbin/xapi-gateway"
# the host plugins the package ships (tools/plugins), where the bare binary looks for them;
# with a .deb, its own install puts them there
if [ $NOGW = 0 ] && [ -z "$DEB" ]; then
  install -D -m 755 "$ROOT/tools/plugins/updater.py" "$OV/etc/xapi.d/plugins/updater.py"
fi
if [ $NOGW = 0 ] && [ -n "$DEB" ]; then
  cp "$DEB" "$OV/xg/xapi-gateway.deb"
  log "dom0 installs $(basename "$DEB") and runs the packaged gateway"
fi
for a in "${ADDS[@]+"${ADDS[@]}"}"; do
  src=${a%%:*} dst=${a#*:}
  mkdir -p "$OV/$(dirname "$dst")"; cp -a "$src" "$OV/$dst"
done
cp "$IMG/base.cpio.zst" "$WORK/dom0.cpio"
# an uncompressed cpio after a compressed one must start 4-byte aligned
pad=$(( (4 - $(stat -c %s "$WORK/dom0.cpio") % 4) % 4 ))
head -c $pad /dev/zero >> "$WORK/dom0.cpio"
(cd "$OV" && find . | cpio -o -H newc -R 0:0 --quiet) >> "$WORK/dom0.cpio"

XEN_CMDLINE="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=$QEMU_SMP"
DOM0_CMDLINE="console=hvc0 earlyprintk=xen rdinit=/init panic=5"
QEMU=(qemu-system-x86_64 -machine q35 -accel tcg -cpu "$QEMU_CPU" -m "$QEMU_MEM" -smp "$QEMU_SMP"
  -display none -no-reboot
  -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:443,hostfwd=tcp:127.0.0.1:$CPORT-10.0.2.15:7000"
  -device virtio-net-pci,netdev=n0
  -kernel "$IMG/xen" -append "$XEN_CMDLINE"
  -initrd "$IMG/vmlinuz $DOM0_CMDLINE,$WORK/dom0.cpio")
SERIAL=$WORK/serial.log
: > "$SERIAL"

if [ $INTERACTIVE = 1 ]; then
  log "interactive dom0 console (log: $SERIAL); Ctrl-A x quits; control channel $XG_XEN_CTL"
  [ $NOGW = 1 ] || log "gateway: https://127.0.0.1:$PORT password $PASSWORD"
  exec timeout -k 10 "$LIFETIME" "${QEMU[@]}" \
    -chardev "stdio,id=con,mux=on,signal=off,logfile=$SERIAL" -serial chardev:con -mon chardev=con,mode=readline
fi

start_qemu() {
  : > "$SERIAL"
  timeout -k 10 "$LIFETIME" "${QEMU[@]}" -monitor none -serial "file:$SERIAL" < /dev/null > "$WORK/qemu.log" 2>&1 &
  QPID=$!
  echo $QPID > "$WORK/qemu.pid"
  T_BOOT=$(now)
  log "qemu pid $QPID (image $IMG, work $WORK)"
}
kill_qemu() {  # by pid only: timeout(1) forwards TERM to its QEMU child
  kill -TERM $QPID 2>/dev/null || true
  for _ in $(seq 25); do kill -0 $QPID 2>/dev/null || break; sleep 0.2; done
  kill -KILL $QPID 2>/dev/null || true
  pkill -KILL -P $QPID 2>/dev/null || true
  wait $QPID 2>/dev/null || true
}
start_qemu
# watchdog: if this script is SIGKILLed (e.g. by a test timeout) its trap cannot
# run; stop QEMU (by its recorded pid) once this shell is gone
BOOT_PID=$$
( trap '' INT TERM
  while kill -0 $BOOT_PID 2>/dev/null; do sleep 2; done
  p=$(cat "$WORK/qemu.pid" 2>/dev/null) && [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
) < /dev/null > /dev/null 2>&1 &

TORN=0
teardown() {
  [ $TORN = 1 ] && return; TORN=1
  trap - INT TERM
  if kill -0 $QPID 2>/dev/null; then
    # logs for post-mortem, then power off (all bounded)
    "${CTL[@]}" -t 15 'cat /var/log/xapi-gateway.log 2>/dev/null' > "$WORK/gateway.log" 2>/dev/null || true
    "${CTL[@]}" -t 15 'for f in /var/log/xen/*.log /var/log/xen/console/*.log /var/log/xg-ctl.log; do [ -f "$f" ] && { echo "==== $f"; tail -n 200 "$f"; }; done; echo "==== xl list"; xl list' \
      > "$WORK/xen-logs.txt" 2>/dev/null || true
    "${CTL[@]}" -t 5 '(sleep 0.5; sync; busybox poweroff -f) > /dev/null 2>&1 &' > /dev/null 2>&1 || true
    for _ in $(seq 50); do kill -0 $QPID 2>/dev/null || break; sleep 0.2; done
  fi
  kill_qemu
  [ -z "${RELAY_PID:-}" ] || kill "$RELAY_PID" 2>/dev/null || true
  rm -rf "$WORK/dom0.cpio" "$WORK/overlay"
  log "torn down (logs in $WORK)"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  local rc=$1; shift
  echo "boot.sh: $*" >&2
  echo "---- dom0 console (last 80 lines of $SERIAL)" >&2; tail -n 80 "$SERIAL" >&2
  if [ -s "$WORK/qemu.log" ]; then echo "---- qemu" >&2; cat "$WORK/qemu.log" >&2; fi
  exit "$rc"
}

# 1. dom0 control channel. Under TCG on a loaded host the dom0 kernel has been
# seen to stall for good early in boot (once, right after "sched_clock: Marking
# stable"): if the console shows no progress for XG_XEN_STALL seconds (or the
# channel is not up after XG_XEN_BOOT_TIMEOUT s, default 240), kill QEMU and
# boot again, up to 3 attempts.
STALL=${XG_XEN_STALL:-60}
BOOT_TIMEOUT=${XG_XEN_BOOT_TIMEOUT:-240}
PROBE=${XG_XEN_CTL_PROBE:-5}        # seconds one `true` over the channel may take
attempt=1
while ! "$HERE/ctl.py" -c "$XG_XEN_CTL" -t "$PROBE" true > /dev/null 2>&1; do
  kill -0 $QPID 2>/dev/null || fail 4 "QEMU exited during boot"
  age=$(( $(date +%s) - $(stat -c %Y "$SERIAL") ))
  why=""
  [ $age -gt "$STALL" ] && why="no console output for ${age}s"
  awk -v s="$(since "$T_BOOT")" -v t="$BOOT_TIMEOUT" 'BEGIN{exit !(s > t)}' && why="control channel not up after $BOOT_TIMEOUT s"
  if [ -n "$why" ]; then
    [ $attempt -ge 3 ] && fail 4 "dom0 boot failed $attempt times, last: $why"
    echo "boot.sh: dom0 boot attempt $attempt: $why; last console line: $(tail -n 1 "$SERIAL" | cut -c1-120); rebooting" >&2
    cp "$SERIAL" "$WORK/serial-attempt$attempt.log"
    kill_qemu
    attempt=$((attempt+1))
    start_qemu
  fi
  sleep 0.5
done
T_CTL=$(since "$T_BOOT")
log "dom0 up, control channel ready after ${T_CTL}s"

# 2. gateway answers HTTPS (any HTTP status counts)
T_GW=-
if [ $NOGW = 0 ]; then
  probe() {
    python3 - "$PORT" <<'EOF'
import http.client, ssl, sys
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), timeout=5,
                                context=ssl._create_unverified_context())
try:
    c.request("GET", "/"); c.getresponse().read(); sys.exit(0)
except Exception:
    sys.exit(1)
EOF
  }
  while ! probe; do
    kill -0 $QPID 2>/dev/null || fail 5 "QEMU exited"
    if grep -q XG-GATEWAY-EXIT "$SERIAL"; then
      "${CTL[@]}" -t 15 'cat /var/log/xapi-gateway.log' > "$WORK/gateway.log" 2>&1 || true
      echo "---- gateway log" >&2; tail -n 60 "$WORK/gateway.log" >&2
      fail 5 "gateway exited in dom0: $(grep -m1 XG-GATEWAY-EXIT "$SERIAL")"
    fi
    awk -v s="$(since "$T_BOOT")" -v t="$READY_TIMEOUT" 'BEGIN{exit !(s > t)}' && {
      "${CTL[@]}" -t 15 'cat /var/log/xapi-gateway.log; ss -ltnp 2>/dev/null || true' > "$WORK/gateway.log" 2>&1 || true
      echo "---- gateway log" >&2; tail -n 60 "$WORK/gateway.log" >&2
      fail 5 "gateway did not answer on https within ${READY_TIMEOUT}s"
    }
    sleep 0.5
  done
  T_GW=$(since "$T_BOOT")
fi
printf 'image=%ss ctl_ready=%ss gateway_ready=%ss boot_attempts=%s\n' "$T_IMG" "$T_CTL" "$T_GW" "$attempt" > "$WORK/boot-times.txt"
log "ready: image ${T_IMG}s, boot->ctl ${T_CTL}s, boot->gateway ${T_GW}s"

# clients reach the gateway through relay.py: QEMU's hostfwd listens with a backlog of 1,
# and a burst of connections (a browser's) can leave one never accepted
RPORT=$(free_port)
python3 "$HERE/relay.py" "$RPORT" "$PORT" > "$WORK/relay.log" 2>&1 &
RELAY_PID=$!
for _ in $(seq 100); do grep -q '^ready' "$WORK/relay.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$WORK/relay.log" || fail 5 "relay.py did not start: $(cat "$WORK/relay.log")"
export XG_E2E_URL=https://127.0.0.1:$RPORT XG_E2E_PASSWORD=$PASSWORD XG_XEN_WORK=$WORK XG_XEN_CTL_PY=$HERE/ctl.py
if [ ${#CMD[@]} -gt 0 ]; then
  set +e
  "${CMD[@]}"
  rc=$?
  set -e
  exit $rc
fi
[ $NOGW = 1 ] || echo "XG_E2E_URL=$XG_E2E_URL"
[ $NOGW = 1 ] || echo "XG_E2E_PASSWORD=$PASSWORD"
echo "XG_XEN_CTL=$XG_XEN_CTL     (dom0 commands: $HERE/ctl.py -c $XG_XEN_CTL 'xl list')"
echo "Ctrl-C or kill $$ to stop"
while kill -0 $QPID 2>/dev/null; do sleep 1 & wait $! || true; done
log "QEMU exited"
