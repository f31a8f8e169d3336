package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/mpower/labor-search/cmd/internal/loader"
	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/seedengine"
	"github.com/mpower/labor-search/internal/synthetic"
	"github.com/mpower/labor-search/search"
)

// target answers one query of the mix. With count it also returns the
// query's total (suggestions for suggest); without, it may skip decoding.
type target interface {
	name() string
	do(ctx context.Context, q synthetic.Query, count bool) (uint64, error)
	documents(ctx context.Context) (uint64, error)
	close()
}

// httpTarget is searchd over HTTP on loopback.
type httpTarget struct {
	base   string
	client *http.Client
}

func newHTTPTarget(addr string, clients []int) (*httpTarget, error) {
	most := 1
	for _, n := range clients {
		most = max(most, n)
	}
	tr := &http.Transport{
		MaxIdleConns:        most * 2,
		MaxIdleConnsPerHost: most * 2,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	return &httpTarget{base: "http://" + addr, client: &http.Client{Transport: tr}}, nil
}

func (h *httpTarget) name() string { return "http" }

func (h *httpTarget) get(ctx context.Context, path string) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+path, nil)
	if err != nil {
		return nil, false, err
	}
	res, err := h.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, false, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("status %d: %.200s", res.StatusCode, body)
	}
	return body, true, nil
}

func (h *httpTarget) do(ctx context.Context, q synthetic.Query, count bool) (uint64, error) {
	body, _, err := h.get(ctx, q.Path())
	if err != nil || !count {
		return 0, err
	}
	var r struct {
		Total       uint64            `json:"total"`
		Suggestions []json.RawMessage `json:"suggestions"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("decode answer: %w", err)
	}
	if q.Class == synthetic.Suggest {
		return uint64(len(r.Suggestions)), nil
	}
	return r.Total, nil
}

func (h *httpTarget) documents(ctx context.Context) (uint64, error) {
	body, _, err := h.get(ctx, "/v1/search?facets=&per_page=1&highlight=false")
	if err != nil {
		return 0, err
	}
	var r struct {
		Total uint64 `json:"total"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("decode answer: %w", err)
	}
	return r.Total, nil
}

func (h *httpTarget) close() { h.client.CloseIdleConnections() }

// plainTarget runs the plain Bleve requests on the index, opened read-only.
type plainTarget struct {
	idx  bleve.Index
	asOf time.Time
}

// livePath is the Bleve index an index directory serves: the generation
// its CURRENT file names (see index.Open).
func livePath(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if err != nil {
		return "", fmt.Errorf("index directory %s: %w", dir, err)
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("index directory %s: CURRENT names no generation", dir)
	}
	return filepath.Join(dir, name), nil
}

func newPlainTarget(dir string, asOf time.Time) (*plainTarget, error) {
	path, err := livePath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := bleve.OpenUsing(path, map[string]interface{}{"read_only": true, "bolt_timeout": "5s"})
	if err != nil {
		return nil, fmt.Errorf("open index %s read-only (is searchd running on it?): %w", path, err)
	}
	return &plainTarget{idx: idx, asOf: asOf}, nil
}

func (p *plainTarget) name() string { return "plain" }

func (p *plainTarget) do(ctx context.Context, q synthetic.Query, _ bool) (uint64, error) {
	return q.RunPlain(ctx, p.idx.SearchInContext, p.asOf)
}

func (p *plainTarget) documents(context.Context) (uint64, error) { return p.idx.DocCount() }

func (p *plainTarget) close() { _ = p.idx.Close() }

// engineTarget is the service's engine in process, configured as searchd
// configures it, or with its caches off.
type engineTarget struct {
	ix      *index.Index
	engine  *search.Engine
	noCache bool
}

func newEngineTarget(dir string, noCache bool) (*engineTarget, error) {
	if _, err := livePath(dir); err != nil {
		// index.Open would create an empty index in a wrong directory.
		return nil, err
	}
	ix, err := index.Open(dir, index.Options{})
	if err != nil {
		return nil, err
	}
	opts := search.Options{ResponseCache: search.DefaultResponseCache}
	if noCache {
		opts.ResponseCache = 0
	}
	engine, err := seedengine.New(ix, opts)
	if err != nil {
		_ = ix.Close()
		return nil, err
	}
	return &engineTarget{ix: ix, engine: engine, noCache: noCache}, nil
}

func (e *engineTarget) name() string {
	if e.noCache {
		return "engine-nocache"
	}
	return "engine"
}

func (e *engineTarget) do(ctx context.Context, q synthetic.Query, _ bool) (uint64, error) {
	if q.Class == synthetic.Suggest {
		res, err := e.engine.Suggest(ctx, q.SuggestRequest())
		if err != nil {
			return 0, err
		}
		return uint64(len(res.Suggestions)), nil
	}
	res, err := e.engine.Search(ctx, q.SearchRequest())
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

func (e *engineTarget) documents(context.Context) (uint64, error) { return e.engine.Count() }

func (e *engineTarget) close() { _ = e.ix.Close() }

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	if !strings.HasPrefix(url, "http://") {
		return fmt.Errorf("-wait %q: want an http:// URL", url)
	}
	host := strings.TrimPrefix(url, "http://")
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if err := loopbackOnly(host); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if res, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s", url, timeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// errEnough stops reading the corpus once the sample is complete.
var errEnough = errors.New("sample complete")

// readSample reads the first n documents of a corpus file.
func readSample(path string, n int) ([]index.Document, error) {
	f, err := loader.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var docs []index.Document
	err = f.Source(1 << 20)(func(batch []index.Document) error {
		docs = append(docs, batch...)
		if len(docs) >= n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	if len(docs) > n {
		docs = docs[:n]
	}
	return docs, nil
}
