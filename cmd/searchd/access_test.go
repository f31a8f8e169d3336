package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKeyNeverLogged runs the service with the key from the environment
// and from the flag, sends writes with the right and wrong keys, and checks
// that neither appears in anything the process writes, including the usage
// text printed for a bad flag.
func TestKeyNeverLogged(t *testing.T) {
	const key, guess = "s3cret-key-of-the-test", "guessed-key-of-an-attacker"
	starts := map[string]struct {
		args []string
		env  map[string]string
	}{
		"environment": {nil, map[string]string{"SEARCH_API_KEY": key}},
		"flag":        {[]string{"-api-key", key}, nil},
	}
	for name, st := range starts {
		t.Run(name, func(t *testing.T) {
			s := mustRun(t, st.args, st.env)
			for _, auth := range []string{"Bearer " + key, "Bearer " + guess, guess, "Basic " + key} {
				h := http.Header{"Authorization": {auth}}
				s.request(t, "PUT", "/v1/documents/logged", `{"kind":"project","title":"Logged"}`, h)
				s.request(t, "POST", "/v1/documents", "{\"id\":\"x\",\"kind\":\"project\",\"title\":\"X\"}\nnot json", h)
				s.request(t, "DELETE", "/v1/documents/none", "", h)
				s.request(t, "GET", "/v1/search?q=logged", "", h)
			}
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			out := s.stdout.String()
			if !strings.Contains(out, `"route":"/v1/documents/{id}"`) {
				t.Fatalf("the requests were not logged; the check would prove nothing:\n%s", out)
			}
			for _, secret := range []string{key, guess} {
				if strings.Contains(out, secret) {
					t.Errorf("%q appears in the log:\n%s", secret, out)
				}
			}
		})
	}
	t.Run("usage text", func(t *testing.T) {
		for _, args := range [][]string{{"-h"}, {"-no-such-flag"}, {"-search-timeout", "soon"}} {
			var stderr strings.Builder
			_ = serve(context.Background(), args, func(k string) string {
				if k == "SEARCH_API_KEY" {
					return key
				}
				return ""
			}, io.Discard, &stderr, nil)
			if !strings.Contains(stderr.String(), "-api-key") {
				t.Fatalf("%v printed no usage; the check would prove nothing:\n%s", args, stderr.String())
			}
			if strings.Contains(stderr.String(), key) {
				t.Errorf("%v prints the key from SEARCH_API_KEY:\n%s", args, stderr.String())
			}
		}
	})
}

// TestSlowClientCutOff holds a connection open sending one byte of header a
// second; the server's header timeout must close it.
func TestSlowClientCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the server's 5 s header timeout; skipped with -short")
	}
	t.Parallel()
	s := mustRun(t, nil, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1))
		for err == nil {
			_, err = conn.Read(make([]byte, 1))
		}
		closed <- err
	}()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-closed:
			took := time.Since(start)
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Errorf("the connection ended with %v, want the server closing it", err)
			}
			t.Logf("a client sending one header byte a second was cut off after %v", took.Round(100*time.Millisecond))
			return
		case <-tick.C:
			if time.Since(start) > 30*time.Second {
				t.Fatal("a client sending one byte a second is still connected after 30 s")
			}
			// Writes may start failing once the server has closed; the
			// reader reports that.
			_, _ = io.WriteString(conn, "a")
		}
	}
}

// TestRequestHeaderSizeLimited: headers over the server's limit are refused
// with 431 before any handler runs; large but reasonable ones pass.
func TestRequestHeaderSizeLimited(t *testing.T) {
	s := mustRun(t, nil, nil)
	addr := strings.TrimPrefix(s.base, "http://")
	status := func(headerBytes int) int {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		req := fmt.Sprintf("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n", strings.Repeat("b", headerBytes))
		// The server may answer and close before it has read everything.
		go func() { _, _ = io.WriteString(conn, req) }()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%d-byte header: %v", headerBytes, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(64 << 10); got != 200 {
		t.Errorf("a 64 KiB header: %d, want 200", got)
	}
	if got := status(256 << 10); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 256 KiB header: %d, want 431", got)
	}
}
