package report

import (
	"context"
	"time"

	nineten "nineten.dev"
)

// DailyDelay is how long after midnight UTC a day's report is made: the
// listens that started just before midnight have finished by then (a
// listen counts on the day it started). A listen verified later still
// makes a new version when the month is compiled.
const DailyDelay = time.Hour

// Tick makes the reports that are due and missing: the daily report of
// every past day of this month and the month before (from DailyDelay after
// the day ends), and the monthly report of the month before. A node calls
// it periodically; everything it does is idempotent, so several processes
// may tick.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now()
	cur := nineten.PeriodOf(now)
	prev := cur.Prev()
	from, _ := prev.Start()
	done := map[string]bool{}
	have, err := s.Store.Reports(ctx, nineten.ReportDaily, from.Format(time.DateOnly), now.Format(time.DateOnly))
	if err != nil {
		return err
	}
	for _, r := range have {
		done[r.Day] = r.Version > 0
	}
	for d := from; !d.Add(24 * time.Hour).Add(DailyDelay).After(now); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		if done[day] {
			continue
		}
		if _, err := s.Daily(ctx, day, nil); err != nil {
			return err
		}
	}
	if start, _ := cur.Start(); now.Sub(start) < DailyDelay {
		return nil
	}
	if r, err := s.Store.Report(ctx, MonthlyID(prev)); err == nil && r.Version > 0 {
		return nil
	} else if err != nil && nineten.ErrorKind(err) != nineten.KindNotFound {
		return err
	}
	c, err := s.Monthly(ctx, prev, nil)
	if err != nil {
		return err
	}
	if err := c.Err(); err != nil {
		s.log().WarnContext(ctx, "the monthly listening report fails its checks", "month", prev, "err", err)
	}
	return nil
}

// Status lists month's daily reports as stored (without their files) and
// its monthly report, nil when there is none yet.
func (s *Service) Status(ctx context.Context, month nineten.Period) ([]nineten.StoredReport, *nineten.StoredReport, error) {
	const op = "report.Status"
	days, err := Days(month)
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	dailies, err := s.Store.Reports(ctx, nineten.ReportDaily, days[0], days[len(days)-1])
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	monthly, err := s.Store.Reports(ctx, nineten.ReportMonthly, string(month), string(month))
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	if len(monthly) == 0 {
		return dailies, nil, nil
	}
	return dailies, &monthly[0], nil
}
