package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/anomaly"
	"nineten.dev/ledger/embedded"
	"nineten.dev/payout"
	"nineten.dev/server"
	"nineten.dev/sqlstore"
	"nineten.dev/subscription"
)

type flagOut struct {
	ID       int64            `json:"id"`
	Rule     string           `json:"rule"`
	Means    string           `json:"means"`
	Summary  string           `json:"summary"`
	Status   string           `json:"status"`
	Subject  string           `json:"subject"`
	Evidence map[string]int64 `json:"evidence"`
	Listens  int              `json:"listens"`
}

type settlementOut struct {
	Paid, Held int
	ToArtists  int64 `json:"to_artists"`
}

// TestAnomalyReviewAPI walks the admin's review of fake-stream flags over
// HTTP on a real store and ledger: detection flags six accounts sharing a
// browser; the admin sees the flag with its evidence, the accounts see
// why their listens are held, the artist sees them held; a settlement
// preview leaves their money in the pool until the admin clears the flag
// with one click for the rule's whole group, and then pays the artist.
func TestAnomalyReviewAPI(t *testing.T) {
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key}, Node: "music.test"}
	detector := &anomaly.Service{Store: db}
	payouts := &payout.Service{Ledger: ledger, Store: db, Node: "music.test", BeforeTotals: detector.BeforeSettle}
	subs := &subscription.Service{Ledger: ledger, Store: db, Node: "music.test", Simulated: true}
	accounts := &account.Service{Store: db}
	srv := httptest.NewServer((&server.Server{Accounts: accounts, Store: db, Payouts: payouts, Subscriptions: subs, Anomalies: detector}).Handler())
	t.Cleanup(srv.Close)
	if err := payouts.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	as := func(name string, role nineten.Role) (api, *nineten.User) {
		u, err := accounts.CreateUser(ctx, name, "password-"+name, "", role)
		if err != nil {
			t.Fatal(err)
		}
		_, token, err := accounts.CreateToken(ctx, u, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := subs.SimulatedDeposit(ctx, u, 10_000_000); err != nil {
			t.Fatal(err)
		}
		if _, err := subs.Subscribe(ctx, u); err != nil {
			t.Fatal(err)
		}
		return api{t, srv.URL, token}, u
	}
	admin, _ := as("root", nineten.RoleAdmin)
	owner, ownerUser := as("owner", nineten.RoleArtist)
	stranger, _ := as("stranger", nineten.RoleListener)
	artist := &nineten.Artist{OwnerID: ownerUser.ID, Name: "Pushed", Slug: "pushed", CreatedAt: time.Now()}
	if err := db.CreateArtist(ctx, artist); err != nil {
		t.Fatal(err)
	}
	track := &nineten.Track{ArtistID: artist.ID, Title: "Song", DurationMS: 200_000, Status: nineten.TrackReady, CreatedAt: time.Now()}
	if err := db.CreateTrack(ctx, track); err != nil {
		t.Fatal(err)
	}
	// Yesterday (or the day before, early after midnight, to stay in this
	// month for the preview), six accounts played the track in one browser.
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	if day.Month() != now.Month() {
		t.Skip("the first day of a month has no day of the month before it to flag and settle")
	}
	var bot api
	for i := range 6 {
		c, u := as(fmt.Sprintf("bot%d", i), nineten.RoleListener)
		bot = c
		for j := range 3 {
			id := fmt.Sprintf("s%d-%d", i, j)
			start := day.Add(time.Duration(i)*time.Hour + time.Duration(4*j)*time.Minute)
			if err := db.CreateListenSession(ctx, &nineten.ListenSession{ID: id, TrackID: track.ID, UserID: u.ID, StartedAt: start, HeardMS: 200_000, Device: "one-browser"}); err != nil {
				t.Fatal(err)
			}
			if err := db.SaveListen(ctx, &nineten.Listen{SessionID: id, TrackID: track.ID, UserID: u.ID, StartedAt: start, HeardMS: 200_000, Status: nineten.ListenVerified, VerifiedAt: start}); err != nil {
				t.Fatal(err)
			}
		}
	}
	period := nineten.PeriodOf(day)

	stranger.call("POST", "/api/v1/admin/anomalies/detect", map[string]any{"day": day.Format(time.DateOnly)}, 403, nil)
	admin.call("POST", "/api/v1/admin/anomalies/detect", map[string]any{"day": "yesterday"}, 422, nil)
	var detected struct {
		NewFlags int `json:"new_flags"`
	}
	admin.call("POST", "/api/v1/admin/anomalies/detect", map[string]any{"day": day.Format(time.DateOnly)}, 200, &detected)
	if detected.NewFlags != 1 {
		t.Fatalf("new flags: %d, want 1", detected.NewFlags)
	}

	var list struct {
		Items []flagOut `json:"items"`
		Rules []struct {
			Rule    string `json:"rule"`
			Held    int    `json:"held"`
			Cleared int    `json:"cleared"`
		} `json:"rules"`
	}
	stranger.call("GET", "/api/v1/admin/anomalies", nil, 403, nil)
	admin.call("GET", "/api/v1/admin/anomalies", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Rule != anomaly.RuleSharedDevice || list.Items[0].Status != "held" ||
		list.Items[0].Listens != 18 || list.Items[0].Evidence["accounts_week"] != 6 || list.Items[0].Subject == "" || list.Items[0].Means == "" {
		t.Fatalf("flags awaiting review: %+v", list.Items)
	}
	if len(list.Rules) != len(anomaly.Rules) {
		t.Errorf("counts for %d rules, want every one of %d", len(list.Rules), len(anomaly.Rules))
	}
	for _, r := range list.Rules {
		if want := map[bool]int{true: 1}[r.Rule == anomaly.RuleSharedDevice]; r.Held != want {
			t.Errorf("rule %s: %d held, want %d", r.Rule, r.Held, want)
		}
	}

	// The listener and the artist see why, not who else or where from.
	var mine struct{ Items []flagOut }
	bot.call("GET", "/api/v1/me/held-listens", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Summary == "" || mine.Items[0].Status != "held" || mine.Items[0].Subject != "" || mine.Items[0].Evidence != nil {
		t.Fatalf("the listener's held listens: %+v", mine.Items)
	}
	stranger.call("GET", "/api/v1/me/held-listens", nil, 200, &mine)
	if len(mine.Items) != 0 {
		t.Errorf("a stranger sees %+v", mine.Items)
	}
	var listening struct {
		Verified, Held, Excluded struct{ Listens int64 }
		Flags                    []flagOut
	}
	path := fmt.Sprintf("/api/v1/artists/%d/listening?period=%s", artist.ID, period)
	stranger.call("GET", path, nil, 403, nil)
	owner.call("GET", fmt.Sprintf("/api/v1/artists/%d/listening?period=June", artist.ID), nil, 422, nil)
	owner.call("GET", path, nil, 200, &listening)
	if listening.Verified.Listens != 0 || listening.Held.Listens != 18 || len(listening.Flags) != 1 || listening.Flags[0].Subject != "" {
		t.Fatalf("the artist's listening: %+v", listening)
	}

	var preview settlementOut
	admin.call("POST", "/api/v1/admin/settlements", map[string]any{"period": period, "dry_run": true}, 200, &preview)
	if preview.Paid != 0 || preview.ToArtists != 0 {
		t.Fatalf("preview while held: %+v", preview)
	}
	bot.call("POST", "/api/v1/admin/anomalies/review", map[string]any{"rule": anomaly.RuleSharedDevice, "decision": "cleared"}, 403, nil)
	admin.call("POST", "/api/v1/admin/anomalies/review", map[string]any{"ids": []int64{list.Items[0].ID}, "decision": "ignored"}, 422, nil)
	var reviewed struct{ Reviewed int }
	admin.call("POST", "/api/v1/admin/anomalies/review", map[string]any{"rule": anomaly.RuleSharedDevice, "decision": "cleared"}, 200, &reviewed)
	if reviewed.Reviewed != 1 {
		t.Fatalf("reviewed %d, want 1", reviewed.Reviewed)
	}
	admin.call("POST", "/api/v1/admin/settlements", map[string]any{"period": period, "dry_run": true}, 200, &preview)
	if preview.Paid != 6 || preview.ToArtists != 54_000_000 {
		t.Fatalf("preview once cleared: %+v, want the six accounts' $54 to the artist", preview)
	}
	owner.call("GET", path, nil, 200, &listening)
	if listening.Verified.Listens != 18 || listening.Held.Listens != 0 || listening.Flags[0].Status != "cleared" {
		t.Fatalf("the artist's listening once cleared: %+v", listening)
	}
	admin.call("GET", "/api/v1/admin/anomalies", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Errorf("still awaiting review: %+v", list.Items)
	}
	// Confirmed after all: the listens never count, and the artist sees
	// them excluded.
	admin.call("POST", "/api/v1/admin/anomalies/review", map[string]any{"ids": []int64{listening.Flags[0].ID}, "decision": "confirmed"}, 200, &reviewed)
	admin.call("POST", "/api/v1/admin/settlements", map[string]any{"period": period, "dry_run": true}, 200, &preview)
	if preview.Paid != 0 || preview.ToArtists != 0 {
		t.Fatalf("preview once confirmed: %+v", preview)
	}
	owner.call("GET", path, nil, 200, &listening)
	if listening.Excluded.Listens != 18 || listening.Verified.Listens != 0 || listening.Flags[0].Status != "confirmed" {
		t.Fatalf("the artist's listening once confirmed: %+v", listening)
	}
}
