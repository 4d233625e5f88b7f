#!/bin/bash
# build-image.sh - build (or reuse from cache) the dom0 image used by boot.sh.
#
# The image is made only of Debian packages, fetched with the machine's own apt
# sources:
#   xen          Xen 4.17 hypervisor (xen-hypervisor-4.17-amd64, gunzipped:
#                QEMU's multiboot loader wants an uncompressed ELF)
#   vmlinuz      Debian linux-image-amd64 kernel, used for dom0 and test guests
#   base.cpio.zst dom0 root filesystem as a zstd initramfs: debootstrap minbase +
#                xen-utils-4.17 + qemu-system-xen (qdisk backend) + the
#                gateway's runtime libraries + socat +
#                busybox; inside it /var/lib/xg-test/{vmlinuz,vmlinux,initrd.gz,guest.cfg}
#                is a tiny busybox PV guest (guest-init.sh) for the tests.
#
# Cache: $XG_XEN_CACHE (default tools/xen-qemu/cache/) / <key>/, where <key> is
# a hash of this script, guest-init.sh, the package list, the suite and the
# mirror. A finished image has a "complete" file; anything else is rebuilt.
#
# Usage: build-image.sh [-f]     -f: rebuild even if cached
# Prints the image directory on stdout (last line). Needs root, debootstrap,
# cpio, zstd.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${XG_XEN_CACHE:-$HERE/cache}
SUITE=${XG_XEN_SUITE:-bookworm}
XENVER=4.17
FORCE=0
[ "${1:-}" = -f ] && FORCE=1

# dom0 packages: Xen toolstack, tools used by the scripts, and the runtime
# libraries the gateway binary links (keep in sync with CMakeLists.txt);
# qemu-system-xen is the device model libxl starts as the qdisk backend of
# qcow2 disks and CD drives.
PKGS="xen-utils-$XENVER xen-hypervisor-$XENVER-amd64 kmod busybox-static procps iproute2 socat
  openssl libhttp-parser2.9 libyajl2 libssl3 libsqlite3-0 libpam0g libsystemd0
  libnl-3-200 libnl-route-3-200 libnftables1
  libpam-runtime zlib1g libcrypt1 libvterm0
  qemu-utils libnbd-bin qemu-system-xen"
PKGS=$(echo $PKGS)
EXTRA_PKGS=${XG_XEN_EXTRA_PKGS:-}     # developer knob, e.g. "gdb strace"
[ -n "$EXTRA_PKGS" ] && PKGS="$PKGS $EXTRA_PKGS"

log() { printf '[build-image %s] %s\n' "$(date +%T)" "$*" >&2; }

# the machine's configured apt sources (deb822 first, then one-line format)
host_uri() { awk -v want="$1" '/^Types:/{u=""} /^URIs:/{u=$2} /^Suites:/{ for(i=2;i<=NF;i++) if ($i ~ want) { print u; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true; }
MIRROR=${XG_XEN_MIRROR:-$(host_uri '^[a-z]+$')}
SECURITY_MIRROR=${XG_XEN_SECURITY_MIRROR:-$(host_uri '-security$')}
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$(awk '$1=="deb" && $3 ~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=http://deb.debian.org/debian-security

KEY=$( { cat "$HERE/build-image.sh" "$HERE/guest-init.sh" "$HERE/guest-agent.c"; echo "$PKGS|$SUITE|$MIRROR|$SECURITY_MIRROR"; } | sha256sum | cut -c1-16)
IMG=$CACHE/$KEY

if [ $FORCE = 0 ] && [ -f "$IMG/complete" ]; then
  log "cached image $IMG"
  echo "$IMG"; exit 0
fi

[ "$(id -u)" = 0 ] || { echo "build-image.sh must run as root (debootstrap/chroot)" >&2; exit 2; }
for c in debootstrap cpio zstd gzip xz file objcopy python3 chroot gcc; do
  command -v $c >/dev/null || { echo "missing host tool: $c (apt-get install debootstrap cpio zstd)" >&2; exit 2; }
done

T0=$(date +%s)
mkdir -p "$CACHE"
# one builder at a time per cache
exec 9> "$CACHE/.lock"
flock -w 1800 9 || { echo "cannot lock $CACHE/.lock" >&2; exit 3; }
if [ $FORCE = 0 ] && [ -f "$IMG/complete" ]; then echo "$IMG"; exit 0; fi

TMP=$CACHE/tmp-$KEY
ROOTFS=$TMP/rootfs
cleanup() {
  umount "$ROOTFS/proc" 2>/dev/null || true
  umount "$ROOTFS/dev" 2>/dev/null || true
  rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
cleanup
mkdir -p "$TMP"

log "debootstrap $SUITE from $MIRROR"
debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" > "$TMP/debootstrap.log" 2>&1 \
  || { tail -30 "$TMP/debootstrap.log" >&2; exit 3; }
T1=$(date +%s)
rm -f "$ROOTFS/etc/apt/sources.list"
cat > "$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# never start daemons inside the build chroot
printf '#!/bin/sh\nexit 101\n' > "$ROOTFS/usr/sbin/policy-rc.d"; chmod +x "$ROOTFS/usr/sbin/policy-rc.d"
mount --bind /proc "$ROOTFS/proc"
log "apt-get install $PKGS"
chroot "$ROOTFS" sh -ec "
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends $PKGS
  cd /tmp
  KPKG=\$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print \$2; exit}')
  apt-get download \$KPKG
" > "$TMP/chroot-install.log" 2>&1 || { tail -40 "$TMP/chroot-install.log" >&2; exit 3; }
umount "$ROOTFS/proc"
T2=$(date +%s)

OUT=$TMP/out
mkdir -p "$OUT"
# kernel: unpack outside the rootfs; copy only the modules dom0 needs
mkdir -p "$TMP/kernel"
dpkg-deb -x "$ROOTFS"/tmp/linux-image-*.deb "$TMP/kernel"
rm -f "$ROOTFS"/tmp/linux-image-*.deb
KVER=$(ls "$TMP/kernel/lib/modules")
cp "$TMP/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
KM=$TMP/kernel/lib/modules/$KVER RM=$ROOTFS/lib/modules/$KVER
mkdir -p "$RM"
cp "$KM"/modules.order "$KM"/modules.builtin* "$RM"/
(cd "$KM" && find kernel/drivers/xen kernel/drivers/net/xen-netback kernel/drivers/block/xen-blkback \
     kernel/net/bridge kernel/net/802 kernel/net/llc kernel/drivers/net/tun.ko \
     kernel/net/netfilter/nf_tables.ko kernel/net/netfilter/nfnetlink.ko \
     kernel/lib/libcrc32c.ko kernel/crypto/crc32c_generic.ko \
     kernel/drivers/net/dummy.ko kernel/drivers/block/loop.ko \
     kernel/drivers/virtio kernel/drivers/net/virtio_net.ko kernel/drivers/net/net_failover.ko \
     kernel/net/core/failover.ko kernel/drivers/net/ethernet/intel/e1000e kernel/drivers/net/ethernet/intel/e1000 \
     -name '*.ko*' 2>/dev/null | cpio -pdm --quiet "$RM")
chroot "$ROOTFS" depmod -a "$KVER"

zcat "$ROOTFS/boot/xen-$XENVER-amd64.gz" > "$OUT/xen"
rm -f "$ROOTFS"/boot/xen-*

# test guest: same kernel + busybox-static initramfs running guest-init.sh
G=$TMP/guest
mkdir -p "$G"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,etc,tmp,root,lib/modules}
cp "$ROOTFS/bin/busybox" "$G/bin/busybox"
cp "$KM/kernel/drivers/block/xen-blkfront.ko" "$KM/kernel/drivers/net/xen-netfront.ko" "$G/lib/modules/"
cp "$HERE/guest-init.sh" "$G/init"; chmod 755 "$G/init"
# the guest's stand-in for xen-guest-agent (static: the initramfs has no libc)
gcc -static -O2 -Wall -o "$G/bin/xg-agent" "$HERE/guest-agent.c"
T=$ROOTFS/var/lib/xg-test
mkdir -p "$T"
(cd "$G" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -9) > "$T/initrd.gz"
cp "$OUT/vmlinuz" "$T/vmlinuz"
# the same kernel as an uncompressed ELF: libxenguest must un-xz a bzImage in
# dom0 userspace, which makes `xl create` take ~6 s under TCG instead of ~1.5 s
off=$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().find(b"\xfd7zXZ\x00"))' "$OUT/vmlinuz")
if [ "$off" -gt 0 ] && { tail -c +$((off+1)) "$OUT/vmlinuz" | xz -dc > "$TMP/vmlinux" 2>/dev/null; file -b "$TMP/vmlinux" | grep -q '^ELF 64'; }; then
  objcopy --remove-section=.BTF "$TMP/vmlinux" "$T/vmlinux" 2>/dev/null || cp "$TMP/vmlinux" "$T/vmlinux"
  KERNEL=/var/lib/xg-test/vmlinux
else
  log "could not extract an ELF vmlinux; test guests use the bzImage"
  KERNEL=/var/lib/xg-test/vmlinuz
fi
rm -f "$TMP/vmlinux"
cat > "$T/guest.cfg" <<EOF
# a guest created behind the gateway's back: xl create /var/lib/xg-test/guest.cfg name=...
name = "xg-guest"
type = "pv"
kernel = "$KERNEL"
ramdisk = "/var/lib/xg-test/initrd.gz"
extra = "console=hvc0 rdinit=/init"
memory = 128
vcpus = 1
on_poweroff = "destroy"
on_reboot = "restart"
on_crash = "destroy"
EOF

# xenconsoled logs guest consoles to /var/log/xen/console/guest-<name>.log
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> "$ROOTFS/etc/default/xen"
mkdir -p "$ROOTFS/var/log/xen/console"

# trim
rm -rf "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* \
       "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
       "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/boot/* \
       "$ROOTFS"/usr/lib/x86_64-linux-gnu/xen/boot 2>/dev/null || true
{ echo "suite=$SUITE kernel=$KVER"; chroot "$ROOTFS" dpkg-query -W -f '${Package} ${Version}\n' $PKGS; } > "$OUT/versions.txt"

log "packing ($(du -sh "$ROOTFS" | cut -f1))"
(cd "$ROOTFS" && find . | cpio -o -H newc -R 0:0 --quiet) | zstd -q -T0 -10 -o "$OUT/base.cpio.zst"
T3=$(date +%s)
echo "debootstrap=$((T1-T0))s apt=$((T2-T1))s finish+pack=$((T3-T2))s total=$((T3-T0))s" > "$OUT/build-times.txt"
date -u +%FT%TZ > "$OUT/complete"
rm -rf "$IMG"; mv "$OUT" "$IMG"
# keep only the two newest images
ls -1td "$CACHE"/*/complete 2>/dev/null | tail -n +3 | xargs -r -n1 dirname | xargs -r rm -rf
log "image $IMG ready in $((T3-T0))s ($(du -h "$IMG/base.cpio.zst" | cut -f1) initramfs): $(cat "$IMG/build-times.txt")"
echo "$IMG"
