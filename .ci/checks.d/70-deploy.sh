#!/usr/bin/env bash
# Deploy and monitoring files, checked with the real tools (issue 7):
# Prometheus config, rules and their unit tests with promtool, the
# Alertmanager config with amtool, the Kubernetes manifests rendered with
# kubectl kustomize, then the end-to-end run of searchd under a real
# Prometheus. The Go tests in tools/deploycheck (run by .ci/run before
# this) check the manifests, dashboard and rules against the service itself.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in promtool prometheus kubectl curl jq; do
  command -v "$tool" >/dev/null || { echo "70-deploy: $tool is missing (.ci/install.sh installs it)" >&2; exit 1; }
done

echo "-- promtool check config"
promtool check config deploy/prometheus/prometheus.yml
echo "-- promtool check rules"
promtool check rules deploy/prometheus/rules.yml deploy/prometheus/alerts.yml deploy/prometheus/replication_alerts.yml
echo "-- promtool test rules"
promtool test rules deploy/prometheus/alerts_test.yml deploy/prometheus/analytics_alerts_test.yml deploy/prometheus/replication_alerts_test.yml

echo "-- amtool check-config"
if command -v amtool >/dev/null; then
  amtool check-config deploy/alertmanager/alertmanager.yml
else
  echo "amtool not installed (Debian package prometheus-alertmanager); Alertmanager config not checked"
fi

echo "-- kubectl kustomize deploy/k8s"
rendered="$(kubectl kustomize deploy/k8s)"
echo "$rendered" | grep '^kind:' | sort | uniq -c
echo "-- kubectl kustomize deploy/k8s-replicated"
kubectl kustomize deploy/k8s-replicated | grep '^kind:' | sort | uniq -c

echo "-- Prometheus end to end"
timeout 300 bash deploy/prometheus/e2e.sh
