#!/usr/bin/env bash
# Two builds of the timing driver (rdsguard-bench) compared in pairs: each round runs both at
# once, each pinned to its own core, and swaps the cores every other round. A shared or virtual
# machine whose speed drifts by a fifth from one minute to the next then slows both alike,
# where runs one after the other compare two different machines (BENCHMARKS.md, "Huge pages").
#
# Usage: scripts/bench-pair.sh BENCH_A BENCH_B [INSTANCES] [ROUNDS] [REPEAT] [-- BENCH ARGS...]
#   BENCH_A, BENCH_B  two rdsguard-bench binaries (e.g. copies of target/release/rdsguard-bench
#                     built from two commits)
#   INSTANCES         synthetic instances (default 100000)
#   ROUNDS            paired rounds (default 6)
#   REPEAT            analyses per run, `--repeat` (default 3)
#   BENCH ARGS        passed to both runs after `--loaded --repeat REPEAT` (e.g. `--only GLOB`)
#
# Prints each round's analysing-thread CPU times (ms), then, per build, the fastest run of each
# round, every run's fastest and median, and B's fastest of each round against A's. Needs two
# cores and `taskset` (util-linux); both runs hold their snapshot in memory at once (about
# 2.2 GB each at 100,000 instances).
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,18p' "$0" >&2
    exit 2
fi
A="$1"
B="$2"
shift 2
positional=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    positional+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift
N="${positional[0]:-100000}"
ROUNDS="${positional[1]:-6}"
REPEAT="${positional[2]:-3}"
for v in "$N" "$ROUNDS" "$REPEAT"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $v" >&2; exit 2; }
done
for bin in "$A" "$B"; do
    [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
done
command -v taskset >/dev/null || { echo "taskset is missing (util-linux)" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "needs two cores, this machine has $(nproc)" >&2; exit 2; }

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# The CPU ms column of the driver's table rows for N instances.
cpu_of() { awk -v n="$N" '$1 == n { printf "%s ", $5 }' "$1"; }

for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then core_a=0 core_b=1; else core_a=1 core_b=0; fi
    taskset -c "$core_a" "$A" --loaded --repeat "$REPEAT" "$@" "$N" >"$OUT/a.$r" 2>&1 &
    pid_a=$!
    # A failing B stops A too (its output goes to a directory removed on exit).
    taskset -c "$core_b" "$B" --loaded --repeat "$REPEAT" "$@" "$N" >"$OUT/b.$r" 2>&1 ||
        { kill "$pid_a" 2>/dev/null; echo "B failed in round $r:" >&2; cat "$OUT/b.$r" >&2; exit 1; }
    wait "$pid_a" || { echo "A failed in round $r:" >&2; cat "$OUT/a.$r" >&2; exit 1; }
    echo "round $r  A (core $core_a): $(cpu_of "$OUT/a.$r")  B (core $core_b): $(cpu_of "$OUT/b.$r")"
done

python3 - "$OUT" "$N" "$ROUNDS" <<'EOF'
import statistics, sys

out, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])

def runs(build, r):
    with open(f"{out}/{build}.{r}") as f:
        return [float(row.split()[4]) for row in f if row.split()[:1] == [n]]

a = [runs("a", r) for r in range(1, rounds + 1)]
b = [runs("b", r) for r in range(1, rounds + 1)]
if not all(a) or not all(b):
    sys.exit("a run printed no timing row for this size")
fa, fb = [min(x) for x in a], [min(x) for x in b]
diff = [100 * (y / x - 1) for x, y in zip(fa, fb)]
for name, rows, fastest in (("A", a, fa), ("B", b, fb)):
    every = [t for row in rows for t in row]
    print(f"{name}: fastest of each round {' '.join(f'{t:.0f}' for t in fastest)} ms; "
          f"all runs fastest {min(every):.0f}, median {statistics.median(every):.0f} ms")
print(f"B against A, fastest of each round: {' '.join(f'{d:+.1f}%' for d in diff)} "
      f"(median {statistics.median(diff):+.1f}%, B faster in {sum(d < 0 for d in diff)} of {rounds})")
EOF
