package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// query is one PromQL expression found in a deploy file, with where it was
// found, for error messages.
type query struct {
	where string
	expr  string
}

// ruleFile is the Prometheus rule file format (rules.yml, alerts.yml) and
// the spec of a PrometheusRule object.
type ruleFile struct {
	Groups []ruleGroup `json:"groups"`
}

type ruleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []rule `json:"rules"`
}

type rule struct {
	Record      string            `json:"record,omitempty"`
	Alert       string            `json:"alert,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// readRuleFile decodes a rule file strictly: a misspelt key fails here
// rather than being ignored.
func readRuleFile(path string) (*ruleFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("decode rule file %s: %w", path, err)
	}
	return &f, nil
}

// dashboard is the part of a Grafana dashboard model this check reads.
// Decoding is lenient: Grafana's model has hundreds of optional keys.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func readDashboard(path string) (*dashboard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode dashboard %s: %w", path, err)
	}
	return &d, nil
}

// allPanels flattens rows: a collapsed row holds its panels inside it.
func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// grafanaVars replaces the Grafana variables the dashboard uses with values
// that make the expression plain PromQL.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "1m",
	"$__interval", "1m",
	"$__range", "1h",
	"${job}", "searchd",
	"$job", "searchd",
)

// labelValuesCall matches Grafana's label_values(metric, label) variable
// query, which is not PromQL.
var labelValuesCall = regexp.MustCompile(`^\s*label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)

// queries lists every PromQL expression of the dashboard: panel targets and
// variable queries.
func (d *dashboard) queries() []query {
	var out []query
	for _, p := range d.allPanels() {
		for _, t := range p.Targets {
			out = append(out, query{
				where: fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, t.RefID),
				expr:  grafanaVars.Replace(t.Expr),
			})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			// Older dashboards store the query as a plain string.
			if err := json.Unmarshal(v.Query, &q.Query); err != nil {
				continue
			}
		}
		expr := q.Query
		if m := labelValuesCall.FindStringSubmatch(expr); m != nil {
			expr = m[1]
		}
		out = append(out, query{where: fmt.Sprintf("variable %q", v.Name), expr: grafanaVars.Replace(expr)})
	}
	return out
}

// ruleQueries lists every rule expression of the rule files.
func ruleQueries(files map[string]*ruleFile) []query {
	var out []query
	for name, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				out = append(out, query{
					where: fmt.Sprintf("%s group %s rule %s%s", name, g.Name, r.Record, r.Alert),
					expr:  r.Expr,
				})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// recordedNames lists the series names the recording rules create.
func recordedNames(files map[string]*ruleFile) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out
}

// selectedNames parses a PromQL expression and returns the metric names its
// selectors read, sorted.
func selectedNames(expr string) ([]string, error) {
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel && m.Type.String() == "=" {
					name = m.Value
				}
			}
		}
		if name != "" {
			seen[name] = true
		}
		return nil
	})
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// exposedNames parses a /metrics body in the text exposition format and
// returns every series name a scrape of it yields: the family names, except
// that a histogram yields only its _bucket, _sum and _count series (its own
// name is a series only with native histograms, which prometheus.yml does
// not enable), and a summary adds _sum and _count. The "up" series
// Prometheus adds to every target counts as exposed.
func exposedNames(body io.Reader) (map[string]bool, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(body)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	out := map[string]bool{"up": true}
	for name, f := range families {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			out[name+"_bucket"] = true
			out[name+"_sum"] = true
			out[name+"_count"] = true
		case dto.MetricType_SUMMARY:
			out[name] = true
			out[name+"_sum"] = true
			out[name+"_count"] = true
		default:
			out[name] = true
		}
	}
	return out, nil
}

// unknownNames checks every query against the known series names and
// returns one line per problem: an expression that does not parse, or a
// name no scrape of the service nor any recording rule yields.
func unknownNames(queries []query, known map[string]bool) []string {
	var problems []string
	for _, q := range queries {
		names, err := selectedNames(q.expr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q does not parse: %v", q.where, q.expr, err))
			continue
		}
		if len(names) == 0 {
			problems = append(problems, fmt.Sprintf("%s: %q reads no metric", q.where, q.expr))
		}
		for _, n := range names {
			if !known[n] {
				problems = append(problems, fmt.Sprintf("%s: metric %s is neither exposed by /metrics nor recorded by a rule", q.where, n))
			}
		}
	}
	return problems
}

// deployQueries reads the dashboard and rule files under deployDir and
// returns their queries and the recorded names.
func deployQueries(deployDir string) ([]query, map[string]bool, error) {
	dash, err := readDashboard(filepath.Join(deployDir, "grafana", "dashboard.json"))
	if err != nil {
		return nil, nil, err
	}
	files := map[string]*ruleFile{}
	for _, name := range []string{"rules.yml", "alerts.yml"} {
		f, err := readRuleFile(filepath.Join(deployDir, "prometheus", name))
		if err != nil {
			return nil, nil, err
		}
		files[name] = f
	}
	queries := append(dash.queries(), ruleQueries(files)...)
	return queries, recordedNames(files), nil
}

// checkAgainst reports the queries of the deploy files that read a metric
// the given /metrics body does not expose.
func checkAgainst(deployDir string, metrics []byte) ([]string, error) {
	queries, recorded, err := deployQueries(deployDir)
	if err != nil {
		return nil, err
	}
	known, err := exposedNames(bytes.NewReader(metrics))
	if err != nil {
		return nil, err
	}
	for n := range recorded {
		known[n] = true
	}
	return unknownNames(queries, known), nil
}
