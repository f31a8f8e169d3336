package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/mpower/labor-search/index"
	"github.com/mpower/labor-search/internal/input"
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
	values, err := parseRawQuery(r)
	if err != nil {
		return nil, err
	}
	minSeq, err := takeMinSeq(values, r.Header)
	if err != nil {
		return nil, err
	}
	if err := s.awaitSeq(r.Context(), minSeq); err != nil {
		return nil, err
	}
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
	doc, err := index.DecodeDocument(body)
	if err != nil {
		return nil, err
	}
	switch doc.ID {
	case "":
		doc.ID = id
	case id:
	default:
		return nil, search.Invalid("id", "the body's id %q differs from the path's id %q", input.Clip(doc.ID), input.Clip(id))
	}
	if s.replicator != nil {
		key, err := idempotencyKey(r)
		if err != nil {
			return nil, err
		}
		w, err := s.replicator.Write(r.Context(), []index.Document{doc}, true, key)
		if err != nil {
			return nil, err
		}
		if len(w.Refused) > 0 {
			return nil, writeRefusal(w.Refused)
		}
		s.settle(r.Context(), w.Seq)
		// The logged document, not the local index's, which a newer
		// write from another replica may already have replaced.
		res := ok(documentView(&w.Docs[0]))
		res.header = seqHeader(w.Seq)
		return res, nil
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
	if s.replicator != nil {
		key, err := idempotencyKey(r)
		if err != nil {
			return nil, err
		}
		seq, err := s.replicator.Delete(r.Context(), mux.Vars(r)["id"], key)
		if err != nil {
			return nil, err
		}
		s.settle(r.Context(), seq)
		return &reply{status: http.StatusNoContent, header: seqHeader(seq)}, nil
	}
	if err := s.engine.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
		return nil, err
	}
	return &reply{status: http.StatusNoContent}, nil
}

// Codes of a refused line of a bulk load.
const (
	lineInvalid  = index.LineInvalid
	lineTooLarge = index.LineTooLarge
)

// bulkResult is the answer to POST /v1/documents: what was indexed, and
// each line that was not, as Elasticsearch's bulk API and Typesense's
// import answer.
type bulkResult struct {
	Indexed      int           `json:"indexed"`
	Refused      int           `json:"refused"`
	Errors       bool          `json:"errors"`
	RefusedLines []refusedLine `json:"refused_lines"`
	// Seq is the replicated log's sequence that holds the write, for
	// min_seq reads on any replica; absent on a single node.
	Seq uint64 `json:"seq,omitempty"`
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
	lines, err := index.ReadDocumentLines(http.MaxBytesReader(nil, r.Body, MaxBulkBodyBytes))
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
			refuse(refusedLine{Line: l.Number, ID: input.Clip(l.ID), Code: l.Code(), Message: l.Message()})
			continue
		}
		docs = append(docs, l.Doc)
		lineOf = append(lineOf, l.Number)
	}
	var refused []search.Refusal
	if s.replicator != nil {
		key, err := idempotencyKey(r)
		if err != nil {
			return nil, err
		}
		w, err := s.replicator.Write(r.Context(), docs, atomic, key)
		if err != nil {
			return nil, err
		}
		refused, res.Seq = w.Refused, w.Seq
		s.settle(r.Context(), w.Seq)
	} else if refused, err = s.engine.Write(r.Context(), docs, atomic); err != nil {
		return nil, err
	}
	if atomic && len(refused) > 0 {
		return nil, search.Invalid("body", "line %d: %v", lineOf[refused[0].Index], refused[0].Err)
	}
	for _, f := range refused {
		refuse(refusedLine{Line: lineOf[f.Index], ID: input.Clip(f.ID), Code: lineInvalid, Message: f.Err.Error()})
	}
	sort.Slice(res.RefusedLines, func(i, j int) bool { return res.RefusedLines[i].Line < res.RefusedLines[j].Line })
	res.Refused = len(res.RefusedLines)
	res.Indexed = len(docs) - len(refused)
	res.Errors = res.Refused > 0
	out := ok(res)
	out.header = seqHeader(res.Seq)
	return out, nil
}

// firstBadLine names, for an atomic load, the first line that would be
// refused: the line that cannot be decoded, or an earlier one that the
// engine's checks would refuse.
func firstBadLine(lines []index.DocumentLine, bad index.DocumentLine) error {
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
	if err := input.CheckNames(values, bulkParams, nil, "parameter"); err != nil {
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
		return false, search.Invalid("atomic", "atomic must be true or false, not %q", input.Clip(vs[0]))
	}
	return false, nil
}
