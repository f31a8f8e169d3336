package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mpower/labor-search/internal/testkit"
)

// from sends a request as if from the client address remote.
func (s *testService) from(tb testing.TB, remote, method, target, body string, header http.Header) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = remote
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

func TestWriteRateLimitPerClient(t *testing.T) {
	clock := testkit.NewClock(testNow)
	s := mustService(t, Config{APIKey: testKey, WriteRate: 2, WriteBurst: 3, Now: clock.Now})
	const a, b = "192.0.2.1:40000", "192.0.2.2:40000"
	put := func(remote, id string, key string) *httptest.ResponseRecorder {
		return s.from(t, remote, http.MethodPut, "/v1/documents/"+id, `{"kind":"project","title":"Limit test"}`, authHeader(key))
	}
	for i := range 3 {
		if rec := put(a, fmt.Sprint("a", i), testKey); rec.Code != 200 {
			t.Fatalf("write %d of the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := put(a, "a3", testKey)
	msg := mustError(t, rec, http.StatusTooManyRequests, CodeRateLimited)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (a token every 0.5 s)", got)
	}
	if !strings.Contains(msg, "retry in 1 s") {
		t.Errorf("message %q does not say when to retry", msg)
	}
	if rec := s.from(t, a, http.MethodGet, "/v1/documents/a3", "", nil); rec.Code != 404 {
		t.Errorf("the refused write happened: GET = %d", rec.Code)
	}
	// Another client has its own bucket, and reads are never limited.
	if rec := put(b, "b0", testKey); rec.Code != 200 {
		t.Errorf("another client's write: %d %s", rec.Code, rec.Body)
	}
	for range 10 {
		if rec := s.from(t, a, http.MethodGet, "/v1/search?q=limit", "", nil); rec.Code != 200 {
			t.Fatalf("a read from the limited client: %d %s", rec.Code, rec.Body)
		}
	}
	// The same client on another port is the same client.
	if rec := put("192.0.2.1:40001", "a4", testKey); rec.Code != 429 {
		t.Errorf("a new connection escaped the limit: %d", rec.Code)
	}
	clock.Advance(500 * time.Millisecond)
	if rec := put(a, "a5", testKey); rec.Code != 200 {
		t.Errorf("after a token refilled: %d %s", rec.Code, rec.Body)
	}
	if rec := put(a, "a6", testKey); rec.Code != 429 {
		t.Errorf("one token refilled, two writes passed: %d", rec.Code)
	}
}

func TestWriteRateLimitSlowsKeyGuessing(t *testing.T) {
	clock := testkit.NewClock(testNow)
	s := mustService(t, Config{APIKey: testKey, WriteRate: 1, WriteBurst: 5, Now: clock.Now})
	const guesser = "198.51.100.7:5555"
	codes := map[int]int{}
	for i := range 100 {
		rec := s.from(t, guesser, http.MethodDelete, "/v1/documents/peru-mining", "", authHeader(fmt.Sprint("guess-", i)))
		codes[rec.Code]++
	}
	if codes[401] != 5 || codes[429] != 95 {
		t.Errorf("statuses of 100 wrong keys = %v, want 5 × 401 then 95 × 429", codes)
	}
}

func TestWriteRateLimitIPv6Networks(t *testing.T) {
	clock := testkit.NewClock(testNow)
	s := mustService(t, Config{APIKey: testKey, WriteRate: 1, WriteBurst: 1, Now: clock.Now})
	del := func(remote string) int {
		return s.from(t, remote, http.MethodDelete, "/v1/documents/none", "", authHeader(testKey)).Code
	}
	if got := del("[2001:db8:1:2::1]:1"); got != 404 {
		t.Fatalf("first write = %d, want 404 (allowed, no such document)", got)
	}
	if got := del("[2001:db8:1:2::ffff]:1"); got != 429 {
		t.Errorf("another address of the same /64 = %d, want 429", got)
	}
	if got := del("[2001:db8:1:3::1]:1"); got != 404 {
		t.Errorf("another /64 = %d, want 404", got)
	}
	if got := del("[::ffff:192.0.2.9]:1"); got != 404 {
		t.Errorf("IPv4-mapped address = %d, want 404", got)
	}
	if got := del("192.0.2.9:2"); got != 429 {
		t.Errorf("the same IPv4 address unmapped = %d, want 429: one client", got)
	}
}

func TestWriteRateLimitOff(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey, WriteRate: -1})
	for i := range 200 {
		if rec := s.from(t, "192.0.2.1:1", http.MethodDelete, "/v1/documents/none", "", authHeader(testKey)); rec.Code != 404 {
			t.Fatalf("write %d with the limit off: %d %s", i, rec.Code, rec.Body)
		}
	}
}

func TestWriteLimiterMemoryIsBounded(t *testing.T) {
	clock := testkit.NewClock(testNow)
	l := newWriteLimiter(1, 2, clock.Now)
	client := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range maxLimitedClients {
		if ok, _ := l.allow(client(i)); !ok {
			t.Fatalf("client %d refused on its first write", i)
		}
	}
	// Every bucket is in use: newcomers share the overflow bucket rather
	// than growing the table.
	okNew := 0
	for i := maxLimitedClients; i < maxLimitedClients+5; i++ {
		if ok, _ := l.allow(client(i)); ok {
			okNew++
		}
	}
	if len(l.clients) != maxLimitedClients || okNew != 2 {
		t.Errorf("%d buckets and %d newcomers let through; want %d and the overflow burst of 2", len(l.clients), okNew, maxLimitedClients)
	}
	// Once the buckets have refilled they are forgotten.
	clock.Advance(3 * time.Second)
	if ok, _ := l.allow("192.0.2.200"); !ok {
		t.Error("a newcomer after the refill was refused")
	}
	if len(l.clients) != 1 {
		t.Errorf("%d buckets kept after all refilled, want only the newcomer's", len(l.clients))
	}
}

// TestUnauthorizedGivesNoHint: whatever is wrong with the key, the answer
// is the same bytes, and it holds nothing of the key.
func TestUnauthorizedGivesNoHint(t *testing.T) {
	s := mustService(t, Config{APIKey: testKey, WriteRate: -1})
	headers := map[string]http.Header{
		"no header":        nil,
		"empty bearer":     {"Authorization": {"Bearer "}},
		"wrong key":        authHeader("wrong"),
		"key prefix":       authHeader(testKey[:len(testKey)-1]),
		"key plus a char":  authHeader(testKey + "x"),
		"key uppercased":   authHeader(strings.ToUpper(testKey)),
		"basic scheme":     {"Authorization": {"Basic " + testKey}},
		"key alone":        {"Authorization": {testKey}},
		"key in X-API-Key": {"X-Api-Key": {testKey}},
		"long key":         authHeader(strings.Repeat("k", 4096)),
	}
	var first string
	for name, h := range headers {
		rec := s.do(t, http.MethodPut, "/v1/documents/x", strings.NewReader(`{"kind":"project","title":"X"}`), h)
		mustError(t, rec, http.StatusUnauthorized, CodeUnauthorized)
		body := rec.Body.String() + fmt.Sprint(rec.Header())
		if first == "" {
			first = rec.Body.String()
		} else if rec.Body.String() != first {
			t.Errorf("%s: body %s differs from %s", name, rec.Body, first)
		}
		if strings.Contains(body, testKey[:6]) || strings.Contains(body, "length") || strings.Contains(body, "wrong") {
			t.Errorf("%s: the answer hints at the key: %s", name, body)
		}
	}
	// The scheme is case-insensitive (RFC 9110), the key is not.
	if rec := s.do(t, http.MethodPut, "/v1/documents/x", strings.NewReader(`{"kind":"project","title":"X"}`), http.Header{"Authorization": {"bearer " + testKey}}); rec.Code != 200 {
		t.Errorf("lower-case scheme: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(s.log.String(), testKey) {
		t.Error("the key appears in the log")
	}
}
