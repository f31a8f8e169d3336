// Command deploycheck checks that the Grafana dashboard and the Prometheus
// rules and alerts in deploy/ only read metrics a running searchd exposes:
//
//	(cd tools && go run ./deploycheck -metrics http://localhost:8080/metrics)
//
// It prints one line per expression that reads a metric the service does
// not expose (nor a recording rule records) and exits 1 if there is any.
// Run it against a deployment after changing the service's metrics or the
// deploy files; the tests beside it do the same against a freshly built
// searchd, and also check the Kubernetes, Docker and Compose files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "deploycheck:", err)
		}
		os.Exit(1)
	}
}

// errProblems reports that the check ran and found problems, already
// printed.
var errProblems = errors.New("the deploy files read metrics the service does not expose")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deploycheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	metricsURL := fs.String("metrics", "http://localhost:8080/metrics", "URL of a running searchd's /metrics")
	deployDir := fs.String("deploy", "deploy", "the repository's deploy directory")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: deploycheck [-metrics URL] [-deploy DIR]")
		fmt.Fprintln(stderr, "Checks that every PromQL expression of the Grafana dashboard and the Prometheus rules reads only metrics the service exposes.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	body, err := fetch(ctx, *metricsURL)
	if err != nil {
		return err
	}
	problems, err := checkAgainst(*deployDir, body)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return errProblems
	}
	fmt.Fprintf(stdout, "every expression in %s reads metrics that %s exposes\n", *deployDir, *metricsURL)
	return nil
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	// The text format: the one parser this check uses, whatever else the
	// server could negotiate.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: status %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	return body, nil
}
