package replication

import "github.com/blevesearch/bleve/v2"

func searchAll() *bleve.SearchRequest {
	r := bleve.NewSearchRequest(bleve.NewMatchAllQuery())
	r.Size = 10000
	return r
}
