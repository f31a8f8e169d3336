package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

func mustRuleFiles(tb testing.TB) map[string]*ruleFile {
	tb.Helper()
	files := map[string]*ruleFile{}
	for _, name := range []string{"rules.yml", "alerts.yml"} {
		f, err := readRuleFile(filepath.Join(deployDir, "prometheus", name))
		if err != nil {
			tb.Fatal(err)
		}
		files[name] = f
	}
	return files
}

func alertRules(files map[string]*ruleFile) []rule {
	var out []rule
	for _, g := range files["alerts.yml"].Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// readsTransitively returns the metrics an expression reads, following
// recording rules down to the raw series they are computed from.
func readsTransitively(tb testing.TB, expr string, files map[string]*ruleFile) map[string]bool {
	tb.Helper()
	recorded := map[string]string{}
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = r.Expr
				}
			}
		}
	}
	out := map[string]bool{}
	var visit func(expr string)
	visit = func(expr string) {
		names, err := selectedNames(expr)
		if err != nil {
			tb.Fatalf("%q: %v", expr, err)
		}
		for _, n := range names {
			if out[n] {
				continue
			}
			out[n] = true
			if e, ok := recorded[n]; ok {
				visit(e)
			}
		}
	}
	visit(expr)
	return out
}

// githubAnchor is the fragment GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	s := strings.ToLower(strings.TrimSpace(heading))
	s = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(s, "")
	return strings.ReplaceAll(s, " ", "-")
}

func readmeAnchors(tb testing.TB) map[string]bool {
	tb.Helper()
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} +(.+?)\s*$`).FindAllStringSubmatch(string(mustRead(tb, filepath.Join(deployDir, "README.md"))), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	return anchors
}

// The issue asks for these alerts; each must read the metric named (directly
// or through a recording rule) and wait at least the given time.
func TestAlertsCoverTheIssue(t *testing.T) {
	files := mustRuleFiles(t)
	byName := map[string]rule{}
	for _, r := range alertRules(files) {
		byName[r.Alert] = r
	}
	tests := []struct {
		alert   string
		reads   string
		exprHas string
		minFor  time.Duration
	}{
		{alert: "SearchLatencyHigh", reads: "search_duration_seconds_bucket", exprHas: "p99", minFor: 10 * time.Minute},
		{alert: "SearchErrorsHigh", reads: "http_requests_total"},
		{alert: "SearchZeroResultsHigh", reads: "search_zero_results_total"},
		{alert: "SearchTargetDown", reads: "up", exprHas: "== 0"},
		{alert: "SearchTargetMissing", reads: "up", exprHas: "absent("},
		{alert: "SearchIndexEmpty", reads: "index_documents", exprHas: "== 0"},
		{alert: "SearchZeroResultsDoubled", reads: "search_analytics_searches_total", exprHas: "offset 1w", minFor: time.Hour},
	}
	for _, test := range tests {
		t.Run(test.alert, func(t *testing.T) {
			r, ok := byName[test.alert]
			if !ok {
				t.Fatalf("alerts.yml has no alert %s", test.alert)
			}
			if reads := readsTransitively(t, r.Expr, files); !reads[test.reads] {
				t.Errorf("expression %q does not read %s (reads %v)", r.Expr, test.reads, reads)
			}
			if !strings.Contains(r.Expr, test.exprHas) {
				t.Errorf("expression %q lacks %q", r.Expr, test.exprHas)
			}
			if test.minFor > 0 {
				d, err := model.ParseDuration(r.For)
				if err != nil || time.Duration(d) < test.minFor {
					t.Errorf("for: %q, want at least %s", r.For, test.minFor)
				}
			}
		})
	}
	// The error alert counts server errors only, through its recording rule.
	if !strings.Contains(strings.Join(ruleExprs(files), "\n"), `code=~"5.."`) {
		t.Errorf("no rule selects code=~\"5..\" for SearchErrorsHigh")
	}
}

func ruleExprs(files map[string]*ruleFile) []string {
	var out []string
	for _, q := range ruleQueries(files) {
		out = append(out, q.expr)
	}
	return out
}

// Every alert carries what the person paged needs: a severity Alertmanager
// routes on, a summary, a description and a runbook section that exists.
func TestAlertsHaveRunbooks(t *testing.T) {
	anchors := readmeAnchors(t)
	for _, r := range alertRules(mustRuleFiles(t)) {
		t.Run(r.Alert, func(t *testing.T) {
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("severity %q, want warning or critical (alertmanager/alertmanager.yml routes on it)", s)
			}
			for _, key := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("annotation %s is missing", key)
				}
			}
			url := r.Annotations["runbook_url"]
			const prefix = "https://github.com/mpower/labor-search/blob/main/deploy/README.md#"
			if !strings.HasPrefix(url, prefix) {
				t.Fatalf("runbook_url %q does not point into deploy/README.md (%s...)", url, prefix)
			}
			if anchor := strings.TrimPrefix(url, prefix); !anchors[anchor] {
				t.Errorf("runbook_url anchor #%s matches no heading of deploy/README.md", anchor)
			}
			if want := githubAnchor(r.Alert); !strings.HasSuffix(url, "#"+want) {
				t.Errorf("runbook_url %q, want the section named after the alert (#%s)", url, want)
			}
		})
	}
}

// promtoolTests is the part of a promtool unit-test file this check reads.
type promtoolTests struct {
	RuleFiles          []string `json:"rule_files"`
	EvaluationInterval string   `json:"evaluation_interval"`
	Tests              []struct {
		Interval    string `json:"interval"`
		InputSeries []struct {
			Series string `json:"series"`
			Values string `json:"values"`
		} `json:"input_series"`
		AlertRuleTest []struct {
			EvalTime  string `json:"eval_time"`
			Alertname string `json:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `json:"exp_labels"`
				ExpAnnotations map[string]string `json:"exp_annotations"`
			} `json:"exp_alerts"`
		} `json:"alert_rule_test"`
		PromqlExprTest []struct {
			Expr       string `json:"expr"`
			EvalTime   string `json:"eval_time"`
			ExpSamples []struct {
				Labels string  `json:"labels"`
				Value  float64 `json:"value"`
			} `json:"exp_samples"`
		} `json:"promql_expr_test"`
	} `json:"tests"`
}

// alertTestFiles are the promtool unit tests of alerts.yml: the
// query-analytics alert compares with a week earlier, so its tests span
// nine days and are evaluated hourly in a file of their own.
var alertTestFiles = []string{"alerts_test.yml", "analytics_alerts_test.yml"}

func mustPromtoolTests(tb testing.TB) *promtoolTests {
	tb.Helper()
	var all promtoolTests
	for _, name := range alertTestFiles {
		var pt promtoolTests
		if err := yaml.UnmarshalStrict(mustRead(tb, filepath.Join(deployDir, "prometheus", name)), &pt); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff([]string{"rules.yml", "alerts.yml"}, pt.RuleFiles); diff != "" {
			tb.Errorf("%s rule_files mismatch (-want +got):\n%s", name, diff)
		}
		all.RuleFiles = pt.RuleFiles
		all.Tests = append(all.Tests, pt.Tests...)
	}
	return &all
}

// alerts_test.yml shows every alert both firing (with its annotations, so
// the templates are tested) and not firing.
func TestAlertUnitTestsCoverEveryAlert(t *testing.T) {
	pt := mustPromtoolTests(t)
	if diff := cmp.Diff([]string{"rules.yml", "alerts.yml"}, pt.RuleFiles); diff != "" {
		t.Errorf("alerts_test.yml rule_files mismatch (-want +got):\n%s", diff)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range pt.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				silent[a.Alertname] = true
				continue
			}
			for _, e := range a.ExpAlerts {
				if e.ExpAnnotations["runbook_url"] == "" || e.ExpAnnotations["summary"] == "" {
					t.Errorf("%s at %s: a firing case must check the summary and runbook_url annotations", a.Alertname, a.EvalTime)
				}
			}
			fires[a.Alertname] = true
		}
	}
	for _, r := range alertRules(mustRuleFiles(t)) {
		if !fires[r.Alert] {
			t.Errorf("alerts_test.yml never shows %s firing", r.Alert)
		}
		if !silent[r.Alert] {
			t.Errorf("alerts_test.yml never shows %s not firing", r.Alert)
		}
	}
}

// promtool itself: the configuration, the rules and their unit tests. The
// CI step .ci/checks.d/70-deploy.sh runs the same commands.
func TestPromtool(t *testing.T) {
	if err := commandsPresent("promtool"); err != nil {
		t.Skip(err)
	}
	for _, args := range [][]string{
		{"check", "config", "deploy/prometheus/prometheus.yml"},
		{"check", "rules", "deploy/prometheus/rules.yml", "deploy/prometheus/alerts.yml"},
		{"test", "rules", "deploy/prometheus/alerts_test.yml", "deploy/prometheus/analytics_alerts_test.yml"},
	} {
		out := runOutput(t, "promtool", args...)
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

// prometheusRuleYAML is k8s/prometheusrule.yaml as generated from the two
// rule files: their groups, indented under spec.
func prometheusRuleYAML(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString(`# Generated from ../prometheus/rules.yml and ../prometheus/alerts.yml by
#   (cd tools && go test ./deploycheck -run TestPrometheusRule -update)
# Edit those files, not this one; the test fails when they differ.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: searchd
spec:
  groups:
`)
	for _, name := range []string{"rules.yml", "alerts.yml"} {
		lines := strings.Split(strings.TrimRight(string(mustRead(tb, filepath.Join(deployDir, "prometheus", name))), "\n"), "\n")
		start := -1
		for i, l := range lines {
			if l == "groups:" {
				start = i + 1
				break
			}
		}
		if start < 0 {
			tb.Fatalf("%s has no top-level groups: line", name)
		}
		for _, l := range lines[start:] {
			if strings.TrimSpace(l) != "" {
				b.WriteString("  " + l)
			}
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// The Prometheus Operator's PrometheusRule carries exactly the groups of
// rules.yml and alerts.yml, so Kubernetes and Compose alert alike.
func TestPrometheusRule(t *testing.T) {
	name := filepath.Join(deployDir, "k8s", "prometheusrule.yaml")
	want := prometheusRuleYAML(t)
	if *update {
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := mustRead(t, name)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is out of date with the rule files; run (cd tools && go test ./deploycheck -run TestPrometheusRule -update) (-want +got):\n%s", name, diff)
	}
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(got, &pr); err != nil {
		t.Fatalf("%s does not decode strictly into a PrometheusRule: %v", name, err)
	}
	var fromFiles []ruleGroup
	for _, f := range []string{"rules.yml", "alerts.yml"} {
		fromFiles = append(fromFiles, mustRuleFiles(t)[f].Groups...)
	}
	var fromCRD ruleFile
	spec, err := yaml.Marshal(pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(spec, &fromCRD); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromFiles, fromCRD.Groups); diff != "" {
		t.Errorf("PrometheusRule groups differ from the rule files (-files +crd):\n%s", diff)
	}
}

func mustDashboard(tb testing.TB) *dashboard {
	tb.Helper()
	d, err := readDashboard(filepath.Join(deployDir, "grafana", "dashboard.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// The dashboard parses, lays its panels out without overlap, queries the
// provisioned data source, and shows what the issue asks for.
func TestDashboard(t *testing.T) {
	d := mustDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed for provisioning and links", d.UID, d.Title)
	}
	raw := string(mustRead(t, filepath.Join(deployDir, "grafana", "dashboard.json")))
	if strings.Contains(raw, `"uid": "prometheus"`) && !strings.Contains(raw, `"${datasource}"`) {
		t.Errorf("panels should use the $datasource variable, not a fixed data source")
	}

	type rect struct{ id, x, y, w, h int }
	var rects []rect
	ids := map[int]bool{}
	panelsReading := map[string][]string{} // metric -> panel titles
	for _, p := range d.allPanels() {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, g)
		}
		for _, r := range rects {
			if g.X < r.x+r.w && r.x < g.X+g.W && g.Y < r.y+r.h && r.y < g.Y+g.H {
				t.Errorf("panel %q overlaps panel %d", p.Title, r.id)
			}
		}
		rects = append(rects, rect{p.ID, g.X, g.Y, g.W, g.H})
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names, err := selectedNames(grafanaVars.Replace(tg.Expr))
			if err != nil {
				t.Errorf("panel %q target %s: %q does not parse: %v", p.Title, tg.RefID, tg.Expr, err)
				continue
			}
			for _, n := range names {
				panelsReading[n] = append(panelsReading[n], p.Title)
			}
			if strings.Contains(tg.Expr, "[$__rate_interval]") || !strings.Contains(tg.Expr, "rate(") {
				continue
			}
			t.Errorf("panel %q: raw rate() should use [$__rate_interval] so it follows the zoom: %q", p.Title, tg.Expr)
		}
	}

	// What the issue lists, each as the series a panel must read.
	for _, want := range []struct{ what, metric string }{
		{"request rate by route and code", "http_requests_total"},
		{"search latency p50 by kind", "job_kind:search_duration_seconds:p50_rate5m"},
		{"search latency p90 by kind", "job_kind:search_duration_seconds:p90_rate5m"},
		{"search latency p99 by kind", "job_kind:search_duration_seconds:p99_rate5m"},
		{"error rate", "job:http_requests_5xx:ratio_rate5m"},
		{"zero-result rate", "job:search_zero_results:ratio_rate5m"},
		{"hits per query", "job:search_hits:mean_rate5m"},
		{"index documents", "index_documents"},
		{"Go memory", "go_memstats_heap_inuse_bytes"},
		{"process memory", "process_resident_memory_bytes"},
		{"goroutines", "go_goroutines"},
	} {
		if len(panelsReading[want.metric]) == 0 {
			t.Errorf("no panel shows %s (reads %s)", want.what, want.metric)
		}
	}
	if !regexp.MustCompile(`by \(route, code\)`).MatchString(raw) {
		t.Errorf("no panel splits http_requests_total by (route, code)")
	}

	// The data source variable defaults to the provisioned data source.
	var ds struct {
		Datasources []struct {
			UID  string `json:"uid"`
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(deployDir, "grafana", "provisioning", "datasources", "prometheus.yml")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("provisioned data sources %+v, want one of type prometheus", ds.Datasources)
	}
	if !strings.Contains(raw, `"value": "`+ds.Datasources[0].UID+`"`) {
		t.Errorf("the $datasource variable does not default to the provisioned uid %q", ds.Datasources[0].UID)
	}
}

func TestSelectedNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{expr: `up`, want: []string{"up"}},
		{expr: `histogram_quantile(0.99, sum by (le, kind) (rate(search_duration_seconds_bucket{job="searchd"}[5m])))`, want: []string{"search_duration_seconds_bucket"}},
		{expr: `sum(rate(a_total[1m])) / sum(rate(b_count[1m])) or c * 0`, want: []string{"a_total", "b_count", "c"}},
		{expr: `{__name__="index_documents", job="searchd"} == 0`, want: []string{"index_documents"}},
		{expr: `time() - index_last_update_timestamp_seconds`, want: []string{"index_last_update_timestamp_seconds"}},
		{expr: `job:x:ratio_rate5m > 0.3 and on (job) sum by (job) (y) > 0.05`, want: []string{"job:x:ratio_rate5m", "y"}},
	}
	for _, test := range tests {
		t.Run(test.expr, func(t *testing.T) {
			got, err := selectedNames(test.expr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := selectedNames(`sum(rate(x[5m])`); err == nil {
		t.Errorf("an unbalanced expression parsed")
	}
}

const sampleMetrics = `# HELP search_duration_seconds Time.
# TYPE search_duration_seconds histogram
search_duration_seconds_bucket{kind="query",le="0.1"} 1
search_duration_seconds_bucket{kind="query",le="+Inf"} 1
search_duration_seconds_sum{kind="query"} 0.01
search_duration_seconds_count{kind="query"} 1
# HELP index_documents Documents.
# TYPE index_documents gauge
index_documents 20
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{route="/v1/search",method="GET",code="200"} 3
`

func TestUnknownNames(t *testing.T) {
	known, err := exposedNames(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	known["job:recorded:rate5m"] = true
	tests := []struct {
		name string
		expr string
		want int // problems
	}{
		{name: "histogram series", expr: `rate(search_duration_seconds_bucket[5m]) + rate(search_duration_seconds_count[5m])`},
		{name: "gauge and counter", expr: `index_documents + http_requests_total`},
		{name: "recorded and up", expr: `job:recorded:rate5m * on() group_left up`},
		// Without native histograms (not enabled in prometheus.yml) a
		// histogram's own name is no series.
		{name: "histogram family name", expr: `search_duration_seconds`, want: 1},
		{name: "misspelt", expr: `rate(search_duration_second_bucket[5m])`, want: 1},
		{name: "gauge with a histogram suffix", expr: `index_documents_bucket`, want: 1},
		{name: "does not parse", expr: `rate(`, want: 1},
		{name: "reads nothing", expr: `vector(1)`, want: 1},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := unknownNames([]query{{where: "test", expr: test.expr}}, known)
			if len(got) != test.want {
				t.Errorf("%q: %d problems %q, want %d", test.expr, len(got), got, test.want)
			}
		})
	}
}

// run, the command, against a /metrics that lacks most of what the
// dashboard reads: it names the gaps and fails.
func TestRunReportsMissingMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte(sampleMetrics))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-metrics", srv.URL, "-deploy", deployDir}, &out, &errOut)
	if !errors.Is(err, errProblems) {
		t.Fatalf("run: %v, want errProblems; stderr:\n%s", err, errOut.String())
	}
	for _, want := range []string{"go_goroutines", "search_hits_bucket", "process_resident_memory_bytes"} {
		if !strings.Contains(out.String(), "metric "+want+" is neither exposed") {
			t.Errorf("output does not name %s:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "metric index_documents ") {
		t.Errorf("output names index_documents, which the server exposes:\n%s", out.String())
	}

	if err := run(context.Background(), []string{"extra"}, &out, &errOut); err == nil {
		t.Errorf("run accepted a stray argument")
	}
}
