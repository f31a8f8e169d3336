package main
import (
 _ "github.com/blevesearch/bleve/v2"
 _ "github.com/gorilla/mux"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/google/go-cmp/cmp"
 _ "github.com/chromedp/chromedp"
 _ "golang.org/x/term"
)
func main(){}
