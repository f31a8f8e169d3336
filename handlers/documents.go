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
	"sort"
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

// Codes of a refused line of a bulk load.
const (
	lineInvalid  = "invalid_document"
	lineTooLarge = "too_large"
)

// bulkResult is the answer to POST /v1/documents: what was indexed, and
// each line that was not, as Elasticsearch's bulk API and Typesense's
// import answer.
type bulkResult struct {
	Indexed      int           `json:"indexed"`
	Refused      int           `json:"refused"`
	Errors       bool          `json:"errors"`
	RefusedLines []refusedLine `json:"refused_lines"`
}

// refusedLine is one line of a bulk body that was not indexed.
type refusedLine struct {
	Line    int    `json:"line"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// bulkParams are the query parameters of POST /v1/documents.
var bulkParams = []string{"atomic"}

// bulkDocuments writes a JSON Lines body. By default every valid line is
// indexed, in durable batches the index sizes to its memory budget
// (index.Options.BatchBytes), and every other line is reported with its
// number; with atomic=true one bad line refuses the whole body and nothing
// is written.
func (s *server) bulkDocuments(r *http.Request) (*reply, error) {
	atomic, err := parseBulkParams(r)
	if err != nil {
		return nil, err
	}
	if r.ContentLength > MaxBulkBodyBytes {
		return nil, &http.MaxBytesError{Limit: MaxBulkBodyBytes}
	}
	lines, err := ReadDocumentLines(http.MaxBytesReader(nil, r.Body, MaxBulkBodyBytes))
	if err != nil {
		return nil, err
	}
	res := bulkResult{RefusedLines: []refusedLine{}}
	refuse := func(l refusedLine) {
		res.RefusedLines = append(res.RefusedLines, l)
		s.metrics.refusedLines.WithLabelValues(l.Code).Inc()
	}
	var docs []index.Document
	var lineOf []int
	for _, l := range lines {
		if l.Err != nil {
			if atomic {
				return nil, firstBadLine(lines, l)
			}
			refuse(refusedLine{Line: l.Number, ID: clip(l.ID), Code: l.Code(), Message: l.Message()})
			continue
		}
		docs = append(docs, l.Doc)
		lineOf = append(lineOf, l.Number)
	}
	refused, err := s.engine.Write(r.Context(), docs, atomic)
	if err != nil {
		return nil, err
	}
	if atomic && len(refused) > 0 {
		return nil, search.Invalid("body", "line %d: %v", lineOf[refused[0].Index], refused[0].Err)
	}
	for _, f := range refused {
		refuse(refusedLine{Line: lineOf[f.Index], ID: clip(f.ID), Code: lineInvalid, Message: f.Err.Error()})
	}
	sort.Slice(res.RefusedLines, func(i, j int) bool { return res.RefusedLines[i].Line < res.RefusedLines[j].Line })
	res.Refused = len(res.RefusedLines)
	res.Indexed = len(docs) - len(refused)
	res.Errors = res.Refused > 0
	return ok(res), nil
}

// firstBadLine names, for an atomic load, the first line that would be
// refused: the line that cannot be decoded, or an earlier one that the
// engine's checks would refuse.
func firstBadLine(lines []DocumentLine, bad DocumentLine) error {
	for _, l := range lines {
		if l.Number >= bad.Number {
			break
		}
		d := l.Doc
		d.ApplyDefaults()
		if err := d.Validate(); err != nil {
			return search.Invalid("body", "line %d: %v", l.Number, err)
		}
	}
	return search.Invalid("body", "line %d: %s", bad.Number, bad.Message())
}

func parseBulkParams(r *http.Request) (atomic bool, err error) {
	values, err := parseRawQuery(r)
	if err != nil {
		return false, err
	}
	if err := checkNames(values, bulkParams, nil, "parameter"); err != nil {
		return false, err
	}
	if vs := values["atomic"]; len(vs) > 0 {
		if len(vs) > 1 {
			return false, search.Invalid("atomic", "atomic is given %d times; give it once", len(vs))
		}
		switch strings.ToLower(strings.TrimSpace(vs[0])) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
		return false, search.Invalid("atomic", "atomic must be true or false, not %q", clip(vs[0]))
	}
	return false, nil
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

// DocumentLine is one non-blank line of a JSON Lines body: its document,
// or why it could not be read.
type DocumentLine struct {
	Number int // counting from 1
	Doc    index.Document
	// ID is the line's "id" when it could be read, even from a line that
	// is otherwise refused, so a report can name the document.
	ID  string
	Err error
	// tooLong marks a line over MaxDocumentBodyBytes.
	tooLong bool
}

// Code is the machine-readable reason a line was refused.
func (l DocumentLine) Code() string {
	if l.tooLong {
		return lineTooLarge
	}
	return lineInvalid
}

// Message is the reason a line was refused, in the writer's terms.
func (l DocumentLine) Message() string {
	var inv *search.InvalidError
	if errors.As(l.Err, &inv) {
		return inv.Message
	}
	return l.Err.Error()
}

// ReadDocumentLines reads JSON Lines, one document a line, skipping blank
// lines. A line that cannot be decoded (or is longer than
// MaxDocumentBodyBytes) is returned with its error and the next line is
// read: one bad line does not hide the others. Documents are decoded, not
// validated: the engine validates what it writes. An error is returned for
// a body that cannot be read (e.g. *http.MaxBytesError) or holds no line.
func ReadDocumentLines(r io.Reader) ([]DocumentLine, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []DocumentLine
	for number := 1; ; number++ {
		b, tooLong, err := readLine(br, MaxDocumentBodyBytes)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if t := bytes.TrimSpace(b); len(t) > 0 || tooLong {
			l := DocumentLine{Number: number, tooLong: tooLong}
			if tooLong {
				l.Err = search.Invalid("body", "line %d is longer than %d bytes", number, MaxDocumentBodyBytes)
			} else {
				l.Doc, l.Err = DecodeDocument(t)
				l.ID = l.Doc.ID
				if l.Err != nil {
					l.ID = lenientID(t)
				}
			}
			out = append(out, l)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if len(out) == 0 {
		return nil, search.Invalid("body", "the body holds no documents; send one JSON document per line")
	}
	return out, nil
}

// readLine reads up to the next newline. A line longer than limit is read
// to its end and dropped, and reported as too long.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}

// lenientID is the "id" of a JSON object that may be wrong otherwise.
func lenientID(b []byte) string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	id, _ := v.ID.(string)
	return id
}
