package main

import (
	"encoding/json"
	"net"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

type stage struct {
	name, from string
	instrs     []instruction
}

// parseDockerfile splits a Dockerfile into stages, substituting the
// defaults of global ARGs in FROM lines.
func parseDockerfile(tb testing.TB, text string) []stage {
	tb.Helper()
	var stages []stage
	args := map[string]string{}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue
			}
			l = strings.TrimSuffix(l, `\`) + " " + next
		}
		cmd, rest, _ := strings.Cut(l, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest)}
		switch {
		case in.cmd == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			s := stage{from: expandVars(f[0], args)}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case len(stages) == 0:
			tb.Fatalf("Dockerfile line %d: %s before the first FROM", start, in.cmd)
		default:
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
		}
	}
	return stages
}

// expandVars substitutes ${NAME} and $NAME from vars.
func expandVars(s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`).ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		return vars[name]
	})
}

// copyArgs splits COPY arguments into options, sources and destination.
func copyArgs(args string) (opts map[string]string, srcs []string, dst string) {
	opts = map[string]string{}
	f := strings.Fields(args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		k, v, _ := strings.Cut(strings.TrimPrefix(f[0], "--"), "=")
		opts[k] = v
		f = f[1:]
	}
	if len(f) < 2 {
		return opts, nil, ""
	}
	return opts, f[:len(f)-1], f[len(f)-1]
}

// imageFacts is what the final image holds, for the manifests to match.
type imageFacts struct {
	files      map[string]bool // paths of binaries and directories copied in
	entrypoint []string
	env        map[string]string
	port       int
	user       string
}

var goBuild = regexp.MustCompile(`go build .*-o (\S+) (.+)$`)

// checkDockerfile checks deploy/Dockerfile against the repository and the
// binaries: what is built exists, what is copied was built, the entry point
// is the service, the port is the service's default, and the user is not
// root.
func checkDockerfile(t *testing.T, svc service) *imageFacts {
	stages := parseDockerfile(t, string(mustRead(t, filepath.Join(deployDir, "Dockerfile"))))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a final stage", len(stages))
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final stage FROM %s, want distroless/static or scratch for a static binary", final.from)
	}

	// What each earlier stage produces: the go build outputs and the
	// directories its RUN lines create with the indexer.
	produced := map[string]map[string]bool{}
	for _, s := range stages[:len(stages)-1] {
		out := map[string]bool{}
		for _, in := range s.instrs {
			if in.cmd == "HEALTHCHECK" {
				t.Errorf("Dockerfile line %d: HEALTHCHECK; probes are the orchestrator's job", in.line)
			}
			if in.cmd == "COPY" {
				if opts, srcs, _ := copyArgs(in.args); opts["from"] == "" {
					for _, src := range srcs {
						if !fileExists(filepath.Join(repoRoot, src)) {
							t.Errorf("Dockerfile line %d: COPY %s: no such path in the repository", in.line, src)
						}
					}
				}
			}
			if in.cmd != "RUN" {
				continue
			}
			if m := goBuild.FindStringSubmatch(in.args); m != nil {
				for _, want := range []string{"CGO_ENABLED=0", "-trimpath"} {
					if !strings.Contains(in.args, want) {
						t.Errorf("Dockerfile line %d: go build without %s", in.line, want)
					}
				}
				dir := m[1]
				for _, pkg := range strings.Fields(m[2]) {
					if !fileExists(filepath.Join(repoRoot, pkg)) {
						t.Errorf("Dockerfile line %d: builds %s, which does not exist", in.line, pkg)
					}
					if strings.HasSuffix(dir, "/") {
						out[dir+path.Base(pkg)] = true
					} else {
						out[dir] = true
					}
				}
				continue
			}
			// "<built indexer> -index DIR": the index of the seeds.
			f := strings.Fields(in.args)
			if len(f) >= 3 && out[f[0]] && path.Base(f[0]) == "indexer" {
				for i := 1; i < len(f); i++ {
					if name, isFlag := strings.CutPrefix(f[i], "-"); isFlag {
						if _, ok := svc.indexerFlags[name]; !ok {
							t.Errorf("Dockerfile line %d: indexer has no flag -%s", in.line, name)
						}
						if name == "index" && i+1 < len(f) {
							out[f[i+1]] = true
						}
					}
				}
			}
		}
		if s.name != "" {
			produced[s.name] = out
		}
	}

	img := &imageFacts{files: map[string]bool{}, env: map[string]string{}}
	for _, in := range final.instrs {
		switch in.cmd {
		case "HEALTHCHECK":
			t.Errorf("Dockerfile line %d: HEALTHCHECK; probes are the orchestrator's job", in.line)
		case "COPY":
			opts, srcs, dst := copyArgs(in.args)
			from, ok := produced[opts["from"]]
			if !ok {
				t.Errorf("Dockerfile line %d: COPY --from=%q is not an earlier named stage", in.line, opts["from"])
				continue
			}
			for _, src := range srcs {
				if !from[src] {
					t.Errorf("Dockerfile line %d: COPY %s, which stage %s does not produce (it produces %v)", in.line, src, opts["from"], from)
				}
				if strings.HasSuffix(dst, "/") {
					img.files[dst+path.Base(src)] = true
				} else {
					img.files[dst] = true
				}
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.args), &img.entrypoint); err != nil {
				t.Errorf("Dockerfile line %d: ENTRYPOINT %s is not the exec (JSON) form: %v", in.line, in.args, err)
			}
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				img.env[k] = v
			}
		case "EXPOSE":
			p, err := strconv.Atoi(strings.TrimSuffix(in.args, "/tcp"))
			if err != nil {
				t.Errorf("Dockerfile line %d: EXPOSE %s", in.line, in.args)
			}
			img.port = p
		case "USER":
			img.user = in.args
		}
	}

	if len(img.entrypoint) == 0 || !img.files[img.entrypoint[0]] || path.Base(img.entrypoint[0]) != "searchd" {
		t.Errorf("ENTRYPOINT %q is not the searchd binary the image holds (%v)", img.entrypoint, img.files)
	}
	if !img.files[img.env["SEARCH_INDEX"]] {
		t.Errorf("ENV SEARCH_INDEX=%q is not the index directory the image holds (%v)", img.env["SEARCH_INDEX"], img.files)
	}
	wantPort := portOf(t, svc.searchdFlags["addr"])
	if img.port != wantPort {
		t.Errorf("EXPOSE %d, want searchd's default port %d", img.port, wantPort)
	}
	if a := img.env["SEARCH_ADDR"]; a != "" && portOf(t, a) != wantPort {
		t.Errorf("ENV SEARCH_ADDR=%s, but EXPOSE %d", a, img.port)
	}
	uid, _, _ := strings.Cut(img.user, ":")
	if uid == "" || uid == "root" || uid == "0" {
		t.Errorf("USER %q: the image must not run as root", img.user)
	}
	if _, err := strconv.Atoi(uid); err != nil {
		t.Errorf("USER %q: use a numeric uid, so Kubernetes' runAsNonRoot can verify it", img.user)
	}
	return img
}

// checkCompose checks deploy/compose.yaml: the files it mounts exist, it
// builds the Dockerfile, and the addresses in the Prometheus and Grafana
// configuration name its services on the service's default port.
func checkCompose(t *testing.T, svc service) {
	var compose struct {
		Services map[string]struct {
			Build *struct {
				Context    string `json:"context"`
				Dockerfile string `json:"dockerfile"`
			} `json:"build"`
			Image   string   `json:"image"`
			Ports   []string `json:"ports"`
			Volumes []string `json:"volumes"`
		} `json:"services"`
		Volumes map[string]any `json:"volumes"`
	}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(deployDir, "compose.yaml")), &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"searchd", "prometheus", "alertmanager", "grafana"} {
		if _, ok := compose.Services[name]; !ok {
			t.Errorf("compose.yaml has no service %s", name)
		}
	}
	defaultVar := regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}$`)
	mounts := map[string]map[string]string{} // service -> container path -> host path
	for name, s := range compose.Services {
		if s.Build != nil {
			dockerfile := filepath.Join(deployDir, s.Build.Context, s.Build.Dockerfile)
			if !fileExists(dockerfile) || !fileExists(filepath.Join(deployDir, s.Build.Context, "go.mod")) {
				t.Errorf("service %s builds %s in context %s, which is not the repository root with the Dockerfile", name, s.Build.Dockerfile, s.Build.Context)
			}
		}
		mounts[name] = map[string]string{}
		for _, v := range s.Volumes {
			src, dst, ok := splitVolume(v)
			if !ok {
				t.Errorf("service %s: volume %q has no container path", name, v)
				continue
			}
			if m := defaultVar.FindStringSubmatch(src); m != nil {
				src = m[1]
			}
			mounts[name][dst] = src
			if strings.HasPrefix(src, ".") {
				if !fileExists(filepath.Join(deployDir, src)) {
					t.Errorf("service %s mounts %s, which does not exist in deploy/", name, src)
				}
			} else if _, ok := compose.Volumes[src]; !ok {
				t.Errorf("service %s mounts volume %q, which is not declared", name, src)
			}
		}
	}
	wantPort := portOf(t, svc.searchdFlags["addr"])
	if ports := compose.Services["searchd"].Ports; len(ports) != 1 || !strings.HasSuffix(ports[0], ":"+strconv.Itoa(wantPort)) {
		t.Errorf("searchd publishes %v, want the container's port %d", ports, wantPort)
	}

	// Prometheus reads the rule files it is given, scrapes searchd and sends
	// to Alertmanager by their compose names.
	prom := mounts["prometheus"]
	if prom["/etc/prometheus/prometheus.yml"] != "./prometheus/prometheus.yml" {
		t.Fatalf("prometheus does not mount ./prometheus/prometheus.yml at /etc/prometheus/prometheus.yml: %v", prom)
	}
	var pcfg struct {
		RuleFiles []string `json:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `json:"targets"`
				} `json:"static_configs"`
			} `json:"alertmanagers"`
		} `json:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			MetricsPath   string `json:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(deployDir, "prometheus", "prometheus.yml")), &pcfg); err != nil {
		t.Fatal(err)
	}
	for _, rf := range pcfg.RuleFiles {
		if want := "./prometheus/" + rf; prom[path.Join("/etc/prometheus", rf)] != want {
			t.Errorf("prometheus.yml loads %s, but compose does not mount %s beside the config", rf, want)
		}
	}
	checkTarget := func(what, target, service string, port int) {
		host, p, err := net.SplitHostPort(target)
		if err != nil || host != service || p != strconv.Itoa(port) {
			t.Errorf("%s target %q, want %s:%d (the compose service and its port)", what, target, service, port)
		}
	}
	if len(pcfg.ScrapeConfigs) != 1 || pcfg.ScrapeConfigs[0].JobName != "searchd" || len(pcfg.ScrapeConfigs[0].StaticConfigs) != 1 {
		t.Fatalf("prometheus.yml scrape_configs %+v, want one job searchd with one static config", pcfg.ScrapeConfigs)
	}
	for _, target := range pcfg.ScrapeConfigs[0].StaticConfigs[0].Targets {
		checkTarget("scrape", target, "searchd", wantPort)
	}
	mustGet(t, svc.base+pcfg.ScrapeConfigs[0].MetricsPath, 200)
	for _, am := range pcfg.Alerting.Alertmanagers {
		for _, sc := range am.StaticConfigs {
			for _, target := range sc.Targets {
				checkTarget("alertmanager", target, "alertmanager", 9093)
			}
		}
	}

	// Grafana: the data source is the compose Prometheus, and the dashboard
	// is mounted where the provider looks.
	var ds struct {
		Datasources []struct {
			URL string `json:"url"`
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(deployDir, "grafana", "provisioning", "datasources", "prometheus.yml")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("Grafana data sources %+v, want http://prometheus:9090", ds.Datasources)
	}
	var providers struct {
		Providers []struct {
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(deployDir, "grafana", "provisioning", "dashboards", "searchd.yml")), &providers); err != nil {
		t.Fatal(err)
	}
	if len(providers.Providers) != 1 {
		t.Fatalf("dashboard providers %+v, want one", providers.Providers)
	}
	dir := providers.Providers[0].Options.Path
	found := false
	for dst, src := range mounts["grafana"] {
		if path.Dir(dst) == dir && src == "./grafana/dashboard.json" {
			found = true
		}
	}
	if !found {
		t.Errorf("grafana does not mount ./grafana/dashboard.json into the provider's folder %s: %v", dir, mounts["grafana"])
	}
	for _, p := range []string{"/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"} {
		if src := mounts["grafana"][p]; !strings.HasPrefix(src, "./grafana/provisioning/") {
			t.Errorf("grafana does not mount our provisioning at %s", p)
		}
	}
}

// splitVolume splits a short-syntax volume "SRC:DST[:MODE]", where SRC may
// be a ${VAR:-default} holding colons of its own.
func splitVolume(v string) (src, dst string, ok bool) {
	rest := v
	if strings.HasPrefix(v, "${") {
		end := strings.Index(v, "}")
		if end < 0 {
			return "", "", false
		}
		src, rest = v[:end+1], v[end+1:]
		if !strings.HasPrefix(rest, ":") {
			return "", "", false
		}
		rest = rest[1:]
	} else {
		var found bool
		if src, rest, found = strings.Cut(v, ":"); !found {
			return "", "", false
		}
	}
	dst, _, _ = strings.Cut(rest, ":")
	return src, dst, dst != ""
}
