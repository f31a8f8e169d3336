package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// model is what the writers know was acknowledged: each id's last
// acknowledged state ("" = deleted). An id whose last write was given up
// unacknowledged may or may not be in the log: it is uncertain and left out
// of the exact comparison (the replicas must still agree on it). The
// editors' synonym sets are kept the same way, apart: their ids are reused
// (a handful per writer), so a later acknowledged write on an uncertain set
// makes it certain again; an op is only given up when its scenario ends,
// long before the next one's writes.
type model struct {
	mu        sync.Mutex
	state     map[string]string
	ids       map[string]bool
	uncertain map[string]bool

	synState     map[string]string // set id -> synState, "" = deleted
	synIDs       map[string]bool
	synUncertain map[string]bool
}

func newModel() *model {
	return &model{state: map[string]string{}, ids: map[string]bool{}, uncertain: map[string]bool{},
		synState: map[string]string{}, synIDs: map[string]bool{}, synUncertain: map[string]bool{}}
}

// synState is a synonym set as the check compares it; "" = absent.
func synState(root string, synonyms []string) string {
	return root + "\x00" + strings.Join(synonyms, "\x01")
}

// workload is the writers and readers of one scenario.
type workload struct {
	h      *harness
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	began       time.Time
	ended       time.Time
	recovered   time.Time
	acks        []time.Time
	sent, acked int
	// synSent and synAcked count the synonym set writes among them.
	synSent, synAcked int
	unavailable       int
	refusals          []time.Duration
	quorumLost        time.Time // zero unless two servers are down
	quorumAcks        int
	searches          int
	searchOK          int
	notes             []string
}

func newWorkload(h *harness) *workload { return &workload{h: h} }

func (w *workload) note(s string) {
	w.mu.Lock()
	w.notes = append(w.notes, s)
	w.mu.Unlock()
}

func (w *workload) markRecovered() {
	w.mu.Lock()
	w.recovered = time.Now()
	w.mu.Unlock()
}

func (w *workload) markQuorumLost(lost bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if lost {
		w.quorumLost = time.Now()
	} else {
		w.quorumLost = time.Time{}
	}
}

func (w *workload) start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.began = time.Now()
	for i := range w.h.writers {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.writer(ctx, i) }()
	}
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.reader(ctx) }()
}

// stop ends the writers after their current attempt.
func (w *workload) stop() {
	w.cancel()
	w.wg.Wait()
	w.ended = time.Now()
}

// writeOp is one logical write, retried with its Idempotency-Key until
// acknowledged.
type writeOp struct {
	method, path, body string
	key                string
	ids                []string
	titles             []string // "" for a delete; a synState for a synonym set
	synonyms           bool     // a synonym set write: ids[0] is the set's id
}

// synonymSetsPerWriter is how many set ids each writer reuses: few, so
// that sets are overwritten and deleted as often as created.
const synonymSetsPerWriter = 5

var writerSeq sync.Map // writer -> next op number, across scenarios

func (w *workload) writer(ctx context.Context, n int) {
	m := w.h.model
	v, _ := writerSeq.LoadOrStore(n, new(int))
	counter := v.(*int)
	var live []string // this writer's ids acknowledged present
	for ctx.Err() == nil {
		*counter++
		op := w.nextOp(n, *counter, live)
		w.mu.Lock()
		w.sent++
		if op.synonyms {
			w.synSent++
		}
		w.mu.Unlock()
		acked := w.send(ctx, op)
		switch {
		case op.synonyms && acked:
			w.mu.Lock()
			w.synAcked++
			w.mu.Unlock()
			m.mu.Lock()
			m.synState[op.ids[0]] = op.titles[0]
			delete(m.synUncertain, op.ids[0])
			m.mu.Unlock()
		case op.synonyms:
			m.mu.Lock()
			m.synUncertain[op.ids[0]] = true
			m.mu.Unlock()
		case acked:
			m.mu.Lock()
			for i, id := range op.ids {
				m.state[id] = op.titles[i]
			}
			m.mu.Unlock()
			live = applyLive(live, op)
		default:
			m.mu.Lock()
			for _, id := range op.ids {
				m.uncertain[id] = true
			}
			m.mu.Unlock()
			live = dropLive(live, op.ids)
		}
		sleep(ctx, w.h.pace)
	}
}

func (w *workload) nextOp(writer, n int, live []string) writeOp {
	key := fmt.Sprintf("w%d-op%d", writer, n)
	if n%15 == 4 {
		return w.synonymOp(writer, n, key)
	}
	r := n % 20
	switch {
	case r == 7 && len(live) > 0: // delete one of ours
		id := pick(live)
		return writeOp{method: http.MethodDelete, path: "/v1/documents/" + id, key: key, ids: []string{id}, titles: []string{""}}
	case r == 13: // an atomic bulk of three new documents
		var lines []string
		op := writeOp{method: http.MethodPost, path: "/v1/documents?atomic=true", key: key}
		for j := range 3 {
			id := fmt.Sprintf("w%d-d%d-%d", writer, n, j)
			title := "bulk " + id
			lines = append(lines, fmt.Sprintf(`{"id":%q,"title":%q,"description":"replication check"}`, id, title))
			op.ids, op.titles = append(op.ids, id), append(op.titles, title)
		}
		op.body = strings.Join(lines, "\n") + "\n"
		return op
	case r%4 == 1 && len(live) > 0: // overwrite one of ours
		id := pick(live)
		title := fmt.Sprintf("doc %s v%d", id, n)
		return writeOp{method: http.MethodPut, path: "/v1/documents/" + id, key: key, ids: []string{id}, titles: []string{title},
			body: fmt.Sprintf(`{"title":%q,"description":"replication check"}`, title)}
	}
	id := fmt.Sprintf("w%d-d%d", writer, n)
	title := "doc " + id
	return writeOp{method: http.MethodPut, path: "/v1/documents/" + id, key: key, ids: []string{id}, titles: []string{title},
		body: fmt.Sprintf(`{"title":%q,"description":"replication check"}`, title)}
}

// synonymOp puts or deletes one of the writer's synonym sets. A set is
// only deleted when the model knows it present (a delete of an absent set
// is a 404); every put has terms of its own, so an overwrite that a replica
// missed shows.
func (w *workload) synonymOp(writer, n int, key string) writeOp {
	id := fmt.Sprintf("w%d-s%d", writer, rand.IntN(synonymSetsPerWriter))
	m := w.h.model
	m.mu.Lock()
	present := m.synState[id] != "" && !m.synUncertain[id]
	m.mu.Unlock()
	op := writeOp{key: key, ids: []string{id}, synonyms: true, path: "/v1/synonyms/" + id}
	if present && rand.IntN(3) == 0 {
		op.method, op.titles = http.MethodDelete, []string{""}
		return op
	}
	// Letters only (the analyser keeps such a word whole), ending in "q"
	// so that no stemmer folds two of a set's terms into one.
	terms := make([]string, 2+rand.IntN(3))
	for j := range terms {
		terms[j] = "syn" + letters(writer) + "x" + letters(n) + "x" + letters(j) + "q"
	}
	var body struct {
		Root     string   `json:"root,omitempty"`
		Synonyms []string `json:"synonyms"`
	}
	body.Synonyms = terms
	if n%2 == 1 { // one-way: the first term is the root
		body.Root, body.Synonyms = terms[0], terms[1:]
	}
	b, _ := json.Marshal(body)
	op.method, op.body, op.titles = http.MethodPut, string(b), []string{synState(body.Root, body.Synonyms)}
	return op
}

// letters writes n in base 26 with the letters a to z.
func letters(n int) string {
	s := ""
	for {
		s = string(rune('a'+n%26)) + s
		if n /= 26; n == 0 {
			return s
		}
	}
}

// send retries op through random replicas until acknowledged, or false
// when the scenario ends first.
func (w *workload) send(ctx context.Context, op writeOp) bool {
	m := w.h.model
	m.mu.Lock()
	for _, id := range op.ids {
		if op.synonyms {
			m.synIDs[id] = true
		} else {
			m.ids[id] = true
		}
	}
	m.mu.Unlock()
	for ctx.Err() == nil {
		r := pick(w.h.liveReplicas())
		req, _ := http.NewRequest(op.method, r.base+op.path, strings.NewReader(op.body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Idempotency-Key", op.key)
		began := time.Now()
		resp, err := w.h.client.Do(req)
		if err != nil {
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		now := time.Now()
		switch {
		// A retried delete whose first attempt was stored finds its own
		// tombstone and answers 204 too.
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent:
			w.mu.Lock()
			w.acked++
			w.acks = append(w.acks, now)
			if lost := w.quorumLost; !lost.IsZero() && began.After(lost.Add(time.Second)) {
				w.quorumAcks++
			}
			w.mu.Unlock()
			return true
		case resp.StatusCode == http.StatusServiceUnavailable:
			w.mu.Lock()
			w.unavailable++
			w.refusals = append(w.refusals, now.Sub(began))
			w.mu.Unlock()
			if resp.Header.Get("Retry-After") == "" {
				w.violation(fmt.Sprintf("503 without Retry-After on %s %s", op.method, op.path))
			}
			sleep(ctx, 200*time.Millisecond)
		default:
			w.violation(fmt.Sprintf("%s %s answered %d", op.method, op.path, resp.StatusCode))
			return false
		}
	}
	return false
}

func (w *workload) violation(v string) { w.h.violate(v) }

// reader searches random replicas; a search must be answered whatever the
// state of NATS.
func (w *workload) reader(ctx context.Context) {
	for ctx.Err() == nil {
		r := pick(w.h.liveReplicas())
		resp, err := w.h.client.Get(r.base + "/v1/search?q=doc&per_page=1")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			w.mu.Lock()
			w.searches++
			if resp.StatusCode == http.StatusOK {
				w.searchOK++
			}
			w.mu.Unlock()
			if resp.StatusCode != http.StatusOK {
				w.violation(fmt.Sprintf("search on %s answered %d", r.name, resp.StatusCode))
			}
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

func (w *workload) longestPause() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev, longest := w.began, time.Duration(0)
	for _, t := range append(append([]time.Time(nil), w.acks...), w.ended) {
		longest = max(longest, t.Sub(prev))
		prev = t
	}
	return longest
}

func (w *workload) acksAfterRecovery() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, t := range w.acks {
		if t.After(w.recovered) {
			n++
		}
	}
	return n
}

func (w *workload) maxRefusal() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var m time.Duration
	for _, d := range w.refusals {
		m = max(m, d)
	}
	return m
}

func applyLive(live []string, op writeOp) []string {
	live = dropLive(live, op.ids)
	for i, id := range op.ids {
		if op.titles[i] != "" {
			live = append(live, id)
		}
	}
	return live
}

func dropLive(live, ids []string) []string {
	out := live[:0]
	for _, l := range live {
		keep := true
		for _, id := range ids {
			keep = keep && l != id
		}
		if keep {
			out = append(out, l)
		}
	}
	return out
}

// liveReplicas are the replicas whose process runs.
func (h *harness) liveReplicas() []*replica {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*replica
	for _, r := range h.replicas {
		if r.running() {
			out = append(out, r)
		}
	}
	return out
}
