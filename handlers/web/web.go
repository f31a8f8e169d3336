// Package web serves the search page at /, the editors' page at /admin and
// their static files, embedded in the binary so the service works offline
// with no build step. The pages call only the service's own API.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// asset is one embedded file with the headers it is served with.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// pages maps the paths of the HTML pages to their files, which are served
// at these paths only, never under /static/.
var pages = map[string]string{
	"/":      "index.html",
	"/admin": "admin.html",
}

// Handler serves GET / (the search page), GET /admin (the editors' page) and
// GET /static/{file}. Every response carries an ETag (a content hash) so a
// browser revalidates cheaply; the pages themselves are "no-cache" so a new
// binary's page is seen at once, while the static files may be cached
// briefly and are revalidated after that.
func Handler() http.Handler {
	assets, err := load(files)
	if err != nil {
		// The files are compiled in: failing here means the binary itself
		// is broken, which a test catches before any release.
		panic(fmt.Sprintf("web: load embedded files: %v", err))
	}
	return &server{assets: assets}
}

type server struct {
	assets map[string]asset
}

func load(fsys fs.FS) (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		out[strings.TrimPrefix(p, "static/")] = asset{
			body:        b,
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
			contentType: ct,
		}
		return nil
	})
	return out, err
}

// securityHeaders keeps the page to its own origin: no inline script or
// style, no framing, no sniffing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var name, cache string
	if page, ok := pages[r.URL.Path]; ok {
		name, cache = page, "no-cache"
	} else if file, ok := strings.CutPrefix(r.URL.Path, "/static/"); ok && !strings.HasSuffix(file, ".html") {
		name, cache = file, "public, max-age=300, must-revalidate"
	}
	a, ok := s.assets[name]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such page: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	// ServeContent answers If-None-Match with 304 and handles HEAD and
	// ranges; a zero modtime leaves Last-Modified out, the ETag suffices.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}

// writeError writes the service's JSON error envelope. The handlers package
// has its own writer, but this package must not import it (handlers imports
// web), and the shape is small and fixed.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	type body struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.NewEncoder(w).Encode(map[string]body{"error": {status, code, message}})
}
