package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/mpower/labor-search/handlers"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/natstest"
	"github.com/mpower/labor-search/replication"
	"github.com/mpower/labor-search/search"
)

// The replicated mode's alerts live in their own file, which a single node
// (what TestDeployAgainstService runs) has no series for; these checks hold
// them to the same rules as alerts.yml: a runbook section each, tested
// firing and not firing, and a PrometheusRule in deploy/k8s-replicated
// generated from the file.
func mustReplicationRules(tb testing.TB) *ruleFile {
	tb.Helper()
	f, err := readRuleFile(filepath.Join(deployDir, "prometheus", "replication_alerts.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestReplicationAlertsHaveRunbooksAndTests(t *testing.T) {
	anchors := readmeAnchors(t)
	var pt promtoolTests
	if err := yaml.UnmarshalStrict(mustRead(t, filepath.Join(deployDir, "prometheus", "replication_alerts_test.yml")), &pt); err != nil {
		t.Fatalf("replication_alerts_test.yml: %v", err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range pt.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				silent[a.Alertname] = true
			}
			for _, e := range a.ExpAlerts {
				if e.ExpAnnotations["runbook_url"] != "" && e.ExpAnnotations["summary"] != "" {
					fires[a.Alertname] = true
				}
			}
		}
	}
	n := 0
	for _, g := range mustReplicationRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			const prefix = "https://github.com/mpower/labor-search/blob/main/deploy/README.md#"
			if url := r.Annotations["runbook_url"]; url != prefix+githubAnchor(r.Alert) || !anchors[githubAnchor(r.Alert)] {
				t.Errorf("%s: runbook_url %q, want %s%s with that section in deploy/README.md", r.Alert, url, prefix, githubAnchor(r.Alert))
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if !fires[r.Alert] || !silent[r.Alert] {
				t.Errorf("%s: replication_alerts_test.yml must show it firing (with annotations) and not firing", r.Alert)
			}
		}
	}
	if n < 3 {
		t.Errorf("%d replication alerts, want lag, stalled apply and unavailable writes", n)
	}
}

func TestReplicationPrometheusRule(t *testing.T) {
	name := filepath.Join(deployDir, "k8s-replicated", "prometheusrule.yaml")
	var b bytes.Buffer
	b.WriteString(`# Generated from ../prometheus/replication_alerts.yml by
#   (cd tools && go test ./deploycheck -run TestReplicationPrometheusRule -update)
# Edit that file, not this one; the test fails when they differ.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: searchd-replication
spec:
  groups:
`)
	lines := strings.Split(strings.TrimRight(string(mustRead(t, filepath.Join(deployDir, "prometheus", "replication_alerts.yml"))), "\n"), "\n")
	start := -1
	for i, l := range lines {
		if l == "groups:" {
			start = i + 1
		}
	}
	if start < 0 {
		t.Fatal("replication_alerts.yml has no top-level groups: line")
	}
	for _, l := range lines[start:] {
		if strings.TrimSpace(l) != "" {
			b.WriteString("  " + l)
		}
		b.WriteString("\n")
	}
	if *update {
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := mustRead(t, name)
	if diff := cmp.Diff(b.String(), string(got)); diff != "" {
		t.Errorf("%s is out of date; run (cd tools && go test ./deploycheck -run TestReplicationPrometheusRule -update) (-want +got):\n%s", name, diff)
	}
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(got, &pr); err != nil {
		t.Fatalf("%s does not decode strictly into a PrometheusRule: %v", name, err)
	}
}

// deploy/k8s-replicated renders into objects that decode strictly and hold
// the settings the design depends on.
func TestReplicatedManifests(t *testing.T) {
	if err := commandsPresent("kubectl"); err != nil {
		t.Skip(err)
	}
	rendered, err := exec.Command("kubectl", "kustomize", filepath.Join(deployDir, "k8s-replicated")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize deploy/k8s-replicated: %v", err)
	}
	out := string(rendered)
	var (
		deployments  []appsv1.Deployment
		statefulSets []appsv1.StatefulSet
		jobs         []batchv1.Job
		services     []corev1.Service
		configMaps   []corev1.ConfigMap
		pdbs         []policyv1.PodDisruptionBudget
		rules        []monitoringv1.PrometheusRule
	)
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatal(err)
		}
		b := []byte(doc)
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			decodeStrict(t, b, &deployments)
		case "apps/v1 StatefulSet":
			decodeStrict(t, b, &statefulSets)
		case "batch/v1 Job":
			decodeStrict(t, b, &jobs)
		case "v1 Service":
			decodeStrict(t, b, &services)
		case "v1 ConfigMap":
			decodeStrict(t, b, &configMaps)
		case "policy/v1 PodDisruptionBudget":
			decodeStrict(t, b, &pdbs)
		case "monitoring.coreos.com/v1 PrometheusRule":
			decodeStrict(t, b, &rules)
		case "autoscaling/v2 HorizontalPodAutoscaler", "monitoring.coreos.com/v1 ServiceMonitor":
			// The base's, checked by TestDeployAgainstService.
		default:
			t.Errorf("rendered an object of an unexpected type %s %s; add its check", tm.APIVersion, tm.Kind)
		}
	}
	if len(statefulSets) != 1 || len(deployments) != 1 || len(jobs) != 1 {
		t.Fatalf("rendered %d StatefulSets, %d Deployments, %d Jobs; want 1 each", len(statefulSets), len(deployments), len(jobs))
	}
	nats := statefulSets[0]
	if nats.Spec.Replicas == nil || *nats.Spec.Replicas != 3 {
		t.Errorf("NATS StatefulSet replicas %v, want 3", nats.Spec.Replicas)
	}
	goMod := string(mustRead(t, "../../go.mod"))
	version := regexp.MustCompile(`github.com/nats-io/nats-server/v2 v(\S+)`).FindStringSubmatch(goMod)
	if version == nil || nats.Spec.Template.Spec.Containers[0].Image != "nats:"+version[1]+"-alpine" {
		t.Errorf("NATS image %q, want the version go.mod pins and the failure suite tests (%v)", nats.Spec.Template.Spec.Containers[0].Image, version)
	}
	var conf string
	for _, cm := range configMaps {
		if cm.Name == "nats-config" {
			conf = cm.Data["nats.conf"]
		}
	}
	if !strings.Contains(conf, "sync_interval: always") {
		t.Errorf("nats.conf lacks sync_interval: always:\n%s", conf)
	}
	var natsPDB bool
	for _, p := range pdbs {
		if p.Spec.Selector != nil && p.Spec.Selector.MatchLabels["app.kubernetes.io/name"] == "nats" && p.Spec.MaxUnavailable != nil && p.Spec.MaxUnavailable.IntValue() == 1 {
			natsPDB = true
		}
	}
	if !natsPDB {
		t.Error("no PodDisruptionBudget keeps all but one NATS server up")
	}
	pod := deployments[0].Spec.Template.Spec
	if len(pod.InitContainers) != 0 {
		t.Errorf("searchd still builds its index from the corpus: init containers %v", pod.InitContainers)
	}
	c := pod.Containers[0]
	var apiKeyFromSecret bool
	for _, e := range c.Env {
		if e.Name == "SEARCH_API_KEY" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			apiKeyFromSecret = true
		}
	}
	if envValue(c, "SEARCH_NATS_URL") == "" || !apiKeyFromSecret {
		t.Errorf("searchd env %v: want SEARCH_NATS_URL and SEARCH_API_KEY from a Secret", c.Env)
	}
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil {
			t.Errorf("searchd still mounts ConfigMap %s", v.ConfigMap.Name)
		}
	}
	job := jobs[0].Spec.Template.Spec
	if !strings.Contains(strings.Join(job.Containers[0].Args, " "), "-publish") || envValue(job.Containers[0], "SEARCH_NATS_URL") != envValue(c, "SEARCH_NATS_URL") {
		t.Errorf("seed Job %v %v: want indexer -publish to the URLs searchd uses", job.Containers[0].Args, job.Containers[0].Env)
	}
	var corpus bool
	for _, cm := range configMaps {
		for _, v := range job.Volumes {
			corpus = corpus || v.ConfigMap != nil && v.ConfigMap.Name == cm.Name
		}
	}
	if !corpus {
		t.Error("the seed Job mounts no ConfigMap the overlay renders")
	}
}

// The replication dashboard reads only series a replica in replicated mode
// exposes: a replica over an in-process cluster, its registry scraped.
func TestReplicationDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster")
	}
	d, err := readDashboard(filepath.Join(deployDir, "grafana", "replication-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := natstest.Start(t, 3)
	ix, err := index.Open("", index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	e, err := search.New(ix, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	rep, err := replication.New(context.Background(), replication.Config{URLs: c.URLs(), Registerer: reg}, e)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	// The HTTP side registers the service's own metrics beside them.
	if _, err := handlers.New(handlers.Config{Engine: e, Registry: reg, Replicator: rep}); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	enc := expfmt.NewEncoder(&body, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	known, err := exposedNames(&body)
	if err != nil {
		t.Fatal(err)
	}
	queries := d.queries()
	if len(queries) < 8 {
		t.Fatalf("%d queries on the replication dashboard", len(queries))
	}
	for _, p := range unknownNames(queries, known) {
		t.Error(p)
	}
}
