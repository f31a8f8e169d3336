package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mpower/labor-search/search"
)

// Error codes, the machine-readable half of every error response.
const (
	CodeInvalidParameter = "invalid_parameter"
	CodeNotFound         = "not_found"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeTooLarge         = "too_large"
	CodeNotReady         = "not_ready"
	CodeTimeout          = "timeout"
	CodeOverloaded       = "overloaded"
	CodeRateLimited      = "rate_limited"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
	CodeNotCaughtUp      = "not_caught_up"
	CodeInvalidSynonym   = "invalid_synonym"
)

// codeStatus is the one place a code becomes an HTTP status.
var codeStatus = map[string]int{
	CodeInvalidParameter: http.StatusBadRequest,
	CodeNotFound:         http.StatusNotFound,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeNotReady:         http.StatusServiceUnavailable,
	CodeTimeout:          http.StatusServiceUnavailable,
	CodeOverloaded:       http.StatusServiceUnavailable,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeInternal:         http.StatusInternalServerError,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeNotCaughtUp:      http.StatusServiceUnavailable,
	CodeInvalidSynonym:   http.StatusBadRequest,
}

// apiError is an error the client is meant to read. Anything else a handler
// returns becomes a 500 whose message says nothing of the cause.
type apiError struct {
	code    string
	message string
	// retryAfter, in seconds, is sent as Retry-After when positive: the
	// caller did nothing wrong and may try again.
	retryAfter int
	// header, when set, adds response headers (Allow, WWW-Authenticate).
	header http.Header
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(code, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *apiError {
	return newError(CodeInvalidParameter, format, args...)
}

// errorBody is the envelope of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify turns any error from handler logic or the engine into an apiError.
// It reports whether the error was unexpected, which the caller logs.
func classify(err error) (e *apiError, unexpected bool) {
	var ae *apiError
	var inv *search.InvalidError
	var tooBig *http.MaxBytesError
	var limit *search.LimitError
	var badSynonym *search.SynonymError
	switch {
	case errors.As(err, &ae):
		return ae, false
	case errors.As(err, &badSynonym):
		return newError(CodeInvalidSynonym, "%s", badSynonym.Err.Message), false
	case errors.As(err, &inv):
		return invalid("%s", inv.Message), false
	case errors.Is(err, search.ErrNotFound):
		return newError(CodeNotFound, "document not found"), false
	case errors.Is(err, search.ErrSynonymNotFound):
		return newError(CodeNotFound, "synonym set not found"), false
	case errors.As(err, &limit):
		return newError(CodeTooLarge, "%s", limit.Message), false
	case errors.Is(err, search.ErrUnavailable):
		e := newError(CodeUnavailable, "the write could not be stored: the replicated log has no quorum or cannot be reached; nothing was written, retry later")
		e.retryAfter = retryAfterUnavailable
		return e, false
	case errors.Is(err, search.ErrNotCaughtUp):
		e := newError(CodeNotCaughtUp, "this replica has not yet applied the requested min_seq; retry shortly, or without min_seq for an answer that may miss recent writes")
		e.retryAfter = 1
		return e, false
	case errors.As(err, &tooBig):
		return newError(CodeTooLarge, "request body is larger than %d bytes", tooBig.Limit), false
	case errors.Is(err, context.DeadlineExceeded):
		e := newError(CodeTimeout, "the search took too long; try a narrower query or retry shortly")
		e.retryAfter = 1
		return e, false
	}
	return newError(CodeInternal, "internal error"), true
}

// writeError writes the error envelope for e.
func writeError(w http.ResponseWriter, e *apiError) {
	status := e.status()
	e.writeHeaders(w.Header())
	writeJSON(w, status, errorBody{Error: e.detail(status)})
}

func (e *apiError) status() int {
	if status, ok := codeStatus[e.code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

func (e *apiError) detail(status int) errorDetail {
	return errorDetail{Status: status, Code: e.code, Message: e.message}
}

// writeHeaders sets the headers every error response carries.
func (e *apiError) writeHeaders(h http.Header) {
	for k, vs := range e.header {
		h[k] = vs
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	// Errors describe this moment; a cache must not replay them.
	h.Set("Cache-Control", "no-store")
}

// writeJSON writes v with the given status. Encoding happens before the
// header is sent so an unencodable value still yields a clean 500. HTML is
// not escaped: highlights carry <mark>, and a JSON response served with
// nosniff is never rendered as HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"status":500,"code":"internal","message":"internal error"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
