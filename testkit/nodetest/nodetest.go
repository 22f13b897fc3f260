// Package nodetest starts real 9ten nodes for tests: the real binary,
// built once per test process, in its own process with its own data
// directory, on a free loopback port.
package nodetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/9ten (once) and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "9ten-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "9ten")
		out, err := exec.Command("go", "build", "-C", root, "-o", binPath, "./cmd/9ten").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Node is a running node.
type Node struct {
	URL           string // e.g. http://127.0.0.1:41234
	Data          string
	AdminUser     string
	AdminPassword string
	Args          []string

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	logs strings.Builder
}

// Start runs `9ten serve` on a fresh data directory with extra flags.
func Start(t testing.TB, extra ...string) *Node {
	t.Helper()
	return StartIn(t, t.TempDir(), extra...)
}

// StartIn runs `9ten serve` on the data directory data, which the test may
// have prepared (say, with the secrets of another process of the node).
func StartIn(t testing.TB, data string, extra ...string) *Node {
	t.Helper()
	n := &Node{Data: data, AdminUser: "admin", AdminPassword: "admin-password-for-tests", t: t}
	n.Args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data", n.Data,
		"--admin-user", n.AdminUser, "--admin-password", n.AdminPassword, "--log-format", "json"}, extra...)
	n.Restart()
	t.Cleanup(n.Stop)
	return n
}

// Restart starts the node's process again on the same data directory
// (after Kill or Stop), waiting until it is ready.
func (n *Node) Restart() {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(Binary(n.t), n.Args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		defer close(n.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.logs.WriteString(line + "\n")
			n.mu.Unlock()
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "node ready" {
				ready <- strings.TrimSuffix(rec.URL, "/")
			}
		}
		cmd.Wait()
	}()
	select {
	case u := <-ready:
		n.URL = u
	case <-n.done:
		n.t.Fatalf("9ten exited before it was ready:\n%s", n.Logs())
	case <-ctx.Done():
		n.t.Fatalf("9ten was not ready within a minute:\n%s", n.Logs())
	}
}

// Logs returns what the node logged so far.
func (n *Node) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.logs.String()
}

// Kill stops the node abruptly (SIGKILL), as a crash would.
func (n *Node) Kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		n.cmd.Process.Kill()
		<-n.done
	}
}

// Stop stops the node gracefully (SIGTERM).
func (n *Node) Stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
	if n.t.Failed() {
		n.t.Logf("node logs:\n%s", n.Logs())
	}
}
