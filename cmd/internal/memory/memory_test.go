package memory

import (
	"errors"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func files(m map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		if v, ok := m[path]; ok {
			return []byte(v), nil
		}
		return nil, os.ErrNotExist
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolve(t *testing.T) {
	v2, v1 := "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		files   map[string]string
		want    Budget
		wantErr string
	}{
		{name: "default", want: Budget{512 << 20, "default"}},
		{name: "cgroup v2 unlimited", files: map[string]string{v2: "max\n"}, want: Budget{512 << 20, "default"}},
		{name: "cgroup v2 smaller", files: map[string]string{v2: "268435456\n"}, want: Budget{256 << 20, "cgroup"}},
		{name: "cgroup v2 larger", files: map[string]string{v2: "4294967296\n"}, want: Budget{512 << 20, "default"}},
		{name: "cgroup v1 smaller", files: map[string]string{v1: "314572800\n"}, want: Budget{300 << 20, "cgroup"}},
		{name: "cgroup v1 unlimited", files: map[string]string{v1: "9223372036854771712\n"}, want: Budget{512 << 20, "default"}},
		{name: "flag", flag: "2GiB", want: Budget{2 << 30, "-memory"}},
		{name: "flag above cgroup", flag: "2GiB", files: map[string]string{v2: "1073741824"}, want: Budget{1 << 30, "cgroup"}},
		{name: "GOMEMLIMIT smaller", env: map[string]string{"GOMEMLIMIT": "300MiB"}, want: Budget{300 << 20, "GOMEMLIMIT"}},
		{name: "GOMEMLIMIT larger", env: map[string]string{"GOMEMLIMIT": "8GiB"}, want: Budget{512 << 20, "default"}},
		{name: "bad flag", flag: "lots", wantErr: "not a size"},
		{name: "flag too small", flag: "1MiB", wantErr: "below the minimum"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got, err := Resolve(test.flag, env(test.env), files(test.files))
			if test.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), test.wantErr) {
					t.Fatalf("Resolve() error = %v, want one containing %q", err, test.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(test.want, got); diff != "" {
				t.Errorf("Resolve() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1048576", 1 << 20, false}, {"512MiB", 512 << 20, false}, {"512M", 512 << 20, false},
		{"2GiB", 2 << 30, false}, {"64 KiB", 64 << 10, false}, {"100B", 100, false},
		{"", 0, true}, {"MiB", 0, true}, {"-5MiB", 0, true}, {"5TiB", 0, true}, {"1.5GiB", 0, true},
	}
	for _, test := range tests {
		got, err := ParseBytes(test.in)
		if (err != nil) != test.err || got != test.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, error %v", test.in, got, err, test.want, test.err)
		}
	}
}

func TestStatusField(t *testing.T) {
	status := []byte("Name:\tindexer\nVmPeak:\t 2000000 kB\nVmHWM:\t  345678 kB\nVmRSS:\t  1000 kB\n")
	if got, ok := StatusField(status, "VmHWM"); !ok || got != 345678<<10 {
		t.Errorf("StatusField(VmHWM) = %d, %v; want %d", got, ok, 345678<<10)
	}
	if _, ok := StatusField(status, "VmSwap"); ok {
		t.Error("StatusField found a field that is not there")
	}
	if _, err := os.ReadFile("/proc/self/status"); errors.Is(err, os.ErrNotExist) {
		t.Skip("no /proc")
	}
	if n, ok := PeakRSS(); !ok || n <= 0 {
		t.Errorf("PeakRSS() = %d, %v", n, ok)
	}
}

// TestPlanFor: what is in flight shrinks with the budget.
func TestPlanFor(t *testing.T) {
	small, large := PlanFor(MinBudget), PlanFor(DefaultBudget)
	inflight := func(p Plan) int64 { return int64(p.BatchBytes * p.Writers) }
	if inflight(small) > inflight(large) || small.GCLimit >= large.GCLimit || small.MaxSegmentDocs >= large.MaxSegmentDocs {
		t.Errorf("PlanFor(%d) = %+v is not smaller than PlanFor(%d) = %+v", MinBudget, small, DefaultBudget, large)
	}
	for _, b := range []int64{MinBudget, DefaultBudget, 4 << 30} {
		// A sixth of the budget is left to the binary, stacks and the
		// runtime's overshoot.
		if p := PlanFor(b); p.GCLimit+p.MergeBytes > b*5/6 || int64(p.MaxSegmentDocs)*segmentDocBytes > p.MergeBytes {
			t.Errorf("PlanFor(%d) = %+v: the heap limit and one merge's files exceed five sixths of the budget", b, p)
		}
	}
}

// TestApplyRespectsLowerLimit: Apply lowers the runtime's limit, never
// raises it, and restores what there was.
func TestApplyRespectsLowerLimit(t *testing.T) {
	orig := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(orig)

	debug.SetMemoryLimit(100 << 20) // as GOMEMLIMIT=100MiB would
	restore := Plan{GCLimit: 256 << 20}.Apply()
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Errorf("limit after Apply of a higher plan = %d, want GOMEMLIMIT's %d", got, 100<<20)
	}
	restore()

	debug.SetMemoryLimit(math.MaxInt64)
	restore = Plan{GCLimit: 256 << 20}.Apply()
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Errorf("limit after Apply = %d, want the plan's %d", got, 256<<20)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit after restore = %d, want %d", got, int64(math.MaxInt64))
	}
}
