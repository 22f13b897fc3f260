package main

// The settle benchmark (issue 5): one month of a large node settled by the
// reference implementation (chaincode/settleref) and by the contract, the
// contract alone on a MemState and end to end through the embedded ledger
// into SQLite, on the same generated month, with the results compared.
//
//	go run ./bench -only settle [-settle-listeners N -settle-aggregates M]

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/chaincode"
	"nineten.dev/chaincode/settleref"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
)

var (
	settleListeners = flag.Int("settle-listeners", 1_000_000, "settle: subscribers who paid for the month")
	settleAggs      = flag.Int("settle-aggregates", 10_000_000, "settle: listener × artist aggregates of the month")
	settleArtists   = flag.Int("settle-artists", 0, "settle: artists (default a tenth of the subscribers, at least 100)")
	settleSeed      = flag.Uint64("settle-seed", 9, "settle: seed of the generated month")
	settleShuffle   = flag.Bool("settle-shuffle", false, "settle: give the aggregates in random order (default: grouped by listener, as the node's GROUP BY query yields them)")
	settleVerify    = flag.Bool("settle-verify", false, "settle: run the ledger's Verify over the database afterwards (slow)")
	settleDir       = flag.String("settle-dir", "", "settle: directory for the SQLite database (default a temporary one)")
	settleCache     = flag.String("settle-cache", "", "settle: keep the database of the state before the settlement in this directory, and start from it when it is there")
	settleCachedRef = flag.Bool("settle-cached-reference", false, "settle: with -settle-cache, take the reference's result and times from an earlier run with the same month (for trying changes quickly; the figures say so)")
	settleProfile   = flag.String("settle-cpuprofile", "", "settle: write CPU profiles of our two settlements to this file (contract only) and this file.e2e (end to end)")
)

const settleNode = "home.example"

// settleMonth is the generated month.
type settleMonth struct {
	period     string
	members    []string // subscribers, in random order
	aggs       []chaincode.Aggregate
	silent     int // members without listening
	nonpaying  int // listeners who did not pay
	artistsN   int
	popularTop float64 // share of aggregates going to the 10 most heard artists
}

// settleGenerate makes a month with realistic skew: artist popularity is
// Zipf-distributed (a few artists most heard, a long tail) over artists of
// 20 nodes, each listener heard 1 to 30 artists (10 on average), 1% of the
// subscribers heard nothing, and 0.5% more listeners heard music without
// paying. Ids are interned: each listener's and artist's string exists
// once, as the node's own query would give them.
func settleGenerate(listeners, aggs, artists int, seed uint64, shuffle bool) *settleMonth {
	r := rand.New(rand.NewPCG(seed, 0x5e771e))
	m := &settleMonth{period: "2026-03", artistsN: artists}
	names := make([]string, artists)
	for i := range names {
		node := settleNode
		if i%10 >= 3 { // 30% of the artists are homed here, the rest on 19 other nodes
			node = fmt.Sprintf("n%02d.example", i%19)
		}
		names[i] = fmt.Sprintf("%s/artist%07d", node, i)
	}
	popularity := r.Perm(artists) // the k-th most popular artist
	zipf := rand.NewZipf(r, 1.07, 8, uint64(artists-1))

	m.nonpaying = listeners / 200
	m.silent = listeners / 100
	ids := make([]string, listeners+m.nonpaying)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%08d", i*7919%100_000_000) // distinct, and not in the order made
	}
	m.members = ids[:listeners]
	listening := slices.Clone(ids[m.silent:]) // the silent ones come first in ids
	r.Shuffle(len(listening), func(i, j int) { listening[i], listening[j] = listening[j], listening[i] })

	// How many artists each heard: 1 to 30, 10 on average, then nudged
	// so that they add up to exactly aggs.
	counts := make([]int, len(listening))
	total := 0
	for i := range counts {
		counts[i] = min(30, 1+int(r.ExpFloat64()*9.3))
		total += counts[i]
	}
	for total != aggs {
		i := r.IntN(len(counts))
		switch {
		case total < aggs && counts[i] < 30:
			counts[i]++
			total++
		case total > aggs && counts[i] > 1:
			counts[i]--
			total--
		}
	}
	m.aggs = make([]chaincode.Aggregate, 0, aggs)
	var top int
	seen := map[int]bool{}
	for i, l := range listening {
		clear(seen)
		for len(seen) < counts[i] {
			k := int(zipf.Uint64())
			if seen[k] {
				continue
			}
			seen[k] = true
			if k < 10 {
				top++
			}
			listens := 1 + int64(r.ExpFloat64()*6)
			seconds := listens*30 + r.Int64N(listens*210+1)
			m.aggs = append(m.aggs, chaincode.Aggregate{Listener: l, Artist: names[popularity[k]], Listens: listens, SecondsHeard: seconds})
		}
	}
	if shuffle {
		r.Shuffle(len(m.aggs), func(i, j int) { m.aggs[i], m.aggs[j] = m.aggs[j], m.aggs[i] })
	}
	m.popularTop = float64(top) / float64(len(m.aggs))
	return m
}

// settlePhase measures one phase: wall time, CPU time of the process, and
// the peak resident memory during it (VmHWM, reset before the phase).
type settlePhase struct {
	wall, cpu time.Duration
	peak      int64 // bytes
	gcs       uint64
	gcCPU     time.Duration // CPU time of the collector (its own workers and assists)
}

// settleGC reads the number of completed collections and the collector's
// CPU time so far.
func settleGC() (uint64, time.Duration) {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), time.Duration(s[1].Value.Float64() * float64(time.Second))
}

func settleMeasure(f func()) settlePhase {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM (Linux)
	gc0, gcCPU0 := settleGC()
	cpu0, t0 := settleCPUTime(), time.Now()
	f()
	p := settlePhase{wall: time.Since(t0), cpu: settleCPUTime() - cpu0, peak: settleVmHWM()}
	gc1, gcCPU1 := settleGC()
	p.gcs, p.gcCPU = gc1-gc0, gcCPU1-gcCPU0
	settlePeakAll = max(settlePeakAll, p.peak)
	return p
}

// settlePeakAll is the largest peak of the phases measured so far.
var settlePeakAll int64

// settleLoad is the machine's load average over the last minute, to tell
// a quiet machine from a busy one (both cores shared with other work make
// every figure larger).
func settleLoad() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// settleCPUTime is the process's user and system time so far.
func settleCPUTime() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime is the
	// 14th field of the line, stime the 15th, in clock ticks (100 Hz).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// settleVmHWM is the peak resident set size of the process, from /proc.
func settleVmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func settleGiB(b int64) string { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }

// settleStore is the SQLite store, timing the ledger's reads and commit.
type settleStore struct {
	nineten.LedgerStore
	reads, commit time.Duration
	rows          int
}

func (s *settleStore) LedgerGet(ctx context.Context, key string) ([]byte, error) {
	t := time.Now()
	defer func() { s.reads += time.Since(t) }()
	return s.LedgerStore.LedgerGet(ctx, key)
}

// LedgerRange times the store's part of a range: the time fn takes is the
// contract's.
func (s *settleStore) LedgerRange(ctx context.Context, start, end string, fn func(string, []byte) error) error {
	t := time.Now()
	var inFn time.Duration
	err := s.LedgerStore.LedgerRange(ctx, start, end, func(k string, v []byte) error {
		t1 := time.Now()
		err := fn(k, v)
		inFn += time.Since(t1)
		return err
	})
	s.reads += time.Since(t) - inFn
	return err
}

func (s *settleStore) LedgerCommit(ctx context.Context, e nineten.LedgerEntry, writes []nineten.LedgerWrite) error {
	t := time.Now()
	defer func() { s.commit += time.Since(t) }()
	s.rows += len(writes)
	return s.LedgerStore.LedgerCommit(ctx, e, writes)
}

func runSettleBench(ctx context.Context) {
	listeners, aggs, artists := *settleListeners, *settleAggs, *settleArtists
	if artists == 0 {
		artists = max(100, listeners/10)
	}
	var c chaincode.Contract
	fmt.Printf("settle: %d subscribers, %d aggregates, %d artists on 20 nodes, GOMAXPROCS %d, load average %s\n", listeners, aggs, artists, runtime.GOMAXPROCS(0), settleLoad())

	var m *settleMonth
	gen := settleMeasure(func() { m = settleGenerate(listeners, aggs, artists, *settleSeed, *settleShuffle) })
	order := "grouped by listener"
	if *settleShuffle {
		order = "shuffled"
	}
	fmt.Printf("  generated the month in %.1f s (not counted): %d listeners heard nothing, %d did not pay, %.1f%% of aggregates to the 10 most heard artists, %s\n",
		gen.wall.Seconds(), m.silent, m.nonpaying, 100*m.popularTop, order)

	// The state before: every subscriber deposited $10 and subscribed, and
	// the month was opened, all through the contract.
	dir := *settleDir
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "9ten-settle-")
		check(err)
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "settle.db")
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	cached := ""
	if *settleCache != "" {
		cached = filepath.Join(*settleCache, fmt.Sprintf("settle-before-%d-%s.db", listeners, m.period))
	}
	mem := chaincode.NewMemState()
	if _, err := os.Stat(cached); cached != "" && err == nil {
		// The state before, made by an earlier run: copied, and read back
		// into the MemState.
		setup := settleMeasure(func() {
			check(settleCopyFile(cached, path))
			db, err := sqlstore.Open(ctx, path)
			check(err)
			check(db.LedgerRange(ctx, "", "", func(k string, v []byte) error { return mem.Put(k, v) }))
			check(db.Close())
		})
		fmt.Printf("  copied the state before from %s in %.1f s (not counted): %d state keys\n", cached, setup.wall.Seconds(), mem.Len())
	} else {
		// The state before: every subscriber deposited $10 and subscribed,
		// and the month was opened, all through the contract.
		setup := settleMeasure(func() {
			for i, l := range m.members {
				_, err := c.Deposit(mem, settleNode, l, "card:"+strconv.Itoa(i), chaincode.Price)
				check(err)
				_, err = c.Subscribe(mem, settleNode, l, m.period)
				check(err)
			}
			_, err := c.OpenMonth(mem, settleNode, m.period)
			check(err)
		})
		fmt.Printf("  paid and opened the month on a MemState in %.1f s (not counted): %d state keys\n", setup.wall.Seconds(), mem.Len())
		load := settleMeasure(func() {
			db, err := sqlstore.Open(ctx, path)
			check(err)
			settleLoadState(ctx, &embedded.Ledger{Store: db, Key: key}, mem)
			check(db.Close())
			if cached != "" {
				check(settleCopyFile(path, cached))
			}
		})
		fmt.Printf("  loaded that state into SQLite through the ledger in %.1f s (not counted)\n", load.wall.Seconds())
	}
	db, err := sqlstore.Open(ctx, path)
	check(err)
	defer db.Close()
	store := &settleStore{LedgerStore: db}
	ledger := &embedded.Ledger{Store: store, Key: key}

	// The reference, on the state before. Its result is kept as a summary
	// with digests of every balance and every transaction, so that none of
	// it is in memory during our runs.
	var want settleSummary
	var ref settlePhase
	refNote := ""
	refCache := ""
	if *settleCache != "" {
		refCache = filepath.Join(*settleCache, fmt.Sprintf("settle-reference-%d-%d-%d-%d-%v.json", listeners, aggs, artists, *settleSeed, *settleShuffle))
	}
	if b, err := os.ReadFile(refCache); refCache != "" && err == nil && *settleCachedRef {
		var cached struct {
			Summary         settleSummary
			Wall, CPU, Peak int64
		}
		check(json.Unmarshal(b, &cached))
		want, ref = cached.Summary, settlePhase{wall: time.Duration(cached.Wall), cpu: time.Duration(cached.CPU), peak: cached.Peak}
		refNote = " [earlier run]"
	} else {
		ref = settleMeasure(func() { want = settleReference(c, mem, m) })
		if refCache != "" {
			b, err := json.Marshal(map[string]any{"Summary": want, "Wall": ref.wall, "CPU": ref.cpu, "Peak": ref.peak})
			check(err)
			check(os.WriteFile(refCache, b, 0o600))
		}
	}

	if *settleProfile != "" {
		f, err := os.Create(*settleProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	// The contract alone, on the MemState.
	var res chaincode.SettleResult
	ours := settleMeasure(func() {
		var err error
		res, err = c.Settle(mem, settleNode, m.period, m.aggs)
		check(err)
	})
	if *settleProfile != "" {
		pprof.StopCPUProfile()
	}
	got := settleSummarize(c, mem, res)
	// The end-to-end run starts with what a node holds: the month's
	// listening, not its whole state in memory.
	mem = nil

	// End to end: the contract over the SQLite state, the log entry encoded,
	// hashed and signed, and committed with every write.
	if *settleProfile != "" {
		f, err := os.Create(*settleProfile + ".e2e")
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	store.reads, store.commit, store.rows = 0, 0, 0
	var inContract time.Duration
	var entry *nineten.LedgerEntry
	var e2eRes chaincode.SettleResult
	e2e := settleMeasure(func() {
		var err error
		entry, err = ledger.Invoke(ctx, "settle", []any{settleNode, m.period, len(m.aggs)}, func(st chaincode.State) error {
			t := time.Now()
			defer func() { inContract = time.Since(t) }()
			var err error
			e2eRes, err = c.Settle(st, settleNode, m.period, m.aggs)
			return err
		})
		check(err)
	})
	if *settleProfile != "" {
		pprof.StopCPUProfile()
	}
	reads, commit, rows := store.reads, store.commit, store.rows
	var e2eGot settleSummary
	check(ledger.Query(ctx, func(st chaincode.State) error {
		e2eGot = settleSummarize(c, st, e2eRes)
		return nil
	}))

	// Both must agree with the reference, to the micro-dollar.
	var problems []string
	if got != want {
		problems = append(problems, fmt.Sprintf("on the MemState: %+v\n    reference:   %+v", got, want))
	}
	if e2eGot != want {
		problems = append(problems, fmt.Sprintf("on SQLite: %+v\n    reference: %+v", e2eGot, want))
	}

	fmt.Println()
	fmt.Printf("  %-44s %9s %9s %10s %s\n", "", "wall", "cpu", "peak RSS", "GC")
	row := func(name string, p settlePhase) {
		fmt.Printf("  %-44s %8.2fs %8.2fs %10s %d cycles, %.2fs cpu\n", name, p.wall.Seconds(), p.cpu.Seconds(), settleGiB(p.peak), p.gcs, p.gcCPU.Seconds())
	}
	row("reference (settleref)"+refNote, ref)
	fmt.Printf("  %-44s %8s  load average %s\n", "", "", settleLoad())
	row("ours, contract only (MemState)", ours)
	row("ours, end to end (embedded ledger, SQLite)", e2e)
	fmt.Printf("  %-44s %8.2fs\n", "  of which the contract (store reads "+fmt.Sprintf("%.2fs", reads.Seconds())+")", inContract.Seconds())
	fmt.Printf("  %-44s %8.2fs\n", "  of which encode, hash and sign the entry", (e2e.wall - inContract - commit).Seconds())
	fmt.Printf("  %-44s %8.2fs   (%d rows, entry of %.0f MB)\n", "  of which the store's commit", commit.Seconds(), rows, float64(len(entry.Writes)+len(entry.Args)+len(entry.Events))/1e6)
	fmt.Println()
	fmt.Printf("  %-34s %12.2f s %12.2f s %7.1fx %s\n", "settle: contract only", ours.wall.Seconds(), ref.wall.Seconds(), ref.wall.Seconds()/ours.wall.Seconds(), "faster than the reference")
	fmt.Printf("  %-34s %12.2f s %14s %8s %s\n", "settle: end to end", e2e.wall.Seconds(), "-", "-", "goal ≤ 10 s")
	fmt.Printf("  paid %d listeners, held %d, ignored %d, %d artists, %s to artists, %d transactions\n",
		res.Paid, res.Held, len(res.Ignored), res.Artists, res.ToArtists, res.LastTx-res.FirstTx+1)
	fmt.Printf("  peak RSS of the whole run: %s\n", settleGiB(settlePeakAll))

	if *settleVerify {
		v := settleMeasure(func() {
			rep, err := ledger.Verify(ctx, key.Public().(ed25519.PublicKey), nil)
			check(err)
			fmt.Printf("  verified: %d entries, %d transactions, %d keys\n", rep.Entries, rep.Transactions, rep.Keys)
		})
		row("verify the whole ledger", v)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Println("  MISMATCH:", p)
		}
		os.Exit(1)
	}
	fmt.Println("  results: identical (every balance and every listener's transaction, MemState and SQLite, equal the reference)")
}

// settleCopyFile copies a closed SQLite database file.
func settleCopyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// settleLoadState writes the MemState's keys into the ledger, a few
// hundred thousand per entry (one entry of everything would exceed what
// SQLite stores in one value).
func settleLoadState(ctx context.Context, l *embedded.Ledger, mem *chaincode.MemState) {
	var keys []string
	check(mem.Range("", "", func(k string, _ []byte) error {
		keys = append(keys, k)
		return nil
	}))
	const chunk = 250_000
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		_, err := l.Invoke(ctx, "import", map[string]any{"from": part[0], "keys": len(part)}, func(st chaincode.State) error {
			for _, k := range part {
				v, err := mem.Get(k)
				if err != nil {
					return err
				}
				if err := st.Put(k, v); err != nil {
					return err
				}
			}
			return nil
		})
		check(err)
	}
}

// settleSummary is what a settlement did, with digests of every balance
// (accounts with money, in lexical order) and every transaction (in order).
type settleSummary struct {
	Paid, Held, Refunded, Ignored, Artists, Txs, Accounts int
	ToArtists                                             int64
	Balances, Transactions                                string
}

// settleDigest hashes the lines it is given.
type settleDigest struct{ h hash.Hash }

func newSettleDigest() *settleDigest { return &settleDigest{sha256.New()} }

func (d *settleDigest) line(parts ...any) { fmt.Fprintln(d.h, parts...) }

func (d *settleDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)[:12]) }

func settleTxLine(d *settleDigest, op, listener string, in, out []string) {
	d.line(op, listener, strings.Join(in, " "), "|", strings.Join(out, " "))
}

// settleReference runs the reference implementation on the state before
// in mem and summarizes its result.
func settleReference(c chaincode.Contract, mem *chaincode.MemState, m *settleMonth) settleSummary {
	before := settleref.Before{Node: settleNode, Period: m.period, Held: map[string]settleref.HeldState{}, Balances: map[string]int64{}}
	var err error
	before.Members, err = c.Members(mem, settleNode, m.period)
	check(err)
	holders, err := c.Holders(mem, settleNode)
	check(err)
	for _, h := range holders {
		before.Held[h.Listener] = settleref.HeldState{Silent: h.Silent, Since: h.Since}
	}
	check(c.Balances(mem, func(account string, b chaincode.Micro) error {
		before.Balances[account] = int64(b)
		return nil
	}))
	refAggs := make([]settleref.Aggregate, len(m.aggs))
	for i, a := range m.aggs {
		refAggs[i] = settleref.Aggregate(a)
	}
	want, err := settleref.Settle(before, refAggs)
	check(err)

	s := settleSummary{Paid: want.Paid, Held: want.HeldListeners, Refunded: want.Refunded, Ignored: len(want.Ignored),
		Artists: want.Artists, Txs: len(want.Txs), ToArtists: want.ToArtists}
	var accounts []string
	for a, b := range want.Balances {
		if b != 0 {
			accounts = append(accounts, a)
		}
	}
	slices.Sort(accounts)
	d := newSettleDigest()
	for _, a := range accounts {
		d.line(a, want.Balances[a])
	}
	s.Accounts, s.Balances = len(accounts), d.sum()
	d = newSettleDigest()
	legs := func(ls []settleref.Leg) (out []string) {
		for _, l := range ls {
			out = append(out, l.Account+"="+strconv.FormatInt(l.Amount, 10))
		}
		return out
	}
	for _, tx := range want.Txs {
		settleTxLine(d, tx.Op, tx.Listener, legs(tx.Inputs), legs(tx.Outputs))
	}
	s.Transactions = d.sum()
	return s
}

// settleSummarize summarizes the settlement res recorded on st.
func settleSummarize(c chaincode.Contract, st chaincode.State, res chaincode.SettleResult) settleSummary {
	s := settleSummary{Paid: res.Paid, Held: res.Held, Refunded: res.Refunded, Ignored: len(res.Ignored),
		Artists: res.Artists, ToArtists: int64(res.ToArtists)}
	d := newSettleDigest()
	check(c.Balances(st, func(account string, b chaincode.Micro) error {
		if b != 0 {
			d.line(account, int64(b))
			s.Accounts++
		}
		return nil
	}))
	s.Balances = d.sum()
	d = newSettleDigest()
	legs := func(ls []chaincode.Leg) (out []string) {
		for _, l := range ls {
			out = append(out, l.Account+"="+strconv.FormatInt(int64(l.Amount), 10))
		}
		return out
	}
	check(c.Events(st, func(tx chaincode.Tx) error {
		if tx.Node == settleNode && tx.Seq >= res.FirstTx && tx.Seq <= res.LastTx {
			settleTxLine(d, tx.Op, tx.Listener, legs(tx.Inputs), legs(tx.Outputs))
			s.Txs++
		}
		return nil
	}))
	s.Transactions = d.sum()
	return s
}
