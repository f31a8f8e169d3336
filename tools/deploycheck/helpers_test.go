package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite deploy/k8s/prometheusrule.yaml from the rule files")

// The tests run in tools/deploycheck.
const (
	repoRoot  = "../.."
	deployDir = "../../deploy"
)

// mustBuild builds the command in repoRoot/pkg into a temporary directory
// the way the Dockerfile does (static, CGO off) and returns its path.
func mustBuild(tb testing.TB, pkg string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./%s: %v\n%s", pkg, err, b)
	}
	return out
}

// cleanEnv is the test process's environment without the service's own
// variables, so a developer's SEARCH_ADDR or SEARCH_INDEX cannot leak in.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SEARCH_") {
			env = append(env, kv)
		}
	}
	return env
}

// flagUsage matches one flag of Go's flag.PrintDefaults output:
//
//	-addr string
//	  	listen address (default ":8080")
var flagUsage = regexp.MustCompile(`(?m)^  -([A-Za-z0-9_.-]+)(?: [^\n]*)?\n((?:(?:    \t|\t)[^\n]*\n?)*)`)

var defaultValue = regexp.MustCompile(`\(default ("(?:[^"\\]|\\.)*"|[^)]*)\)`)

// mustFlags runs bin -h and returns its flags, each with its default value
// ("" when the usage shows none).
func mustFlags(tb testing.TB, bin string) map[string]string {
	tb.Helper()
	cmd := exec.Command(bin, "-h")
	cmd.Env = cleanEnv()
	// -h exits non-zero with some flag set configurations; the usage text is
	// what matters.
	out, _ := cmd.CombinedOutput()
	flags := map[string]string{}
	for _, m := range flagUsage.FindAllStringSubmatch(string(out), -1) {
		def := ""
		if d := defaultValue.FindStringSubmatch(m[2]); d != nil {
			def = d[1]
			if u, err := strconv.Unquote(def); err == nil {
				def = u
			}
		}
		flags[m[1]] = def
	}
	if len(flags) == 0 {
		tb.Fatalf("%s -h printed no flags:\n%s", bin, out)
	}
	return flags
}

// mustFreeAddr returns a loopback address nothing listens on right now.
func mustFreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// mustStartSearchd runs the searchd binary with args on a free loopback
// port (with no args: the in-memory index of the seeds), waits until
// /readyz answers 200 and returns its base URL. The process is interrupted,
// by its PID, when the test ends.
func mustStartSearchd(tb testing.TB, bin string, args ...string) string {
	tb.Helper()
	addr := mustFreeAddr(tb)
	logPath := filepath.Join(tb.TempDir(), "searchd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start searchd: %v", err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	})

	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			tb.Fatalf("searchd exited before it was ready: %v\n%s", waitErr, log)
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			tb.Fatalf("searchd on %s was not ready within a minute:\n%s", addr, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustGet fetches url and fails unless the status is want.
func mustGet(tb testing.TB, url string, want int) []byte {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("GET %s: status %d, want %d; body:\n%s", url, resp.StatusCode, want, body)
	}
	return body
}

// mustRead reads a file of the repository.
func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// portOf returns the port of a listen address such as ":8080" or
// "0.0.0.0:8080".
func portOf(tb testing.TB, addr string) int {
	tb.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("listen address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		tb.Fatalf("listen address %q: port %q is not a number", addr, p)
	}
	return n
}

// commandsPresent reports the first of the named programs missing on PATH.
func commandsPresent(names ...string) error {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return fmt.Errorf("%s is not installed (.ci/install.sh installs it from Debian)", n)
		}
	}
	return nil
}

// runOutput runs a command in the repository root and returns its combined
// output, failing the test on a non-zero exit.
func runOutput(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
