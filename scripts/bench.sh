#!/usr/bin/env bash
# Benchmark anyone can rerun, end to end on this machine:
#   1. generate the corpus (cmd/gencorpus; cached in the work directory),
#   2. build the index with cmd/indexer (documents/s, peak heap and peak RSS
#      from its summary line), then the same corpus with plain Bleve
#      (loadtest -build-plain: default mapping, batches of 1,000), the
#      indexing baseline,
#   3. run the query mix in process with plain Bleve (the baseline) and with
#      the service's engine (caches on, then off), on the index directory,
#   4. start searchd on 127.0.0.1, time its reopening until /readyz answers,
#      drive it over HTTP with the same mix, read its resident memory,
#   5. print the tables (every figure also as a ratio to plain Bleve) and
#      save them with the run's facts to WORK/report-N.md.
# Each of the classes selective, broad, browse and suggest runs for the
# phase duration at each number of clients. See scripts/BENCH.md.
#
# usage: scripts/bench.sh [-n N] [-duration D] [-clients 1,16] [-seed S]
#                         [-work DIR] [-reuse-index] [-no-engine] [-strict]
#                         [-index-only]
#   -n N           documents (default 1000000)
#   -duration D    measured time of each phase, a Go duration (default 10s)
#   -clients LIST  numbers of concurrent clients (default 1,16)
#   -seed S        corpus and query-mix seed (default 1)
#   -work DIR      where the corpus, index, binaries and results go
#                  (default .bench, git-ignored)
#   -reuse-index   keep an index built by an earlier run with the same -n and
#                  -seed instead of rebuilding it (indexing is then not measured)
#   -no-engine     skip the in-process engine runs (no HTTP overhead figures)
#   -strict        fail when any request fails or a phase makes no request (CI)
#   -index-only    stop after the two builds (no query phases)
set -euo pipefail

n=1000000
duration=10s
clients=1,16
seed=1
work=.bench
reuse_index=0
engine=1
strict=0
index_only=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=${2:?-n needs a number}; shift 2 ;;
    -duration) duration=${2:?-duration needs a duration}; shift 2 ;;
    -clients) clients=${2:?-clients needs a list}; shift 2 ;;
    -seed) seed=${2:?-seed needs a number}; shift 2 ;;
    -work) work=${2:?-work needs a directory}; shift 2 ;;
    -reuse-index) reuse_index=1; shift ;;
    -no-engine) engine=0; shift ;;
    -strict) strict=1; shift ;;
    -index-only) index_only=1; shift ;;
    -h | -help | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$n" in '' | *[!0-9]*) echo "bench.sh: -n must be a number, not $n" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
mkdir -p "$work/bin"
work=$(cd "$work" && pwd)
bin=$work/bin
began=$(date +%s)
log() { printf '== %s (%ds)\n' "$*" $(($(date +%s) - began)) >&2; }

searchd_pid=
stop_searchd() {
  if [ -n "$searchd_pid" ]; then
    kill -TERM "$searchd_pid" 2>/dev/null || true
    wait "$searchd_pid" 2>/dev/null || true
    searchd_pid=
  fi
}
trap stop_searchd EXIT
trap 'exit 130' INT TERM

log "build"
go build -o "$bin/" ./cmd/gencorpus ./cmd/indexer ./cmd/searchd ./cmd/loadtest

corpus=$work/corpus-$n-seed$seed.jsonl
if [ -s "$corpus" ]; then
  log "corpus: cached $corpus"
  corpus_note="cached from an earlier run"
else
  log "corpus: generating $n documents"
  "$bin/gencorpus" -n "$n" -seed "$seed" -o "$corpus" 2> "$work/gencorpus.log"
  cat "$work/gencorpus.log" >&2
  corpus_note=$(sed -n 's/^gencorpus: [0-9]* documents, seed [0-9]*, \(.*\)$/generated in \1/p' "$work/gencorpus.log")
fi
corpus_mib=$(( $(stat -c %s "$corpus") / 1048576 ))

index=$work/index-$n-seed$seed
if [ "$reuse_index" = 1 ] && [ -s "$index/CURRENT" ]; then
  log "index: reusing $index"
  index_note="reused from an earlier run (not measured)"
else
  log "index: building with cmd/indexer"
  rm -rf "$index"
  t0=$(date +%s%N)
  "$bin/indexer" -index "$index" -input "$corpus" 2>&1 | tee "$work/indexer.log" >&2
  t1=$(date +%s%N)
  wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  wall_rate=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }')
  own_rate=$(sed -n 's/^indexed .*(\([0-9.]*\) documents\/s).*$/\1/p' "$work/indexer.log" | tail -1)
  own_rss=$(sed -n 's/^indexed .*peak RSS \([0-9]*\) MiB.*$/\1/p' "$work/indexer.log" | tail -1)
  own_heap=$(sed -n 's/^indexed .*peak heap \([0-9]*\) MiB.*$/\1/p' "$work/indexer.log" | tail -1)
  budget=$(sed -n 's/^indexed .*budget \(.*\)$/\1/p' "$work/indexer.log" | tail -1)
  index_note="${own_rate:-?} documents/s by the indexer's summary; $wall_rate documents/s and $wall_s s wall clock for the whole command"

  log "index: building the same corpus with plain Bleve (the indexing baseline)"
  plain_index=$work/plain-index-$n-seed$seed
  rm -rf "$plain_index"
  "$bin/loadtest" -build-plain "$plain_index" -corpus "$corpus" | tee "$work/plain-build.log" >&2
  plain_mib=$(( $(du -sb "$plain_index" | cut -f1) / 1048576 ))
  rm -rf "$plain_index"
  plain_rate=$(sed -n 's/^plain Bleve indexed .*(\([0-9.]*\) documents\/s).*$/\1/p' "$work/plain-build.log")
  plain_rss=$(sed -n 's/^plain Bleve indexed .*peak RSS \([0-9]*\) MiB.*$/\1/p' "$work/plain-build.log")
  plain_heap=$(sed -n 's/^plain Bleve indexed .*peak heap \([0-9]*\) MiB.*$/\1/p' "$work/plain-build.log")
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
  build_table=$(
    echo "| build | documents/s | peak RSS | peak heap | on disk |"
    echo "|---|---|---|---|---|"
    echo "| plain Bleve (default mapping, batches of 1,000) | $plain_rate (1×) | $plain_rss MiB (1×) | $plain_heap MiB | $plain_mib MiB |"
    echo "| cmd/indexer, budget $budget | $own_rate ($(ratio "$own_rate" "$plain_rate")×) | $own_rss MiB ($(ratio "$own_rss" "$plain_rss")×) | $own_heap MiB | INDEX_MIB MiB |"
  )
fi
index_mib=$(( $(du -sb "$index" | cut -f1) / 1048576 ))
build_table=${build_table:-}
build_table=${build_table//INDEX_MIB/$index_mib}

if [ "$index_only" = 1 ]; then
  report=$work/report-$n-index.md
  {
    echo "## Indexing benchmark: $n generated documents ($(date -u '+%Y-%m-%d %H:%M UTC'))"
    echo
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- code: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
    echo "- corpus: $n documents, seed $seed, $corpus_mib MiB of JSON Lines, $corpus_note"
    echo
    echo "${build_table:-index reused: not measured}"
  } > "$report"
  cat "$report"
  log "report saved to $report"
  exit 0
fi

strict_flag=()
[ "$strict" = 1 ] && strict_flag=(-fail-on-error)
common=(-corpus "$corpus" -seed "$seed" -duration "$duration" -clients "$clients" "${strict_flag[@]}")

log "plain Bleve in process (baseline)"
"$bin/loadtest" -baseline "$index" "${common[@]}" -json "$work/plain.json" > /dev/null

engine_results=()
if [ "$engine" = 1 ]; then
  log "the service's engine in process"
  "$bin/loadtest" -engine "$index" "${common[@]}" -json "$work/engine.json" > /dev/null
  log "the service's engine in process, caches off"
  "$bin/loadtest" -engine "$index" -no-cache "${common[@]}" -json "$work/engine-nocache.json" > /dev/null
  engine_results=(-engine-results "$work/engine.json" -engine-nocache-results "$work/engine-nocache.json")
fi

port=$("$bin/loadtest" -free-port)
log "searchd on 127.0.0.1:$port"
t0=$(date +%s%N)
# A search deadline longer than any phase: the benchmark measures latency,
# not the service's load shedding (issue 6 tests that). The response cache
# is off: search-box traffic is mostly unique, so the headline figures are
# computed answers (the in-process runs show the cache's effect).
"$bin/searchd" -index "$index" -addr "127.0.0.1:$port" -search-timeout 120s -response-cache 0 > "$work/searchd.log" 2>&1 &
searchd_pid=$!
if ! reopen_ms=$("$bin/loadtest" -wait "http://127.0.0.1:$port/readyz" -since "$t0" -timeout 10m); then
  echo "bench.sh: searchd did not become ready; its log:" >&2
  tail -20 "$work/searchd.log" >&2
  exit 1
fi
log "searchd ready after $reopen_ms ms; driving it over HTTP"
"$bin/loadtest" -addr "127.0.0.1:$port" -pid "$searchd_pid" "${common[@]}" -json "$work/http.json" > /dev/null
stop_searchd

report=$work/report-$n.md
{
  echo "## Benchmark: $n generated documents ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- code: $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
  echo "- corpus: $n documents, seed $seed, $corpus_mib MiB of JSON Lines, $corpus_note"
  echo "- index: $index_mib MiB on disk; $index_note"
  if [ -n "${build_table:-}" ]; then
    echo
    echo "$build_table"
    echo
  fi
  echo "- searchd: ready $reopen_ms ms after its start (reopening the index; files in the page cache)"
  echo "- phases: $duration each at $clients clients; query mix of $(basename "$corpus") (seed $seed)"
  "$bin/loadtest" -report -plain "$work/plain.json" "${engine_results[@]}" -http "$work/http.json"
  echo
  echo "Total run time: $(($(date +%s) - began)) s."
} > "$report"
cat "$report"
log "report saved to $report"
