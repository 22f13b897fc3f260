package usdp

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	nineten "nineten.dev"
)

// DefaultPayoutConfirmations is how many confirmations a payout needs
// before it is taken off the artist's balance: 64 blocks, two epochs, about
// when Ethereum finalizes a block. Money leaving the node is recorded only
// once it cannot come back.
const DefaultPayoutConfirmations = 64

// TransferSigner holds the payout wallet's key and signs one kind of
// transaction with it: transfer(to, value) on the one token. It cannot sign
// anything else (no ether transfers, no approvals, no messages), and it
// never shows the key: it prints, formats and logs as its address.
type TransferSigner struct {
	key     *ecdsa.PrivateKey
	from    common.Address
	token   common.Address
	chainID *big.Int
	signer  types.Signer
}

// NewTransferSigner makes a signer of token transfers on chainID with key.
func NewTransferSigner(key *ecdsa.PrivateKey, token common.Address, chainID *big.Int) *TransferSigner {
	return &TransferSigner{
		key: key, from: crypto.PubkeyToAddress(key.PublicKey), token: token,
		chainID: new(big.Int).Set(chainID), signer: types.LatestSignerForChainID(chainID),
	}
}

// ParseTransferSigner reads a hex private key (as `9ten` reads it from a
// file or the environment). Errors never include the key.
func ParseTransferSigner(hexKey string, token common.Address, chainID *big.Int) (*TransferSigner, error) {
	key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(hexKey), "0x"))
	if err != nil {
		// The cause may quote the input: it is left out on purpose.
		return nil, nineten.E("usdp.ParseTransferSigner", nineten.KindInvalid, "the payout key is not a 32-byte hex secp256k1 private key")
	}
	return NewTransferSigner(key, token, chainID), nil
}

// Address is the payout wallet's address.
func (s *TransferSigner) Address() common.Address { return s.from }

func (s *TransferSigner) String() string   { return "payout wallet " + s.from.Hex() }
func (s *TransferSigner) GoString() string { return s.String() }

// LogValue keeps the key out of structured logs.
func (s *TransferSigner) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Format keeps the key out of every fmt verb, %+v and %#v included.
func (s *TransferSigner) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// signTransfer signs transfer(to, value) on the token with the given nonce
// and fees.
func (s *TransferSigner) signTransfer(to common.Address, value *big.Int, nonce, gas uint64, tip, feeCap *big.Int) (*types.Transaction, error) {
	tok := s.token
	return types.SignNewTx(s.key, s.signer, &types.DynamicFeeTx{
		ChainID: s.chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas,
		To: &tok, Value: new(big.Int), Data: transferData(to, value),
	})
}

// Payer sends artists their earnings from the node's payout wallet. A
// payout goes pending → sent → confirmed (or failed):
//
//   - Start records it pending, for the artist's whole balance on the
//     ledger, with nothing signed.
//   - Tick signs a pending payout with the wallet's next nonce, records it
//     sent (transaction hash and the signed bytes) and only then broadcasts
//     it. A crash before the record leaves a pending payout that no
//     transaction pays, signed afresh next time; a crash after leaves a sent
//     one whose recorded transaction is broadcast again. Nonces are never
//     shared between payouts, so at most one transaction pays a payout.
//   - Tick confirms a sent payout once its receipt has enough
//     confirmations in the canonical chain, and records it on the ledger
//     as a payout with the id of its Transfer log; the ledger refuses that
//     id twice, so a crash between the two records is harmless too.
//
// One Payer per payout wallet; one Tick at a time.
type Payer struct {
	Chain  PayChain
	Store  nineten.WalletStore
	Ledger nineten.Ledger
	Signer *TransferSigner
	// Confirmations before a payout is recorded (0 means
	// DefaultPayoutConfirmations).
	Confirmations uint64
	Clock         nineten.Clock
	Log           *slog.Logger
	// Confirmed, when set, is told of each payout recorded on the ledger,
	// before the payout is marked confirmed: an error leaves it sent, and
	// the next Tick records it again (the ledger keeps it once) and tells
	// again, so a crash in between loses no notice. The node sets it to
	// tell an artist's home node that its artist was paid.
	Confirmed func(ctx context.Context, po *nineten.ChainPayout, extID string) error

	key   string
	units units
}

func (p *Payer) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

func (p *Payer) now() time.Time {
	if p.Clock == nil {
		return time.Now().UTC()
	}
	return p.Clock.Now().UTC()
}

func (p *Payer) start(ctx context.Context) error {
	const op = "usdp.Payer.start"
	if p.key != "" {
		return nil
	}
	id, err := p.Chain.ChainID(ctx)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the chain id from the RPC endpoint", err)
	}
	if id.Cmp(p.Signer.chainID) != 0 {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the RPC endpoint serves chain %s but the payout signer is for chain %s", id, p.Signer.chainID))
	}
	d, err := readDecimals(ctx, p.Chain, p.Signer.token)
	if err != nil {
		return nineten.E(op, err)
	}
	if p.units, err = newUnits(d); err != nil {
		return nineten.E(op, err)
	}
	p.key = ChainKey(id, p.Signer.token)
	return nil
}

// Start decides a payout of an artist's whole earned balance (artist is the
// ledger id "<node>/<artist id>") to the wallet at to, which must be
// registered to owner, the user who owns the artist. Nothing is sent until
// Tick. KindConflict while the artist has a payout under way; KindInvalid
// when there is nothing to pay.
func (p *Payer) Start(ctx context.Context, artist string, owner nineten.ID, to string) (*nineten.ChainPayout, error) {
	const op = "usdp.Payer.Start"
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	a, err := ParseAddress(to)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	w, err := p.Store.WalletByAddress(ctx, addr(a))
	switch {
	case nineten.ErrorKind(err) == nineten.KindNotFound || err == nil && w.UserID != owner:
		return nil, nineten.E(op, nineten.KindPermission, "payouts go only to a wallet the artist's owner has registered; register "+a.Hex()+" first")
	case err != nil:
		return nil, nineten.E(op, err)
	}
	return p.startTo(ctx, op, artist, a)
}

// StartRemote decides a payout of the whole balance of an artist of
// another node (artist "<their node>/<artist id>") to the wallet their home
// node named in its signed acknowledgement of a settlement statement. The
// wallet is registered there, not here, so the caller vouches for it;
// otherwise it is Start.
func (p *Payer) StartRemote(ctx context.Context, artist, to string) (*nineten.ChainPayout, error) {
	const op = "usdp.Payer.StartRemote"
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	a, err := ParseAddress(to)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return p.startTo(ctx, op, artist, a)
}

// startTo records a pending payout of artist's whole balance to a.
func (p *Payer) startTo(ctx context.Context, op, artist string, a common.Address) (*nineten.ChainPayout, error) {
	bal, err := p.Ledger.Balance(ctx, nineten.AccountArtist, artist)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if bal <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the artist has no earnings to pay out")
	}
	now := p.now()
	po := &nineten.ChainPayout{
		Chain: p.key, Artist: artist, To: addr(a), Amount: bal, Units: p.units.fromMicro(bal).String(),
		State: nineten.PayoutPending, From: addr(p.Signer.from), Nonce: -1, CreatedAt: now, UpdatedAt: now,
	}
	if err := p.Store.CreatePayout(ctx, po); err != nil {
		if nineten.ErrorKind(err) == nineten.KindConflict {
			return nil, nineten.E(op, nineten.KindConflict, "this artist has a payout under way; wait until it is confirmed", err)
		}
		return nil, nineten.E(op, err)
	}
	p.log().Info("usdp: payout pending", "payout", po.ID, "artist", artist, "to", po.To, "amount", bal)
	return po, nil
}

// Tick moves every payout under way one step if it can: pending ones are
// signed and sent, sent ones confirmed or failed. An error of one payout
// does not stop the others; the first is returned.
func (p *Payer) Tick(ctx context.Context) error {
	const op = "usdp.Payer.Tick"
	if err := p.start(ctx); err != nil {
		return err
	}
	open, err := p.Store.Payouts(ctx, nineten.PayoutFilter{Chain: p.key, States: []nineten.ChainPayoutState{nineten.PayoutPending, nineten.PayoutSent}})
	if err != nil {
		return nineten.E(op, err)
	}
	var first error
	for i := range open {
		po := &open[i]
		if po.From != addr(p.Signer.from) {
			continue // another payout wallet's
		}
		var err error
		if po.State == nineten.PayoutPending {
			err = p.send(ctx, po)
		} else {
			err = p.confirm(ctx, po)
		}
		if err != nil {
			p.log().Error("usdp: payout step failed; retrying next tick", "payout", po.ID, "state", po.State, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// send signs a pending payout, records it sent, then broadcasts it.
func (p *Payer) send(ctx context.Context, po *nineten.ChainPayout) error {
	const op = "usdp.Payer.send"
	to := common.HexToAddress(po.To)
	value, ok := new(big.Int).SetString(po.Units, 10)
	if !ok {
		return nineten.E(op, "payout "+fmt.Sprint(po.ID)+" has a malformed amount "+po.Units)
	}
	// The nonce: the chain's next for the wallet, unless a payout of ours
	// already took it (signed, recorded, maybe not yet seen by the node).
	next, err := p.Chain.PendingNonceAt(ctx, p.Signer.from)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the payout wallet's nonce", err)
	}
	last, err := p.Store.LastPayoutNonce(ctx, p.key, po.From)
	if err != nil {
		return nineten.E(op, err)
	}
	nonce := max(next, uint64(last+1))
	data := transferData(to, value)
	tok := p.Signer.token
	gas, err := p.Chain.EstimateGas(ctx, ethereum.CallMsg{From: p.Signer.from, To: &tok, Data: data})
	if err != nil {
		// The transfer would revert (the wallet lacks tokens, or the
		// token refuses it: paused, a frozen address): nothing was signed,
		// nothing is owed on chain; the artist keeps the balance.
		return p.fail(ctx, po, nineten.PayoutPending, "the token refuses this transfer ("+err.Error()+"): check the payout wallet's USDP balance and that neither address is frozen, then start the payout again")
	}
	tip, err := p.Chain.SuggestGasTipCap(ctx)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the suggested priority fee", err)
	}
	head, err := p.Chain.HeaderByNumber(ctx, nil)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the head block", err)
	}
	// Room for the base fee to double (it rises at most 12.5 % a block),
	// so that the one transaction of this payout stays minable.
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(cmpBig(head.BaseFee), big.NewInt(2)))
	gas += gas / 5
	tx, err := p.Signer.signTransfer(to, value, nonce, gas, tip, feeCap)
	if err != nil {
		return nineten.E(op, "could not sign the payout", err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nineten.E(op, err)
	}
	po.State, po.Nonce, po.TxHash, po.RawTx, po.UpdatedAt = nineten.PayoutSent, int64(nonce), tx.Hash().Hex(), raw, p.now()
	if err := p.Store.UpdatePayout(ctx, po, nineten.PayoutPending); err != nil {
		// Not recorded, so not broadcast: the payout stays pending.
		return nineten.E(op, "could not record the signed payout; nothing was sent", err)
	}
	p.log().Info("usdp: payout sent", "payout", po.ID, "tx", po.TxHash, "nonce", nonce, "to", po.To, "amount", po.Amount)
	if err := p.Chain.SendTransaction(ctx, tx); err != nil {
		// Recorded: the next tick broadcasts the same transaction again.
		return nineten.E(op, nineten.KindUnavailable, "the payout transaction "+po.TxHash+" was recorded but could not be broadcast; it will be again", err)
	}
	return nil
}

func cmpBig(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}

// confirm checks a sent payout's receipt and, once it is deep enough,
// records the payout on the ledger.
func (p *Payer) confirm(ctx context.Context, po *nineten.ChainPayout) error {
	const op = "usdp.Payer.confirm"
	hash := common.HexToHash(po.TxHash)
	rcpt, err := p.Chain.TransactionReceipt(ctx, hash)
	if errors.Is(err, ethereum.NotFound) {
		return p.rebroadcast(ctx, po)
	}
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the receipt of "+po.TxHash, err)
	}
	head, err := p.Chain.BlockNumber(ctx)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the head block", err)
	}
	n := p.Confirmations
	if n == 0 {
		n = DefaultPayoutConfirmations
	}
	b := rcpt.BlockNumber.Uint64()
	if head+1 < b+n {
		return nil // not deep enough yet
	}
	h, err := headerAt(ctx, p.Chain, b)
	if err != nil {
		return nineten.E(op, err)
	}
	if h.Hash() != rcpt.BlockHash {
		return nil // the receipt is of an abandoned block; the node catches up
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return p.fail(ctx, po, nineten.PayoutSent, "the transfer reverted on chain in block "+rcpt.BlockNumber.String()+" (the wallet lacked tokens, or the token refused it); nothing was paid")
	}
	idx, ok := p.transferLog(rcpt, po)
	if !ok {
		return p.fail(ctx, po, nineten.PayoutSent, "the transaction succeeded but carries no Transfer of the amount to the artist's wallet: check the token contract")
	}
	ext := ExtID(hash, idx)
	tx, err := p.Ledger.Payout(ctx, nineten.AccountArtist, po.Artist, ext, po.Amount)
	if err != nil && !alreadyRecorded(tx, err, ext) {
		return nineten.E(op, "payout "+po.TxHash+" is confirmed on chain but could not be recorded on the ledger; it will be tried again", err)
	}
	if p.Confirmed != nil {
		if err := p.Confirmed(ctx, po, ext); err != nil {
			return nineten.E(op, "payout "+po.TxHash+" is recorded, but telling of it failed; it will be tried again", err)
		}
	}
	po.State, po.ExtID, po.Block, po.UpdatedAt = nineten.PayoutConfirmed, ext, int64(b), p.now()
	if err := p.Store.UpdatePayout(ctx, po, nineten.PayoutSent); err != nil {
		return nineten.E(op, err)
	}
	p.log().Info("usdp: payout confirmed", "payout", po.ID, "ext", ext, "block", b)
	return nil
}

// transferLog finds the Transfer log of po in its receipt.
func (p *Payer) transferLog(rcpt *types.Receipt, po *nineten.ChainPayout) (uint, bool) {
	for _, l := range rcpt.Logs {
		t, err := decodeTransfer(l)
		if err == nil && l.Address == p.Signer.token && t.from == p.Signer.from && addr(t.to) == po.To && t.value.String() == po.Units {
			return l.Index, true
		}
	}
	return 0, false
}

// rebroadcast sends a sent payout's recorded transaction again: after a
// crash between recording and broadcasting, or when a node dropped it.
func (p *Payer) rebroadcast(ctx context.Context, po *nineten.ChainPayout) error {
	const op = "usdp.Payer.rebroadcast"
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(po.RawTx); err != nil {
		return nineten.E(op, "payout's recorded transaction "+po.TxHash+" does not decode", err)
	}
	err := p.Chain.SendTransaction(ctx, tx)
	if err == nil || strings.Contains(err.Error(), "already known") {
		return nil
	}
	// The nonce may have been used by this very transaction, mined since
	// the receipt was asked for, or by another transaction of the wallet.
	used, nerr := p.Chain.NonceAt(ctx, p.Signer.from, nil)
	if nerr != nil || used <= uint64(po.Nonce) {
		return nineten.E(op, nineten.KindUnavailable, "could not broadcast payout transaction "+po.TxHash+"; it will be tried again", err)
	}
	if _, rerr := p.Chain.TransactionReceipt(ctx, common.HexToHash(po.TxHash)); rerr == nil {
		return nil // mined meanwhile; the next tick confirms it
	}
	return p.fail(ctx, po, nineten.PayoutSent, fmt.Sprintf("nonce %d of the payout wallet was used by another transaction, so this payout's transaction can never be mined; nothing was paid by it. Do not send from the payout wallet by hand", po.Nonce))
}

// fail records that a payout will not pay; the ledger was not debited.
func (p *Payer) fail(ctx context.Context, po *nineten.ChainPayout, from nineten.ChainPayoutState, why string) error {
	po.State, po.Error, po.UpdatedAt = nineten.PayoutFailed, why, p.now()
	if err := p.Store.UpdatePayout(ctx, po, from); err != nil {
		return nineten.E("usdp.Payer.fail", err)
	}
	p.log().Warn("usdp: payout failed", "payout", po.ID, "why", why)
	return nil
}
