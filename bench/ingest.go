package main

// The listen-progress ingest benchmark: every listening browser reports
// progress every 10 s, so this is the node's hottest write path. It runs
// real `9ten serve` processes over one database and counts accepted,
// signed progress reports per second from many concurrent listeners.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to create the second database

	"nineten.dev/listen"
	"nineten.dev/testkit/pgtest"
)

// ingestConfig is one row of the ingest table.
type ingestConfig struct {
	name      string
	processes int
	db        string // --db value; "" is each process's default SQLite file (one process only)
	blob      string // --blob value; "" is the data directory (one process only)
	extraEnv  []string
}

// ingestConfigs are the rows of the table: SQLite and PostgreSQL (a
// cluster of our own with production durability settings), one process
// and two processes over the same database and media directory.
func ingestConfigs(dir string) (configs []ingestConfig, stop func()) {
	sqlite := filepath.Join(dir, "ingest-shared.db")
	media := filepath.Join(dir, "ingest-media")
	pg, stopPG, err := pgtest.Durable()
	check(err)
	pg2, err := newPGDatabase(pg, "nineten_bench2")
	check(err)
	return []ingestConfig{
		{name: "sqlite, 1 process", processes: 1},
		{name: "sqlite, 2 processes", processes: 2, db: sqlite, blob: media},
		{name: "postgres, 1 process", processes: 1, db: pg},
		{name: "postgres, 2 processes", processes: 2, db: pg2, blob: media + "-pg"},
	}, stopPG
}

// newPGDatabase creates another database on the server of url.
func newPGDatabase(url, name string) (string, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	i := strings.LastIndex(url, "/")
	return url[:i+1] + name, nil
}

// ingest measures progress reports/s for each configuration.
func ingest(ctx context.Context, dir string, configs []ingestConfig, sessions, conns int, d time.Duration) {
	bin := filepath.Join(dir, "9ten")
	build := exec.Command("go", "build", "-o", bin, "./cmd/9ten")
	build.Stderr = os.Stderr
	check(build.Run())
	audio := tone(dir, 60)
	for _, c := range configs {
		r := ingestOne(ctx, dir, bin, audio, c, sessions, conns, d)
		note := ""
		if r.errors > 0 {
			note = fmt.Sprintf(", %d errors", r.errors)
		}
		// What the node spends per event (its processes and its database
		// server, not the load generator) says what two idle cores could
		// take, whatever else the machine was doing during the run.
		perEvent := r.nodeCPU / time.Duration(max(r.events, 1))
		capacity := 2 / perEvent.Seconds()
		fmt.Printf("%-34s %10.0f ev/s %14s %8s %s (node CPU %.0f µs/event → %.0f ev/s on 2 idle cores%s)\n",
			"progress ingest, "+c.name, r.rate, "-", "-", "≥ 20000 ev/s (postgres, 2 processes)", float64(perEvent.Nanoseconds())/1000, capacity, note)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().String()
}

type ingestResult struct {
	rate    float64       // events/s accepted
	events  int64         // events accepted
	errors  int64         // refused or failed
	nodeCPU time.Duration // CPU of the node's processes and its database server during the load
}

func ingestOne(ctx context.Context, dir, bin, audio string, c ingestConfig, sessions, conns int, d time.Duration) ingestResult {
	var addrs []string
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(os.Interrupt)
			_ = p.Wait()
		}
	}()
	base := filepath.Join(dir, "ingest-"+strings.ReplaceAll(c.name, " ", "-"))
	first := ""
	for i := range c.processes {
		data := filepath.Join(base, fmt.Sprint(i))
		check(os.MkdirAll(data, 0o750))
		if i > 0 {
			// Processes of one node share its secrets.
			for _, f := range []string{"node.secret", "ledger.key"} {
				b, err := os.ReadFile(filepath.Join(base, "0", f))
				check(err)
				check(os.WriteFile(filepath.Join(data, f), b, 0o600))
			}
		}
		addr := freeAddr()
		if first == "" {
			first = addr
		}
		args := []string{"serve", "--addr", addr, "--url", "http://" + first, "--data", data, "--admin-password", "bench-admin-password", "--log-level", "error"}
		if c.db != "" {
			args = append(args, "--db", c.db)
		}
		if c.blob != "" {
			args = append(args, "--blob", c.blob)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), c.extraEnv...)
		cmd.Stderr = os.Stderr
		check(cmd.Start())
		procs = append(procs, cmd)
		waitReady(addr)
		addrs = append(addrs, addr)
	}

	// An artist with one short track, and many listen sessions of it,
	// opened on the processes in turn.
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar, Timeout: time.Minute}
	post(admin, "http://"+addrs[0]+"/api/v1/auth/login", map[string]any{"username": "admin", "password": "bench-admin-password"}, nil)
	var artist struct{ ID int64 }
	post(admin, "http://"+addrs[0]+"/api/v1/artists", map[string]any{"name": "Bench Artist " + c.name}, &artist)
	trackID := uploadAndWait(admin, "http://"+addrs[0], audio)

	type sess struct {
		addr string
		id   string
		key  []byte
		seq  int64
		at   time.Time // when playback started
		mu   sync.Mutex
	}
	all := make([]*sess, sessions)
	anon := &http.Client{Timeout: time.Minute}
	for i := range all {
		addr := addrs[i%len(addrs)]
		var started listen.Started
		post(anon, "http://"+addr+"/api/v1/listens", map[string]any{"track_id": trackID}, &started)
		key, err := hex.DecodeString(started.Key)
		check(err)
		all[i] = &sess{addr: addr, id: started.SessionID, key: key, at: time.Now()}
	}

	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var ok, failed atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			var body bytes.Buffer
			// Each client owns its sessions, as each browser owns its own.
			for i := w; time.Now().Before(deadline); i += conns {
				if i >= len(all) {
					i = w
				}
				s := all[i]
				s.mu.Lock()
				s.seq++
				// A player reports what it has heard: never more than the
				// time since playback started.
				heard := time.Since(s.at).Milliseconds()
				r := listen.Report{Seq: s.seq, PositionMS: heard, HeardMS: heard}
				r.Sig = listen.Sign(s.key, s.id, r)
				s.mu.Unlock()
				body.Reset()
				_ = json.NewEncoder(&body).Encode(r)
				resp, err := client.Post("http://"+s.addr+"/api/v1/listens/"+s.id+"/progress", "application/json", &body)
				if err != nil {
					failed.Add(1)
					continue
				}
				drain(resp)
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	pids := []int{}
	for _, p := range procs {
		pids = append(pids, p.Process.Pid)
	}
	pids = append(pids, postgresPIDs(c.db)...)
	cpu0 := cpuOf(pids)
	start := time.Now()
	if out := os.Getenv("BENCH_PERF"); out != "" { // a profile of the first process, for whoever tunes this path
		perf := exec.Command("perf", "record", "-F", "999", "-g", "-o", out, "-p", strconv.Itoa(pids[0]), "--", "sleep", "3")
		go perf.Run()
	}
	wg.Wait()
	elapsed := time.Since(start)
	return ingestResult{
		rate: float64(ok.Load()) / elapsed.Seconds(), events: ok.Load(), errors: failed.Load(),
		nodeCPU: cpuOf(pids) - cpu0,
	}
}

// cpuOf sums the CPU time (user + system) the processes have used, from
// /proc/<pid>/stat (clock ticks of 10 ms).
func cpuOf(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // exited
		}
		// The command name may hold spaces; the fields after it do not.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		var ut, st int64
		fmt.Sscan(f[11], &ut)
		fmt.Sscan(f[12], &st)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

// postgresPIDs finds the PostgreSQL server behind dsn (by its port) and
// its backends, so that the database's CPU counts as the node's.
func postgresPIDs(dsn string) []int {
	if !strings.HasPrefix(dsn, "postgres") {
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	port := "\x00-p\x00" + u.Port() + "\x00"
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	master := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains("\x00"+string(cmd), port) && strings.Contains(string(cmd), "postgres") {
			master = pid
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
			ppid, _ := strconv.Atoi(f[1])
			parent[pid] = ppid
		}
	}
	if master == 0 {
		return nil
	}
	out := []int{master}
	for pid, ppid := range parent {
		if ppid == master {
			out = append(out, pid)
		}
	}
	return out
}

func waitReady(addr string) {
	for range 300 {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			drain(resp)
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond) // polling a process we started, not synchronizing a test
	}
	check(fmt.Errorf("the node on %s did not become ready", addr))
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func post(c *http.Client, url string, in, out any) {
	b, err := json.Marshal(in)
	check(err)
	resp, err := c.Post(url, "application/json", bytes.NewReader(b))
	check(err)
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var p map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&p)
		check(fmt.Errorf("POST %s: %s %v", url, resp.Status, p["detail"]))
	}
	if out != nil {
		check(json.NewDecoder(resp.Body).Decode(out))
	}
}

// uploadAndWait uploads the audio file and waits until its track is ready.
func uploadAndWait(c *http.Client, base, path string) int64 {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	check(err)
	b, err := os.ReadFile(path)
	check(err)
	_, _ = fw.Write(b)
	check(mw.Close())
	resp, err := c.Post(base+"/api/v1/uploads", mw.FormDataContentType(), &body)
	check(err)
	var up struct {
		Track struct{ ID int64 } `json:"track"`
	}
	check(json.NewDecoder(resp.Body).Decode(&up))
	resp.Body.Close()
	for range 600 {
		resp, err := c.Get(fmt.Sprintf("%s/api/v1/tracks/%d", base, up.Track.ID))
		check(err)
		var t struct{ Status string }
		check(json.NewDecoder(resp.Body).Decode(&t))
		resp.Body.Close()
		if t.Status == "ready" {
			return up.Track.ID
		}
		if t.Status == "failed" {
			check(fmt.Errorf("the bench track failed to process"))
		}
		time.Sleep(100 * time.Millisecond) // polling the node's job, as the UI does
	}
	check(fmt.Errorf("the bench track did not become ready"))
	return 0
}
