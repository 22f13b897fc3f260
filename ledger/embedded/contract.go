package embedded

import (
	"context"
	"errors"
	"slices"
	"strings"

	"nineten.dev"
	"nineten.dev/chaincode"
)

// Contract is the payout contract of one node run on the embedded ledger:
// the nineten.Ledger port. Every call that changes the contract's state is
// one signed log entry.
type Contract struct {
	Ledger *Ledger
	Node   string // the node's id on the ledger: its host name
}

var _ nineten.Ledger = (*Contract)(nil)

var cc chaincode.Contract

// commitRetries bounds how often an invocation is run again when another
// process appended to the log first (several serve processes over one
// database): the contract then runs again on the newer state.
const commitRetries = 8

// invoke runs fn through the ledger, again when another writer won the
// race for the next entry. Errors of the contract keep their meaning as
// node error kinds.
func (c *Contract) invoke(ctx context.Context, op string, args any, fn func(chaincode.State) error) error {
	for attempt := 0; ; attempt++ {
		var contractErr error
		_, err := c.Ledger.Invoke(ctx, op, args, func(st chaincode.State) error {
			contractErr = fn(st)
			return contractErr
		})
		if err == nil {
			return nil
		}
		if contractErr != nil {
			return contractError(op, contractErr)
		}
		if nineten.ErrorKind(err) != nineten.KindConflict || attempt == commitRetries {
			return err
		}
	}
}

func (c *Contract) query(ctx context.Context, op string, fn func(chaincode.State) error) error {
	var contractErr error
	err := c.Ledger.Query(ctx, func(st chaincode.State) error {
		contractErr = fn(st)
		return contractErr
	})
	if contractErr != nil {
		return contractError(op, contractErr)
	}
	return err
}

// contractError turns an error of the contract into a node error of the
// matching kind, keeping the contract's message, which names amounts and
// accounts.
func contractError(op string, err error) error {
	var ce *chaincode.Error
	if !errors.As(err, &ce) {
		return nineten.E(op, err)
	}
	kind := nineten.KindOther
	switch ce.Kind {
	case chaincode.KindInvalid, chaincode.KindOverflow:
		kind = nineten.KindInvalid
	case chaincode.KindNotFound:
		kind = nineten.KindNotFound
	case chaincode.KindConflict, chaincode.KindInsufficient:
		kind = nineten.KindConflict
	}
	return nineten.E(op, kind, ce.Message, err)
}

func (c *Contract) Deposit(ctx context.Context, listener, extID string, amount nineten.Micro) (nineten.MoneyTx, error) {
	var tx chaincode.Tx
	err := c.invoke(ctx, "deposit", []any{c.Node, listener, extID, amount}, func(st chaincode.State) (err error) {
		tx, err = cc.Deposit(st, c.Node, listener, extID, chaincode.Micro(amount))
		return err
	})
	return moneyTx(tx), err
}

func (c *Contract) Payout(ctx context.Context, kind nineten.AccountKind, id, extID string, amount nineten.Micro) (nineten.MoneyTx, error) {
	account, err := c.account(kind, id)
	if err != nil {
		return nineten.MoneyTx{}, err
	}
	var tx chaincode.Tx
	err = c.invoke(ctx, "payout", []any{c.Node, account, extID, amount}, func(st chaincode.State) (err error) {
		tx, err = cc.Payout(st, c.Node, account, extID, chaincode.Micro(amount))
		return err
	})
	return moneyTx(tx), err
}

func (c *Contract) Subscribe(ctx context.Context, listener string, period nineten.Period) (nineten.Subscription, error) {
	var sub chaincode.Subscription
	err := c.invoke(ctx, "subscribe", []any{c.Node, listener, period}, func(st chaincode.State) (err error) {
		sub, err = cc.Subscribe(st, c.Node, listener, string(period))
		return err
	})
	return subscription(sub), err
}

func (c *Contract) Cancel(ctx context.Context, listener string) (nineten.Subscription, error) {
	var sub chaincode.Subscription
	err := c.invoke(ctx, "cancel", []any{c.Node, listener}, func(st chaincode.State) (err error) {
		sub, err = cc.Cancel(st, c.Node, listener)
		return err
	})
	return subscription(sub), err
}

func (c *Contract) SubscriptionOf(ctx context.Context, listener string) (nineten.Subscription, error) {
	const op = "embedded.SubscriptionOf"
	var (
		sub   chaincode.Subscription
		found bool
	)
	err := c.query(ctx, op, func(st chaincode.State) (err error) {
		sub, found, err = cc.SubscriptionOf(st, c.Node, listener)
		return err
	})
	if err == nil && !found {
		err = nineten.E(op, nineten.KindNotFound, "no subscription yet")
	}
	return subscription(sub), err
}

func (c *Contract) RenewAll(ctx context.Context, period nineten.Period) (nineten.Renewals, error) {
	var r chaincode.RenewSummary
	err := c.invoke(ctx, "renewAll", []any{c.Node, period}, func(st chaincode.State) (err error) {
		r, err = cc.RenewAll(st, c.Node, string(period))
		return err
	})
	return nineten.Renewals{Period: period, Renewed: r.Renewed, Grace: r.Grace, Expired: r.Expired, Unchanged: r.Unchanged}, err
}

func (c *Contract) OpenMonth(ctx context.Context, period nineten.Period) (nineten.MonthOpening, error) {
	var r chaincode.OpenResult
	err := c.invoke(ctx, "openMonth", []any{c.Node, period}, func(st chaincode.State) (err error) {
		r, err = cc.OpenMonth(st, c.Node, string(period))
		return err
	})
	return nineten.MonthOpening{Period: period, Subscribers: r.Subscribers, ToOperator: nineten.Micro(r.ToOperator), ToPool: nineten.Micro(r.ToPool)}, err
}

func (c *Contract) Unsettled(ctx context.Context) ([]nineten.Period, error) {
	const op = "embedded.Unsettled"
	var months []string
	err := c.query(ctx, op, func(st chaincode.State) (err error) {
		months, err = cc.Unsettled(st, c.Node)
		return err
	})
	out := make([]nineten.Period, len(months))
	for i, m := range months {
		out[i] = nineten.Period(m)
	}
	return out, err
}

// errDryRun makes Invoke discard the writes of a settlement preview.
var errDryRun = errors.New("dry run")

func (c *Contract) Settle(ctx context.Context, period nineten.Period, totals []nineten.ListeningTotal) (nineten.Settlement, error) {
	return c.settle(ctx, period, totals, false)
}

func (c *Contract) PreviewSettle(ctx context.Context, period nineten.Period, totals []nineten.ListeningTotal) (nineten.Settlement, error) {
	return c.settle(ctx, period, totals, true)
}

func (c *Contract) settle(ctx context.Context, period nineten.Period, totals []nineten.ListeningTotal, dryRun bool) (nineten.Settlement, error) {
	aggs := make([]chaincode.Aggregate, len(totals))
	for i, t := range totals {
		aggs[i] = chaincode.Aggregate{Listener: t.Listener, Artist: t.Artist, Listens: t.Listens, SecondsHeard: t.SecondsHeard}
	}
	var r chaincode.SettleResult
	// The log records the digest of the totals, not the totals themselves:
	// the settlement's transactions carry every share, and the digest lets
	// anyone holding the month's reports check they were the input.
	err := c.invoke(ctx, "settle", []any{c.Node, period, len(totals)}, func(st chaincode.State) (err error) {
		r, err = cc.Settle(st, c.Node, string(period), aggs)
		if err == nil && dryRun {
			return errDryRun
		}
		return err
	})
	if dryRun && errors.Is(err, errDryRun) {
		err = nil
	}
	return nineten.Settlement{
		Period: period, Digest: r.Digest, Paid: r.Paid, Held: r.Held, Refunded: r.Refunded,
		ToArtists: nineten.Micro(r.ToArtists), ToHeld: nineten.Micro(r.ToHeld), RefundedAmount: nineten.Micro(r.RefundedAmount),
		Artists: r.Artists, Ignored: r.Ignored, DryRun: dryRun,
	}, err
}

func (c *Contract) Balance(ctx context.Context, kind nineten.AccountKind, id string) (nineten.Micro, error) {
	const op = "embedded.Balance"
	account, err := c.account(kind, id)
	if err != nil {
		return 0, err
	}
	var m chaincode.Micro
	err = c.query(ctx, op, func(st chaincode.State) (err error) {
		m, err = cc.Balance(st, account)
		return err
	})
	return nineten.Micro(m), err
}

// Transactions reads the node's whole transaction log and keeps those of
// listener. That is a scan: fine for a node's own history pages, and the
// place to add an index when nodes grow large.
func (c *Contract) Transactions(ctx context.Context, listener string, fn func(nineten.MoneyTx) error) error {
	const op = "embedded.Transactions"
	mine := "listener:" + c.Node + "/" + listener
	return c.query(ctx, op, func(st chaincode.State) error {
		return cc.Events(st, func(tx chaincode.Tx) error {
			if tx.Node != c.Node || listener != "" && tx.Listener != listener && !touches(tx, mine) {
				return nil
			}
			return fn(moneyTx(tx))
		})
	})
}

// touches reports whether tx moves money in or out of account.
func touches(tx chaincode.Tx, account string) bool {
	for _, l := range tx.Inputs {
		if l.Account == account {
			return true
		}
	}
	for _, l := range tx.Outputs {
		if l.Account == account {
			return true
		}
	}
	return false
}

func (c *Contract) Statements(ctx context.Context, period nineten.Period) ([]nineten.ArtistStatement, error) {
	const op = "embedded.Statements"
	var sts []chaincode.Statement
	err := c.query(ctx, op, func(st chaincode.State) (err error) {
		sts, err = cc.StatementsFor(st, string(period))
		return err
	})
	var out []nineten.ArtistStatement
	for _, s := range sts {
		if s.From == c.Node && s.Node != c.Node {
			out = append(out, nineten.ArtistStatement{Node: s.Node, Artist: s.Artist, From: s.From, Amount: nineten.Micro(s.Amount)})
		}
	}
	return out, err
}

func (c *Contract) account(kind nineten.AccountKind, id string) (string, error) {
	switch kind {
	case nineten.AccountListener:
		return chaincode.ListenerAccount(c.Node, id), nil
	case nineten.AccountHeld:
		return chaincode.HeldAccount(c.Node, id), nil
	case nineten.AccountOperator:
		return chaincode.OperatorAccount(c.Node), nil
	case nineten.AccountArtist:
		node, artist, ok := strings.Cut(id, "/")
		if !ok {
			return "", nineten.E("embedded.account", nineten.KindInvalid, "an artist account is named <node>/<artist id>")
		}
		return chaincode.ArtistAccount(node, artist), nil
	}
	return "", nineten.E("embedded.account", nineten.KindInvalid, "no account kind "+string(kind))
}

func subscription(s chaincode.Subscription) nineten.Subscription {
	return nineten.Subscription{
		Listener: s.Listener, Status: nineten.SubscriptionStatus(s.Status),
		First: nineten.Period(s.First), Paid: nineten.Period(s.Paid), Grace: nineten.Period(s.Grace),
	}
}

func moneyTx(tx chaincode.Tx) nineten.MoneyTx {
	legs := func(ls []chaincode.Leg) []nineten.MoneyLeg {
		out := make([]nineten.MoneyLeg, len(ls))
		for i, l := range ls {
			out[i] = nineten.MoneyLeg{Account: l.Account, Amount: nineten.Micro(l.Amount)}
		}
		return out
	}
	return nineten.MoneyTx{
		Seq: tx.Seq, Op: tx.Op, Period: nineten.Period(tx.Period), Listener: tx.Listener, Ref: tx.Ref,
		Inputs: legs(tx.Inputs), Outputs: legs(tx.Outputs),
	}
}

func (c *Contract) AnchorReport(ctx context.Context, a nineten.ReportAnchor) (nineten.ReportAnchor, error) {
	var out chaincode.Anchor
	err := c.invoke(ctx, "anchorReport", []any{c.Node, a.ID, a.Day, a.Hash, a.Signer}, func(st chaincode.State) (err error) {
		out, err = cc.AnchorReport(st, c.Node, a.ID, a.Day, a.Hash, a.Signer)
		return err
	})
	return reportAnchor(out), err
}

func (c *Contract) ReportAnchors(ctx context.Context, id string) ([]nineten.ReportAnchor, error) {
	const op = "embedded.ReportAnchors"
	var all []chaincode.Anchor
	err := c.query(ctx, op, func(st chaincode.State) (err error) {
		all, err = cc.ReportAnchors(st, c.Node, id)
		return err
	})
	if err == nil && len(all) == 0 {
		err = nineten.E(op, nineten.KindNotFound, "report "+id+" is not anchored on the ledger")
	}
	out := make([]nineten.ReportAnchor, len(all))
	for i, a := range all {
		out[i] = reportAnchor(a)
	}
	return out, err
}

func reportAnchor(a chaincode.Anchor) nineten.ReportAnchor {
	return nineten.ReportAnchor{ID: a.ID, Day: a.Day, Hash: a.Hash, Signer: a.Signer, Version: a.Version, Final: a.Final}
}

// PreviewSplit splits each listener's ArtistsShare with the contract's own
// rule (chaincode.Split) and sums the shares per artist.
func (c *Contract) PreviewSplit(ctx context.Context, totals []nineten.ListeningTotal) ([]nineten.ArtistShare, error) {
	const op = "embedded.PreviewSplit"
	byListener := map[string][]chaincode.Aggregate{}
	var listeners []string
	for _, t := range totals {
		if _, ok := byListener[t.Listener]; !ok {
			listeners = append(listeners, t.Listener)
		}
		byListener[t.Listener] = append(byListener[t.Listener], chaincode.Aggregate{Listener: t.Listener, Artist: t.Artist, Listens: t.Listens, SecondsHeard: t.SecondsHeard})
	}
	sums := map[string]nineten.Micro{}
	for _, l := range listeners {
		shares, err := chaincode.Split(l, chaincode.Micro(nineten.ArtistsShare), byListener[l])
		if err != nil {
			return nil, contractError(op, err)
		}
		for _, s := range shares {
			sums[s.Artist] += nineten.Micro(s.Amount)
		}
	}
	out := make([]nineten.ArtistShare, 0, len(sums))
	for a, m := range sums {
		out = append(out, nineten.ArtistShare{Artist: a, Amount: m})
	}
	slices.SortFunc(out, func(a, b nineten.ArtistShare) int { return strings.Compare(a.Artist, b.Artist) })
	return out, nil
}
