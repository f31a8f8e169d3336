// Command instantsearch serves an example search page built with Algolia's
// InstantSearch (instantsearch.js and the algoliasearch lite client, from
// npm, unmodified) over searchd's Algolia-compatible routes. It stands for a
// portal: a site on its own origin that calls searchd across origins, so
// searchd must list this origin in -cors-origins.
//
//	npm ci                      # in this folder: the pinned packages
//	go run ./cmd/searchd -cors-origins http://127.0.0.1:3000   # at the repository root
//	go run . -searchd http://127.0.0.1:8080                     # here; open http://127.0.0.1:3000
package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

//go:embed web
var web embed.FS

// vendor lists the files the page loads from the npm packages, by the path
// it asks for; nothing else under node_modules is served.
var vendor = map[string]string{
	"/vendor/instantsearch.production.min.js": "instantsearch.js/dist/instantsearch.production.min.js",
	"/vendor/algoliasearch-lite.umd.js":       "algoliasearch/dist/lite/builds/browser.umd.js",
	"/vendor/satellite-min.css":               "instantsearch.css/themes/satellite-min.css",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address `host:port`")
	searchd := flag.String("searchd", "http://127.0.0.1:8080", "searchd's `URL` as the browser reaches it (a path prefix behind a proxy is allowed)")
	modules := flag.String("modules", "node_modules", "the `folder` npm ci filled")
	flag.Parse()
	if err := run(*addr, *searchd, *modules); err != nil {
		fmt.Fprintln(os.Stderr, "instantsearch:", err)
		os.Exit(1)
	}
}

func run(addr, searchd, modules string) error {
	site, err := newSite(searchd, modules)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: site, ReadHeaderTimeout: 5 * time.Second}
	slog.Info("serving the InstantSearch example", "url", "http://"+ln.Addr().String(), "searchd", searchd)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// site serves the page, its script and style, and the vendor files.
type site struct {
	page    []byte
	csp     string
	files   fs.FS
	modules string
}

// newSite checks searchd's URL and that npm ci has run, and renders the
// page with the URL in it.
func newSite(searchd, modules string) (*site, error) {
	u, err := url.Parse(searchd)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-searchd %q is not an http(s) URL such as http://127.0.0.1:8080", searchd)
	}
	for _, rel := range vendor {
		if _, err := os.Stat(filepath.Join(modules, rel)); err != nil {
			return nil, fmt.Errorf("%s is missing: run npm ci in examples/instantsearch (%w)", rel, err)
		}
	}
	files, err := fs.Sub(web, "web")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.ParseFS(files, "index.html")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, struct{ Searchd string }{strings.TrimSuffix(u.String(), "/")}); err != nil {
		return nil, err
	}
	origin := u.Scheme + "://" + u.Host
	return &site{
		page:  page.Bytes(),
		files: files,
		// The page's own files only, and calls to searchd. InstantSearch
		// is given function templates, so no 'unsafe-eval' is needed
		// (string templates would compile with new Function).
		csp:     "default-src 'self'; connect-src 'self' " + origin + "; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		modules: modules,
	}, nil
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == "/":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(s.page)
	case p == "/app.js" || p == "/app.css":
		http.ServeFileFS(w, r, s.files, p[1:])
	case vendor[p] != "":
		http.ServeFile(w, r, filepath.Join(s.modules, vendor[p]))
	default:
		http.NotFound(w, r)
	}
}
