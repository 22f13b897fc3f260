package nineten

import "context"

// The payment adapters as the API reaches them: the HTTP server shows what
// a node takes and starts registrations and payouts through these ports,
// never through an adapter's package (cmd/9ten wires them).

// ChainInfo is what a person needs to pay a node on a chain.
type ChainInfo struct {
	Chain   string   // "eip155:<chain id>/<token address>"
	ChainID int64    // the chain wallets must be on
	Token   string   // the token's address, lower case
	Symbol  string   // e.g. "USDP"
	Deposit []string // the node's deposit addresses, lower case
	// Confirmations is how many blocks a transfer waits before it is
	// credited.
	Confirmations int
	Payouts       bool // the node has a payout wallet
}

// ChainPayments is a node's payments on a chain (USDP on Ethereum).
type ChainPayments interface {
	Info() ChainInfo
	// WalletChallenge issues a message for user to sign with the wallet at
	// address.
	WalletChallenge(ctx context.Context, user ID, address string) (*WalletChallenge, error)
	// RegisterWallet answers a challenge with the wallet's signature and
	// registers the wallet to user; transfers it sent earlier, unclaimed
	// until now, are credited.
	RegisterWallet(ctx context.Context, user ID, nonce, signature string) (*Wallet, error)
	// StartPayout decides a payout of the artist's earned balance (artist
	// is the ledger id "<node>/<artist id>") to a wallet registered to
	// owner; KindUnavailable when the node has no payout wallet.
	StartPayout(ctx context.Context, artist string, owner ID, to string) (*ChainPayout, error)
}

// GatewayInfo is what a person needs to pay a node through a gateway.
type GatewayInfo struct {
	Name string
	// CheckoutURL is where a listener pays, with "{user}" standing for
	// their user id (the checkout's reference); empty when the node has
	// no checkout page to link to.
	CheckoutURL string
	Payouts     bool // the node can pay artists through the gateway
}

// GatewayPayments is a node's payments through one gateway.
type GatewayPayments interface {
	Info() GatewayInfo
	// StartPayout pays the artist's earned balance, in whole cents, to
	// their account at the gateway; KindUnavailable when the node makes
	// no payouts through it.
	StartPayout(ctx context.Context, artist, destination string) (*GatewayPayout, error)
}
