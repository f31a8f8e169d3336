package handlers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wireCase is one request to the /v1 API, in testdata/wire/NAME.json; its
// whole answer is NAME.golden.
type wireCase struct {
	About       string `json:"about"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
	Auth        bool   `json:"auth"` // send the API key
}

var tookMs = regexp.MustCompile(`"took_ms": [0-9.e+-]+`)

// TestWireGolden pins the API's wire format: searches, suggestions,
// documents, writes and errors are compared whole, field names, order and
// shape included, with a golden file each, so a renamed or dropped field
// fails here even though the handlers' own structs still round-trip. Each
// case gets a fresh service over testDocs. -update rewrites the files.
func TestWireGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/wire/*.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d wire cases (%v); the test data is missing", len(files), err)
	}
	const key = "golden-key"
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c wireCase
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			s := mustService(t, Config{APIKey: key})
			header := map[string][]string{}
			if c.ContentType != "" {
				header["Content-Type"] = []string{c.ContentType}
			}
			if c.Auth {
				header["Authorization"] = []string{"Bearer " + key}
			}
			rec := s.do(t, c.Method, c.Path, strings.NewReader(c.Body), header)
			got := goldenAnswer(t, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Retry-After"), rec.Body.Bytes())
			if allow := rec.Header().Get("Allow"); allow != "" {
				got = "Allow: " + allow + "\n" + got
			}
			got = tookMs.ReplaceAllString(got, `"took_ms": 0`)
			checkGolden(t, strings.TrimSuffix(file, ".json")+".golden", got, c.About)
		})
	}
}
