package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"nineten.dev/testkit/nodetest"
)

// Closing an account across two real nodes: an artist on B, followed from
// A as a listener and as an artist (whose profile edits reach A), with a track, a public playlist and a
// paid subscription, closes the account. A forgets the actor and what it
// published; B answers 410 Gone for its actors, nobody logs in as it, and
// B's ledger still verifies, the balance kept for the admin to pay out.
func TestClosingAnAccountAcrossNodes(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation", "--simulated-payments")
	hostA, hostB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")

	boris, artistID := signupArtist(t, b.URL, "boris", "Bo Band")
	boris.must(boris.json("POST", "/api/v1/me/deposits/simulated", map[string]int64{"amount": 25_000_000}), 201, nil)
	boris.must(boris.json("PUT", "/api/v1/me/subscription", nil), 200, nil)

	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	for _, h := range []string{"@bo-band@" + hostB, "@boris@" + hostB} {
		ana.must(ana.json("POST", "/api/v1/follows", map[string]string{"handle": h}), 201, nil)
	}
	// Boris follows Ana too: A knows him as a follower.
	boris.must(boris.json("POST", "/api/v1/follows", map[string]string{"handle": "@ana@" + hostA}), 201, nil)
	eventually(t, 30*time.Second, "the follows accepted both ways", func() bool {
		f := ana.follows()
		g := boris.follows()
		return len(f) == 2 && f[0].State == "accepted" && f[1].State == "accepted" && len(g) == 1 && g[0].State == "accepted"
	})
	// A listener's profile edit reaches A as an Update of the actor.
	var me struct{ DisplayName, Bio string }
	boris.must(boris.json("PATCH", "/api/v1/me", map[string]string{"display_name": "Boris B.", "bio": "Plays <loud>"}), 200, &me)
	eventually(t, 30*time.Second, "the new display name reaching A", func() bool {
		for _, f := range ana.follows() {
			if f.Actor.Handle == "boris@"+hostB {
				return f.Actor.Name == "Boris B."
			}
		}
		return false
	})
	if doc := newClient(t, b.URL).activity("/users/boris"); doc["name"] != "Boris B." || doc["summary"] != "<p>Plays &lt;loud&gt;</p>" {
		t.Errorf("boris's actor after the edit: name %v, summary %v", doc["name"], doc["summary"])
	}

	tr := uploadTrack(t, boris, "Last Orders")
	var p playlistJSON
	boris.must(boris.json("POST", "/api/v1/playlists", map[string]any{"title": "Closing time", "public": true}), 201, &p)
	boris.must(boris.json("POST", fmt.Sprintf("/api/v1/playlists/%d/items", p.ID), map[string]any{"track_id": tr.ID}), 201, nil)

	feed := func() int {
		var f struct{ Items []struct{ Type string } }
		ana.must(ana.json("GET", "/api/v1/feed", nil), 200, &f)
		return len(f.Items)
	}
	playlists := func() int {
		var l struct{ Items []playlistJSON }
		ana.must(ana.json("GET", "/api/v1/remote/playlists", nil), 200, &l)
		return len(l.Items)
	}
	followers := func() float64 {
		return newClient(t, a.URL).activity("/users/ana/followers")["totalItems"].(float64)
	}
	catalogue := func() int {
		return ana.json("GET", "/api/v1/remote/catalogue?handle="+url.QueryEscape("@bo-band@"+hostB), nil).StatusCode
	}
	eventually(t, 30*time.Second, "the track and the playlist reaching A", func() bool {
		return feed() == 1 && playlists() == 1
	})
	if n := followers(); n != 1 || catalogue() != 200 {
		t.Fatalf("before closing: ana has %v followers, the catalogue answers %d", n, catalogue())
	}

	// A wrong password closes nothing.
	if r := boris.json("DELETE", "/api/v1/me", map[string]string{"password": "wrong"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("closing with a wrong password: %d %s", r.StatusCode, r.Body)
	}
	boris.must(boris.json("DELETE", "/api/v1/me", map[string]string{"password": "password-boris"}), 204, nil)

	// A forgets him: follows both ways, the feed, the playlist copy, and
	// his catalogue is not there any more.
	eventually(t, 30*time.Second, "A forgetting the closed account", func() bool {
		return len(ana.follows()) == 0 && feed() == 0 && playlists() == 0 && followers() == 0
	})
	if s := catalogue(); s == 200 {
		t.Errorf("the closed artist's catalogue still answers %d on A", s)
	}

	// On B: his actors are gone (410 with a Tombstone), his track too, and
	// nobody logs in as him.
	anon := newClient(t, b.URL)
	for path, id := range map[string]string{"/users/boris": b.URL + "/users/boris", "/artists/bo-band": b.URL + "/artists/bo-band"} {
		r := anon.do("GET", path, nil, http.Header{"Accept": {asAccept}})
		var tomb struct{ ID, Type, FormerType string }
		r.decode(t, &tomb)
		if r.StatusCode != http.StatusGone || tomb.Type != "Tombstone" || tomb.ID != id || tomb.FormerType != "Person" {
			t.Errorf("GET %s after closing: %d %+v", path, r.StatusCode, tomb)
		}
	}
	if r := anon.json("GET", fmt.Sprintf("/api/v1/tracks/%d", tr.ID), nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("the closed artist's track answers %d", r.StatusCode)
	}
	if r := anon.json("GET", fmt.Sprintf("/api/v1/artists/%d", artistID), nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("the closed artist's profile answers %d", r.StatusCode)
	}
	if r := anon.json("POST", "/api/v1/auth/login", map[string]string{"username": "boris", "password": "password-boris"}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("logging in to the closed account: %d", r.StatusCode)
	}
	if r := boris.json("GET", "/api/v1/me", nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the closed account's session answers %d", r.StatusCode)
	}

	// The money: $25 in, $10 for this month (still in the operator's share
	// and the month's pool), $15 kept until the admin pays it out.
	admin := newClient(t, b.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": b.AdminUser, "password": b.AdminPassword}), 200, nil)
	var users struct {
		Items []struct {
			ID        int64
			Username  string
			DeletedAt *time.Time `json:"deleted_at"`
		}
	}
	admin.must(admin.json("GET", "/api/v1/admin/users", nil), 200, &users)
	var borisID int64
	for _, u := range users.Items {
		if u.Username == "boris" && u.DeletedAt != nil {
			borisID = u.ID
		}
	}
	if borisID == 0 {
		t.Fatalf("the admin does not see boris as closed: %+v", users.Items)
	}
	var paid struct {
		Items []struct {
			Op     string
			Amount int64
		}
	}
	admin.must(admin.json("POST", fmt.Sprintf("/api/v1/admin/users/%d/payouts", borisID), map[string]string{"ref": "bank-transfer-7"}), 201, &paid)
	if len(paid.Items) != 1 || paid.Items[0].Op != "payout" || paid.Items[0].Amount != 15_000_000 {
		t.Errorf("paid out: %+v, want the 15.000000 left", paid.Items)
	}
	out, err := exec.Command(nodetest.Binary(t), "ledger", "verify", "--data", b.Data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ledger OK") || !strings.Contains(string(out), "total balance: $10.000000") {
		t.Errorf("ledger verify after closing and paying out: %v\n%s", err, out)
	}
}

// An admin disabling an account withdraws its public playlists from its
// followers' servers, and enabling it again publishes them again; an
// admin closing it has them forget it.
func TestDisabledOwnersPlaylistsAreWithdrawn(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	bea := newClient(t, b.URL)
	bea.must(bea.json("POST", "/api/v1/auth/signup", map[string]string{"username": "bea", "password": "password-bea"}), 201, nil)
	var me struct{ User struct{ ID int64 } }
	bea.must(bea.json("GET", "/api/v1/me", nil), 200, &me)
	bea.must(bea.json("POST", "/api/v1/playlists", map[string]any{"title": "Road trip", "public": true}), 201, nil)

	ana := newClient(t, a.URL)
	ana.must(ana.json("POST", "/api/v1/auth/signup", map[string]string{"username": "ana", "password": "password-ana"}), 201, nil)
	ana.must(ana.json("POST", "/api/v1/follows", map[string]string{"handle": "@bea@" + hostB}), 201, nil)
	copies := func() []string {
		var l struct{ Items []playlistJSON }
		ana.must(ana.json("GET", "/api/v1/remote/playlists", nil), 200, &l)
		var titles []string
		for _, p := range l.Items {
			titles = append(titles, p.Title)
		}
		return titles
	}
	eventually(t, 30*time.Second, "bea's playlist reaching A", func() bool { return len(copies()) == 1 })

	admin := newClient(t, b.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": b.AdminUser, "password": b.AdminPassword}), 200, nil)
	user := fmt.Sprintf("/api/v1/admin/users/%d", me.User.ID)
	admin.must(admin.json("PATCH", user, map[string]bool{"disabled": true}), 200, nil)
	eventually(t, 30*time.Second, "the disabled owner's playlist withdrawn from A", func() bool { return len(copies()) == 0 })
	admin.must(admin.json("PATCH", user, map[string]bool{"disabled": false}), 200, nil)
	eventually(t, 30*time.Second, "the playlist back on A once its owner is enabled", func() bool {
		c := copies()
		return len(c) == 1 && c[0] == "Road trip"
	})
	// The admin closes her account: A forgets her and her playlist.
	admin.must(admin.json("DELETE", user, nil), 204, nil)
	eventually(t, 30*time.Second, "A forgetting the account the admin closed", func() bool {
		return len(copies()) == 0 && len(ana.follows()) == 0
	})
	if r := admin.json("PATCH", user, map[string]bool{"disabled": false}); r.StatusCode != http.StatusNotFound {
		t.Errorf("enabling a closed account again: %d %s", r.StatusCode, r.Body)
	}
}

// TestBrowserRemoteSocialAndClosing drives the web app on A: a listener
// likes, boosts and comments on tracks of an artist on B from that
// artist's catalogue page, edits her profile, then closes her account on
// her account page; B then forgets what she did.
func TestBrowserRemoteSocialAndClosing(t *testing.T) {
	a := nodetest.Start(t, "--dev-federation")
	b := nodetest.Start(t, "--dev-federation")
	hostB := strings.TrimPrefix(b.URL, "http://")
	artist, _ := signupArtist(t, b.URL, "boris", "Bo Band")
	tr := uploadTrack(t, artist, "Remote Applause")
	lena := newClient(t, a.URL)
	lena.must(lena.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)
	social := func() trackSocial {
		var ts trackSocial
		newClient(t, b.URL).must(newClient(t, b.URL).json("GET", fmt.Sprintf("/api/v1/tracks/%d/social", tr.ID), nil), 200, &ts)
		return ts
	}

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, a.Logs)
	pressed := func(testid string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`document.querySelector('[data-testid=%s]')?.getAttribute('aria-pressed') === 'true'`, testid), nil, chromedp.WithPollingTimeout(10*time.Second))
	}
	catalogue := a.URL + "/app/remote?handle=" + url.QueryEscape("@bo-band@"+hostB)
	var sent string
	run(
		chromedp.Navigate(a.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "lena"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-lena"),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Navigate(catalogue),
		chromedp.WaitVisible(`[data-testid=remote-like]`),
		chromedp.Click(`[data-testid=remote-like]`),
		pressed("remote-like"),
		chromedp.Click(`[data-testid=remote-boost]`),
		pressed("remote-boost"),
		chromedp.Click(`[data-testid=remote-comment]`),
		chromedp.SendKeys(`[data-testid=remote-comment-text]`, "Great from afar"),
		chromedp.Click(`[data-testid=remote-comment-submit]`),
		chromedp.WaitVisible(`[data-testid=remote-comment-sent]`),
		chromedp.Text(`[data-testid=remote-comment-sent]`, &sent),
		// After a reload the page still knows what she liked and boosted.
		chromedp.Navigate(catalogue),
		pressed("remote-like"),
		pressed("remote-boost"),
	)
	screenshot(t, run, "remote-social.png")
	if sent != "Comment sent to "+hostB {
		t.Errorf("the comment's notice reads %q", sent)
	}
	eventually(t, 30*time.Second, "the like, boost and comment reaching B", func() bool {
		ts := social()
		return ts.Likes == 1 && ts.Boosts == 1 && ts.Comments == 1
	})

	// Her account page: a new display name, then closing the account.
	var who, notice, balance string
	run(
		chromedp.Navigate(a.URL+"/app/me/account"),
		chromedp.WaitVisible(`[data-testid=profile-form] input`),
		chromedp.WaitVisible(`[data-testid=close-balance]`),
		chromedp.Text(`[data-testid=close-balance]`, &balance),
		// Typing replaces the selected old name.
		chromedp.Evaluate(`document.querySelector('[data-testid=profile-form] input').select()`, nil),
		chromedp.SendKeys(`[data-testid=profile-form] input`, "Lena L."),
		chromedp.Click(`[data-testid=profile-form] button`),
		chromedp.Poll(`document.querySelector('.who')?.textContent === 'Lena L.'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text(`.who`, &who),
	)
	screenshot(t, run, "account.png")
	run(
		chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.SendKeys(`[data-testid=close-account] input[type=password]`, "password-lena"),
		chromedp.Click(`[data-testid=close-account] button`),
		chromedp.WaitVisible(`[data-testid=closed-notice]`),
		chromedp.Text(`[data-testid=closed-notice]`, &notice),
	)
	if who != "Lena L." || !strings.Contains(notice, "Your account is closed") || balance != "$0.00" {
		t.Errorf("the header showed %q; the balance to keep %q; after closing: %q", who, balance, notice)
	}
	if r := lena.json("POST", "/api/v1/auth/login", map[string]string{"username": "lena", "password": "password-lena"}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("logging in after closing: %d", r.StatusCode)
	}
	eventually(t, 30*time.Second, "B forgetting what she did", func() bool {
		ts := social()
		return ts.Likes == 0 && ts.Boosts == 0 && ts.Comments == 0
	})
}
