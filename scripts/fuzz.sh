#!/usr/bin/env bash
# Run one cargo-fuzz (libFuzzer) target for a while.
#
#   scripts/fuzz.sh <iam|trail> <target> [seconds=60]
#
# Targets: iam: policy, simulate_line; trail: records, sigma_rule.
# Installs cargo-fuzz if missing. The fuzz builds need unstable compiler flags (sanitizers);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them, as no nightly toolchain is used here.
# Crashes are written under crates/rdsguard-<crate>/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
crate="${1:?usage: scripts/fuzz.sh <iam|trail> <target> [seconds]}"
target="${2:?usage: scripts/fuzz.sh <iam|trail> <target> [seconds]}"
seconds="${3:-60}"
dir="crates/rdsguard-$crate/fuzz"
[ -d "$dir" ] || { echo "no fuzz directory $dir" >&2; exit 2; }
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
corpus="$dir/corpus/$target"
mkdir -p "$corpus"
# The corpus grows in a scratch copy: the committed seeds stay small.
work=$(mktemp -d -t rdsguard-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus/." "$work/"
cd "$dir"
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/rdsguard/fuzz-target}" \
  cargo fuzz run "$target" "$work" -- -max_total_time="$seconds" -max_len=4096 -timeout=10
