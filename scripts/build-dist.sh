#!/usr/bin/env bash
# The build to distribute: `--profile release-lto` (the crates optimised as one program) with
# profile-guided optimisation, trained on rdsguard's own work. BENCHMARKS.md (the "profile-guided
# optimisation" of sessions 19-20) has what it gains over `release` and `release-lto`.
#
# Usage: scripts/build-dist.sh          -> target/dist/rdsguard (under CARGO_TARGET_DIR if set)
#
# Steps: an instrumented release-lto build of rdsguard; it audits the bundled demo account in
# every report format and two synthetic accounts written by rdsguard-gen (one account of 20,000
# databases in 3 regions, an organization of 150 accounts), offline; llvm-profdata merges the
# counts; the final release-lto build uses them. Two whole-program builds from scratch (65 and
# 34 minutes on two cores shared with other builds), so CI does not run it.
#
# It needs llvm-profdata of the LLVM that rustc is built on (`rustc -vV`): rustup's
# llvm-tools component (`rustup component add llvm-tools`), or the distribution's llvm-N
# package (Debian and Ubuntu: `apt-get install llvm-N`, N the major version).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BASE="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
# The variables below are the script's to set.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'build-dist: %s\n' "$*" >&2; exit 1; }

# llvm-profdata whose LLVM major version is rustc's: the profile format changes between
# majors, and a newer or older merge gives a profile rustc rejects or misreads.
rustc_version="$(rustc -vV)"
llvm_major="$(sed -n 's/^LLVM version: \([0-9]*\).*/\1/p' <<<"$rustc_version")"
host="$(sed -n 's/^host: //p' <<<"$rustc_version")"
[[ -n "$llvm_major" && -n "$host" ]] || die "cannot read rustc's LLVM version and host from \`rustc -vV\`"
profdata=""
for candidate in \
  "$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata" \
  "$(command -v "llvm-profdata-$llvm_major" || true)" \
  "$(command -v llvm-profdata || true)"; do
  [[ -n "$candidate" && -x "$candidate" ]] || continue
  # Old ones have no --version (they fail): not the one wanted either way.
  version="$({ "$candidate" --version 2>/dev/null || true; } |
    sed -n 's/.*LLVM version \([0-9]*\).*/\1/p' | head -n1)"
  if [[ "$version" == "$llvm_major" ]]; then
    profdata="$candidate"
    break
  fi
done
[[ -n "$profdata" ]] || die "no llvm-profdata of LLVM $llvm_major (rustc's) found: \
\`rustup component add llvm-tools\`, or install the llvm-$llvm_major package \
(Debian and Ubuntu: apt-get install llvm-$llvm_major)"
say "llvm-profdata: $profdata (LLVM $llvm_major)"

work="$(mktemp -d "${TMPDIR:-/tmp}/rdsguard-pgo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

say "rdsguard-gen (release), for the synthetic accounts"
cargo build --locked --release -p rdsguard-demo --bin rdsguard-gen
gen="$BASE/release/rdsguard-gen"
"$gen" --instances 20000 --regions 3 --seed 7 -o "$work/account.json"
"$gen" --accounts 150 --instances 10 --seed 7 -o "$work/org.json.gz"

say "instrumented rdsguard (release-lto)"
# With --target, RUSTFLAGS reach the program only, not the build scripts and procedural
# macros (which would otherwise write profiles of their own while the crates build).
RUSTFLAGS="-Cprofile-generate=$work/profiles" CARGO_TARGET_DIR="$BASE/pgo-generate" \
  cargo build --locked --profile release-lto --target "$host" -p rdsguard --bin rdsguard
trained="$BASE/pgo-generate/$host/release-lto/rdsguard"

say "training: the demo account in every format, the synthetic accounts"
# No --fail-on: findings leave the exit status at 0, so any other status (2 for an error, a
# crash) stops the script. The large reports go to /dev/null, not to a temporary directory
# that may be small.
run() { "$trained" "$@" >/dev/null; }
"$trained" audit --demo >"$work/demo-instrumented.txt"
run audit --demo --show-all --compliance fsbp
run audit --demo --compliance cis-aws-foundations -o "$work/c.md" -o "$work/c.html"
run audit --demo -o "$work/d.json" -o "$work/d.jsonl" -o "$work/d.csv" -o "$work/d.sarif" \
  -o "$work/d.asff.json" -o "$work/d.ocsf.json" -o "$work/d.xml" -o "$work/d.md" \
  -o "$work/d.html" -o "$work/d.txt"
run exposure --demo
run who-can 'rds:Delete*' --resource orders-prod --demo
run audit --snapshot "$work/account.json" --format json
run audit --snapshot "$work/account.json" --format sarif
run audit --snapshot "$work/org.json.gz" -o "$work/o.json"

say "merging the profiles"
"$profdata" merge -o "$work/rdsguard.profdata" "$work/profiles"

say "rdsguard (release-lto, profile-guided)"
RUSTFLAGS="-Cprofile-use=$work/rdsguard.profdata" CARGO_TARGET_DIR="$BASE/pgo-use" \
  cargo build --locked --profile release-lto --target "$host" -p rdsguard --bin rdsguard
final="$BASE/pgo-use/$host/release-lto/rdsguard"
# Optimisation must not change a result: the same report of the demo account as the
# instrumented build's.
"$final" audit --demo >"$work/demo-final.txt"
cmp -s "$work/demo-instrumented.txt" "$work/demo-final.txt" ||
  die "the profile-guided build reports the demo account differently from the instrumented build"
mkdir -p "$BASE/dist"
cp "$final" "$BASE/dist/rdsguard"
say "built $BASE/dist/rdsguard"
