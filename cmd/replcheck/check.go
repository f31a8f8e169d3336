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
	// Of the editors' synonym sets: acknowledged states the stream lacks,
	// the sets the stream holds and its digest of them.
	synLost, synLive int
	synDigest        string
}

// docState is a document as the check compares it; "" = absent.
func docState(title, description string) string { return title + "\x00" + description }

// check compares the writers' model, the stream and every replica, the
// documents and the synonym sets; last is the sequence they converged on
// (0 if they did not), which the synonym lists are read at.
func (h *harness) check(ctx context.Context, name string, w *workload, last uint64) checkResult {
	stream, streamSyn, err := h.streamState(ctx)
	if err != nil {
		h.violate(name + ": read the stream: " + err.Error())
		return checkResult{digest: "--------", synDigest: "--------"}
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
	h.checkSynonyms(ctx, name, streamSyn, last, &res)
	return res
}

// checkSynonyms compares the model's acknowledged synonym sets with the
// stream's last message per set, and every replica's list with both. A
// replica's list must equal the stream's exactly: only this suite writes
// sets, uncertain ones included.
func (h *harness) checkSynonyms(ctx context.Context, name string, stream map[string]string, last uint64, res *checkResult) {
	m := h.model
	m.mu.Lock()
	acked := map[string]string{}
	for _, id := range sortedKeys(m.synIDs) {
		if want, ok := m.synState[id]; ok && !m.synUncertain[id] {
			acked[id] = want
		}
	}
	m.mu.Unlock()
	for _, id := range sortedKeys(keySet(acked)) {
		if got := stream[id]; got != acked[id] {
			res.synLost++
			h.violate(fmt.Sprintf("%s: acknowledged synonym set %s is %q, the stream holds %q", name, id, acked[id], got))
		}
	}
	res.synDigest = digest(sortedKeys(keySet(stream)), stream)
	for _, st := range stream {
		if st != "" {
			res.synLive++
		}
	}
	for _, r := range h.liveReplicas() {
		sets, total, err := h.replicaSynonyms(r, last)
		if err != nil {
			h.violate(fmt.Sprintf("%s: read %s's synonym sets: %v", name, r.name, err))
			continue
		}
		if total != len(sets) {
			h.violate(fmt.Sprintf("%s: %s lists %d synonym sets with a total of %d", name, r.name, len(sets), total))
		}
		ids := keySet(stream)
		for id := range sets {
			ids[id] = true
		}
		diffs := 0
		for _, id := range sortedKeys(ids) {
			if sets[id] != stream[id] {
				if diffs < 3 {
					h.violate(fmt.Sprintf("%s: %s holds %q for synonym set %s, the stream %q", name, r.name, sets[id], id, stream[id]))
				}
				diffs++
			}
		}
		if d := digest(sortedKeys(keySet(stream)), sets); diffs > 0 || d != res.synDigest {
			h.violate(fmt.Sprintf("%s: %s differs from the stream on %d synonym sets (digest %s, stream %s)", name, r.name, diffs, d[:8], res.synDigest[:8]))
		}
		for _, id := range sortedKeys(keySet(acked)) {
			if sets[id] != acked[id] {
				h.violate(fmt.Sprintf("%s: %s holds %q for acknowledged synonym set %s, acknowledged %q", name, r.name, sets[id], id, acked[id]))
			}
		}
	}
}

// replicaSynonyms is a replica's synonym sets by id, read once it has
// applied minSeq, and the total it answers.
func (h *harness) replicaSynonyms(r *replica, minSeq uint64) (map[string]string, int, error) {
	path := "/v1/synonyms"
	if minSeq > 0 {
		path += fmt.Sprintf("?min_seq=%d", minSeq)
	}
	resp, err := h.client.Get(r.base + path)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, 0, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var list struct {
		Synonyms []synonymSet `json:"synonyms"`
		Total    int          `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	out := make(map[string]string, len(list.Synonyms))
	for _, s := range list.Synonyms {
		if _, dup := out[s.ID]; dup {
			return nil, 0, fmt.Errorf("GET %s lists synonym set %s twice", path, s.ID)
		}
		out[s.ID] = synState(s.Root, s.Synonyms)
	}
	return out, list.Total, nil
}

// synonymSet is a set as the API answers it and the stream logs it
// (search.EncodeSynonymSet).
type synonymSet struct {
	ID       string   `json:"id"`
	Root     string   `json:"root"`
	Synonyms []string `json:"synonyms"`
}

// keySet is the ids of states, absent ones ("") included.
func keySet(states map[string]string) map[string]bool {
	out := make(map[string]bool, len(states))
	for id := range states {
		out[id] = true
	}
	return out
}

func digest(ids []string, states map[string]string) string {
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%s\x01%s\x02", id, states[id])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// streamState reads the stream message by message: its last message per
// document and per synonym set (older ones are compacted away), which every
// replica must hold.
func (h *harness) streamState(ctx context.Context) (docs, synonyms map[string]string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	s, err := h.js.Stream(ctx, "SEARCH")
	if err != nil {
		return nil, nil, err
	}
	info := s.CachedInfo().State
	out, syn := map[string]string{}, map[string]string{}
	for seq := info.FirstSeq; seq <= info.LastSeq && info.Msgs > 0; seq++ {
		var msg *jetstream.RawStreamMsg
		for attempt := 0; ; attempt++ {
			msg, err = s.GetMsg(ctx, seq)
			if err == nil || errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if attempt == 20 {
				return nil, nil, fmt.Errorf("message %d: %w", seq, err)
			}
			sleep(ctx, 250*time.Millisecond)
		}
		if err != nil {
			continue // compacted: a later message on its subject exists
		}
		id := msg.Header.Get("Search-Id")
		switch msg.Header.Get("Search-Op") {
		case "delete":
			out[id] = ""
		case "synonyms-delete":
			syn[id] = ""
		case "synonyms-put":
			var set synonymSet
			if err := json.Unmarshal(msg.Data, &set); err != nil {
				return nil, nil, fmt.Errorf("message %d: %w", seq, err)
			}
			if set.ID != id {
				return nil, nil, fmt.Errorf("message %d: synonym set %q under Search-Id %q", seq, set.ID, id)
			}
			syn[id] = synState(set.Root, set.Synonyms)
		default:
			var d struct{ Title, Description string }
			if err := json.Unmarshal(msg.Data, &d); err != nil {
				return nil, nil, fmt.Errorf("message %d: %w", seq, err)
			}
			out[id] = docState(d.Title, d.Description)
		}
	}
	return out, syn, nil
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
