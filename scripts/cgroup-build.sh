#!/usr/bin/env bash
# Builds an index of N generated documents with the indexer inside a memory
# cgroup of a fixed limit, as the Kubernetes init container runs it, and
# prints one table row: whether it finished, documents/s, the kernel's peak
# charge of the cgroup (anonymous memory plus the page cache it holds), the
# process's own peak resident set (VmHWM, which also counts mapped pages of
# the index files that the kernel may take back) and how often the kernel
# reclaimed memory to stay under the limit.
#
#   sudo scripts/cgroup-build.sh [-n 1000000] [-limit 512M] [-work DIR]
#
# Needs root and a writable memory controller: cgroup v1
# (/sys/fs/cgroup/memory) or v2 (memory in cgroup.subtree_control). It
# generates the corpus with cmd/gencorpus (seed 1) unless -work already holds
# corpus-N.jsonl. The cgroup is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

n=1000000
limit=512M
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    -limit) limit="$2"; shift 2 ;;
    -work) work="$2"; shift 2 ;;
    *) echo "usage: $0 [-n N] [-limit SIZE] [-work DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$work" ] || work="$(mktemp -d)"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "cgroup-build: /usr/bin/time is missing (Debian package time)" >&2; exit 1; }

name="labor-search-build-$$"
if [ -w /sys/fs/cgroup/memory ]; then
  cg="/sys/fs/cgroup/memory/$name"
  mkdir "$cg"
  echo "$limit" >"$cg/memory.limit_in_bytes"
  peak() { echo $(($(cat "$cg/memory.max_usage_in_bytes") >> 20)); }
  reclaims() { cat "$cg/memory.failcnt"; }
  ooms() { awk '$1 == "oom_kill" {print $2}' "$cg/memory.oom_control"; }
else
  root=/sys/fs/cgroup
  [ -f "$root/cgroup.subtree_control" ] || root=/sys/fs/cgroup/unified
  grep -qw memory "$root/cgroup.subtree_control" 2>/dev/null || { echo "cgroup-build: no writable memory cgroup controller here" >&2; exit 1; }
  cg="$root/$name"
  mkdir "$cg"
  echo "$limit" >"$cg/memory.max"
  peak() { echo $(($(cat "$cg/memory.peak") >> 20)); }
  reclaims() { awk '$1 == "max" {print $2}' "$cg/memory.events"; }
  ooms() { awk '$1 == "oom_kill" {print $2}' "$cg/memory.events"; }
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT

bin="$work/bin"
mkdir -p "$bin"
go build -o "$bin/gencorpus" ./cmd/gencorpus
go build -o "$bin/indexer" ./cmd/indexer
corpus="$work/corpus-$n.jsonl"
[ -f "$corpus" ] || "$bin/gencorpus" -n "$n" -o "$corpus"
rm -rf "$work/index"

began=$(date +%s.%N)
set +e
sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
  /usr/bin/time -v "$bin/indexer" -index "$work/index" -input "$corpus" >"$work/indexer.log" 2>&1
rc=$?
set -e
wall=$(awk -v a="$began" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
hwm=$(awk -F: '/Maximum resident set size/ {print int($2 / 1024)}' "$work/indexer.log")
size=$(du -sm "$work/index" | cut -f1)
status=finished
[ "$rc" -eq 0 ] || status="failed (exit $rc)"

printf '| documents | cgroup limit | result | wall s | documents/s | cgroup peak MiB | VmHWM MiB | reclaims | OOM kills | index MiB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
printf '| %s | %s | %s | %.0f | %.0f | %s | %s | %s | %s | %s |\n' \
  "$n" "$limit" "$status" "$wall" "$(awk -v n="$n" -v w="$wall" 'BEGIN {print n / w}')" "$(peak)" "$hwm" "$(reclaims)" "$(ooms)" "$size"
grep -E '^indexer:|summary|peak' "$work/indexer.log" | tail -3 || true
[ "$rc" -eq 0 ]
