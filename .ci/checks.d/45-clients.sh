#!/usr/bin/env bash
# Real clients nobody here wrote, against searchd (issue 14):
#  1. the InstantSearch example page (instantsearch.js + algoliasearch lite
#     from npm) in Debian's Chromium, from a second loopback origin;
#  2. InstantSearch's connectors and the lite client in Node (node --test);
#  3. a TypeScript client whose types openapi-typescript generates from the
#     /openapi.json searchd serves, compiled with tsc --strict and run
#     (search, suggest, writes with the key).
# The npm packages come from the committed lockfiles (npm ci). A skipped
# test fails the check: it would mean a client went untested.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in chromium node npm; do
  command -v "$tool" >/dev/null || { echo "45-clients: $tool is missing (.ci/install.sh installs chromium; node and npm come with the machine)" >&2; exit 1; }
done
began=$(date +%s)
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

for dir in examples/instantsearch examples/openapi-client; do
  echo "-- npm ci in $dir"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund)
done

noskip() { # log, what
  if grep -qE -- '--- SKIP|^# (skip|todo) [1-9]|ℹ (skipped|todo) [1-9]' "$1"; then
    echo "45-clients: $2 skipped a test" >&2
    exit 1
  fi
}

echo "-- the InstantSearch example in Chromium"
shots="${SCREENSHOTS_DIR:-$work/screenshots}"
go test -count=1 -timeout 5m -run Browser -v ./examples/instantsearch/ -screenshots="$shots" 2>&1 | tee "$work/browser.log"
noskip "$work/browser.log" "the browser test"

echo "-- searchd for the Node clients"
go build -o "$work/searchd" ./cmd/searchd
key="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
SEARCH_API_KEY="$key" "$work/searchd" -addr 127.0.0.1:0 >"$work/searchd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q '"msg":"ready"' "$work/searchd.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/searchd.log" >&2; exit 1; }
  sleep 0.1
done
addr="$(grep -o '"msg":"ready","addr":"[^"]*"' "$work/searchd.log" | sed 's/.*"addr":"\([^"]*\)"/\1/')"
[ -n "$addr" ] || { echo "45-clients: searchd did not become ready" >&2; cat "$work/searchd.log" >&2; exit 1; }
url="http://$addr"
echo "searchd at $url"

echo "-- InstantSearch's connectors (node --test)"
(cd examples/instantsearch && SEARCHD_URL="$url" node --test --test-reporter=spec test/) 2>&1 | tee "$work/connectors.log"
noskip "$work/connectors.log" "the connectors test"

echo "-- the typed client from /openapi.json"
(
  cd examples/openapi-client
  SEARCHD_URL="$url" npm run --silent generate
  npx tsc --project . --strict
  SEARCHD_URL="$url" SEARCHD_API_KEY="$key" node --test --test-reporter=spec dist/
) 2>&1 | tee "$work/typed.log"
noskip "$work/typed.log" "the typed client test"

echo "45-clients: three real clients passed in $(($(date +%s) - began)) s"
