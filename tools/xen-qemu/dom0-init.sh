#!/bin/sh
# PID 1 of the dom0 initramfs (rdinit=/init), added per boot by boot.sh.
# Brings up a minimal system, the network (QEMU user net, 10.0.2.15), the Xen
# daemons (Debian's /etc/init.d/xen: xenfs, xenstored, xen-init-dom0,
# xenconsoled), the control channel (socat on 10.0.2.15:7000 running
# /xg/ctl-serve.sh; QEMU forwards it from host loopback only) and then the
# gateway (/usr/local/sbin/xapi-gateway --driver libxl). Settings: /xg/env.
# Console markers (host greps them): XG-DOM0-UP, XG-XEN-UP, XG-CTL-UP,
# XG-GATEWAY-STARTED / XG-GATEWAY-EXIT, XG-DOM0-READY. The gateway is run by
# /xg/gateway.sh (start|stop|kill9|restart|status), also usable over the channel.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} LANG=C
up() { cut -d' ' -f1 /proc/uptime; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /var/log/xen/console /tmp
chmod 1777 /tmp
# what udev would provide; the hotplug scripts' locking loops forever without /dev/stdin
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
hostname dom0
echo "XG-DOM0-UP uptime=$(up)"

XG_MODE=gateway XG_PASSWORD= XG_GATEWAY_ARGS=
[ -f /xg/env ] && . /xg/env

# network: QEMU user networking (slirp) with fixed addresses
modprobe -q virtio_pci 2>/dev/null; modprobe -q virtio_net 2>/dev/null; modprobe -q e1000e 2>/dev/null
ip link set lo up
for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 \
  || echo "XG-DOM0-NET-FAILED: $(ls /sys/class/net | tr '\n' ' ')"

/etc/init.d/xen start
# guests' NICs: without udev nothing loads netback when a vif backend appears,
# and libxl gives up on a backend that never leaves state 1
modprobe -q xen-netback 2>/dev/null || echo "XG-DOM0-NO-NETBACK"
echo "XG-XEN-UP rc=$? uptime=$(up)"

# control channel: one connection = one bash script in, output + XG-CTL-RC=n out
socat -t 3600 TCP-LISTEN:7000,bind=10.0.2.15,reuseaddr,fork EXEC:/xg/ctl-serve.sh > /var/log/xg-ctl.log 2>&1 &
echo "XG-CTL-UP uptime=$(up)"

# the Debian package under test, if boot.sh was given one (no systemd here:
# gateway.sh then starts /usr/sbin/xapi-gateway with the unit's command line)
if [ "$XG_MODE" != none ] && [ -f /xg/xapi-gateway.deb ]; then
  # progress on the console: boot.sh's watchdog reboots a silent dom0
  echo "XG-DEB-INSTALLING uptime=$(up)"
  if dpkg --force-unsafe-io -i /xg/xapi-gateway.deb > /var/log/xg-dpkg.log 2>&1; then
    echo "XG-DEB-INSTALLED $(dpkg-query -W -f '${Version}' xapi-gateway) uptime=$(up)"
  else
    echo "XG-DEB-FAILED: $(tail -n 5 /var/log/xg-dpkg.log | tr '\n' ' ')"
  fi
fi
if [ "$XG_MODE" != none ] && { [ -x /usr/local/sbin/xapi-gateway ] || [ -x /usr/sbin/xapi-gateway ]; }; then
  /xg/gateway.sh start > /dev/console 2>&1 &
fi
echo "XG-DOM0-READY uptime=$(up)"

if [ "$XG_MODE" = shell ] || [ "$XG_SHELL" = 1 ]; then
  echo "dom0 shell (exit or Ctrl-D powers off; Ctrl-A x quits QEMU)"
  setsid cttyhack bash -l 2>/dev/null || setsid busybox cttyhack bash -l
  busybox poweroff -f
fi
# PID 1 must never exit; the host powers off through the control channel
while true; do sleep 3600; done
