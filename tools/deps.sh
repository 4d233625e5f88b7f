#!/usr/bin/env bash
# Install the Debian 12 packages needed to build and test xapi-gateway (only what is missing).
# Uses sudo when not root. Node/npm come from apt only if `node` is not already installed
# (a nodesource nodejs conflicts with Debian's npm package).
set -euo pipefail

PKGS=(cmake gcc clang make pkg-config python3 libhttp-parser-dev libyajl-dev
      libxen-dev libssl-dev libcmocka-dev libsqlite3-dev libcrypt-dev libpam0g-dev zlib1g-dev libsystemd-dev help2man openssl
      libnl-route-3-dev libnftables-dev qemu-utils libnbd-bin libnbd-dev
      libxxhash-dev libzstd-dev   # XVA export/import: XXH64 chunk checksums, zstd archives
      chromium)   # tests/browser: XO Lite in headless Chromium
# consoles: libvterm (the terminal emulator) and a PSF console font
PKGS+=(libvterm-dev psf-unifont)
# the real xe CLI for tests/xe, built from ../shared/xe-cli (Debian's OCaml; stunnel for its TLS)
PKGS+=(ocaml ocaml-dune ocaml-findlib libc6-dev stunnel4 libastring-ocaml-dev libfpath-ocaml-dev
       liburi-ocaml-dev libyojson-ocaml-dev liblogs-ocaml-dev libfmt-ocaml-dev libmtime-ocaml-dev
       libptime-ocaml-dev libuuidm-ocaml-dev libunix-errno-ocaml-dev libintegers-ocaml-dev)

# Ansible's xenserver_* modules (community.general), driven as a real client by tests/ansible
PKGS+=(ansible)
# llvm-profdata and llvm-cov: the fuzz stage's coverage report (tests/fuzz/run-fuzz.sh)
PKGS+=(llvm)
if ! command -v node >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi
# the package stage (tests/package/) builds and checks the .deb
if [ "${XG_RUN_PACKAGE:-0}" = 1 ]; then
  PKGS+=(dpkg-dev debhelper fakeroot lintian man-db systemd)
fi
# the real-Xen stage (tools/xen-qemu/) boots Xen and a dom0 built from Debian packages
if [ "${XG_RUN_XEN:-0}" = 1 ]; then
  PKGS+=(qemu-system-x86 debootstrap cpio zstd xz-utils file binutils)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
