#!/usr/bin/env bash
# Reliability (issue 6), the parts too slow or too loud for go test ./...:
#   1. pathological queries on a 100,000-document generated index (the unit
#      tests use 2,000), with every answer held to the search deadline;
#   2. the overload test for 10 s at 64 connections (60 s by hand:
#      scripts/overload.sh), then 5 s with -max-searches 4 so load shedding
#      is exercised and its Retry-After checked;
#   3. the crash-durability test again, verbosely, for its figures (it also
#      runs in go test ./...).
set -euo pipefail
cd "$(dirname "$0")/../.."

began=$(date +%s)
echo "-- pathological queries, 100,000 documents"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! SEARCH_TEST_DOCS=100000 go test -count=1 -timeout 20m -run '^TestPathologicalQueries$' -v ./handlers/ >"$log" 2>&1; then
  grep -vE '^\s*(=== RUN|--- PASS)' "$log" | tail -80
  echo "65-reliability: pathological queries failed" >&2
  exit 1
fi
grep -E 'indexed [0-9]+ generated|pathological queries on|^ {10}[a-z0-9]' "$log"

echo "-- overload, 10 s at 64 connections"
scripts/overload.sh -duration 10s -clients 64 -docs 10000
echo "-- overload with -max-searches 4: load shedding"
scripts/overload.sh -duration 5s -clients 64 -docs 2000 -max-searches 4

echo "-- crash durability"
go test -count=1 -timeout 10m -run '^TestCrashDurability$' -v ./cmd/searchd/ | grep -E 'crash durability|^(ok|FAIL|---)'
echo "65-reliability: passed in $(($(date +%s) - began)) s"
