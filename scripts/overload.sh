#!/usr/bin/env bash
# Overload test (issue 6), end to end on this machine: builds searchd and
# cmd/overload, then overload indexes generated documents into a temporary
# on-disk index, starts searchd on 127.0.0.1 with an API key, and sends mixed
# traffic (searches, browsing with facets, suggestions, document reads,
# malformed requests, writes with and without the key) from 64 connections.
# It fails on any 5xx that is not load shedding with Retry-After, any answer
# its request does not deserve, any transport error, goroutines or memory not
# back near their start after the load, an unreadable acknowledged write, or
# an unclean exit on SIGTERM. Arguments go to cmd/overload, e.g.
#
#   scripts/overload.sh                      # 60 s, 64 connections, 10,000 documents
#   scripts/overload.sh -duration 10s        # what CI runs (.ci/checks.d/65-reliability.sh)
#   scripts/overload.sh -max-searches 4      # watch the search limit shed load
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/searchd" ./cmd/searchd
go build -o "$bin/overload" ./cmd/overload
"$bin/overload" -searchd "$bin/searchd" "$@"
