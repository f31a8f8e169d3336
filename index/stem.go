package index

import (
	"hash/maphash"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// stemFilterName is Bleve's Snowball (Porter2) English stemmer behind a
// cache of recent stems. The stemmer builds an environment and copies the
// word for every token, about a quarter of analysis time in a bulk build,
// while most tokens are words already seen. The stems are exactly the
// stemmer's: the same tokens come out of the analyzer, only sooner, so the
// indexed terms and MappingVersion do not change (an index built before
// names Bleve's stemmer in its stored mapping, which is still registered).
const stemFilterName = "stemmer_en_snowball_cached"

// stemShards spreads the cache over locks so parallel analysis workers
// rarely wait; each shard forgets everything when it reaches
// stemShardWords, which bounds memory on a vocabulary of any size.
const (
	stemShards     = 32
	stemShardWords = 8192
)

type stemCache struct {
	seed   maphash.Seed
	shards [stemShards]stemShard
}

type stemShard struct {
	mu    sync.RWMutex
	stems map[string][]byte
}

func newStemCache() *stemCache {
	return &stemCache{seed: maphash.MakeSeed()}
}

func (c *stemCache) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Term = c.stem(t.Term)
	}
	return input
}

func (c *stemCache) stem(word []byte) []byte {
	sh := &c.shards[maphash.Bytes(c.seed, word)%stemShards]
	sh.mu.RLock()
	s, ok := sh.stems[string(word)]
	sh.mu.RUnlock()
	if ok {
		// A copy, as the stemmer's own: a token's bytes are its owner's.
		return append([]byte(nil), s...)
	}
	w := string(word)
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	s = []byte(env.Current())
	sh.mu.Lock()
	if sh.stems == nil || len(sh.stems) >= stemShardWords {
		sh.stems = make(map[string][]byte, stemShardWords)
	}
	sh.stems[w] = s
	sh.mu.Unlock()
	return append([]byte(nil), s...)
}

// The token filter Bleve's registry hands out is shared by every analyzer
// that names it, so one cache serves all text fields and queries.
func registerStem() error {
	return registry.RegisterTokenFilter(stemFilterName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return newStemCache(), nil
	})
}
