package server

import (
	"net/http"
	"time"

	nineten "nineten.dev"
	"nineten.dev/anomaly"
)

// Fake-stream flags: admins review them; the listeners and artists whose
// listens a flag holds see which rule held them and why, never who else
// or where from.

type flagJSON struct {
	ID         nineten.ID         `json:"id"`
	Rule       string             `json:"rule"`
	Means      string             `json:"means"`
	Day        string             `json:"day"` // YYYY-MM-DD, UTC
	Score      int                `json:"score"`
	Summary    string             `json:"summary"`
	Status     nineten.FlagStatus `json:"status"`
	Evidence   map[string]int64   `json:"evidence,omitempty"`  // admins only
	Subject    string             `json:"subject,omitempty"`   // admins only
	Listens    int                `json:"listens,omitempty"`   // admins only
	Listeners  []nineten.ID       `json:"listeners,omitempty"` // admins only
	Artists    []nineten.ID       `json:"artists,omitempty"`   // admins only
	ReviewedAt *time.Time         `json:"reviewed_at,omitempty"`
}

func toFlag(f nineten.AnomalyFlag, admin bool) flagJSON {
	out := flagJSON{ID: f.ID, Rule: f.Rule, Means: anomaly.Means(f.Rule), Day: f.Day.Format(time.DateOnly),
		Score: f.Score, Summary: f.Summary, Status: f.Status}
	if !f.ReviewedAt.IsZero() {
		out.ReviewedAt = &f.ReviewedAt
	}
	if admin {
		out.Evidence, out.Subject, out.Listens, out.Listeners, out.Artists = f.Evidence, f.Subject, f.Listens, f.Listeners, f.Artists
	}
	return out
}

type ruleCountJSON struct {
	Rule      string `json:"rule"`
	Means     string `json:"means"`
	Held      int    `json:"held"`
	Cleared   int    `json:"cleared"`
	Confirmed int    `json:"confirmed"`
}

type anomaliesJSON struct {
	Items []flagJSON      `json:"items"`
	Rules []ruleCountJSON `json:"rules"` // every rule, with its flags by status
}

type reviewInput struct {
	IDs []nineten.ID `json:"ids,omitempty"`
	// Rule reviews every flag of a rule awaiting review (up to 1,000).
	Rule     string             `json:"rule,omitempty"`
	Decision nineten.FlagStatus `json:"decision"` // "cleared" (they count) or "confirmed" (they never count)
}

type reviewedJSON struct {
	Reviewed int `json:"reviewed"`
}

type detectInput struct {
	Day string `json:"day"` // YYYY-MM-DD
}

type detectedJSON struct {
	Day      string `json:"day"`
	NewFlags int    `json:"new_flags"`
}

type flagList struct {
	Items []flagJSON `json:"items"`
}

type holdJSON struct {
	Listens int64 `json:"listens"`
	HeardMS int64 `json:"heard_ms"`
}

type artistListeningJSON struct {
	Period   nineten.Period `json:"period"`
	Verified holdJSON       `json:"verified"` // counted
	Held     holdJSON       `json:"held"`     // awaiting review
	Excluded holdJSON       `json:"excluded"` // confirmed fake
	Flags    []flagJSON     `json:"flags"`
}

func (s *Server) anomalyRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/admin/anomalies", Summary: "Fake-stream flags (default: awaiting review), with evidence, and counts per rule", Tag: "admin", Auth: "admin", Query: []string{"status", "rule", "limit"}, Status: 200, Resp: anomaliesJSON{}, handle: s.adminAnomalies},
		{Method: "POST", Path: "/api/v1/admin/anomalies/review", Summary: "Clear (the listens count) or confirm (they never count) flags, by id or all of a rule awaiting review", Tag: "admin", Auth: "admin", Body: reviewInput{}, Status: 200, Resp: reviewedJSON{}, handle: s.reviewAnomalies},
		{Method: "POST", Path: "/api/v1/admin/anomalies/detect", Summary: "Run fake-stream detection over a day now (it also runs every night and before a settlement)", Tag: "admin", Auth: "admin", Body: detectInput{}, Status: 200, Resp: detectedJSON{}, handle: s.detectAnomalies},
		{Method: "GET", Path: "/api/v1/me/held-listens", Summary: "Why listens of yours are held out of settlement (or were)", Tag: "listens", Auth: "user", Status: 200, Resp: flagList{}, handle: s.myHeldListens},
		{Method: "GET", Path: "/api/v1/artists/{id}/listening", Summary: "An artist's verified, held and excluded listens of a month, and why (the artist's owner and admins)", Tag: "catalog", Auth: "user", Query: []string{"period"}, Status: 200, Resp: artistListeningJSON{}, handle: s.artistListening},
	}
}

func (s *Server) anomalies() (*anomaly.Service, error) {
	if s.Anomalies == nil {
		return nil, nineten.E("server.anomalies", nineten.KindUnavailable, "fake-stream detection is not running on this node")
	}
	return s.Anomalies, nil
}

func (s *Server) adminAnomalies(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	q := r.URL.Query()
	fq := nineten.FlagQuery{Status: nineten.FlagStatus(q.Get("status")), Rule: q.Get("rule"), Limit: 200}
	switch fq.Status {
	case "":
		fq.Status = nineten.FlagHeld
	case "all":
		fq.Status = ""
	case nineten.FlagHeld, nineten.FlagCleared, nineten.FlagConfirmed:
	default:
		return nineten.E("server.adminAnomalies", nineten.KindInvalid, "status is held, cleared, confirmed or all")
	}
	flags, err := s.Store.AnomalyFlags(r.Context(), fq)
	if err != nil {
		return err
	}
	counts, err := s.Store.AnomalyRuleCounts(r.Context())
	if err != nil {
		return err
	}
	out := anomaliesJSON{Items: []flagJSON{}}
	for _, f := range flags {
		out.Items = append(out.Items, toFlag(f, true))
	}
	for _, rule := range anomaly.Rules {
		rc := ruleCountJSON{Rule: rule.Name, Means: rule.Means}
		for _, c := range counts {
			if c.Rule != rule.Name {
				continue
			}
			switch c.Status {
			case nineten.FlagHeld:
				rc.Held = c.Flags
			case nineten.FlagCleared:
				rc.Cleared = c.Flags
			case nineten.FlagConfirmed:
				rc.Confirmed = c.Flags
			}
		}
		out.Rules = append(out.Rules, rc)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) reviewAnomalies(w http.ResponseWriter, r *http.Request) error {
	admin, err := s.requireAdmin(r)
	if err != nil {
		return err
	}
	svc, err := s.anomalies()
	if err != nil {
		return err
	}
	var in reviewInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	ids := in.IDs
	if in.Rule != "" {
		flags, err := s.Store.AnomalyFlags(r.Context(), nineten.FlagQuery{Status: nineten.FlagHeld, Rule: in.Rule, Limit: 1000})
		if err != nil {
			return err
		}
		for _, f := range flags {
			ids = append(ids, f.ID)
		}
		if len(ids) == 0 {
			writeJSON(w, http.StatusOK, reviewedJSON{})
			return nil
		}
	}
	n, err := svc.Review(r.Context(), admin, ids, in.Decision)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reviewedJSON{Reviewed: n})
	return nil
}

func (s *Server) detectAnomalies(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	svc, err := s.anomalies()
	if err != nil {
		return err
	}
	var in detectInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	day, err := time.Parse(time.DateOnly, in.Day)
	if err != nil {
		return nineten.E("server.detectAnomalies", nineten.KindInvalid, "day must be a date like 2026-11-03")
	}
	n, err := svc.DetectDay(r.Context(), day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, detectedJSON{Day: in.Day, NewFlags: n})
	return nil
}

func (s *Server) myHeldListens(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	flags, err := s.Store.AnomalyFlags(r.Context(), nineten.FlagQuery{UserID: u.ID, Limit: 100})
	if err != nil {
		return err
	}
	out := flagList{Items: []flagJSON{}}
	for _, f := range flags {
		out.Items = append(out.Items, toFlag(f, false))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) artistListening(w http.ResponseWriter, r *http.Request) error {
	const op = "server.artistListening"
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Store.ArtistByID(r.Context(), id)
	if err != nil {
		return err
	}
	if a.OwnerID != u.ID && u.Role != nineten.RoleAdmin {
		return nineten.E(op, nineten.KindPermission, "only the artist's owner (and admins) see its listening")
	}
	period := nineten.Period(r.URL.Query().Get("period"))
	if period == "" {
		period = nineten.PeriodOf(time.Now())
	}
	start, err := period.Start()
	if err != nil {
		return nineten.E(op, nineten.KindInvalid, "period must be a month like 2026-11", err)
	}
	holds, err := s.Store.ListenHolds(r.Context(), nineten.HoldQuery{ArtistID: id, From: start, To: start.AddDate(0, 1, 0)})
	if err != nil {
		return err
	}
	out := artistListeningJSON{Period: period, Flags: []flagJSON{}}
	for _, h := range holds {
		v := holdJSON{Listens: h.Listens, HeardMS: h.HeardMS}
		switch h.Hold {
		case nineten.HoldNone:
			out.Verified = v
		case nineten.HoldReview:
			out.Held = v
		case nineten.HoldConfirmed:
			out.Excluded = v
		}
	}
	flags, err := s.Store.AnomalyFlags(r.Context(), nineten.FlagQuery{ArtistID: id, Limit: 100})
	if err != nil {
		return err
	}
	for _, f := range flags {
		if !f.Day.Before(start) && f.Day.Before(start.AddDate(0, 1, 0)) {
			out.Flags = append(out.Flags, toFlag(f, false))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
