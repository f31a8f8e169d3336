package main

// Tests of the built binary as a child process: what an operator's signals
// (SIGKILL, SIGTERM) do to it. They build searchd once per run of the
// package's tests.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpower/labor-search/internal/testkit"
)

// binDir holds the binary built for the child-process tests; TestMain
// removes it when they are done.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "searchd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildSearchd builds this package's binary once for the whole test run,
// on the first test that needs it.
var buildSearchd = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "searchd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func searchdBinary(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs searchd as a child process; skipped with -short")
	}
	bin, err := buildSearchd()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// child is a searchd process started by startChild.
type child struct {
	cmd    *exec.Cmd
	base   string
	stdout *testkit.SyncBuffer
	stderr *testkit.SyncBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, once exited is closed
	ready  map[string]any
}

// startChild runs searchd with args and env (added to a minimal
// environment) on a free loopback port and waits for its ready line.
func startChild(tb testing.TB, args []string, env ...string) *child {
	tb.Helper()
	bin := searchdBinary(tb)
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	c := &child{cmd: cmd, stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	readyLines := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = c.stdout.Write(append(append([]byte(nil), line...), '\n'))
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "ready" {
				readyLines <- m
			}
		}
		_, _ = io.Copy(c.stdout, pipe)
		c.err = cmd.Wait()
		close(c.exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	select {
	case m := <-readyLines:
		c.ready = m
		c.base = "http://" + m["addr"].(string)
	case <-c.exited:
		tb.Fatalf("searchd exited before it was ready: %v\nstdout:\n%s\nstderr:\n%s", c.err, c.stdout, c.stderr)
	case <-time.After(2 * time.Minute):
		tb.Fatalf("searchd not ready after 2 minutes\nstdout:\n%s\nstderr:\n%s", c.stdout, c.stderr)
	}
	return c
}

// signal sends sig and waits for the process to exit, at most limit.
func (c *child) signal(tb testing.TB, sig os.Signal, limit time.Duration) (took time.Duration) {
	tb.Helper()
	start := time.Now()
	if err := c.cmd.Process.Signal(sig); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-c.exited:
		return time.Since(start)
	case <-time.After(limit):
		tb.Fatalf("searchd still running %s after %v\nstdout:\n%s\nstderr:\n%s", limit, sig, c.stdout, c.stderr)
		return 0
	}
}

// client has bounded timeouts so a hung service fails the test instead of
// stalling it.
var client = &http.Client{Timeout: 30 * time.Second}

func (c *child) do(method, path, body string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c *child) mustDo(tb testing.TB, method, path, body string, header http.Header) (int, []byte) {
	tb.Helper()
	code, b, err := c.do(method, path, body, header)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return code, b
}

// stopped reports whether the log says the service stopped cleanly.
func (c *child) stopped() bool {
	for line := range strings.SplitSeq(c.stdout.String(), "\n") {
		if strings.Contains(line, `"msg":"stopped"`) {
			return true
		}
	}
	return false
}

// isGone reports an error of a request to a process that has been killed
// or has stopped listening.
func isGone(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF") ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "broken pipe")
}
