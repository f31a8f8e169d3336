package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"

	"github.com/mpower/labor-search/index"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string              `json:"operationId"`
	Parameters  []map[string]string `json:"parameters"`
	Responses   map[string]any      `json:"responses"`
}

func mustOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

func operation(t *testing.T, doc openAPIDoc, path, method string) (openAPIOperation, bool) {
	t.Helper()
	raw, ok := doc.Paths[path][strings.ToLower(method)]
	if !ok {
		return openAPIOperation{}, false
	}
	var op openAPIOperation
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return op, true
}

// TestOpenAPICoversEveryRoute walks the real router: a route added without
// documenting it fails here.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := mustOpenAPI(t)
	s := &server{}
	router := s.router(s.routes(http.NotFoundHandler()))
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	walked := 0
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			walked++
			op, ok := operation(t, doc, tmpl, m)
			if !ok {
				t.Errorf("%s %s is served but missing from openapi.json", m, tmpl)
				continue
			}
			delete(documented, m+" "+tmpl)
			if op.OperationID != route.GetName() {
				t.Errorf("%s %s: operationId %q, want the route name %q", m, tmpl, op.OperationID, route.GetName())
			}
			if _, ok := op.Responses["500"]; !ok {
				t.Errorf("%s %s: the 500 envelope is not documented", m, tmpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked < 10 {
		t.Fatalf("walked %d routes; the walk is broken", walked)
	}
	for op := range documented {
		t.Errorf("openapi.json documents %s, which no route serves", op)
	}
}

func TestOpenAPIDocumentsSearchParameters(t *testing.T) {
	doc := mustOpenAPI(t)
	params := func(path string) []string {
		op, ok := operation(t, doc, path, "GET")
		if !ok {
			t.Fatalf("GET %s undocumented", path)
		}
		var names []string
		for _, p := range op.Parameters {
			ref := strings.TrimPrefix(p["$ref"], "#/components/parameters/")
			param, ok := doc.Components.Parameters[ref]
			if !ok {
				t.Fatalf("GET %s: unresolved parameter %q", path, p["$ref"])
			}
			names = append(names, param.Name)
		}
		return names
	}
	if diff := cmp.Diff(SearchParams(), params("/v1/search")); diff != "" {
		t.Errorf("GET /v1/search parameters mismatch (-accepted +documented):\n%s", diff)
	}
	if diff := cmp.Diff(SuggestParams(), params("/v1/suggest")); diff != "" {
		t.Errorf("GET /v1/suggest parameters mismatch (-accepted +documented):\n%s", diff)
	}

	var body struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["SearchRequest"], &body); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for f := range body.Properties {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	want := slices.Sorted(slices.Values(SearchParams()))
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("POST /v1/search body fields mismatch (-accepted +documented):\n%s", diff)
	}

	var docSchema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["Document"], &docSchema); err != nil {
		t.Fatal(err)
	}
	for _, f := range index.DocumentFields() {
		if _, ok := docSchema.Properties[f]; !ok {
			t.Errorf("document field %q is not in the Document schema", f)
		}
	}
}

func TestOpenAPIDocumentsErrorCodes(t *testing.T) {
	doc := mustOpenAPI(t)
	var schema struct {
		Properties struct {
			Error struct {
				Properties struct {
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"error"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["Error"], &schema); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for c := range codeStatus {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	documented := slices.Sorted(slices.Values(schema.Properties.Error.Properties.Code.Enum))
	if diff := cmp.Diff(codes, documented); diff != "" {
		t.Errorf("error codes mismatch (-served +documented):\n%s", diff)
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	var whole any
	if err := json.Unmarshal(openAPI, &whole); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				node := whole
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, ok := node.(map[string]any)
					if !ok || m[part] == nil {
						t.Errorf("$ref %s does not resolve", ref)
						return
					}
					node = m[part]
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(whole)
}

func TestOpenAPIServed(t *testing.T) {
	s := mustService(t, Config{})
	rec := s.get(t, "/openapi.json")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Error("served document is not JSON")
	}
}
