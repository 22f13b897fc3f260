package server

import (
	"net/http"
	"slices"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/subscription"
)

// The money endpoints speak micro-USD integers ("amount": 9000000 is $9):
// clients format them, and nothing is ever rounded on the way.

type subscriptionJSON struct {
	Status string         `json:"status"` // active, grace, cancelled, expired
	First  nineten.Period `json:"first"`
	Paid   nineten.Period `json:"paid"`
	Grace  nineten.Period `json:"grace,omitempty"`
}

type moneyOverviewJSON struct {
	Balance      nineten.Micro        `json:"balance"`
	Held         nineten.Micro        `json:"held"`
	Price        nineten.Micro        `json:"price"`
	Subscription *subscriptionJSON    `json:"subscription,omitempty"`
	RenewsOn     *time.Time           `json:"renews_on,omitempty"`
	History      []subscription.Entry `json:"history"`
	// SimulatedPayments says deposits on this node are pretend money.
	SimulatedPayments bool `json:"simulated_payments"`
}

type depositInput struct {
	Amount nineten.Micro `json:"amount"` // micro-USD
}

type moneyTxJSON struct {
	Seq    uint64        `json:"seq"`
	Op     string        `json:"op"`
	Ref    string        `json:"ref,omitempty"`
	Amount nineten.Micro `json:"amount"`
}

// toMoneyTx is a recorded transaction; its amount is what its inputs
// debited (its outputs credit the same).
func toMoneyTx(tx *nineten.MoneyTx) moneyTxJSON {
	var amount nineten.Micro
	for _, l := range tx.Inputs {
		amount += l.Amount
	}
	return moneyTxJSON{Seq: tx.Seq, Op: tx.Op, Ref: tx.Ref, Amount: amount}
}

type settleInput struct {
	Period nineten.Period `json:"period"`
	DryRun bool           `json:"dry_run"`
}

type settlementJSON struct {
	Period         nineten.Period `json:"period"`
	DryRun         bool           `json:"dry_run"`
	Digest         string         `json:"digest"`
	Paid           int            `json:"paid"`
	Held           int            `json:"held"`
	Refunded       int            `json:"refunded"`
	Artists        int            `json:"artists"`
	ToArtists      nineten.Micro  `json:"to_artists"`
	ToHeld         nineten.Micro  `json:"to_held"`
	RefundedAmount nineten.Micro  `json:"refunded_amount"`
	Ignored        []string       `json:"ignored"`
}

type earningsJSON struct {
	Items []artistEarningsJSON `json:"items"`
}

type artistEarningsJSON struct {
	ArtistID nineten.ID          `json:"artist_id"`
	Name     string              `json:"name"`
	Balance  nineten.Micro       `json:"balance"` // earned and not paid out yet
	Months   []monthEarningsJSON `json:"months"`  // newest first
	// Remote is what the listeners of other nodes paid, per node, as
	// their statements say: that node holds the money and pays it out.
	Remote []remoteEarningsJSON `json:"remote"`
}

type monthEarningsJSON struct {
	Period    nineten.Period `json:"period"`
	Amount    nineten.Micro  `json:"amount"`
	Listeners int            `json:"listeners"` // how many listeners' money it is
}

type adminMoneyJSON struct {
	Operator nineten.Micro  `json:"operator"` // the node operator's $1s
	Period   nineten.Period `json:"period"`   // the current month
}

func (s *Server) moneyOverview(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	o, err := s.Subscriptions.Overview(r.Context(), u)
	if err != nil {
		return err
	}
	out := moneyOverviewJSON{Balance: o.Balance, Held: o.Held, Price: o.Price, RenewsOn: o.RenewsOn, History: o.History, SimulatedPayments: o.Simulated}
	if sub := o.Subscription; sub != nil {
		out.Subscription = &subscriptionJSON{Status: string(sub.Status), First: sub.First, Paid: sub.Paid, Grace: sub.Grace}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	sub, err := s.Subscriptions.Subscribe(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionJSON{Status: string(sub.Status), First: sub.First, Paid: sub.Paid, Grace: sub.Grace})
	return nil
}

func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	sub, err := s.Subscriptions.Cancel(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionJSON{Status: string(sub.Status), First: sub.First, Paid: sub.Paid, Grace: sub.Grace})
	return nil
}

func (s *Server) simulatedDeposit(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in depositInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	tx, err := s.Subscriptions.SimulatedDeposit(r.Context(), u, in.Amount)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, moneyTxJSON{Seq: tx.Seq, Op: tx.Op, Ref: tx.Ref, Amount: in.Amount})
	return nil
}

func (s *Server) moneyWent(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	m, err := s.Subscriptions.MoneyWent(r.Context(), u, nineten.Period(r.PathValue("period")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// earnings lists what the user's artist profiles earned on this node's
// ledger, per month.
func (s *Server) earnings(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	artists, err := s.Store.ArtistsByOwner(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := earningsJSON{Items: []artistEarningsJSON{}}
	byAccount := map[string]*artistEarningsJSON{}
	for _, a := range artists {
		ref := s.artistAccount(a.ID)
		bal, err := s.Subscriptions.Ledger.Balance(r.Context(), nineten.AccountArtist, ref)
		if err != nil {
			return err
		}
		remote, err := s.remoteEarnings(r, ref)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, artistEarningsJSON{ArtistID: a.ID, Name: a.Name, Balance: bal, Months: []monthEarningsJSON{}, Remote: remote})
		byAccount["artist:"+ref] = &out.Items[len(out.Items)-1]
	}
	if len(artists) > 0 {
		err = s.Subscriptions.Ledger.Transactions(r.Context(), "", func(tx nineten.MoneyTx) error {
			if tx.Op != "settle" {
				return nil
			}
			for _, l := range tx.Outputs {
				e, ok := byAccount[l.Account]
				if !ok {
					continue
				}
				if n := len(e.Months); n == 0 || e.Months[n-1].Period != tx.Period {
					e.Months = append(e.Months, monthEarningsJSON{Period: tx.Period})
				}
				m := &e.Months[len(e.Months)-1]
				m.Amount += l.Amount
				m.Listeners++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range out.Items {
		slices.Reverse(out.Items[i].Months) // newest first
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminMoney(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	op, err := s.Subscriptions.Ledger.Balance(r.Context(), nineten.AccountOperator, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminMoneyJSON{Operator: op, Period: s.Payouts.Current()})
	return nil
}

func (s *Server) adminSettle(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	var in settleInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	in.Period = nineten.Period(strings.TrimSpace(string(in.Period)))
	res, err := s.Payouts.Settle(r.Context(), in.Period, in.DryRun, nil)
	if err != nil {
		return err
	}
	ignored := res.Ignored
	if ignored == nil {
		ignored = []string{}
	}
	writeJSON(w, http.StatusOK, settlementJSON{
		Period: res.Period, DryRun: res.DryRun, Digest: res.Digest, Paid: res.Paid, Held: res.Held, Refunded: res.Refunded,
		Artists: res.Artists, ToArtists: res.ToArtists, ToHeld: res.ToHeld, RefundedAmount: res.RefundedAmount, Ignored: ignored,
	})
	return nil
}
