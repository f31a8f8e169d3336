package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/mpower/labor-search/internal/input"
	"github.com/mpower/labor-search/search"
)

// SynonymStore keeps the editors' synonym sets; *search.Engine is one.
type SynonymStore interface {
	SynonymSets() []search.SynonymSet
	// SynonymSet returns one set or search.ErrSynonymNotFound.
	SynonymSet(id string) (search.SynonymSet, error)
	// PutSynonymSet checks and stores a set; a *search.SynonymError says
	// which term is refused and why.
	PutSynonymSet(ctx context.Context, s search.SynonymSet) (search.SynonymSet, error)
	// DeleteSynonymSet removes a set or returns search.ErrSynonymNotFound.
	DeleteSynonymSet(ctx context.Context, id string) error
}

// MaxSynonymBodyBytes bounds a PUT /v1/synonyms/{id} body: 32 terms of 100
// bytes with JSON's quoting fit many times over.
const MaxSynonymBodyBytes = 64 << 10

// synonymFields are the fields of a synonym set body.
var synonymFields = []string{"id", "root", "synonyms"}

// synonymList is the answer to GET /v1/synonyms.
type synonymList struct {
	Synonyms []search.SynonymSet `json:"synonyms"`
	Total    int                 `json:"total"`
}

// synonymDeleted is the answer to DELETE /v1/synonyms/{id}.
type synonymDeleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// synonymsAvailable is the store, or the error of a service that has none.
func (s *server) synonymsAvailable() (SynonymStore, error) {
	if s.synonyms == nil {
		return nil, newError(CodeNotFound, "this service keeps no synonym sets")
	}
	return s.synonyms, nil
}

// readSynonymQuery takes min_seq (a replica waits for it) and refuses any
// other parameter.
func (s *server) readSynonymQuery(r *http.Request) error {
	values, err := parseRawQuery(r)
	if err != nil {
		return err
	}
	minSeq, err := takeMinSeq(values, r.Header)
	if err != nil {
		return err
	}
	if err := input.CheckNames(values, []string{paramMinSeq}, nil, "parameter"); err != nil {
		return err
	}
	return s.awaitSeq(r.Context(), minSeq)
}

func (s *server) listSynonyms(r *http.Request) (*reply, error) {
	store, err := s.synonymsAvailable()
	if err != nil {
		return nil, err
	}
	if err := s.readSynonymQuery(r); err != nil {
		return nil, err
	}
	sets := store.SynonymSets()
	for i := range sets {
		sets[i] = synonymView(sets[i])
	}
	return ok(synonymList{Synonyms: sets, Total: len(sets)}), nil
}

func (s *server) getSynonyms(r *http.Request) (*reply, error) {
	store, err := s.synonymsAvailable()
	if err != nil {
		return nil, err
	}
	if err := s.readSynonymQuery(r); err != nil {
		return nil, err
	}
	id := mux.Vars(r)["id"]
	set, err := store.SynonymSet(id)
	if err != nil {
		return nil, synonymNotFound(err, id)
	}
	return ok(synonymView(set)), nil
}

// putSynonyms stores a set and answers it as stored. Every refusal of the
// body, its shape as much as its terms, is invalid_synonym: the editor
// fixes them in the same form.
func (s *server) putSynonyms(r *http.Request) (*reply, error) {
	store, err := s.synonymsAvailable()
	if err != nil {
		return nil, err
	}
	id := mux.Vars(r)["id"]
	body, err := readBody(r, MaxSynonymBodyBytes)
	if err != nil {
		return nil, err
	}
	set, err := decodeSynonymSet(body, id)
	if err != nil {
		var inv *search.InvalidError
		if errors.As(err, &inv) {
			return nil, &search.SynonymError{Err: inv}
		}
		return nil, err
	}
	if s.replicator != nil {
		key, err := idempotencyKey(r)
		if err != nil {
			return nil, err
		}
		stored, seq, err := s.replicator.PutSynonymSet(r.Context(), set, key)
		if err != nil {
			return nil, err
		}
		s.settle(r.Context(), seq)
		res := ok(synonymView(stored))
		res.header = seqHeader(seq)
		return res, nil
	}
	stored, err := store.PutSynonymSet(r.Context(), set)
	if err != nil {
		return nil, err
	}
	return ok(synonymView(stored)), nil
}

func (s *server) deleteSynonyms(r *http.Request) (*reply, error) {
	store, err := s.synonymsAvailable()
	if err != nil {
		return nil, err
	}
	id := mux.Vars(r)["id"]
	var seq uint64
	if s.replicator != nil {
		key, err := idempotencyKey(r)
		if err != nil {
			return nil, err
		}
		if seq, err = s.replicator.DeleteSynonymSet(r.Context(), id, key); err != nil {
			return nil, synonymNotFound(err, id)
		}
		s.settle(r.Context(), seq)
	} else if err := store.DeleteSynonymSet(r.Context(), id); err != nil {
		return nil, synonymNotFound(err, id)
	}
	res := ok(synonymDeleted{ID: id, Deleted: true})
	res.header = seqHeader(seq)
	return res, nil
}

// decodeSynonymSet reads a set body: one JSON object of known fields, its
// id (if given) the path's.
func decodeSynonymSet(body []byte, id string) (search.SynonymSet, error) {
	const what = "the synonym set"
	fields, err := input.Object(body, what)
	if err != nil {
		return search.SynonymSet{}, err
	}
	if err := input.CheckNames(fields, synonymFields, map[string]string{"synonym": "synonyms", "terms": "synonyms"}, "field"); err != nil {
		return search.SynonymSet{}, err
	}
	var set search.SynonymSet
	if err := json.Unmarshal(body, &set); err != nil {
		return search.SynonymSet{}, input.DecodeError(err, what, func(field string) string {
			if field == "synonyms" {
				return "an array of strings"
			}
			return "a string"
		})
	}
	if set.ID != "" && set.ID != id {
		return search.SynonymSet{}, search.Invalid("id", "the body's id %q differs from the path's id %q", input.Clip(set.ID), input.Clip(id))
	}
	set.ID = id
	return set, nil
}

// synonymView shows a set's synonyms as [] rather than null.
func synonymView(s search.SynonymSet) search.SynonymSet {
	if s.Synonyms == nil {
		s.Synonyms = []string{}
	}
	return s
}

func synonymNotFound(err error, id string) error {
	if errors.Is(err, search.ErrSynonymNotFound) {
		return newError(CodeNotFound, "no synonym set with id %q", input.Clip(id))
	}
	return err
}
