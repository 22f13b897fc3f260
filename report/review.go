package report

import (
	"context"
	"fmt"

	nineten "nineten.dev"
)

// Review re-runs a node's monthly report as one of its cluster peers does
// (and as the node itself does before asking them): it opens the monthly
// report and its dailies (the files as fetched, in the order of the
// month's days) with the node's report signer and this node's age
// identity, checks that every file is signed, that each daily is the one
// the monthly report was compiled from, runs CheckMonth, and splits the
// month's listening with the contract (each pseudonymous listener's $9).
// What is wrong is returned as findings, not as an error: a peer attests
// them.
func (s *Service) Review(ctx context.Context, signer string, month nineten.Period, monthly []byte, dailies [][]byte) (*nineten.ReportReview, error) {
	const op = "report.Review"
	out := &nineten.ReportReview{Findings: []string{}}
	add := func(check, format string, args ...any) {
		out.Findings = append(out.Findings, check+": "+fmt.Sprintf(format, args...))
	}
	pub, err := ParseSigner(signer)
	if err != nil {
		add(CheckSignature, "the node publishes no usable report signer: %v", nineten.ErrorMessage(err))
		return out, nil
	}
	_, plain, err := Open(monthly, pub, s.Cipher.Decrypt)
	if err != nil {
		add(CheckSignature, "the monthly report of %s cannot be read: %s", month, nineten.ErrorMessage(err))
		return out, nil
	}
	m, err := DecodeMonthly(plain)
	if err != nil || m.Month != string(month) {
		add(CheckComplete, "the monthly report is not the report of %s", month)
		return out, nil
	}
	ds := make([]*Daily, 0, len(dailies))
	for i, file := range dailies {
		f, plain, err := Open(file, pub, s.Cipher.Decrypt)
		if err != nil {
			add(CheckSignature, "daily report %d of %s cannot be read: %s", i+1, month, nineten.ErrorMessage(err))
			continue
		}
		if i < len(m.Dailies) && f.Hash != m.Dailies[i].Hash {
			add(CheckAnchor, "%s has the hash %s, not the %s the monthly report was compiled from", m.Dailies[i].ID, f.Hash, m.Dailies[i].Hash)
		}
		d, err := DecodeDaily(plain)
		if err != nil {
			add(CheckComplete, "daily report %d of %s is not a daily report", i+1, month)
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) == len(dailies) {
		for _, f := range CheckMonth(m, ds) {
			add(f.Check, "%s", f.Problem)
		}
	}
	totals := make([]nineten.ListeningTotal, 0, len(m.Listening))
	for _, l := range m.Listening {
		totals = append(totals, nineten.ListeningTotal{
			Listener: l.Listener, Artist: l.artist().account(m.Node), Listens: l.Listens, SecondsHeard: l.HeardMS / 1000,
		})
	}
	if out.Payout, err = s.Ledger.PreviewSplit(ctx, totals); err != nil {
		return nil, nineten.E(op, err)
	}
	return out, nil
}
