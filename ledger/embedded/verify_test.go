package embedded_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/chaincode"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// The story's entries, by number.
const (
	entryDepositBob = 2
	entryDepositCy  = 3
	entryDepositDee = 4
	entrySubBob     = 6
	entryOpenJune   = 8
	entrySettleJune = 11
	entryRenewJuly  = 12
	entryPayout     = 15
)

// storyDB returns what opens a database of dialect, closed, in which story
// ran through a Ledger.
func storyDB(t *testing.T, dialect string) string {
	t.Helper()
	db, dsn := openDB(t, dialect)
	story(t, onLedger(t.Context(), newLedger(db)))
	noErr(t, db.Close())
	return dsn
}

// rawDB opens the database directly, as someone with access to the file
// (or the database's owner) would, with the append-only triggers dropped
// (the owner can always do that).
func rawDB(t *testing.T, dsn string) *dbtest.Raw {
	t.Helper()
	db := dbtest.OpenRaw(t, dsn)
	on := "" // SQLite names triggers in the schema, PostgreSQL on their table
	if db.Dialect == sqlstore.Postgres {
		on = " ON ledger_log"
	}
	db.Exec(`DROP TRIGGER ledger_log_no_update` + on)
	db.Exec(`DROP TRIGGER ledger_log_no_delete` + on)
	return db
}

func execSQL(t *testing.T, db *dbtest.Raw, query string, args ...any) {
	t.Helper()
	db.Exec(query, args...)
}

func rawEntry(t *testing.T, db *dbtest.Raw, seq int64) nineten.LedgerEntry {
	t.Helper()
	var e nineten.LedgerEntry
	var at int64
	err := db.QueryRow(`SELECT seq, prev, op, args, writes, events, hash, signer, sig, at FROM ledger_log WHERE seq = ?`, seq).
		Scan(&e.Seq, &e.Prev, &e.Op, &e.Args, &e.Writes, &e.Events, &e.Hash, &e.Signer, &e.Sig, &at)
	noErr(t, err)
	e.At = time.UnixMilli(at).UTC()
	return e
}

func rawValue(t *testing.T, db *dbtest.Raw, key string) int64 {
	t.Helper()
	var v []byte
	noErr(t, db.QueryRow(`SELECT value FROM ledger_state WHERE key = ?`, key).Scan(&v))
	n, err := strconv.ParseInt(string(v), 10, 64)
	noErr(t, err)
	return n
}

// verifyAt opens the database dsn and verifies it with the test key.
func verifyAt(t *testing.T, dsn string, pub ed25519.PublicKey) (*embedded.Report, error) {
	t.Helper()
	db := openAt(t, dsn)
	return newLedger(db).Verify(t.Context(), pub, nil)
}

func TestVerifyIntactStory(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		dsn := storyDB(t, dialect)
		db := openAt(t, dsn)
		var done []int64
		rep, err := newLedger(db).Verify(t.Context(), testPub(), func(n int64) { done = append(done, n) })
		noErr(t, err)
		if rep.Entries != storyEntries || len(done) != storyEntries || done[0] != 1 || done[len(done)-1] != storyEntries {
			t.Errorf("report %+v, progress %v", rep, done)
		}
	})
}

func TestVerifyEmptyLedger(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		db, _ := openDB(t, dialect)
		rep, err := newLedger(db).Verify(t.Context(), testPub(), nil)
		noErr(t, err)
		if rep.Entries != 0 || rep.Head != nil || rep.Keys != 0 || rep.Balance != 0 {
			t.Errorf("report of an empty ledger: %+v", rep)
		}
	})
}

// The database refuses changes to the log; verification is for those who
// get around that.
func TestLogIsAppendOnly(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		dsn := storyDB(t, dialect)
		db := dbtest.OpenRaw(t, dsn)
		for _, q := range []string{`UPDATE ledger_log SET op = 'x' WHERE seq = 1`, `DELETE FROM ledger_log WHERE seq = 15`} {
			if _, err := db.TryExec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
}

// Each way of tampering with the stored ledger is found, and the error
// says where.
func TestVerifyFindsTampering(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
		for _, tc := range []struct {
			name string
			pub  ed25519.PublicKey // default the test key
			edit func(t *testing.T, raw *dbtest.Raw, dsn string)
			seq  int64  // the entry the Problem names, if any
			key  string // the state key it names, if any
			want []string
		}{
			{
				name: "state/BalanceChanged",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_state SET value = ? WHERE key = 'bal/listener:a.example/ann'`, []byte("99000000"))
				},
				key: "bal/listener:a.example/ann", seq: entryRenewJuly,
				want: []string{`state key "bal/listener:a.example/ann" is "99000000" in the database, but the log makes it "5000000" (entry 12 set it last)`},
			},
			{
				// Conservation still holds: only the replay catches it.
				name: "state/MoneyMovedBetweenArtists",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					a, b := "bal/artist:a.example/7", "bal/artist:b.example/1"
					va, vb := rawValue(t, raw, a), rawValue(t, raw, b)
					execSQL(t, raw, `UPDATE ledger_state SET value = ? WHERE key = ?`, []byte(strconv.FormatInt(va-1, 10)), a)
					execSQL(t, raw, `UPDATE ledger_state SET value = ? WHERE key = ?`, []byte(strconv.FormatInt(vb+1, 10)), b)
				},
				key:  "bal/artist:a.example/7",
				want: []string{`state key "bal/artist:a.example/7" is`, `state key "bal/artist:b.example/1" is`},
			},
			{
				name: "state/KeyAdded",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `INSERT INTO ledger_state (key, value) VALUES ('bal/listener:a.example/mallory', ?)`, []byte("1000000"))
				},
				key:  "bal/listener:a.example/mallory",
				want: []string{`state key "bal/listener:a.example/mallory" is "1000000" in the database, but no entry of the log wrote it`},
			},
			{
				name: "state/KeyRemoved",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `DELETE FROM ledger_state WHERE key = 'sub/a.example/bob'`)
				},
				key: "sub/a.example/bob", seq: entryRenewJuly,
				want: []string{`state key "sub/a.example/bob" is missing from the database, but entry 12 set it to "{\"node\":\"a.example\"`},
			},
			{
				name: "log/ArgsByteFlipped",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					e := rawEntry(t, raw, entryDepositCy)
					e.Args[len(e.Args)/2] ^= 0x01
					execSQL(t, raw, `UPDATE ledger_log SET args = ? WHERE seq = ?`, e.Args, e.Seq)
				},
				seq:  entryDepositCy,
				want: []string{"entry 3 (deposit) was altered: its contents hash to"},
			},
			{
				// Without the key, rewriting an entry and its hash breaks the signature.
				name: "log/WritesRewrittenAndRehashed",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					e := rawEntry(t, raw, entrySettleJune)
					writes, err := embedded.DecodeWrites(e.Writes)
					noErr(t, err)
					for i, w := range writes {
						if w.Key == "bal/artist:a.example/7" {
							writes[i].Value = []byte("8999999")
						}
					}
					e.Writes, err = embedded.EncodeWrites(writes)
					noErr(t, err)
					execSQL(t, raw, `UPDATE ledger_log SET writes = ?, hash = ? WHERE seq = ?`, e.Writes, embedded.Hash(&e), e.Seq)
				},
				seq:  entrySettleJune,
				want: []string{"entry 11 (settle) is not signed by the ledger key ed25519:"},
			},
			{
				name: "log/EntryRemoved",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `DELETE FROM ledger_log WHERE seq = 5`)
				},
				seq:  5,
				want: []string{"entry 5 is missing: the log goes from entry 4 to entry 6"},
			},
			{
				name: "log/FirstEntryRemoved",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `DELETE FROM ledger_log WHERE seq = 1`)
				},
				seq:  1,
				want: []string{"entry 1 is missing: the log starts at entry 2"},
			},
			{
				// The state still holds what the removed entry wrote.
				name: "log/LastEntryRemoved",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `DELETE FROM ledger_log WHERE seq = ?`, entryPayout)
				},
				key:  "bal/artist:a.example/7",
				want: []string{"the state does not match the log", `state key "ext/usdp:0x99:0" is "{\"node\":\"a.example\",\"seq\":`, "but no entry of the log wrote it"},
			},
			{
				name: "log/EntriesSwapped",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_log SET seq = 1003 WHERE seq = 3`)
					execSQL(t, raw, `UPDATE ledger_log SET seq = 3 WHERE seq = 4`)
					execSQL(t, raw, `UPDATE ledger_log SET seq = 4 WHERE seq = 1003`)
				},
				seq:  3,
				want: []string{"entry 3 does not follow entry 2: its prev is"},
			},
			{
				name: "log/PrevPointsElsewhere",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_log SET prev = (SELECT hash FROM ledger_log WHERE seq = 4) WHERE seq = 6`)
				},
				seq:  6,
				want: []string{"entry 6 does not follow entry 5"},
			},
			{
				name: "log/TimeChanged",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_log SET at = at - 86400000 WHERE seq = ?`, entryDepositBob)
				},
				seq:  entryDepositBob,
				want: []string{"entry 2 (deposit) was altered"},
			},
			{
				name: "log/SignerChanged",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_log SET signer = 'ed25519:someone-else' WHERE seq = ?`, entryDepositDee)
				},
				seq:  entryDepositDee,
				want: []string{"entry 4 (deposit) was altered"},
			},
			{
				name: "log/OpChanged",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_log SET op = 'refund' WHERE seq = ?`, entryOpenJune)
				},
				seq:  entryOpenJune,
				want: []string{"entry 8 (refund) was altered"},
			},
			{
				name: "log/SignatureOfAnotherEntry",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					execSQL(t, raw, `UPDATE ledger_log SET sig = (SELECT sig FROM ledger_log WHERE seq = 5) WHERE seq = ?`, entrySubBob)
				},
				seq:  entrySubBob,
				want: []string{"entry 6 (subscribe) is not signed by the ledger key"},
			},
			{
				name: "key/AnotherKey",
				pub:  other.Public().(ed25519.PublicKey),
				seq:  1,
				want: []string{"entry 1 (deposit) is not signed by the ledger key " + embedded.KeyID(other.Public().(ed25519.PublicKey))},
			},
			{
				// Someone with the file but not the key appends a well-chained entry.
				name: "key/EntryForgedWithAnotherKey",
				edit: func(t *testing.T, _ *dbtest.Raw, dsn string) {
					db := openAt(t, dsn)
					forger := &embedded.Ledger{Store: db, Key: other}
					noErr(t, deposit(onLedger(t.Context(), forger), na, "mallory", "fake:1", 1_000_000_000))
					noErr(t, db.Close())
				},
				seq:  storyEntries + 1,
				want: []string{"entry 16 (deposit) is not signed by the ledger key", "names ed25519:"},
			},
			{
				// A signer that wrote writes in another form (a bug, or another
				// implementation) is caught even though it signed them.
				name: "log/WritesNotCanonical",
				edit: func(t *testing.T, raw *dbtest.Raw, _ string) {
					e := rawEntry(t, raw, entryPayout)
					e.Writes = bytes.Replace(e.Writes, []byte(`","text":`), []byte(`", "text":`), 1)
					e.Hash = embedded.Hash(&e)
					execSQL(t, raw, `UPDATE ledger_log SET writes = ?, hash = ?, sig = ? WHERE seq = ?`, e.Writes, e.Hash, ed25519.Sign(testKey, e.Hash), e.Seq)
				},
				seq:  entryPayout,
				want: []string{"the writes of entry 15 are malformed: they are not in canonical form"},
			},
			{
				// Even an entry signed with the node's own key must follow the
				// contract: a balance conjured without a transaction fails the audit.
				name: "contract/SignedEntryBreaksTheRules",
				edit: func(t *testing.T, _ *dbtest.Raw, dsn string) {
					db := openAt(t, dsn)
					_, err := newLedger(db).Invoke(t.Context(), "deposit", nil, func(st chaincode.State) error {
						return st.Put("bal/listener:a.example/mallory", []byte("1000000"))
					})
					noErr(t, err)
					noErr(t, db.Close())
				},
				want: []string{"the state the log makes fails the contract's audit", "mallory"},
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				dsn := storyDB(t, dialect)
				if tc.edit != nil {
					raw := rawDB(t, dsn)
					tc.edit(t, raw, dsn)
					noErr(t, raw.Close())
				}
				pub := tc.pub
				if pub == nil {
					pub = testPub()
				}
				rep, err := verifyAt(t, dsn, pub)
				if !errors.Is(err, embedded.ErrTampered) {
					t.Fatalf("Verify = %v; want it to find the tampering", err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not say %q", err, w)
					}
				}
				var p *embedded.Problem
				if !errors.As(err, &p) {
					t.Fatalf("%T is not a *Problem", err)
				}
				if (tc.seq != 0 && p.Seq != tc.seq) || (tc.key != "" && p.Key != tc.key) {
					t.Errorf("the problem names entry %d and key %q; want %d and %q", p.Seq, p.Key, tc.seq, tc.key)
				}
				if rep == nil {
					t.Error("no report")
				}
				t.Log(err)
			})
		}
	})
}

// movingStore lets another writer append an entry between Verify's reading
// of the log and of the state, like a node serving while an admin verifies.
type movingStore struct {
	nineten.Store
	once  sync.Once
	other *embedded.Ledger
	t     *testing.T
}

func (m *movingStore) LedgerRange(ctx context.Context, start, end string, fn func(string, []byte) error) error {
	m.once.Do(func() { noErr(m.t, deposit(onLedger(ctx, m.other), na, "zed", "late:1", 1_000_000)) })
	return m.Store.LedgerRange(ctx, start, end, fn)
}

func TestVerifyNoticesALedgerThatMovesOn(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		dsn := storyDB(t, dialect)
		db := openAt(t, dsn)
		moving := &movingStore{Store: db, other: newLedger(db), t: t}
		_, err := (&embedded.Ledger{Store: moving}).Verify(t.Context(), testPub(), nil)
		if nineten.ErrorKind(err) != nineten.KindUnavailable || errors.Is(err, embedded.ErrTampered) {
			t.Fatalf("Verify while the ledger moves = %v; want KindUnavailable, not tampering", err)
		}
		if _, err := newLedger(db).Verify(t.Context(), testPub(), nil); err != nil {
			t.Fatalf("verifying again: %v", err)
		}
	})
}
