package usdp_test

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	nineten "nineten.dev"
	"nineten.dev/pay/usdp"
)

const (
	alice = nineten.ID(1)
	bob   = nineten.ID(2)
	later = nineten.ID(3) // registers after paying
)

// receipt reads a mined transaction's receipt.
func (e *env) receipt(tx *types.Transaction) *types.Receipt {
	e.t.Helper()
	r, err := e.client.TransactionReceipt(e.ctx, tx.Hash())
	if err != nil {
		e.t.Fatalf("receipt of %s: %v", tx.Hash(), err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("%s reverted", tx.Hash())
	}
	return r
}

// depositLog is the index of tx's Transfer log to the deposit address.
func (e *env) depositLog(tx *types.Transaction) uint {
	e.t.Helper()
	for _, l := range e.receipt(tx).Logs {
		if len(l.Topics) == 3 && l.Topics[0] == usdp.TransferTopic && common.BytesToAddress(l.Topics[2].Bytes()) == e.deposit {
			return l.Index
		}
	}
	e.t.Fatalf("%s has no transfer to the deposit address", tx.Hash())
	return 0
}

func (e *env) fork(parent common.Hash) {
	e.t.Helper()
	if err := e.sim.Fork(parent); err != nil {
		e.t.Fatal(err)
	}
	clear(e.nonces) // the abandoned blocks' transactions no longer count
}

func TestDepositCreditedAfterExactlyNConfirmations(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	w := e.watcher(5)
	e.poll(w)
	tx := e.pay(e.alice, e.usd(10))
	e.mineTx(tx) // the payment's block: its first confirmation
	for conf := 1; conf < 5; conf++ {
		if r := e.poll(w); r.Credited != 0 || e.balance(alice) != 0 {
			t.Fatalf("credited with %d confirmations of 5: %+v, balance %s", conf, r, e.balance(alice))
		}
		e.commit(1)
	}
	r := e.poll(w)
	if r.Credited != 1 || e.balance(alice) != 10_000_000 {
		t.Fatalf("with 5 confirmations: %+v, balance %s; want one credit of $10", r, e.balance(alice))
	}
	ext := usdp.ExtID(tx.Hash(), e.depositLog(tx))
	d, err := e.store.ChainDepositByExtID(e.ctx, ext)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != nineten.DepositCredited || d.UserID != alice || d.Units != e.usd(10).String() || d.Remainder != "0" || d.Amount != 10_000_000 {
		t.Fatalf("record %+v", d)
	}
	var refs []string
	err = e.ledger.Transactions(e.ctx, "1", func(tx nineten.MoneyTx) error { refs = append(refs, tx.Op+" "+tx.Ref); return nil })
	if err != nil || len(refs) != 1 || refs[0] != "deposit "+ext {
		t.Fatalf("ledger: %v %v, want one deposit %s", refs, err, ext)
	}
	e.commit(3)
	if r := e.poll(w); r.Credited != 0 || e.balance(alice) != 10_000_000 {
		t.Fatalf("a later pass credited again: %+v, balance %s", r, e.balance(alice))
	}
}

func TestReorgRemovingDepositIsNeverCredited(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	w := e.watcher(3)
	base := e.head()
	e.mineTx(e.pay(e.alice, e.usd(10)))
	e.commit(1) // two confirmations of three
	if r := e.poll(w); r.Seen+r.Credited != 0 {
		t.Fatalf("read before 3 confirmations: %+v", r)
	}
	// The payment's blocks are abandoned and the payment dropped.
	e.fork(base.Hash())
	e.sim.Rollback()
	e.commit(6)
	if e.tokenBalance(e.deposit).Sign() != 0 {
		t.Fatal("the payment survived the reorganisation; the test is not testing anything")
	}
	if r := e.poll(w); r.Seen+r.Credited+r.Unclaimed != 0 || e.balance(alice) != 0 {
		t.Fatalf("after the reorganisation: %+v, balance %s; want nothing", r, e.balance(alice))
	}
	if ds := e.deposits(w, ""); len(ds) != 0 {
		t.Fatalf("recorded %+v", ds)
	}
}

func TestReorgMovingDepositCreditsItOnce(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	e.register(bob, e.bob)
	w := e.watcher(3)
	base := e.head()
	tx := e.pay(e.alice, e.usd(10))
	e.mineTx(tx)
	first := e.receipt(tx)
	e.poll(w)
	// Another chain wins: one empty block, then bob's payment and alice's
	// same transaction, one block higher and later in its block.
	e.fork(base.Hash())
	e.sim.Rollback()
	e.commit(1)
	bobs := e.pay(e.bob, e.usd(4))
	if err := e.client.SendTransaction(e.ctx, tx); err != nil {
		t.Fatal(err)
	}
	e.mineTx(bobs, tx)
	moved := e.receipt(tx)
	if moved.BlockHash == first.BlockHash || moved.BlockNumber.Cmp(first.BlockNumber) == 0 {
		t.Fatalf("the payment did not move: block %s then %s", first.BlockNumber, moved.BlockNumber)
	}
	e.commit(2) // mined up to the later of the two: now both have 3 confirmations
	r := e.poll(w)
	if r.Credited != 2 || e.balance(alice) != 10_000_000 || e.balance(bob) != 4_000_000 {
		t.Fatalf("after the move: %+v, alice %s, bob %s", r, e.balance(alice), e.balance(bob))
	}
	d, err := e.store.ChainDepositByExtID(e.ctx, usdp.ExtID(tx.Hash(), e.depositLog(tx)))
	if err != nil || d.BlockHash != moved.BlockHash.Hex() || d.Block != moved.BlockNumber.Int64() {
		t.Fatalf("record %+v, %v; want block %s %s", d, err, moved.BlockNumber, moved.BlockHash)
	}
	e.commit(2)
	e.poll(w)
	if e.balance(alice) != 10_000_000 {
		t.Fatalf("credited again: %s", e.balance(alice))
	}
}

// The logs are read, then the chain reorganises before they are credited:
// the check of the block hash at credit time catches it.
func TestReorgBetweenReadingAndCreditingIsNotCredited(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	fc := &faultyChain{Client: e.client}
	w := e.watcherOn(fc, 2)
	base := e.head()
	e.mineTx(e.pay(e.alice, e.usd(10)))
	e.commit(1)
	fc.afterFilter = func() {
		e.fork(base.Hash())
		e.sim.Rollback()
		e.commit(4)
	}
	r := e.poll(w)
	if r.Seen != 1 || r.Credited != 0 || e.balance(alice) != 0 {
		t.Fatalf("credited a log of an abandoned block: %+v, balance %s", r, e.balance(alice))
	}
	if r := e.poll(w); r.Credited != 0 || e.balance(alice) != 0 {
		t.Fatalf("next pass: %+v, balance %s", r, e.balance(alice))
	}
}

func TestDuplicateDeliveryCreditsOnce(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	fc := &faultyChain{Client: e.client, twice: true}
	w := e.watcherOn(fc, 2)
	tx := e.pay(e.alice, e.usd(10))
	e.mineTx(tx)
	e.commit(1)
	if r := e.poll(w); r.Seen != 2 || r.Credited != 1 || e.balance(alice) != 10_000_000 {
		t.Fatalf("a log delivered twice: %+v, balance %s", r, e.balance(alice))
	}
	// Read again from the start (a cursor lost or moved back).
	if err := e.store.SetChainCursor(e.ctx, nineten.ChainCursor{Chain: w.ChainKey(), Block: 0, Hash: e.headerAt(0).Hash().Hex()}); err != nil {
		t.Fatal(err)
	}
	if r := e.poll(w); r.Seen != 2 || r.Credited != 0 || e.balance(alice) != 10_000_000 {
		t.Fatalf("read again: %+v, balance %s", r, e.balance(alice))
	}
	// The records lost too (a crash between the ledger and the store, a
	// store restored from an old backup): the ledger refuses the second
	// credit and the record comes back.
	ext := usdp.ExtID(tx.Hash(), e.depositLog(tx))
	e.store = e.openDB()
	e.registry.Store = e.store
	e.register(alice, e.alice)
	w = e.watcherOn(fc, 2)
	if r := e.poll(w); r.Seen != 2 {
		t.Fatalf("the new store's watcher read %+v", r)
	}
	if e.balance(alice) != 10_000_000 {
		t.Fatalf("credited twice: %s", e.balance(alice))
	}
	if d, err := e.store.ChainDepositByExtID(e.ctx, ext); err != nil || d.State != nineten.DepositCredited || d.UserID != alice {
		t.Fatalf("record %+v, %v", d, err)
	}
}

func (e *env) headerAt(n int64) *types.Header {
	e.t.Helper()
	h, err := e.client.HeaderByNumber(e.ctx, big.NewInt(n))
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func TestBatchTransferCreditsEachLog(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	w := e.watcher(2)
	tx := e.transact(e.alice, "transferBatch",
		[]common.Address{e.deposit, address(e.bob), e.deposit},
		[]*big.Int{e.usd(3), e.usd(4), e.usd(5)})
	e.mineTx(tx)
	e.commit(1)
	if n := len(e.receipt(tx).Logs); n != 3 {
		t.Fatalf("%d logs in the batch, want 3", n)
	}
	if r := e.poll(w); r.Credited != 2 || e.balance(alice) != 8_000_000 {
		t.Fatalf("batch: %+v, balance %s; want 2 credits, $8", r, e.balance(alice))
	}
	ds := e.deposits(w, nineten.DepositCredited)
	if len(ds) != 2 || ds[0].TxHash != tx.Hash().Hex() || ds[1].TxHash != tx.Hash().Hex() || ds[0].LogIndex == ds[1].LogIndex {
		t.Fatalf("records %+v", ds)
	}
}

// transferFrom moves the owner's tokens: the log's sender, not the
// transaction's, is credited.
func TestTransferFromCreditsTheTokensOwner(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	e.register(bob, e.bob)
	w := e.watcher(2)
	e.mineTx(e.transact(e.alice, "approve", address(e.bob), e.usd(6)))
	e.mineTx(e.transact(e.bob, "transferFrom", address(e.alice), e.deposit, e.usd(6)))
	e.commit(1)
	if r := e.poll(w); r.Credited != 1 || e.balance(alice) != 6_000_000 || e.balance(bob) != 0 {
		t.Fatalf("%+v, alice %s, bob %s", r, e.balance(alice), e.balance(bob))
	}
}

func TestUnknownSenderIsUnclaimedThenCreditedOnRegistration(t *testing.T) {
	e := newEnv(t, 18)
	w := e.watcher(2)
	e.mineTx(e.pay(e.stranger, e.usd(7)))
	e.commit(1)
	if r := e.poll(w); r.Unclaimed != 1 || r.Credited != 0 {
		t.Fatalf("%+v, want one unclaimed", r)
	}
	un := e.deposits(w, nineten.DepositUnclaimed)
	if len(un) != 1 || un[0].From != usdpAddr(address(e.stranger)) || un[0].Amount != 7_000_000 || un[0].UserID != 0 {
		t.Fatalf("unclaimed %+v", un)
	}
	var txs int
	if err := e.ledger.Transactions(e.ctx, "", func(nineten.MoneyTx) error { txs++; return nil }); err != nil || txs != 0 {
		t.Fatalf("the ledger moved money for an unknown sender: %d transactions, %v", txs, err)
	}
	e.commit(1)
	if r := e.poll(w); r.Unclaimed+r.Claimed != 0 || len(e.deposits(w, "")) != 1 {
		t.Fatalf("second pass: %+v", r)
	}
	e.register(later, e.stranger)
	if r := e.poll(w); r.Claimed != 1 || e.balance(later) != 7_000_000 {
		t.Fatalf("after registering: %+v, balance %s", r, e.balance(later))
	}
	if un := e.deposits(w, nineten.DepositUnclaimed); len(un) != 0 {
		t.Fatalf("still unclaimed: %+v", un)
	}
	if r := e.poll(w); r.Claimed != 0 || e.balance(later) != 7_000_000 {
		t.Fatalf("claimed twice: %+v, balance %s", r, e.balance(later))
	}
}

// usdpAddr is an address as the records keep it.
func usdpAddr(a common.Address) string { return strings.ToLower(a.Hex()) }

func TestDustBelowAMicroDollarIsRecorded(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	w := e.watcher(2)
	withDust := new(big.Int).Add(e.usd(2), big.NewInt(123))
	tx := e.pay(e.alice, withDust)
	dustTx := e.pay(e.alice, big.NewInt(999_999_999_999)) // one base unit short of a micro-dollar
	e.mineTx(tx, dustTx)
	e.commit(1)
	if r := e.poll(w); r.Credited != 1 || r.Dust != 1 || e.balance(alice) != 2_000_000 {
		t.Fatalf("%+v, balance %s", r, e.balance(alice))
	}
	d, err := e.store.ChainDepositByExtID(e.ctx, usdp.ExtID(tx.Hash(), e.depositLog(tx)))
	if err != nil || d.Amount != 2_000_000 || d.Remainder != "123" || d.Units != withDust.String() {
		t.Fatalf("credited record %+v, %v", d, err)
	}
	d, err = e.store.ChainDepositByExtID(e.ctx, usdp.ExtID(dustTx.Hash(), e.depositLog(dustTx)))
	if err != nil || d.State != nineten.DepositDust || d.Amount != 0 || d.Remainder != "999999999999" {
		t.Fatalf("dust record %+v, %v", d, err)
	}
}

func TestSixDecimalTokenConvertsExactly(t *testing.T) {
	e := newEnv(t, 6)
	e.register(alice, e.alice)
	w := e.watcher(2)
	e.mineTx(e.pay(e.alice, big.NewInt(10_500_001))) // $10.500001
	e.commit(1)
	if r := e.poll(w); r.Credited != 1 || e.balance(alice) != 10_500_001 {
		t.Fatalf("%+v, balance %s", r, e.balance(alice))
	}
}

func TestTokenWithTooManyDecimalsIsRefused(t *testing.T) {
	e := newEnv(t, 40)
	_, err := e.watcher(2).Poll(e.ctx)
	if nineten.ErrorKind(err) != nineten.KindUnsupported {
		t.Fatalf("a 40-decimal token: %v, want unsupported", err)
	}
}

func TestReorgDeeperThanConfirmationsStopsTheWatcher(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	w := e.watcher(2)
	base := e.head()
	e.mineTx(e.pay(e.alice, e.usd(10)))
	e.commit(2)
	if r := e.poll(w); r.Credited != 1 {
		t.Fatalf("%+v", r)
	}
	e.fork(base.Hash())
	e.sim.Rollback()
	e.commit(6)
	_, err := w.Poll(e.ctx)
	if nineten.ErrorKind(err) != nineten.KindConflict {
		t.Fatalf("after a reorganisation below the cursor: %v, want a conflict that stops the watcher", err)
	}
	t.Log(err)
}

// cancelOnSecondPass ends Run's context when the second pass starts.
type cancelOnSecondPass struct {
	usdp.Chain
	cancel context.CancelFunc
	calls  int
}

func (c *cancelOnSecondPass) BlockNumber(ctx context.Context) (uint64, error) {
	c.calls++
	if c.calls == 2 {
		c.cancel()
		return 0, ctx.Err()
	}
	return c.Chain.BlockNumber(ctx)
}

func TestRunPollsUntilCancelled(t *testing.T) {
	e := newEnv(t, 18)
	e.register(alice, e.alice)
	e.mineTx(e.pay(e.alice, e.usd(10)))
	e.commit(1)
	ctx, cancel := context.WithCancel(e.ctx)
	c := &cancelOnSecondPass{Chain: e.client, cancel: cancel}
	w := e.watcherOn(c, 2)
	w.Interval = time.Millisecond
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if c.calls != 2 || e.balance(alice) != 10_000_000 {
		t.Fatalf("%d passes, balance %s", c.calls, e.balance(alice))
	}
}
