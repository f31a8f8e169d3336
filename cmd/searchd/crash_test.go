package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpower/labor-search/search"
)

// consonants spell the unique title words: without vowels, s or y no
// English stemming rule applies, so each word is its own term and none is
// a prefix of another (they all have the same length).
const consonants = "bcdfghjklmnpqrtvwxz"

func uniqueWord(n int) string {
	var b strings.Builder
	b.WriteString("zq")
	for range 6 {
		b.WriteByte(consonants[n%len(consonants)])
		n /= len(consonants)
	}
	return b.String()
}

// written is one write the service acknowledged with a 2xx.
type written struct {
	id, word string
}

// ledger records what the writers sent and what was acknowledged.
type ledger struct {
	mu    sync.Mutex
	next  int
	sent  int
	acked []written
}

func (l *ledger) take(n int) []written {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]written, n)
	for i := range out {
		w := uniqueWord(l.next)
		out[i] = written{id: "crash-" + w, word: w}
		l.next++
	}
	l.sent += n
	return out
}

func (l *ledger) ack(ws []written) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked = append(l.acked, ws...)
}

func docJSON(w written, round int) string {
	b, _ := json.Marshal(map[string]any{
		"id": w.id, "kind": "project", "title": "Durability check " + w.word,
		"description": fmt.Sprintf("Written in round %d of the crash test.", round),
	})
	return string(b)
}

// writeUntilGone sends PUTs and bulk POSTs until the service stops
// answering, recording every 2xx.
func writeUntilGone(t *testing.T, c *child, key string, l *ledger, round, worker int) {
	auth := http.Header{"Authorization": {"Bearer " + key}}
	r := rand.New(rand.NewPCG(uint64(round), uint64(worker)))
	for {
		var code int
		var body []byte
		var err error
		var batch []written
		if r.IntN(3) == 0 {
			batch = l.take(1 + r.IntN(8))
			var lines []string
			for _, w := range batch {
				lines = append(lines, docJSON(w, round))
			}
			code, body, err = c.do("POST", "/v1/documents", strings.Join(lines, "\n"), auth)
		} else {
			batch = l.take(1)
			code, body, err = c.do("PUT", "/v1/documents/"+batch[0].id, docJSON(batch[0], round), auth)
		}
		if err != nil {
			if !isGone(err) {
				t.Errorf("write: %v", err)
			}
			return
		}
		if code != 200 {
			t.Errorf("write: %d %s", code, body)
			return
		}
		l.ack(batch)
	}
}

// TestCrashDurability kills searchd with SIGKILL at random moments while
// writers are busy, restarts it on the same directory each time, and checks
// that the index opens and that every write acknowledged before the kill
// is there and searchable. Writes in flight at the kill may or may not be.
func TestCrashDurability(t *testing.T) {
	const rounds, writers = 5, 4
	dir := filepath.Join(t.TempDir(), "index")
	key := "crash-test-key"
	env := []string{"SEARCH_API_KEY=" + key}
	args := []string{"-index", dir, "-write-rate", "0"}
	l := &ledger{}
	seeds := -1.0
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	for round := 1; round <= rounds+1; round++ {
		c := startChild(t, args, env...)
		docs := c.ready["documents"].(float64)
		if seeds < 0 {
			seeds = docs
		}
		l.mu.Lock()
		acked, sent := append([]written(nil), l.acked...), l.sent
		l.mu.Unlock()
		if docs < seeds+float64(len(acked)) || docs > seeds+float64(sent) {
			t.Fatalf("round %d: the index opened with %v documents; want between %v (seeds + acknowledged) and %v (seeds + sent)", round, docs, seeds+float64(len(acked)), seeds+float64(sent))
		}
		checkAcknowledged(t, c, acked)
		if round > rounds {
			c.signal(t, syscall.SIGTERM, 30*time.Second)
			if !c.stopped() {
				t.Errorf("the last run did not stop cleanly:\n%s\n%s", c.stdout, c.stderr)
			}
			t.Logf("crash durability: %d rounds, %d writes sent, %d acknowledged, all %d found after restart (%v documents with the seeds)", rounds, sent, len(acked), len(acked), docs)
			return
		}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() { writeUntilGone(t, c, key, l, round, w) })
		}
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		c.signal(t, syscall.SIGKILL, 30*time.Second)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
}

// checkAcknowledged fetches and searches every acknowledged document.
func checkAcknowledged(t *testing.T, c *child, acked []written) {
	t.Helper()
	for _, w := range acked {
		code, b := c.mustDo(t, "GET", "/v1/documents/"+w.id, "", nil)
		if code != 200 || !strings.Contains(string(b), w.word) {
			t.Fatalf("acknowledged document %s after a crash: %d %s", w.id, code, b)
		}
		code, b = c.mustDo(t, "GET", "/v1/search?facets=&per_page=5&q="+url.QueryEscape(w.word), "", nil)
		var resp search.Response
		if err := json.Unmarshal(b, &resp); code != 200 || err != nil {
			t.Fatalf("search %s: %d %s", w.word, code, b)
		}
		found := false
		for _, h := range resp.Hits {
			found = found || h.ID == w.id
		}
		if !found {
			t.Fatalf("acknowledged document %s is not found by its title word %s after a crash: %s", w.id, w.word, b)
		}
	}
}
