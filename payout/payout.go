// Package payout runs the node's monthly money calendar on the ledger: on
// the 1st it renews subscriptions and opens the month (the operator's $1,
// the artists' $9 into the pool); later it settles the month before from
// its verified listening, each listener's $9 to their top 9 artists.
package payout

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"time"

	nineten "nineten.dev"
)

// DefaultSettleDay is the day of the following month on which a month is
// settled: late enough for the month's listening reports to be reviewed,
// early enough to pay out before the promised 25th even after a retry.
const DefaultSettleDay = 20

// Service runs openings and settlements for one node.
type Service struct {
	Ledger nineten.Ledger
	Store  nineten.Store
	Clock  nineten.Clock
	Node   string // the node's id on the ledger: artists here are "<Node>/<artist id>"
	// SettleDay is the day of the next month on which a month is settled
	// (default DefaultSettleDay; at most 25).
	SettleDay int
	// Listening, when set, gives a month's listening totals once the month
	// is over: the node sets it to its verified monthly listening report's
	// (report.Service.SettlementTotals), so that the contract settles from
	// nothing else. Unset, and for previews of a month under way, the
	// totals are read from the store — the same numbers while the reports
	// are intact.
	Listening func(ctx context.Context, period nineten.Period, progress func(n int)) ([]nineten.ListeningTotal, error)
	Log       *slog.Logger
	// Done is called once a month's listening no longer decides any money
	// (the month was settled, or it had nothing to settle), so that what
	// waited for it may go: closed accounts' listens and tracks.
	Done func(ctx context.Context, period nineten.Period)
	// BeforeTotals, when set, runs before a settlement (or its preview)
	// reads the month's totals: the fake-stream detector looks at every
	// day not yet looked at, so that flagged listens are held out first.
	BeforeTotals func(ctx context.Context, period nineten.Period) error
	// Gate, when set, must let a month be settled (a preview is always
	// allowed): the node sets it to the peer review of its monthly report
	// (federation.Service.ReviewGate), so that a month whose report a
	// cluster peer disputes, or has not attested yet, is not paid out.
	Gate func(ctx context.Context, period nineten.Period) error
	// Settled is told of each month settled (again, too: settling is
	// idempotent), so that the node sends the statements of artists of
	// other nodes; its error is logged, the settlement stands.
	Settled func(ctx context.Context, period nineten.Period) error
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Opened is what opening a month did.
type Opened struct {
	Renewals nineten.Renewals     `json:"renewals"`
	Opening  nineten.MonthOpening `json:"opening"`
}

// Open renews every subscription for period and opens it. Both steps are
// idempotent on the ledger, so running Open again does no harm.
func (s *Service) Open(ctx context.Context, period nineten.Period) (*Opened, error) {
	const op = "payout.Open"
	if _, err := period.Start(); err != nil {
		return nil, nineten.E(op, err)
	}
	r, err := s.Ledger.RenewAll(ctx, period)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	o, err := s.Ledger.OpenMonth(ctx, period)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return &Opened{Renewals: r, Opening: o}, nil
}

// Totals reads period's eligible, verified listening from the store, in
// the ledger's terms. progress, when not nil, is called with the number of
// totals read so far.
func (s *Service) Totals(ctx context.Context, period nineten.Period, progress func(n int)) ([]nineten.ListeningTotal, error) {
	const op = "payout.Totals"
	start, err := period.Start()
	if err != nil {
		return nil, nineten.E(op, err)
	}
	var out []nineten.ListeningTotal
	q := nineten.TotalsQuery{From: start, To: start.AddDate(0, 1, 0), MinHeardMS: nineten.MinEligibleListenMS}
	err = s.Store.ListeningTotals(ctx, q, func(t nineten.ListenerArtistTotal) error {
		out = append(out, nineten.ListeningTotal{
			Listener:     strconv.FormatInt(int64(t.UserID), 10),
			Artist:       t.Artist(s.Node),
			Listens:      t.Listens,
			SecondsHeard: t.HeardMS / 1000,
		})
		if progress != nil && len(out)%10_000 == 0 {
			progress(len(out))
		}
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if progress != nil {
		progress(len(out))
	}
	return out, nil
}

// Settle pays out period from its verified listening; with dryRun it only
// computes what would be paid. Settling again with the same listening
// returns the first result and moves nothing.
func (s *Service) Settle(ctx context.Context, period nineten.Period, dryRun bool, progress func(n int)) (nineten.Settlement, error) {
	const op = "payout.Settle"
	if !dryRun && !s.now().After(endOf(period)) {
		return nineten.Settlement{}, nineten.E(op, nineten.KindConflict, "the month "+string(period)+" is not over yet; preview it with a dry run")
	}
	if !dryRun && s.Gate != nil {
		if err := s.Gate(ctx, period); err != nil {
			return nineten.Settlement{}, nineten.E(op, err)
		}
	}
	if s.BeforeTotals != nil {
		if err := s.BeforeTotals(ctx, period); err != nil {
			return nineten.Settlement{}, nineten.E(op, "checking the month's listening for fake streams", err)
		}
	}
	var totals []nineten.ListeningTotal
	var err error
	if s.Listening != nil && s.now().After(endOf(period)) {
		totals, err = s.Listening(ctx, period, progress)
	} else {
		totals, err = s.Totals(ctx, period, progress)
	}
	if err != nil {
		return nineten.Settlement{}, nineten.E(op, err)
	}
	var res nineten.Settlement
	if dryRun {
		res, err = s.Ledger.PreviewSettle(ctx, period, totals)
	} else {
		res, err = s.Ledger.Settle(ctx, period, totals)
	}
	if err != nil {
		return res, nineten.E(op, err)
	}
	if !dryRun {
		s.done(ctx, period)
	}
	if !dryRun && s.Settled != nil {
		if err := s.Settled(ctx, period); err != nil {
			s.log().WarnContext(ctx, "the month is settled, but telling others failed; it is tried again at the next tick", "period", period, "err", err)
		}
	}
	return res, nil
}

func (s *Service) done(ctx context.Context, period nineten.Period) {
	if s.Done != nil {
		s.Done(ctx, period)
	}
}

func endOf(p nineten.Period) time.Time {
	t, err := p.Next().Start()
	if err != nil {
		return time.Time{}
	}
	return t.Add(-time.Millisecond)
}

// Tick does what the calendar says is due now: open the current month,
// and settle every month that is due: the month before from the settle
// day on, and any earlier month listeners paid for that was never settled
// (the node was down on its settle day, or a settlement failed). Months
// are settled oldest first, as the ledger requires; a month that was paid
// for but never opened (the node was down all of it) is opened first, so
// its subscribers' money still reaches their artists. A node calls Tick at
// start and then periodically; everything it does is idempotent, so
// several processes may tick.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now()
	cur := nineten.PeriodOf(now)
	if _, err := s.Open(ctx, cur); err != nil {
		return err
	}
	due, err := s.due(ctx, now)
	if err != nil {
		return err
	}
	for _, p := range due {
		if p.paid {
			// Opening a past month only splits what was paid for it; it
			// renews nobody.
			if _, err := s.Ledger.OpenMonth(ctx, p.period); err != nil {
				return err
			}
		}
		res, err := s.Settle(ctx, p.period, false, nil)
		switch {
		case err == nil:
			s.log().InfoContext(ctx, "month settled", "period", p.period, "paid", res.Paid, "held", res.Held, "to_artists", res.ToArtists.String())
		case nineten.ErrorKind(err) == nineten.KindConflict:
			// Never opened (no subscribers that month, or the node is younger
			// than it), or settled already with other totals (listens that
			// changed afterwards are not paid twice): nothing to do, but say so.
			s.log().DebugContext(ctx, "month not settled", "period", p.period, "reason", err)
			s.done(ctx, p.period)
		default:
			return err
		}
	}
	return nil
}

// dueMonth is a month Tick settles; paid is set when listeners paid for it
// and it is not settled yet.
type dueMonth struct {
	period nineten.Period
	paid   bool
}

// due lists the months to settle now, oldest first: the unsettled months
// before the current one, the month before only from the settle day on.
// The month before is listed even when nobody paid for it: listeners with
// held money take part in every settlement.
func (s *Service) due(ctx context.Context, now time.Time) ([]dueMonth, error) {
	cur := nineten.PeriodOf(now)
	prev := cur.Prev()
	day := s.SettleDay
	if day <= 0 || day > 25 {
		day = DefaultSettleDay
	}
	prevDue := now.Day() >= day
	unsettled, err := s.Ledger.Unsettled(ctx)
	if err != nil {
		return nil, err
	}
	var out []dueMonth
	for _, p := range unsettled {
		if p < prev || p == prev && prevDue {
			out = append(out, dueMonth{period: p, paid: true})
		}
	}
	if prevDue && !slices.ContainsFunc(out, func(m dueMonth) bool { return m.period == prev }) {
		out = append(out, dueMonth{period: prev})
	}
	return out, nil
}

// Current is the month it is now.
func (s *Service) Current() nineten.Period { return nineten.PeriodOf(s.now()) }
