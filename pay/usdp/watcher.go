package usdp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	nineten "nineten.dev"
)

// DefaultConfirmations is how many confirmations a deposit needs before it
// is credited: 20 blocks, about four minutes, what exchanges commonly ask of
// ERC-20 deposits. Deeper reorganisations need a failure of Ethereum's
// finality; a node that wants that guarantee sets about 64 (two epochs,
// when blocks are finalized).
const DefaultConfirmations = 20

// Defaults of the watcher's pace.
const (
	DefaultInterval = 12 * time.Second // one Ethereum slot
	DefaultMaxRange = 2000             // blocks per eth_getLogs; providers cap the range
)

// Watcher credits listeners for token transfers to the node's deposit
// addresses. Poll does one pass; Run polls until its context ends. One
// Watcher per token and chain, and one Poll at a time.
type Watcher struct {
	Chain  Chain
	Store  nineten.WalletStore
	Ledger nineten.Ledger
	Token  common.Address
	// Deposit holds the node's deposit addresses: transfers to them are
	// payments to the node.
	Deposit []common.Address
	// Confirmations a transfer needs before it is credited (0 means
	// DefaultConfirmations).
	Confirmations uint64
	// StartBlock is where the first pass starts, before any cursor is
	// stored: the block the deposit addresses were created in, or earlier.
	StartBlock uint64
	MaxRange   uint64        // 0 means DefaultMaxRange
	Interval   time.Duration // Run's pause between passes; 0 means DefaultInterval
	Clock      nineten.Clock
	Log        *slog.Logger

	key   string // the chain key, once started
	units units
}

// PollResult says what one pass did.
type PollResult struct {
	Head      uint64 // the chain's head block
	Through   uint64 // every block up to here is done (the cursor)
	Credited  int    // transfers credited to their senders' listeners
	Unclaimed int    // transfers from unregistered senders, recorded
	Claimed   int    // earlier unclaimed transfers credited now
	Dust      int    // transfers below one micro-dollar, recorded
	Seen      int    // logs read, duplicates included
}

// errReorged stops a pass when the chain changed under it; nothing after
// the change was credited and the cursor stays, so the next pass reads the
// new chain.
var errReorged = errors.New("the chain reorganised during the pass")

func (w *Watcher) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}

func (w *Watcher) now() time.Time {
	if w.Clock == nil {
		return time.Now().UTC()
	}
	return w.Clock.Now().UTC()
}

func (w *Watcher) confirmations() uint64 {
	if w.Confirmations == 0 {
		return DefaultConfirmations
	}
	return w.Confirmations
}

// Start reads the chain id and the token's decimals once; Poll calls it.
// A token with more than MaxDecimals decimals is refused.
func (w *Watcher) Start(ctx context.Context) error {
	const op = "usdp.Watcher.Start"
	if w.key != "" {
		return nil
	}
	if len(w.Deposit) == 0 {
		return nineten.E(op, nineten.KindInvalid, "no deposit address configured: the watcher would credit nothing")
	}
	id, err := w.Chain.ChainID(ctx)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not read the chain id from the RPC endpoint", err)
	}
	d, err := readDecimals(ctx, w.Chain, w.Token)
	if err != nil {
		return nineten.E(op, err)
	}
	if w.units, err = newUnits(d); err != nil {
		return nineten.E(op, err)
	}
	w.key = ChainKey(id, w.Token)
	w.log().Info("usdp: watching deposits", "chain", w.key, "decimals", d, "confirmations", w.confirmations(), "addresses", len(w.Deposit))
	return nil
}

// ChainKey is the key of the watched token, once started.
func (w *Watcher) ChainKey() string { return w.key }

// Run polls until ctx ends. Errors of a pass are logged and the pass is
// tried again later: an unreachable endpoint delays credits, it loses none.
func (w *Watcher) Run(ctx context.Context) error {
	every := w.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if r, err := w.Poll(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log().Error("usdp: deposit pass failed; retrying", "err", err)
		} else if r.Credited+r.Unclaimed+r.Claimed+r.Dust > 0 {
			w.log().Info("usdp: deposits", "through", r.Through, "credited", r.Credited, "claimed", r.Claimed, "unclaimed", r.Unclaimed, "dust", r.Dust)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll reads the Transfer logs to the deposit addresses in the blocks that
// have enough confirmations and were not read yet, records and credits
// each, and moves the cursor past them. It then credits earlier unclaimed
// transfers whose senders have registered since.
func (w *Watcher) Poll(ctx context.Context) (PollResult, error) {
	const op = "usdp.Watcher.Poll"
	var r PollResult
	if err := w.Start(ctx); err != nil {
		return r, err
	}
	head, err := w.Chain.BlockNumber(ctx)
	if err != nil {
		return r, nineten.E(op, nineten.KindUnavailable, "could not read the head block from the RPC endpoint", err)
	}
	r.Head = head
	from := w.StartBlock
	cur, err := w.Store.ChainCursor(ctx, w.key)
	switch {
	case err == nil:
		// The cursor's block must still be the one read: if not, the chain
		// reorganised deeper than the confirmations, and deposits credited
		// from the abandoned blocks may be gone. That needs a person.
		h, err := headerAt(ctx, w.Chain, uint64(cur.Block))
		if err != nil {
			return r, nineten.E(op, err)
		}
		if h.Hash().Hex() != cur.Hash {
			return r, nineten.E(op, nineten.KindConflict, fmt.Sprintf(
				"block %d is no longer %s: the chain reorganised deeper than the %d confirmations; deposits credited from block %d on may have vanished. Compare them (the deposits list) with the chain, then raise the confirmations and move the cursor back",
				cur.Block, cur.Hash, w.confirmations(), cur.Block-int64(w.confirmations())+1))
		}
		from = uint64(cur.Block) + 1
		r.Through = uint64(cur.Block)
	case nineten.ErrorKind(err) == nineten.KindNotFound:
		if from > 0 {
			r.Through = from - 1
		}
	default:
		return r, nineten.E(op, err)
	}

	// Block b has head-b+1 confirmations: blocks up to safe have enough.
	n := w.confirmations()
	if head+1 < n {
		return r, nil
	}
	safe := head + 1 - n
	span := w.MaxRange
	if span == 0 {
		span = DefaultMaxRange
	}
	targets := make([]common.Hash, len(w.Deposit))
	deposit := make(map[common.Address]bool, len(w.Deposit))
	for i, a := range w.Deposit {
		targets[i] = common.BytesToHash(a.Bytes())
		deposit[a] = true
	}
	for from <= safe {
		to := min(safe, from+span-1)
		logs, err := w.Chain.FilterLogs(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(from),
			ToBlock:   new(big.Int).SetUint64(to),
			Addresses: []common.Address{w.Token},
			Topics:    [][]common.Hash{{TransferTopic}, nil, targets},
		})
		if err != nil {
			return r, nineten.E(op, nineten.KindUnavailable, fmt.Sprintf("could not read the token's logs of blocks %d–%d", from, to), err)
		}
		slices.SortStableFunc(logs, func(a, b types.Log) int {
			return cmp.Or(cmp.Compare(a.BlockNumber, b.BlockNumber), cmp.Compare(a.Index, b.Index))
		})
		for i := range logs {
			r.Seen++
			if err := w.take(ctx, &logs[i], deposit, &r); err != nil {
				if errors.Is(err, errReorged) {
					w.log().Warn("usdp: the chain reorganised during a pass; reading again next pass", "block", logs[i].BlockNumber)
					return r, nil
				}
				return r, nineten.E(op, err)
			}
		}
		end, err := headerAt(ctx, w.Chain, to)
		if err != nil {
			return r, nineten.E(op, err)
		}
		err = w.Store.SetChainCursor(ctx, nineten.ChainCursor{Chain: w.key, Block: int64(to), Hash: end.Hash().Hex(), UpdatedAt: w.now()})
		if err != nil {
			return r, nineten.E(op, "could not save how far the chain was read; the blocks will be read again", err)
		}
		r.Through = to
		from = to + 1
	}
	if err := w.claimAll(ctx, &r); err != nil {
		return r, nineten.E(op, err)
	}
	return r, nil
}

// take records one Transfer log and credits it when its sender is known.
func (w *Watcher) take(ctx context.Context, l *types.Log, deposit map[common.Address]bool, r *PollResult) error {
	const op = "usdp.Watcher.take"
	if l.Removed {
		return nil
	}
	t, err := decodeTransfer(l)
	if err != nil || l.Address != w.Token || !deposit[t.to] {
		// The node asked for these logs only; anything else is the
		// endpoint's mistake and not money to the node.
		w.log().Warn("usdp: ignoring a log that is not a transfer to a deposit address", "tx", l.TxHash, "index", l.Index)
		return nil
	}
	ext := ExtID(l.TxHash, l.Index)
	if prev, err := w.Store.ChainDepositByExtID(ctx, ext); err == nil {
		if prev.BlockHash != l.BlockHash.Hex() {
			// Same transaction and log index in another block: a
			// reorganisation below the confirmations moved it after it was
			// recorded. It was credited once; it stays so.
			w.log().Warn("usdp: a recorded transfer reappeared in another block", "ext", ext, "was", prev.BlockHash, "now", l.BlockHash)
		}
		return nil
	} else if nineten.ErrorKind(err) != nineten.KindNotFound {
		return nineten.E(op, err)
	}
	// Check at credit time that the log's block is still canonical: the
	// logs were read a moment ago and the chain may have moved since.
	h, err := headerAt(ctx, w.Chain, l.BlockNumber)
	if err != nil {
		return nineten.E(op, err)
	}
	if h.Hash() != l.BlockHash {
		return errReorged
	}
	micro, rem, err := w.units.toMicro(t.value)
	if err != nil {
		// More than the ledger can hold (over $9 trillion): not a payment
		// this node can credit; keep it for a person rather than stop here.
		w.log().Error("usdp: transfer too large to credit, kept as unclaimed", "tx", l.TxHash, "index", l.Index, "units", t.value, "err", err)
		micro, rem = 0, t.value
	}
	d := nineten.ChainDeposit{
		ExtID: ext, Chain: w.key, TxHash: l.TxHash.Hex(), LogIndex: int64(l.Index),
		Block: int64(l.BlockNumber), BlockHash: l.BlockHash.Hex(), From: addr(t.from), To: addr(t.to),
		Units: t.value.String(), Amount: micro, Remainder: rem.String(), SeenAt: w.now(),
	}
	if micro == 0 && err == nil {
		d.State = nineten.DepositDust
		r.Dust++
		return w.save(ctx, d)
	}
	wal, err := w.Store.WalletByAddress(ctx, d.From)
	switch {
	case micro == 0 || nineten.ErrorKind(err) == nineten.KindNotFound:
		d.State = nineten.DepositUnclaimed
		r.Unclaimed++
		w.log().Info("usdp: transfer from an unregistered wallet kept as unclaimed", "ext", ext, "from", d.From, "amount", micro)
		return w.save(ctx, d)
	case err != nil:
		return nineten.E(op, err)
	}
	if err := w.credit(ctx, &d, wal.UserID); err != nil {
		return err
	}
	r.Credited++
	return nil
}

// credit credits d to user on the ledger, then records it. A crash between
// the two is harmless: the next pass finds no record, tries again and the
// ledger answers that it was credited already.
func (w *Watcher) credit(ctx context.Context, d *nineten.ChainDeposit, user nineten.ID) error {
	const op = "usdp.Watcher.credit"
	tx, err := w.Ledger.Deposit(ctx, listenerID(user), d.ExtID, d.Amount)
	switch {
	case err == nil:
	case alreadyRecorded(tx, err, d.ExtID):
		// Credited before: keep the ledger's word on who got it.
		if id, perr := strconv.ParseInt(tx.Listener, 10, 64); perr == nil {
			user = nineten.ID(id)
		}
		w.log().Info("usdp: transfer was credited before", "ext", d.ExtID, "seq", tx.Seq)
	default:
		return nineten.E(op, "could not credit "+d.ExtID+" on the ledger; it will be tried again", err)
	}
	d.State = nineten.DepositCredited
	d.UserID = user
	d.CreditedAt = w.now()
	return w.save(ctx, *d)
}

func (w *Watcher) save(ctx context.Context, d nineten.ChainDeposit) error {
	if err := w.Store.SaveChainDeposit(ctx, d); err != nil {
		return nineten.E("usdp.Watcher.save", "could not record the transfer "+d.ExtID+"; it will be read again", err)
	}
	return nil
}

// claimPage is how many unclaimed deposits one store call lists.
const claimPage = 200

// claimAll credits unclaimed transfers whose sender registered a wallet
// since: the registration proves the sender holds the key the money came
// from.
func (w *Watcher) claimAll(ctx context.Context, r *PollResult) error {
	const op = "usdp.Watcher.claimAll"
	var pending []nineten.ChainDeposit
	for off := 0; ; off += claimPage {
		ds, err := w.Store.ChainDeposits(ctx, w.key, nineten.DepositUnclaimed, nineten.Page{Limit: claimPage, Offset: off})
		if err != nil {
			return nineten.E(op, err)
		}
		pending = append(pending, ds...)
		if len(ds) < claimPage {
			break
		}
	}
	owners := map[string]nineten.ID{}
	for i := range pending {
		d := &pending[i]
		if d.Amount <= 0 {
			continue // too large to credit: a person settles it
		}
		user, seen := owners[d.From]
		if !seen {
			wal, err := w.Store.WalletByAddress(ctx, d.From)
			switch {
			case err == nil:
				user = wal.UserID
			case nineten.ErrorKind(err) != nineten.KindNotFound:
				return nineten.E(op, err)
			}
			owners[d.From] = user
		}
		if user == 0 {
			continue
		}
		if err := w.credit(ctx, d, user); err != nil {
			return err
		}
		r.Claimed++
		w.log().Info("usdp: unclaimed transfer credited to its sender", "ext", d.ExtID, "user", user)
	}
	return nil
}

// Claim credits now the unclaimed transfers whose senders have registered
// their wallets since, for a caller that has just registered one and does
// not want to wait for the next pass.
func (w *Watcher) Claim(ctx context.Context) (int, error) {
	var r PollResult
	if err := w.Start(ctx); err != nil {
		return 0, err
	}
	err := w.claimAll(ctx, &r)
	return r.Claimed, err
}
