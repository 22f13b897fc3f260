package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
	"nineten.dev/federation/safehttp"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// Settlement statements between two real nodes on loopback, each with its
// own store (the engine under test for B, the artists' node, and SQLite
// for A, the listeners' node) and A with its embedded ledger; deliveries
// are run by the real delivery handler.

type peer struct {
	t      *testing.T
	f      *Service
	db     *sqlstore.DB
	ledger *embedded.Contract
	host   string
}

func newPeer(t *testing.T, db *sqlstore.DB) *peer {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	key := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(key)
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: ed25519.NewKeyFromSeed(key)}, Node: base.Host}
	p := &peer{t: t, db: db, ledger: ledger, host: base.Host}
	p.f = &Service{
		Store: db, Base: base, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: safehttp.New(safehttp.Options{AllowLoopback: true}), Ledger: ledger, LedgerNode: base.Host,
	}
	h = p.f.Handler()
	return p
}

// pump runs the deliveries queued on the nodes until none is left, and
// returns the errors of those that failed.
func pump(t *testing.T, nodes ...*peer) []string {
	t.Helper()
	ctx := t.Context()
	var failed []string
	for busy := true; busy; {
		busy = false
		for _, n := range nodes {
			job, err := n.db.Claim(ctx, []string{JobDeliver, JobReviewReport}, time.Now(), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if job == nil {
				continue
			}
			busy = true
			var run func(context.Context, *nineten.Job, func(int)) error = n.f.Deliverer().Run
			if job.Kind == JobReviewReport {
				run = n.f.Reviewer().Run
			}
			if err := run(ctx, job, nil); err != nil {
				failed = append(failed, err.Error())
			}
			if err := n.db.Complete(ctx, job.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return failed
}

// artistHere makes an artist on the node, owned by a new user.
func (p *peer) artistHere(name string) *nineten.Artist {
	p.t.Helper()
	ctx := p.t.Context()
	u := &nineten.User{Username: name, PasswordHash: "-", Role: nineten.RoleArtist, CreatedAt: time.Now()}
	if err := p.db.CreateUser(ctx, u); err != nil {
		p.t.Fatal(err)
	}
	a := &nineten.Artist{OwnerID: u.ID, Name: name, Slug: name, CreatedAt: time.Now()}
	if err := p.db.CreateArtist(ctx, a); err != nil {
		p.t.Fatal(err)
	}
	return a
}

// settle settles a past month on the node's ledger: one listener's $9
// split between the given artists ("<node>/<id>") by seconds heard.
func (p *peer) settle(period nineten.Period, seconds map[string]int64) {
	p.t.Helper()
	ctx := p.t.Context()
	var totals []nineten.ListeningTotal
	for a, s := range seconds {
		totals = append(totals, nineten.ListeningTotal{Listener: "fan", Artist: a, Listens: 1, SecondsHeard: s})
	}
	steps := []func() error{
		func() error { _, err := p.ledger.Deposit(ctx, "fan", "sim:fan", 10_000_000); return err },
		func() error { _, err := p.ledger.Subscribe(ctx, "fan", period); return err },
		func() error { _, err := p.ledger.OpenMonth(ctx, period); return err },
		func() error { _, err := p.ledger.Settle(ctx, period, totals); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			p.t.Fatal(err)
		}
	}
}

func (p *peer) statement(id string, dir nineten.StatementDirection) *nineten.SettlementStatement {
	p.t.Helper()
	st, err := p.db.Statement(p.t.Context(), id, dir)
	if err != nil {
		p.t.Fatal(err)
	}
	return st
}

// post delivers an activity to the node's actor inbox signed by from's
// node actor (HTTP signature), as given, and returns the status and the
// problem's detail.
func (p *peer) post(from *peer, act map[string]any, at time.Time) (int, string) {
	p.t.Helper()
	body, _ := json.Marshal(act)
	return p.postRaw(from, body, at)
}

func (p *peer) postRaw(from *peer, body []byte, at time.Time) (int, string) {
	p.t.Helper()
	k, err := from.f.Keys(p.t.Context(), nodeActorName)
	if err != nil {
		p.t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(p.t.Context(), http.MethodPost, p.f.url("/actor/inbox"), bytes.NewReader(body))
	req.Header.Set("Content-Type", activityJSON)
	if err := httpsig.SignCavage(req, body, httpsig.Key{ID: from.f.url("/actor") + "#main-key", Private: k.RSA}, at); err != nil {
		p.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var prob struct{ Detail string }
	_ = json.NewDecoder(resp.Body).Decode(&prob)
	return resp.StatusCode, prob.Detail
}

// create wraps a statement document in a Create by from's node actor.
func create(from *peer, doc []byte) map[string]any {
	var obj map[string]any
	_ = json.Unmarshal(doc, &obj)
	return map[string]any{"@context": statementContext, "id": from.f.url("/actor") + "#create-" + randomID(), "type": "Create", "actor": from.f.url("/actor"), "object": obj}
}

// resign signs an edited copy of a statement as from's node.
func resign(t *testing.T, from *peer, doc []byte, edit func(map[string]any)) []byte {
	t.Helper()
	d, err := decodeDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	delete(d, "proof")
	edit(d)
	var st nineten.SettlementStatement
	if err := from.f.signStatement(context.Background(), &st, d); err != nil {
		t.Fatal(err)
	}
	return st.Document
}

func TestSettlementStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbB *sqlstore.DB) {
		ctx := t.Context()
		dbA, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dbA.Close() })
		a, b := newPeer(t, dbA), newPeer(t, dbB)
		star, other := b.artistHere("star"), b.artistHere("other")
		if err := dbB.RegisterWallet(ctx, nineten.Wallet{Address: "0x00000000000000000000000000000000000000aa", UserID: star.OwnerID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		local := a.artistHere("local")
		ref := func(p *peer, ar *nineten.Artist) string { return p.host + "/" + strconv.FormatInt(int64(ar.ID), 10) }
		// The fan's $9: 600 s of star, 300 s of other (both on B), 300 s of
		// local (on A): $4.5, $2.25 and $2.25.
		a.settle("2024-01", map[string]int64{ref(b, star): 600, ref(b, other): 300, ref(a, local): 300})

		sent, err := a.f.SendStatements(ctx, "2024-01")
		if err != nil || len(sent) != 1 {
			t.Fatalf("SendStatements: %+v, %v; want one statement, to B", sent, err)
		}
		id := sent[0].ID
		if failed := pump(t, a, b); len(failed) > 0 {
			t.Fatalf("deliveries failed: %v", failed)
		}
		got := b.statement(id, nineten.StatementReceived)
		want := []nineten.StatementLine{{Artist: ref(b, other), Amount: 2_250_000}, {Artist: ref(b, star), Amount: 4_500_000}}
		if got.Status != nineten.StatementRecorded || got.Total != 6_750_000 || got.Peer != a.f.url("/actor") || !sameLines(got.Lines, want) {
			t.Fatalf("B recorded %s %d from %s in lines %+v; want $6.75 from A in lines %+v", got.Status, got.Total, got.Peer, got.Lines, want)
		}
		mine := a.statement(id, nineten.StatementSent)
		if mine.Status != nineten.StatementAcknowledged || mine.Digest != got.Digest {
			t.Fatalf("A's statement is %s (%s), digest %s; B's digest %s", mine.Status, mine.Reason, mine.Digest, got.Digest)
		}
		if i := slicesIndex(mine.Lines, ref(b, star)); mine.Lines[i].Wallet != "0x00000000000000000000000000000000000000aa" {
			t.Errorf("A does not know where to pay star: %+v", mine.Lines)
		}
		// The statement verifies later, from the document alone, with A's
		// published key.
		doc, _ := decodeDoc(got.Document)
		k, _ := a.f.Keys(ctx, nodeActorName)
		if err := verifyProof(doc, k.Ed25519.Public().(ed25519.PublicKey)); err != nil {
			t.Errorf("the kept statement does not verify: %v", err)
		}

		// A statement never acknowledged (its deliveries given up on) is
		// sent again with the month's after a week.
		stale := *mine
		stale.Status, stale.UpdatedAt = nineten.StatementPending, time.Now().Add(-8*24*time.Hour)
		if err := dbA.SaveStatement(ctx, &stale); err != nil {
			t.Fatal(err)
		}
		if _, err := a.f.SendStatements(ctx, "2024-01"); err != nil {
			t.Fatal(err)
		}
		if failed := pump(t, a, b); len(failed) > 0 {
			t.Fatal(failed)
		}
		if again := a.statement(id, nineten.StatementSent); again.Status != nineten.StatementAcknowledged {
			t.Fatalf("a stale statement sent again is %s (%s)", again.Status, again.Reason)
		}

		// Sending the month again sends nothing; the same statement
		// delivered again (signed afresh) changes nothing and is
		// acknowledged again.
		if _, err := a.f.SendStatements(ctx, "2024-01"); err != nil {
			t.Fatal(err)
		}
		if n := pump(t, a, b); len(n) > 0 {
			t.Fatal(n)
		}
		act := create(a, mine.Document)
		if status, msg := b.post(a, act, time.Now()); status != http.StatusAccepted {
			t.Fatalf("a duplicate: %d %s", status, msg)
		}
		pump(t, a, b)
		if again := b.statement(id, nineten.StatementReceived); !again.UpdatedAt.Equal(got.UpdatedAt) || !sameLines(again.Lines, want) {
			t.Errorf("a duplicate changed the statement: %+v", again)
		}
		// The same signed request again is a replay.
		body, _ := json.Marshal(create(a, mine.Document))
		at := time.Now()
		if status, _ := b.postRaw(a, body, at); status != http.StatusAccepted {
			t.Fatal(status)
		}
		if status, msg := b.postRaw(a, body, at); status != http.StatusUnauthorized || !strings.Contains(msg, "delivered already") {
			t.Errorf("a replayed request: %d %q", status, msg)
		}
		pump(t, a, b)

		unchanged := func(what string) {
			t.Helper()
			if now := b.statement(id, nineten.StatementReceived); now.Digest != got.Digest || !sameLines(now.Lines, want) {
				t.Errorf("%s changed B's statement: %+v", what, now)
			}
			lines, err := dbB.ArtistStatementLines(ctx, ref(b, star))
			if err != nil || len(lines) != 1 || lines[0].Amount != 4_500_000 {
				t.Errorf("%s: star's earnings from A are %+v, %v", what, lines, err)
			}
		}
		// Altered after signing: the proof fails; nobody is answered.
		altered := bytes.Replace(mine.Document, []byte("4500000"), []byte("5500000"), 2)
		if status, msg := b.post(a, create(a, altered), time.Now()); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "does not verify") {
			t.Errorf("an altered statement: %d %q", status, msg)
		}
		unchanged("an altered statement")
		// Lines that do not add up, signed by A: refused, and A told why.
		bad := resign(t, a, mine.Document, func(d map[string]any) { d["total"] = json.Number("7000000") })
		if status, msg := b.post(a, create(a, bad), time.Now()); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "add up to 6750000") {
			t.Errorf("a statement that does not add up: %d %q", status, msg)
		}
		unchanged("a statement that does not add up")
		// A node actor that is not A, with a statement claiming to be A's.
		c := newPeer(t, mustOpen(t))
		if status, msg := b.post(c, create(c, mine.Document), time.Now()); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "id on its sender's host") {
			t.Errorf("A's statement sent by C: %d %q", status, msg)
		}
		// C's own statement, signed with a key C does not publish.
		forged := resign(t, a, mine.Document, func(d map[string]any) {
			d["id"], d["attributedTo"] = c.f.url("/statements/2024-01/x"), c.f.url("/actor")
		})
		if status, msg := b.post(c, create(c, forged), time.Now()); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "does not publish") {
			t.Errorf("a statement signed with another node's key: %d %q", status, msg)
		}
		unchanged("forged statements")
		pump(t, a, b, c)

		// Another version of the same statement, properly signed: kept
		// aside, refused, and A hears why.
		v2 := resign(t, a, mine.Document, func(d map[string]any) {
			for _, l := range d["lines"].([]any) {
				l := l.(map[string]any)
				if l["amount"] == json.Number("4500000") {
					l["amount"] = json.Number("5500000")
				}
			}
			d["total"] = json.Number("7750000")
		})
		if status, msg := b.post(a, create(a, v2), time.Now()); status != http.StatusConflict || !strings.Contains(msg, "recorded before with other amounts") {
			t.Errorf("a changed statement: %d %q", status, msg)
		}
		if failed := pump(t, a, b); len(failed) > 0 {
			t.Fatal(failed)
		}
		if now := b.statement(id, nineten.StatementReceived); now.Status != nineten.StatementConflicted || !sameLines(now.Lines, want) {
			t.Errorf("after a conflicting version B has %+v", now)
		}
		if cs, err := dbB.StatementConflicts(ctx, id); err != nil || len(cs) != 1 {
			t.Errorf("conflicts kept: %+v, %v", cs, err)
		}
		if mine := a.statement(id, nineten.StatementSent); mine.Status != nineten.StatementRefused || !strings.Contains(mine.Reason, "other amounts") {
			t.Errorf("A's statement after B refused a version: %s %q", mine.Status, mine.Reason)
		}

		// A pays star out: recorded on A's ledger, and B learns the line
		// is paid.
		tx, err := a.f.RecordRemotePayout(ctx, ref(b, star), "usdp:0xfeed:0")
		if err != nil || tx.Outputs[0].Amount != 4_500_000 {
			t.Fatalf("RecordRemotePayout: %+v, %v", tx, err)
		}
		if bal, _ := a.ledger.Balance(ctx, nineten.AccountArtist, ref(b, star)); bal != 0 {
			t.Errorf("star's balance on A after the payout: %d", bal)
		}
		if failed := pump(t, a, b); len(failed) > 0 {
			t.Fatal(failed)
		}
		lines, err := dbB.ArtistStatementLines(ctx, ref(b, star))
		if err != nil || len(lines) != 1 || lines[0].PaidRef != "usdp:0xfeed:0" || lines[0].PaidAt.IsZero() {
			t.Errorf("star's lines on B after the payout: %+v, %v", lines, err)
		}
		if lines, _ := dbB.ArtistStatementLines(ctx, ref(b, other)); len(lines) != 1 || lines[0].PaidRef != "" {
			t.Errorf("other's lines on B after star's payout: %+v", lines)
		}
		if _, err := a.f.RecordRemotePayout(ctx, ref(b, star), "usdp:0xfeed:1"); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Errorf("paying star again: %v", err)
		}
	})
}

func mustOpen(t *testing.T) *sqlstore.DB {
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sameLines compares the artists and amounts of lines, in any order.
func sameLines(got, want []nineten.StatementLine) bool {
	amounts := map[string]nineten.Micro{}
	for _, l := range want {
		amounts[l.Artist] = l.Amount
	}
	for _, l := range got {
		if a, ok := amounts[l.Artist]; !ok || a != l.Amount {
			return false
		}
		delete(amounts, l.Artist)
	}
	return len(amounts) == 0
}

func slicesIndex(ls []nineten.StatementLine, artist string) int {
	for i, l := range ls {
		if l.Artist == artist {
			return i
		}
	}
	return 0
}
