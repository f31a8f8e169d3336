package index

// The document format of the API's writes and of corpus files: one JSON
// object a document, JSON Lines for many. It lives beside Document so the
// HTTP layer and the file loader read documents the same way, with the
// same limits and the same messages.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"

	"github.com/mpower/labor-search/internal/input"
)

// MaxDocumentBytes bounds one document: a PUT body, or a line of JSON Lines.
const MaxDocumentBytes = 1 << 20

// Codes of a refused line, as the bulk answer gives them.
const (
	LineInvalid  = "invalid_document"
	LineTooLarge = "too_large"
)

// DocumentFields are the JSON field names of Document.
func DocumentFields() []string {
	t := reflect.TypeFor[Document]()
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
func DecodeDocument(b []byte) (Document, error) {
	var doc Document
	fields, err := input.Object(b, "the document")
	if err != nil {
		return doc, err
	}
	if err := input.CheckNames(fields, DocumentFields(), nil, "field"); err != nil {
		return doc, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return doc, input.DecodeError(err, "the document", documentFieldKind)
	}
	return doc, nil
}

func documentFieldKind(field string) string {
	t := reflect.TypeFor[Document]()
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
	Doc    Document
	// ID is the line's "id" when it could be read, even from a line that
	// is otherwise refused, so a report can name the document.
	ID  string
	Err error
	// tooLong marks a line over MaxDocumentBytes.
	tooLong bool
}

// Message is the reason a line was refused, in the writer's terms.
func (l DocumentLine) Message() string {
	var inv *input.Error
	if errors.As(l.Err, &inv) {
		return inv.Message
	}
	return l.Err.Error()
}

// Code is the machine-readable reason a line was refused.
func (l DocumentLine) Code() string {
	if l.tooLong {
		return LineTooLarge
	}
	return LineInvalid
}

// ReadDocumentLines reads JSON Lines, one document a line, skipping blank
// lines. A line that cannot be decoded (or is longer than
// MaxDocumentBytes) is returned with its error and the next line is
// read: one bad line does not hide the others. Documents are decoded, not
// validated: the engine validates what it writes. An error is returned for
// a body that cannot be read (e.g. *http.MaxBytesError) or holds no line.
func ReadDocumentLines(r io.Reader) ([]DocumentLine, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []DocumentLine
	for number := 1; ; number++ {
		b, tooLong, err := readLine(br, MaxDocumentBytes)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if t := bytes.TrimSpace(b); len(t) > 0 || tooLong {
			l := DocumentLine{Number: number, tooLong: tooLong}
			if tooLong {
				l.Err = input.Invalid("body", "line %d is longer than %d bytes", number, MaxDocumentBytes)
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
		return nil, input.Invalid("body", "the body holds no documents; send one JSON document per line")
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
