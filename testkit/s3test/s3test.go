// Package s3test gives tests a real S3 service: one versitygw (an S3
// gateway over a plain directory) per test binary, on a free loopback port,
// with a fresh bucket per test. scripts/setup installs versitygw. When
// NINETEN_TEST_S3 names an endpoint (e.g. http://127.0.0.1:9000, with
// credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), tests use
// that service instead.
//
// A test package that uses it must run its tests through Main:
//
//	func TestMain(m *testing.M) { s3test.Main(m) }
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the versitygw release scripts/install-versitygw installs.
const Version = "v1.7.0"

// Bucket is an empty bucket made for one test.
type Bucket struct {
	Name      string
	Endpoint  string // host:port
	Insecure  bool   // plain HTTP
	Region    string
	AccessKey string
	SecretKey string
}

// URL is the bucket as a --blob setting (credentials go in the environment).
func (b Bucket) URL() string {
	q := url.Values{"endpoint": {b.Endpoint}, "region": {b.Region}, "style": {"path"}}
	if b.Insecure {
		q.Set("insecure", "1")
	}
	return "s3://" + b.Name + "?" + q.Encode()
}

// Env returns the environment variables that give a 9ten process the
// bucket's credentials.
func (b Bucket) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + b.AccessKey, "AWS_SECRET_ACCESS_KEY=" + b.SecretKey}
}

// Client returns a minio-go client of the bucket's service, for tests
// that look at the bucket behind a store's back.
func (b Bucket) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(b.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(b.AccessKey, b.SecretKey, ""),
		Secure: !b.Insecure, Region: b.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// service is the S3 service of this test binary.
type service struct {
	endpoint, access, secret, region string
	insecure                         bool

	cmd  *exec.Cmd
	dir  string
	done chan struct{} // closed when the process has exited
}

var (
	inMain   atomic.Bool
	once     sync.Once
	shared   *service
	startErr error
	buckets  atomic.Int64
)

// Main runs the tests of m and then stops the versitygw they started.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that has more to do (say,
// also stop a PostgreSQL cluster): anything with a Run method runs the
// tests.
func Run(m interface{ Run() int }) int {
	inMain.Store(true)
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// NewBucket makes an empty bucket for t and removes it (with whatever is
// left in it) when t ends.
func NewBucket(t testing.TB) Bucket {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("s3test: run the package's tests through s3test.Main (func TestMain(m *testing.M) { s3test.Main(m) }), so that versitygw stops after them")
	}
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		t.Fatal(startErr)
	}
	b := Bucket{
		Name:     fmt.Sprintf("t%d-%s", buckets.Add(1), randomHex(4)),
		Endpoint: shared.endpoint, Insecure: shared.insecure, Region: shared.region,
		AccessKey: shared.access, SecretKey: shared.secret,
	}
	c := b.Client(t)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, b.Name, minio.MakeBucketOptions{Region: b.Region}); err != nil {
		t.Fatalf("s3test: making bucket %s at %s: %v", b.Name, b.Endpoint, err)
	}
	t.Cleanup(func() {
		// Empty and remove the bucket: a shared service (NINETEN_TEST_S3)
		// must not fill up with test buckets.
		for o := range c.ListObjects(ctx, b.Name, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				_ = c.RemoveObject(ctx, b.Name, o.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := c.RemoveBucket(ctx, b.Name); err != nil {
			t.Logf("s3test: removing bucket %s: %v", b.Name, err)
		}
	})
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start finds the service to use: NINETEN_TEST_S3, or a versitygw of our own.
func start() (*service, error) {
	if ep := os.Getenv("NINETEN_TEST_S3"); ep != "" {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3test: NINETEN_TEST_S3=%q: give the endpoint as http://host:port or https://host", ep)
		}
		s := &service{endpoint: u.Host, insecure: u.Scheme == "http", region: os.Getenv("AWS_REGION"),
			access: os.Getenv("AWS_ACCESS_KEY_ID"), secret: os.Getenv("AWS_SECRET_ACCESS_KEY")}
		if s.access == "" || s.secret == "" {
			return nil, errors.New("s3test: NINETEN_TEST_S3 is set: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for it too")
		}
		if s.region == "" {
			s.region = "us-east-1"
		}
		return s, nil
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	// Another process may take the free port between our check and
	// versitygw's bind; a few tries make that harmless.
	for try := 0; ; try++ {
		s, err := launch(bin)
		if err == nil || try == 2 {
			return s, err
		}
	}
}

// Binary returns the path of the versitygw that scripts/setup installs:
// $NINETEN_VERSITYGW, or versitygw in the 9ten cache directory.
func Binary() (string, error) {
	bin := os.Getenv("NINETEN_VERSITYGW")
	if bin == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("s3test: no home directory to find versitygw in: %w", err)
			}
			cache = filepath.Join(home, ".cache")
		}
		bin = filepath.Join(cache, "9ten", "bin", "versitygw")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("s3test: the S3 test server versitygw %s is not installed at %s: run scripts/setup (or scripts/install-versitygw)", Version, bin)
	}
	return bin, nil
}

func launch(bin string) (*service, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "9ten-s3test-")
	if err != nil {
		return nil, err
	}
	s := &service{endpoint: addr, insecure: true, region: "us-east-1",
		access: "test-" + randomHex(4), secret: randomHex(16), dir: dir, done: make(chan struct{})}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	s.cmd = exec.Command(bin, "--access", s.access, "--secret", s.secret, "--region", s.region,
		"--port", addr, "--health", "/health", "--quiet", "posix", data)
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	setDeathSignal(s.cmd)
	// The parent-death signal fires when the thread that started the
	// child exits, and Go may end idle threads: so one locked thread
	// starts versitygw and waits for it, living exactly as long as it.
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := s.cmd.Start()
		started <- err
		if err == nil {
			_ = s.cmd.Wait()
			close(s.done)
		}
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("s3test: starting %s: %w", bin, err)
	}
	if err := s.waitReady(30 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("s3test: versitygw on %s: %w\n%s", addr, err, out.String())
	}
	return s, nil
}

// waitReady polls the health endpoint until it answers, the process dies
// or the deadline passes.
func (s *service) waitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get("http://" + s.endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", within, err)
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before it was ready: %v", s.cmd.ProcessState)
		case <-tick.C:
		}
	}
}

// stop ends the process (gently, then not) and removes its directory.
func (s *service) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}
