package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child process the driver can SIGKILL and start again.
type proc struct {
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	// A driver that dies takes its children with it: nothing is left
	// listening on the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// stop sends SIGTERM, then SIGKILL after a grace period.
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// natsServer is one nats-server process of the cluster.
type natsServer struct {
	proc
	port int
}

func newNATSServer(bin, dir string, i int, ports, routes []int) (*natsServer, error) {
	name := fmt.Sprintf("n%d", i+1)
	var rs []string
	for j, p := range routes {
		if j != i {
			rs = append(rs, fmt.Sprintf("nats://127.0.0.1:%d", p))
		}
	}
	// The settings production uses (deploy/k8s/nats): fsync before every
	// acknowledgement, a payload limit above the API's 1 MiB document.
	conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
max_payload: 4MB
jetstream {
  store_dir: %q
  sync_interval: always
  max_file_store: 1GB
  max_memory_store: 64MB
}
cluster {
  name: replcheck
  listen: 127.0.0.1:%d
  routes: [%s]
}
`, name, ports[i], filepath.Join(dir, name), routes[i], strings.Join(rs, ", "))
	path := filepath.Join(dir, name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return &natsServer{proc: proc{name: name, args: []string{bin, "-c", path}, log: filepath.Join(dir, name+".log")}, port: ports[i]}, nil
}

// replica is one searchd process.
type replica struct {
	proc
	base string
}

// snapshotInterval is how often the first replica publishes a snapshot.
const snapshotInterval = 3 * time.Second

func newReplica(bin, dir string, i, port int, natsURLs []string, key string) *replica {
	name := fmt.Sprintf("r%d", i+1)
	// Each replica lists the servers in another order, so their
	// connections spread over the cluster.
	urls := append(append([]string(nil), natsURLs[i%len(natsURLs):]...), natsURLs[:i%len(natsURLs)]...)
	args := []string{bin, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-index", filepath.Join(dir, name),
		"-nats", strings.Join(urls, ","), "-write-rate", "0", "-write-timeout", writeTimeout.String()}
	if i == 0 {
		// The first replica publishes index snapshots, killed or not
		// mid-copy, and the replica that joins starts from the newest.
		args = append(args, "-snapshot-interval", snapshotInterval.String())
	}
	return &replica{
		proc: proc{name: name, log: filepath.Join(dir, name+".log"), args: args,
			env: []string{"SEARCH_API_KEY=" + key}},
		base: fmt.Sprintf("http://127.0.0.1:%d", port),
	}
}

// bootstrapNote says whether the replica started from an index snapshot,
// from its metrics.
func (r *replica) bootstrapNote(ctx context.Context) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return ""
	}
	value := func(name string) string {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				return v
			}
		}
		return "?"
	}
	seq := value("replication_snapshot_sequence")
	if seq == "0" {
		return " (applied the log from its start: no snapshot)"
	}
	took, _ := strconv.ParseFloat(value("replication_bootstrap_duration_seconds"), 64)
	return fmt.Sprintf(" (from the snapshot at sequence %s, restored in %.2f s, then the log after it)", seq, took)
}

// waitReady polls /readyz until it answers 200.
func (r *replica) waitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !r.running() {
			return fmt.Errorf("%s exited; see %s", r.name, r.log)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s; see %s", r.name, within, r.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func waitListening(port int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("nothing listens on port " + strconv.Itoa(port))
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
