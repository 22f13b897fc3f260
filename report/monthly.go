package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	nineten "nineten.dev"
)

// DailyRef names one daily report a monthly report was compiled from.
type DailyRef struct {
	ID      string `json:"id"`
	Day     string `json:"day"`
	Hash    string `json:"hash"`
	Version int    `json:"version"`
	Content string `json:"content"`
}

// Monthly is the whole of a month's report: the sum of its dailies. Its
// Listening is what the month is settled from. Canonical like Daily.
type Monthly struct {
	Format     string     `json:"format"` // 9ten-monthly/1
	Node       string     `json:"node"`
	Month      string     `json:"month"`
	Pseudonyms string     `json:"pseudonyms"`
	Dailies    []DailyRef `json:"dailies"`
	Totals     Group      `json:"totals"`  // Listeners: distinct listeners in the month
	Artists    []Group    `json:"artists"` // Listeners: distinct listeners in the month
	Listening  []Line     `json:"listening"`
}

const monthlyFormat = "9ten-monthly/1"

// Compile sums dailies (with their refs, in the same order) into the
// month's report. It is pure, so a peer can compile the same and compare.
func Compile(node string, month nineten.Period, pseudonymKey string, refs []DailyRef, dailies []*Daily) *Monthly {
	m := &Monthly{Format: monthlyFormat, Node: node, Month: string(month), Pseudonyms: pseudonymKey, Dailies: refs,
		Artists: []Group{}, Listening: []Line{}}
	// Every day's lines in one list, sorted, then the same listener ×
	// artist folded together: cheaper than a map of them all.
	n := 0
	for _, d := range dailies {
		n += len(d.Listening)
	}
	all := make([]Line, 0, n)
	for _, d := range dailies {
		all = append(all, d.Listening...)
	}
	sortLines(all)
	artists := map[artistKey]*Group{}
	for i, l := range all {
		if i > 0 && all[i-1].Listener == l.Listener && all[i-1].artist() == l.artist() {
			last := &m.Listening[len(m.Listening)-1]
			last.Listens += l.Listens
			last.HeardMS += l.HeardMS
		} else {
			m.Listening = append(m.Listening, l)
			a, ok := artists[l.artist()]
			if !ok {
				a = &Group{Artist: l.Artist, Payee: l.Payee}
				artists[l.artist()] = a
			}
			a.Listeners++
			if i == 0 || all[i-1].Listener != l.Listener {
				m.Totals.Listeners++
			}
		}
		a := artists[l.artist()]
		a.Listens += l.Listens
		a.HeardMS += l.HeardMS
		m.Totals.Listens += l.Listens
		m.Totals.HeardMS += l.HeardMS
	}
	for _, a := range artists {
		m.Artists = append(m.Artists, *a)
	}
	sortArtists(m.Artists)
	return m
}

// Days lists the days of month, YYYY-MM-DD.
func Days(month nineten.Period) ([]string, error) {
	start, err := month.Start()
	if err != nil {
		return nil, err
	}
	var out []string
	for d := start; nineten.PeriodOf(d) == month; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out, nil
}

// CheckMonth runs the checks that need only the decrypted reports: every
// day of the month has its daily, each daily is the content its ref names,
// uses the month's pseudonym key and names each listener × artist once,
// and the dailies sum to the monthly report. It returns the problems found.
// A peer reviewing the month runs exactly this.
func CheckMonth(m *Monthly, dailies []*Daily) []Finding {
	var out []Finding
	add := func(check, format string, args ...any) {
		out = append(out, Finding{Check: check, Problem: fmt.Sprintf(format, args...)})
	}
	days, err := Days(nineten.Period(m.Month))
	if err != nil {
		add(CheckComplete, "the month %q is not a month", m.Month)
		return out
	}
	if len(m.Dailies) != len(days) || len(dailies) != len(days) {
		add(CheckComplete, "%s has %d days but the report lists %d dailies (%d given)", m.Month, len(days), len(m.Dailies), len(dailies))
		return out
	}
	for i, d := range dailies {
		ref := m.Dailies[i]
		if ref.Day != days[i] || d.Day != days[i] || ref.ID != DailyID(days[i]) {
			add(CheckComplete, "daily %d is %s (%s), not the report of %s", i+1, ref.ID, d.Day, days[i])
			continue
		}
		b, _ := json.Marshal(d)
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != ref.Content {
			add(CheckSum, "the daily report of %s is not the content the monthly report was compiled from", d.Day)
		}
		if d.Pseudonyms != m.Pseudonyms {
			add(CheckPseudonyms, "the daily report of %s uses the pseudonym key %s, not the month's %s", d.Day, d.Pseudonyms, m.Pseudonyms)
		}
		for j := 1; j < len(d.Listening); j++ {
			a, b := d.Listening[j-1], d.Listening[j]
			if a.Listener == b.Listener && a.artist() == b.artist() {
				add(CheckPseudonyms, "the daily report of %s lists listener %s with artist %s twice", d.Day, a.Listener, a.artist().account(m.Node))
			}
		}
	}
	again := Compile(m.Node, nineten.Period(m.Month), m.Pseudonyms, m.Dailies, dailies)
	if again.Totals != m.Totals {
		add(CheckSum, "the dailies sum to %d listens (%d ms, %d listeners) but the monthly report says %d (%d ms, %d listeners)",
			again.Totals.Listens, again.Totals.HeardMS, again.Totals.Listeners, m.Totals.Listens, m.Totals.HeardMS, m.Totals.Listeners)
	}
	if !slices.Equal(again.Artists, m.Artists) {
		add(CheckSum, "the dailies' per-artist sums differ from the monthly report's")
	}
	if !slices.Equal(again.Listening, m.Listening) {
		add(CheckSum, "the dailies' per-listener × artist sums differ from the monthly report's")
	}
	return out
}

// The checks of a monthly report.
const (
	CheckSignature  = "signature"  // every report is signed by the node's report key
	CheckAnchor     = "anchor"     // every report is the latest version anchored on the ledger
	CheckComplete   = "complete"   // every day of the month has its daily report
	CheckSum        = "sum"        // the dailies sum to the monthly totals
	CheckVerified   = "verified"   // each daily counts exactly the day's verified listens
	CheckPseudonyms = "pseudonyms" // one pseudonym key for the month, each listener × artist once a day
)

// Finding is one problem a check found.
type Finding struct {
	Check   string `json:"check"`
	Problem string `json:"problem"`
}

// Checked is a monthly report and what its checks found.
type Checked struct {
	Report   *nineten.StoredReport
	Monthly  *Monthly
	Findings []Finding // none when every check passed
}

// Err is nil when every check passed, and otherwise a KindConflict error
// listing the problems.
func (c *Checked) Err() error {
	if len(c.Findings) == 0 {
		return nil
	}
	var b strings.Builder
	for i, f := range c.Findings {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Check + ": " + f.Problem)
	}
	return nineten.E("report.Check", nineten.KindConflict, "the monthly report of "+c.Monthly.Month+" fails its checks: "+b.String())
}

// Monthly makes the report of month (after it is over): it brings every
// daily report up to date (Daily), compiles them, seals, signs, anchors
// and stores the result, and runs the checks. Idempotent like Daily; once
// the month is settled it only runs the checks.
// progress, when not nil, is called with each day as it is done.
func (s *Service) Monthly(ctx context.Context, month nineten.Period, progress func(day string)) (*Checked, error) {
	const op = "report.Monthly"
	days, err := Days(month)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if end, _ := month.Next().Start(); s.now().Before(end) {
		return nil, nineten.E(op, nineten.KindConflict, "the month "+string(month)+" is not over yet; its daily reports are made day by day")
	}
	// A settled month's reports are final: they are checked, not made again.
	if all, err := s.Ledger.ReportAnchors(ctx, MonthlyID(month)); err == nil && all[len(all)-1].Final {
		return s.Check(ctx, month)
	}
	refs := make([]DailyRef, len(days))
	dailies := make([]*Daily, len(days))
	for i, day := range days {
		r, err := s.Daily(ctx, day, nil)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		_, d, err := s.openDaily(r)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		refs[i] = DailyRef{ID: r.ID, Day: day, Hash: r.Hash, Version: r.Version, Content: r.Content}
		dailies[i] = d
		if progress != nil {
			progress(day)
		}
	}
	m := Compile(s.Node, month, s.pseudonymsOf(month).ID, refs, dailies)
	sum := summarize(s.k(), m.Totals, nil, m.Artists)
	h := Header{ID: MonthlyID(month), Kind: string(nineten.ReportMonthly), Node: s.Node, Day: string(month), Summary: sum}
	if _, err := s.store(ctx, h, m, m.Totals); err != nil {
		return nil, nineten.E(op, err)
	}
	// The dailies were made from the store's listens just now: counting
	// them again would take as long again and find what Daily found.
	return s.check(ctx, month, false)
}

// openDaily verifies and decrypts a stored daily report.
func (s *Service) openDaily(r *nineten.StoredReport) (*File, *Daily, error) {
	f, plain, err := Open(r.File, s.signingKey().Public().(ed25519.PublicKey), s.Cipher.Decrypt)
	if err != nil {
		return f, nil, err
	}
	var d Daily
	if err := decodeStrict(plain, &d); err != nil || d.Format != dailyFormat {
		return f, nil, nineten.E("report.openDaily", nineten.KindInvalid, "report "+r.ID+" is not a daily report", err)
	}
	return f, &d, nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// DecodeDaily and DecodeMonthly read a report's decrypted body.
func DecodeDaily(plain []byte) (*Daily, error) {
	var d Daily
	if err := decodeStrict(plain, &d); err != nil || d.Format != dailyFormat {
		return nil, nineten.E("report.DecodeDaily", nineten.KindInvalid, "not a daily listening report", err)
	}
	return &d, nil
}

func DecodeMonthly(plain []byte) (*Monthly, error) {
	var m Monthly
	if err := decodeStrict(plain, &m); err != nil || m.Format != monthlyFormat {
		return nil, nineten.E("report.DecodeMonthly", nineten.KindInvalid, "not a monthly listening report", err)
	}
	return &m, nil
}

// Check runs every check of the stored monthly report of month: the
// signatures and anchors of it and of its dailies, the checks of
// CheckMonth, and — until the month is settled — that each daily counts
// exactly the listens the store holds as verified for its day now.
func (s *Service) Check(ctx context.Context, month nineten.Period) (*Checked, error) {
	return s.check(ctx, month, true)
}

// check is Check; recount says whether the dailies are compared with the
// store's listens.
func (s *Service) check(ctx context.Context, month nineten.Period, recount bool) (*Checked, error) {
	const op = "report.Check"
	r, err := s.Store.Report(ctx, MonthlyID(month))
	if err != nil {
		return nil, nineten.E(op, err)
	}
	c := &Checked{Report: r}
	add := func(check, format string, args ...any) {
		c.Findings = append(c.Findings, Finding{Check: check, Problem: fmt.Sprintf(format, args...)})
	}
	pub := s.signingKey().Public().(ed25519.PublicKey)
	f, plain, err := Open(r.File, pub, s.Cipher.Decrypt)
	if err != nil {
		return nil, nineten.E(op, nineten.KindConflict, "the monthly report of "+string(month)+" cannot be read", err)
	}
	if c.Monthly, err = DecodeMonthly(plain); err != nil {
		return nil, nineten.E(op, err)
	}
	// Once the month is settled its reports are the record: listens may be
	// erased since (closed accounts are finished after the settlement), so
	// the dailies are no longer compared with the store.
	recount = recount && !s.checkAnchor(ctx, f, add).Final
	dailies := make([]*Daily, 0, len(c.Monthly.Dailies))
	for _, ref := range c.Monthly.Dailies {
		dr, err := s.Store.Report(ctx, ref.ID)
		if err != nil {
			add(CheckComplete, "the daily report %s is missing: %v", ref.ID, err)
			continue
		}
		df, d, err := s.openDaily(dr)
		if err != nil {
			add(CheckSignature, "%s: %v", ref.ID, err)
			continue
		}
		if df.Hash != ref.Hash {
			add(CheckAnchor, "%s has the hash %s, not the %s the monthly report was compiled from", ref.ID, df.Hash, ref.Hash)
		}
		s.checkAnchor(ctx, df, add)
		if recount {
			again, err := s.MakeDaily(ctx, ref.Day, nil)
			if err != nil {
				return nil, nineten.E(op, err)
			}
			b, _ := json.Marshal(again)
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != df.Header.Content {
				add(CheckVerified, "the daily report of %s does not count the verified listens the node holds for that day (%d listens now): make it again with 9ten report daily --date %s",
					ref.Day, again.Totals.Listens, ref.Day)
			}
		}
		dailies = append(dailies, d)
	}
	if len(dailies) == len(c.Monthly.Dailies) {
		c.Findings = append(c.Findings, CheckMonth(c.Monthly, dailies)...)
	}
	return c, nil
}

// checkAnchor compares a report's hash with its latest anchor, which it
// returns.
func (s *Service) checkAnchor(ctx context.Context, f *File, add func(check, format string, args ...any)) nineten.ReportAnchor {
	anchors, err := s.Ledger.ReportAnchors(ctx, f.Header.ID)
	if err != nil {
		add(CheckAnchor, "%s: %v", f.Header.ID, err)
		return nineten.ReportAnchor{}
	}
	last := anchors[len(anchors)-1]
	switch {
	case last.Hash != f.Hash:
		add(CheckAnchor, "%s has the hash %s but the ledger anchors %s (version %d)", f.Header.ID, f.Hash, last.Hash, last.Version)
	case last.Signer != f.Header.Signer:
		add(CheckAnchor, "%s is signed by %s but the ledger names %s", f.Header.ID, f.Header.Signer, last.Signer)
	}
	return last
}

// SettlementTotals is the month's listening as the settlement takes it:
// the verified monthly report's per-listener × artist lines, its
// pseudonyms resolved to the node's listeners. It makes (or brings up to
// date) the monthly report first, and fails unless every check passes.
func (s *Service) SettlementTotals(ctx context.Context, month nineten.Period, progress func(n int)) ([]nineten.ListeningTotal, error) {
	const op = "report.SettlementTotals"
	c, err := s.Monthly(ctx, month, nil)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if err := c.Err(); err != nil {
		// Unavailable, not a conflict: the payout calendar logs it as a
		// problem and tries again later.
		return nil, nineten.E(op, nineten.KindUnavailable, "the month is settled once its listening report passes its checks", err)
	}
	// The node alone can tell who a pseudonym is: it makes the pseudonym
	// of each listener who listened in the month.
	start, _ := month.Start()
	p := s.pseudonymsOf(month)
	who := map[string]nineten.ID{}
	err = s.Store.ListeningTotals(ctx, nineten.TotalsQuery{From: start, To: start.AddDate(0, 1, 0), MinHeardMS: nineten.MinEligibleListenMS},
		func(t nineten.ListenerArtistTotal) error {
			who[p.of(t.UserID)] = t.UserID
			return nil
		})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	type total struct {
		user nineten.ID
		line Line
	}
	lines := make([]total, 0, len(c.Monthly.Listening))
	for _, l := range c.Monthly.Listening {
		u, ok := who[l.Listener]
		if !ok {
			return nil, nineten.E(op, nineten.KindConflict, "the monthly report of "+string(month)+" names listener "+l.Listener+", who has no verified listening that month")
		}
		lines = append(lines, total{u, l})
	}
	// In the order of the store's totals: by listener, then artist.
	slices.SortFunc(lines, func(a, b total) int {
		return cmp.Or(cmp.Compare(a.user, b.user), a.line.artist().compare(b.line.artist()))
	})
	out := make([]nineten.ListeningTotal, len(lines))
	for i, t := range lines {
		out[i] = nineten.ListeningTotal{
			Listener:     strconv.FormatInt(int64(t.user), 10),
			Artist:       t.line.artist().account(s.Node),
			Listens:      t.line.Listens,
			SecondsHeard: t.line.HeardMS / 1000,
		}
		if progress != nil && (i+1)%10_000 == 0 {
			progress(i + 1)
		}
	}
	if progress != nil {
		progress(len(out))
	}
	return out, nil
}
