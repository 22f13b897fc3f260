package server

import (
	"net/http"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Settlement statements between nodes, as admins and artists see them
// (federation/statements.go sends and receives them).

type statementLineJSON struct {
	Artist  string        `json:"artist"` // "<node>/<artist id>"
	Amount  nineten.Micro `json:"amount"`
	PaidRef string        `json:"paid_ref,omitempty"`
	PaidAt  *time.Time    `json:"paid_at,omitempty"`
	Wallet  string        `json:"wallet,omitempty"` // where the artist's node says they are paid
}

type statementJSON struct {
	ID        string                     `json:"id"`
	Direction nineten.StatementDirection `json:"direction"`
	Period    nineten.Period             `json:"period"`
	Payer     string                     `json:"payer"`
	Payee     string                     `json:"payee"`
	Peer      string                     `json:"peer"`
	Total     nineten.Micro              `json:"total"`
	Digest    string                     `json:"digest"`
	Status    nineten.StatementStatus    `json:"status"`
	Reason    string                     `json:"reason,omitempty"`
	Lines     []statementLineJSON        `json:"lines"`
	Conflicts int                        `json:"conflicts"` // other versions kept aside (received ones)
	CreatedAt time.Time                  `json:"created_at"`
	UpdatedAt time.Time                  `json:"updated_at"`
}

type statementList struct {
	Items []statementJSON `json:"items"`
}

type sendStatementsInput struct {
	Period nineten.Period `json:"period"`
}

type remotePayoutInput struct {
	Artist string `json:"artist"` // "<node>/<artist id>" of another node
	ExtID  string `json:"ext_id"` // the payout's external id
}

type statementConflictJSON struct {
	Digest     string    `json:"digest"`
	Document   string    `json:"document"` // the refused version, as received
	ReceivedAt time.Time `json:"received_at"`
}

type statementConflictList struct {
	Items []statementConflictJSON `json:"items"`
}

func (s *Server) toStatementJSON(r *http.Request, st *nineten.SettlementStatement) (statementJSON, error) {
	out := statementJSON{
		ID: st.ID, Direction: st.Direction, Period: st.Period, Payer: st.Payer, Payee: st.Payee, Peer: st.Peer,
		Total: st.Total, Digest: st.Digest, Status: st.Status, Reason: st.Reason, Lines: []statementLineJSON{},
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt,
	}
	for _, l := range st.Lines {
		j := statementLineJSON{Artist: l.Artist, Amount: l.Amount, PaidRef: l.PaidRef, Wallet: l.Wallet}
		if !l.PaidAt.IsZero() {
			j.PaidAt = &l.PaidAt
		}
		out.Lines = append(out.Lines, j)
	}
	if st.Direction == nineten.StatementReceived {
		cs, err := s.Store.StatementConflicts(r.Context(), st.ID)
		if err != nil {
			return out, err
		}
		out.Conflicts = len(cs)
	}
	return out, nil
}

// adminStatements lists statements, sent and received, with their status.
func (s *Server) adminStatements(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := nineten.StatementFilter{
		Direction: nineten.StatementDirection(q.Get("direction")), Period: nineten.Period(q.Get("period")), Status: nineten.StatementStatus(q.Get("status")),
	}
	if f.Direction != "" && f.Direction != nineten.StatementSent && f.Direction != nineten.StatementReceived {
		return nineten.E("server.adminStatements", nineten.KindInvalid, "direction is sent or received")
	}
	sts, err := s.Store.Statements(r.Context(), f, p)
	if err != nil {
		return err
	}
	out := statementList{Items: []statementJSON{}}
	for i := range sts {
		j, err := s.toStatementJSON(r, &sts[i])
		if err != nil {
			return err
		}
		out.Items = append(out.Items, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) statements() (nineten.Statements, error) {
	if s.Statements == nil {
		return nil, nineten.E("server.statements", nineten.KindUnavailable, "this node does not federate settlement statements")
	}
	return s.Statements, nil
}

// sendStatements sends a settled month's statements (again: those sent
// already are not).
func (s *Server) sendStatements(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	sts, err := s.statements()
	if err != nil {
		return err
	}
	var in sendStatementsInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := nineten.Period(strings.TrimSpace(string(in.Period))).Start(); err != nil {
		return err
	}
	sent, err := sts.SendStatements(r.Context(), nineten.Period(strings.TrimSpace(string(in.Period))))
	if err != nil {
		return err
	}
	out := statementList{Items: []statementJSON{}}
	for i := range sent {
		j, err := s.toStatementJSON(r, &sent[i])
		if err != nil {
			return err
		}
		out.Items = append(out.Items, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// remotePayout records a payout made to an artist of another node.
func (s *Server) remotePayout(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	sts, err := s.statements()
	if err != nil {
		return err
	}
	var in remotePayoutInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	tx, err := sts.RecordRemotePayout(r.Context(), strings.TrimSpace(in.Artist), strings.TrimSpace(in.ExtID))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toMoneyTx(&tx))
	return nil
}

// statementConflicts lists the refused versions of a received statement.
func (s *Server) statementConflicts(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	cs, err := s.Store.StatementConflicts(r.Context(), r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	out := statementConflictList{Items: []statementConflictJSON{}}
	for _, c := range cs {
		out.Items = append(out.Items, statementConflictJSON{Digest: c.Digest, Document: string(c.Document), ReceivedAt: c.ReceivedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// remoteEarningsJSON is what an artist earned from the listeners of one
// other node: pending until that node records the payout.
type remoteEarningsJSON struct {
	Node    string                    `json:"node"`  // the paying node's ledger name
	Actor   string                    `json:"actor"` // its node actor
	Earned  nineten.Micro             `json:"earned"`
	Paid    nineten.Micro             `json:"paid"`
	Pending nineten.Micro             `json:"pending"`
	Months  []remoteMonthEarningsJSON `json:"months"` // newest first
}

type remoteMonthEarningsJSON struct {
	Period  nineten.Period `json:"period"`
	Amount  nineten.Micro  `json:"amount"`
	PaidRef string         `json:"paid_ref,omitempty"`
}

// remoteEarnings groups an artist's received statement lines per paying
// node.
func (s *Server) remoteEarnings(r *http.Request, artist string) ([]remoteEarningsJSON, error) {
	lines, err := s.Store.ArtistStatementLines(r.Context(), artist)
	if err != nil {
		return nil, err
	}
	out := []remoteEarningsJSON{}
	at := map[string]int{}
	for _, l := range lines {
		i, ok := at[l.Peer]
		if !ok {
			i = len(out)
			at[l.Peer] = i
			out = append(out, remoteEarningsJSON{Node: l.Payer, Actor: l.Peer, Months: []remoteMonthEarningsJSON{}})
		}
		e := &out[i]
		e.Earned += l.Amount
		if l.PaidRef != "" {
			e.Paid += l.Amount
		} else {
			e.Pending += l.Amount
		}
		e.Months = append(e.Months, remoteMonthEarningsJSON{Period: l.Period, Amount: l.Amount, PaidRef: l.PaidRef})
	}
	return out, nil
}

func (s *Server) statementRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/admin/statements", Summary: "Settlement statements sent to and received from other nodes, with their status", Tag: "admin", Auth: "admin", Query: []string{"direction", "period", "status", "limit", "offset"}, Status: 200, Resp: statementList{}, handle: s.adminStatements},
		{Method: "POST", Path: "/api/v1/admin/statements", Summary: "Send a settled month's statements to the artists' nodes (those sent already are not sent again)", Tag: "admin", Auth: "admin", Body: sendStatementsInput{}, Status: 200, Resp: statementList{}, handle: s.sendStatements},
		{Method: "POST", Path: "/api/v1/admin/statements/payouts", Summary: "Record a payout made to an artist of another node (their whole balance here) and tell their node", Tag: "admin", Auth: "admin", Body: remotePayoutInput{}, Status: 201, Resp: moneyTxJSON{}, handle: s.remotePayout},
		{Method: "GET", Path: "/api/v1/artists/{id}/supporters", Summary: "Listeners of other nodes who support the artist with their subscription: counts per node (the list for the artist and admins)", Tag: "catalog", Status: 200, Resp: supportersJSON{}, handle: s.artistSupporters},
		{Method: "GET", Path: "/api/v1/admin/statements/conflicts", Summary: "Other versions of a received statement, refused and kept aside", Tag: "admin", Auth: "admin", Query: []string{"id"}, Status: 200, Resp: statementConflictList{}, handle: s.statementConflicts},
	}
}

// supportersJSON is who on other nodes supports an artist with their
// subscription: counted per node for everyone, listed for the artist's
// owner and admins.
type supportersJSON struct {
	Count int                 `json:"count"` // active supporters
	Nodes []supporterNodeJSON `json:"nodes"`
	Items []supporterJSON     `json:"items,omitempty"`
}

type supporterNodeJSON struct {
	Node  string `json:"node"`
	Count int    `json:"count"`
}

type supporterJSON struct {
	Actor  string                     `json:"actor"`
	Node   string                     `json:"node"`
	Status nineten.SubscriptionStatus `json:"status"`
	Paid   nineten.Period             `json:"paid_through"`
	Since  time.Time                  `json:"since"`
}

// artistSupporters lists an artist's supporters on other nodes.
func (s *Server) artistSupporters(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Store.ArtistByID(r.Context(), id)
	if err != nil {
		return err
	}
	sps, err := s.Store.Supporters(r.Context(), a.ID)
	if err != nil {
		return err
	}
	viewer, err := s.viewer(r)
	if err != nil {
		return err
	}
	out := supportersJSON{Nodes: []supporterNodeJSON{}}
	at := map[string]int{}
	for _, sp := range sps {
		if sp.Status != nineten.SubscriptionActive && sp.Status != nineten.SubscriptionGrace {
			continue
		}
		out.Count++
		i, ok := at[sp.Node]
		if !ok {
			i = len(out.Nodes)
			at[sp.Node] = i
			out.Nodes = append(out.Nodes, supporterNodeJSON{Node: sp.Node})
		}
		out.Nodes[i].Count++
	}
	if viewer != nil && (viewer.ID == a.OwnerID || viewer.Role == nineten.RoleAdmin) {
		out.Items = []supporterJSON{}
		for _, sp := range sps {
			out.Items = append(out.Items, supporterJSON{Actor: sp.Actor, Node: sp.Node, Status: sp.Status, Paid: sp.Paid, Since: sp.Since})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
