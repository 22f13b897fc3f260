package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/pflag"

	nineten "nineten.dev"
	"nineten.dev/federation"
	"nineten.dev/pay/gateway"
	"nineten.dev/pay/usdp"
)

// payOptions configure real money: USDP on an Ethereum chain and a payment
// gateway. Each is off until its endpoint is set.
type payOptions struct {
	EthRPC              string
	ChainID             int64
	Token               string
	Deposit             []string
	Confirmations       uint64
	PayoutConfirmations uint64
	PayoutKeyFile       string
	StartBlock          uint64
	ChainInterval       time.Duration

	Gateway               string
	GatewaySecret         string
	GatewaySecretFile     string
	GatewayAPI            string
	GatewayAPIKey         string
	GatewayAPIKeyFile     string
	GatewayCheckout       string
	GatewayWindow         time.Duration
	GatewayPayoutInterval time.Duration
}

// mainnetUSDP is the USDP token (its proxy) on Ethereum mainnet.
const mainnetUSDP = "0x8E870D67F660D95d5be530380D0eC0bd388289E1"

func paymentFlags(f *pflag.FlagSet, o *payOptions) {
	f.StringVar(&o.EthRPC, "eth-rpc", "", "Ethereum JSON-RPC URL (http(s):// or ws(s)://); set it to take USDP deposits and pay artists in USDP")
	f.Int64Var(&o.ChainID, "eth-chain-id", 1, "the chain the RPC serves and wallets sign for (1 is Ethereum mainnet)")
	f.StringVar(&o.Token, "usdp-token", "", "the token's address (default: USDP on mainnet, "+mainnetUSDP+")")
	f.StringSliceVar(&o.Deposit, "usdp-deposit", nil, "the node's deposit address(es), comma-separated: transfers to them credit their senders' listeners")
	f.Uint64Var(&o.Confirmations, "usdp-confirmations", usdp.DefaultConfirmations, "blocks a deposit waits before it is credited")
	f.Uint64Var(&o.PayoutConfirmations, "usdp-payout-confirmations", usdp.DefaultPayoutConfirmations, "blocks a payout waits before it is taken off the artist's balance")
	f.StringVar(&o.PayoutKeyFile, "usdp-payout-key-file", "", "file (mode 0600) holding the hex private key of the payout wallet; without it the node pays no artist in USDP")
	f.Uint64Var(&o.StartBlock, "usdp-start-block", 0, "block to read deposits from on first start (the block the deposit addresses were created in)")
	f.DurationVar(&o.ChainInterval, "usdp-interval", usdp.DefaultInterval, "how often the chain is read for deposits and payouts")

	f.StringVar(&o.Gateway, "gateway", "", "name of the payment gateway (a–z, 0–9, -); its webhooks go to /webhooks/gateway/<name>")
	f.StringVar(&o.GatewaySecret, "gateway-webhook-secret", "", "the gateway's webhook signing secret(s), comma-separated to rotate (prefer NINETEN_GATEWAY_WEBHOOK_SECRET or the file)")
	f.StringVar(&o.GatewaySecretFile, "gateway-webhook-secret-file", "", "file (mode 0600) holding the webhook secret(s), one a line")
	f.StringVar(&o.GatewayAPI, "gateway-api", "", "base URL of the gateway's payouts API; without it the node pays no artist through the gateway")
	f.StringVar(&o.GatewayAPIKey, "gateway-api-key", "", "the payouts API's bearer key (prefer NINETEN_GATEWAY_API_KEY or the file)")
	f.StringVar(&o.GatewayAPIKeyFile, "gateway-api-key-file", "", "file (mode 0600) holding the payouts API's key")
	f.StringVar(&o.GatewayCheckout, "gateway-checkout-url", "", "where listeners pay, {user} standing for their user id (the checkout's reference)")
	f.DurationVar(&o.GatewayWindow, "gateway-replay-window", gateway.DefaultWindow, "how old a webhook's signed timestamp may be")
	f.DurationVar(&o.GatewayPayoutInterval, "gateway-payout-interval", gateway.DefaultInterval, "how often payouts the gateway did not take yet are sent again")
}

// readSecretFile reads a secret from a file only its owner can read: a
// key others can read is a key others may have.
func readSecretFile(path, flag string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("--%s: %s can be read by others (mode %04o): chmod 600 it", flag, path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// payments are a node's payment adapters and their loops.
type payments struct {
	chain    *usdpPayments
	gateways []*gateway.Gateway
	interval time.Duration // of the gateways' payout retries
}

// openPayments builds the adapters o configures and hands them to the
// HTTP server.
func (n *node) openPayments(o payOptions) error {
	n.pay = &payments{interval: o.GatewayPayoutInterval}
	if o.EthRPC != "" {
		c, err := openUSDP(o, n.db, n.ledger, n.log.With("component", "usdp"))
		if err != nil {
			return err
		}
		// Known once the node listens (see serve), before it serves.
		c.base = func() *url.URL { return n.fed.Base }
		n.pay.chain = c
		n.server.Chain = c
		if c.payer != nil {
			// Artists of other nodes are paid as local ones, to the wallets
			// their nodes named, and their nodes are told.
			c.remote = n.fed.RemotePayees
			c.payer.Confirmed = func(ctx context.Context, po *nineten.ChainPayout, extID string) error {
				return n.fed.RemotePaid(ctx, po.Artist, extID)
			}
		}
	}
	if o.Gateway != "" {
		g, err := openGateway(o, n.db, n.ledger, n.log.With("component", "gateway"))
		if err != nil {
			return err
		}
		n.pay.gateways = append(n.pay.gateways, g)
		n.server.Gateways = append(n.server.Gateways, g)
		n.server.Webhooks = gateway.Webhooks(n.pay.gateways...)
	}
	return nil
}

func openGateway(o payOptions, db nineten.Store, ledger nineten.Ledger, log *slog.Logger) (*gateway.Gateway, error) {
	secrets := o.GatewaySecret
	if o.GatewaySecretFile != "" {
		s, err := readSecretFile(o.GatewaySecretFile, "gateway-webhook-secret-file")
		if err != nil {
			return nil, err
		}
		secrets = strings.ReplaceAll(s, "\n", ",")
	}
	key := o.GatewayAPIKey
	if o.GatewayAPIKeyFile != "" {
		k, err := readSecretFile(o.GatewayAPIKeyFile, "gateway-api-key-file")
		if err != nil {
			return nil, err
		}
		key = k
	}
	g := &gateway.Gateway{
		Name: o.Gateway, Store: db, Ledger: ledger, Clock: nineten.SystemClock{}, Log: log,
		Window: o.GatewayWindow, CheckoutURL: o.GatewayCheckout, API: o.GatewayAPI, APIKey: gateway.Secret(key),
	}
	for s := range strings.SplitSeq(secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			g.Secrets = append(g.Secrets, gateway.Secret(s))
		}
	}
	if o.GatewayAPI != "" {
		if u, err := url.Parse(o.GatewayAPI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("--gateway-api %q: give the payouts API's base URL, like https://api.gateway.example/v1", o.GatewayAPI)
		}
	}
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("--gateway: %s", nineten.ErrorMessage(err))
	}
	return g, nil
}

// runPayments runs the payment loops until ctx ends, and returns once
// they have all stopped.
func (n *node) runPayments(ctx context.Context) {
	var wg sync.WaitGroup
	if c := n.pay.chain; c != nil {
		wg.Go(func() { c.watch(ctx) })
		if c.payer != nil {
			wg.Go(func() { c.pay(ctx) })
		}
		defer c.client.Close()
	}
	for _, g := range n.pay.gateways {
		wg.Go(func() { g.Run(ctx, n.pay.interval) })
	}
	wg.Wait()
}

// usdpPayments is USDP on an Ethereum chain: nineten.ChainPayments for the
// API, and the watcher's and payer's loops.
type usdpPayments struct {
	client  *ethclient.Client
	chainID int64
	// registrar's Domain and URI are the node's public address, from base.
	registrar *usdp.Registrar
	base      func() *url.URL
	store     nineten.Store
	interval  time.Duration
	log       *slog.Logger
	info      nineten.ChainInfo

	// The watcher and the payer take one step at a time; requests of the
	// API (a claim after a registration, a payout's start) wait their turn.
	watchMu sync.Mutex
	watcher *usdp.Watcher
	payMu   sync.Mutex
	payer   *usdp.Payer
	// remote lists the artists of other nodes owed money and the wallets
	// their nodes named (federation.Service.RemotePayees).
	remote func(ctx context.Context) ([]federation.RemotePayee, error)
}

func openUSDP(o payOptions, db nineten.Store, ledger nineten.Ledger, log *slog.Logger) (*usdpPayments, error) {
	u, err := url.Parse(o.EthRPC)
	if err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", "ws", "wss"}, u.Scheme) {
		return nil, errors.New("--eth-rpc: give the JSON-RPC endpoint's URL, like https://eth.example/v1/<key> or ws://127.0.0.1:8546")
	}
	tokenHex := o.Token
	if tokenHex == "" {
		if o.ChainID != 1 {
			return nil, fmt.Errorf("--usdp-token: give the token's address on chain %d (the default is USDP on mainnet)", o.ChainID)
		}
		tokenHex = mainnetUSDP
	}
	token, err := usdp.ParseAddress(tokenHex)
	if err != nil {
		return nil, fmt.Errorf("--usdp-token: %s", nineten.ErrorMessage(err))
	}
	if len(o.Deposit) == 0 {
		return nil, errors.New("--usdp-deposit: give the node's deposit address(es): without one no USDP can be credited")
	}
	var deposit []common.Address
	var depositHex []string
	for _, d := range o.Deposit {
		a, err := usdp.ParseAddress(d)
		if err != nil {
			return nil, fmt.Errorf("--usdp-deposit: %s", nineten.ErrorMessage(err))
		}
		deposit = append(deposit, a)
		depositHex = append(depositHex, strings.ToLower(a.Hex()))
	}
	// Dialing an http endpoint connects nothing yet: a node starts while
	// its endpoint is down, and the loops wait for it.
	client, err := ethclient.Dial(o.EthRPC)
	if err != nil {
		return nil, fmt.Errorf("--eth-rpc: %w", err)
	}
	clock := nineten.SystemClock{}
	chainID := big.NewInt(o.ChainID)
	confirmations := o.Confirmations
	if confirmations == 0 {
		confirmations = usdp.DefaultConfirmations // as the watcher reads 0
	}
	c := &usdpPayments{
		client: client, chainID: o.ChainID, interval: o.ChainInterval, log: log, store: db,
		registrar: &usdp.Registrar{Store: db, Clock: clock, ChainID: o.ChainID},
		watcher: &usdp.Watcher{
			Chain: client, Store: db, Ledger: ledger, Token: token, Deposit: deposit,
			Confirmations: o.Confirmations, StartBlock: o.StartBlock, Clock: clock, Log: log,
		},
		info: nineten.ChainInfo{
			Chain: usdp.ChainKey(chainID, token), ChainID: o.ChainID, Token: strings.ToLower(token.Hex()), Symbol: "USDP",
			Deposit: depositHex, Confirmations: int(confirmations),
		},
	}
	if o.PayoutKeyFile != "" {
		hexKey, err := readSecretFile(o.PayoutKeyFile, "usdp-payout-key-file")
		if err != nil {
			return nil, err
		}
		signer, err := usdp.ParseTransferSigner(hexKey, token, chainID)
		if err != nil {
			return nil, fmt.Errorf("--usdp-payout-key-file: %s", nineten.ErrorMessage(err))
		}
		c.payer = &usdp.Payer{
			Chain: client, Store: payoutGuard{db}, Ledger: ledger, Signer: signer,
			Confirmations: o.PayoutConfirmations, Clock: clock, Log: log,
		}
		c.info.Payouts = true
		log.Info("usdp: payouts from", "wallet", signer)
	}
	return c, nil
}

func (c *usdpPayments) Info() nineten.ChainInfo { return c.info }

// WalletChallenge's message names the node as its users know it.
func (c *usdpPayments) WalletChallenge(ctx context.Context, user nineten.ID, address string) (*nineten.WalletChallenge, error) {
	r := *c.registrar
	if c.base != nil && c.base() != nil {
		b := c.base()
		r.Domain, r.URI = b.Host, b.String()
	}
	return r.Challenge(ctx, user, address)
}

// RegisterWallet registers the wallet, then credits at once what it sent
// before it was registered, rather than at the watcher's next pass.
func (c *usdpPayments) RegisterWallet(ctx context.Context, user nineten.ID, nonce, signature string) (*nineten.Wallet, error) {
	w, err := c.registrar.Register(ctx, user, nonce, signature)
	if err != nil {
		return nil, err
	}
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.checkChain(ctx) == nil {
		if n, err := c.watcher.Claim(ctx); err != nil {
			c.log.Warn("usdp: crediting a new wallet's earlier transfers; the next pass will", "err", err)
		} else if n > 0 {
			c.log.Info("usdp: credited earlier transfers of a new wallet", "transfers", n, "user", user)
		}
	}
	return w, nil
}

func (c *usdpPayments) StartPayout(ctx context.Context, artist string, owner nineten.ID, to string) (*nineten.ChainPayout, error) {
	if c.payer == nil {
		return nil, nineten.E("usdp.StartPayout", nineten.KindUnavailable, "this node has no USDP payout wallet: its operator has not configured one")
	}
	c.payMu.Lock()
	defer c.payMu.Unlock()
	return c.payer.Start(ctx, artist, owner, to)
}

// checkChain makes sure the endpoint serves the configured chain: wallets
// sign for that chain, and deposits on another would be credited as if
// made on it.
func (c *usdpPayments) checkChain(ctx context.Context) error {
	id, err := c.client.ChainID(ctx)
	if err != nil {
		return nineten.E("usdp.checkChain", nineten.KindUnavailable, "the Ethereum endpoint does not answer", err)
	}
	if !id.IsInt64() || id.Int64() != c.chainID {
		return nineten.E("usdp.checkChain", nineten.KindInvalid, fmt.Sprintf("the Ethereum endpoint serves chain %s, not chain %d (--eth-chain-id): point --eth-rpc at the right network", id, c.chainID))
	}
	return nil
}

// watch reads deposits every interval until ctx ends.
func (c *usdpPayments) watch(ctx context.Context) {
	c.every(ctx, func() {
		c.watchMu.Lock()
		defer c.watchMu.Unlock()
		if err := c.checkChain(ctx); err != nil {
			c.log.Error("usdp: not reading deposits", "err", err)
			return
		}
		r, err := c.watcher.Poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Error("usdp: deposit pass failed; retrying", "err", err)
		case r.Credited+r.Unclaimed+r.Claimed+r.Dust > 0:
			c.log.Info("usdp: deposits", "through", r.Through, "credited", r.Credited, "claimed", r.Claimed, "unclaimed", r.Unclaimed, "dust", r.Dust)
		}
	})
}

// pay moves payouts on every interval until ctx ends.
func (c *usdpPayments) pay(ctx context.Context) {
	c.every(ctx, func() {
		c.payMu.Lock()
		defer c.payMu.Unlock()
		c.startRemote(ctx)
		// The payer checks the chain itself: its signer is for one chain.
		if err := c.payer.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("usdp: payouts step failed; retrying", "err", err)
		}
	})
}

// startRemote starts a payout for each artist of another node whose
// node named a wallet and who has none under way. A payout that failed
// (the wallet lacked tokens, the token refused it) is not started again
// for the same wallet and amount: the admins see it among failed payouts
// and either fund the wallet and record it by hand or wait for the next
// month's statement to change the amount.
func (c *usdpPayments) startRemote(ctx context.Context) {
	if c.remote == nil {
		return
	}
	payees, err := c.remote(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("usdp: listing the artists of other nodes to pay", "err", err)
		}
		return
	}
	for _, p := range payees {
		past, err := c.store.Payouts(ctx, nineten.PayoutFilter{Artist: p.Artist})
		if err != nil {
			c.log.Error("usdp: reading payouts", "artist", p.Artist, "err", err)
			return
		}
		if slices.ContainsFunc(past, func(po nineten.ChainPayout) bool {
			return po.State == nineten.PayoutPending || po.State == nineten.PayoutSent ||
				po.State == nineten.PayoutFailed && strings.EqualFold(po.To, p.Wallet) && po.Amount == p.Owed
		}) {
			continue
		}
		po, err := c.payer.StartRemote(ctx, p.Artist, p.Wallet)
		if err != nil {
			c.log.Warn("usdp: could not start the payout of an artist of another node; it stays owed", "artist", p.Artist, "err", err)
			continue
		}
		c.log.Info("usdp: paying an artist of another node", "artist", p.Artist, "to", po.To, "amount", po.Amount)
	}
}

func (c *usdpPayments) every(ctx context.Context, step func()) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		step()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// payoutGuard is the store of the USDP payer: it starts a payout only
// while the artist has none under way through a gateway, checked in the
// same transaction (the gateway side checks chain payouts itself), so
// that one balance is never sent both ways.
type payoutGuard struct{ nineten.Store }

func (g payoutGuard) CreatePayout(ctx context.Context, p *nineten.ChainPayout) error {
	return g.WithTx(ctx, func(tx nineten.Store) error {
		open, err := tx.GatewayPayouts(ctx, nineten.GatewayPayoutFilter{Artist: p.Artist, States: []nineten.GatewayPayoutState{nineten.GatewayPayoutPending, nineten.GatewayPayoutSent}})
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return nineten.E("main.payoutGuard", nineten.KindConflict, "the artist has a payout under way through "+open[0].Gateway)
		}
		return tx.CreatePayout(ctx, p)
	})
}
