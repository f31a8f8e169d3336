package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// slowPut is a PUT whose body is sent in two halves on a raw connection,
// so the request is surely in the handler (reading its body) when the test
// sends SIGTERM between the halves.
type slowPut struct {
	conn net.Conn
	rest string
	id   string
}

func startSlowPut(t *testing.T, addr, key, id string) *slowPut {
	t.Helper()
	body := fmt.Sprintf(`{"kind":"project","title":"Graceful shutdown %s","description":"Sent in two halves around SIGTERM."}`, id)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	half := len(body) / 2
	head := fmt.Sprintf("PUT /v1/documents/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", id, addr, key, len(body), body[:half])
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	return &slowPut{conn: conn, rest: body[half:], id: id}
}

// finish sends the rest of the body slowly and reads the whole answer.
func (p *slowPut) finish() (int, error) {
	for i := 0; i < len(p.rest); i += 8 {
		if _, err := io.WriteString(p.conn, p.rest[i:min(i+8, len(p.rest))]); err != nil {
			return 0, fmt.Errorf("send the rest of the body: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = p.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(p.conn), nil)
	if err != nil {
		return 0, fmt.Errorf("read the answer: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("read the body: %w", err)
	}
	if !json.Valid(b) {
		return resp.StatusCode, fmt.Errorf("body is not JSON: %q", b)
	}
	return resp.StatusCode, nil
}

// TestGracefulShutdown sends SIGTERM while searches run and writes are half
// sent: the service stops accepting connections at once, finishes every
// request it has accepted (the writes complete and survive), answers no
// request with an error or a cut-off body, and exits cleanly within its
// shutdown timeout.
func TestGracefulShutdown(t *testing.T) {
	const key = "graceful-key"
	dir := filepath.Join(t.TempDir(), "index")
	c := startChild(t, []string{"-index", dir, "-shutdown-timeout", "20s"}, "SEARCH_API_KEY="+key)
	addr := strings.TrimPrefix(c.base, "http://")

	// Searches on keep-alive connections until the service goes away.
	var stop atomic.Bool
	var terminated atomic.Bool
	var ok, bad, goneBefore atomic.Int64
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			for i := 0; !stop.Load(); i++ {
				resp, err := cl.Get(fmt.Sprintf("%s/v1/search?q=%s&facets=country", c.base, []string{"mining", "gender", "migrant", "union"}[(w+i)%4]))
				if err != nil {
					if !terminated.Load() {
						goneBefore.Add(1)
						mu.Lock()
						problems = append(problems, "before SIGTERM: "+err.Error())
						mu.Unlock()
					}
					if isGone(err) {
						return
					}
					continue
				}
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr != nil || resp.StatusCode != 200 || !json.Valid(b) {
					bad.Add(1)
					mu.Lock()
					problems = append(problems, fmt.Sprintf("status %d, read error %v, body %.100q", resp.StatusCode, rerr, b))
					mu.Unlock()
					continue
				}
				ok.Add(1)
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	time.Sleep(300 * time.Millisecond)

	puts := []*slowPut{startSlowPut(t, addr, key, "graceful-a"), startSlowPut(t, addr, key, "graceful-b"), startSlowPut(t, addr, key, "graceful-c")}
	// Give the server time to read the headers and enter the handlers.
	time.Sleep(300 * time.Millisecond)
	terminated.Store(true)
	start := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// New connections are refused while the accepted requests finish.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		conn.Close()
	}
	if !refused {
		t.Error("the service still accepts connections 5 s after SIGTERM")
	}
	select {
	case <-c.exited:
		t.Fatalf("searchd exited with requests in flight: %v\n%s", c.err, c.stdout)
	default:
	}

	var pw sync.WaitGroup
	codes := make([]int, len(puts))
	errs := make([]error, len(puts))
	for i, p := range puts {
		pw.Go(func() { codes[i], errs[i] = p.finish() })
	}
	pw.Wait()
	for i, p := range puts {
		if errs[i] != nil || codes[i] != 200 {
			t.Errorf("in-flight PUT %s: status %d, %v", p.id, codes[i], errs[i])
		}
	}
	select {
	case <-c.exited:
	case <-time.After(25 * time.Second):
		t.Fatalf("searchd still running 25 s after SIGTERM with a 20 s shutdown timeout\n%s", c.stdout)
	}
	took := time.Since(start)
	stop.Store(true)
	wg.Wait()
	if c.err != nil || !c.stopped() {
		t.Errorf("exit: %v; want a clean exit and a stopped line\nstdout:\n%s\nstderr:\n%s", c.err, c.stdout, c.stderr)
	}
	if bad.Load() > 0 || goneBefore.Load() > 0 {
		t.Errorf("%d searches answered badly, %d failed before SIGTERM: %v", bad.Load(), goneBefore.Load(), problems)
	}
	if ok.Load() == 0 {
		t.Error("no search succeeded; the load never ran")
	}
	t.Logf("SIGTERM to exit: %v; %d searches answered, none cut off", took.Round(time.Millisecond), ok.Load())

	again := startChild(t, []string{"-index", dir})
	for _, p := range puts {
		if code, b := again.mustDo(t, "GET", "/v1/documents/"+p.id, "", nil); code != 200 {
			t.Errorf("the write finished during shutdown is lost: %s: %d %s", p.id, code, b)
		}
	}
}

// TestShutdownTimeoutBoundsExit: a request that never finishes does not
// keep the process alive past -shutdown-timeout.
func TestShutdownTimeoutBoundsExit(t *testing.T) {
	const key = "k"
	c := startChild(t, []string{"-shutdown-timeout", "1s"}, "SEARCH_API_KEY="+key)
	stalled := startSlowPut(t, strings.TrimPrefix(c.base, "http://"), key, "never-finished")
	_ = stalled
	time.Sleep(300 * time.Millisecond)
	took := c.signal(t, syscall.SIGTERM, 15*time.Second)
	if c.err == nil {
		t.Errorf("exit status 0 though a request was cut off")
	}
	if !strings.Contains(c.stderr.String(), "cut off") {
		t.Errorf("stderr does not say requests were cut off:\n%s", c.stderr)
	}
	t.Logf("exited %v after SIGTERM with -shutdown-timeout 1s", took.Round(time.Millisecond))
}
