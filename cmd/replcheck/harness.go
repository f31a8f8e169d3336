package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const apiKey = "replcheck-key"

type harness struct {
	dir, searchdBin string
	out             io.Writer
	servers         []*natsServer
	replicas        []*replica
	urls            []string
	spare           []int // ports for replicas that join later
	nc              *nats.Conn
	js              jetstream.JetStream
	client          *http.Client
	writers         int
	pace            time.Duration
	model           *model

	mu         sync.Mutex // guards replicas (a replica joins) and violations
	violations []string
}

func newHarness(ctx context.Context, dir, natsBin, searchdBin string, out io.Writer) (*harness, error) {
	ports, err := freePorts(3 + 3 + 4)
	if err != nil {
		return nil, err
	}
	h := &harness{dir: dir, searchdBin: searchdBin, out: out, spare: ports[9:], model: newModel(),
		client: &http.Client{Timeout: writeTimeout + 5*time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	clientPorts, routePorts := ports[0:3], ports[3:6]
	began := time.Now()
	for i := range 3 {
		s, err := newNATSServer(natsBin, dir, i, clientPorts, routePorts)
		if err != nil {
			return nil, err
		}
		h.servers = append(h.servers, s)
		h.urls = append(h.urls, fmt.Sprintf("nats://127.0.0.1:%d", s.port))
		if err := s.start(); err != nil {
			h.shutdown()
			return nil, err
		}
	}
	for _, s := range h.servers {
		if err := waitListening(s.port, 10*time.Second); err != nil {
			h.shutdown()
			return nil, fmt.Errorf("%s: %w; see %s", s.name, err, s.log)
		}
	}
	if h.nc, err = nats.Connect(strings.Join(h.urls, ","), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond)); err != nil {
		h.shutdown()
		return nil, err
	}
	h.js, _ = jetstream.New(h.nc)
	for i := range 3 {
		r := newReplica(searchdBin, dir, i, ports[6+i], h.urls, apiKey)
		h.replicas = append(h.replicas, r)
		if err := r.start(); err != nil {
			h.shutdown()
			return nil, err
		}
	}
	for _, r := range h.replicas {
		if err := r.waitReady(ctx, 60*time.Second); err != nil {
			h.shutdown()
			return nil, err
		}
	}
	fmt.Fprintf(out, "3 nats-server (sync_interval: always) and 3 searchd replicas up in %.1f s\n", time.Since(began).Seconds())
	return h, nil
}

func (h *harness) shutdown() {
	for _, r := range h.replicas {
		r.stop()
	}
	if h.nc != nil {
		h.nc.Close()
	}
	for _, s := range h.servers {
		s.stop()
	}
}

// scenario is one fault injected while writers run.
type scenario struct {
	name, what string
	inject     func(ctx context.Context, h *harness, w *workload) error
}

func scenarios() []scenario {
	return []scenario{
		{"leader", "SIGKILL the stream leader's server, restart it 5 s later", func(ctx context.Context, h *harness, w *workload) error {
			s, err := h.streamLeader(ctx)
			if err != nil {
				return err
			}
			w.note("killed " + s.name + " (stream leader)")
			s.kill()
			sleep(ctx, 5*time.Second)
			return h.restartServer(s)
		}},
		{"follower", "SIGKILL a server that is not the stream leader, restart it 5 s later", func(ctx context.Context, h *harness, w *workload) error {
			leader, err := h.streamLeader(ctx)
			if err != nil {
				return err
			}
			var s *natsServer
			for _, c := range h.servers {
				if c != leader {
					s = c
					break
				}
			}
			w.note("killed " + s.name + " (follower)")
			s.kill()
			sleep(ctx, 5*time.Second)
			return h.restartServer(s)
		}},
		{"quorum", "SIGKILL two of three servers for 14 s: writes refused, searches answered; restart both", func(ctx context.Context, h *harness, w *workload) error {
			leader, err := h.streamLeader(ctx)
			if err != nil {
				return err
			}
			victims := []*natsServer{leader}
			for _, c := range h.servers {
				if c != leader && len(victims) < 2 {
					victims = append(victims, c)
				}
			}
			for _, s := range victims {
				s.kill()
			}
			w.note("killed " + victims[0].name + " and " + victims[1].name)
			w.markQuorumLost(true)
			sleep(ctx, writeTimeout+4*time.Second)
			w.markQuorumLost(false)
			for _, s := range victims {
				if err := h.restartServer(s); err != nil {
					return err
				}
			}
			return nil
		}},
		{"replica", "SIGKILL a searchd replica, restart it on its directory 3 s later", func(ctx context.Context, h *harness, w *workload) error {
			r := h.replicas[1]
			r.kill()
			w.note("killed " + r.name)
			sleep(ctx, 3*time.Second)
			if err := r.start(); err != nil {
				return err
			}
			return r.waitReady(ctx, 60*time.Second)
		}},
		{"join", "start a new replica on an empty directory", func(ctx context.Context, h *harness, w *workload) error {
			i := len(h.replicas)
			r := newReplica(h.searchdBin, h.dir, i, h.spare[0], h.urls, apiKey)
			h.spare = h.spare[1:]
			began := time.Now()
			if err := r.start(); err != nil {
				return err
			}
			if err := r.waitReady(ctx, 60*time.Second); err != nil {
				return err
			}
			w.note(fmt.Sprintf("%s ready after %.1f s%s", r.name, time.Since(began).Seconds(), r.bootstrapNote(ctx)))
			h.mu.Lock()
			h.replicas = append(h.replicas, r)
			h.mu.Unlock()
			return nil
		}},
	}
}

func (h *harness) restartServer(s *natsServer) error {
	if err := s.start(); err != nil {
		return err
	}
	return waitListening(s.port, 10*time.Second)
}

// streamLeader is the server leading the stream's Raft group.
func (h *harness) streamLeader(ctx context.Context) (*natsServer, error) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := h.js.Stream(actx, "SEARCH")
		cancel()
		if err == nil && s.CachedInfo().Cluster != nil {
			for _, srv := range h.servers {
				if srv.name == s.CachedInfo().Cluster.Leader {
					return srv, nil
				}
			}
		}
		sleep(ctx, 200*time.Millisecond)
	}
	return nil, fmt.Errorf("no stream leader found")
}

func (h *harness) runAll(ctx context.Context, names []string) error {
	all := map[string]scenario{}
	for _, s := range scenarios() {
		all[s.name] = s
	}
	fmt.Fprintf(h.out, "\n%-9s %6s %6s %6s %5s %9s %9s %10s %8s  %s\n",
		"scenario", "sent", "acked", "lost", "503s", "max-503", "pause", "converged", "digest", "notes")
	began := time.Now()
	for _, name := range names {
		sc, ok := all[name]
		if !ok {
			return fmt.Errorf("no scenario %q", name)
		}
		if err := h.runOne(ctx, sc); err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	fmt.Fprintf(h.out, "\n%d scenarios in %.0f s; %d documents and %d synonym sets ever written, %d replicas at the end\n",
		len(names), time.Since(began).Seconds(), len(h.model.ids), len(h.model.synIDs), len(h.replicas))
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.violations) > 0 {
		for _, v := range h.violations {
			fmt.Fprintln(h.out, "VIOLATION:", v)
		}
		return fmt.Errorf("%d violations", len(h.violations))
	}
	fmt.Fprintln(h.out, "OK: 0 acknowledged writes lost; replicas identical to each other and to the stream (documents and synonym sets) after every scenario")
	return nil
}

func (h *harness) runOne(ctx context.Context, sc scenario) error {
	w := newWorkload(h)
	w.start(ctx)
	sleep(ctx, 3*time.Second)
	if err := sc.inject(ctx, h, w); err != nil {
		w.stop()
		return err
	}
	w.markRecovered()
	// Writes go on until they resume (bounded) and a while after, so
	// resuming is measured too.
	resumed := time.Now()
	for w.acksAfterRecovery() == 0 && time.Since(resumed) < 40*time.Second && ctx.Err() == nil {
		sleep(ctx, 50*time.Millisecond)
	}
	if d := time.Since(resumed); d > time.Second {
		w.note(fmt.Sprintf("writes resumed %.1f s after the restart", d.Seconds()))
	}
	sleep(ctx, 4*time.Second)
	w.stop()
	stopped := time.Now()
	last, err := h.waitConverged(ctx)
	if err != nil {
		h.violate(sc.name + ": " + err.Error())
	}
	converged := time.Since(stopped)
	res := h.check(ctx, sc.name, w, last)
	if w.acksAfterRecovery() == 0 {
		h.violate(sc.name + ": no write acknowledged after the recovery")
	}
	if w.quorumAcks > 0 {
		h.violate(fmt.Sprintf("%s: %d writes acknowledged while two of three servers were down", sc.name, w.quorumAcks))
	}
	maxRefusal := w.maxRefusal()
	if maxRefusal > writeTimeout+3*time.Second {
		h.violate(fmt.Sprintf("%s: a refused write took %s (write timeout %s): a hang", sc.name, maxRefusal, writeTimeout))
	}
	notes := strings.Join(w.notes, "; ")
	notes += fmt.Sprintf("; syn sent %d acked %d lost %d, %d sets live (digest %s)",
		w.synSent, w.synAcked, res.synLost, res.synLive, res.synDigest[:8])
	if w.searches > 0 {
		notes += fmt.Sprintf("; searches answered %d/%d", w.searchOK, w.searches)
	}
	fmt.Fprintf(h.out, "%-9s %6d %6d %6d %5d %8.1fs %8.1fs %9.1fs %8s  seq %d; %s\n",
		sc.name, w.sent, w.acked, res.lost, w.unavailable, maxRefusal.Seconds(), w.longestPause().Seconds(),
		converged.Seconds(), res.digest[:8], last, notes)
	return nil
}

// waitConverged waits until every replica has applied the stream's last
// sequence, and returns it.
func (h *harness) waitConverged(ctx context.Context) (uint64, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := h.js.Stream(actx, "SEARCH")
		cancel()
		if err == nil {
			last := s.CachedInfo().State.LastSeq
			behind := 0
			for _, r := range h.liveReplicas() {
				st, err := h.readyz(ctx, r)
				if err != nil || st.AppliedSeq < last {
					behind++
				}
				if err == nil && st.AppliedSeq > last {
					return 0, fmt.Errorf("%s applied sequence %d, past the stream's last %d", r.name, st.AppliedSeq, last)
				}
			}
			if behind == 0 {
				return last, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("replicas did not converge within 60 s")
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func (h *harness) violate(v string) {
	h.mu.Lock()
	h.violations = append(h.violations, v)
	h.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// pick is a random element.
func pick[T any](xs []T) T { return xs[rand.IntN(len(xs))] }

// sortedKeys of a set.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ sync.Locker = (*sync.Mutex)(nil)
