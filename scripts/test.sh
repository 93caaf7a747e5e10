#!/usr/bin/env bash
# The README's test command. Installs what the tests need (a pinned moto[server] in a
# virtualenv, the IAM differential-test oracle from npm), starts moto on 127.0.0.1 on a free
# port, runs every test of the workspace against it, and stops moto whatever happens.
#
#   scripts/test.sh [extra cargo test arguments]
#
# Environment: CARGO_TARGET_DIR (default ~/.cache/rdsguard/target, shared with CI),
# RDSGUARD_VENV (default ~/.cache/rdsguard/venv).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rdsguard/target}"
VENV="${RDSGUARD_VENV:-$HOME/.cache/rdsguard/venv}"

# 1. moto, pinned.
if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "== installing moto[server]==$MOTO_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

# 2. The independent IAM evaluator used as a differential-test oracle (AGPL: run only as a
#    separate process by the tests, never bundled).
if command -v npm >/dev/null 2>&1; then
  if [ ! -d crates/rdsguard-iam/oracle/node_modules ]; then
    echo "== installing the IAM oracle (npm ci)"
    npm ci --prefix crates/rdsguard-iam/oracle --no-audit --no-fund --loglevel=error
  fi
else
  echo "warning: npm not found: the IAM differential test will be skipped (fails under CI=true)" >&2
fi

# 3. moto on a free loopback port.
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp -t rdsguard-moto.XXXXXX.log)
MOTO_RDS_SNAPSHOT_LIMIT=100000 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!
cleanup() {
  kill "$MOTO_PID" 2>/dev/null || true
  wait "$MOTO_PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT
"$VENV/bin/python" - "$PORT" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/"
for _ in range(150):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("moto did not start within 30 s")
PY
export RDSGUARD_MOTO_ENDPOINT="http://127.0.0.1:$PORT"
echo "== moto $MOTO_VERSION on $RDSGUARD_MOTO_ENDPOINT"

# 4. Every test.
cargo test --workspace --locked "$@"
