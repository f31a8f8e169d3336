package analytics

import "github.com/prometheus/client_golang/prometheus"

// metrics are the aggregate rates Prometheus keeps. No query text is ever
// a label: the store's reports are the only place queries are named.
type metrics struct {
	searches        *prometheus.CounterVec
	clicks          prometheus.Counter
	clickedSearches prometheus.Counter
	folded          prometheus.Counter
	events          *prometheus.CounterVec
	position        prometheus.Histogram
}

// Outcomes of a counted search, the outcome label of
// search_analytics_searches_total.
var outcomes = []string{"results", "zero_results", "relaxed"}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		searches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "search_analytics_searches_total",
			Help: "Searches visitors made, as query analytics count them (search-as-you-type folded, analytics=false and helper queries left out), by outcome: results, zero_results, or relaxed (answered by dropping words).",
		}, []string{"outcome"}),
		clicks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "search_analytics_clicks_total",
			Help: "Clicks on hits counted by query analytics (POST /v1/events), repeats left out.",
		}),
		clickedSearches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "search_analytics_clicked_searches_total",
			Help: "Counted searches followed by at least one click; over search_analytics_searches_total it is the click-through rate.",
		}),
		folded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "search_analytics_folded_total",
			Help: "Searches of search-as-you-type replaced by the same session's next keystroke within the fold window, so not counted on their own.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "search_analytics_click_events_total",
			Help: "Click events received, by result: counted, or why not (unknown_query_id, repeat_click, too_many_clicks).",
		}, []string{"result"}),
		position: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "search_analytics_click_position",
			Help:    "Rank (1 = first hit) of the clicked hits counted.",
			Buckets: []float64{1, 2, 3, 5, 10, 20, 50, 100},
		}),
	}
	for _, o := range outcomes {
		m.searches.WithLabelValues(o)
	}
	for _, r := range []string{"counted", ReasonUnknownQuery, ReasonRepeat, ReasonTooMany} {
		m.events.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.searches, m.clicks, m.clickedSearches, m.folded, m.events, m.position} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
