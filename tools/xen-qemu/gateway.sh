#!/bin/bash
# dom0: control of the gateway process (settings from /xg/env, written by boot.sh).
#   gateway.sh start     start it (detached), wait up to 60 s for "listening on"
#   gateway.sh stop      SIGTERM, wait up to 20 s, then SIGKILL
#   gateway.sh kill9     SIGKILL (crash test), wait until it is gone
#   gateway.sh restart   stop + start
#   gateway.sh status    pid or "not running" (exit 1)
# The log (appended across restarts) is /var/log/xapi-gateway.log; the console
# shows XG-GATEWAY-STARTED / XG-GATEWAY-EXIT rc=n.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C
BIN=/usr/local/sbin/xapi-gateway LOG=/var/log/xapi-gateway.log PIDF=/run/xapi-gateway.pid
STATE=/var/lib/xapi-gateway
XG_PASSWORD= XG_GATEWAY_ARGS=
[ -f /xg/env ] && . /xg/env
# the installed Debian package (boot.sh XG_GATEWAY_DEB): the unit's command
# line, whose config file says 0.0.0.0:443, /var/lib/xapi-gateway, driver auto
BASE_ARGS="--driver libxl --https 0.0.0.0:443 --state-dir $STATE"
if [ -f /xg/xapi-gateway.deb ] && [ -x /usr/sbin/xapi-gateway ]; then
  BIN=/usr/sbin/xapi-gateway
  BASE_ARGS=$(sed -n 's|^ExecStart=/usr/sbin/xapi-gateway ||p' /lib/systemd/system/xapi-gateway.service)
fi
up() { cut -d' ' -f1 /proc/uptime; }
pid() { local p; p=$(cat $PIDF 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }

start() {
  if pid > /dev/null; then echo "already running: $(pid)"; return 0; fi
  [ -x $BIN ] || { echo "no gateway binary at $BIN"; return 1; }
  mkdir -p $STATE
  local missing; missing=$(ldd $BIN 2>&1 | grep 'not found')
  [ -n "$missing" ] && echo "XG-GATEWAY-MISSING-LIBS: $(echo $missing)" | tee /dev/console
  local lines=0; [ -f $LOG ] && lines=$(wc -l < $LOG)
  rm -f $PIDF
  # detached supervisor: its output goes to the console, never to the caller's socket
  setsid bash -c '
    cd '"$STATE"'
    export XAPI_GATEWAY_ROOT_PASSWORD="$1"
    # shellcheck disable=SC2086
    stdbuf -oL -eL '"$BIN"' '"$BASE_ARGS"' $2 < /dev/null >> '"$LOG"' 2>&1 &
    p=$!
    echo $p > '"$PIDF"'
    echo "XG-GATEWAY-STARTED pid=$p uptime=$(cut -d" " -f1 /proc/uptime)"
    wait $p
    rc=$?
    echo "XG-GATEWAY-EXIT rc=$rc uptime=$(cut -d" " -f1 /proc/uptime)"
    [ $rc = 0 ] || [ $rc = 137 ] || [ $rc = 143 ] || tail -n 40 '"$LOG"' | sed "s/^/XG-GATEWAY-LOG: /"
  ' xg-gateway "$XG_PASSWORD" "$XG_GATEWAY_ARGS" < /dev/null > /dev/console 2>&1 &
  for _ in $(seq 600); do
    # "listening on" in the log, or the port open (stdout may be block-buffered)
    if tail -n +$((lines+1)) $LOG 2>/dev/null | grep -q 'listening on' || ss -Hltn 'sport = :443' | grep -q .; then
      echo "started: pid $(pid) uptime=$(up)"; return 0
    fi
    if [ -s $PIDF ] && ! pid > /dev/null; then
      echo "gateway exited during start:"; tail -n +$((lines+1)) $LOG | tail -n 40; return 1
    fi
    sleep 0.1
  done
  echo "gateway not listening after 60 s:"; tail -n +$((lines+1)) $LOG | tail -n 40; return 1
}

stop() {
  local p; p=$(pid) || { echo "not running"; return 0; }
  kill -TERM "$p"
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || { echo "stopped"; rm -f $PIDF; return 0; }; sleep 0.1; done
  echo "no exit 20 s after SIGTERM: SIGKILL"; kill -KILL "$p"; rm -f $PIDF; return 1
}

kill9() {
  local p; p=$(pid) || { echo "not running"; return 1; }
  kill -KILL "$p"
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  rm -f $PIDF; echo "killed $p"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  kill9) kill9 ;;
  restart) stop; start ;;
  status) pid || { echo "not running"; exit 1; } ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
