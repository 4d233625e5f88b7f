#!/bin/busybox sh
# PID 1 of the busybox test guest (PV, Debian kernel, initramfs only).
# Prints XG-GUEST-HELLO on its console (and XG-GUEST-NIC-UP, XG-GUEST-DISK-UP/DOWN
# for devices; see below) (hvc0; xenconsoled logs it in dom0 to
# /var/log/xen/console/guest-<name>.log) and honours clean shutdown:
# the PV kernel watches xenstore control/shutdown itself ("poweroff" ->
# orderly_poweroff -> /sbin/poweroff -> busybox signals PID 1 with SIGUSR2,
# "reboot" -> SIGTERM; "suspend" is handled entirely in the kernel). A shell as
# PID 1 ignores signals without a handler, so the traps come first.
trap 'echo XG-GUEST-POWEROFF; sync; poweroff -f' USR2 USR1
trap 'echo XG-GUEST-REBOOT; reboot -f' TERM
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "XG-GUEST-HELLO kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime) $(grep MemTotal /proc/meminfo | tr -s ' ')"
insmod /lib/modules/xen-blkfront.ko 2>/dev/null; insmod /lib/modules/xen-netfront.ko 2>/dev/null
ip link set lo up
# every NIC that appears (at boot or hot-plugged) is announced with its MAC
(seen=""; while true; do
  for n in /sys/class/net/eth*; do
    [ -e "$n" ] || continue; i=${n##*/}
    case " $seen " in *" $i "*) continue;; esac
    seen="$seen $i"; echo "XG-GUEST-NIC-UP $i mac=$(cat "$n/address")"
  done
  sleep 0.2
done) &
# every block device that appears (at boot or hot-plugged) is announced with
# its size, read-only flag, SHA-256 of its whole content (up to 64 MiB) and,
# for an ISO 9660 medium, its volume label; one that goes away is announced too
(seen=""; while true; do
  now=""
  for b in /sys/block/xvd*; do
    [ -e "$b" ] || continue; d=${b##*/}; now="$now $d"
    case " $seen " in *" $d "*) continue;; esac
    [ -e "/dev/$d" ] || continue
    bytes=$(( $(cat "$b/size") * 512 )) sum=skipped label=
    [ "$bytes" -le 67108864 ] && sum=$(sha256sum < "/dev/$d" | cut -d' ' -f1)
    if [ "$(dd if="/dev/$d" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ]; then
      label=$(dd if="/dev/$d" bs=1 skip=32808 count=32 2>/dev/null | tr -d ' ')
    fi
    seen="$seen $d"
    echo "XG-GUEST-DISK-UP $d size=$bytes ro=$(cat "$b/ro") removable=$(cat "$b/removable") sha256=$sum label=$label"
  done
  for d in $seen; do
    case " $now " in *" $d "*) ;; *) echo "XG-GUEST-DISK-DOWN $d"; seen=$(echo " $seen " | sed "s/ $d / /");; esac
  done
  sleep 0.2
done) &
# network test (kernel command line xg_ip=ADDR/PREFIX xg_peer=HOST:PORT): give
# eth0 the address, publish it as xen-guest-agent does, and reach dom0's port
for a in $(cat /proc/cmdline); do
  case $a in xg_ip=*) XG_IP=${a#xg_ip=};; xg_peer=*) XG_PEER=${a#xg_peer=};; esac
done
if [ -n "${XG_IP:-}" ]; then
  for i in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
  ip addr add "$XG_IP" dev eth0 && ip link set eth0 up
  xg-agent attr/vif/0/ipv4/0 "${XG_IP%/*}" data/updated 1 || echo "XG-GUEST-AGENT-FAILED"
  reply=
  for i in $(seq 60); do
    reply=$(echo ping | nc -w 3 "${XG_PEER%:*}" "${XG_PEER#*:}" 2>/dev/null) && [ -n "$reply" ] && break
    sleep 1
  done
  echo "XG-GUEST-NET ${reply:-FAILED} ip=${XG_IP%/*}"
fi
echo "XG-GUEST-READY"
# a heartbeat so console logs and CPU samples show a live guest; `wait` is
# interrupted by the traps at once
n=0
while true; do
  sleep 10 & wait $!
  n=$((n+1)); echo "XG-GUEST-TICK $n"
done
