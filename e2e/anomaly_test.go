package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nineten.dev/testkit/nodetest"
)

// TestFakeStreamsReviewedInTheBrowser runs the real binary: six accounts
// play an artist's track from one browser (one cookie jar), as a farm
// cycling accounts does. Detection flags them; the listens are held — the
// accounts see why, the artist sees them held; the admin opens the web
// app's review, sees the flag with its evidence and clears the rule's
// flags with one click; the artist then sees them verified.
func TestFakeStreamsReviewedInTheBrowser(t *testing.T) {
	node := nodetest.Start(t, "--listen-threshold", "2s")
	artist, artistID := signupArtist(t, node.URL, "fiona", "Fiona Farmed")
	tr := uploadTrack(t, artist, "Pushed Song")

	farm := newClient(t, node.URL) // one browser, six accounts
	for i := range 6 {
		name := fmt.Sprintf("bot%d", i)
		farm.must(farm.json("POST", "/api/v1/auth/signup", map[string]string{"username": name, "password": "password-" + name}), 201, nil)
		verifiedListen(t, farm, tr)
	}
	admin := newClient(t, node.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": node.AdminUser, "password": node.AdminPassword}), 200, nil)
	today := time.Now().UTC().Format(time.DateOnly)
	var detected struct {
		NewFlags int `json:"new_flags"`
	}
	admin.must(admin.json("POST", "/api/v1/admin/anomalies/detect", map[string]string{"day": today}), 200, &detected)
	if detected.NewFlags != 1 {
		t.Fatalf("new flags: %d, want the one browser's\nnode logs:\n%s", detected.NewFlags, node.Logs())
	}

	var held struct {
		Items []struct{ Rule, Summary, Status string }
	}
	farm.must(farm.json("GET", "/api/v1/me/held-listens", nil), 200, &held) // the last bot, still logged in
	if len(held.Items) != 1 || held.Items[0].Rule != "shared_device" || !strings.Contains(held.Items[0].Summary, "6 accounts") || held.Items[0].Status != "held" {
		t.Fatalf("what the listener sees: %+v", held.Items)
	}
	type listening struct {
		Verified, Held struct{ Listens int }
	}
	var l listening
	path := fmt.Sprintf("/api/v1/artists/%d/listening?period=%s", artistID, today[:7])
	artist.must(artist.json("GET", path, nil), 200, &l)
	if l.Held.Listens != 6 || l.Verified.Listens != 0 {
		t.Fatalf("what the artist sees before the review: %+v", l)
	}

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, node.Logs)
	var summary, evidence string
	run(
		chromedp.Navigate(node.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, node.AdminUser),
		chromedp.SendKeys(`[data-testid=login-password]`, node.AdminPassword),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`history.pushState(null, '', '/app/admin'); dispatchEvent(new PopStateEvent('popstate'))`, nil),
		chromedp.WaitVisible(`//button[contains(., 'Fake streams')]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., 'Fake streams')]`, chromedp.BySearch),
		chromedp.WaitVisible(`[data-rule=shared_device] tr[data-flag]`),
		chromedp.Text(`[data-rule=shared_device] tr[data-flag] td:nth-child(3)`, &summary),
		chromedp.Text(`[data-rule=shared_device] .evidence`, &evidence),
	)
	if !strings.Contains(summary, "6 accounts listened on one device") || !strings.Contains(evidence, "accounts week") {
		t.Fatalf("the admin sees %q with evidence %q", summary, evidence)
	}
	run(
		chromedp.Click(`//section[@data-rule='shared_device']//button[contains(., 'Clear all')]`, chromedp.BySearch),
		chromedp.WaitVisible(`//*[contains(., 'No flagged listening awaits review.')]`, chromedp.BySearch),
	)
	artist.must(artist.json("GET", path, nil), 200, &l)
	if l.Held.Listens != 0 || l.Verified.Listens != 6 {
		t.Fatalf("what the artist sees once cleared: %+v", l)
	}
}
