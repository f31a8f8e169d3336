#!/usr/bin/env bash
# Fuzzing (issue 6): each fuzz target runs for a bounded time after the unit
# tests (which already replay the committed seed corpora in
# <package>/testdata/fuzz/). A crash fails the check and prints the input
# that go test wrote under testdata/fuzz/<target>/: fix the bug and commit
# that file as the regression case. FUZZTIME (default 15s) sets the time per
# target; seven targets take about three and a half minutes with the instrumented builds.
set -euo pipefail
cd "$(dirname "$0")/../.."

fuzztime="${FUZZTIME:-15s}"
targets=(
  "./handlers FuzzParseSearchQuery"
  "./handlers FuzzParseSearchJSON"
  "./handlers FuzzParseSuggestQuery"
  "./handlers FuzzDecodeDocumentLines"
  "./handlers FuzzSearchHandler"
  "./handlers FuzzAlgoliaQueries"
  "./seeds FuzzParsePartnerPage"
)
began=$(date +%s)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "-- $name ($pkg, $fuzztime)"
  # The minimisation of a new input is capped so the time goes to fuzzing.
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s "$pkg" 2>&1 | tail -n 25; then
    echo "60-fuzz: $name failed" >&2
    git status --porcelain -- "$pkg/testdata/fuzz/$name" | while read -r _ f; do
      echo "new failing input $f:" >&2; cat "$f" >&2; echo >&2
    done
    exit 1
  fi
done
echo "60-fuzz: ${#targets[@]} targets fuzzed in $(($(date +%s) - began)) s"
