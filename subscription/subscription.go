// Package subscription is the listener's side of the money: the balance,
// the $10 monthly subscription, deposits, and "where my money went" — for
// each month, the artists a listener's $9 went to and how much each got,
// read back from the ledger.
package subscription

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Limits of a simulated deposit.
const (
	MinSimulatedDeposit nineten.Micro = 1_000_000     // $1
	MaxSimulatedDeposit nineten.Micro = 1_000_000_000 // $1,000
)

// Service runs subscriptions on the node's ledger.
type Service struct {
	Ledger nineten.Ledger
	Store  nineten.Store
	Clock  nineten.Clock
	// Node is the node's id on the ledger (its host name): artists of this
	// node are paid as "<Node>/<artist id>".
	Node string
	// Simulated allows deposits of pretend money, for demos and tests. The
	// UI labels them; a production node leaves this off.
	Simulated bool
	// Changed is told when a listener subscribes or cancels (renewals and
	// expiries happen in the money calendar), so that the artists the
	// listener supports on other nodes hear of it.
	Changed func(ctx context.Context, ev nineten.SubscriptionEvent)
}

func (s *Service) changed(ctx context.Context, u *nineten.User, sub nineten.Subscription) {
	if s.Changed != nil {
		s.Changed(ctx, nineten.SubscriptionEvent{UserID: u.ID, Subscription: sub})
	}
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now().UTC()
}

// listener is how the ledger names a user.
func listener(u *nineten.User) string { return strconv.FormatInt(int64(u.ID), 10) }

// Overview is what a listener sees on their subscription page.
type Overview struct {
	Balance      nineten.Micro         `json:"balance"` // prepaid, not yet spent
	Held         nineten.Micro         `json:"held"`    // $9s of months without listening, waiting for the next month with some
	Subscription *nineten.Subscription `json:"subscription,omitempty"`
	// RenewsOn is when the next $10 is taken from the balance, if the
	// subscription renews.
	RenewsOn  *time.Time    `json:"renews_on,omitempty"`
	History   []Entry       `json:"history"` // newest first
	Simulated bool          `json:"simulated_payments"`
	Price     nineten.Micro `json:"price"`
}

// Entry is one transaction of a listener's history, from their side.
type Entry struct {
	Seq    uint64         `json:"seq"` // the ledger transaction
	Op     string         `json:"op"`
	Period nineten.Period `json:"period,omitempty"`
	Ref    string         `json:"ref,omitempty"`
	// Amount is what the listener's balance gained (positive) or paid
	// (negative); zero for movements of money already paid (the month
	// opening, the settlement).
	Amount nineten.Micro `json:"amount"`
	Total  nineten.Micro `json:"total"` // the transaction's whole amount
}

// historyLimit caps the history shown; the ledger keeps everything.
const historyLimit = 100

// Overview reads a listener's balance, subscription and history.
func (s *Service) Overview(ctx context.Context, u *nineten.User) (*Overview, error) {
	const op = "subscription.Overview"
	id := listener(u)
	o := &Overview{Simulated: s.Simulated, Price: nineten.SubscriptionPrice, History: []Entry{}}
	var err error
	if o.Balance, err = s.Ledger.Balance(ctx, nineten.AccountListener, id); err != nil {
		return nil, nineten.E(op, err)
	}
	if o.Held, err = s.Ledger.Balance(ctx, nineten.AccountHeld, id); err != nil {
		return nil, nineten.E(op, err)
	}
	sub, err := s.Ledger.SubscriptionOf(ctx, id)
	switch {
	case err == nil:
		o.Subscription = &sub
		if sub.Status == nineten.SubscriptionActive {
			if t, err := sub.Paid.Next().Start(); err == nil {
				o.RenewsOn = &t
			}
		}
	case nineten.ErrorKind(err) != nineten.KindNotFound:
		return nil, nineten.E(op, err)
	}
	account := "listener:" + s.Node + "/" + id
	err = s.Ledger.Transactions(ctx, id, func(tx nineten.MoneyTx) error {
		e := Entry{Seq: tx.Seq, Op: tx.Op, Period: tx.Period, Ref: tx.Ref}
		for _, l := range tx.Inputs {
			e.Total += l.Amount
			if l.Account == account {
				e.Amount -= l.Amount
			}
		}
		for _, l := range tx.Outputs {
			if l.Account == account {
				e.Amount += l.Amount
			}
		}
		o.History = append(o.History, e)
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	slices.Reverse(o.History)
	o.History = o.History[:min(len(o.History), historyLimit)]
	return o, nil
}

// SimulatedDeposit credits pretend money to a listener's balance, when the
// node allows it (demos, tests).
func (s *Service) SimulatedDeposit(ctx context.Context, u *nineten.User, amount nineten.Micro) (nineten.MoneyTx, error) {
	const op = "subscription.SimulatedDeposit"
	if !s.Simulated {
		return nineten.MoneyTx{}, nineten.E(op, nineten.KindPermission, "this node takes real payments only; simulated deposits are for demo nodes")
	}
	if amount < MinSimulatedDeposit || amount > MaxSimulatedDeposit {
		return nineten.MoneyTx{}, nineten.E(op, nineten.KindInvalid, "a simulated deposit is between $"+MinSimulatedDeposit.String()+" and $"+MaxSimulatedDeposit.String())
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	tx, err := s.Ledger.Deposit(ctx, listener(u), "sim:"+hex.EncodeToString(b[:]), amount)
	if err != nil {
		return tx, nineten.E(op, err)
	}
	return tx, nil
}

// Subscribe pays $10 from the balance for the current month; the
// subscription then renews every month until cancelled.
func (s *Service) Subscribe(ctx context.Context, u *nineten.User) (nineten.Subscription, error) {
	period := nineten.PeriodOf(s.now())
	if cur, err := s.Ledger.SubscriptionOf(ctx, listener(u)); err == nil && cur.Status == nineten.SubscriptionActive && cur.Paid >= period {
		return cur, nineten.E("subscription.Subscribe", nineten.KindConflict, "you are already subscribed through "+string(cur.Paid))
	}
	sub, err := s.Ledger.Subscribe(ctx, listener(u), period)
	if err != nil {
		return sub, nineten.E("subscription.Subscribe", err)
	}
	s.changed(ctx, u, sub)
	return sub, nil
}

// Cancel stops renewal; the months paid still count in full.
func (s *Service) Cancel(ctx context.Context, u *nineten.User) (nineten.Subscription, error) {
	sub, err := s.Ledger.Cancel(ctx, listener(u))
	if err != nil {
		return sub, nineten.E("subscription.Cancel", err)
	}
	s.changed(ctx, u, sub)
	return sub, nil
}

// Month is where one listener's money went in one month.
type Month struct {
	Period nineten.Period `json:"period"`
	// Settled is false until the month is paid out; Shares then shows the
	// artists the listener has heard most so far, without amounts.
	Settled bool          `json:"settled"`
	Shares  []Share       `json:"shares"`
	Total   nineten.Micro `json:"total"` // the sum of the shares paid
	// Held is money that went to the listener's held account this month
	// (no eligible listening), and Refunded money returned to the balance.
	Held     nineten.Micro `json:"held"`
	Refunded nineten.Micro `json:"refunded"`
	Tx       []uint64      `json:"tx"` // the ledger transactions of this month's payout
}

// Share is one artist's part of a listener's month.
type Share struct {
	Artist       string        `json:"artist"` // "<node>/<id>" as on the ledger
	ArtistID     nineten.ID    `json:"artist_id,omitempty"`
	Name         string        `json:"name"`
	Listens      int64         `json:"listens"`
	SecondsHeard int64         `json:"seconds_heard"`
	Amount       nineten.Micro `json:"amount"`
}

// MoneyWent tells a listener where their money went in period: the
// artists the settlement paid, with the exact amounts from the ledger and
// the listening behind them.
func (s *Service) MoneyWent(ctx context.Context, u *nineten.User, period nineten.Period) (*Month, error) {
	const op = "subscription.MoneyWent"
	start, err := period.Start()
	if err != nil {
		return nil, nineten.E(op, err)
	}
	id := listener(u)
	m := &Month{Period: period, Shares: []Share{}, Tx: []uint64{}}
	paid := map[string]nineten.Micro{}
	err = s.Ledger.Transactions(ctx, id, func(tx nineten.MoneyTx) error {
		if tx.Period != period || tx.Listener != id {
			return nil
		}
		switch tx.Op {
		case "settle":
			m.Settled = true
			m.Tx = append(m.Tx, tx.Seq)
			for _, l := range tx.Outputs {
				if ref, ok := strings.CutPrefix(l.Account, "artist:"); ok {
					paid[ref] += l.Amount
					m.Total += l.Amount
				}
			}
		case "hold":
			m.Settled = true
			m.Tx = append(m.Tx, tx.Seq)
			for _, l := range tx.Outputs {
				m.Held += l.Amount
			}
		case "refund":
			m.Settled = true
			m.Tx = append(m.Tx, tx.Seq)
			for _, l := range tx.Outputs {
				m.Refunded += l.Amount
			}
		}
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	heard := map[string]nineten.ListenerArtistTotal{}
	err = s.Store.ListeningTotals(ctx, nineten.TotalsQuery{From: start, To: start.AddDate(0, 1, 0), UserID: u.ID, MinHeardMS: nineten.MinEligibleListenMS}, func(t nineten.ListenerArtistTotal) error {
		heard[t.Artist(s.Node)] = t
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	refs := make([]string, 0, len(heard))
	for ref := range heard {
		refs = append(refs, ref)
	}
	if m.Settled {
		refs = refs[:0]
		for ref := range paid {
			refs = append(refs, ref)
		}
	}
	for _, ref := range refs {
		sh := Share{Artist: ref, Amount: paid[ref], Name: ref}
		if t, ok := heard[ref]; ok {
			sh.ArtistID, sh.Listens, sh.SecondsHeard = t.ArtistID, t.Listens, t.HeardMS/1000
			if t.ArtistID != 0 {
				if a, err := s.Store.ArtistByID(ctx, t.ArtistID); err == nil {
					sh.Name = a.Name
				}
			} else if name, err := s.Store.RemoteArtistName(ctx, t.Payee); err == nil {
				// An artist of another server, as it names them.
				node, _, _ := strings.Cut(t.Payee, "/")
				sh.Name = name + " (" + node + ")"
			}
		}
		m.Shares = append(m.Shares, sh)
	}
	// Most money first; before settlement, most listening first.
	slices.SortFunc(m.Shares, func(a, b Share) int {
		if a.Amount != b.Amount {
			return cmpDesc(a.Amount, b.Amount)
		}
		if a.SecondsHeard != b.SecondsHeard {
			return cmpDesc(a.SecondsHeard, b.SecondsHeard)
		}
		return strings.Compare(a.Artist, b.Artist)
	})
	if !m.Settled && len(m.Shares) > 9 {
		m.Shares = m.Shares[:9]
	}
	return m, nil
}

func cmpDesc[T ~int64](a, b T) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
