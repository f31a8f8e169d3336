package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/testkit"
	"github.com/mpower/labor-search/search"
)

const testKey = "s3cret-test-key"

// testDocs are a few documents shaped like the portal's.
func testDocs() []index.Document {
	return []index.Document{
		{ID: "peru-mining", Kind: index.KindProject, Title: "Safer mining in Peru",
			Description: "Improving occupational safety and health for artisanal gold miners in the mining regions of Peru.",
			Countries:   []string{"Peru"}, Regions: []string{"Latin America"}, Sectors: []string{"Mining"}, Areas: []string{"Occupational safety and health"},
			Start: "2019-01-01", End: "2022-12-31"},
		{ID: "mexico-agri", Kind: index.KindProject, Title: "Forced labor in Mexican agriculture",
			Description: "Helping farm workers in Mexico organise against forced labor and for fair wages.",
			Countries:   []string{"Mexico"}, Regions: []string{"Latin America"}, Sectors: []string{"Agriculture"}, Areas: []string{"Forced labor"},
			Start: "2021-01-01", End: "2025-12-31"},
		{ID: "mexico-mining", Kind: index.KindProject, Title: "Union rights for Mexican mine workers",
			Description: "Supporting independent unions of mining workers in Mexico.",
			Countries:   []string{"Mexico"}, Regions: []string{"Latin America"}, Sectors: []string{"Mining"}, Areas: []string{"Freedom of association"},
			Start: "2023-01-01", End: "2026-06-30"},
		{ID: "mpower", Kind: index.KindInitiative, Title: "The M-POWER initiative",
			Description: "A partnership for worker organising and democracy across the Americas."},
	}
}

// mustEngine is the real engine over an in-memory index holding docs. Enrich
// marks documents written without countries, so a test can see enrichment.
func mustEngine(tb testing.TB, docs ...index.Document) *search.Engine {
	tb.Helper()
	return mustEngineOn(tb, nil, docs...)
}

// mustEngineOn is mustEngine with its metrics registered on reg.
func mustEngineOn(tb testing.TB, reg prometheus.Registerer, docs ...index.Document) *search.Engine {
	tb.Helper()
	eng, _ := testkit.New(tb, testkit.Engine{Docs: docs, Search: search.Options{
		Now:           func() time.Time { return testNow },
		ResponseCache: search.DefaultResponseCache,
		Registerer:    reg,
		Enrich: func(d *index.Document) {
			if len(d.Countries) == 0 && strings.Contains(d.Description, "Peru") {
				d.Countries = []string{"Peru"}
			}
		},
	}})
	return eng
}

// testService is a handler under test with its registry and log.
type testService struct {
	handler http.Handler
	reg     *prometheus.Registry
	log     *testkit.SyncBuffer
}

// mustService builds the handler with cfg, filling the engine, registry,
// logger, clock and key when cfg leaves them empty.
func mustService(tb testing.TB, cfg Config) *testService {
	tb.Helper()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Engine == nil {
		cfg.Engine = mustEngineOn(tb, cfg.Registry, testDocs()...)
	}
	log := &testkit.SyncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(log, nil))
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	h, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &testService{handler: h, reg: cfg.Registry, log: log}
}

// do sends one request and returns the recorded response.
func (s *testService) do(tb testing.TB, method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

func (s *testService) get(tb testing.TB, target string) *httptest.ResponseRecorder {
	tb.Helper()
	return s.do(tb, http.MethodGet, target, nil, nil)
}

func authHeader(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}}
}

// mustDecode decodes a JSON response body into T.
func mustDecode[T any](tb testing.TB, rec *httptest.ResponseRecorder) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		tb.Fatalf("decode %s: %v\nbody: %s", rec.Result().Request.URL, err, rec.Body)
	}
	return v
}

// mustError checks a response is the error envelope with this status and
// code, and returns its message.
func mustError(tb testing.TB, rec *httptest.ResponseRecorder, status int, code string) string {
	tb.Helper()
	if rec.Code != status {
		tb.Fatalf("status = %d, want %d; body: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		tb.Fatalf("error body is not the envelope: %v\n%s", err, rec.Body)
	}
	if body.Error.Status != status || body.Error.Code != code {
		tb.Fatalf("envelope = %+v, want status %d code %q", body.Error, status, code)
	}
	if body.Error.Message == "" {
		tb.Error("envelope has no message")
	}
	return body.Error.Message
}

// fakeEngine lets a test make the engine slow, failing or panicking.
type fakeEngine struct {
	search func(ctx context.Context, r search.Request) (*search.Response, error)
	count  func() (uint64, error)
}

func (f *fakeEngine) Search(ctx context.Context, r search.Request) (*search.Response, error) {
	return f.search(ctx, r)
}

func (f *fakeEngine) Suggest(ctx context.Context, r search.SuggestRequest) (*search.SuggestResponse, error) {
	resp, err := f.search(ctx, search.Request{Query: r.Query})
	if err != nil {
		return nil, err
	}
	return &search.SuggestResponse{Query: resp.Query}, nil
}

func (f *fakeEngine) Get(context.Context, string) (*index.Document, error) {
	return nil, search.ErrNotFound
}

func (f *fakeEngine) Upsert(context.Context, []index.Document) error { return nil }
func (f *fakeEngine) Write(context.Context, []index.Document, bool) ([]search.Refusal, error) {
	return nil, nil
}
func (f *fakeEngine) Delete(context.Context, string) error { return search.ErrNotFound }

func (f *fakeEngine) Count() (uint64, error) {
	if f.count == nil {
		return 1, nil
	}
	return f.count()
}
