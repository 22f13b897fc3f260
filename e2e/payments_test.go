package e2e_test

import (
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/pay/gateway"
	"nineten.dev/pay/gateway/gatewaytest"
	"nineten.dev/testkit/nodetest"
)

// writeSecret writes a secret file only its owner can read, as the node
// requires.
func writeSecret(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type moneyJSON struct {
	Balance      nineten.Micro `json:"balance"`
	Subscription *struct {
		Status string `json:"status"`
	} `json:"subscription"`
	History []struct {
		Op  string `json:"op"`
		Ref string `json:"ref"`
	} `json:"history"`
}

func (c *client) money() moneyJSON {
	c.t.Helper()
	var m moneyJSON
	c.must(c.json("GET", "/api/v1/me/money", nil), 200, &m)
	return m
}

func (c *client) userID() int64 {
	c.t.Helper()
	var me struct{ User struct{ ID int64 } }
	c.must(c.json("GET", "/api/v1/me", nil), 200, &me)
	return me.User.ID
}

// earn gives an artist of a stopped node $9 of settled earnings: a month
// long past, settled on the node's own ledger with the node's own key, as
// the money calendar would have. The node is started again (on another
// port, which clients are told).
func earn(t *testing.T, n *nodetest.Node, artistID int64, clients ...*client) {
	t.Helper()
	ctx := t.Context()
	onLedger(t, n, func(l *embedded.Contract) {
		const period = "2024-01"
		artist := l.Node + "/" + strconv.FormatInt(artistID, 10)
		mustAll(t,
			func() error { _, err := l.Deposit(ctx, "fan", "sim:e2e-earn", 10_000_000); return err },
			func() error { _, err := l.Subscribe(ctx, "fan", period); return err },
			func() error { _, err := l.OpenMonth(ctx, period); return err },
			func() error {
				_, err := l.Settle(ctx, period, []nineten.ListeningTotal{{Listener: "fan", Artist: artist, Listens: 3, SecondsHeard: 600}})
				return err
			},
		)
	})
	for _, c := range clients {
		c.base = n.URL
	}
}

type earningsJSON struct {
	Items []struct {
		ArtistID int64         `json:"artist_id"`
		Balance  nineten.Micro `json:"balance"`
	} `json:"items"`
}

func (c *client) earned(artistID int64) nineten.Micro {
	c.t.Helper()
	var e earningsJSON
	c.must(c.json("GET", "/api/v1/me/earnings", nil), 200, &e)
	for _, a := range e.Items {
		if a.ArtistID == artistID {
			return a.Balance
		}
	}
	c.t.Fatalf("artist %d not in the earnings %+v", artistID, e)
	return 0
}

type payoutJSON struct {
	ID     int64         `json:"id"`
	Method string        `json:"method"`
	State  string        `json:"state"`
	Amount nineten.Micro `json:"amount"`
	Ref    string        `json:"ref"`
	ExtID  string        `json:"ext_id"`
	Error  string        `json:"error"`
}

func (c *client) payouts() []payoutJSON {
	c.t.Helper()
	var l struct{ Items []payoutJSON }
	c.must(c.json("GET", "/api/v1/me/payouts", nil), 200, &l)
	return l.Items
}

// A payment gateway's signed webhook credits a listener, who subscribes
// with it; the same webhook again changes nothing; forged and foreign
// events are refused and shown to admins; an artist is paid out through
// the gateway, recorded on the ledger when the gateway says it paid.
func TestGatewayPayments(t *testing.T) {
	const secret = "whsec_e2e_0123456789abcdef0123"
	const apiKey = "sk_e2e_0123456789abcdefghij"
	fake := gatewaytest.New(t, []byte(secret), apiKey)
	n := nodetest.Start(t, "--gateway", "acme",
		"--gateway-webhook-secret-file", writeSecret(t, "webhook.secret", secret),
		"--gateway-api", fake.URL, "--gateway-api-key-file", writeSecret(t, "api.key", apiKey),
		"--gateway-checkout-url", "https://pay.acme.example/c/9ten?ref={user}")
	hook := func() string { return n.URL + gateway.WebhookPath + "acme" }

	lena := newClient(t, n.URL)
	lena.must(lena.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)
	uid := strconv.FormatInt(lena.userID(), 10)
	var methods struct {
		USDP     any `json:"usdp"`
		Gateways []struct {
			Name        string `json:"name"`
			CheckoutURL string `json:"checkout_url"`
			Payouts     bool   `json:"payouts"`
		} `json:"gateways"`
	}
	lena.must(lena.json("GET", "/api/v1/me/payment-methods", nil), 200, &methods)
	if methods.USDP != nil || len(methods.Gateways) != 1 || methods.Gateways[0].CheckoutURL != "https://pay.acme.example/c/9ten?ref="+uid || !methods.Gateways[0].Payouts {
		t.Fatalf("payment methods %+v", methods)
	}

	// $10 paid at the gateway: credited, and it pays the subscription.
	d, err := fake.Deliver(t.Context(), hook(), gatewaytest.Payment("evt_sub_1", 1000, uid))
	if err != nil || d.Status != 200 {
		t.Fatalf("webhook: %v %d %s", err, d.Status, d.Body)
	}
	if m := lena.money(); m.Balance != 10_000_000 {
		t.Fatalf("balance %s after a $10 payment", m.Balance)
	}
	lena.must(lena.json("PUT", "/api/v1/me/subscription", nil), 200, nil)
	m := lena.money()
	if m.Balance != 0 || m.Subscription == nil || m.Subscription.Status != "active" {
		t.Fatalf("after subscribing: %+v", m)
	}
	history := len(m.History)

	// Delivered again (gateways retry): answered 200, nothing moves.
	d, err = fake.Deliver(t.Context(), hook(), gatewaytest.Payment("evt_sub_1", 1000, uid))
	if err != nil || d.Status != 200 || !strings.Contains(string(d.Body), "duplicate") {
		t.Fatalf("redelivery: %v %d %s", err, d.Status, d.Body)
	}
	if m := lena.money(); m.Balance != 0 || len(m.History) != history {
		t.Fatalf("a redelivered payment moved money: %+v", m)
	}
	// Forged: refused, nothing credited.
	body := []byte(`{"id":"evt_forged","type":"payment.succeeded","data":{"amount":100000,"currency":"usd","reference":"` + uid + `"}}`)
	d, err = fake.DeliverRaw(t.Context(), hook(), body, gateway.Sign([]byte("not the secret"), time.Now(), body))
	if err != nil || d.Status != 401 || d.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("forged webhook: %v %d %s", err, d.Status, d.Body)
	}
	// Another currency: refused, and kept for the admins to refund.
	eur := gatewaytest.Payment("evt_eur", 1000, uid)
	eur.Data.Currency = "eur"
	d, err = fake.Deliver(t.Context(), hook(), eur)
	if err != nil || d.Status != 422 || !strings.Contains(string(d.Body), "USD only") {
		t.Fatalf("EUR payment: %v %d %s", err, d.Status, d.Body)
	}
	if m := lena.money(); m.Balance != 0 {
		t.Fatalf("balance %s after refused payments", m.Balance)
	}
	admin := newClient(t, n.URL)
	admin.must(admin.json("POST", "/api/v1/auth/login", map[string]string{"username": n.AdminUser, "password": n.AdminPassword}), 200, nil)
	var adm struct {
		Refused []struct{ ID, Error string } `json:"refused"`
	}
	admin.must(admin.json("GET", "/api/v1/admin/payments", nil), 200, &adm)
	if len(adm.Refused) != 1 || adm.Refused[0].ID != "evt_eur" || adm.Refused[0].Error == "" {
		t.Fatalf("refused events for admins: %+v", adm.Refused)
	}

	// An artist is paid out through the gateway.
	arlo, artistID := signupArtist(t, n.URL, "arlo", "Arlo")
	earn(t, n, artistID, lena, admin, arlo)
	if b := arlo.earned(artistID); b != 9_000_000 {
		t.Fatalf("earned %s, want 9.000000", b)
	}
	r := lena.json("POST", "/api/v1/me/payouts", map[string]any{"artist_id": artistID, "method": "gateway", "to": "acct_lena"})
	if r.StatusCode != 403 {
		t.Fatalf("someone else's payout: %d %s", r.StatusCode, r.Body)
	}
	var po payoutJSON
	arlo.must(arlo.json("POST", "/api/v1/me/payouts", map[string]any{"artist_id": artistID, "method": "gateway", "to": "acct_arlo"}), 201, &po)
	if po.State != "sent" || po.Amount != 9_000_000 || po.Ref == "" {
		t.Fatalf("payout %+v", po)
	}
	made := fake.Payouts()
	if len(made) != 1 || made[0].Request.Amount != 900 || made[0].Request.Destination != "acct_arlo" {
		t.Fatalf("the gateway made %+v", made)
	}
	if b := arlo.earned(artistID); b != 9_000_000 {
		t.Fatalf("earnings %s before the gateway paid", b)
	}
	for range 2 { // said twice, recorded once
		d, err = fake.Deliver(t.Context(), hook(), gatewaytest.Paid("evt_paid_1", made[0]))
		if err != nil || d.Status != 200 {
			t.Fatalf("payout.paid: %v %d %s", err, d.Status, d.Body)
		}
	}
	if b := arlo.earned(artistID); b != 0 {
		t.Fatalf("earnings %s after the payout", b)
	}
	if ps := arlo.payouts(); len(ps) != 1 || ps[0].State != "confirmed" || ps[0].ExtID != "gw:acme:payout:"+made[0].ID {
		t.Fatalf("payouts %+v", ps)
	}
	if logs := n.Logs(); strings.Contains(logs, secret) || strings.Contains(logs, apiKey) {
		t.Fatal("the node logged a gateway secret")
	}
}

// chain is a simulated Ethereum chain served over HTTP JSON-RPC, as a
// node's endpoint would be, with the test token deployed.
type chain struct {
	t       *testing.T
	sim     *simulated.Backend
	client  simulated.Client
	url     string
	chainID *big.Int
	abi     abi.ABI
	token   common.Address
	tok     *bind.BoundContract
	nonces  map[common.Address]uint64
}

func newChain(t *testing.T, funded ...*ecdsa.PrivateKey) *chain {
	t.Helper()
	// The test token of pay/usdp, compiled there from its source.
	bin, err := os.ReadFile("../pay/usdp/testdata/TestToken.bin")
	if err != nil {
		t.Fatal(err)
	}
	abiJSON, err := os.ReadFile("../pay/usdp/testdata/TestToken.abi")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	alloc := types.GenesisAlloc{}
	for _, k := range funded {
		alloc[crypto.PubkeyToAddress(k.PublicKey)] = types.Account{Balance: new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)}
	}
	c := &chain{t: t, nonces: map[common.Address]uint64{}, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	c.sim = simulated.NewBackend(alloc, func(nc *node.Config, _ *ethconfig.Config) {
		nc.HTTPHost, nc.HTTPPort = "127.0.0.1", port
		nc.HTTPModules = []string{"eth", "net", "web3"}
		nc.HTTPVirtualHosts = []string{"*"}
	})
	t.Cleanup(func() { c.sim.Close() })
	c.client = c.sim.Client()
	if c.chainID, err = c.client.ChainID(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c.abi, err = abi.JSON(strings.NewReader(string(abiJSON))); err != nil {
		t.Fatal(err)
	}
	ctor, err := c.abi.Pack("", uint8(18))
	if err != nil {
		t.Fatal(err)
	}
	addr, tx, err := bind.DeployContract(c.opts(funded[0]), common.FromHex(strings.TrimSpace(string(bin))), c.client, ctor)
	if err != nil {
		t.Fatal(err)
	}
	c.mine(tx)
	c.token = addr
	c.tok = bind.NewBoundContract(addr, c.abi, c.client, c.client, c.client)
	return c
}

func (c *chain) opts(k *ecdsa.PrivateKey) *bind.TransactOpts {
	o := bind.NewKeyedTransactor(k, c.chainID)
	o.Context = c.t.Context()
	a := crypto.PubkeyToAddress(k.PublicKey)
	o.Nonce = new(big.Int).SetUint64(c.nonces[a])
	c.nonces[a]++
	return o
}

func (c *chain) transact(k *ecdsa.PrivateKey, method string, args ...any) *types.Transaction {
	c.t.Helper()
	tx, err := c.tok.Transact(c.opts(k), method, args...)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	return tx
}

// mine seals blocks until txs are in one.
func (c *chain) mine(txs ...*types.Transaction) {
	c.t.Helper()
	for range 20 {
		c.sim.Commit()
		missing := 0
		for _, tx := range txs {
			if _, err := c.client.TransactionReceipt(c.t.Context(), tx.Hash()); err != nil {
				missing++
			}
		}
		if missing == 0 {
			return
		}
	}
	c.t.Fatal("transactions not mined after 20 blocks")
}

func (c *chain) balanceOf(a common.Address) *big.Int {
	c.t.Helper()
	var out []any
	if err := c.tok.Call(&bind.CallOpts{Context: c.t.Context()}, &out, "balanceOf", a); err != nil {
		c.t.Fatal(err)
	}
	return out[0].(*big.Int)
}

func usd(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// registerWallet registers k's wallet to the client's user through the
// node's challenge, signed as a browser wallet signs (personal_sign).
func (c *client) registerWallet(k *ecdsa.PrivateKey) {
	c.t.Helper()
	var ch struct{ Nonce, Message string }
	c.must(c.json("POST", "/api/v1/me/wallets/challenges", map[string]string{"address": crypto.PubkeyToAddress(k.PublicKey).Hex()}), 201, &ch)
	sig, err := crypto.Sign(accounts.TextHash([]byte(ch.Message)), k)
	if err != nil {
		c.t.Fatal(err)
	}
	sig[64] += 27
	c.must(c.json("POST", "/api/v1/me/wallets", map[string]string{"nonce": ch.Nonce, "signature": hexutil.Encode(sig)}), 201, nil)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// USDP end to end: the real binary reads a simulated chain over JSON-RPC.
// A listener registers their wallet by signing the node's challenge, pays
// the node's deposit address and subscribes with it; an artist registers a
// wallet and is paid their earnings from the node's payout wallet, recorded
// on the ledger once the transfer is confirmed.
func TestUSDPPayments(t *testing.T) {
	minter, alice, payoutKey, artistKey := newKey(t), newKey(t), newKey(t), newKey(t)
	deposit := crypto.PubkeyToAddress(newKey(t).PublicKey)
	c := newChain(t, minter, alice, payoutKey, artistKey)
	c.mine(c.transact(minter, "mint", crypto.PubkeyToAddress(alice.PublicKey), usd(100)),
		c.transact(minter, "mint", crypto.PubkeyToAddress(payoutKey.PublicKey), usd(100)))

	keyFile := writeSecret(t, "payout.key", hex.EncodeToString(crypto.FromECDSA(payoutKey)))
	n := nodetest.Start(t, "--eth-rpc", c.url, "--eth-chain-id", c.chainID.String(), "--usdp-token", c.token.Hex(),
		"--usdp-deposit", deposit.Hex(), "--usdp-confirmations", "2", "--usdp-payout-confirmations", "2",
		"--usdp-payout-key-file", keyFile, "--usdp-interval", "200ms")

	lena := newClient(t, n.URL)
	lena.must(lena.json("POST", "/api/v1/auth/signup", map[string]string{"username": "lena", "password": "password-lena"}), 201, nil)
	var methods struct {
		USDP struct {
			ChainID int64    `json:"chain_id"`
			Token   string   `json:"token"`
			Deposit []string `json:"deposit_addresses"`
		} `json:"usdp"`
	}
	lena.must(lena.json("GET", "/api/v1/me/payment-methods", nil), 200, &methods)
	if methods.USDP.ChainID != 1337 || methods.USDP.Token != strings.ToLower(c.token.Hex()) || len(methods.USDP.Deposit) != 1 || methods.USDP.Deposit[0] != strings.ToLower(deposit.Hex()) {
		t.Fatalf("payment methods %+v", methods)
	}
	lena.registerWallet(alice)
	var ws struct{ Items []struct{ Address string } }
	lena.must(lena.json("GET", "/api/v1/me/wallets", nil), 200, &ws)
	if len(ws.Items) != 1 || ws.Items[0].Address != strings.ToLower(crypto.PubkeyToAddress(alice.PublicKey).Hex()) {
		t.Fatalf("wallets %+v", ws)
	}

	c.mine(c.transact(alice, "transfer", deposit, usd(10)))
	eventually(t, time.Minute, "the deposit credited", func() bool {
		c.sim.Commit() // blocks on top give it confirmations
		return lena.money().Balance == 10_000_000
	})
	lena.must(lena.json("PUT", "/api/v1/me/subscription", nil), 200, nil)
	if m := lena.money(); m.Balance != 0 || m.Subscription.Status != "active" || m.History[len(m.History)-1].Op != "deposit" || !strings.HasPrefix(m.History[len(m.History)-1].Ref, "usdp:") {
		t.Fatalf("after subscribing: %+v", m)
	}

	arlo, artistID := signupArtist(t, n.URL, "arlo", "Arlo")
	earn(t, n, artistID, lena, arlo)
	arlo.registerWallet(artistKey)
	artistWallet := crypto.PubkeyToAddress(artistKey.PublicKey)
	var po payoutJSON
	arlo.must(arlo.json("POST", "/api/v1/me/payouts", map[string]any{"artist_id": artistID, "method": "usdp", "to": artistWallet.Hex()}), 201, &po)
	if po.State != "pending" || po.Amount != 9_000_000 {
		t.Fatalf("payout %+v", po)
	}
	eventually(t, time.Minute, "the payout confirmed", func() bool {
		c.sim.Commit() // mines the payout, then confirms it
		ps := arlo.payouts()
		return len(ps) == 1 && ps[0].State == "confirmed"
	})
	if b := c.balanceOf(artistWallet); b.Cmp(usd(9)) != 0 {
		t.Fatalf("the artist's wallet holds %s base units, want 9 USDP", b)
	}
	if b := arlo.earned(artistID); b != 0 {
		t.Fatalf("earnings %s after the payout", b)
	}
	if strings.Contains(n.Logs(), hex.EncodeToString(crypto.FromECDSA(payoutKey))) {
		t.Fatal("the node logged the payout key")
	}
}

// The Money page in a browser: the node's deposit address, a wallet
// registered by signing the message the page shows (here signed outside
// the browser, as with any wallet's "sign message", and pasted), an
// artist's payout to it, and the payout under way in the admins' view.
func TestBrowserRegistersWallet(t *testing.T) {
	minter, alice, payoutKey := newKey(t), newKey(t), newKey(t)
	deposit := crypto.PubkeyToAddress(newKey(t).PublicKey)
	// The payout wallet can pay, and no block is made: the payout stays
	// under way while the page is looked at.
	c := newChain(t, minter, payoutKey)
	c.mine(c.transact(minter, "mint", crypto.PubkeyToAddress(payoutKey.PublicKey), usd(100)))
	n := nodetest.Start(t, "--eth-rpc", c.url, "--eth-chain-id", c.chainID.String(), "--usdp-token", c.token.Hex(),
		"--usdp-deposit", deposit.Hex(), "--usdp-interval", "1s",
		"--usdp-payout-key-file", writeSecret(t, "payout.key", hex.EncodeToString(crypto.FromECDSA(payoutKey))))
	lena, artistID := signupArtist(t, n.URL, "lena", "Lena")
	earn(t, n, artistID, lena)

	ctx := browser(t)
	run := stepper(t, ctx, 45*time.Second, n.Logs)
	aliceAddr := crypto.PubkeyToAddress(alice.PublicKey).Hex()
	var shown, message string
	run(
		chromedp.Navigate(n.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, "lena"),
		chromedp.SendKeys(`[data-testid=login-password]`, "password-lena"),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`history.pushState(null, '', '/app/me/money'); dispatchEvent(new PopStateEvent('popstate'))`, nil),
		chromedp.WaitVisible(`[data-testid=deposit-address]`),
		chromedp.Text(`[data-testid=deposit-address]`, &shown),
		chromedp.SendKeys(`[data-testid=wallet-address]`, aliceAddr),
		chromedp.Click(`[data-testid=wallet-challenge]`),
		chromedp.WaitVisible(`[data-testid=challenge-message]`),
		chromedp.Value(`[data-testid=challenge-message]`, &message),
	)
	if shown != strings.ToLower(deposit.Hex()) {
		t.Errorf("the page shows the deposit address %q, want %s", shown, strings.ToLower(deposit.Hex()))
	}
	if !strings.Contains(message, aliceAddr) || !strings.Contains(message, "Chain ID: 1337") {
		t.Fatalf("the message to sign:\n%s", message)
	}
	sig, err := crypto.Sign(accounts.TextHash([]byte(message)), alice)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	var listed string
	run(
		chromedp.SendKeys(`[data-testid=wallet-signature]`, hexutil.Encode(sig)),
		chromedp.Click(`[data-testid=wallet-register]`),
		chromedp.WaitVisible(`[data-testid=wallets]`),
		chromedp.Text(`[data-testid=wallets]`, &listed),
	)
	if !strings.Contains(listed, strings.ToLower(aliceAddr)) {
		t.Fatalf("wallets shown: %q", listed)
	}
	// The wallet is offered at once for the artist's payout.
	var payouts string
	run(
		chromedp.WaitVisible(`[data-testid=payout-form] button`),
		chromedp.Click(`[data-testid=payout-form] button`),
		chromedp.WaitVisible(`[data-testid=payout-under-way]`),
		chromedp.Text(`[data-testid=payouts]`, &payouts),
	)
	if !strings.Contains(payouts, strings.ToLower(aliceAddr)) || !strings.Contains(payouts, "$9.00") {
		t.Fatalf("payouts shown: %q", payouts)
	}
	var admin string
	run(
		chromedp.Evaluate(`fetch('/api/v1/auth/logout', {method: 'POST'})`, nil),
		chromedp.Navigate(n.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=login-username]`),
		chromedp.SendKeys(`[data-testid=login-username]`, n.AdminUser),
		chromedp.SendKeys(`[data-testid=login-password]`, n.AdminPassword),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.Poll(`location.pathname !== '/app/login'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`history.pushState(null, '', '/app/me/money'); dispatchEvent(new PopStateEvent('popstate'))`, nil),
		chromedp.WaitVisible(`[data-testid=admin-payouts]`),
		chromedp.Text(`[data-testid=admin-payouts]`, &admin),
	)
	if !strings.Contains(admin, strings.ToLower(aliceAddr)) {
		t.Fatalf("the admins' payouts: %q", admin)
	}
}
