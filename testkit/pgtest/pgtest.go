// Package pgtest gives tests a real PostgreSQL server and a fresh database
// per test. When NINETEN_TEST_POSTGRES names a server (a URL such as
// postgres://postgres:secret@127.0.0.1:5432/postgres, of a role that may
// create databases), tests use it; otherwise each test binary starts one
// throwaway cluster of its own on first use: initdb in a temporary
// directory, the server on a free loopback port, stopped and removed when
// the tests end. scripts/setup installs PostgreSQL; without it tests fail
// rather than skip, so that CI cannot pass without exercising PostgreSQL.
//
// A test package that uses it must run its tests through Main, because a Go
// test binary ends with os.Exit and runs no deferred cleanup otherwise:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// If the binary dies without Main's cleanup (a panic in a goroutine, a
// -timeout, a kill), the kernel stops the server with it (Linux parent-death
// signal), and the next binary to start a cluster removes the directory
// left behind: each live cluster's directory holds a lock file that its
// binary keeps locked, so an unlocked one belongs to nobody.
package pgtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// EnvServer names the environment variable of an existing server to use.
const EnvServer = "NINETEN_TEST_POSTGRES"

// dirPrefix starts the name of every cluster directory, so that stale ones
// can be found.
const dirPrefix = "nineten-pgtest-"

var (
	inMain   atomic.Bool
	once     sync.Once
	shared   *server
	startErr error
	dbs      atomic.Int64

	tplMu     sync.Mutex
	templates = map[string]*template{}
)

// Main runs the tests of m, stops the cluster they started (if any) and
// exits with their status.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that has more to do (say,
// also stop an S3 server: anything with a Run method runs the tests).
func Run(m interface{ Run() int }) int {
	inMain.Store(true)
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	return code
}

// server is the PostgreSQL server of this test binary.
type server struct {
	base   *url.URL // a superuser's URL; the path names the database
	admin  *sql.DB  // connected to base, to create and drop databases
	prefix string   // of the databases this binary creates
	cmd    *exec.Cmd
	dir    string
	lock   *os.File
	done   chan struct{} // closed when the server process has exited
	log    *logTail
}

// URL returns the URL of the database named name on the server.
func (s *server) URL(name string) string {
	u := *s.base
	u.Path = "/" + name
	return u.String()
}

// get returns the server, starting it on first use.
func get(t testing.TB) *server {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest: run the package's tests through pgtest.Main (func TestMain(m *testing.M) { pgtest.Main(m) }), so that the PostgreSQL cluster stops after them")
	}
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		t.Fatal(startErr)
	}
	return shared
}

// ServerURL returns the URL of a superuser on the server, connected to its
// maintenance database.
func ServerURL(t testing.TB) string { return get(t).base.String() }

// template is a database that new databases are copied from.
type template struct {
	once sync.Once
	name string
	err  error
}

// Template makes a template database once per binary and key: a new
// database that setup prepares (given its URL; setup must close every
// connection it opens), which NewDatabase then copies. Copying a prepared
// database is much faster than preparing each one afresh.
func Template(t testing.TB, key string, setup func(url string) error) string {
	t.Helper()
	s := get(t)
	tplMu.Lock()
	tpl := templates[key]
	if tpl == nil {
		tpl = &template{name: s.prefix + "tpl_" + sanitize(key)}
		templates[key] = tpl
	}
	tplMu.Unlock()
	tpl.once.Do(func() {
		ctx := context.Background()
		if _, err := s.admin.ExecContext(ctx, `CREATE DATABASE `+pgx.Identifier{tpl.name}.Sanitize()); err != nil {
			tpl.err = fmt.Errorf("pgtest: creating the template database %s: %w", tpl.name, err)
			return
		}
		if err := setup(s.URL(tpl.name)); err != nil {
			tpl.err = fmt.Errorf("pgtest: preparing the template database %s: %w", tpl.name, err)
			return
		}
		// Marked a template, it can be copied by anyone and dropped by
		// nobody by mistake.
		_, err := s.admin.ExecContext(ctx, `ALTER DATABASE `+pgx.Identifier{tpl.name}.Sanitize()+` IS_TEMPLATE true`)
		if err != nil {
			tpl.err = fmt.Errorf("pgtest: marking %s a template: %w", tpl.name, err)
		}
	})
	if tpl.err != nil {
		t.Fatal(tpl.err)
	}
	return tpl.name
}

// NewDatabase creates a database for t, a copy of template (a name that
// Template returned) or empty when template is "", and drops it when t
// ends. It returns the database's URL.
func NewDatabase(t testing.TB, template string) string {
	t.Helper()
	s := get(t)
	name := fmt.Sprintf("%st%d", s.prefix, dbs.Add(1))
	stmt := `CREATE DATABASE ` + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += ` TEMPLATE ` + pgx.Identifier{template}.Sanitize()
	}
	if _, err := s.admin.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
	t.Cleanup(func() {
		// FORCE ends the connections of a store the test left open.
		_, err := s.admin.ExecContext(context.Background(), `DROP DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
		if err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start finds the server to use: NINETEN_TEST_POSTGRES, or a cluster of
// our own.
func start() (*server, error) {
	if raw := os.Getenv(EnvServer); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return nil, fmt.Errorf("pgtest: %s=%q: give a server URL such as postgres://user:password@host:5432/postgres", EnvServer, raw)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/postgres"
		}
		// A shared server holds the databases of many binaries, and maybe
		// of earlier runs: a random prefix keeps this binary's apart.
		s := &server{base: u, prefix: "nineten_test_" + randomHex(4) + "_"}
		if err := s.connect(); err != nil {
			return nil, err
		}
		return s, nil
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	removeStale()
	// Another process may take the free port between our check and the
	// server's bind; a few tries make that harmless.
	for try := 0; ; try++ {
		s, err := launch(bin)
		if err == nil || try == 2 {
			return s, err
		}
	}
}

func (s *server) connect() error {
	cfg, err := pgx.ParseConfig(s.base.String())
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.admin = stdlib.OpenDB(*cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.admin.PingContext(ctx); err != nil {
		s.admin.Close()
		return fmt.Errorf("pgtest: connecting to %s: %w", s.base.Redacted(), err)
	}
	return nil
}

// BinDir returns the directory of the PostgreSQL server programs (initdb,
// postgres): $NINETEN_PG_BIN, or what pg_config says, or the newest
// /usr/lib/postgresql/*/bin (Debian keeps them off the PATH), or the PATH.
func BinDir() (string, error) {
	var candidates []string
	if dir := os.Getenv("NINETEN_PG_BIN"); dir != "" {
		candidates = append(candidates, dir)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(debian, func(a, b string) int { return version(b) - version(a) })
	candidates = append(candidates, debian...)
	if p, err := exec.LookPath("postgres"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: the PostgreSQL server programs (initdb, postgres) are not installed: run scripts/setup, or set %s to a server URL", EnvServer)
}

// version is the major version in a path like /usr/lib/postgresql/15/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Durable starts a cluster of its own, for tools such as the benchmark,
// with PostgreSQL's durability settings as a production server has them
// (fsync, synchronous commits, full-page writes), and returns a URL of a
// new database on it and a function that stops it and removes its files.
func Durable() (dbURL string, stop func(), err error) {
	bin, err := BinDir()
	if err != nil {
		return "", nil, err
	}
	s, err := launch(bin, "-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on", "-c", "shared_buffers=256MB")
	if err != nil {
		return "", nil, err
	}
	if _, err := s.admin.Exec("CREATE DATABASE nineten_bench"); err != nil {
		s.stop()
		return "", nil, err
	}
	return s.URL("nineten_bench"), s.stop, nil
}

func launch(bin string, settings ...string) (s *server, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	s = &server{dir: dir, prefix: "", done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	// The lock lives as long as this process: see removeStale.
	if s.lock, err = lockDir(dir); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	// initdb and the server refuse to run as root, so as root they run as
	// nobody, in a directory of nobody's.
	cred, err := unprivileged()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := chownTo(dir, cred); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"LC_ALL=C", "LANG=C", "PATH=" + os.Getenv("PATH"), "HOME=" + dir}

	// A C-locale cluster is the least helpful case for the store: it must
	// fold case and compare text through its own ICU collations, never
	// through the database's locale.
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Env = env
	setCredential(initdb, cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}

	// Durability is of no use to a throwaway cluster; speed is.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=400",
		"-c", "shared_buffers=64MB",
		"-c", "lc_messages=C",
		"-c", "log_min_messages=warning",
		"-c", "log_statement=none")
	// Later settings win over earlier ones.
	s.cmd.Args = append(s.cmd.Args, settings...)
	s.cmd.Env = env
	setCredential(s.cmd, cred)
	setDeathSignal(s.cmd)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	s.log = &logTail{}
	ready := make(chan struct{})
	// The parent-death signal fires when the thread that started the
	// child exits, and Go may end idle threads: so one locked thread
	// starts the server and waits for it, living exactly as long as it.
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := s.cmd.Start()
		started <- err
		if err != nil {
			return
		}
		// The server says when it accepts connections; reading its log
		// for that beats polling.
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			line := sc.Text()
			s.log.add(line)
			if !said && strings.Contains(line, "database system is ready to accept connections") {
				close(ready)
				said = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		s.cmd = nil
		return nil, fmt.Errorf("pgtest: starting %s: %w", bin, err)
	}
	select {
	case <-ready:
	case <-s.done:
		return nil, fmt.Errorf("pgtest: the PostgreSQL server exited before it was ready: %v\n%s", s.cmd.ProcessState, s.log)
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("pgtest: the PostgreSQL server was not ready after a minute\n%s", s.log)
	}
	s.base = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	if err := s.connect(); err != nil {
		return nil, err
	}
	return s, nil
}

// stop ends the server, if it runs, and removes its directory; on a
// server of NINETEN_TEST_POSTGRES it drops the templates it made instead.
func (s *server) stop() {
	if s.admin != nil {
		if s.cmd == nil {
			s.dropTemplates()
		}
		s.admin.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		// Immediate shutdown: the data is thrown away anyway.
		_ = s.cmd.Process.Signal(quitSignal)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: removing %s: %v\n", s.dir, err)
		}
	}
	if s.lock != nil {
		s.lock.Close()
	}
}

// dropTemplates drops the template databases this binary made. (The
// databases made from them went with their tests.)
func (s *server) dropTemplates() {
	tplMu.Lock()
	defer tplMu.Unlock()
	ctx := context.Background()
	for _, tpl := range templates {
		name := pgx.Identifier{tpl.name}.Sanitize()
		_, _ = s.admin.ExecContext(ctx, `ALTER DATABASE `+name+` IS_TEMPLATE false`)
		if _, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: dropping the template database %s: %v\n", tpl.name, err)
		}
	}
}

// removeStale removes the directories of clusters whose test binary is
// gone: nobody holds their lock any more.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		if f, ok := tryLock(dir); ok {
			stopOrphan(filepath.Join(dir, "data"))
			os.RemoveAll(dir)
			f.Close()
		}
	}
}

// stopOrphan stops a server still running in data, whose binary died
// where no parent-death signal stopped it.
func stopOrphan(data string) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Signal(quitSignal)
	}
}

// logTail keeps the last lines the server logged, for error messages.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > 50 {
		l.lines = l.lines[1:]
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
