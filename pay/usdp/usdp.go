// Package usdp takes payments in USDP, an ERC-20 stablecoin on Ethereum, and
// pays artists in it: a Watcher credits listeners for token transfers to
// the node's deposit addresses, a Registrar lets a listener prove which
// wallet is theirs, and a Payer sends artists their earnings.
//
// # Money
//
// The token's amounts are integers of base units (USDP has 18 decimals:
// 10^18 base units are one USDP, taken as one US dollar); the ledger's are
// micro-dollars. A transfer is credited as floor(units / 10^(decimals-6))
// micro-dollars; the rest, less than one micro-dollar, is kept in the
// deposit's record (nineten.ChainDeposit.Remainder), never rounded away
// silently. Any number of decimals up to MaxDecimals converts exactly.
//
// # Confirmations and reorganisations
//
// A log in block b has head−b+1 confirmations. The watcher reads logs only
// up to the deepest block that has Confirmations of them, and just before
// crediting a log checks that its block is still the canonical block at
// that height, so a transfer that a reorganisation removes is never
// credited and one it moves is credited where it landed. Each log is
// credited once: its ledger id "usdp:<tx hash>:<log index>" is refused a
// second time by the ledger, and the watcher takes that refusal as "done".
//
// A reorganisation deeper than the confirmations (the block under the
// watcher's cursor is no longer canonical) stops the watcher with an error
// for a person: credits from abandoned blocks cannot be taken back
// automatically without risking the ledger's word.
//
// # Unknown senders and dust
//
// A transfer from an address no user registered is recorded as unclaimed
// (nineten.DepositUnclaimed, listed by WalletStore.ChainDeposits for admins)
// and credited on the first pass after its sender registers the address,
// which proves they hold the key the money came from. A transfer worth less
// than one micro-dollar is recorded as dust with its remainder; nothing is
// credited.
//
// # Payouts
//
// Payer sends an artist's earned balance from the node's payout wallet;
// see Payer for the pending → sent → confirmed steps and why a crash
// between any two of them pays nothing twice. The payout key lives in a
// TransferSigner, which signs only token transfers and never shows the key.
//
// # Chains
//
// Everything talks to the chain through the small interfaces Chain and
// PayChain, which go-ethereum's ethclient.Client (a JSON-RPC endpoint) and
// its simulated backend's client both satisfy.
package usdp

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	nineten "nineten.dev"
)

// Chain is what the watcher reads from an Ethereum node.
type Chain interface {
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// PayChain is what the payer needs besides: nonces, fees, sending and
// receipts.
type PayChain interface {
	Chain
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
}

// The ERC-20 parts used here: the Transfer event and three functions.
var (
	// TransferTopic is topic 0 of Transfer(address indexed from, address
	// indexed to, uint256 value).
	TransferTopic    = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
	selDecimals      = crypto.Keccak256([]byte("decimals()"))[:4]
	selTransfer      = crypto.Keccak256([]byte("transfer(address,uint256)"))[:4]
	errNotTransferTo = errors.New("not a Transfer log")
)

// ExtID is the ledger's external id of a token transfer: one per log, so
// that one transaction carrying several transfers (batch or relayed
// transfers) credits each once.
func ExtID(tx common.Hash, logIndex uint) string {
	return "usdp:" + tx.Hex() + ":" + strconv.FormatUint(uint64(logIndex), 10)
}

// ChainKey names a token on a chain in the node's records:
// "eip155:<chain id>/<token address>" (CAIP-2 style chain, lower-case token).
func ChainKey(chainID *big.Int, token common.Address) string {
	return "eip155:" + chainID.String() + "/" + addr(token)
}

// addr writes an address as the stores keep it: lower-case hex.
func addr(a common.Address) string { return strings.ToLower(a.Hex()) }

// ParseAddress reads a 0x-prefixed hex address in any case. A mixed-case
// address must carry a valid EIP-55 checksum: a typo in a wallet address is
// money sent nowhere.
func ParseAddress(s string) (common.Address, error) {
	const op = "usdp.ParseAddress"
	s = strings.TrimSpace(s)
	if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") {
		return common.Address{}, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%q is not an Ethereum address (0x and 40 hex digits)", s))
	}
	a := common.HexToAddress(s)
	if body := s[2:]; body != strings.ToLower(body) && body != strings.ToUpper(body) && a.Hex() != s {
		return common.Address{}, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%q has a wrong checksum (mixed case that is not EIP-55): check the address for typos", s))
	}
	return a, nil
}

// MaxDecimals bounds the token precision accepted: well beyond USDP's 18
// and USDC's 6, and a sanity check against pointing at something that is not
// a money token.
const MaxDecimals = 36

// units converts between a token's base units and micro-dollars exactly.
type units struct {
	decimals uint8
	// per is 10^(decimals-6) base units per micro-dollar when decimals ≥ 6;
	// mul is 10^(6-decimals) micro-dollars per base unit otherwise.
	per, mul *big.Int
}

func newUnits(decimals uint8) (units, error) {
	if decimals > MaxDecimals {
		return units{}, nineten.E("usdp.units", nineten.KindUnsupported,
			fmt.Sprintf("the token has %d decimals; at most %d are supported: check that the token address is a dollar stablecoin", decimals, MaxDecimals))
	}
	u := units{decimals: decimals, per: big.NewInt(1), mul: big.NewInt(1)}
	ten := big.NewInt(10)
	if decimals >= 6 {
		u.per.Exp(ten, big.NewInt(int64(decimals)-6), nil)
	} else {
		u.mul.Exp(ten, big.NewInt(6-int64(decimals)), nil)
	}
	return u, nil
}

// toMicro splits x base units into whole micro-dollars and the remainder
// below one micro-dollar, in base units.
func (u units) toMicro(x *big.Int) (nineten.Micro, *big.Int, error) {
	const op = "usdp.toMicro"
	if x == nil || x.Sign() < 0 {
		return 0, nil, nineten.E(op, nineten.KindInvalid, "a token amount is a non-negative integer")
	}
	q, r := new(big.Int).QuoRem(x, u.per, new(big.Int))
	q.Mul(q, u.mul)
	if !q.IsInt64() {
		return 0, nil, nineten.E(op, nineten.KindInvalid, x.String()+" base units exceed what the ledger holds")
	}
	return nineten.Micro(q.Int64()), r, nil
}

// fromMicro is m in base units, exactly.
func (u units) fromMicro(m nineten.Micro) *big.Int {
	x := new(big.Int).Mul(big.NewInt(int64(m)), u.per)
	return x.Quo(x, u.mul)
}

// readDecimals calls the token's decimals().
func readDecimals(ctx context.Context, c Chain, token common.Address) (uint8, error) {
	const op = "usdp.readDecimals"
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &token, Data: selDecimals}, nil)
	if err != nil {
		return 0, nineten.E(op, nineten.KindUnavailable, "could not call decimals() on the token "+token.Hex()+": check the RPC endpoint and the token address", err)
	}
	if len(out) != 32 {
		return 0, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("decimals() of %s returned %d bytes, not a uint8: is it an ERC-20 token on this chain?", token.Hex(), len(out)))
	}
	v := new(big.Int).SetBytes(out)
	if !v.IsUint64() || v.Uint64() > 255 {
		return 0, nineten.E(op, nineten.KindInvalid, "decimals() of "+token.Hex()+" is "+v.String()+", not a uint8")
	}
	return uint8(v.Uint64()), nil
}

// transfer is a decoded Transfer log.
type transfer struct {
	from, to common.Address
	value    *big.Int
}

func decodeTransfer(l *types.Log) (transfer, error) {
	if len(l.Topics) != 3 || l.Topics[0] != TransferTopic || len(l.Data) != 32 {
		return transfer{}, errNotTransferTo
	}
	return transfer{
		from:  common.BytesToAddress(l.Topics[1].Bytes()),
		to:    common.BytesToAddress(l.Topics[2].Bytes()),
		value: new(big.Int).SetBytes(l.Data),
	}, nil
}

// transferData is the calldata of transfer(to, value).
func transferData(to common.Address, value *big.Int) []byte {
	data := make([]byte, 0, 4+64)
	data = append(data, selTransfer...)
	data = append(data, common.LeftPadBytes(to.Bytes(), 32)...)
	return append(data, common.LeftPadBytes(value.Bytes(), 32)...)
}

// headerAt reads the canonical header at height n.
func headerAt(ctx context.Context, c Chain, n uint64) (*types.Header, error) {
	h, err := c.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
	if err != nil {
		return nil, nineten.E("usdp.headerAt", nineten.KindUnavailable, "could not read block "+strconv.FormatUint(n, 10)+" from the RPC endpoint", err)
	}
	return h, nil
}

// listenerID is how the ledger names a user.
func listenerID(u nineten.ID) string { return strconv.FormatInt(int64(u), 10) }

// alreadyRecorded tells a ledger refusal of a repeated external id (the
// work is done) from other conflicts such as an insufficient balance: the
// ledger returns the earlier transaction with a refusal of the first kind.
func alreadyRecorded(tx nineten.MoneyTx, err error, extID string) bool {
	return nineten.ErrorKind(err) == nineten.KindConflict && tx.Seq > 0 && tx.Ref == extID
}
