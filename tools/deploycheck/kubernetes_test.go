package main

import (
	"math"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// manifests are the objects kubectl kustomize deploy/k8s renders, decoded
// into their API types.
type manifests struct {
	deployments     []appsv1.Deployment
	services        []corev1.Service
	configMaps      []corev1.ConfigMap
	hpas            []autoscalingv2.HorizontalPodAutoscaler
	pdbs            []policyv1.PodDisruptionBudget
	serviceMonitors []monitoringv1.ServiceMonitor
	prometheusRules []monitoringv1.PrometheusRule
}

// decodeStrict decodes one rendered object into its API type, refusing
// unknown and duplicate fields: a misspelt or misplaced key (readinesProbe,
// a probe under the pod instead of the container) fails here instead of
// being silently dropped by the API server.
func decodeStrict[T any](tb testing.TB, doc []byte, list *[]T) {
	tb.Helper()
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		tb.Errorf("rendered object does not decode strictly: %v\n%s", err, doc)
		return
	}
	*list = append(*list, obj)
}

func mustRender(tb testing.TB) *manifests {
	tb.Helper()
	out, err := exec.Command("kubectl", "kustomize", filepath.Join(deployDir, "k8s")).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			tb.Fatalf("kubectl kustomize deploy/k8s: %v\n%s", err, ee.Stderr)
		}
		tb.Fatalf("kubectl kustomize deploy/k8s: %v", err)
	}
	var m manifests
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			tb.Fatalf("rendered object: %v\n%s", err, doc)
		}
		b := []byte(doc)
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			decodeStrict(tb, b, &m.deployments)
		case "v1 Service":
			decodeStrict(tb, b, &m.services)
		case "v1 ConfigMap":
			decodeStrict(tb, b, &m.configMaps)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			decodeStrict(tb, b, &m.hpas)
		case "policy/v1 PodDisruptionBudget":
			decodeStrict(tb, b, &m.pdbs)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			decodeStrict(tb, b, &m.serviceMonitors)
		case "monitoring.coreos.com/v1 PrometheusRule":
			decodeStrict(tb, b, &m.prometheusRules)
		default:
			tb.Errorf("rendered an object of an unexpected type %s %s; add its check", tm.APIVersion, tm.Kind)
		}
	}
	for what, n := range map[string]int{
		"Deployment": len(m.deployments), "Service": len(m.services), "ConfigMap": len(m.configMaps),
		"HorizontalPodAutoscaler": len(m.hpas), "PodDisruptionBudget": len(m.pdbs),
		"ServiceMonitor": len(m.serviceMonitors), "PrometheusRule": len(m.prometheusRules),
	} {
		if n != 1 {
			tb.Fatalf("rendered %d %s objects, want 1", n, what)
		}
	}
	return &m
}

// flagValues reads "-name value" and "-name=value" pairs from container
// args and fails on a flag the binary does not have.
func flagValues(tb testing.TB, who string, args []string, known map[string]string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, isFlag := strings.CutPrefix(args[i], "-")
		if !isFlag {
			tb.Errorf("%s: argument %q is not a flag", who, args[i])
			continue
		}
		name = strings.TrimPrefix(name, "-")
		if k, v, ok := strings.Cut(name, "="); ok {
			name, out[k] = k, v
		} else if i+1 < len(args) {
			out[name] = args[i+1]
			i++
		}
		if _, ok := known[name]; !ok {
			tb.Errorf("%s: flag -%s is not one the binary has", who, name)
		}
	}
	return out
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func containerPort(tb testing.TB, c corev1.Container, port intstr.IntOrString) int32 {
	tb.Helper()
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	tb.Errorf("container %s has no port named %q", c.Name, port.StrVal)
	return 0
}

// mountedVolume returns the pod volume mounted at dir (or a parent of it)
// in container c.
func mountedVolume(spec corev1.PodSpec, c corev1.Container, dir string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/") {
			for i := range spec.Volumes {
				if spec.Volumes[i].Name == m.Name {
					return &spec.Volumes[i]
				}
			}
		}
	}
	return nil
}

// checkKubernetes renders deploy/k8s with kubectl, decodes every object
// strictly into the Kubernetes and Prometheus Operator API types, and checks
// the objects against the binaries, the image and the running service.
func checkKubernetes(t *testing.T, svc service, img *imageFacts) {
	if err := commandsPresent("kubectl"); err != nil {
		t.Skip(err)
	}
	m := mustRender(t)
	d := m.deployments[0]
	pod := d.Spec.Template.Spec
	podLabels := labels.Set(d.Spec.Template.Labels)

	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("Deployment replicas unset or below 2, want at least 2")
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("Deployment selector %v does not match its pod labels %v", d.Spec.Selector, podLabels)
	}
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("pod securityContext.runAsNonRoot is not true")
	} else if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("pod securityContext.runAsUser is unset or 0, want the image's non-root uid")
	} else if uid, _, _ := strings.Cut(img.user, ":"); uid != "" && uid != strconv.FormatInt(*sc.RunAsUser, 10) {
		t.Errorf("pod runs as uid %d, the image as %s", *sc.RunAsUser, img.user)
	}

	all := append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...)
	for _, c := range all {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s: readOnlyRootFilesystem is not true", c.Name)
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: allowPrivilegeEscalation is not false", c.Name)
		}
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[res]
			lim, hasLim := c.Resources.Limits[res]
			if !hasReq || !hasLim {
				t.Errorf("container %s: %s request and limit are both required", c.Name, res)
			} else if req.Cmp(lim) > 0 {
				t.Errorf("container %s: %s request %s exceeds the limit %s", c.Name, res, req.String(), lim.String())
			}
		}
		if !strings.HasPrefix(c.Image, "searchd") {
			t.Errorf("container %s runs image %s, want the searchd image", c.Name, c.Image)
		}
	}

	if len(pod.Containers) != 1 {
		t.Fatalf("pod has %d containers, want searchd alone", len(pod.Containers))
	}
	server := pod.Containers[0]
	if len(server.Command) > 0 {
		t.Errorf("container %s overrides the image's ENTRYPOINT with %v", server.Name, server.Command)
	}
	args := flagValues(t, "container "+server.Name, server.Args, svc.searchdFlags)

	// The listen address: flag, then environment, then the binary's default.
	addr := svc.searchdFlags["addr"]
	if v := envValue(server, "SEARCH_ADDR"); v != "" {
		addr = v
	}
	if v, ok := args["addr"]; ok {
		addr = v
	}
	port := portOf(t, addr)
	if port != portOf(t, svc.searchdFlags["addr"]) || port != img.port {
		t.Errorf("searchd listens on %s; want searchd's default port %s, which the image exposes (%d)", addr, svc.searchdFlags["addr"], img.port)
	}
	if len(server.Ports) != 1 || server.Ports[0].ContainerPort != int32(port) || server.Ports[0].Name != "http" {
		t.Errorf("container ports %+v, want one named http on %d", server.Ports, port)
	}

	// Probes: the real routes, answering 200 on the running service.
	probes := []struct {
		name  string
		probe *corev1.Probe
		want  string
	}{
		{"readinessProbe", server.ReadinessProbe, "/readyz"},
		{"livenessProbe", server.LivenessProbe, "/healthz"},
		{"startupProbe", server.StartupProbe, "/healthz"},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s is not an HTTP GET", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.want {
			t.Errorf("%s path %s, want %s", p.name, p.probe.HTTPGet.Path, p.want)
		}
		if got := containerPort(t, server, p.probe.HTTPGet.Port); got != int32(port) {
			t.Errorf("%s port %d, want %d", p.name, got, port)
		}
		mustGet(t, svc.base+p.probe.HTTPGet.Path, 200)
	}

	// Graceful shutdown fits in the grace period: the preStop sleep, then
	// the service's shutdown timeout.
	shutdown, err := time.ParseDuration(svc.searchdFlags["shutdown-timeout"])
	if err != nil {
		t.Fatalf("searchd -shutdown-timeout default %q: %v", svc.searchdFlags["shutdown-timeout"], err)
	}
	if v, ok := args["shutdown-timeout"]; ok {
		if shutdown, err = time.ParseDuration(v); err != nil {
			t.Fatalf("-shutdown-timeout %q: %v", v, err)
		}
	}
	var preStop time.Duration
	if l := server.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
		preStop = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
	}
	need := int64(math.Ceil((shutdown + preStop).Seconds()))
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if g := pod.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if grace < need {
		t.Errorf("terminationGracePeriodSeconds %d, want at least %d (preStop %s + shutdown timeout %s)", grace, need, preStop, shutdown)
	}

	// The index: one emptyDir per pod, built by the init container, served
	// by searchd.
	indexDir := envValue(server, "SEARCH_INDEX")
	if v, ok := args["index"]; ok {
		indexDir = v
	}
	if indexDir == "" {
		t.Fatalf("searchd is given no -index or SEARCH_INDEX; it would serve an in-memory index")
	}
	if v := mountedVolume(pod, server, indexDir); v == nil || v.EmptyDir == nil {
		t.Errorf("searchd's index %s is not on an emptyDir volume", indexDir)
	}
	if len(pod.InitContainers) != 1 {
		t.Fatalf("pod has %d init containers, want build-index", len(pod.InitContainers))
	}
	build := pod.InitContainers[0]
	if len(build.Command) != 1 || !img.files[build.Command[0]] || path.Base(build.Command[0]) != "indexer" {
		t.Errorf("init container %s runs %v, want the indexer binary the image holds (%v)", build.Name, build.Command, img.files)
	}
	buildArgs := flagValues(t, "init container "+build.Name, build.Args, svc.indexerFlags)
	if buildArgs["index"] != indexDir {
		t.Errorf("init container builds the index in %q, searchd serves %q", buildArgs["index"], indexDir)
	}
	if v := mountedVolume(pod, build, indexDir); v == nil || v.EmptyDir == nil {
		t.Errorf("init container does not mount the index emptyDir at %s", indexDir)
	}
	input := buildArgs["input"]
	v := mountedVolume(pod, build, input)
	if v == nil || v.ConfigMap == nil {
		t.Fatalf("init container's -input %q is not on a ConfigMap volume", input)
	}
	cm := m.configMaps[0]
	if v.ConfigMap.Name != cm.Name {
		t.Errorf("corpus volume uses ConfigMap %s, kustomize generated %s", v.ConfigMap.Name, cm.Name)
	}
	if _, ok := cm.Data[path.Base(input)]; !ok {
		t.Errorf("ConfigMap %s has no key %s for -input %s", cm.Name, path.Base(input), input)
	} else if string(mustRead(t, filepath.Join(deployDir, "k8s", "corpus", "documents.jsonl"))) != cm.Data[path.Base(input)] {
		t.Errorf("ConfigMap %s does not hold k8s/corpus/documents.jsonl", cm.Name)
	}

	// Service, autoscaler, disruption budget and ServiceMonitor point at
	// the Deployment's pods and port.
	s := m.services[0]
	if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) || len(s.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not match the pods %v", s.Spec.Selector, podLabels)
	}
	if len(s.Spec.Ports) != 1 || containerPort(t, server, s.Spec.Ports[0].TargetPort) != int32(port) {
		t.Errorf("Service ports %+v do not reach the container's port %d", s.Spec.Ports, port)
	}
	h := m.hpas[0]
	if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Name {
		t.Errorf("HPA scales %s %s, want Deployment %s", h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, d.Name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		t.Errorf("HPA minReplicas unset or below 2, or maxReplicas %d below it", h.Spec.MaxReplicas)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
		t.Errorf("HPA metrics %+v, want CPU", h.Spec.Metrics)
	}
	p := m.pdbs[0]
	if psel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector); err != nil || !psel.Matches(podLabels) {
		t.Errorf("PodDisruptionBudget selector %v does not match the pods", p.Spec.Selector)
	}
	floor := 1
	if h.Spec.MinReplicas != nil {
		floor = int(*h.Spec.MinReplicas)
	}
	if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() < 1 || p.Spec.MinAvailable.IntValue() >= floor {
		t.Errorf("PodDisruptionBudget minAvailable %v, want at least 1 and below the HPA floor", p.Spec.MinAvailable)
	}
	sm := m.serviceMonitors[0]
	if smsel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector); err != nil || !smsel.Matches(labels.Set(s.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not match the Service's labels %v", sm.Spec.Selector, s.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != s.Spec.Ports[0].Name {
		t.Errorf("ServiceMonitor endpoints %+v, want the Service's port %q", sm.Spec.Endpoints, s.Spec.Ports[0].Name)
	} else {
		mustGet(t, svc.base+sm.Spec.Endpoints[0].Path, 200)
	}
	// The rules select job="searchd", and the operator names the job after
	// the Service unless jobLabel says otherwise.
	if s.Name != "searchd" || sm.Spec.JobLabel != "" {
		t.Errorf("Service %q, ServiceMonitor jobLabel %q: the job label would not be searchd, which the rules select", s.Name, sm.Spec.JobLabel)
	}
}
