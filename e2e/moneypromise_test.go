package e2e_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/crypto"

	nineten "nineten.dev"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/nodetest"
)

// restartAt restarts a stopped node with its clock at another time.
func restartAt(n *nodetest.Node, at time.Time) {
	i := slices.Index(n.Args, "--dev-clock")
	n.Args[i+1] = at.Format(time.RFC3339)
	n.Restart()
}

// split is the reference of the money promise for one listener: $9 split
// in proportion to the seconds heard, by the largest remainder (ties to
// the first), summing to exactly 9,000,000 micro-USD.
func split(seconds []int64) []nineten.Micro {
	var total int64
	for _, s := range seconds {
		total += s
	}
	out := make([]nineten.Micro, len(seconds))
	rems := make([]int64, len(seconds))
	left := int64(nineten.ArtistsShare)
	for i, s := range seconds {
		out[i] = nineten.Micro(int64(nineten.ArtistsShare) * s / total)
		rems[i] = int64(nineten.ArtistsShare) * s % total
		left -= int64(out[i])
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rems {
			if rems[i] > rems[best] {
				best = i
			}
		}
		out[best]++
		rems[best] = -1
	}
	return out
}

// The whole money promise across two real nodes: a listener on A pays
// $10 in USDP on a simulated chain, subscribes, and in a real browser on
// A's web app plays a track of an artist on A and one of an artist on B
// (through A, from B's catalogue as A shows it). Both plays are verified
// by A, which served the audio, and show in the listener's history. The
// month closes (the nodes' clocks move to the settle day) and A's
// settlement pays both artists their exact shares of the $9, by seconds
// heard: the artist on A on A's ledger, the artist on B under B's account
// ("<B's host>/<artist id>"); A's node sends B the signed statement, and
// B shows its artist what A's listeners paid.
func TestMoneyPromiseAcrossTwoNodes(t *testing.T) {
	// A month fixed in advance, so the test means the same on any day.
	listening := time.Date(2031, 3, 10, 12, 0, 0, 0, time.UTC)
	settleDay := time.Date(2031, 4, 21, 9, 0, 0, 0, time.UTC)
	const period = "2031-03"

	minter, lenaKey := newKey(t), newKey(t)
	deposit := crypto.PubkeyToAddress(newKey(t).PublicKey)
	c := newChain(t, minter, lenaKey)
	c.mine(c.transact(minter, "mint", crypto.PubkeyToAddress(lenaKey.PublicKey), usd(100)))

	clock := listening.Format(time.RFC3339)
	addrB := freeAddr(t)
	b := nodetest.Start(t, "--dev-federation", "--dev-clock", clock, "--addr", addrB)
	addrA := freeAddr(t)
	a := nodetest.Start(t, "--dev-federation", "--dev-clock", clock, "--addr", addrA,
		"--eth-rpc", c.url, "--eth-chain-id", c.chainID.String(), "--usdp-token", c.token.Hex(),
		"--usdp-deposit", deposit.Hex(), "--usdp-confirmations", "2", "--usdp-interval", "200ms")
	if a.URL != "http://"+addrA || b.URL != "http://"+addrB {
		t.Fatalf("nodes at %s and %s, want %s and %s", a.URL, b.URL, addrA, addrB)
	}

	// An artist on each node, a track each (longer than the 30 s a listen
	// needs to count for the payout).
	far, farID := signupArtist(t, b.URL, "boris", "Bo Far")
	near, nearID := signupArtist(t, a.URL, "alma", "Al Near")
	upload := func(artist *client, title string, seconds float64) track {
		t.Helper()
		src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: strings.ReplaceAll(title, " ", "-") + ".mp3", Seconds: seconds, Title: title})
		var up struct{ Track track }
		artist.must(artist.uploadFile(src), 202, &up)
		tr := artist.waitTrack(up.Track.ID)
		if tr.Status != "ready" {
			t.Fatalf("%s: %s %s", title, tr.Status, tr.Error)
		}
		return tr
	}
	farTrack := upload(far, "Far Song", 36)
	nearTrack := upload(near, "Near Song", 34)

	// The listener pays $10 in USDP from a registered wallet and subscribes.
	lena := newClient(t, a.URL)
	lena.must(lena.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)
	lena.registerWallet(lenaKey)
	c.mine(c.transact(lenaKey, "transfer", deposit, usd(10)))
	eventually(t, time.Minute, "the deposit credited", func() bool {
		c.sim.Commit()
		return lena.money().Balance == 10_000_000
	})
	lena.must(lena.json("PUT", "/api/v1/me/subscription", nil), 200, nil)
	if m := lena.money(); m.Balance != 0 || m.Subscription == nil || m.Subscription.Status != "active" {
		t.Fatalf("after subscribing: %+v", m)
	}
	handle := "@bo-far@" + addrB
	lena.must(lena.json("POST", "/api/v1/follows", map[string]string{"handle": handle}), 201, nil)
	eventually(t, 30*time.Second, "B accepting the follow", func() bool {
		var list struct{ Items []struct{ State string } }
		lena.must(lena.json("GET", "/api/v1/follows", nil), 200, &list)
		return len(list.Items) == 1 && list.Items[0].State == "accepted"
	})

	// In the browser: play the track on A, then the one on B from B's
	// catalogue as A shows it; each counts once the node says so.
	ctx := browser(t)
	run := stepper(t, ctx, 75*time.Second, a.Logs)
	goTo := func(path string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`history.pushState(null, '', %q); dispatchEvent(new PopStateEvent('popstate'))`, path), nil)
	}
	run(
		chromedp.Navigate(a.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "lena"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-lena"),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		goTo(fmt.Sprintf("/app/tracks/%d", nearTrack.ID)),
		chromedp.WaitVisible(`[data-testid=play-track]`),
		chromedp.Click(`[data-testid=play-track]`),
		chromedp.Poll(`(() => { const s = window.nineten.player.state(); return !!(s.lastReport && s.lastReport.counted && s.sessionId) })()`, nil,
			chromedp.WithPollingTimeout(60*time.Second)),
		// Heard to the end: all of it weighs in the payout.
		chromedp.Poll(`document.querySelector('audio').ended`, nil, chromedp.WithPollingTimeout(30*time.Second)),
	)
	run(
		goTo("/app/remote?handle="+url.QueryEscape(handle)),
		chromedp.WaitVisible(`[data-testid=remote-play]`),
		chromedp.Click(`[data-testid=remote-play]`),
		chromedp.Poll(`(() => { const s = window.nineten.player.state(); return !!(s.sessionId && s.sessionId.startsWith('r.') && s.lastReport && s.lastReport.counted) })()`, nil,
			chromedp.WithPollingTimeout(60*time.Second)),
		chromedp.Poll(`document.querySelector('audio').ended`, nil, chromedp.WithPollingTimeout(30*time.Second)),
	)
	var shown string
	run(
		goTo("/app/me/listens"),
		chromedp.WaitVisible(`[data-testid=recent-listens]`),
		chromedp.Poll(`document.querySelector('[data-testid=recent-listens]').innerText.includes('Far Song')`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text(`[data-testid=recent-listens]`, &shown),
	)
	if !strings.Contains(shown, "Near Song") || !strings.Contains(shown, addrB) {
		t.Fatalf("recently played shows %q", shown)
	}

	// What A verified: one listen of each, the remote one paying B's artist.
	var recent struct {
		Items []struct {
			Track  *track `json:"track"`
			Remote *struct {
				Title string `json:"title"`
				Payee string `json:"payee"`
			} `json:"remote"`
			HeardMS int64 `json:"heard_ms"`
		} `json:"items"`
	}
	farAccount := addrB + "/" + strconv.FormatInt(farID, 10)
	// The player's last reports (at the end of each track) are written
	// in A's next batch.
	eventually(t, 10*time.Second, "both listens heard to the end", func() bool {
		lena.must(lena.json("GET", "/api/v1/me/listens", nil), 200, &recent)
		for _, it := range recent.Items {
			if it.HeardMS < nineten.MinEligibleListenMS {
				return false
			}
		}
		return len(recent.Items) == 2
	})
	var nearHeard, farHeard int64
	for _, it := range recent.Items {
		switch {
		case it.Track != nil && it.Track.ID == nearTrack.ID:
			nearHeard = it.HeardMS
		case it.Remote != nil && it.Remote.Title == "Far Song" && it.Remote.Payee == farAccount:
			farHeard = it.HeardMS
		default:
			t.Fatalf("unexpected listen %+v", it)
		}
	}
	if len(recent.Items) != 2 || nearHeard < nineten.MinEligibleListenMS || farHeard < nineten.MinEligibleListenMS {
		t.Fatalf("listens %+v: want one of each track, each of at least 30 s", recent.Items)
	}
	want := split([]int64{nearHeard / 1000, farHeard / 1000})
	t.Logf("heard %d ms on A, %d ms from B: shares %s and %s", nearHeard, farHeard, want[0], want[1])
	// B served A, not a listener: it counts no play of its own.
	if tr := far.waitTrack(farTrack.ID); tr.PlayCount != 0 {
		t.Fatalf("B counts %d plays of Far Song", tr.PlayCount)
	}

	// The month closes: both nodes' clocks move to April's settle day; A
	// settles March as it starts.
	run(chromedp.Navigate("about:blank"))
	a.Stop()
	b.Stop()
	restartAt(b, settleDay)
	restartAt(a, settleDay)
	lena = newClient(t, a.URL)
	lena.must(lena.json("POST", "/api/v1/auth/login", map[string]string{"username": "lena", "password": "password-lena"}), 200, nil)
	near = newClient(t, a.URL)
	near.must(near.json("POST", "/api/v1/auth/login", map[string]string{"username": "alma", "password": "password-alma"}), 200, nil)

	var went struct {
		Settled bool          `json:"settled"`
		Total   nineten.Micro `json:"total"`
		Shares  []struct {
			Artist string        `json:"artist"`
			Name   string        `json:"name"`
			Amount nineten.Micro `json:"amount"`
		} `json:"shares"`
	}
	eventually(t, 30*time.Second, "March settled on A", func() bool {
		lena.must(lena.json("GET", "/api/v1/me/money/"+period, nil), 200, &went)
		return went.Settled
	})
	paid := map[string]nineten.Micro{}
	var sum nineten.Micro
	for _, s := range went.Shares {
		paid[s.Artist] += s.Amount
		sum += s.Amount
		if want := map[bool]string{true: "Bo Far (" + addrB + ")", false: "Al Near"}[s.Artist == farAccount]; s.Name != want {
			t.Errorf("the share of %s is shown as %q, want %q", s.Artist, s.Name, want)
		}
	}
	var ledgerA string
	for ref := range paid {
		if ref != farAccount {
			ledgerA = ref
		}
	}
	if len(paid) != 2 || sum != nineten.ArtistsShare || went.Total != nineten.ArtistsShare || paid[farAccount] != want[1] || paid[ledgerA] != want[0] ||
		ledgerA != addrA+"/"+strconv.FormatInt(nearID, 10) {
		t.Fatalf("where lena's March money went: %+v; want %s to %s/%d and %s to %s", went, want[0], addrA, nearID, want[1], farAccount)
	}
	if got := near.earned(nearID); got != want[0] {
		t.Fatalf("the artist on A earned %s, want %s", got, want[0])
	}

	// A's node sent B the month's signed statement: B shows its artist
	// what A's listeners paid them, and A sees B acknowledge it.
	far = newClient(t, b.URL)
	far.must(far.json("POST", "/api/v1/auth/login", map[string]string{"username": "boris", "password": "password-boris"}), 200, nil)
	var fromA nineten.Micro
	eventually(t, 30*time.Second, "B showing its artist what A's listeners paid", func() bool {
		var e remoteEarnings
		far.must(far.json("GET", "/api/v1/me/earnings", nil), 200, &e)
		for _, it := range e.Items {
			for _, r := range it.Remote {
				if it.ArtistID == farID && r.Node == addrA && len(r.Months) == 1 && r.Months[0].Period == period {
					fromA = r.Earned
					return true
				}
			}
		}
		return false
	})
	if fromA != want[1] {
		t.Fatalf("B shows its artist %s earned from A, want %s", fromA, want[1])
	}
	adminA := newClient(t, a.URL)
	adminA.must(adminA.json("POST", "/api/v1/auth/login", map[string]string{"username": a.AdminUser, "password": a.AdminPassword}), 200, nil)
	eventually(t, 30*time.Second, "B acknowledging A's statement", func() bool {
		var list statementsJSON
		adminA.must(adminA.json("GET", "/api/v1/admin/statements?direction=sent", nil), 200, &list)
		return len(list.Items) == 1 && list.Items[0].Total == want[1] && list.Items[0].Status == "acknowledged"
	})
}
