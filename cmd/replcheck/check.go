package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

type readyzBody struct {
	Documents  uint64 `json:"documents"`
	AppliedSeq uint64 `json:"applied_seq"`
}

func (h *harness) readyz(ctx context.Context, r *replica) (readyzBody, error) {
	var b readyzBody
	resp, err := h.client.Get(r.base + "/readyz")
	if err != nil {
		return b, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("%s /readyz %d", r.name, resp.StatusCode)
	}
	return b, json.NewDecoder(resp.Body).Decode(&b)
}

type checkResult struct {
	lost   int
	digest string
}

// docState is a document as the check compares it; "" = absent.
func docState(title, description string) string { return title + "\x00" + description }

// check compares the writers' model, the stream and every replica.
func (h *harness) check(ctx context.Context, name string, w *workload) checkResult {
	stream, err := h.streamState(ctx)
	if err != nil {
		h.violate(name + ": read the stream: " + err.Error())
		return checkResult{digest: "--------"}
	}
	m := h.model
	m.mu.Lock()
	ids := sortedKeys(m.ids)
	var res checkResult
	for _, id := range ids {
		if m.uncertain[id] {
			continue
		}
		want, ok := m.state[id]
		if !ok {
			continue // never acknowledged
		}
		got := stream[id]
		if want == "" && got != "" || want != "" && !strings.HasPrefix(got, want+"\x00") {
			res.lost++
			h.violate(fmt.Sprintf("%s: acknowledged state of %s is %q, the stream holds %q", name, id, want, got))
		}
	}
	m.mu.Unlock()
	res.digest = digest(ids, stream)
	live := 0
	for _, id := range ids {
		if stream[id] != "" {
			live++
		}
	}
	for _, r := range h.liveReplicas() {
		states, total, err := h.replicaState(ctx, r, ids)
		if err != nil {
			h.violate(fmt.Sprintf("%s: read %s: %v", name, r.name, err))
			continue
		}
		if d := digest(ids, states); d != res.digest {
			diffs := 0
			for _, id := range ids {
				if states[id] != stream[id] {
					if diffs < 3 {
						h.violate(fmt.Sprintf("%s: %s holds %q for %s, the stream %q", name, r.name, states[id], id, stream[id]))
					}
					diffs++
				}
			}
			h.violate(fmt.Sprintf("%s: %s differs from the stream on %d documents (digest %s, stream %s)", name, r.name, diffs, d[:8], res.digest[:8]))
		}
		if total != uint64(live) {
			h.violate(fmt.Sprintf("%s: %s holds %d documents, the stream %d", name, r.name, total, live))
		}
	}
	return res
}

func digest(ids []string, states map[string]string) string {
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%s\x01%s\x02", id, states[id])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// streamState reads the stream message by message: its last message per
// document (older ones are compacted away), which every replica must hold.
func (h *harness) streamState(ctx context.Context) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	s, err := h.js.Stream(ctx, "SEARCH")
	if err != nil {
		return nil, err
	}
	info := s.CachedInfo().State
	out := map[string]string{}
	for seq := info.FirstSeq; seq <= info.LastSeq && info.Msgs > 0; seq++ {
		var msg *jetstream.RawStreamMsg
		for attempt := 0; ; attempt++ {
			msg, err = s.GetMsg(ctx, seq)
			if err == nil || errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if attempt == 20 {
				return nil, fmt.Errorf("message %d: %w", seq, err)
			}
			sleep(ctx, 250*time.Millisecond)
		}
		if err != nil {
			continue // compacted: a later message on its subject exists
		}
		id := msg.Header.Get("Search-Id")
		if msg.Header.Get("Search-Op") == "delete" {
			out[id] = ""
			continue
		}
		var d struct{ Title, Description string }
		if err := json.Unmarshal(msg.Data, &d); err != nil {
			return nil, fmt.Errorf("message %d: %w", seq, err)
		}
		out[id] = docState(d.Title, d.Description)
	}
	return out, nil
}

// replicaState reads every id from a replica, and its document count.
func (h *harness) replicaState(ctx context.Context, r *replica, ids []string) (map[string]string, uint64, error) {
	out := make(map[string]string, len(ids))
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				st, err := h.getDoc(r, id)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[id] = st
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, 0, firstErr
	}
	resp, err := h.client.Get(r.base + "/v1/search?per_page=1")
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var total struct {
		Total uint64 `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&total); err != nil {
		return nil, 0, err
	}
	return out, total.Total, nil
}

func (h *harness) getDoc(r *replica, id string) (string, error) {
	resp, err := h.client.Get(r.base + "/v1/documents/" + url.PathEscape(id))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		_, _ = io.Copy(io.Discard, resp.Body)
		return "", nil
	case http.StatusOK:
		var d struct{ Title, Description string }
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			return "", err
		}
		return docState(d.Title, d.Description), nil
	}
	return "", fmt.Errorf("GET %s on %s: %d", id, r.name, resp.StatusCode)
}
