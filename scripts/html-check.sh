#!/usr/bin/env bash
# Render the demo account's HTML report in headless Chromium, with and without JavaScript, and
# check what a person would see: the counts, every database section, the filter working, and a
# screenshot that is not blank. Needs Debian's `chromium` (apt-get install -y chromium).
#
#   scripts/html-check.sh [OUTPUT_DIR]     # keeps report.html, report.png, report-nojs.png there
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${1:-$(mktemp -d)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$CHROMIUM" ]]; then
    echo "html-check: chromium is not installed (apt-get install -y chromium)" >&2
    exit 2
fi

cargo build -q -p rdsguard --no-default-features
BIN="${CARGO_TARGET_DIR:-target}/debug/rdsguard"
"$BIN" audit --demo -o "$OUT/report.html" -o "$OUT/report.json"

chrome() {
    local profile
    profile="$(mktemp -d)"
    # No network: the page must render from the file alone.
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-extensions \
        --user-data-dir="$profile" --window-size=1280,2200 --hide-scrollbars \
        --virtual-time-budget=3000 "$@" 2>/dev/null
    rm -rf "$profile"
}

# "Without JavaScript": the same page with its one script removed (headless Chromium renders
# nothing with scripting disabled through --blink-settings).
python3 - "$OUT" <<'PY'
import re, sys
html = open(f"{sys.argv[1]}/report.html").read()
stripped, n = re.subn(r"<script>.*?</script>", "", html, flags=re.S)
assert n == 1, f"expected exactly one script element, found {n}"
open(f"{sys.argv[1]}/report-nojs.html", "w").write(stripped)
PY

URL="file://$OUT/report.html"
NOJS="file://$OUT/report-nojs.html"
chrome --dump-dom "$URL" > "$OUT/dom.html"
chrome --dump-dom "$NOJS" > "$OUT/dom-nojs.html"
chrome --screenshot="$OUT/report.png" "$URL" >/dev/null
chrome --screenshot="$OUT/report-nojs.png" "$NOJS" >/dev/null

python3 - "$OUT" <<'PY'
import json, re, struct, sys, zlib

out = sys.argv[1]
report = json.load(open(f"{out}/report.json"))
dom = open(f"{out}/dom.html").read()
nojs = open(f"{out}/dom-nojs.html").read()
problems = []

def check(cond, what):
    if not cond:
        problems.append(what)

s = report["summary"]
for card, n in [("total", s["total"]), ("fail", s["fail"]), ("not-assessed", s["not_assessed"]),
                ("pass", s["pass"]), ("not-applicable", s["not_applicable"]), ("suppressed", s["suppressed"])]:
    check(f'id="count-{card}" data-count="{n}">{n}<' in dom, f"count card {card} = {n}")

rows = re.findall(r'<tr data-status="([A-Z_]+)"[^>]*?>', dom)
check(len(rows) == len(report["findings"]), f"{len(rows)} rows for {len(report['findings'])} findings")

# With JavaScript: the filter bar is shown and the default view is FAIL + NOT_ASSESSED.
shown_default = sum(1 for f in report["findings"]
                    if f.get("suppressed") is None and f["status"] in ("FAIL", "NOT_ASSESSED"))
m = re.search(r'id="shown-count"[^>]*>(\d+) of (\d+) results shown<', dom)
check(m is not None, "filter script ran (shown-count filled)")
if m:
    check((int(m.group(1)), int(m.group(2))) == (shown_default, len(report["findings"])),
          f"shown-count {m.group(0)} vs {shown_default} of {len(report['findings'])}")
hidden_rows = len(re.findall(r'<tr data-status="[A-Z_]+"[^>]*\bhidden\b', dom))
check(hidden_rows == len(report["findings"]) - shown_default, f"{hidden_rows} rows hidden by the filter")
check(re.search(r'<div id="controls"(?![^>]*hidden)', dom) is not None, "filter bar visible with JS")

# Without JavaScript: everything readable, no filter bar.
check(re.search(r'<div id="controls"[^>]*hidden', nojs) is not None, "filter bar hidden without JS")
check(len(re.findall(r'<tr data-status="[A-Z_]+"[^>]*\bhidden\b', nojs)) == 0, "no row hidden without JS")

# A section per database, each with its facts.
dbs = {(f["resource"]["account_id"], f["resource"].get("region"), f["resource"]["arn"])
       for f in report["findings"]
       if f["resource"]["resource_type"] in ("AwsRdsDbInstance", "AwsRdsDbCluster") and f["resource"].get("arn")}
articles = re.findall(r'<article class="db[^"]*" id="(db-[^"]+)"', dom)
check(len(articles) == len(dbs), f"{len(articles)} database sections for {len(dbs)} databases")
check(dom.count('<h4>Exposure</h4>') == len(dbs), "exposure facts per database")
for chart in ("chart-severity", "chart-checks", "chart-regions"):
    check(f'id="{chart}"' in dom and "<svg" in dom, f"chart {chart}")
check('id="compliance-fsbp"' in dom, "FSBP compliance section")

def png_stats(path):
    """Width, height and number of distinct colours of an 8-bit RGB(A) PNG (no PIL needed)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG layout"
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    prev, colours, i = bytearray(stride), set(), 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[x:x + 3]) for x in range(0, stride, bpp * 7))
        prev = line
    return width, height, len(colours)

for shot in ("report.png", "report-nojs.png"):
    w, h, n = png_stats(f"{out}/{shot}")
    check(w >= 1000 and h >= 1000, f"{shot} is {w}x{h}")
    check(n >= 20, f"{shot} has only {n} colours (blank page?)")

if problems:
    print("html-check FAILED:", *problems, sep="\n  ")
    sys.exit(1)
print(f"html-check: ok ({len(report['findings'])} findings, {len(dbs)} databases; screenshots in {out})")
PY
