// Package natstest runs a JetStream cluster inside a test process, on
// loopback only, with the durability settings production uses
// (sync_interval: always). It is for tests; the service never imports it.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of servers in this process.
type Cluster struct {
	tb      testing.TB
	dir     string
	ports   []int // client ports
	routes  []int // cluster ports
	servers []*server.Server
}

// MaxPayload is the servers' message limit: a document of the API's 1 MiB
// plus its enrichment and headers fits.
const MaxPayload = 4 << 20

// Start runs n servers clustered together and waits until JetStream has a
// meta leader. They are shut down when the test ends.
func Start(tb testing.TB, n int) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb, dir: tb.TempDir(), servers: make([]*server.Server, n)}
	for range n {
		c.ports = append(c.ports, freePort(tb))
		c.routes = append(c.routes, freePort(tb))
	}
	for i := range n {
		c.start(i)
	}
	tb.Cleanup(c.Shutdown)
	c.waitMetaLeader()
	return c
}

func (c *Cluster) start(i int) {
	c.tb.Helper()
	var routes []*url.URL
	for j, p := range c.routes {
		if j != i {
			routes = append(routes, &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))})
		}
	}
	opts := &server.Options{
		ServerName:         fmt.Sprintf("n%d", i+1),
		Host:               "127.0.0.1",
		Port:               c.ports[i],
		JetStream:          true,
		StoreDir:           filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)),
		SyncAlways:         true,
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  1 << 30,
		MaxPayload:         MaxPayload,
		NoLog:              true,
		NoSigs:             true,
		Cluster:            server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: c.routes[i]},
		Routes:             routes,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		c.tb.Fatalf("nats server n%d: %v", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.tb.Fatalf("nats server n%d not ready", i+1)
	}
	c.servers[i] = s
}

func (c *Cluster) waitMetaLeader() {
	c.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.servers {
			if s != nil && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.tb.Fatal("the JetStream cluster elected no meta leader in 20s")
}

// URLs are the servers' client URLs.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.ports))
	for i, p := range c.ports {
		out[i] = "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	return out
}

// Stop shuts server i down (its store stays on disk).
func (c *Cluster) Stop(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Restart starts server i again on its store.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	c.Stop(i)
	c.start(i)
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Stop(i)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
