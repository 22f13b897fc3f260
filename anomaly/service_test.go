package anomaly_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/anomaly"
	"nineten.dev/ledger/embedded"
	"nineten.dev/payout"
	"nineten.dev/sqlstore"
	"nineten.dev/subscription"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const node = "music.test"

// world is a node's store, ledger, money and detector at a controlled time.
type world struct {
	t      *testing.T
	db     *sqlstore.DB
	clock  *clocktest.Clock
	detect *anomaly.Service
	pay    *payout.Service
	subs   *subscription.Service
	seq    int
}

func newWorld(t *testing.T, db *sqlstore.DB, start time.Time) *world {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := clocktest.New(start)
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key, Clock: clock}, Node: node}
	w := &world{t: t, db: db, clock: clock, detect: &anomaly.Service{Store: db, Clock: clock}}
	w.pay = &payout.Service{Ledger: ledger, Store: db, Clock: clock, Node: node, BeforeTotals: w.detect.BeforeSettle}
	w.subs = &subscription.Service{Ledger: ledger, Store: db, Clock: clock, Node: node, Simulated: true}
	return w
}

func (w *world) ok(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// subscriber makes a listener who paid for the month.
func (w *world) subscriber(name string, role nineten.Role) *nineten.User {
	w.t.Helper()
	u := &nineten.User{Username: name, PasswordHash: "x", Role: role, CreatedAt: w.clock.Now().AddDate(-1, 0, 0)}
	w.ok(w.db.CreateUser(w.t.Context(), u))
	_, err := w.subs.SimulatedDeposit(w.t.Context(), u, 10_000_000)
	w.ok(err)
	_, err = w.subs.Subscribe(w.t.Context(), u)
	w.ok(err)
	return u
}

func (w *world) track(name string) *nineten.Track {
	w.t.Helper()
	owner := &nineten.User{Username: "owner-" + name, PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: w.clock.Now()}
	w.ok(w.db.CreateUser(w.t.Context(), owner))
	a := &nineten.Artist{OwnerID: owner.ID, Name: name, Slug: name, CreatedAt: w.clock.Now()}
	w.ok(w.db.CreateArtist(w.t.Context(), a))
	tr := &nineten.Track{ArtistID: a.ID, Title: name, DurationMS: 200_000, Status: nineten.TrackReady, CreatedAt: w.clock.Now()}
	w.ok(w.db.CreateTrack(w.t.Context(), tr))
	return tr
}

// listen records a verified listen of 200 s at start, from device.
func (w *world) listen(u *nineten.User, tr *nineten.Track, start time.Time, device string) {
	w.t.Helper()
	w.seq++
	id := fmt.Sprintf("s%d", w.seq)
	w.ok(w.db.CreateListenSession(w.t.Context(), &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: start,
		HeardMS: 200_000, Network: "net-" + u.Username, Device: device}))
	w.ok(w.db.SaveListen(w.t.Context(), &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: start,
		HeardMS: 200_000, Status: nineten.ListenVerified, VerifiedAt: start.Add(200 * time.Second)}))
}

func (w *world) preview() nineten.Settlement {
	w.t.Helper()
	res, err := w.pay.Settle(w.t.Context(), "2025-06", true, nil)
	w.ok(err)
	return res
}

// A settlement preview first runs detection over the month's days: the
// listens of six accounts sharing one browser are held, so their $9 waits
// in the pool instead of going to the artist they pushed. Confirming the
// flag keeps it so; clearing it pays the artist. Detection is idempotent.
func TestFlaggedListensWaitForReviewBeforeSettlement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
		w.ok(w.pay.Tick(ctx)) // opens June
		hit, pushed := w.track("hit"), w.track("pushed")
		ann := w.subscriber("ann", nineten.RoleListener)
		admin := w.subscriber("root", nineten.RoleAdmin)
		var farm []*nineten.User
		for i := range 6 {
			farm = append(farm, w.subscriber(fmt.Sprintf("bot%d", i), nineten.RoleListener))
		}
		w.ok(w.pay.Tick(ctx))
		june10 := time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			w.listen(ann, hit, june10.Add(time.Duration(10*60+4*i)*time.Minute), "ann-phone")
		}
		for i, bot := range farm {
			for j := range 3 {
				w.listen(bot, pushed, june10.Add(time.Duration(i)*time.Hour+time.Duration(4*j)*time.Minute), "farm-browser")
			}
		}
		w.clock.Add(time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC).Sub(w.clock.Now()))

		before := w.preview()
		if before.Paid != 1 || before.Held != 7 || before.ToArtists != 9_000_000 {
			t.Fatalf("preview with the farm held: paid %d, held %d (ann pays; the farm and the admin, who heard nothing, wait), to artists %s", before.Paid, before.Held, before.ToArtists)
		}
		flags, err := db.AnomalyFlags(ctx, nineten.FlagQuery{Status: nineten.FlagHeld})
		w.ok(err)
		if len(flags) != 1 || flags[0].Rule != anomaly.RuleSharedDevice || flags[0].Listens != 18 || len(flags[0].Listeners) != 6 ||
			!flags[0].Day.Equal(june10) || flags[0].Evidence["accounts_week"] != 6 {
			t.Fatalf("flags: %+v", flags)
		}
		for day := june10.AddDate(0, 0, -9); !day.After(june10.AddDate(0, 0, 9)); day = day.AddDate(0, 0, 1) {
			if ran, err := db.DetectionRunAt(ctx, day); err != nil || ran.IsZero() {
				t.Fatalf("detection over %s: ran %v, %v", day.Format(time.DateOnly), ran, err)
			}
		}
		if n, err := w.detect.DetectDay(ctx, june10); err != nil || n != 0 {
			t.Fatalf("detecting June 10 again: %d new flags, %v", n, err)
		}

		if _, err := w.detect.Review(ctx, ann, []nineten.ID{flags[0].ID}, nineten.FlagCleared); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Fatalf("a listener reviewing: %v", err)
		}
		if _, err := w.detect.Review(ctx, admin, []nineten.ID{flags[0].ID}, "maybe"); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Fatalf("an unknown decision: %v", err)
		}
		_, err = w.detect.Review(ctx, admin, []nineten.ID{flags[0].ID}, nineten.FlagConfirmed)
		w.ok(err)
		if got := w.preview(); got.Digest != before.Digest {
			t.Errorf("confirmed fake listens changed the preview: %+v", got)
		}
		_, err = w.detect.Review(ctx, admin, []nineten.ID{flags[0].ID}, nineten.FlagCleared)
		w.ok(err)
		after := w.preview()
		if after.Paid != 7 || after.Held != 1 || after.ToArtists != 63_000_000 {
			t.Errorf("preview with the flag cleared: paid %d, held %d, to artists %s; want 7, 1, 63.000000", after.Paid, after.Held, after.ToArtists)
		}
		// Detection of the day again does not hold what an admin cleared.
		if n, err := w.detect.DetectDay(ctx, june10); err != nil || n != 0 {
			t.Fatalf("detecting again after the review: %d, %v", n, err)
		}
		if got := w.preview(); got.Digest != after.Digest {
			t.Errorf("detection after a review changed the preview")
		}
	})
}

// The nightly detection is queued once yesterday is over, once, and the
// job runs it.
func TestTickQueuesYesterdaysDetectionOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 6, 11, 0, 30, 0, 0, time.UTC))
		w.ok(w.detect.Tick(ctx))
		w.ok(w.detect.Tick(ctx))
		jobs, err := db.ActiveJobs(ctx)
		w.ok(err)
		if len(jobs) != 1 || jobs[0].Kind != anomaly.JobDetect || string(jobs[0].Payload) != `{"day":"2025-06-10"}` {
			t.Fatalf("queued: %+v", jobs)
		}
		w.ok(w.detect.Detector().Run(ctx, &jobs[0], func(int) {}))
		ran, err := db.DetectionRunAt(ctx, time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC))
		if err != nil || !ran.Equal(w.clock.Now()) {
			t.Fatalf("June 10 ran at %v, %v", ran, err)
		}
		w.ok(db.Complete(ctx, jobs[0].ID, w.clock.Now()))
		w.ok(w.detect.Tick(ctx))
		if jobs, _ := db.ActiveJobs(ctx); len(jobs) != 0 {
			t.Fatalf("queued again after it ran: %+v", jobs)
		}
		bad := &nineten.Job{Kind: anomaly.JobDetect, Payload: []byte(`{"day":"June"}`)}
		if err := w.detect.Detector().Run(ctx, bad, func(int) {}); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Fatalf("a job without a day: %v", err)
		}
	})
}
