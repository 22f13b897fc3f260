package report_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/report"
	"nineten.dev/seal"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const node = "music.test"

type world struct {
	t       *testing.T
	db      *sqlstore.DB
	clock   *clocktest.Clock
	ledger  *embedded.Contract
	key     ed25519.PrivateKey
	reports *report.Service
	auditor *seal.Cipher
	seq     int
}

func newWorld(t *testing.T, db *sqlstore.DB, now time.Time) *world {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := clocktest.New(now)
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key, Clock: clock}, Node: node}
	dir := t.TempDir()
	cipher, err := seal.Load(filepath.Join(dir, "node.age"))
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := seal.Load(filepath.Join(dir, "auditor.age"))
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	w := &world{t: t, db: db, clock: clock, ledger: ledger, key: key, auditor: auditor}
	w.reports = &report.Service{Store: db, Ledger: ledger, Cipher: cipher, Clock: clock, Node: node, Secret: secret, K: 3,
		Audience: func(context.Context) ([]string, error) { return []string{auditor.Recipient()}, nil }}
	return w
}

func (w *world) user(name string) *nineten.User {
	w.t.Helper()
	u := &nineten.User{Username: name, DisplayName: name, PasswordHash: "x", Role: nineten.RoleListener, CreatedAt: w.clock.Now()}
	if err := w.db.CreateUser(w.t.Context(), u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

func (w *world) artist(name string, tracks int) (*nineten.Artist, []*nineten.Track) {
	w.t.Helper()
	owner := w.user("owner-" + name)
	a := &nineten.Artist{OwnerID: owner.ID, Name: name, Slug: "a-" + name, CreatedAt: w.clock.Now()}
	if err := w.db.CreateArtist(w.t.Context(), a); err != nil {
		w.t.Fatal(err)
	}
	var out []*nineten.Track
	for i := range tracks {
		tr := &nineten.Track{ArtistID: a.ID, Title: fmt.Sprintf("%s %d", name, i), DurationMS: 240_000, Status: nineten.TrackReady, CreatedAt: w.clock.Now()}
		if err := w.db.CreateTrack(w.t.Context(), tr); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, tr)
	}
	return a, out
}

// listen records a listen of u (anonymous when nil) started at.
func (w *world) listen(u *nineten.User, tr *nineten.Track, at time.Time, heardMS int64, status nineten.ListenStatus) {
	w.t.Helper()
	w.seq++
	id := fmt.Sprintf("s%d", w.seq)
	var uid nineten.ID
	anon := ""
	if u != nil {
		uid = u.ID
	} else {
		anon = "browser-" + id
	}
	if err := w.db.CreateListenSession(w.t.Context(), &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: uid, AnonID: anon, StartedAt: at}); err != nil {
		w.t.Fatal(err)
	}
	l := &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: uid, AnonID: anon, StartedAt: at, HeardMS: heardMS, Status: status}
	if status == nineten.ListenVerified {
		l.VerifiedAt = at
	} else {
		l.Reason = "test"
	}
	if err := w.db.SaveListen(w.t.Context(), l); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) open(r *nineten.StoredReport) (*report.File, *report.Daily) {
	w.t.Helper()
	f, plain, err := report.Open(r.File, nil, w.reports.Cipher.Decrypt)
	if err != nil {
		w.t.Fatal(err)
	}
	d, err := report.DecodeDaily(plain)
	if err != nil {
		w.t.Fatal(err)
	}
	return f, d
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
