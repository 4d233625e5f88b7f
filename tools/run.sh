#!/usr/bin/env bash
# Install what is missing, build, and start xapi-gateway on the simulated driver.
#   ./tools/run.sh [extra xapi-gateway options]
# As root: https on 0.0.0.0:443, state in /var/lib/xapi-gateway.
# Otherwise: https on 0.0.0.0:8443, state in ${XDG_STATE_HOME:-~/.local/state}/xapi-gateway.
# Root's password: $XAPI_GATEWAY_ROOT_PASSWORD on first start, else generated and printed.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

if [ "$(id -u)" -eq 0 ]; then
  port=${XG_PORT:-443}
  state=${XG_STATE_DIR:-/var/lib/xapi-gateway}
else
  port=${XG_PORT:-8443}
  state=${XG_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/xapi-gateway}
fi
mkdir -p "$state"
echo "xapi-gateway: https://$(hostname -I 2>/dev/null | awk '{print $1}' || echo 127.0.0.1):$port/ (user root; state in $state)" >&2
exec ./build/xapi-gateway --https "0.0.0.0:$port" --state-dir "$state" --driver "${XG_DRIVER:-sim}" "$@"
