#!/usr/bin/env bash
# End-to-end check of the monitoring set-up against a real Prometheus:
#  1. start searchd on a free loopback port (in-memory index of the seeds);
#  2. start Prometheus on another loopback port with a copy of
#     prometheus.yml pointed at it (scrape and rule evaluation every second)
#     and our recording rules and alerts;
#  3. send searches, suggestions and browses with curl;
#  4. ask Prometheus's HTTP API for the p99 search latency by kind, computed
#     from the raw histogram, and for every recording rule; print them and
#     fail unless each comes back with numbers; check every rule evaluates
#     without error and that no alert fires on a healthy service.
# Both processes are stopped by their PIDs on exit. Bounded: every wait has
# a deadline, and the run takes well under 90 s once searchd is built.
#
# Usage: deploy/prometheus/e2e.sh            (builds ./cmd/searchd)
#        SEARCHD_BIN=/path/to/searchd deploy/prometheus/e2e.sh
# Needs: prometheus, curl, jq; only 127.0.0.1 is ever contacted.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
for tool in prometheus curl jq; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is not installed" >&2; exit 1; }
done

work="$(mktemp -d)"
searchd_pid=""
prom_pid=""
cleanup() {
  status=$?
  for pid in $prom_pid $searchd_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $prom_pid $searchd_pid; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "--- searchd log (last 20 lines)"; tail -n 20 "$work/searchd.log" 2>/dev/null || true
    echo "--- prometheus log (last 20 lines)"; tail -n 20 "$work/prometheus.log" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port nothing listens on.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  echo "e2e: no free port found" >&2; return 1
}

# wait_http URL SECONDS: until URL answers 200, or fail.
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "e2e: $1 did not answer 200 within $2 s" >&2; return 1
    fi
    sleep 0.3
  done
}

bin="${SEARCHD_BIN:-}"
if [ -z "$bin" ]; then
  echo "e2e: building searchd"
  (cd "$repo" && CGO_ENABLED=0 go build -o "$work/searchd" ./cmd/searchd)
  bin="$work/searchd"
fi
SECONDS=0

app_port="$(free_port)"
app="http://127.0.0.1:$app_port"
"$bin" -addr "127.0.0.1:$app_port" >"$work/searchd.log" 2>&1 &
searchd_pid=$!
wait_http "$app/readyz" 30
echo "e2e: searchd (pid $searchd_pid) ready on $app after ${SECONDS}s"

# Our prometheus.yml, rules and alerts, with only the addresses and
# intervals changed. Each substitution is checked, so a change to
# prometheus.yml that breaks it fails here instead of testing nothing.
cp "$here/rules.yml" "$here/alerts.yml" "$work/"
sed -e "s/\"searchd:8080\"/\"127.0.0.1:$app_port\"/" \
    -e 's/"alertmanager:9093"/"127.0.0.1:9"/' \
    -e 's/^\(  scrape_interval:\) 15s$/\1 1s/' \
    -e 's/^\(  evaluation_interval:\) 15s$/\1 1s/' \
    -e 's/^\(    scrape_timeout:\) 5s$/\1 1s/' \
    "$here/prometheus.yml" >"$work/prometheus.yml"
for want in "127.0.0.1:$app_port" "scrape_interval: 1s" "evaluation_interval: 1s" "scrape_timeout: 1s"; do
  grep -qF "$want" "$work/prometheus.yml" || { echo "e2e: could not set '$want' in the copy of prometheus.yml" >&2; exit 1; }
done
if command -v promtool >/dev/null; then
  promtool check config "$work/prometheus.yml" >/dev/null
fi

prom_port="$(free_port)"
prom="http://127.0.0.1:$prom_port"
prometheus \
  --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" \
  --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!
wait_http "$prom/-/ready" 30
echo "e2e: prometheus (pid $prom_pid) ready on $prom after ${SECONDS}s"

# query EXPR prints Prometheus's JSON answer to an instant query.
query() {
  curl -fsS --max-time 5 -G "$prom/api/v1/query" --data-urlencode "query=$1"
}

# Wait until Prometheus has scraped searchd at least once.
deadline=$((SECONDS + 20))
until [ "$(query 'up{job="searchd"}' | jq -r '.data.result[0].value[1] // empty')" = "1" ]; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "e2e: Prometheus never scraped searchd" >&2; exit 1; }
  sleep 0.5
done
echo "e2e: target up after ${SECONDS}s"

# Traffic: queries with text (one misspelt, one that finds nothing),
# filter-only browses and search-box suggestions, in three rounds a couple of
# scrapes apart so rates see counters move. One search in ten finds nothing,
# far from the zero-result alert's 30%.
traffic() {
  local paths=(
    "/v1/search?q=mining&facets=country,sector"
    "/v1/search?q=migrant+workers"
    "/v1/search?q=garment"
    "/v1/search?q=minning"
    "/v1/search?q=freedom+of+association&per_page=5"
    "/v1/search?q=zzqxjv+wqpfk"
    "/v1/search?country=Mexico"
    "/v1/search?sector=Mining"
    "/v1/search?sort=-start"
    "/v1/search?q=women"
    "/v1/suggest?q=mig"
    "/v1/suggest?q=lab"
    "/v1/suggest?q=w"
  )
  local p
  for p in "${paths[@]}"; do
    curl -fsS -o /dev/null --max-time 5 "$app$p"
  done
}
for round in 1 2 3; do
  for _ in 1 2 3 4 5; do traffic; done
  sleep 1.5
done
echo "e2e: sent $((3 * 5 * 13)) requests by ${SECONDS}s"

# numbers EXPR SERIES: poll EXPR until it returns at least SERIES series,
# every value a finite number; then print them. Fail after the deadline.
numbers() {
  local expr="$1" want="$2" deadline=$((SECONDS + 30)) body got
  while :; do
    body="$(query "$expr")"
    got="$(jq '[.data.result[] | .value[1] | select(. != "NaN" and . != "+Inf" and . != "-Inf")] | length' <<<"$body")"
    if [ "$got" -ge "$want" ]; then
      echo "  $expr"
      jq -r '.data.result[] | "    \(.metric | del(.__name__) | to_entries | map("\(.key)=\"\(.value)\"") | join(", ") | "{" + . + "}") \(.value[1])"' <<<"$body"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "e2e: $expr gave $got numeric series, want at least $want; last answer:" >&2
      echo "$body" >&2
      return 1
    fi
    sleep 1
  done
}

echo "e2e: Prometheus query results"
numbers 'histogram_quantile(0.99, sum by (le, kind) (rate(search_duration_seconds_bucket[1m])))' 3
# Every recording rule, by name, read from rules.yml.
rules=$(sed -n 's/^ *- record: *//p' "$here/rules.yml")
[ -n "$rules" ] || { echo "e2e: no recording rules found in rules.yml" >&2; exit 1; }
for rule in $rules; do
  case "$rule" in
    job_kind:*) numbers "$rule" 3 ;;   # one series per kind
    *) numbers "$rule" 1 ;;
  esac
done

# Every rule (recording and alerting) has been evaluated without error.
bad="$(curl -fsS --max-time 5 "$prom/api/v1/rules" | jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.health) \(.lastError // "")"')"
if [ -n "$bad" ]; then
  echo "e2e: rules not healthy:" >&2; echo "$bad" >&2; exit 1
fi
echo "e2e: all $(curl -fsS --max-time 5 "$prom/api/v1/rules" | jq '[.data.groups[].rules[]] | length') rules evaluated with health ok"

# A healthy service raises no alert, not even a pending one: the alert
# expressions hold on real data. SearchLatencyHigh is the exception: a busy
# CI machine can make a search slow, which says nothing about these files.
alerts="$(curl -fsS --max-time 5 "$prom/api/v1/alerts" | jq -r '.data.alerts[] | "\(.labels.alertname) \(.state) \(.labels | del(.alertname) | tostring)"')"
if [ -n "$alerts" ]; then
  echo "e2e: alerts active:"; echo "$alerts"
  if grep -qv '^SearchLatencyHigh ' <<<"$alerts"; then
    echo "e2e: alerts other than SearchLatencyHigh are active on a healthy service" >&2; exit 1
  fi
else
  echo "e2e: no alert pending or firing"
fi
echo "e2e: passed in ${SECONDS}s"
