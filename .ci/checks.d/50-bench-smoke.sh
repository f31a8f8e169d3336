#!/usr/bin/env bash
# Smoke run of the benchmark (issue 5): scripts/bench.sh end to end at 20,000
# generated documents and 1 s per phase, in a temporary work directory. It
# fails when any step fails, any request fails or a phase makes no request
# (-strict); the figures themselves are printed, not judged: this machine is
# shared and CI timings are noise. The full 1,000,000-document run is done
# by hand (scripts/BENCH.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
began=$(date +%s)
scripts/bench.sh -n 20000 -duration 1s -work "$work" -strict
echo "50-bench-smoke: passed in $(($(date +%s) - began)) s"
