package server

import (
	"net/http"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/report"
)

// reportJSON is what admins see of a listening report without decrypting it.
type reportJSON struct {
	ID         string    `json:"id"`
	Day        string    `json:"day"`
	Version    int       `json:"version"`  // the ledger's version of its anchor
	Anchored   bool      `json:"anchored"` // its hash is on the ledger
	Hash       string    `json:"hash"`
	Listens    int64     `json:"listens"`
	Listeners  int64     `json:"listeners"`
	Suppressed int       `json:"suppressed"` // groups of fewer than k listeners left out of the published summary
	CreatedAt  time.Time `json:"created_at"`
}

type reportsJSON struct {
	Month   nineten.Period `json:"month"`
	Signer  string         `json:"signer"` // the key that signs the node's reports
	Dailies []reportJSON   `json:"dailies"`
	Monthly *reportJSON    `json:"monthly"` // null until the month is compiled
}

type dailyInput struct {
	Date string `json:"date"` // YYYY-MM-DD, UTC
}

type monthlyInput struct {
	Month nineten.Period `json:"month"`
}

type monthlyCheckJSON struct {
	Report   reportJSON       `json:"report"`
	OK       bool             `json:"ok"`       // every check passed: the settlement may pay from it
	Findings []report.Finding `json:"findings"` // what the checks found
}

func toReportJSON(r *nineten.StoredReport) reportJSON {
	return reportJSON{ID: r.ID, Day: r.Day, Version: r.Version, Anchored: r.Version > 0, Hash: r.Hash,
		Listens: r.Listens, Listeners: r.Listeners, Suppressed: r.Suppressed, CreatedAt: r.CreatedAt}
}

func (s *Server) adminReports(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	month := nineten.Period(strings.TrimSpace(r.URL.Query().Get("month")))
	if month == "" {
		month = s.Payouts.Current()
	}
	dailies, monthly, err := s.Reports.Status(r.Context(), month)
	if err != nil {
		return err
	}
	out := reportsJSON{Month: month, Signer: s.Reports.Signer(), Dailies: make([]reportJSON, len(dailies))}
	for i := range dailies {
		out.Dailies[i] = toReportJSON(&dailies[i])
	}
	if monthly != nil {
		m := toReportJSON(monthly)
		out.Monthly = &m
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminDailyReport(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	var in dailyInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := s.Reports.Daily(r.Context(), strings.TrimSpace(in.Date), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toReportJSON(rep))
	return nil
}

func (s *Server) adminMonthlyReport(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	var in monthlyInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.Reports.Monthly(r.Context(), nineten.Period(strings.TrimSpace(string(in.Month))), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, monthlyCheckJSON{Report: toReportJSON(c.Report), OK: c.Err() == nil, Findings: append([]report.Finding{}, c.Findings...)})
	return nil
}
