#!/bin/busybox sh
# PID 1 of the busybox test guest (PV, Debian kernel, initramfs only).
# Prints XG-GUEST-HELLO on its console (hvc0; xenconsoled logs it in dom0 to
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
echo "XG-GUEST-READY"
# a heartbeat so console logs and CPU samples show a live guest; `wait` is
# interrupted by the traps at once
n=0
while true; do
  sleep 10 & wait $!
  n=$((n+1)); echo "XG-GUEST-TICK $n"
done
