package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Real money in and out: the payment methods a node takes (USDP on a chain,
// payment gateways), listeners' wallets, artists' payouts, and what admins
// must look at. The adapters sit behind nineten.ChainPayments and
// nineten.GatewayPayments; amounts are micro-USD integers as elsewhere.

type paymentMethodsJSON struct {
	USDP     *usdpJSON     `json:"usdp"` // null when the node takes no USDP
	Gateways []gatewayJSON `json:"gateways"`
}

type usdpJSON struct {
	Chain         string   `json:"chain"`
	ChainID       int64    `json:"chain_id"`
	Token         string   `json:"token"`
	Symbol        string   `json:"symbol"`
	Deposit       []string `json:"deposit_addresses"`
	Confirmations int      `json:"confirmations"`
	Payouts       bool     `json:"payouts"`
}

type gatewayJSON struct {
	Name string `json:"name"`
	// CheckoutURL is where this listener pays, their user id filled in.
	CheckoutURL string `json:"checkout_url,omitempty"`
	Payouts     bool   `json:"payouts"`
}

type walletJSON struct {
	Address   string    `json:"address"`
	CreatedAt time.Time `json:"created_at"`
}

type walletList struct {
	Items []walletJSON `json:"items"`
}

type challengeInput struct {
	Address string `json:"address"`
}

type challengeJSON struct {
	Nonce   string `json:"nonce"`
	Address string `json:"address"`
	// Message is the exact text to sign with the wallet (personal_sign).
	Message   string    `json:"message"`
	ExpiresAt time.Time `json:"expires_at"`
}

type walletInput struct {
	Nonce     string `json:"nonce"`
	Signature string `json:"signature"` // 0x-prefixed hex, 65 bytes
}

type payoutInput struct {
	ArtistID nineten.ID `json:"artist_id"`
	// Method is "usdp" (To is a registered wallet) or "gateway" (To is
	// the artist's account at Gateway, which may be left out when the
	// node has one gateway).
	Method  string `json:"method"`
	Gateway string `json:"gateway,omitempty"`
	To      string `json:"to"`
}

type payoutJSON struct {
	ID       nineten.ID    `json:"id"`
	Method   string        `json:"method"` // usdp or gateway
	Via      string        `json:"via"`    // the chain key, or the gateway's name
	ArtistID nineten.ID    `json:"artist_id,omitempty"`
	Artist   string        `json:"artist"` // the ledger account id
	To       string        `json:"to"`
	Amount   nineten.Micro `json:"amount"`
	State    string        `json:"state"` // pending, sent, confirmed, failed
	// Ref is the transaction hash on the chain, or the gateway's payout id.
	Ref       string    `json:"ref,omitempty"`
	ExtID     string    `json:"ext_id,omitempty"` // on the ledger, once confirmed
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type payoutList struct {
	Items []payoutJSON `json:"items"`
}

type chainDepositJSON struct {
	ExtID  string        `json:"ext_id"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	TxHash string        `json:"tx_hash"`
	Block  int64         `json:"block"`
	Amount nineten.Micro `json:"amount"`
	SeenAt time.Time     `json:"seen_at"`
}

type gatewayEventJSON struct {
	Gateway    string        `json:"gateway"`
	ID         string        `json:"id"`
	Type       string        `json:"type"`
	Reference  string        `json:"reference"`
	Amount     nineten.Micro `json:"amount"`
	Currency   string        `json:"currency"`
	Error      string        `json:"error"`
	ReceivedAt time.Time     `json:"received_at"`
}

type adminPaymentsJSON struct {
	// Unclaimed are USDP transfers from wallets nobody registered: on the
	// node's address, in no listener's balance.
	Unclaimed []chainDepositJSON `json:"unclaimed"`
	// Payouts are those under way or failed, oldest first.
	Payouts []payoutJSON `json:"payouts"`
	// Refused are genuine gateway events the node could not act on.
	Refused []gatewayEventJSON `json:"refused"`
}

func (s *Server) paymentMethods(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	out := paymentMethodsJSON{Gateways: []gatewayJSON{}}
	if s.Chain != nil {
		i := s.Chain.Info()
		out.USDP = &usdpJSON{Chain: i.Chain, ChainID: i.ChainID, Token: i.Token, Symbol: i.Symbol, Deposit: i.Deposit, Confirmations: i.Confirmations, Payouts: i.Payouts}
	}
	for _, g := range s.Gateways {
		i := g.Info()
		out.Gateways = append(out.Gateways, gatewayJSON{
			Name: i.Name, Payouts: i.Payouts,
			CheckoutURL: strings.ReplaceAll(i.CheckoutURL, "{user}", strconv.FormatInt(int64(u.ID), 10)),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// chain is the node's chain payments, or a clear refusal.
func (s *Server) chain() (nineten.ChainPayments, error) {
	if s.Chain == nil {
		return nil, nineten.E("server.chain", nineten.KindUnavailable, "this node takes no USDP: its operator has not configured an Ethereum endpoint")
	}
	return s.Chain, nil
}

func (s *Server) myWallets(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	ws, err := s.Store.WalletsOf(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := walletList{Items: []walletJSON{}}
	for _, wa := range ws {
		out.Items = append(out.Items, walletJSON{Address: wa.Address, CreatedAt: wa.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) walletChallenge(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	c, err := s.chain()
	if err != nil {
		return err
	}
	var in challengeInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	ch, err := c.WalletChallenge(r.Context(), u.ID, in.Address)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, challengeJSON{Nonce: ch.Nonce, Address: ch.Address, Message: ch.Message, ExpiresAt: ch.ExpiresAt})
	return nil
}

func (s *Server) registerWallet(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	c, err := s.chain()
	if err != nil {
		return err
	}
	var in walletInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	wa, err := c.RegisterWallet(r.Context(), u.ID, in.Nonce, in.Signature)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, walletJSON{Address: wa.Address, CreatedAt: wa.CreatedAt})
	return nil
}

func (s *Server) deleteWallet(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWallet(r.Context(), u.ID, strings.ToLower(r.PathValue("address"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// artistAccount is the ledger account of an artist of this node.
func (s *Server) artistAccount(id nineten.ID) string {
	return s.Subscriptions.Node + "/" + strconv.FormatInt(int64(id), 10)
}

func (s *Server) myPayouts(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	artists, err := s.Store.ArtistsByOwner(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := payoutList{Items: []payoutJSON{}}
	for _, a := range artists {
		ref := s.artistAccount(a.ID)
		cps, err := s.Store.Payouts(r.Context(), nineten.PayoutFilter{Artist: ref})
		if err != nil {
			return err
		}
		gps, err := s.Store.GatewayPayouts(r.Context(), nineten.GatewayPayoutFilter{Artist: ref})
		if err != nil {
			return err
		}
		out.Items = append(out.Items, s.payoutsJSON(cps, gps)...)
	}
	// Newest first: the one under way, then the history.
	slices.SortStableFunc(out.Items, func(a, b payoutJSON) int { return b.CreatedAt.Compare(a.CreatedAt) })
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) startPayout(w http.ResponseWriter, r *http.Request) error {
	const op = "server.startPayout"
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in payoutInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Store.ArtistByID(r.Context(), in.ArtistID)
	if err != nil {
		return err
	}
	if a.OwnerID != u.ID {
		return nineten.E(op, nineten.KindPermission, "only the owner of "+a.Name+" may pay out its earnings")
	}
	ref := s.artistAccount(a.ID)
	switch in.Method {
	case "usdp":
		c, err := s.chain()
		if err != nil {
			return err
		}
		p, err := c.StartPayout(r.Context(), ref, u.ID, in.To)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, s.payoutsJSON([]nineten.ChainPayout{*p}, nil)[0])
	case "gateway":
		g, err := s.gateway(in.Gateway)
		if err != nil {
			return err
		}
		p, err := g.StartPayout(r.Context(), ref, in.To)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, s.payoutsJSON(nil, []nineten.GatewayPayout{*p})[0])
	default:
		return nineten.E(op, nineten.KindInvalid, "method must be \"usdp\" (to a registered wallet) or \"gateway\" (to your account at the payment gateway)")
	}
	return nil
}

// gateway finds the gateway named name, or the node's only one when name
// is empty.
func (s *Server) gateway(name string) (nineten.GatewayPayments, error) {
	const op = "server.gateway"
	if name == "" && len(s.Gateways) == 1 {
		return s.Gateways[0], nil
	}
	var names []string
	for _, g := range s.Gateways {
		if g.Info().Name == name {
			return g, nil
		}
		names = append(names, g.Info().Name)
	}
	if len(names) == 0 {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node has no payment gateway")
	}
	return nil, nineten.E(op, nineten.KindInvalid, "name the gateway: one of "+strings.Join(names, ", "))
}

// payoutsJSON shows payouts of both kinds, with the artist's id when the
// artist is of this node.
func (s *Server) payoutsJSON(cps []nineten.ChainPayout, gps []nineten.GatewayPayout) []payoutJSON {
	artistID := func(ref string) nineten.ID {
		id, ok := strings.CutPrefix(ref, s.Subscriptions.Node+"/")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil {
			return 0
		}
		return nineten.ID(n)
	}
	out := make([]payoutJSON, 0, len(cps)+len(gps))
	for _, p := range cps {
		out = append(out, payoutJSON{
			ID: p.ID, Method: "usdp", Via: p.Chain, ArtistID: artistID(p.Artist), Artist: p.Artist, To: p.To, Amount: p.Amount,
			State: string(p.State), Ref: p.TxHash, ExtID: p.ExtID, Error: p.Error, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		})
	}
	for _, p := range gps {
		out = append(out, payoutJSON{
			ID: p.ID, Method: "gateway", Via: p.Gateway, ArtistID: artistID(p.Artist), Artist: p.Artist, To: p.Destination, Amount: p.Amount,
			State: string(p.State), Ref: p.PayoutID, ExtID: p.ExtID, Error: p.Error, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		})
	}
	return out
}

// adminPayments is what needs a person: money that reached the node but no
// listener, and payouts under way or failed.
func (s *Server) adminPayments(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	ctx := r.Context()
	out := adminPaymentsJSON{Unclaimed: []chainDepositJSON{}, Refused: []gatewayEventJSON{}}
	if s.Chain != nil {
		ds, err := s.Store.ChainDeposits(ctx, s.Chain.Info().Chain, nineten.DepositUnclaimed, nineten.Page{Limit: 200})
		if err != nil {
			return err
		}
		for _, d := range ds {
			out.Unclaimed = append(out.Unclaimed, chainDepositJSON{ExtID: d.ExtID, From: d.From, To: d.To, TxHash: d.TxHash, Block: d.Block, Amount: d.Amount, SeenAt: d.SeenAt})
		}
	}
	cps, err := s.Store.Payouts(ctx, nineten.PayoutFilter{States: []nineten.ChainPayoutState{nineten.PayoutPending, nineten.PayoutSent, nineten.PayoutFailed}})
	if err != nil {
		return err
	}
	gps, err := s.Store.GatewayPayouts(ctx, nineten.GatewayPayoutFilter{States: []nineten.GatewayPayoutState{nineten.GatewayPayoutPending, nineten.GatewayPayoutSent, nineten.GatewayPayoutFailed}})
	if err != nil {
		return err
	}
	out.Payouts = s.payoutsJSON(cps, gps)
	slices.SortStableFunc(out.Payouts, func(a, b payoutJSON) int { return a.CreatedAt.Compare(b.CreatedAt) })
	evs, err := s.Store.GatewayEvents(ctx, nineten.GatewayEventRefused, nineten.Page{Limit: 200})
	if err != nil {
		return err
	}
	for _, e := range evs {
		out.Refused = append(out.Refused, gatewayEventJSON{Gateway: e.Gateway, ID: e.ID, Type: e.Type, Reference: e.Reference, Amount: e.Amount, Currency: e.Currency, Error: e.Error, ReceivedAt: e.ReceivedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
