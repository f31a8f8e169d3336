// Command replcheck is the failure suite of replicated mode (issue 13): it
// starts three real nats-server processes (built from the module proxy at
// the go.mod version) and three searchd replicas on loopback, drives writers
// through random replicas, and injects, one scenario after the other:
//
//	leader     the stream leader's server is SIGKILLed, restarted 5 s later
//	follower   a server that is not the stream leader is SIGKILLed, restarted
//	quorum     two of the three servers are SIGKILLed: writes must be refused
//	           cleanly (503 unavailable within the write timeout), searches
//	           still answered; then both are restarted
//	replica    a searchd replica is SIGKILLed and restarted on its directory
//	join       a fourth replica starts on an empty directory (from the
//	           snapshot the first replica publishes every 3 s)
//
// About 1 write in 15 is an editors' synonym set put or delete, on a few
// set ids of the writer's own (w<n>-s<k>) with terms new to each put, so a
// missed overwrite shows. After each scenario it waits until every replica
// has applied the stream's last sequence and checks that every acknowledged
// write is on every replica, that the replicas' documents (ids and stored
// content) and synonym sets (GET /v1/synonyms at that sequence) are
// identical, and that they equal the stream's own last-per-subject state.
// It prints one table row per scenario: writes sent / acknowledged / lost,
// 503s, the longest pause between acknowledgements, the convergence time,
// and in the notes the synonym set writes sent / acknowledged / lost; it
// exits non-zero on any violation. .ci/checks.d/66-replication.sh runs it:
//
//	go build -o /tmp/nats-server github.com/nats-io/nats-server/v2
//	go build -o /tmp/searchd ./cmd/searchd
//	go run ./cmd/replcheck -nats-server /tmp/nats-server -searchd /tmp/searchd
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// writeTimeout is the replicas' -write-timeout: a leader election takes 4-9 s.
const writeTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replcheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replcheck", flag.ContinueOnError)
	natsBin := fs.String("nats-server", "nats-server", "nats-server `binary`")
	searchd := fs.String("searchd", "", "searchd `binary` (required)")
	writers := fs.Int("writers", 4, "concurrent writers")
	pace := fs.Duration("pace", 5*time.Millisecond, "pause between one writer's writes")
	keep := fs.Bool("keep", false, "keep the work directory (logs, stores) for a post-mortem")
	only := fs.String("scenarios", "leader,follower,quorum,replica,join", "comma-separated `scenarios` to run, in order")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *searchd == "" {
		return fmt.Errorf("-searchd is required")
	}
	dir, err := os.MkdirTemp("", "replcheck-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(stdout, "work directory:", dir)
	}
	h, err := newHarness(ctx, dir, *natsBin, *searchd, stdout)
	if err != nil {
		return err
	}
	defer h.shutdown()
	h.writers, h.pace = *writers, *pace
	return h.runAll(ctx, splitList(*only))
}
