#!/usr/bin/env bash
# package.sh OUTDIR [REV]: build the Debian package of commit REV (default:
# the work tree as it is, committed or not) the way a fresh clone would, and
# copy the .deb to OUTDIR. The version is the changelog's plus
# +git<commit time>.<hash> so a later commit's package upgrades an earlier one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
REV=${2:-}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/xapi-gateway

if [ -n "$REV" ]; then
  git -C "$ROOT" archive --prefix=xapi-gateway/ "$REV" | tar -x -C "$WORK"
  stamp=$(git -C "$ROOT" log -1 --format='%ct.%h' "$REV")
else
  mkdir -p "$SRC"
  # tracked and new files, without build trees or ignored files
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    (cd "$ROOT" && xargs -0 cp --parents -t "$SRC" 2>/dev/null || true)
  stamp=$(date +%s).$(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo local)
fi
if [ ! -d "$SRC/debian" ]; then
  echo "package.sh: ${REV:-the work tree} has no debian/ directory" >&2
  exit 3
fi
base=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
version="$base+git$stamp"
(cd "$SRC" && {
  printf 'xapi-gateway (%s) unstable; urgency=medium\n\n  * Build of %s.\n\n -- %s  %s\n\n' \
    "$version" "${REV:-the work tree}" "xapi-gateway developers <xapi-gateway@example.org>" \
    "$(date -R)"
  cat debian/changelog
} > debian/changelog.new && mv debian/changelog.new debian/changelog)
(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -b -us -uc >"$WORK/build.log" 2>&1) || {
  tail -50 "$WORK/build.log" >&2
  exit 1
}
cp "$WORK"/xapi-gateway_*.deb "$OUT"/
ls "$OUT"/xapi-gateway_"$version"_*.deb
