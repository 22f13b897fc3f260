package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/report"
	"nineten.dev/seal"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

// reporting gives a peer its listening reports (the real report use case,
// sealed with a real age identity) and makes it review with them.
func (p *peer) reporting(audience ...*peer) *report.Service {
	p.t.Helper()
	cipher, err := seal.Load(filepath.Join(p.t.TempDir(), "node.age"))
	if err != nil {
		p.t.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	rs := &report.Service{Store: p.db, Ledger: p.ledger, Cipher: cipher, Node: p.host, Secret: secret, K: 1, Log: p.f.Log}
	rs.Audience = func(context.Context) ([]string, error) {
		var out []string
		for _, a := range audience {
			out = append(out, a.f.Reports.Recipient)
		}
		return out, nil
	}
	p.f.Reports = ReportKeys{Recipient: cipher.Recipient(), Signer: rs.Signer(), Cluster: "test"}
	p.f.MakeMonthly = func(ctx context.Context, m nineten.Period) error { _, err := rs.Monthly(ctx, m, nil); return err }
	p.f.ReviewReport = rs.Review
	return rs
}

// listen records a verified listen of 90 s on the peer, at.
func (p *peer) listen(u *nineten.User, tr *nineten.Track, at time.Time) {
	p.t.Helper()
	ctx := p.t.Context()
	id := "s" + randomID()
	if err := p.db.CreateListenSession(ctx, &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: at}); err != nil {
		p.t.Fatal(err)
	}
	if err := p.db.SaveListen(ctx, &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: at, HeardMS: 90_000, Status: nineten.ListenVerified, VerifiedAt: at}); err != nil {
		p.t.Fatal(err)
	}
}

// Two nodes of a cluster on loopback: A's monthly report is reviewed by B,
// who agrees, and the month may be settled; a report file changed after A
// announced it is caught by B, whose disagreement opens a dispute that
// holds the settlement until an admin resolves it; a peer that does not
// answer by the deadline opens one too.
func TestPeerReview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbB *sqlstore.DB) {
		ctx := t.Context()
		dbA, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dbA.Close() })
		a, b := newPeer(t, dbA), newPeer(t, dbB)
		b.reporting()
		a.reporting(b)
		a.f.ClusterPeers, b.f.ClusterPeers = []string{b.f.Base.String()}, []string{a.f.Base.String()}
		clock := clocktest.New(time.Now())
		a.f.Clock = clock

		owner := a.artistHere("band")
		tr := &nineten.Track{ArtistID: owner.ID, Title: "Song", DurationMS: 200_000, Status: nineten.TrackReady, CreatedAt: time.Now()}
		if err := dbA.CreateTrack(ctx, tr); err != nil {
			t.Fatal(err)
		}
		fan := &nineten.User{Username: "fan", PasswordHash: "-", Role: nineten.RoleListener, CreatedAt: time.Now()}
		if err := dbA.CreateUser(ctx, fan); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"2024-01", "2024-02", "2024-03"} {
			day, _ := time.Parse("2006-01-02", m+"-10")
			a.listen(fan, tr, day.Add(12*time.Hour))
		}
		reviewOf := func(p *peer, month nineten.Period, role nineten.ReviewRole) nineten.PeerReview {
			t.Helper()
			rs, err := p.db.Reviews(ctx, month, role)
			if err != nil || len(rs) != 1 {
				t.Fatalf("%s reviews of %s: %+v, %v", role, month, rs, err)
			}
			return rs[0]
		}

		// Settling asks for the review first, and waits.
		if err := a.f.ReviewGate(ctx, "2024-01"); nineten.ErrorKind(err) != nineten.KindUnavailable || !strings.Contains(nineten.ErrorMessage(err), "waits for the peer review") {
			t.Fatalf("the gate before any review: %v", err)
		}
		if failed := pump(t, a, b); len(failed) > 0 {
			t.Fatal(failed)
		}
		if r := reviewOf(a, "2024-01", nineten.ReviewAsked); r.Status != nineten.ReviewAgreed || len(r.Findings) != 0 {
			t.Fatalf("A's review of January by B: %+v", r)
		}
		given := reviewOf(b, "2024-01", nineten.ReviewGiven)
		if given.Status != nineten.ReviewAgreed {
			t.Fatalf("B's review of A's January: %+v", given)
		}
		att, _ := decodeDoc(given.Attestation)
		k, _ := b.f.Keys(ctx, nodeActorName)
		if err := verifyProof(att, k.Ed25519.Public().(ed25519.PublicKey)); err != nil || att["verdict"] != "agree" {
			t.Errorf("B's attestation: %v, verdict %v", err, att["verdict"])
		}
		if err := a.f.ReviewGate(ctx, "2024-01"); err != nil {
			t.Errorf("the gate after B agreed: %v", err)
		}

		// February: a daily report is changed after A announced it.
		if err := a.f.ReviewGate(ctx, "2024-02"); nineten.ErrorKind(err) != nineten.KindUnavailable {
			t.Fatalf("the gate before February's review: %v", err)
		}
		daily, err := dbA.Report(ctx, "daily-2024-02-10")
		if err != nil {
			t.Fatal(err)
		}
		daily.File[len(daily.File)-1] ^= 1
		if err := dbA.SaveReport(ctx, daily); err != nil {
			t.Fatal(err)
		}
		if failed := pump(t, a, b); len(failed) > 0 {
			t.Fatal(failed)
		}
		r := reviewOf(a, "2024-02", nineten.ReviewAsked)
		if r.Status != nineten.ReviewDisagreed || len(r.Findings) == 0 || !strings.Contains(r.Findings[0], "daily-2024-02-10 is not the one announced") {
			t.Fatalf("A's review of February by B: %+v", r)
		}
		err = a.f.ReviewGate(ctx, "2024-02")
		if nineten.ErrorKind(err) != nineten.KindConflict || !strings.Contains(nineten.ErrorMessage(err), "held by a dispute") {
			t.Errorf("the gate after B disagreed: %v", err)
		}
		if ds, _ := dbA.Disputes(ctx, "2024-02"); len(ds) != 1 || !strings.Contains(ds[0].Reason, "disagrees") {
			t.Errorf("disputes of February: %+v", ds)
		}
		if err := dbA.ResolveDispute(ctx, "2024-02", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := a.f.ReviewGate(ctx, "2024-02"); err != nil {
			t.Errorf("the gate once an admin resolved the dispute: %v", err)
		}

		// March: B never answers (its jobs are not run); past the deadline,
		// the settlement is held.
		if err := a.f.ReviewGate(ctx, "2024-03"); nineten.ErrorKind(err) != nineten.KindUnavailable {
			t.Fatalf("the gate before March's review: %v", err)
		}
		clock.Add(DefaultReviewDeadline + time.Minute)
		if err := a.f.ReviewGate(ctx, "2024-03"); nineten.ErrorKind(err) != nineten.KindConflict || !strings.Contains(nineten.ErrorMessage(err), "did not attest") {
			t.Errorf("the gate past the deadline: %v", err)
		}
		if r := reviewOf(a, "2024-03", nineten.ReviewAsked); r.Status != nineten.ReviewMissing {
			t.Errorf("March's review past the deadline: %+v", r)
		}

		// A node outside the cluster is refused.
		c := newPeer(t, mustOpen(t))
		c.reporting()
		c.f.ClusterPeers = []string{b.f.Base.String()}
		c.f.MakeMonthly = func(context.Context, nineten.Period) error { return nil }
		if _, err := c.f.RequestReview(ctx, "2024-01"); err == nil {
			t.Error("a node without reports asked for a review")
		}
	})
}
