package usdp_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	nineten "nineten.dev"
	"nineten.dev/pay/usdp"
)

const (
	artist      = node + "/7" // the artist's ledger account
	artistOwner = nineten.ID(9)
	earned      = nineten.Micro(9_000_000) // one listener's month
)

// earn gives the artist a month of one listener's $9 on the ledger, the
// way the node does: deposit, subscribe, open the month, settle it.
func (e *env) earn() {
	e.t.Helper()
	ctx := e.ctx
	if _, err := e.ledger.Deposit(ctx, "100", "sim:earn", 10_000_000); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ledger.Subscribe(ctx, "100", "2026-10"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ledger.OpenMonth(ctx, "2026-10"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.ledger.Settle(ctx, "2026-10", []nineten.ListeningTotal{{Listener: "100", Artist: artist, Listens: 3, SecondsHeard: 600}}); err != nil {
		e.t.Fatal(err)
	}
	if b := e.artistBalance(); b != earned {
		e.t.Fatalf("the artist earned %s, want %s", b, earned)
	}
}

func (e *env) artistBalance() nineten.Micro {
	e.t.Helper()
	m, err := e.ledger.Balance(e.ctx, nineten.AccountArtist, artist)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) payer(c usdp.PayChain, confirmations uint64) *usdp.Payer {
	return &usdp.Payer{
		Chain: c, Store: e.store, Ledger: e.ledger, Confirmations: confirmations, Clock: e.clock, Log: e.log,
		Signer: usdp.NewTransferSigner(e.payout, e.token, e.chainID),
	}
}

// mineHash mines a payout's transaction, given its recorded hash.
func (e *env) mineHash(h string) {
	e.t.Helper()
	e.mine(common.HexToHash(h))
}

func (e *env) tick(p *usdp.Payer) {
	e.t.Helper()
	if err := p.Tick(e.ctx); err != nil {
		e.t.Fatalf("tick: %v", err)
	}
}

func (e *env) payoutState(id nineten.ID) *nineten.ChainPayout {
	e.t.Helper()
	po, err := e.store.PayoutByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return po
}

// paid is what the artist's wallet holds, in micro-dollars' worth of
// base units.
func (e *env) paid() *big.Int { return e.tokenBalance(address(e.artistWallet)) }

func TestPayoutPendingSentConfirmed(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(artistOwner, e.artistWallet)
	p := e.payer(e.client, 3)
	po, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex())
	if err != nil {
		t.Fatal(err)
	}
	if po.State != nineten.PayoutPending || po.Amount != earned || po.Units != e.usd(9).String() || po.Nonce != -1 || po.TxHash != "" {
		t.Fatalf("started %+v", po)
	}
	// One balance, one payout under way.
	if _, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex()); nineten.ErrorKind(err) != nineten.KindConflict {
		t.Fatalf("a second payout while one is under way: %v, want conflict", err)
	}
	e.tick(p)
	po = e.payoutState(po.ID)
	if po.State != nineten.PayoutSent || po.TxHash == "" || po.Nonce != 0 || len(po.RawTx) == 0 {
		t.Fatalf("after a tick %+v", po)
	}
	e.mineHash(po.TxHash) // mined: one confirmation of three
	e.tick(p)
	if po = e.payoutState(po.ID); po.State != nineten.PayoutSent || e.artistBalance() != earned {
		t.Fatalf("confirmed too early: %+v, ledger %s", po, e.artistBalance())
	}
	if e.paid().Cmp(e.usd(9)) != 0 {
		t.Fatalf("the artist's wallet holds %s, want %s", e.paid(), e.usd(9))
	}
	e.commit(1)
	e.tick(p)
	if po = e.payoutState(po.ID); po.State != nineten.PayoutSent {
		t.Fatalf("confirmed with 2 of 3 confirmations: %+v", po)
	}
	e.commit(1)
	e.tick(p)
	po = e.payoutState(po.ID)
	if po.State != nineten.PayoutConfirmed || e.artistBalance() != 0 {
		t.Fatalf("with 3 confirmations: %+v, ledger %s", po, e.artistBalance())
	}
	wantExt := usdp.ExtID(common.HexToHash(po.TxHash), 0)
	if po.ExtID != wantExt {
		t.Fatalf("ext id %s, want %s", po.ExtID, wantExt)
	}
	var refs []string
	_ = e.ledger.Transactions(e.ctx, "", func(tx nineten.MoneyTx) error {
		if tx.Op == "payout" {
			refs = append(refs, fmt.Sprint(tx.Ref, " ", tx.Inputs[0].Account, " ", int64(tx.Inputs[0].Amount)))
		}
		return nil
	})
	if len(refs) != 1 || refs[0] != wantExt+" artist:"+artist+" 9000000" {
		t.Fatalf("ledger payouts %v", refs)
	}
	// Nothing left to pay; further ticks change nothing.
	if _, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex()); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Fatalf("paying an empty balance: %v", err)
	}
	e.commit(3)
	e.tick(p)
	if e.paid().Cmp(e.usd(9)) != 0 || e.artistBalance() != 0 {
		t.Fatalf("after more ticks: wallet %s, ledger %s", e.paid(), e.artistBalance())
	}
}

// The process dies after recording the payout pending, before signing:
// the next process signs and sends it, once.
func TestPayoutCrashBeforeSendingPaysOnce(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(artistOwner, e.artistWallet)
	po, err := e.payer(e.client, 2).Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex())
	if err != nil {
		t.Fatal(err)
	}
	// Restart: a new Payer over the same records.
	p := e.payer(e.client, 2)
	e.tick(p)
	e.tick(p) // a second tick before mining must not send another
	e.mineHash(e.payoutState(po.ID).TxHash)
	e.commit(1)
	e.tick(p)
	if po = e.payoutState(po.ID); po.State != nineten.PayoutConfirmed {
		t.Fatalf("%+v", po)
	}
	if e.paid().Cmp(e.usd(9)) != 0 || e.artistBalance() != 0 {
		t.Fatalf("wallet %s (want %s), ledger %s", e.paid(), e.usd(9), e.artistBalance())
	}
}

// The transaction reaches the chain but the process never hears back
// (connection lost, then a crash): the restarted payer must broadcast the
// recorded transaction again, not sign a new one with a fresh nonce.
func TestPayoutCrashAfterBroadcastPaysOnce(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(artistOwner, e.artistWallet)
	fc := &faultyChain{Client: e.client, sendThenFail: true}
	first := e.payer(fc, 2)
	po, err := first.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex())
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Tick(e.ctx); err == nil {
		t.Fatal("the broadcast error was not reported")
	}
	if po = e.payoutState(po.ID); po.State != nineten.PayoutSent {
		t.Fatalf("after the lost answer: %+v", po)
	}
	// Restart, before and after the transaction is mined.
	p := e.payer(e.client, 2)
	e.tick(p)
	e.mineHash(po.TxHash)
	e.tick(p)
	e.commit(1)
	e.tick(p)
	if po = e.payoutState(po.ID); po.State != nineten.PayoutConfirmed {
		t.Fatalf("%+v", po)
	}
	if e.paid().Cmp(e.usd(9)) != 0 || e.artistBalance() != 0 {
		t.Fatalf("wallet %s (want %s), ledger %s", e.paid(), e.usd(9), e.artistBalance())
	}
	if n, _ := e.client.NonceAt(e.ctx, address(e.payout), nil); n != 1 {
		t.Fatalf("the payout wallet sent %d transactions, want 1", n)
	}
}

// A transaction recorded as sent never reached the chain (the process died
// between the record and the broadcast): the next tick broadcasts it.
func TestPayoutRecordedButNeverBroadcastIsSentAgain(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(artistOwner, e.artistWallet)
	p := e.payer(e.client, 2)
	po, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex())
	if err != nil {
		t.Fatal(err)
	}
	e.tick(p)
	// The pool loses it, as a broadcast that never happened.
	e.sim.Rollback()
	e.commit(1)
	if e.paid().Sign() != 0 {
		t.Fatal("the transaction survived the rollback; the test tests nothing")
	}
	p = e.payer(e.client, 2)
	e.tick(p) // no receipt: broadcast the recorded bytes again
	e.mineHash(e.payoutState(po.ID).TxHash)
	e.commit(1)
	e.tick(p)
	if po = e.payoutState(po.ID); po.State != nineten.PayoutConfirmed || e.paid().Cmp(e.usd(9)) != 0 || e.artistBalance() != 0 {
		t.Fatalf("%+v, wallet %s, ledger %s", po, e.paid(), e.artistBalance())
	}
}

func TestPayoutRefusedByTheTokenFailsWithoutDebiting(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(artistOwner, e.artistWallet)
	// Empty the payout wallet.
	e.mineTx(e.transact(e.payout, "transfer", address(e.bob), e.usd(1000)))
	p := e.payer(e.client, 2)
	po, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex())
	if err != nil {
		t.Fatal(err)
	}
	e.tick(p)
	po = e.payoutState(po.ID)
	if po.State != nineten.PayoutFailed || !strings.Contains(po.Error, "balance") || po.TxHash != "" {
		t.Fatalf("%+v", po)
	}
	if e.artistBalance() != earned {
		t.Fatalf("ledger %s after a failed payout", e.artistBalance())
	}
	// Refilled, it can be started again.
	e.mineTx(e.transact(e.bob, "transfer", address(e.payout), e.usd(100)))
	if _, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex()); err != nil {
		t.Fatal(err)
	}
}

func TestPayoutOnlyToTheOwnersRegisteredWallet(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(alice, e.alice)
	p := e.payer(e.client, 2)
	for _, to := range []string{address(e.artistWallet).Hex(), address(e.alice).Hex()} {
		if _, err := p.Start(e.ctx, artist, artistOwner, to); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("payout to %s: %v, want permission denied", to, err)
		}
	}
}

func TestPayoutKeyIsNeverShown(t *testing.T) {
	e := newEnv(t, 18)
	e.earn()
	e.register(artistOwner, e.artistWallet)
	p := e.payer(e.client, 1)
	if _, err := p.Start(e.ctx, artist, artistOwner, address(e.artistWallet).Hex()); err != nil {
		t.Fatal(err)
	}
	e.tick(p)
	e.mineHash(e.payoutState(1).TxHash)
	e.tick(p)
	e.log.Info("payer", "signer", p.Signer, "payer", p)
	secret := fmt.Sprintf("%x", crypto.FromECDSA(e.payout))
	shown := e.logs.String() + fmt.Sprintf("%v %+v %#v %s", p.Signer, p.Signer, p.Signer, p.Signer) + fmt.Sprintf("%+v %#v", p, p)
	if strings.Contains(shown, secret) || strings.Contains(strings.ToLower(shown), secret[:16]) {
		t.Fatal("the payout key shows in logs or formatting")
	}
	if !strings.Contains(shown, address(e.payout).Hex()) {
		t.Fatal("the signer does not show its address")
	}
	if _, err := usdp.ParseTransferSigner("0xnot-a-key-"+secret[:20], e.token, e.chainID); err == nil || strings.Contains(err.Error(), secret[:20]) {
		t.Fatalf("a bad key: %v", err)
	}
}

// An artist of another node is paid to the wallet their home node named
// (registered there, not here); the payout is told of once recorded, and a
// failure to tell leaves it sent, to be recorded once and told again.
func TestRemoteArtistPayoutTellsItsNode(t *testing.T) {
	e := newEnv(t, 18)
	const remote = "other.test/7"
	ctx := e.ctx
	if _, err := e.ledger.Deposit(ctx, "100", "sim:earn", 10_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ledger.Subscribe(ctx, "100", "2026-10"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ledger.OpenMonth(ctx, "2026-10"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ledger.Settle(ctx, "2026-10", []nineten.ListeningTotal{{Listener: "100", Artist: remote, Listens: 3, SecondsHeard: 600}}); err != nil {
		t.Fatal(err)
	}
	p := e.payer(e.client, 1)
	var told []string
	fail := true
	p.Confirmed = func(_ context.Context, po *nineten.ChainPayout, ext string) error {
		told = append(told, po.Artist+" "+ext)
		if fail {
			return errors.New("the home node's statement could not be queued")
		}
		return nil
	}
	if _, err := p.StartRemote(ctx, remote, "0x1234"); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Fatalf("a malformed wallet: %v, want invalid", err)
	}
	po, err := p.StartRemote(ctx, remote, address(e.artistWallet).Hex())
	if err != nil {
		t.Fatal(err)
	}
	e.tick(p)
	po = e.payoutState(po.ID)
	e.mineHash(po.TxHash)
	if err := p.Tick(ctx); err == nil {
		t.Fatal("a failure to tell was not reported")
	}
	if po = e.payoutState(po.ID); po.State != nineten.PayoutSent {
		t.Fatalf("after a failure to tell: %+v", po)
	}
	fail = false
	e.tick(p)
	po = e.payoutState(po.ID)
	ext := usdp.ExtID(common.HexToHash(po.TxHash), 0)
	if po.State != nineten.PayoutConfirmed || po.ExtID != ext || e.paid().Cmp(e.usd(9)) != 0 {
		t.Fatalf("confirmed %+v, wallet %s", po, e.paid())
	}
	if len(told) != 2 || told[0] != remote+" "+ext || told[1] != told[0] {
		t.Fatalf("told %v", told)
	}
	if b, err := e.ledger.Balance(ctx, nineten.AccountArtist, remote); err != nil || b != 0 {
		t.Fatalf("the remote artist's balance here is %s (%v) after the payout", b, err)
	}
	var payouts int
	_ = e.ledger.Transactions(ctx, "", func(tx nineten.MoneyTx) error {
		if tx.Op == "payout" {
			payouts++
		}
		return nil
	})
	if payouts != 1 {
		t.Fatalf("%d payouts on the ledger, want 1", payouts)
	}
}
