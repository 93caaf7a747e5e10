#!/usr/bin/env bash
# Throughput of the CloudTrail scanner (rdsguard-trail) against `zcat` (the decompression
# limit) and `jq` (the simplest RDS filter), in the same run, on a corpus of at least 1 GB of
# uncompressed JSON built by repeating ../shared/data/cloudtrail as .json.gz files.
#
# Usage: scripts/bench-trail.sh            (environment overrides below)
#   TRAIL_BENCH_MB      uncompressed corpus size to reach, in MB   (default 1024)
#   TRAIL_BENCH_CORPUS  where to build it                          (default /tmp/trail-corpus)
#   TRAIL_BENCH_DATA    source logs      (default <repo>/../shared/data/cloudtrail)
#   TRAIL_BENCH_SIGMA   Sigma rules      (default <repo>/../shared/data/sigma/aws_cloudtrail)
#   CARGO_TARGET_DIR    where to build the scanner                 (default /tmp/tgt-trail)
#
# MB/s are megabytes (10^6) of uncompressed JSON per second of wall time; CPU seconds
# (user+sys) are shown too because wall time on a shared machine depends on its load.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${TRAIL_BENCH_DATA:-$ROOT/../shared/data/cloudtrail}"
SIGMA="${TRAIL_BENCH_SIGMA:-$ROOT/../shared/data/sigma/aws_cloudtrail}"
CORPUS="${TRAIL_BENCH_CORPUS:-/tmp/trail-corpus}"
TARGET_MB="${TRAIL_BENCH_MB:-1024}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/tgt-trail}"

[ -d "$DATA" ] || { echo "no CloudTrail data at $DATA" >&2; exit 2; }
[ -d "$SIGMA" ] || { echo "no Sigma rules at $SIGMA" >&2; exit 2; }
if ! command -v jq >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y jq >/dev/null
    else
        echo "jq is missing (apt-get install -y jq)" >&2
        exit 2
    fi
fi

# 1. The corpus: one seed copy of every valid log file, gzipped, then hard-linked copies of
#    the seed until the uncompressed size reaches the target.
if [ ! -f "$CORPUS/.complete" ] || [ "$(cat "$CORPUS/.target_mb" 2>/dev/null)" != "$TARGET_MB" ]; then
    rm -rf "$CORPUS"
    mkdir -p "$CORPUS/seed"
    n=0
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        base="$(basename "$f")"
        case "$f" in
            *.json.gz) cp "$f" "$CORPUS/seed/$n-$base" ;;
            *.json) gzip -6 -n -c "$f" > "$CORPUS/seed/$n-$base.gz" ;;
        esac
    done < <(find "$DATA" -type f \( -name '*.json' -o -name '*.json.gz' \) ! -name '*malformed*' -print0 | sort -z)
    seed_bytes=$(find "$CORPUS/seed" -name '*.gz' -print0 | xargs -0 zcat | wc -c)
    copies=$(( (TARGET_MB * 1000000 + seed_bytes - 1) / seed_bytes ))
    for i in $(seq 1 "$copies"); do
        cp -al "$CORPUS/seed" "$CORPUS/copy-$i"
    done
    rm -rf "$CORPUS/seed"
    echo $((seed_bytes * copies)) > "$CORPUS/.bytes"
    echo "$TARGET_MB" > "$CORPUS/.target_mb"
    touch "$CORPUS/.complete"
fi
BYTES=$(cat "$CORPUS/.bytes")
FILES=$(find "$CORPUS" -name '*.gz' | wc -l)
GZ_BYTES=$(find "$CORPUS" -name '*.gz' -printf '%s\n' | awk '{s += $1} END {print s}')

# 2. The scanner, release build.
(cd "$ROOT" && cargo build --release --example scan -p rdsguard-trail >/dev/null 2>&1) || {
    echo "build failed: cargo build --release --example scan -p rdsguard-trail" >&2
    exit 2
}
SCAN="$CARGO_TARGET_DIR/release/examples/scan"

# 3. Timings (the page cache is warmed first so that every tool reads from memory).
find "$CORPUS" -name '*.gz' -print0 | xargs -0 cat > /dev/null

measure() { # label, command...: prints "label wall cpu"
    local label="$1"
    shift
    local tf
    tf=$(mktemp)
    if ! /usr/bin/time -o "$tf" -f '%e %U %S' bash -c "set -o pipefail; $*" > /dev/null 2>&1; then
        echo "$label failed: $*" >&2
        exit 1
    fi
    read -r wall user sys < <(tail -n 1 "$tf")
    rm -f "$tf"
    echo "$label $wall $(echo "$user + $sys" | bc)"
}

ZCAT="find '$CORPUS' -name '*.gz' -print0 | xargs -0 zcat"
results=()
results+=("$(measure zcat "$ZCAT")")
results+=("$(measure jq "$ZCAT | jq -c '.Records[] | select(.eventSource == \"rds.amazonaws.com\")'")")
results+=("$(measure scan-1-thread "'$SCAN' --threads 1 --rules '$SIGMA' '$CORPUS'")")
results+=("$(measure scan-2-threads "'$SCAN' --threads 2 --rules '$SIGMA' '$CORPUS'")")

echo "corpus: $CORPUS, $FILES .json.gz files, $((GZ_BYTES / 1000000)) MB compressed, $((BYTES / 1000000)) MB of JSON"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "scanner: every built-in detection and $(find "$SIGMA" -name '*.yml' | wc -l) Sigma rules"
printf '%-16s %9s %9s %10s %12s\n' tool wall_s cpu_s MB/s MB/cpu_s
zcat_rate=""
for r in "${results[@]}"; do
    read -r label wall cpu <<< "$r"
    rate=$(echo "scale=1; $BYTES / 1000000 / $wall" | bc)
    cpu_rate=$(echo "scale=1; $BYTES / 1000000 / $cpu" | bc)
    printf '%-16s %9s %9s %10s %12s\n' "$label" "$wall" "$cpu" "$rate" "$cpu_rate"
    case "$label" in
        zcat) zcat_rate=$rate; zcat_cpu_rate=$cpu_rate ;;
        scan-1-thread) scan1=$rate; scan1_cpu=$cpu_rate ;;
        scan-2-threads) scan2=$rate ;;
    esac
done
echo "scanner at 1 thread vs zcat: $(echo "scale=0; 100 * $scan1 / $zcat_rate" | bc)% of its wall throughput, $(echo "scale=0; 100 * $scan1_cpu / $zcat_cpu_rate" | bc)% of its throughput per CPU second"
echo "scanner speed-up from 1 to 2 threads: $(echo "scale=2; $scan2 / $scan1" | bc)x"
