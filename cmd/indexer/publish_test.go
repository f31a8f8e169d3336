package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/mpower/labor-search/internal/natstest"
)

func TestPublishSeedsTheLogOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster")
	}
	c := natstest.Start(t, 3)
	urls := strings.Join(c.URLs(), ",")
	publishOnce := func() string {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"-publish", "-nats", urls}, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatalf("indexer -publish: %v", err)
		}
		return out.String()
	}
	seqOf := regexp.MustCompile(`published (\d+) documents .* up to sequence (\d+)`)
	first := seqOf.FindStringSubmatch(publishOnce())
	if first == nil || first[1] == "0" || first[1] != first[2] {
		t.Fatalf("first run = %q, want every seed published once, one sequence each", first)
	}
	// Within the duplicate window a re-run adds nothing to the log.
	again := seqOf.FindStringSubmatch(publishOnce())
	if again == nil || again[2] != first[2] {
		t.Errorf("second run = %q, want the same last sequence %s", again, first[2])
	}
}

func TestPublishFlags(t *testing.T) {
	for _, args := range [][]string{{"-publish"}, {"-publish", "-nats", "nats://x", "-index", "d"}} {
		if _, err := parseConfig(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) = nil error", args)
		}
	}
}
