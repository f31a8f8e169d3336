#!/usr/bin/env bash
# The search page (issue 4) and the editors' page (issue 15) in a real
# browser: the chromedp tests of handlers/web against headless Chromium,
# verbosely so the log shows each test's PASS line, plus the screenshots of
# the pages at desktop and phone width. In CI a skip is a failure: .ci/install.sh installs chromium, so a
# browser test that skips means the page went untested.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v chromium >/dev/null || { echo "40-browser: chromium is missing (.ci/install.sh installs it)" >&2; exit 1; }

shots="${SCREENSHOTS_DIR:-$(mktemp -d)}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
go test -count=1 -timeout 5m -run Browser -v ./handlers/web/ -screenshots="$shots" 2>&1 | tee "$log"
if grep -q -- '--- SKIP' "$log"; then
  echo "40-browser: a browser test skipped" >&2
  exit 1
fi
echo "screenshots of the search and editors' pages: $shots"
ls -1 "$shots"
