#!/usr/bin/env bash
# check-report-in-chromium.sh REPORT.html - loads an hvlab HTML report in headless Chromium and
# fails if the page logs any console error (issue 5: "the HTML report loads in headless Chromium
# with no console errors"). Needs chromium, chromium-browser or google-chrome on PATH; without
# one it says so and exits 3 (not run), so scripts can tell "passed" from "could not check".
set -euo pipefail
if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: check-report-in-chromium.sh REPORT.html" >&2
    exit 2
fi
browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
    echo "check-report-in-chromium: no Chromium found; not checked" >&2
    exit 3
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --enable-logging=stderr --v=0 prints console messages as "CONSOLE(...)" lines
"$browser" --headless=new --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
    --dump-dom "file://$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" >/dev/null 2>"$log" || true
if grep -E "CONSOLE|Uncaught|ERROR:.*console" "$log" >/dev/null; then
    echo "check-report-in-chromium: console messages:" >&2
    grep -E "CONSOLE|Uncaught|ERROR:.*console" "$log" >&2
    exit 1
fi
echo "check-report-in-chromium: $1 loaded without console errors"
