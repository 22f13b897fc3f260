package e2e_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/testkit/nodetest"
)

// freeAddr is a loopback address to start a node on, so that it comes back
// at the same place after a restart.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// settleFor settles a month long past on a stopped node's ledger, with the
// node's own key, as its money calendar would have: one fan's $9 split by
// seconds heard among artists ("<node>/<id>", of any node). The node is
// started again.
func settleFor(t *testing.T, n *nodetest.Node, period nineten.Period, seconds map[string]int64) {
	t.Helper()
	ctx := t.Context()
	onLedger(t, n, func(l *embedded.Contract) {
		var totals []nineten.ListeningTotal
		for a, s := range seconds {
			totals = append(totals, nineten.ListeningTotal{Listener: "fan", Artist: a, Listens: 2, SecondsHeard: s})
		}
		mustAll(t,
			func() error { _, err := l.Deposit(ctx, "fan", "sim:e2e-statements", 10_000_000); return err },
			func() error { _, err := l.Subscribe(ctx, "fan", period); return err },
			func() error { _, err := l.OpenMonth(ctx, period); return err },
			func() error { _, err := l.Settle(ctx, period, totals); return err },
		)
	})
}

type statementsJSON struct {
	Items []struct {
		ID, Status, Reason, Peer string
		Total                    nineten.Micro
		Lines                    []struct {
			Artist  string
			Amount  nineten.Micro
			PaidRef string `json:"paid_ref"`
			Wallet  string
		}
	}
}

type remoteEarnings struct {
	Items []struct {
		ArtistID int64 `json:"artist_id"`
		Remote   []struct {
			Node                  string
			Earned, Paid, Pending nineten.Micro
			Months                []struct {
				Period  string
				Amount  nineten.Micro
				PaidRef string `json:"paid_ref"`
			}
		}
	}
}

// A month settled on node A pays an artist of node B: A's node actor sends
// B's one signed statement, B shows the artist what A's listeners paid
// (pending), acknowledges it, and A's admins see it reconciled; sending
// again changes nothing; A records the payout and B shows it paid.
func TestSettlementStatementsBetweenNodes(t *testing.T) {
	fast := []string{"--dev-federation", "--delivery-retry-base", "1s"}
	a := nodetest.Start(t, append(fast, "--addr", freeAddr(t))...)
	b := nodetest.Start(t, fast...)
	hostA, hostB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	artist, artistID := signupArtist(t, b.URL, "remy", "Remy Far")
	_, localID := signupArtist(t, a.URL, "lola", "Lola Near")

	// A's fan heard Remy (on B) 600 s and Lola (on A) 300 s: $6 and $3.
	remy := hostB + "/" + strconv.FormatInt(artistID, 10)
	settleFor(t, a, "2024-01", map[string]int64{remy: 600, hostA + "/" + strconv.FormatInt(localID, 10): 300})
	adminA := newClient(t, a.URL)
	adminA.must(adminA.json("POST", "/api/v1/auth/login", map[string]string{"username": a.AdminUser, "password": a.AdminPassword}), 200, nil)
	var sent statementsJSON
	adminA.must(adminA.json("POST", "/api/v1/admin/statements", map[string]string{"period": "2024-01"}), 200, &sent)
	if len(sent.Items) != 1 || sent.Items[0].Total != 6_000_000 || sent.Items[0].Peer != b.URL+"/actor" {
		t.Fatalf("A sent %+v; want one statement of $6 to B's node actor", sent)
	}

	fromA := func() (earned, paid, pending nineten.Micro, months int) {
		var e remoteEarnings
		artist.must(artist.json("GET", "/api/v1/me/earnings", nil), 200, &e)
		for _, it := range e.Items {
			for _, r := range it.Remote {
				if it.ArtistID == artistID && r.Node == hostA {
					return r.Earned, r.Paid, r.Pending, len(r.Months)
				}
			}
		}
		return 0, 0, 0, 0
	}
	eventually(t, 30*time.Second, "B showing Remy what A's listeners paid", func() bool {
		earned, paid, pending, months := fromA()
		return earned == 6_000_000 && paid == 0 && pending == 6_000_000 && months == 1
	})
	statusOnA := func() string {
		var list statementsJSON
		adminA.must(adminA.json("GET", "/api/v1/admin/statements?direction=sent", nil), 200, &list)
		if len(list.Items) != 1 {
			t.Fatalf("A's sent statements: %+v", list)
		}
		return list.Items[0].Status
	}
	eventually(t, 30*time.Second, "B acknowledging the statement", func() bool { return statusOnA() == "acknowledged" })
	adminB := newClient(t, b.URL)
	adminB.must(adminB.json("POST", "/api/v1/auth/login", map[string]string{"username": b.AdminUser, "password": b.AdminPassword}), 200, nil)
	var got statementsJSON
	adminB.must(adminB.json("GET", "/api/v1/admin/statements?direction=received", nil), 200, &got)
	if len(got.Items) != 1 || got.Items[0].Status != "recorded" || got.Items[0].Total != 6_000_000 || got.Items[0].Peer != a.URL+"/actor" {
		t.Fatalf("B's received statements: %+v", got)
	}

	// Sending the month again sends nothing new, and B still shows it once.
	adminA.must(adminA.json("POST", "/api/v1/admin/statements", map[string]string{"period": "2024-01"}), 200, &sent)
	if len(sent.Items) != 1 || sent.Items[0].Status != "acknowledged" {
		t.Errorf("sending again: %+v", sent)
	}
	if earned, _, _, months := fromA(); earned != 6_000_000 || months != 1 {
		t.Errorf("after sending again, Remy has %d from A in %d months", earned, months)
	}
	// Only an artist of another node is paid out this way.
	r := adminA.json("POST", "/api/v1/admin/statements/payouts", map[string]string{"artist": hostA + "/" + strconv.FormatInt(localID, 10), "ext_id": "usdp:0x1:0"})
	if r.StatusCode != 422 && r.StatusCode != 400 {
		t.Errorf("paying a local artist as remote: %d %s", r.StatusCode, r.Body)
	}

	// A pays Remy out and records it: B shows it paid.
	adminA.must(adminA.json("POST", "/api/v1/admin/statements/payouts", map[string]string{"artist": remy, "ext_id": "usdp:0xfeed:3"}), 201, nil)
	eventually(t, 30*time.Second, "B showing Remy's earnings from A paid", func() bool {
		earned, paid, pending, _ := fromA()
		return earned == 6_000_000 && paid == 6_000_000 && pending == 0
	})
	if s := statusOnA(); s != "acknowledged" {
		t.Errorf("after the payout A's statement is %s", s)
	}

	// In the browser: Remy's money page on B shows A's listeners' money,
	// paid; A's admins see the statement acknowledged.
	ctx := browser(t)
	step := func(what string, actions ...chromedp.Action) {
		t.Helper()
		actx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Run(actx, actions...); err != nil {
			t.Fatalf("browser, %s: %v", what, err)
		}
	}
	login := func(base, user, password string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/app/login"),
			chromedp.WaitVisible(`[data-testid=login-username]`),
			chromedp.SendKeys(`[data-testid=login-username]`, user),
			chromedp.SendKeys(`[data-testid=login-password]`, password),
			chromedp.Click(`[data-testid=login-submit]`),
			chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		}
	}
	var earned, statements string
	step("Remy's earnings", login(b.URL, "remy", "password-remy"),
		chromedp.Navigate(b.URL+"/app/me/money"),
		chromedp.WaitVisible(`[data-testid=remote-earnings]`),
		chromedp.Text(`[data-testid=remote-earnings]`, &earned))
	if !strings.Contains(earned, hostA) || !strings.Contains(earned, "2024-01") || !strings.Contains(earned, "paid usdp:0xfeed:3") {
		t.Errorf("Remy's earnings from other servers show:\n%s", earned)
	}
	step("A's statements", login(a.URL, a.AdminUser, a.AdminPassword),
		chromedp.Evaluate(`history.pushState(null, '', '/app/admin'); dispatchEvent(new PopStateEvent('popstate'))`, nil),
		chromedp.Click(`//button[normalize-space()="Between nodes"]`, chromedp.BySearch),
		chromedp.WaitVisible(`[data-testid=admin-statements] table`),
		chromedp.Text(`[data-testid=admin-statements] table`, &statements))
	if !strings.Contains(statements, "acknowledged") || !strings.Contains(statements, hostB) {
		t.Errorf("A's admins see:\n%s", statements)
	}
}

// A listener of A who follows an artist of B subscribes: B's artist page
// counts them among the supporters from A; cancelling takes it back.
func TestSubscriptionReachesTheArtistsNode(t *testing.T) {
	fast := []string{"--dev-federation", "--delivery-retry-base", "1s"}
	a := nodetest.Start(t, append(fast, "--simulated-payments")...)
	b := nodetest.Start(t, fast...)
	hostA, hostB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	artist, artistID := signupArtist(t, b.URL, "sia", "Sia Far")
	fan := newClient(t, a.URL)
	fan.must(fan.json("POST", "/api/v1/auth/signup", map[string]string{"username": "subfan", "password": "password-subfan"}), 201, nil)
	fan.must(fan.json("POST", "/api/v1/follows", map[string]string{"handle": "@sia-far@" + hostB}), 201, nil)
	eventually(t, 30*time.Second, "B accepting the follow", func() bool {
		var list struct{ Items []struct{ State string } }
		fan.must(fan.json("GET", "/api/v1/follows", nil), 200, &list)
		return len(list.Items) == 1 && list.Items[0].State == "accepted"
	})

	type supporters struct {
		Count int
		Nodes []struct {
			Node  string
			Count int
		}
		Items []struct {
			Actor, Status string
			Paid          string `json:"paid_through"`
		}
	}
	page := func(c *client) supporters {
		var s supporters
		c.must(c.json("GET", "/api/v1/artists/"+strconv.FormatInt(artistID, 10)+"/supporters", nil), 200, &s)
		return s
	}
	if s := page(artist); s.Count != 0 {
		t.Fatalf("supporters before anyone subscribed: %+v", s)
	}
	fan.must(fan.json("POST", "/api/v1/me/deposits/simulated", map[string]int64{"amount": 10_000_000}), 201, nil)
	fan.must(fan.json("PUT", "/api/v1/me/subscription", nil), 200, nil)
	eventually(t, 30*time.Second, "B counting the fan among Sia's supporters", func() bool {
		s := page(newClient(t, b.URL))
		return s.Count == 1 && len(s.Nodes) == 1 && s.Nodes[0].Node == hostA && s.Nodes[0].Count == 1 && s.Items == nil
	})
	if s := page(artist); len(s.Items) != 1 || s.Items[0].Actor != a.URL+"/users/subfan" || s.Items[0].Status != "active" || s.Items[0].Paid != time.Now().UTC().Format("2006-01") {
		t.Errorf("Sia's own view of her supporters: %+v", s)
	}
	// The artist's page shows it.
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel()
	var shown string
	err := chromedp.Run(ctx,
		chromedp.Navigate(b.URL+"/app/artists/"+strconv.FormatInt(artistID, 10)),
		chromedp.WaitVisible(`[data-testid=supporters]`),
		chromedp.Text(`[data-testid=supporters]`, &shown))
	if err != nil || !strings.Contains(shown, "1 supporter on other servers: "+hostA+" (1)") {
		t.Errorf("Sia's page shows %q (%v)", shown, err)
	}
	fan.must(fan.json("DELETE", "/api/v1/me/subscription", nil), 200, nil)
	eventually(t, 30*time.Second, "B hearing of the cancellation", func() bool {
		s := page(artist)
		return s.Count == 0 && len(s.Items) == 0
	})
}

// A node with a USDP payout wallet pays an artist of another node itself:
// B's acknowledgement names the wallet Remy registered on B, A transfers
// Remy's balance there from its payout wallet (a real ERC-20 on a
// simulated chain), records it on its ledger under the transfer's id and
// tells B, which shows Remy the earnings paid with that transfer.
func TestStatementPayoutInUSDPToTheRemoteArtistsWallet(t *testing.T) {
	minter, payoutKey, remyKey := newKey(t), newKey(t), newKey(t)
	c := newChain(t, minter, payoutKey)
	c.mine(c.transact(minter, "mint", crypto.PubkeyToAddress(payoutKey.PublicKey), usd(100)))
	chainFlags := func(deposit *ecdsa.PrivateKey) []string {
		return []string{"--eth-rpc", c.url, "--eth-chain-id", c.chainID.String(), "--usdp-token", c.token.Hex(),
			"--usdp-deposit", crypto.PubkeyToAddress(deposit.PublicKey).Hex(), "--usdp-confirmations", "2",
			"--usdp-payout-confirmations", "2", "--usdp-interval", "200ms"}
	}
	fast := []string{"--dev-federation", "--delivery-retry-base", "1s"}
	a := nodetest.Start(t, slices.Concat(fast, chainFlags(newKey(t)), []string{"--addr", freeAddr(t),
		"--usdp-payout-key-file", writeSecret(t, "payout.key", hex.EncodeToString(crypto.FromECDSA(payoutKey)))})...)
	b := nodetest.Start(t, slices.Concat(fast, chainFlags(newKey(t)))...)
	hostB := strings.TrimPrefix(b.URL, "http://")
	remyClient, remyID := signupArtist(t, b.URL, "remy", "Remy Far")
	remyClient.registerWallet(remyKey)
	remy := hostB + "/" + strconv.FormatInt(remyID, 10)
	// Nina registered no wallet on B: A keeps owing her, for its admins.
	_, ninaID := signupArtist(t, b.URL, "nina", "Nina Far")
	nina := hostB + "/" + strconv.FormatInt(ninaID, 10)
	settleFor(t, a, "2024-01", map[string]int64{remy: 600, nina: 300})

	adminA := newClient(t, a.URL)
	adminA.must(adminA.json("POST", "/api/v1/auth/login", map[string]string{"username": a.AdminUser, "password": a.AdminPassword}), 200, nil)
	adminA.must(adminA.json("POST", "/api/v1/admin/statements", map[string]string{"period": "2024-01"}), 200, nil)

	// Blocks are sealed only on Commit: commit while waiting, so that the
	// payout is mined and confirmed.
	var paidRef string
	eventually(t, time.Minute, "B showing Remy's $6 from A paid by a USDP transfer", func() bool {
		c.sim.Commit()
		var e remoteEarnings
		remyClient.must(remyClient.json("GET", "/api/v1/me/earnings", nil), 200, &e)
		for _, it := range e.Items {
			for _, r := range it.Remote {
				if it.ArtistID == remyID && r.Earned == 6_000_000 && r.Paid == 6_000_000 && r.Pending == 0 && len(r.Months) == 1 {
					paidRef = r.Months[0].PaidRef
					return true
				}
			}
		}
		return false
	})
	remyWallet := crypto.PubkeyToAddress(remyKey.PublicKey)
	if got := c.balanceOf(remyWallet); got.Cmp(usd(6)) != 0 {
		t.Fatalf("Remy's wallet holds %s base units, want 6 USDP", got)
	}
	// The reference names the transfer: a mined transaction of A's payout
	// wallet to Remy's wallet.
	parts := strings.Split(paidRef, ":")
	if len(parts) != 3 || parts[0] != "usdp" {
		t.Fatalf("paid with %q, want usdp:<tx hash>:<log index>", paidRef)
	}
	rcpt, err := c.client.TransactionReceipt(t.Context(), common.HexToHash(parts[1]))
	if err != nil || rcpt.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("the transfer %s: %v", parts[1], err)
	}
	var sent statementsJSON
	adminA.must(adminA.json("GET", "/api/v1/admin/statements?direction=sent", nil), 200, &sent)
	if len(sent.Items) != 1 || len(sent.Items[0].Lines) != 2 {
		t.Fatalf("A's statements after the payout: %+v", sent)
	}
	for _, l := range sent.Items[0].Lines {
		switch {
		case l.Artist == remy && l.PaidRef == paidRef && strings.EqualFold(l.Wallet, remyWallet.Hex()):
		case l.Artist == nina && l.PaidRef == "" && l.Wallet == "" && l.Amount == 3_000_000:
		default:
			t.Errorf("A's statement line after the payout: %+v", l)
		}
	}
	// A's ledger owes Remy nothing more: nothing is left to record by hand.
	r := adminA.json("POST", "/api/v1/admin/statements/payouts", map[string]string{"artist": remy, "ext_id": "usdp:0xfeed:3"})
	if r.StatusCode != 409 {
		t.Errorf("recording a payout by hand after the automatic one: %d %s", r.StatusCode, r.Body)
	}
	// Nina's $3 waited for the admin, who pays her some other way.
	adminA.must(adminA.json("POST", "/api/v1/admin/statements/payouts", map[string]string{"artist": nina, "ext_id": "gw:bank:17"}), 201, nil)
}
