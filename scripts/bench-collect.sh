#!/usr/bin/env bash
# Collection benchmark: rdsguard's collector against the floor (/work/shared/bench/min_collect.py,
# or $RDSGUARD_BENCH_DIR/min_collect.py) on the same moto account, straight to moto and through
# a proxy that adds 50 ms to every call (a real endpoint's round trip).
#
#   scripts/bench-collect.sh [N_INSTANCES]        (default 1000)
#
# Environment: CARGO_TARGET_DIR (default ~/.cache/rdsguard/target), RDSGUARD_VENV (default
# ~/.cache/rdsguard/venv), BENCH_PROFILE (release, default, or dev), RDSGUARD_BENCH_DIR.
# Prints a table: wall seconds, requests, peak memory, and wall time relative to the best
# floor on the same path.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-1000}"
MOTO_VERSION=5.2.5
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rdsguard/target}"
VENV="${RDSGUARD_VENV:-$HOME/.cache/rdsguard/venv}"
BENCH_DIR="${RDSGUARD_BENCH_DIR:-/work/shared/bench}"
PROFILE="${BENCH_PROFILE:-release}"
DELAY_MS=50

for f in min_collect.py latency_proxy.py; do
  [ -f "$BENCH_DIR/$f" ] || { echo "missing $BENCH_DIR/$f (set RDSGUARD_BENCH_DIR)" >&2; exit 2; }
done

if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "== installing moto[server]==$MOTO_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
PY="$VENV/bin/python"

echo "== building the collector ($PROFILE)" >&2
if [ "$PROFILE" = release ]; then
  cargo build --locked --release -p rdsguard-collect --example collect_bench >&2
  BIN="$CARGO_TARGET_DIR/release/examples/collect_bench"
else
  cargo build --locked -p rdsguard-collect --example collect_bench >&2
  BIN="$CARGO_TARGET_DIR/debug/examples/collect_bench"
fi

WORK=$(mktemp -d -t rdsguard-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {
  "$PY" - "$1" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1); sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(f"{sys.argv[1]} did not answer within 60 s")
PY
}

PORT=$(free_port)
MOTO_RDS_SNAPSHOT_LIMIT=100000 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
MOTO="http://127.0.0.1:$PORT"
wait_for "$MOTO/moto-api/"

# The floor and the collector use the same static credentials: moto's default account.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL || true

echo "== seeding $N DB instances into moto ($MOTO)" >&2
"$BIN" seed --endpoint "$MOTO" --instances "$N"

"$PY" "$BENCH_DIR/latency_proxy.py" --upstream "$MOTO" --delay-ms "$DELAY_MS" >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/proxy.out" ] && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(cut -d' ' -f1 "$WORK/proxy.out")"

RESULTS="$WORK/results.jsonl"
# One run: PATH_NAME ENDPOINT TOOL INFLIGHT. Appends a JSON line with what the proxy saw.
run() {
  local path=$1 ep=$2 tool=$3 inflight=$4 out
  curl -s "$PROXY/__count?reset=1" >/dev/null
  if [ "$tool" = floor ]; then
    out=$("$PY" - "$BENCH_DIR/min_collect.py" "$ep" "$inflight" <<'PY'
import json, resource, runpy, sys, io, contextlib
script, ep, threads = sys.argv[1:4]
sys.argv = [script, ep, threads]
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    runpy.run_path(script, run_name="__main__")
r = json.loads(buf.getvalue().strip().splitlines()[-1])
r["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(r))
PY
)
  else
    out=$("$BIN" collect --endpoint "$ep" --concurrency "$inflight")
  fi
  local seen
  seen=$(curl -s "$PROXY/__count")
  "$PY" - "$path" "$tool" "$inflight" "$out" "$seen" "$ep" "$PROXY" >>"$RESULTS" <<'PY'
import json, sys
path, tool, inflight, out, seen, ep, proxy = sys.argv[1:8]
r = json.loads(out); s = json.loads(seen)
print(json.dumps({
    "path": path, "tool": tool, "inflight": int(inflight),
    "seconds": r["seconds"], "calls": r.get("calls", r.get("api_calls")),
    "peak_rss_kb": r.get("peak_rss_kb"), "dbs": r.get("dbs"),
    "proxy_requests": s["requests"] if ep == proxy else None,
    "proxy_max_inflight": s["max_inflight"] if ep == proxy else None,
}))
PY
  echo "   $path $tool x$inflight: $(tail -1 "$RESULTS")" >&2
}

echo "== running" >&2
for spec in "direct $MOTO" "+${DELAY_MS}ms $PROXY"; do
  set -- $spec
  run "$1" "$2" floor 8
  run "$1" "$2" floor 32
  run "$1" "$2" rdsguard 8
  run "$1" "$2" rdsguard 16
  run "$1" "$2" rdsguard 32
done

"$PY" - "$RESULTS" "$N" "$PROFILE" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n, profile = sys.argv[2], sys.argv[3]
print(f"\nCollection of {n} DB instances from moto 5.2.5 (rdsguard {profile} build)\n")
print("| path | tool | in flight | wall (s) | requests | peak RSS (MB) | wall / best floor |")
print("|---|---|---|---|---|---|---|")
for path in dict.fromkeys(r["path"] for r in rows):
    floor = min(r["seconds"] for r in rows if r["path"] == path and r["tool"] == "floor")
    for r in (r for r in rows if r["path"] == path):
        calls = r["proxy_requests"] if r["proxy_requests"] is not None else r["calls"]
        rss = f'{r["peak_rss_kb"] / 1024:.0f}' if r["peak_rss_kb"] else "?"
        name = "min_collect.py (floor)" if r["tool"] == "floor" else "rdsguard collect"
        print(f'| {path} | {name} | {r["inflight"]} | {r["seconds"]:.2f} | {calls} | {rss} | {r["seconds"] / floor:.2f} |')
PY
