package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/synthetic"
)

// Kinds of request, as the report lists them.
const (
	kindSearch    = "search"
	kindBroad     = "broad"
	kindBrowse    = "browse"
	kindSuggest   = "suggest"
	kindDocument  = "document"
	kindMalformed = "malformed"
	kindWrite     = "write"
	kindNoKey     = "write-no-key"
)

var kinds = []string{kindSearch, kindBroad, kindBrowse, kindSuggest, kindDocument, kindMalformed, kindWrite, kindNoKey}

// weights are the shares of the mix, in the order of kinds: mostly what a
// portal's visitors do, with a steady stream of abuse.
var weights = []int{30, 8, 15, 20, 7, 10, 5, 5}

// request is one request of the mix and the statuses it may get.
type request struct {
	kind   string
	method string
	path   string
	body   string
	auth   string
	want   []int
	ids    []string // documents a successful write stores
}

// malformed requests and what each must get.
var malformed = []struct {
	method, path, body string
	status             int
}{
	{"GET", "/v1/search?contry=Mexico", "", 400},
	{"GET", "/v1/search?per_page=0", "", 400},
	{"GET", "/v1/search?page=999999", "", 400},
	{"GET", "/v1/search?from=2024-02-30", "", 400},
	{"GET", "/v1/search?sort=newest", "", 400},
	{"GET", "/v1/search?facets=colour", "", 400},
	{"GET", "/v1/search?q=%zz", "", 400},
	{"GET", "/v1/search?q=" + strings.Repeat("x", 513), "", 400},
	{"GET", "/v1/search?q=" + strings.Repeat("worker+", 40), "", 400},
	{"GET", "/v1/suggest?limit=500", "", 400},
	{"POST", "/v1/search", `{"q":"mining","per_page":"5"}`, 400},
	{"POST", "/v1/search", `{"q":`, 400},
	{"POST", "/v1/search", `[1,2,3]`, 400},
	{"POST", "/v1/search", `{"q":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
	{"GET", "/v1/serch?q=mining", "", 404},
	{"GET", "/v1/documents/no-such-document", "", 404},
	{"PATCH", "/v1/search", "", 405},
	{"DELETE", "/v1/search", "", 405},
}

// traffic draws requests and judges the answers.
type traffic struct {
	base   string
	key    string
	client *http.Client
	mix    synthetic.Mix
	ids    []string
	next   sync.Mutex
	nextID int
	asOf   time.Time
}

func newTraffic(base, key string, sample []index.Document, c *config) (*traffic, error) {
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	mix, err := synthetic.NewMix(sample, 500, c.seed, asOf)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(sample))
	for i, d := range sample {
		ids[i] = d.ID
	}
	tr := &http.Transport{MaxIdleConns: c.clients * 2, MaxIdleConnsPerHost: c.clients * 2, IdleConnTimeout: time.Minute}
	return &traffic{base: base, key: key, client: &http.Client{Transport: tr, Timeout: c.timeout}, mix: mix, ids: ids, asOf: asOf}, nil
}

// shed are the statuses a request may get when the service protects
// itself; each must carry Retry-After.
var shed = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}

func (t *traffic) draw(r *rand.Rand) request {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	kind := kinds[0]
	for i, w := range weights {
		if n < w {
			kind = kinds[i]
			break
		}
		n -= w
	}
	pick := func(c synthetic.Class) string {
		qs := t.mix[c]
		return qs[r.IntN(len(qs))].Path()
	}
	switch kind {
	case kindSearch:
		return request{kind: kind, method: "GET", path: pick(synthetic.Selective), want: []int{200}}
	case kindBroad:
		return request{kind: kind, method: "GET", path: pick(synthetic.Broad), want: []int{200}}
	case kindBrowse:
		return request{kind: kind, method: "GET", path: pick(synthetic.Browse), want: []int{200}}
	case kindSuggest:
		return request{kind: kind, method: "GET", path: pick(synthetic.Suggest), want: []int{200}}
	case kindDocument:
		return request{kind: kind, method: "GET", path: "/v1/documents/" + url.PathEscape(t.ids[r.IntN(len(t.ids))]), want: []int{200}}
	case kindMalformed:
		m := malformed[r.IntN(len(malformed))]
		return request{kind: kind, method: m.method, path: m.path, body: m.body, want: []int{m.status}}
	}
	keyed := kind == kindWrite
	auth := "Bearer " + t.key
	want := []int{200}
	if !keyed {
		auth = []string{"", "Bearer wrong-" + t.key[:4], "Basic " + t.key, "Bearer "}[r.IntN(4)]
		want = []int{401}
	}
	t.next.Lock()
	id := t.nextID
	t.nextID += 3
	t.next.Unlock()
	doc := func(i int) string {
		b, _ := json.Marshal(map[string]any{
			"id": fmt.Sprintf("overload-%d", i), "kind": "project",
			"title":       fmt.Sprintf("Overload write %d", i),
			"description": "Written by the overload test to keep the write path busy.",
		})
		return string(b)
	}
	if r.IntN(2) == 0 {
		return request{kind: kind, method: "PUT", path: fmt.Sprintf("/v1/documents/overload-%d", id), body: doc(id), auth: auth, want: want,
			ids: []string{fmt.Sprintf("overload-%d", id)}}
	}
	return request{kind: kind, method: "POST", path: "/v1/documents", body: doc(id) + "\n" + doc(id+1) + "\n" + doc(id+2) + "\n", auth: auth, want: want,
		ids: []string{fmt.Sprintf("overload-%d", id), fmt.Sprintf("overload-%d", id+1), fmt.Sprintf("overload-%d", id+2)}}
}

// outcome is one answered (or failed) request.
type outcome struct {
	kind   string
	status int // 0 when the request failed
	took   time.Duration
	bad    string // why the answer is a violation, "" when it is fine
}

// send runs one request and judges the answer.
func (t *traffic) send(ctx context.Context, q request) outcome {
	o := outcome{kind: q.kind}
	req, err := http.NewRequestWithContext(ctx, q.method, t.base+q.path, strings.NewReader(q.body))
	if err != nil {
		o.bad = err.Error()
		return o
	}
	if q.auth != "" {
		req.Header.Set("Authorization", q.auth)
	}
	if q.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		o.took = time.Since(start)
		if ctx.Err() == nil {
			o.bad = fmt.Sprintf("%s %.80s: %v", q.method, q.path, err)
		}
		return o
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.took = time.Since(start)
	o.status = resp.StatusCode
	if err != nil {
		if ctx.Err() != nil {
			// The phase ended while the body was arriving.
			return outcome{kind: q.kind}
		}
		o.bad = fmt.Sprintf("%s %.80s: status %d, body cut off: %v", q.method, q.path, resp.StatusCode, err)
		return o
	}
	o.bad = judge(q, resp.StatusCode, resp.Header, body)
	return o
}

// judge says what is wrong with an answer, or "" when nothing is.
func judge(q request, status int, h http.Header, body []byte) string {
	where := fmt.Sprintf("%s %.80s", q.method, q.path)
	if !json.Valid(body) {
		return fmt.Sprintf("%s: status %d, body is not JSON: %.120q", where, status, body)
	}
	if slices.Contains(shed, status) {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		switch {
		case h.Get("Retry-After") == "":
			return fmt.Sprintf("%s: %d %s without Retry-After", where, status, e.Error.Code)
		case status == 503 && e.Error.Code != "overloaded" && e.Error.Code != "timeout":
			return fmt.Sprintf("%s: 503 %q is not load shedding", where, e.Error.Code)
		case status == 429 && q.kind != kindWrite && q.kind != kindNoKey:
			return fmt.Sprintf("%s: 429 on a read", where)
		}
		return ""
	}
	if !slices.Contains(q.want, status) {
		return fmt.Sprintf("%s: status %d, want %v: %.160s", where, status, q.want, body)
	}
	return ""
}

// result is what a load phase saw.
type result struct {
	clients    int
	duration   time.Duration
	outcomes   []outcome
	violations []string
	acked      []string
}

// maxListed bounds the violations kept for the report.
const maxListed = 25

// load runs clients connections, each sending requests one after another,
// for d.
func (t *traffic) load(ctx context.Context, clients int, d time.Duration) *result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	res := &result{clients: clients, duration: d}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var outs []outcome
			var bad, acked []string
			for ctx.Err() == nil {
				q := t.draw(r)
				o := t.send(ctx, q)
				if o.status == 0 && o.bad == "" {
					break // the phase ended mid-request
				}
				outs = append(outs, o)
				if o.bad != "" {
					bad = append(bad, o.bad)
				}
				if q.kind == kindWrite && o.status == 200 {
					acked = append(acked, q.ids...)
				}
				if q.kind == kindNoKey && o.status == 200 {
					bad = append(bad, "a write without the key succeeded")
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.outcomes = append(res.outcomes, outs...)
			res.violations = append(res.violations, bad...)
			res.acked = append(res.acked, acked...)
		})
	}
	wg.Wait()
	res.duration = time.Since(start)
	return res
}

// checkAcked reads back a sample of the acknowledged writes.
func (t *traffic) checkAcked(ctx context.Context, acked []string) []string {
	var bad []string
	step := max(1, len(acked)/100)
	for i := 0; i < len(acked); i += step {
		o := t.send(ctx, request{kind: kindDocument, method: "GET", path: "/v1/documents/" + acked[i], want: []int{200}})
		if o.bad != "" {
			bad = append(bad, "acknowledged write "+acked[i]+" unreadable: "+o.bad)
		}
	}
	return bad
}

// scrape reads searchd's /metrics. The load's idle connections are closed
// first, and the service given a moment to end their goroutines, so the
// count is the service's own and not the client's pool.
func (t *traffic) scrape(ctx context.Context) (metrics, error) {
	t.client.CloseIdleConnections()
	select {
	case <-time.After(500 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", t.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("read /metrics: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read /metrics: %w", err)
	}
	m := parseMetrics(string(b))
	if _, ok := m["go_goroutines"]; !ok {
		return nil, errors.New("/metrics has no go_goroutines")
	}
	return m, nil
}
