#!/usr/bin/env bash
# Replicated mode's failure suite (issue 13): three real nats-server
# processes, built from the Go module proxy at the version go.mod pins, and
# three searchd replicas on loopback, with writers going through random
# replicas while cmd/replcheck SIGKILLs the stream leader, a follower, two of
# three servers, a searchd replica (the first publishes index snapshots every
# 3 s throughout), and starts an empty replica, which starts from the newest
# snapshot. After each
# scenario it prints writes sent / acknowledged / lost, 503s, the longest
# write pause and the convergence time, and fails on any acknowledged write
# (document or editors' synonym set) missing from a replica, replicas whose
# documents or synonym sets differ from each other or from the stream, a write refused without Retry-After or after more than the write
# timeout, or a search not answered. About two minutes, mostly elections.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
version=$(go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
began=$(date +%s)
go build -o "$bin/nats-server" github.com/nats-io/nats-server/v2
go build -o "$bin/searchd" ./cmd/searchd
go build -o "$bin/replcheck" ./cmd/replcheck
echo "-- nats-server $version ($("$bin/nats-server" --version)), built in $(($(date +%s) - began)) s"
timeout 600 "$bin/replcheck" -nats-server "$bin/nats-server" -searchd "$bin/searchd"
echo "66-replication: passed in $(($(date +%s) - began)) s"
