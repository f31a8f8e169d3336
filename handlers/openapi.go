package handlers

import (
	_ "embed"
	"net/http"
)

// openAPI describes every route; a test walks the router and fails when a
// route or a search parameter is missing from it.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
