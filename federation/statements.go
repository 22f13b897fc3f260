package federation

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Settlement statements between nodes (issue 5: artists on other nodes are
// paid like local ones).
//
// Where the money is: a listener's $9 is split on the ledger of the
// listener's node, so an artist of another node is credited there, in the
// account artist:<home node>/<artist id> of that ledger. The paying node
// keeps the money and pays it out from its payout wallet to the wallet the
// artist registered at home (the home node names it in its
// acknowledgement); the home node moves no money: it records what each
// node owes and paid its artists, and shows them.
//
// After a month is settled, the paying node's actor sends each home
// node's actor one statement of the month, all its artists' lines, in a
// Create:
//
//	{"type": "SettlementStatement", "id": "https://a/statements/2026-10/b.example",
//	 "attributedTo": "https://a/actor", "to": ["https://b/actor"],
//	 "period": "2026-10", "payer": "a.example", "payee": "b.example",
//	 "unit": "micro-USD", "total": 13500000,
//	 "lines": [{"artist": "b.example/7", "amount": 9000000}, …],
//	 "settlement": {"ledger": "a.example", "operation": "settle", "period": "2026-10",
//	                "transactions": ["101-250", "300"]},
//	 "proof": {eddsa-jcs-2022 by https://a/actor#ed25519-key}}
//
// The proof (FEP-8b32) makes the statement checkable by anyone, later,
// without the HTTP request. The home node checks the HTTP signature, that
// the sender is a node actor, the proof, that the statement is for it,
// that amounts are whole positive micro-dollars adding up to the total and
// that the artists are its own; it records the statement once (the same
// statement again changes nothing; another version of the same id is kept
// aside as a conflict for the admins and refused) and answers Accept with
// the digest of what it recorded, so that the payer marks the statement
// acknowledged, or Reject with the reason. When the payer pays an artist
// out, it sends the statements again in an Update, each paid line naming
// the payout's external id ("paid"); that changes no amount, so it is not
// a conflict, and the artist sees those earnings as paid.
//
// These activities go only to node actors (an Application with actorKind
// "node"): other servers never see them.

// statementType is the object type of a settlement statement.
const statementType = "SettlementStatement"

// nodeActorDoc is the part of a node actor's document statements need.
type nodeActorDoc struct {
	ID              string `json:"id"`
	Type            types  `json:"type"`
	ActorKind       string `json:"actorKind"`
	Inbox           string `json:"inbox"`
	AssertionMethod []struct {
		ID                 string `json:"id"`
		Controller         string `json:"controller"`
		PublicKeyMultibase string `json:"publicKeyMultibase"`
	} `json:"assertionMethod"`
}

// peerNode fetches the actor at iri and checks that it is a 9ten node's
// actor, on its own host.
func (f *Service) peerNode(ctx context.Context, iri string) (*nodeActorDoc, error) {
	const op = "federation.peerNode"
	if f.blocked(ctx, iri) {
		return nil, errBlocked(op, iri)
	}
	var doc nodeActorDoc
	if err := f.Client.GetJSON(ctx, iri, "", f.signGET(ctx), &doc); err != nil {
		return nil, nineten.E(op, err)
	}
	if doc.ID != iri || doc.Type.main() != "Application" || doc.ActorKind != "node" || !sameHost(iri, doc.Inbox) {
		return nil, nineten.E(op, nineten.KindPermission, iri+" is not the actor of a 9ten node (an Application with actorKind node)")
	}
	return &doc, nil
}

// assertionKey is the node's Ed25519 key named keyID, from its
// assertionMethod.
func (d *nodeActorDoc) assertionKey(keyID string) (ed25519.PublicKey, error) {
	for _, k := range d.AssertionMethod {
		if k.ID == keyID && k.Controller == d.ID {
			return multikeyPublic(k.PublicKeyMultibase)
		}
	}
	return nil, fmt.Errorf("%s does not list the key %s in its assertionMethod", d.ID, keyID)
}

// nodeActorIRI is the actor of the node known on the ledger as node (its
// host and port).
func (f *Service) nodeActorIRI(node string) string {
	return f.remoteScheme() + "://" + node + "/actor"
}

// SendStatements sends period's statements (see the top of this file):
// one per node whose artists this node's listeners paid. A statement
// recorded already is not sent again, unless it could not be delivered
// yet.
func (f *Service) SendStatements(ctx context.Context, period nineten.Period) ([]nineten.SettlementStatement, error) {
	const op = "federation.SendStatements"
	if f.Ledger == nil || f.LedgerNode == "" {
		return nil, nineten.E(op, nineten.KindUnavailable, "the node has no ledger to send statements from")
	}
	all, err := f.Ledger.Statements(ctx, period)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	byNode := map[string][]nineten.StatementLine{}
	var payees []string
	for _, s := range all {
		if s.From != f.LedgerNode || s.Node == f.LedgerNode || s.Amount <= 0 {
			continue
		}
		if byNode[s.Node] == nil {
			payees = append(payees, s.Node)
		}
		byNode[s.Node] = append(byNode[s.Node], nineten.StatementLine{Artist: s.Node + "/" + s.Artist, Amount: s.Amount})
	}
	if len(payees) == 0 {
		return []nineten.SettlementStatement{}, nil
	}
	txs, err := f.settleTransactions(ctx, period)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	var out []nineten.SettlementStatement
	for _, payee := range payees {
		st, err := f.sendStatement(ctx, period, payee, byNode[payee], txs[payee])
		if err != nil {
			return out, nineten.E(op, err)
		}
		out = append(out, *st)
	}
	return out, nil
}

// settleTransactions lists, per artists' node, the numbers of period's
// settle transactions that paid its artists, as ranges ("101-250").
func (f *Service) settleTransactions(ctx context.Context, period nineten.Period) (map[string][]string, error) {
	seqs := map[string][]uint64{}
	err := f.Ledger.Transactions(ctx, "", func(tx nineten.MoneyTx) error {
		if tx.Op != "settle" || tx.Period != period {
			return nil
		}
		seen := map[string]bool{}
		for _, l := range tx.Outputs {
			node, _, ok := strings.Cut(strings.TrimPrefix(l.Account, "artist:"), "/")
			if ok && strings.HasPrefix(l.Account, "artist:") && !seen[node] {
				seen[node] = true
				seqs[node] = append(seqs[node], tx.Seq)
			}
		}
		return nil
	})
	out := map[string][]string{}
	for node, s := range seqs {
		out[node] = ranges(s)
	}
	return out, err
}

// ranges writes increasing numbers as runs: 1 2 3 7 → "1-3", "7".
func ranges(s []uint64) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if i == j {
			out = append(out, strconv.FormatUint(s[i], 10))
		} else {
			out = append(out, strconv.FormatUint(s[i], 10)+"-"+strconv.FormatUint(s[j], 10))
		}
		i = j + 1
	}
	return out
}

// statementResend is how long a statement waits for its acknowledgement
// before sending the month's statements again sends it again.
const statementResend = 7 * 24 * time.Hour

func (f *Service) statementIRI(period nineten.Period, payee string) string {
	return f.url("/statements/" + string(period) + "/" + payee)
}

func (f *Service) sendStatement(ctx context.Context, period nineten.Period, payee string, lines []nineten.StatementLine, txs []string) (*nineten.SettlementStatement, error) {
	id := f.statementIRI(period, payee)
	prev, err := f.Store.Statement(ctx, id, nineten.StatementSent)
	switch {
	case err == nil && (prev.Status == nineten.StatementUndelivered || prev.Status == nineten.StatementPending && f.now().Sub(prev.UpdatedAt) > statementResend):
		// Not delivered yet, or never acknowledged (the deliveries gave
		// up on a node that was down for weeks): sent again.
		return prev, f.deliverStatement(ctx, prev, "Create")
	case err == nil:
		return prev, nil
	case nineten.ErrorKind(err) != nineten.KindNotFound:
		return nil, err
	}
	st := &nineten.SettlementStatement{
		ID: id, Direction: nineten.StatementSent, Period: period, Payer: f.LedgerNode, Payee: payee,
		Peer: f.nodeActorIRI(payee), Lines: lines, Status: nineten.StatementUndelivered, CreatedAt: f.now(), UpdatedAt: f.now(),
	}
	for _, l := range lines {
		st.Total += l.Amount
	}
	lineDocs := make([]any, len(lines))
	for i, l := range lines {
		lineDocs[i] = map[string]any{"artist": l.Artist, "amount": int64(l.Amount)}
	}
	txDocs := make([]any, len(txs))
	for i, t := range txs {
		txDocs[i] = t
	}
	doc := map[string]any{
		"@context":     statementContext,
		"id":           id,
		"type":         statementType,
		"attributedTo": f.url("/actor"),
		"to":           []any{st.Peer},
		"published":    timestamp(st.CreatedAt),
		"period":       string(period),
		"payer":        st.Payer,
		"payee":        payee,
		"unit":         "micro-USD",
		"total":        int64(st.Total),
		"lines":        lineDocs,
		"settlement": map[string]any{
			"ledger": st.Payer, "operation": "settle", "period": string(period), "transactions": txDocs,
		},
	}
	if err := f.signStatement(ctx, st, doc); err != nil {
		return nil, err
	}
	if err := f.Store.SaveStatement(ctx, st); err != nil {
		return nil, err
	}
	return st, f.deliverStatement(ctx, st, "Create")
}

// statementContext is the @context of statements: ours, and the Data
// Integrity terms of the proof.
var statementContext = []any{asContext, dataIntegrityContext, terms}

// signNodeDoc signs doc as the node (FEP-8b32) and returns it as it goes
// on the wire: statements, monthly reports and attestations are all signed
// so.
func (f *Service) signNodeDoc(ctx context.Context, doc map[string]any) (map[string]any, error) {
	k, err := f.Keys(ctx, nodeActorName)
	if err != nil {
		return nil, err
	}
	// Sign what the receiver will read: the document as it goes on the wire.
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	wire, err := decodeDoc(b)
	if err != nil {
		return nil, err
	}
	if err := signProof(wire, k.Ed25519, f.url("/actor")+"#ed25519-key", f.now()); err != nil {
		return nil, err
	}
	return wire, nil
}

// signStatement signs doc as the node, and keeps it and its digest in st.
func (f *Service) signStatement(ctx context.Context, st *nineten.SettlementStatement, doc map[string]any) error {
	wire, err := f.signNodeDoc(ctx, doc)
	if err != nil {
		return err
	}
	if st.Digest, err = statementDigest(wire); err != nil {
		return err
	}
	st.Document, err = json.Marshal(wire)
	return err
}

// statementDigest is the hex SHA-256 of a statement's canonical form
// without its proof and without the payouts of its lines: what a payout
// does not change.
func statementDigest(doc map[string]any) (string, error) {
	core := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			core[k] = v
		}
	}
	if lines, ok := doc["lines"].([]any); ok {
		stripped := make([]any, len(lines))
		for i, l := range lines {
			m, ok := l.(map[string]any)
			if !ok {
				return "", fmt.Errorf("line %d is not an object", i+1)
			}
			c := make(map[string]any, len(m))
			for k, v := range m {
				if k != "paid" {
					c[k] = v
				}
			}
			stripped[i] = c
		}
		core["lines"] = stripped
	}
	b, err := canonicalJSON(core)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// deliverStatement queues the statement in a Create (or Update) to the
// payee node's actor, once that is found to be a node actor; a node that
// cannot be reached leaves the statement undelivered, for the next try.
func (f *Service) deliverStatement(ctx context.Context, st *nineten.SettlementStatement, verb string) error {
	peer, err := f.peerNode(ctx, st.Peer)
	if err != nil {
		st.Status, st.Reason, st.UpdatedAt = nineten.StatementUndelivered, nineten.ErrorMessage(err), f.now()
		if serr := f.Store.SaveStatement(ctx, st); serr != nil {
			return serr
		}
		f.Log.WarnContext(ctx, "a settlement statement could not be delivered yet", "statement", st.ID, "err", err)
		return nil
	}
	var obj any
	if err := json.Unmarshal(st.Document, &obj); err != nil {
		return err
	}
	if err := f.sendToNode(ctx, peer, verb, st.ID, obj); err != nil {
		return err
	}
	if st.Status == nineten.StatementUndelivered {
		st.Status, st.Reason = nineten.StatementPending, ""
	}
	st.UpdatedAt = f.now()
	return f.Store.SaveStatement(ctx, st)
}

// sendToNode queues a signed document (its id is id) in a Create or
// Update from this node's actor to peer, a node actor: how statements,
// monthly reports and attestations travel.
func (f *Service) sendToNode(ctx context.Context, peer *nodeActorDoc, verb, id string, signed any) error {
	act := map[string]any{
		"@context": statementContext, "id": id + "#" + strings.ToLower(verb) + "-" + randomID(), "type": verb,
		"actor": f.url("/actor"), "to": []any{peer.ID}, "object": signed,
	}
	return f.deliver(ctx, nodeActorName, act, peer.Inbox)
}

// receivedStatement is a statement read and checked by its receiver.
type receivedStatement struct {
	st  nineten.SettlementStatement
	doc map[string]any
}

// receiveStatement handles what settlement statements send: a statement
// in a Create or Update, or the answer to one of ours. It reports whether
// the activity was one of those.
func (f *Service) receiveStatement(ctx context.Context, act *activity, body []byte) (bool, error) {
	switch act.Type {
	case "Create", "Update":
		if parseRef(act.Object).Type != statementType {
			return false, nil
		}
		return true, f.takeStatement(ctx, act, body)
	case "Accept", "Reject":
		st, err := f.Store.Statement(ctx, parseRef(act.Object).ID, nineten.StatementSent)
		if err != nil {
			return false, nil // not about a statement of ours
		}
		return true, f.statementAnswered(ctx, act, body, st)
	}
	return false, nil
}

// takeStatement checks and records a statement. A statement its sender
// really signed but this node refuses is answered with a Reject saying
// why, so that the sender's admins see it; one whose proof fails gets no
// answer (nobody vouches for it), only the HTTP refusal.
func (f *Service) takeStatement(ctx context.Context, act *activity, body []byte) error {
	const op = "federation.receiveStatement"
	sender, err := f.peerNode(ctx, act.Actor)
	if err != nil {
		return nineten.E(op, nineten.KindPermission, "settlement statements are taken from node actors only: "+nineten.ErrorMessage(err))
	}
	doc, err := verifyStatement(act, body, sender)
	if err != nil {
		return nineten.E(op, err)
	}
	rs, err := f.readStatement(act, doc)
	if err == nil {
		err = f.recordStatement(ctx, rs)
	}
	if err != nil {
		reject := map[string]any{
			"@context": statementContext, "id": f.url("/actor") + "#rejects/" + randomID(), "type": "Reject",
			"actor": f.url("/actor"), "to": []any{act.Actor}, "object": doc["id"], "summary": nineten.ErrorMessage(err),
		}
		if derr := f.deliver(ctx, nodeActorName, reject, sender.Inbox); derr != nil {
			f.Log.WarnContext(ctx, "could not answer a refused statement", "statement", doc["id"], "err", derr)
		}
		return nineten.E(op, err)
	}
	accept := map[string]any{
		"@context": statementContext, "id": f.url("/actor") + "#accepts/" + randomID(), "type": "Accept",
		"actor": f.url("/actor"), "to": []any{act.Actor}, "object": rs.st.ID, "statementDigest": rs.st.Digest,
		"payTo": f.payTo(ctx, rs.st.Lines),
	}
	return f.deliver(ctx, nodeActorName, accept, sender.Inbox)
}

// verifyStatement returns the statement embedded in an activity once its
// proof verifies with a key its sender, a node actor, publishes.
func verifyStatement(act *activity, body []byte, sender *nodeActorDoc) (map[string]any, error) {
	const op = "federation.verifyStatement"
	full, err := decodeDoc(body)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the activity is not a JSON object")
	}
	doc, ok := full["object"].(map[string]any)
	if !ok {
		return nil, nineten.E(op, nineten.KindInvalid, "the statement must be embedded in the activity")
	}
	id, _ := doc["id"].(string)
	if id == "" || !sameHost(id, act.Actor) || doc["attributedTo"] != act.Actor {
		return nil, nineten.E(op, nineten.KindInvalid, "the statement must have an id on its sender's host and be attributed to the sender")
	}
	_, keyID, err := proofOf(doc)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the statement "+id+" is not signed: "+err.Error())
	}
	pub, err := sender.assertionKey(keyID)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the statement "+id+" is signed with a key its sender does not publish: "+err.Error())
	}
	if err := verifyProof(doc, pub); err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the statement "+id+" is refused: "+err.Error())
	}
	return doc, nil
}

// readStatement reads a signed statement and checks what needs no store:
// that it is for this node, and its arithmetic.
func (f *Service) readStatement(act *activity, doc map[string]any) (*receivedStatement, error) {
	const op = "federation.readStatement"
	bad := func(msg string) error { return nineten.E(op, nineten.KindInvalid, msg) }
	str := func(k string) string { s, _ := doc[k].(string); return s }
	id := str("id")
	st := nineten.SettlementStatement{
		ID: id, Direction: nineten.StatementReceived, Period: nineten.Period(str("period")), Payer: str("payer"),
		Payee: str("payee"), Peer: act.Actor, Status: nineten.StatementRecorded,
	}
	if st.Payee != f.LedgerNode {
		return nil, bad(fmt.Sprintf("the statement %s is for the node %q; this node is %q", id, st.Payee, f.LedgerNode))
	}
	if _, err := st.Period.Start(); err != nil || st.Payer == "" || str("unit") != "micro-USD" {
		return nil, bad("the statement " + id + " needs a period (YYYY-MM), a payer and amounts in micro-USD")
	}
	total, err := amountOf(doc["total"])
	if err != nil {
		return nil, bad("the statement's total " + err.Error())
	}
	lines, _ := doc["lines"].([]any)
	if len(lines) == 0 {
		return nil, bad("the statement " + id + " has no lines")
	}
	seen := map[string]bool{}
	var sum nineten.Micro
	for i, raw := range lines {
		l, _ := raw.(map[string]any)
		artist, _ := l["artist"].(string)
		amount, err := amountOf(l["amount"])
		if err != nil {
			return nil, bad(fmt.Sprintf("line %d: the amount %s", i+1, err))
		}
		node, local, ok := strings.Cut(artist, "/")
		if !ok || node != f.LedgerNode || seen[artist] {
			return nil, bad(fmt.Sprintf("line %d: %q is not an artist of this node (%s/<id>), or is named twice", i+1, artist, f.LedgerNode))
		}
		if _, err := strconv.ParseInt(local, 10, 64); err != nil {
			return nil, bad(fmt.Sprintf("line %d: %q is not an artist of this node", i+1, artist))
		}
		seen[artist] = true
		paid, _ := l["paid"].(string)
		st.Lines = append(st.Lines, nineten.StatementLine{Artist: artist, Amount: amount, PaidRef: paid})
		if sum += amount; sum < 0 {
			return nil, bad("the lines overflow")
		}
	}
	if sum != total {
		return nil, bad(fmt.Sprintf("the lines of %s add up to %d micro-USD, not to its total of %d", id, sum, total))
	}
	st.Total = total
	if st.Digest, err = statementDigest(doc); err != nil {
		return nil, bad(err.Error())
	}
	return &receivedStatement{st: st, doc: doc}, nil
}

// amountOf reads a positive whole number of micro-dollars.
func amountOf(v any) (nineten.Micro, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i <= 0 || i > maxSafeInteger {
		return 0, fmt.Errorf("%s is not a positive whole number of micro-USD", n)
	}
	return nineten.Micro(i), nil
}

// recordStatement keeps a checked statement once; a payout's Update adds
// what was paid; another version of it is kept aside and refused.
func (f *Service) recordStatement(ctx context.Context, rs *receivedStatement) error {
	const op = "federation.recordStatement"
	st := &rs.st
	for _, l := range st.Lines {
		_, local, _ := strings.Cut(l.Artist, "/")
		id, _ := strconv.ParseInt(local, 10, 64)
		if _, err := f.Store.ArtistByID(ctx, nineten.ID(id)); err != nil {
			return nineten.E(op, nineten.KindNotFound, "the statement "+st.ID+" names "+l.Artist+", who is no artist of this node")
		}
	}
	doc, err := json.Marshal(rs.doc)
	if err != nil {
		return err
	}
	st.Document, st.CreatedAt, st.UpdatedAt = doc, f.now(), f.now()
	var conflict *nineten.SettlementStatement
	err = f.Store.WithTx(ctx, func(tx nineten.Store) error {
		prev, err := tx.Statement(ctx, st.ID, nineten.StatementReceived)
		switch {
		case nineten.ErrorKind(err) == nineten.KindNotFound:
			for i := range st.Lines {
				if st.Lines[i].PaidRef != "" {
					st.Lines[i].PaidAt = f.now()
				}
			}
			f.Log.InfoContext(ctx, "settlement statement recorded", "statement", st.ID, "from", st.Peer, "total", st.Total.String())
			return tx.SaveStatement(ctx, st)
		case err != nil:
			return err
		case prev.Digest != st.Digest || prev.Peer != st.Peer:
			conflict = prev
			return nil
		}
		// The same statement: only payouts it reports are new.
		changed := false
		for i, l := range prev.Lines {
			if ref := st.Lines[i].PaidRef; ref != "" && l.PaidRef == "" {
				prev.Lines[i].PaidRef, prev.Lines[i].PaidAt, changed = ref, f.now(), true
			}
		}
		if !changed {
			return nil
		}
		prev.Document, prev.UpdatedAt = st.Document, f.now()
		return tx.SaveStatement(ctx, prev)
	})
	if err != nil || conflict == nil {
		return err
	}
	// Another version: kept aside for the admins, never applied.
	if err := f.Store.AddStatementConflict(ctx, nineten.StatementConflict{StatementID: st.ID, Digest: st.Digest, Document: st.Document, ReceivedAt: f.now()}); err != nil {
		return err
	}
	conflict.Status, conflict.UpdatedAt = nineten.StatementConflicted, f.now()
	conflict.Reason = "another version of this statement arrived (digest " + st.Digest + "); the first one is kept"
	if err := f.Store.SaveStatement(ctx, conflict); err != nil {
		return err
	}
	f.Log.WarnContext(ctx, "another version of a settlement statement was refused", "statement", st.ID, "kept", conflict.Digest, "refused", st.Digest)
	return nineten.E(op, nineten.KindConflict, "the statement "+st.ID+" was recorded before with other amounts (digest "+conflict.Digest+"); this version is kept aside for the admins, not applied")
}

// payTo names, for each artist of lines, the wallet they registered here
// first: where the paying node sends their money.
func (f *Service) payTo(ctx context.Context, lines []nineten.StatementLine) []any {
	out := []any{}
	for _, l := range lines {
		_, local, _ := strings.Cut(l.Artist, "/")
		id, _ := strconv.ParseInt(local, 10, 64)
		a, err := f.Store.ArtistByID(ctx, nineten.ID(id))
		if err != nil {
			continue
		}
		if ws, err := f.Store.WalletsOf(ctx, a.OwnerID); err == nil && len(ws) > 0 {
			out = append(out, map[string]any{"artist": l.Artist, "wallet": ws[0].Address})
		}
	}
	return out
}

// statementAnswered records the payee's answer to one of our statements.
func (f *Service) statementAnswered(ctx context.Context, act *activity, body []byte, st *nineten.SettlementStatement) error {
	const op = "federation.statementAnswered"
	if act.Actor != st.Peer {
		return nineten.E(op, nineten.KindPermission, "only "+st.Peer+" answers the statement "+st.ID)
	}
	var answer struct {
		Digest  string `json:"statementDigest"`
		Summary string `json:"summary"`
		PayTo   []struct {
			Artist string `json:"artist"`
			Wallet string `json:"wallet"`
		} `json:"payTo"`
	}
	_ = json.Unmarshal(body, &answer)
	switch {
	case act.Type == "Reject":
		st.Status, st.Reason = nineten.StatementRefused, cmp.Or(answer.Summary, "refused without a reason")
	case answer.Digest != st.Digest:
		st.Status, st.Reason = nineten.StatementRefused, "the payee node acknowledged another version (digest "+answer.Digest+")"
	default:
		st.Status, st.Reason = nineten.StatementAcknowledged, ""
		for _, p := range answer.PayTo {
			if i := slices.IndexFunc(st.Lines, func(l nineten.StatementLine) bool { return l.Artist == p.Artist }); i >= 0 {
				st.Lines[i].Wallet = p.Wallet
			}
		}
	}
	st.UpdatedAt = f.now()
	f.Log.InfoContext(ctx, "a settlement statement was answered", "statement", st.ID, "status", st.Status, "reason", st.Reason)
	return f.Store.SaveStatement(ctx, st)
}

// RecordRemotePayout records on the ledger that the artist of another node
// was paid their whole balance here under extID (a transfer from the
// node's payout wallet to the wallet their node named), marks the lines it
// paid, and sends the statements again as Updates saying so.
func (f *Service) RecordRemotePayout(ctx context.Context, artist, extID string) (nineten.MoneyTx, error) {
	const op = "federation.RecordRemotePayout"
	node, _, ok := strings.Cut(artist, "/")
	if !ok || node == f.LedgerNode || f.Ledger == nil {
		return nineten.MoneyTx{}, nineten.E(op, nineten.KindInvalid, "name an artist of another node as <node>/<artist id>")
	}
	if extID == "" {
		return nineten.MoneyTx{}, nineten.E(op, nineten.KindInvalid, "give the payout's external id (usdp:<tx hash>:<log index>, gw:<gateway>:<payout id>)")
	}
	owed, err := f.Ledger.Balance(ctx, nineten.AccountArtist, artist)
	if err != nil {
		return nineten.MoneyTx{}, nineten.E(op, err)
	}
	if owed <= 0 {
		return nineten.MoneyTx{}, nineten.E(op, nineten.KindConflict, artist+" has nothing to be paid here")
	}
	if open, err := f.Store.Payouts(ctx, nineten.PayoutFilter{Artist: artist, States: []nineten.ChainPayoutState{nineten.PayoutPending, nineten.PayoutSent}}); err != nil {
		return nineten.MoneyTx{}, nineten.E(op, err)
	} else if len(open) > 0 {
		return nineten.MoneyTx{}, nineten.E(op, nineten.KindConflict, artist+" is being paid from the payout wallet (transfer "+cmp.Or(open[0].TxHash, "not signed yet")+"); wait until it is confirmed")
	}
	tx, err := f.Ledger.Payout(ctx, nineten.AccountArtist, artist, extID, owed)
	if err != nil {
		return tx, nineten.E(op, err)
	}
	if err := f.RemotePaid(ctx, artist, extID); err != nil {
		return tx, nineten.E(op, err)
	}
	return tx, nil
}

// RemotePaid marks the unpaid lines of artist ("<node>/<id>") in the
// statements sent to their node paid by extID, and sends those statements
// again as Updates saying so. Doing it again changes nothing; an artist of
// this node has no statements, so nothing is done for them.
func (f *Service) RemotePaid(ctx context.Context, artist, extID string) error {
	if node, _, _ := strings.Cut(artist, "/"); node == f.LedgerNode {
		return nil
	}
	for offset := 0; ; offset += 200 {
		sts, err := f.Store.Statements(ctx, nineten.StatementFilter{Direction: nineten.StatementSent}, nineten.Page{Limit: 200, Offset: offset})
		if err != nil {
			return err
		}
		for i := range sts {
			if err := f.markPaid(ctx, &sts[i], artist, extID); err != nil {
				return err
			}
		}
		if len(sts) < 200 {
			return nil
		}
	}
}

// RemotePayee is an artist of another node this node owes money, and the
// wallet their node named for them.
type RemotePayee struct {
	Artist string // "<node>/<artist id>"
	Wallet string
	Owed   nineten.Micro
}

// RemotePayees lists the artists of other nodes to pay out now, by artist:
// those with a balance here and an unpaid line in a statement their node
// acknowledged naming a wallet (the newest statement's wallet). Artists
// whose node named none stay owed, for the admins (RecordRemotePayout).
func (f *Service) RemotePayees(ctx context.Context) ([]RemotePayee, error) {
	const op = "federation.RemotePayees"
	if f.Ledger == nil {
		return nil, nil
	}
	wallets := map[string]string{}
	for offset := 0; ; offset += 200 {
		// Newest period first: the first wallet seen is the newest.
		sts, err := f.Store.Statements(ctx, nineten.StatementFilter{Direction: nineten.StatementSent, Status: nineten.StatementAcknowledged}, nineten.Page{Limit: 200, Offset: offset})
		if err != nil {
			return nil, nineten.E(op, err)
		}
		for _, st := range sts {
			for _, l := range st.Lines {
				if _, seen := wallets[l.Artist]; !seen && l.Wallet != "" && l.PaidRef == "" {
					wallets[l.Artist] = l.Wallet
				}
			}
		}
		if len(sts) < 200 {
			break
		}
	}
	var out []RemotePayee
	for _, artist := range slices.Sorted(maps.Keys(wallets)) {
		owed, err := f.Ledger.Balance(ctx, nineten.AccountArtist, artist)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		if owed > 0 {
			out = append(out, RemotePayee{Artist: artist, Wallet: wallets[artist], Owed: owed})
		}
	}
	return out, nil
}

// markPaid marks the artist's unpaid line of a sent statement paid by
// extID and tells the payee node in an Update.
func (f *Service) markPaid(ctx context.Context, st *nineten.SettlementStatement, artist, extID string) error {
	i := slices.IndexFunc(st.Lines, func(l nineten.StatementLine) bool { return l.Artist == artist && l.PaidRef == "" })
	if i < 0 {
		return nil
	}
	st.Lines[i].PaidRef, st.Lines[i].PaidAt = extID, f.now()
	doc, err := decodeDoc(st.Document)
	if err != nil {
		return err
	}
	delete(doc, "proof")
	for _, raw := range doc["lines"].([]any) {
		if l := raw.(map[string]any); l["artist"] == artist {
			l["paid"] = extID
		}
	}
	digest := st.Digest
	if err := f.signStatement(ctx, st, doc); err != nil {
		return err
	}
	if st.Digest != digest {
		return fmt.Errorf("marking %s paid changed its digest", st.ID)
	}
	if err := f.Store.SaveStatement(ctx, st); err != nil {
		return err
	}
	return f.deliverStatement(ctx, st, "Update")
}
