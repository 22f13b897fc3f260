package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	nineten "nineten.dev"
	"nineten.dev/seal"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/nodetest"
)

// Listening reports through the real binary: a node of a two-node cluster
// makes a day's report sealed to itself, its peer (whose recipient it reads
// from the peer's actor) and an auditor; the peer and the auditor can read
// it, a stranger cannot, a changed byte fails it; the month compiles with
// its checks passing; its audit bundle verifies offline and proves an
// artist's listening; and the ledger still verifies.
func TestListeningReportsThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	auditor, err := seal.Load(filepath.Join(dir, "auditor.age"))
	if err != nil {
		t.Fatal(err)
	}
	stranger := filepath.Join(dir, "stranger.age")
	if _, err := seal.Load(stranger); err != nil {
		t.Fatal(err)
	}

	peer := nodetest.Start(t, "--dev-federation", "--cluster", "north")
	peerCipher, err := seal.Load(filepath.Join(peer.Data, "node.age"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", peer.URL+"/actor", nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var actor struct {
		Context         []any  `json:"@context"`
		ReportRecipient string `json:"reportRecipient"`
		ReportSigner    string `json:"reportSigner"`
		Cluster         string `json:"cluster"`
	}
	err = json.NewDecoder(resp.Body).Decode(&actor)
	resp.Body.Close()
	if err != nil || actor.ReportRecipient != peerCipher.Recipient() || !strings.HasPrefix(actor.ReportSigner, "ed25519:") || actor.Cluster != "north" {
		t.Fatalf("the peer's node actor: %+v, %v", actor, err)
	}

	reportFlags := []string{"--dev-federation", "--cluster", "north", "--cluster-peers", peer.URL, "--report-k", "2", "--report-auditors", auditor.Recipient()}
	node := nodetest.Start(t, reportFlags...)
	node.Stop()
	artistID := listeningInJune(t, filepath.Join(node.Data, "9ten.db"))

	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(nodetest.Binary(t), args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if (err == nil) != wantOK {
			t.Fatalf("9ten %s: %v (want success %v)\n%s%s", strings.Join(args, " "), err, wantOK, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	file := filepath.Join(dir, "daily.9tr")
	out := run(true, append([]string{"report", "daily", "--data", node.Data, "--date", "2025-06-04", "--out", file}, reportFlags...)...)
	for _, want := range []string{"report daily-2025-06-04 (version 1, anchored on the ledger)", "listens:     4", "listeners:   3", "reading the day's listening: 3 listener × track rows"} {
		if !strings.Contains(out, want) {
			t.Fatalf("report daily says no %q:\n%s", want, out)
		}
	}
	for _, id := range []string{filepath.Join(node.Data, "node.age"), filepath.Join(peer.Data, "node.age"), filepath.Join(dir, "auditor.age")} {
		out = run(true, "report", "verify", file, "--data", node.Data, "--identity", id)
		for _, want := range []string{"signature OK", "anchored:    version 1", "recipients:  3", "decrypted:   4 listens"} {
			if !strings.Contains(out, want) {
				t.Fatalf("report verify --identity %s says no %q:\n%s", id, want, out)
			}
		}
	}
	if out = run(true, "report", "verify", file, "--offline"); strings.Contains(out, "anchored") || !strings.Contains(out, "signature OK") {
		t.Fatalf("report verify --offline:\n%s", out)
	}
	if out = run(false, "report", "verify", file, "--offline", "--signer", actor.ReportSigner); !strings.Contains(out, "not by "+actor.ReportSigner) {
		t.Fatalf("report verify with the peer's signer required:\n%s", out)
	}
	if out = run(false, "report", "verify", file, "--data", node.Data, "--identity", stranger); !strings.Contains(out, "not encrypted to this identity") {
		t.Fatalf("a stranger's identity:\n%s", out)
	}
	b, _ := os.ReadFile(file)
	for _, at := range []int{20, len(b) / 2, len(b) - 10} {
		altered := bytes.Clone(b)
		altered[at] ^= 0x04
		bad := filepath.Join(dir, "altered.9tr")
		if err := os.WriteFile(bad, altered, 0o644); err != nil {
			t.Fatal(err)
		}
		run(false, "report", "verify", bad, "--data", node.Data)
	}

	out = run(true, append([]string{"report", "monthly", "--data", node.Data, "--month", "2025-06"}, reportFlags...)...)
	for _, want := range []string{"report monthly-2025-06 (version 1", "listens:     6", "check sum:", "check verified:   ok", "daily reports: 30 (2025-06-30)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("report monthly says no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAILED") {
		t.Fatalf("a check failed:\n%s", out)
	}
	bundle := filepath.Join(dir, "june.tar.gz")
	out = run(true, append([]string{"audit", "export", "--data", node.Data, "--month", "2025-06", "--out", bundle}, reportFlags...)...)
	if !strings.Contains(out, "lines:        32") {
		t.Fatalf("audit export:\n%s", out)
	}
	out = run(true, "audit", "verify", bundle, "--artist", fmt.Sprint(artistID))
	for _, want := range []string{"OK", "reports:      31", "listens:      6 by 3 listeners, 400 s heard"} {
		if !strings.Contains(out, want) {
			t.Fatalf("audit verify says no %q:\n%s", want, out)
		}
	}
	zb, _ := os.ReadFile(bundle)
	zb[len(zb)/3] ^= 1
	if err := os.WriteFile(bundle, zb, 0o644); err != nil {
		t.Fatal(err)
	}
	run(false, "audit", "verify", bundle)
	if out = run(true, "ledger", "verify", "--data", node.Data); !strings.Contains(out, "ledger OK") {
		t.Fatalf("ledger verify:\n%s", out)
	}

	// Admins see the month's reports; others may not.
	node.Restart()
	admin := newClient(t, node.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": node.AdminUser, "password": node.AdminPassword}), 200, nil)
	var status struct {
		Month   string
		Signer  string
		Dailies []struct {
			Day                string
			Version            int
			Anchored           bool
			Listens, Listeners int64
			Suppressed         int
		}
		Monthly *struct {
			Version  int
			Anchored bool
			Listens  int64
		}
	}
	admin.must(admin.json("GET", "/api/v1/admin/reports?month=2025-06", nil), 200, &status)
	if len(status.Dailies) != 30 || status.Monthly == nil || !status.Monthly.Anchored || status.Monthly.Listens != 6 || status.Signer != actorSigner(t, node.URL) {
		t.Fatalf("report status: %+v", status)
	}
	d4 := status.Dailies[3]
	if d4.Day != "2025-06-04" || !d4.Anchored || d4.Version != 1 || d4.Listens != 4 || d4.Listeners != 3 || d4.Suppressed != 0 {
		t.Fatalf("June 4th: %+v", d4)
	}
	if d10 := status.Dailies[9]; d10.Listens != 1 || d10.Suppressed != 3 {
		t.Fatalf("June 10th, one listener under k = 2: %+v", d10)
	}
	var checked struct {
		OK       bool
		Findings []struct{ Check, Problem string }
	}
	admin.must(admin.json("POST", "/api/v1/admin/reports/monthly", map[string]string{"month": "2025-06"}), 200, &checked)
	if !checked.OK || len(checked.Findings) != 0 {
		t.Fatalf("checking June: %+v", checked)
	}
	if r := admin.json("POST", "/api/v1/admin/reports/daily", map[string]string{"date": "2999-01-01"}); r.StatusCode != 409 {
		t.Fatalf("a day not over: %d %s", r.StatusCode, r.Body)
	}
	listener := newClient(t, node.URL)
	listener.must(listener.json("POST", "/api/v1/auth/signup", map[string]string{"username": "nosy", "password": "password-nosy"}), 201, nil)
	if r := listener.json("GET", "/api/v1/admin/reports", nil); r.StatusCode != 403 {
		t.Fatalf("a listener reading the reports: %d", r.StatusCode)
	}

	// The admin page's Reports tab, in a browser.
	ctx := browser(t)
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var days, month string
	err = chromedp.Run(step,
		chromedp.Navigate(node.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, node.AdminUser),
		chromedp.SendKeys(`[data-testid=login-password]`, node.AdminPassword),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`history.pushState(null, '', '/app/admin'); dispatchEvent(new PopStateEvent('popstate'))`, nil),
		chromedp.Click(`//button[normalize-space()="Reports"]`, chromedp.BySearch),
		chromedp.WaitVisible(`[data-testid=admin-reports] input[type=month]`),
		chromedp.SetValue(`[data-testid=admin-reports] input[type=month]`, "2025-06"),
		chromedp.Evaluate(`document.querySelector('[data-testid=admin-reports] input[type=month]').dispatchEvent(new Event('change', {bubbles: true}))`, nil),
		chromedp.Poll(`(document.querySelector('[data-testid=daily-reports]')?.innerText || '').includes('2025-06-04')`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text(`[data-testid=daily-reports]`, &days),
		chromedp.Click(`[data-testid=monthly-report] button`),
		chromedp.WaitVisible(`[data-testid=monthly-checks]`),
		chromedp.Text(`[data-testid=monthly-report]`, &month),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(days, "anchored v1") || strings.Count(days, "2025-06-") != 30 {
		t.Fatalf("the daily reports shown:\n%s", days)
	}
	if !strings.Contains(month, "Every check passed") || !strings.Contains(month, "6 listens by 3 listeners") {
		t.Fatalf("the month shown:\n%s", month)
	}
}

// actorSigner is the report signer a node publishes in its actor.
func actorSigner(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/actor", nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var actor struct{ ReportSigner string }
	if err := json.NewDecoder(resp.Body).Decode(&actor); err != nil {
		t.Fatal(err)
	}
	return actor.ReportSigner
}

// listeningInJune stores a track and six verified listens by three
// listeners in June 2025 (four on the 4th) in a stopped node's database,
// and returns the artist's id.
func listeningInJune(t *testing.T, path string) nineten.ID {
	t.Helper()
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	user := func(name string) *nineten.User {
		u := &nineten.User{Username: name, DisplayName: name, PasswordHash: "x", Role: nineten.RoleListener, CreatedAt: now}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	owner := user("owner")
	a := &nineten.Artist{OwnerID: owner.ID, Name: "Reporter", Slug: "reporter", CreatedAt: now}
	if err := db.CreateArtist(ctx, a); err != nil {
		t.Fatal(err)
	}
	tr := &nineten.Track{ArtistID: a.ID, Title: "Counted", DurationMS: 240_000, Status: nineten.TrackReady, CreatedAt: now}
	if err := db.CreateTrack(ctx, tr); err != nil {
		t.Fatal(err)
	}
	u1, u2, u3 := user("l1"), user("l2"), user("l3")
	for i, l := range []struct {
		u      *nineten.User
		day    int
		heardS int64
	}{{u1, 4, 60}, {u1, 4, 60}, {u2, 4, 100}, {u3, 4, 40}, {u2, 10, 70}, {u3, 20, 70}} {
		at := time.Date(2025, 6, l.day, 12, i, 0, 0, time.UTC)
		id := fmt.Sprintf("june-%d", i)
		if err := db.CreateListenSession(ctx, &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: l.u.ID, StartedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveListen(ctx, &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: l.u.ID, StartedAt: at, HeardMS: l.heardS * 1000,
			Status: nineten.ListenVerified, VerifiedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}
