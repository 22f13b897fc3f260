package nineten

import (
	"context"
	"time"
)

// Wallets: what a node keeps about money that moves on a blockchain (USDP,
// an ERC-20 token on Ethereum, in pay/usdp). The ledger holds the money;
// these records say which chain events it came from or went to, so that
// every event is acted on exactly once whatever the chain, the network or
// the process do in between.
//
// Addresses are written in lower-case hex with the 0x prefix, as the chain
// package writes them, and compared as written. A chain key names a chain
// and a token on it: "eip155:<chain id>/<token address>".

// Wallet is an address whose key a user has proven to hold, by signing a
// challenge of the node with it. Transfers from it credit that user, and
// payouts to the user may go to it. An address belongs to one user.
type Wallet struct {
	Address   string
	UserID    ID
	CreatedAt time.Time
}

// WalletChallenge is a message a user is asked to sign with a wallet to
// register it. It is stored when issued and removed when answered, so that a
// signature is good for one registration only, and it expires.
type WalletChallenge struct {
	Nonce     string // random, unique; names the challenge
	UserID    ID
	Address   string
	Message   string // the exact text to sign
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ChainCursor is how far a chain watcher has read a token's logs: Block and
// every block below are done; Hash is Block's hash as it was read, to notice
// a reorganisation that reached below the cursor.
type ChainCursor struct {
	Chain     string
	Block     int64
	Hash      string
	UpdatedAt time.Time
}

// ChainDepositState says what became of a transfer to the node.
type ChainDepositState string

const (
	// DepositCredited: the sender's listener was credited on the ledger.
	DepositCredited ChainDepositState = "credited"
	// DepositUnclaimed: the sender had no registered wallet; the money is
	// on the node's address but in no listener's balance. It is credited
	// when the sender registers, or an admin settles it by hand.
	DepositUnclaimed ChainDepositState = "unclaimed"
	// DepositDust: less than one micro-dollar, too little to credit; kept
	// in Remainder.
	DepositDust ChainDepositState = "dust"
)

// ChainDeposit is one token transfer to a node's deposit address, taken
// from a Transfer log once it had enough confirmations. ExtID is its
// external id on the ledger, "usdp:<tx hash>:<log index>".
type ChainDeposit struct {
	ExtID     string
	Chain     string
	TxHash    string
	LogIndex  int64
	Block     int64
	BlockHash string
	From      string
	To        string
	Units     string // the amount in token base units, in decimal
	Amount    Micro  // whole micro-dollars of Units: what is (or will be) credited
	// Remainder is the part of Units below one micro-dollar, in base units
	// (decimal): real money the ledger cannot hold, kept here so that it is
	// accounted for.
	Remainder  string
	State      ChainDepositState
	UserID     ID // the listener credited; zero while unclaimed
	SeenAt     time.Time
	CreditedAt time.Time
}

// ChainPayoutState is a step of a payout's way out of the node.
type ChainPayoutState string

const (
	// PayoutPending: decided, nothing signed; safe to sign afresh.
	PayoutPending ChainPayoutState = "pending"
	// PayoutSent: signed with a nonce of its own and recorded (TxHash,
	// RawTx) before it was broadcast; only this transaction may ever pay it.
	PayoutSent ChainPayoutState = "sent"
	// PayoutConfirmed: mined, confirmed and recorded on the ledger.
	PayoutConfirmed ChainPayoutState = "confirmed"
	// PayoutFailed: it will not pay (refused before sending, or reverted);
	// the ledger was not debited and Error says why.
	PayoutFailed ChainPayoutState = "failed"
)

// ChainPayout is one transfer of an artist's earnings to their wallet.
type ChainPayout struct {
	ID     ID
	Chain  string
	Artist string // the artist's ledger account id, "<node>/<artist id>"
	To     string
	Amount Micro
	Units  string // Amount in token base units, in decimal
	State  ChainPayoutState
	From   string // the node's payout wallet
	Nonce  int64  // the payout wallet's nonce; -1 until signed
	TxHash string
	RawTx  []byte // the signed transaction, to broadcast again after a restart
	ExtID  string // "usdp:<tx hash>:<log index>" once confirmed
	Error  string
	// Block is where the transaction was mined, once confirmed.
	Block     int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PayoutFilter selects payouts; zero fields select all.
type PayoutFilter struct {
	Chain  string
	Artist string
	States []ChainPayoutState
}

// WalletStore keeps wallets, their challenges and the chain watcher's and
// payer's records.
type WalletStore interface {
	// CreateWalletChallenge stores an issued challenge; KindConflict when
	// its nonce is taken.
	CreateWalletChallenge(ctx context.Context, c WalletChallenge) error
	// ConsumeWalletChallenge removes the challenge named by nonce and
	// returns it; KindNotFound when there is none (never issued, or used).
	// Two callers racing for one challenge: one gets it.
	ConsumeWalletChallenge(ctx context.Context, nonce string) (*WalletChallenge, error)
	// DeleteExpiredWalletChallenges removes challenges that expired before t.
	DeleteExpiredWalletChallenges(ctx context.Context, t time.Time) error

	// RegisterWallet stores w; KindConflict when the address is registered
	// already, to anyone.
	RegisterWallet(ctx context.Context, w Wallet) error
	WalletByAddress(ctx context.Context, address string) (*Wallet, error) // KindNotFound when unregistered
	WalletsOf(ctx context.Context, userID ID) ([]Wallet, error)           // oldest first
	// DeleteWallet unregisters a user's address; KindNotFound when the
	// user has no such wallet.
	DeleteWallet(ctx context.Context, userID ID, address string) error

	ChainCursor(ctx context.Context, chain string) (*ChainCursor, error) // KindNotFound before the first
	SetChainCursor(ctx context.Context, c ChainCursor) error

	// SaveChainDeposit inserts d, or replaces the deposit with its ExtID.
	SaveChainDeposit(ctx context.Context, d ChainDeposit) error
	ChainDepositByExtID(ctx context.Context, extID string) (*ChainDeposit, error) // KindNotFound
	// ChainDeposits lists a chain's deposits in state (all states when
	// empty), oldest block first.
	ChainDeposits(ctx context.Context, chain string, state ChainDepositState, p Page) ([]ChainDeposit, error)

	// CreatePayout stores p and sets p.ID; KindConflict while the artist
	// has another payout pending or sent on that chain, so that one
	// balance is never sent twice.
	CreatePayout(ctx context.Context, p *ChainPayout) error
	// UpdatePayout records a payout's progress (State, Nonce, TxHash,
	// RawTx, ExtID, Error, Block, UpdatedAt; the rest never changes) if
	// its state is still from; KindConflict when it is not (another
	// process moved it) or when Nonce is another payout's of the wallet.
	UpdatePayout(ctx context.Context, p *ChainPayout, from ChainPayoutState) error
	PayoutByID(ctx context.Context, id ID) (*ChainPayout, error)        // KindNotFound
	Payouts(ctx context.Context, f PayoutFilter) ([]ChainPayout, error) // oldest first
	// LastPayoutNonce is the highest nonce any payout of chain from the
	// wallet was signed with, or -1.
	LastPayoutNonce(ctx context.Context, chain, from string) (int64, error)
}
