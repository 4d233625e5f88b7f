#!/bin/bash
# shell.sh - boot the same Xen-in-QEMU image as boot.sh for a developer.
#   shell.sh            interactive root shell on the dom0 serial console
#                       (Ctrl-A x quits QEMU, `exit` powers off)
#   shell.sh CMD...     boot, run CMD (a bash command line) in dom0, print its
#                       output, power off; exit status = CMD's
# Options before CMD: -g (also start the gateway, binary as boot.sh finds it),
# plus boot.sh's -a SRC:DST and -w DIR. Example:
#   tools/xen-qemu/shell.sh 'xl info; xl list'
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OPTS=(-n)
while [ $# -gt 0 ]; do
  case $1 in
    -g) OPTS=("${OPTS[@]/-n}"); shift ;;
    -a|-w) OPTS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
OPTS=($(printf '%s\n' "${OPTS[@]}" | grep -v '^$' || true))
if [ $# = 0 ]; then
  exec "$HERE/boot.sh" "${OPTS[@]}" -s
fi
exec "$HERE/boot.sh" -q "${OPTS[@]}" -- "$HERE/ctl.py" -- "$*"
