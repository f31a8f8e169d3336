package handlers

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gorilla/mux"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/search"
)

// authorized lets a write through only with the configured API key. With no
// key configured every write is refused: a service started without one is
// read-only, never open.
func (s *server) authorized(next apiFunc) apiFunc {
	return func(r *http.Request) (*reply, error) {
		if s.apiKey == "" {
			return nil, newError(CodeForbidden, "writes are disabled: the service was started without an API key")
		}
		// Hashing first makes the comparison take the same time whatever
		// the lengths, so timing reveals nothing of the key.
		got := sha256.Sum256([]byte(bearerToken(r.Header.Get("Authorization"))))
		want := sha256.Sum256([]byte(s.apiKey))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			e := newError(CodeUnauthorized, "this route needs a valid API key in the header Authorization: Bearer <key>")
			e.header = http.Header{"Www-Authenticate": {`Bearer realm="labor-search"`}}
			return nil, e
		}
		return next(r)
	}
}

func bearerToken(header string) string {
	const prefix = "bearer "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(header[len(prefix):])
}

func (s *server) getDocument(r *http.Request) (*reply, error) {
	doc, err := s.engine.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return nil, err
	}
	return ok(documentView(doc)), nil
}

// documentView shows absent lists as [] rather than null, as search hits
// do, so a client handles one shape.
func documentView(d *index.Document) *index.Document {
	v := *d
	for _, l := range []*[]string{&v.Countries, &v.Regions, &v.Sectors, &v.Areas, &v.Partners} {
		if *l == nil {
			*l = []string{}
		}
	}
	return &v
}

// putDocument upserts one document and answers with it as stored, after
// enrichment, so the caller sees what a search will see.
func (s *server) putDocument(r *http.Request) (*reply, error) {
	id := mux.Vars(r)["id"]
	body, err := readBody(r, MaxDocumentBodyBytes)
	if err != nil {
		return nil, err
	}
	doc, err := DecodeDocument(body)
	if err != nil {
		return nil, err
	}
	switch doc.ID {
	case "":
		doc.ID = id
	case id:
	default:
		return nil, search.Invalid("id", "the body's id %q differs from the path's id %q", clip(doc.ID), clip(id))
	}
	if err := doc.Validate(); err != nil {
		return nil, search.Invalid("body", "%s", err.Error())
	}
	if err := s.engine.Upsert(r.Context(), []index.Document{doc}); err != nil {
		return nil, err
	}
	stored, err := s.engine.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return ok(documentView(stored)), nil
}

func (s *server) deleteDocument(r *http.Request) (*reply, error) {
	if err := s.engine.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
		return nil, err
	}
	return &reply{status: http.StatusNoContent}, nil
}

// bulkResult is the answer to POST /v1/documents.
type bulkResult struct {
	Indexed int `json:"indexed"`
}

// bulkDocuments writes a JSON Lines body as one batch: all of it or, on the
// first bad line, none of it.
func (s *server) bulkDocuments(r *http.Request) (*reply, error) {
	if r.ContentLength > MaxBulkBodyBytes {
		return nil, &http.MaxBytesError{Limit: MaxBulkBodyBytes}
	}
	docs, err := DecodeDocumentLines(http.MaxBytesReader(nil, r.Body, MaxBulkBodyBytes))
	if err != nil {
		return nil, err
	}
	if err := s.engine.Upsert(r.Context(), docs); err != nil {
		return nil, err
	}
	return ok(bulkResult{Indexed: len(docs)}), nil
}

// documentFields are the JSON field names of index.Document.
func documentFields() []string {
	t := reflect.TypeFor[index.Document]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// DecodeDocument decodes one JSON document, rejecting unknown fields (with
// the closest known name) and values of the wrong type. It does not validate.
func DecodeDocument(b []byte) (index.Document, error) {
	var doc index.Document
	fields, err := jsonObject(b, "the document")
	if err != nil {
		return doc, err
	}
	if err := checkNames(fields, documentFields(), nil, "field"); err != nil {
		return doc, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return doc, jsonError(err, "the document", documentFieldKind)
	}
	return doc, nil
}

func documentFieldKind(field string) string {
	t := reflect.TypeFor[index.Document]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == field && t.Field(i).Type.Kind() == reflect.Slice {
			return "an array of strings"
		}
	}
	return "a string"
}

// DecodeDocumentLines reads JSON Lines, one document a line, skipping blank
// lines; each is decoded and validated. An error names the line (counting
// from 1) and is a *search.InvalidError, except a read error, which is
// returned as it is (e.g. *http.MaxBytesError).
func DecodeDocumentLines(r io.Reader) ([]index.Document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxDocumentBodyBytes)
	var docs []index.Document
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		doc, err := DecodeDocument(b)
		if err == nil {
			if verr := doc.Validate(); verr != nil {
				err = search.Invalid("body", "%s", verr.Error())
			}
		}
		if err != nil {
			var inv *search.InvalidError
			if errors.As(err, &inv) {
				return nil, search.Invalid("body", "line %d: %s", line, inv.Message)
			}
			return nil, err
		}
		docs = append(docs, doc)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, search.Invalid("body", "line %d is longer than %d bytes", line+1, MaxDocumentBodyBytes)
		}
		return nil, err
	}
	if len(docs) == 0 {
		return nil, search.Invalid("body", "the body holds no documents; send one JSON document per line")
	}
	return docs, nil
}
