package handlers

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of the per-client write limit.
const (
	DefaultWriteRate  = 10 // writes per second, on average
	DefaultWriteBurst = 20 // writes at once
	// maxLimitedClients bounds the buckets kept in memory; clients beyond
	// it share one bucket until idle ones are dropped.
	maxLimitedClients = 10000
)

// writeLimiter is a token bucket per client for the write routes. It runs
// before the key is checked, so it also slows anyone guessing the key, and
// it keeps one client's flood of writes (each a durable batch) from
// starving the others.
type writeLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*rate.Limiter
	overflow  *rate.Limiter
	lastSweep time.Time
}

// newWriteLimiter returns nil, no limit, for a negative rate.
func newWriteLimiter(perSecond float64, burst int, now func() time.Time) *writeLimiter {
	if perSecond < 0 {
		return nil
	}
	if perSecond == 0 {
		perSecond = DefaultWriteRate
	}
	if burst <= 0 {
		burst = max(DefaultWriteBurst, int(math.Ceil(perSecond)))
	}
	return &writeLimiter{
		limit:    rate.Limit(perSecond),
		burst:    burst,
		now:      now,
		clients:  map[string]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Limit(perSecond), burst),
	}
}

// allow takes a token from the client's bucket, or says how long until one
// is there.
func (l *writeLimiter) allow(client string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	lim := l.clients[client]
	if lim == nil {
		if len(l.clients) >= maxLimitedClients && now.Sub(l.lastSweep) >= time.Second {
			l.sweep(now)
		}
		if len(l.clients) < maxLimitedClients {
			lim = rate.NewLimiter(l.limit, l.burst)
			l.clients[client] = lim
		} else {
			lim = l.overflow
		}
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the buckets that have refilled: a full bucket behaves like a
// new one, so forgetting it changes nothing for its client.
func (l *writeLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, lim := range l.clients {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.clients, k)
		}
	}
}

// clientOf is the address a request's limit is counted against: the peer's
// IP, or its /64 network for IPv6, since one host often holds a whole /64.
// Behind a proxy every client shares the proxy's address.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// limited refuses a write with 429 and Retry-After when the client has
// used up its bucket.
func (s *server) limited(next apiFunc) apiFunc {
	return func(r *http.Request) (*reply, error) {
		if s.writes == nil {
			return next(r)
		}
		if ok, wait := s.writes.allow(clientOf(r)); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			e := newError(CodeRateLimited, "too many writes from this client; retry in %d s", secs)
			e.retryAfter = secs
			return nil, e
		}
		return next(r)
	}
}
