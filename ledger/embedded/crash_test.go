package embedded_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/chaincode"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// TestMain doubles as the node process that the crash test kills: with
// crashChildEnv set, the test binary runs crashChild instead of the tests.
// The tests run through dbtest, which stops the PostgreSQL cluster after
// them.
func TestMain(m *testing.M) {
	if dsn := os.Getenv(crashChildEnv); dsn != "" {
		if err := crashChild(dsn, os.Getenv(crashPeriodEnv), os.Getenv(crashModeEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	dbtest.Main(m)
}

// monthListeners is how many listeners pay in each month of the crash
// tests: enough for a settlement of some thousand state writes.
const monthListeners = 100

// payMonth has monthListeners listeners deposit $10 and subscribe for
// period, then opens it.
func payMonth(inv invoker, period string) error {
	for i := range monthListeners {
		l := fmt.Sprintf("l%03d", i)
		if err := deposit(inv, na, l, "usdp:"+period+":"+l, 10_000_000); err != nil {
			return err
		}
		if err := subscribe(inv, na, l, period); err != nil {
			return err
		}
	}
	return openMonth(inv, na, period)
}

// monthListening is the listening of period: most listeners heard 9 to 12
// artists (of two nodes), every tenth heard nothing.
func monthListening(period string) []chaincode.Aggregate {
	var out []chaincode.Aggregate
	salt := int(period[len(period)-1])
	for i := range monthListeners {
		if i%10 == 3 {
			continue
		}
		for j := range 9 + (i+salt)%4 {
			node := na
			if j%3 == 2 {
				node = nb
			}
			out = append(out, agg(fmt.Sprintf("l%03d", i), fmt.Sprintf("%s/%d", node, (i*7+j*13+salt)%40),
				1+int64((i+j)%5), 200+int64((i*31+j*17+salt)%900)))
		}
	}
	return out
}

// abortingStore commits through a real transaction that fails at the last
// moment: after the entry and every state write went in, fail runs, and
// the transaction is rolled back if it returns an error (or if it cancels
// the context, which makes COMMIT fail).
type abortingStore struct {
	*sqlstore.DB
	t    *testing.T
	fail func() error
}

func (s *abortingStore) LedgerCommit(ctx context.Context, e nineten.LedgerEntry, writes []nineten.LedgerWrite) error {
	return s.DB.WithTx(ctx, func(tx nineten.Store) error {
		if err := tx.LedgerCommit(ctx, e, writes); err != nil {
			return err
		}
		// Everything is in the transaction, and visible inside it.
		if seq, _, err := tx.LedgerHead(ctx); err != nil || seq != e.Seq {
			s.t.Errorf("inside the transaction the head is %d (%v); want %d", seq, err, e.Seq)
		}
		return s.fail()
	})
}

var errPowerCut = errors.New("the power went out")

// A settlement whose transaction fails after all its writes (an error, or
// the context cancelled before COMMIT) leaves nothing behind; the next
// invocation continues the chain as if it had never run.
func TestFailedCommitLeavesNothing(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		for _, tc := range []struct {
			name string
			fail func(cancel context.CancelFunc) error
			want func(error) bool
		}{
			{"error", func(context.CancelFunc) error { return errPowerCut }, func(err error) bool { return errors.Is(err, errPowerCut) }},
			{"cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }, func(err error) bool { return errors.Is(err, context.Canceled) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				db, _ := openDB(t, dialect)
				l := newLedger(db)
				mem := chaincode.NewMemState()
				for _, inv := range []invoker{onLedger(ctx, l), onMem(mem)} {
					noErr(t, payMonth(inv, "2025-06"))
				}
				seq, h := head(t, db)
				before := dump(t, db)

				callCtx, cancel := context.WithCancel(ctx)
				defer cancel()
				failing := &embedded.Ledger{Store: &abortingStore{DB: db, t: t, fail: func() error { return tc.fail(cancel) }}, Key: testKey}
				err := settle(onLedger(callCtx, failing), na, "2025-06", monthListening("2025-06"))
				if !tc.want(err) {
					t.Fatalf("the failed settlement returned %v", err)
				}
				if s2, h2 := head(t, db); s2 != seq || string(h2) != string(h) {
					t.Fatalf("the log moved from entry %d to %d", seq, s2)
				}
				if after := dump(t, db); !slices.Equal(before, after) {
					t.Fatal("the state changed")
				}

				for _, inv := range []invoker{onLedger(ctx, l), onMem(mem)} {
					noErr(t, settle(inv, na, "2025-06", monthListening("2025-06")))
				}
				s3, _ := head(t, db)
				var last nineten.LedgerEntry
				noErr(t, db.LedgerEntries(ctx, s3, func(e nineten.LedgerEntry) error { last = e; return nil }))
				if last.Seq != seq+1 || string(last.Prev) != string(h) || last.Op != "settle" {
					t.Errorf("the next entry is %d (%s) with prev %x; want %d after %x", last.Seq, last.Op, last.Prev, seq+1, h)
				}
				if !slices.Equal(dump(t, db), dumpMem(mem)) {
					t.Error("the state differs from the contract run on a MemState")
				}
				_, err = l.Verify(ctx, testPub(), nil)
				noErr(t, err)
			})
		}
	})
}

const (
	crashChildEnv  = "NINETEN_LEDGER_CRASH_DB"
	crashPeriodEnv = "NINETEN_LEDGER_CRASH_PERIOD"
	crashModeEnv   = "NINETEN_LEDGER_CRASH_MODE"
)

// hangingStore stops in the middle of the settlement's commit, with its
// transaction open and all its writes made, and says so, waiting to be
// killed.
type hangingStore struct{ *sqlstore.DB }

func (s hangingStore) LedgerCommit(ctx context.Context, e nineten.LedgerEntry, writes []nineten.LedgerWrite) error {
	if e.Op != "settle" {
		return s.DB.LedgerCommit(ctx, e, writes)
	}
	return s.DB.WithTx(ctx, func(tx nineten.Store) error {
		if err := tx.LedgerCommit(ctx, e, writes); err != nil {
			return err
		}
		fmt.Println("in-commit")
		select {}
	})
}

// crashChild is the process the crash test kills: it pays for period, then
// settles it. In mode "hang" it stops inside the settlement's transaction;
// in mode "race" it runs on and is killed whenever the parent decides.
func crashChild(dsn, period, mode string) error {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	var store nineten.LedgerStore = db
	if mode == "hang" {
		store = hangingStore{db}
	}
	l := &embedded.Ledger{Store: store, Key: testKey}
	if err := payMonth(onLedger(ctx, l), period); err != nil {
		return err
	}
	fmt.Println("settling")
	start := time.Now()
	if err := settle(onLedger(ctx, l), na, period, monthListening(period)); err != nil {
		return err
	}
	fmt.Println("settled in", time.Since(start))
	return db.Close()
}

// kill -9 in the middle of a settlement, then restart: the settlement is
// there in full or not at all, the ledger verifies, and running it again
// completes the month exactly once. Each round kills a child process that
// works on the same database file, as a node would be killed and restarted.
func TestKilledDuringSettlement(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		if testing.Short() {
			t.Skip("runs child processes")
		}
		t.Parallel()
		ctx := t.Context()
		_, dsn := openDB(t, dialect)
		mem := chaincode.NewMemState()
		// Kill delays after the child said it is settling; "hang" kills it
		// inside the open transaction.
		rounds := []string{"hang", "0ms", "8ms", "16ms", "20ms", "24ms", "28ms", "hang"}
		var whole, none int
		for r, delay := range rounds {
			period := fmt.Sprintf("2026-%02d", r+1)
			mode := "race"
			if delay == "hang" {
				mode = "hang"
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+dsn, crashPeriodEnv+"="+period, crashModeEnv+"="+mode)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			noErr(t, err)
			noErr(t, cmd.Start())
			lines := bufio.NewScanner(out)
			trigger := "settling"
			if mode == "hang" {
				trigger = "in-commit"
			}
			for lines.Scan() && lines.Text() != trigger {
			}
			if lines.Text() != trigger {
				cmd.Wait()
				t.Fatalf("round %d: the child ended before %q: %s", r, trigger, stderr.String())
			}
			if mode == "race" {
				d, _ := time.ParseDuration(delay)
				time.Sleep(d)
			}
			cmd.Process.Kill() // SIGKILL: no deferred function, no Close
			cmd.Wait()
			t.Logf("round %d (%s): child said %q", r, delay, lines.Text())

			noErr(t, payMonth(onMem(mem), period))
			func() {
				db := openAt(t, dsn)
				defer db.Close()
				l := newLedger(db)
				rep, err := l.Verify(ctx, testPub(), nil)
				if err != nil {
					t.Fatalf("round %d: after the crash: %v", r, err)
				}
				// Settle is idempotent: if the killed settlement is in the
				// ledger this records nothing, otherwise it settles now.
				e, err := l.Invoke(ctx, "settle", nil, func(st chaincode.State) error {
					_, err := c.Settle(st, na, period, monthListening(period))
					return err
				})
				noErr(t, err)
				switch {
				case e == nil:
					whole++
					if mode == "hang" {
						t.Fatalf("round %d: the settlement killed before COMMIT is in the ledger", r)
					}
				default:
					none++
					if e.Seq != rep.Entries+1 {
						t.Errorf("round %d: the settlement after the restart is entry %d; want %d", r, e.Seq, rep.Entries+1)
					}
				}
				noErr(t, settle(onMem(mem), na, period, monthListening(period)))
				if !slices.Equal(dump(t, db), dumpMem(mem)) {
					t.Fatalf("round %d: the state differs from the contract run once on a MemState", r)
				}
				if r == len(rounds)-1 {
					_, err = l.Verify(ctx, testPub(), nil)
					noErr(t, err)
				}
			}()
		}
		t.Logf("killed settlements found whole: %d, absent: %d (never half)", whole, none)
	})
}
