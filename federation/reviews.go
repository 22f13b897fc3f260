package federation

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Peer review of monthly listening reports (issue 6), node actor to node
// actor within a cluster (--cluster, --cluster-peers).
//
// Before a month is settled, the node sends each cluster peer's node
// actor a Create of its monthly report:
//
//	{"type": "MonthlyReport", "id": "https://a/reports/monthly-2026-10",
//	 "attributedTo": "https://a/actor", "month": "2026-10", "node": "a.example",
//	 "hash": <the report's hash, as anchored>, "digest": <SHA-256 of the file>,
//	 "dailies": [{"id": "https://a/reports/daily-2026-10-01", "hash": …, "digest": …}, …],
//	 "payoutDigest": <the node's own split of the month, see payoutDigest>,
//	 "proof": {eddsa-jcs-2022}}
//
// The sealed files are served at their ids (they are encrypted to the
// node, its peers and auditors; their headers are published anyway). The
// peer, if the sender is one of its cluster peers, fetches them, checks
// they are the files announced, opens them with the sender's report signer
// (published in its actor) and its own age identity, re-runs the month's
// checks and the contract's split (report.Service.Review), and answers
// with a Create of a signed ReportAttestation:
//
//	{"type": "ReportAttestation", "object": <the report's id>, "month": …,
//	 "reportHash": …, "verdict": "agree" | "disagree", "findings": […],
//	 "payoutDigest": <the peer's split>, "proof": {…}}
//
// Agreement from every peer lets the month be settled (ReviewGate). A
// disagreement, or no attestation by the deadline (ReviewDeadline), opens
// a dispute: the month is not settled automatically, and admins see why
// (GET /api/v1/admin/reviews) until one of them resolves it.

// JobReviewReport is the job that reviews a peer's monthly report.
const JobReviewReport = "federation_review_report"

// DefaultReviewDeadline is how long peers have to attest a month.
const DefaultReviewDeadline = 72 * time.Hour

const (
	monthlyReportType = "MonthlyReport"
	attestationType   = "ReportAttestation"
)

// isClusterPeer reports whether the actor is the node actor of one of the
// node's cluster peers.
func (f *Service) isClusterPeer(actor string) bool {
	for _, p := range f.ClusterPeers {
		if strings.TrimSuffix(p, "/")+"/actor" == actor {
			return true
		}
	}
	return false
}

// payoutDigest names a split: the hex SHA-256 of one line "<artist>
// <micro-USD>" per artist, in order.
func payoutDigest(shares []nineten.ArtistShare) string {
	h := sha256.New()
	for _, s := range shares {
		fmt.Fprintf(h, "%s %d\n", s.Artist, s.Amount)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// monthReports reads the node's stored monthly report of month and its
// dailies, in the order of the days.
func (f *Service) monthReports(ctx context.Context, month nineten.Period) (*nineten.StoredReport, []*nineten.StoredReport, error) {
	start, err := month.Start()
	if err != nil {
		return nil, nil, err
	}
	m, err := f.Store.Report(ctx, "monthly-"+string(month))
	if err != nil {
		return nil, nil, err
	}
	var dailies []*nineten.StoredReport
	for d := start; nineten.PeriodOf(d) == month; d = d.AddDate(0, 0, 1) {
		r, err := f.Store.Report(ctx, "daily-"+d.Format("2006-01-02"))
		if err != nil {
			return nil, nil, err
		}
		dailies = append(dailies, r)
	}
	return m, dailies, nil
}

// RequestReview sends the node's monthly report of month to each cluster
// peer (made first if need be), once per peer and version of the report.
func (f *Service) RequestReview(ctx context.Context, month nineten.Period) ([]nineten.PeerReview, error) {
	const op = "federation.RequestReview"
	if len(f.ClusterPeers) == 0 {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node has no cluster peers (--cluster-peers) to review its reports")
	}
	if f.MakeMonthly == nil || f.ReviewReport == nil {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node makes no listening reports")
	}
	if err := f.MakeMonthly(ctx, month); err != nil {
		return nil, nineten.E(op, err)
	}
	m, dailies, err := f.monthReports(ctx, month)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	files := make([][]byte, len(dailies))
	refs := make([]any, len(dailies))
	for i, d := range dailies {
		files[i] = d.File
		refs[i] = map[string]any{"id": f.url("/reports/" + d.ID), "hash": d.Hash, "digest": fileDigest(d.File)}
	}
	// The node checks its own month as its peers will.
	own, err := f.ReviewReport(ctx, f.Reports.Signer, month, m.File, files)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if len(own.Findings) > 0 {
		return nil, nineten.E(op, nineten.KindConflict, "the node's own monthly report fails its checks: "+strings.Join(own.Findings, "; "))
	}
	doc := map[string]any{
		"@context": statementContext, "id": f.url("/reports/" + m.ID), "type": monthlyReportType,
		"attributedTo": f.url("/actor"), "published": timestamp(f.now()), "month": string(month), "node": f.LedgerNode,
		"hash": m.Hash, "digest": fileDigest(m.File), "dailies": refs, "payoutDigest": payoutDigest(own.Payout),
	}
	signed, err := f.signNodeDoc(ctx, doc)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	asked, err := f.Store.Reviews(ctx, month, nineten.ReviewAsked)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	var out []nineten.PeerReview
	for _, base := range f.ClusterPeers {
		peer := strings.TrimSuffix(base, "/") + "/actor"
		if i := slices.IndexFunc(asked, func(r nineten.PeerReview) bool { return r.Peer == peer && r.ReportHash == m.Hash }); i >= 0 {
			out = append(out, asked[i])
			continue
		}
		r := nineten.PeerReview{Month: month, Peer: peer, Role: nineten.ReviewAsked, Status: nineten.ReviewPending, ReportHash: m.Hash,
			RequestedAt: f.now(), Deadline: f.now().Add(cmp.Or(f.ReviewDeadline, DefaultReviewDeadline))}
		if node, err := f.peerNode(ctx, peer); err != nil {
			// Unreachable now: the deadline still runs, and asking again
			// (the next tick) tries again.
			f.Log.WarnContext(ctx, "a cluster peer could not be asked to review the month", "peer", peer, "month", month, "err", err)
			r.ReportHash = ""
		} else {
			if err := f.sendToNode(ctx, node, "Create", f.url("/reports/"+m.ID), signed); err != nil {
				return nil, nineten.E(op, err)
			}
		}
		if i := slices.IndexFunc(asked, func(a nineten.PeerReview) bool { return a.Peer == peer }); i >= 0 && asked[i].ReportHash == "" {
			r.Deadline = asked[i].Deadline // asking again does not move the deadline
		}
		if err := f.Store.SaveReview(ctx, &r); err != nil {
			return nil, nineten.E(op, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ReviewGate says whether month may be settled: every cluster peer agreed
// with its report, or an admin resolved the dispute. Otherwise it asks for
// the reviews (KindUnavailable: settlement waits) or reports the dispute
// (KindConflict: it is held until resolved).
func (f *Service) ReviewGate(ctx context.Context, month nineten.Period) error {
	const op = "federation.ReviewGate"
	if len(f.ClusterPeers) == 0 {
		return nil
	}
	disputes, err := f.Store.Disputes(ctx, month)
	if err != nil {
		return nineten.E(op, err)
	}
	for _, d := range disputes {
		if d.Resolved.IsZero() {
			return nineten.E(op, nineten.KindConflict, "the settlement of "+string(month)+" is held by a dispute: "+d.Reason+"; an admin resolves it (POST /api/v1/admin/disputes/"+string(month)+"/resolve)")
		}
	}
	if len(disputes) > 0 {
		return nil // resolved by an admin
	}
	reviews, err := f.Store.Reviews(ctx, month, nineten.ReviewAsked)
	if err != nil {
		return nineten.E(op, err)
	}
	if len(reviews) < len(f.ClusterPeers) || slices.ContainsFunc(reviews, func(r nineten.PeerReview) bool { return r.ReportHash == "" }) {
		if _, err := f.RequestReview(ctx, month); err != nil {
			return nineten.E(op, err)
		}
		if reviews, err = f.Store.Reviews(ctx, month, nineten.ReviewAsked); err != nil {
			return nineten.E(op, err)
		}
	}
	var waiting []string
	for _, r := range reviews {
		switch {
		case r.Status == nineten.ReviewAgreed:
		case r.Status == nineten.ReviewDisagreed:
			return f.dispute(ctx, month, r.Peer+" disagrees with the monthly report: "+strings.Join(r.Findings, "; "))
		case r.Status == nineten.ReviewMissing || f.now().After(r.Deadline):
			r.Status = nineten.ReviewMissing
			if err := f.Store.SaveReview(ctx, &r); err != nil {
				return nineten.E(op, err)
			}
			return f.dispute(ctx, month, r.Peer+" did not attest the monthly report by "+timestamp(r.Deadline))
		default:
			waiting = append(waiting, r.Peer+" (until "+timestamp(r.Deadline)+")")
		}
	}
	if len(waiting) > 0 {
		return nineten.E(op, nineten.KindUnavailable, "the settlement of "+string(month)+" waits for the peer review of its report by "+strings.Join(waiting, ", "))
	}
	return nil
}

// dispute opens a dispute of month and says so.
func (f *Service) dispute(ctx context.Context, month nineten.Period, reason string) error {
	if err := f.Store.OpenDispute(ctx, nineten.Dispute{Month: month, Reason: reason, OpenedAt: f.now()}); err != nil {
		return err
	}
	f.Log.WarnContext(ctx, "a month's settlement is held by a dispute", "month", month, "reason", reason)
	return nineten.E("federation.ReviewGate", nineten.KindConflict, "the settlement of "+string(month)+" is held by a dispute: "+reason+"; an admin resolves it (POST /api/v1/admin/disputes/"+string(month)+"/resolve)")
}

// reportFile serves the node's sealed report files at their ids.
func (f *Service) reportFile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !strings.HasPrefix(id, "monthly-") && !strings.HasPrefix(id, "daily-") {
		problem(w, r, http.StatusNotFound, "no such report")
		return
	}
	rep, err := f.Store.Report(r.Context(), id)
	if err != nil {
		f.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+rep.Hash+`"`)
	_, _ = w.Write(rep.File)
}

// receiveReview handles the two activities of peer review; it reports
// whether the activity was one of them.
func (f *Service) receiveReview(ctx context.Context, act *activity, body []byte) (bool, error) {
	if act.Type != "Create" {
		return false, nil
	}
	switch parseRef(act.Object).Type {
	case monthlyReportType:
		return true, f.reviewAsked(ctx, act, body)
	case attestationType:
		return true, f.attested(ctx, act, body)
	}
	return false, nil
}

// reviewAsked takes a cluster peer's request to review its month: the
// review itself (fetching the files) runs as a job.
func (f *Service) reviewAsked(ctx context.Context, act *activity, body []byte) error {
	const op = "federation.reviewAsked"
	if !f.isClusterPeer(act.Actor) {
		return nineten.E(op, nineten.KindPermission, act.Actor+" is not a peer of this node's cluster (--cluster-peers)")
	}
	sender, err := f.peerNode(ctx, act.Actor)
	if err != nil {
		return nineten.E(op, nineten.KindPermission, err)
	}
	doc, err := verifyStatement(act, body, sender)
	if err != nil {
		return err
	}
	month, _ := doc["month"].(string)
	hash, _ := doc["hash"].(string)
	if _, err := nineten.Period(month).Start(); err != nil || hash == "" {
		return nineten.E(op, nineten.KindInvalid, "a monthly report names its month and its hash")
	}
	r := nineten.PeerReview{Month: nineten.Period(month), Peer: act.Actor, Role: nineten.ReviewGiven, Status: nineten.ReviewPending, ReportHash: hash, RequestedAt: f.now()}
	if err := f.Store.SaveReview(ctx, &r); err != nil {
		return err
	}
	payload, _ := json.Marshal(reviewJob{Peer: act.Actor, Doc: doc})
	err = f.Store.Enqueue(ctx, &nineten.Job{Kind: JobReviewReport, Payload: payload, MaxAttempts: 10, RunAt: f.now()})
	if err == nil && f.Enqueued != nil {
		f.Enqueued()
	}
	return err
}

type reviewJob struct {
	Peer string         `json:"peer"`
	Doc  map[string]any `json:"doc"`
}

// ReportReviewer is the job handler that reviews a peer's month.
type ReportReviewer struct{ *Service }

// Reviewer returns the handler for JobReviewReport.
func (f *Service) Reviewer() ReportReviewer { return ReportReviewer{f} }

// Run fetches the peer's report files, reviews them and sends the signed
// attestation.
func (rv ReportReviewer) Run(ctx context.Context, job *nineten.Job, _ func(int)) error {
	const op = "federation.ReviewReport"
	f := rv.Service
	var in reviewJob
	if err := json.Unmarshal(job.Payload, &in); err != nil {
		return nineten.E(op, nineten.KindInvalid, "bad review job", err)
	}
	month, _ := in.Doc["month"].(string)
	reportID, _ := in.Doc["id"].(string)
	hash, _ := in.Doc["hash"].(string)
	digest, _ := in.Doc["digest"].(string)
	base := strings.TrimSuffix(in.Peer, "/actor")
	keys, err := f.PeerReportKeys(ctx, base)
	if err != nil {
		return err
	}
	var findings []string
	monthly, err := f.fetchReport(ctx, in.Peer, reportID, digest)
	if nineten.ErrorKind(err) == nineten.KindConflict {
		findings = append(findings, "hash: "+nineten.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	var dailies [][]byte
	refs, _ := in.Doc["dailies"].([]any)
	for _, raw := range refs {
		ref, _ := raw.(map[string]any)
		id, _ := ref["id"].(string)
		d, _ := ref["digest"].(string)
		b, err := f.fetchReport(ctx, in.Peer, id, d)
		if nineten.ErrorKind(err) == nineten.KindConflict {
			findings = append(findings, "hash: "+nineten.ErrorMessage(err))
		} else if err != nil {
			return err
		}
		dailies = append(dailies, b)
	}
	var payout string
	if len(findings) == 0 {
		rev, err := f.ReviewReport(ctx, keys.Signer, nineten.Period(month), monthly, dailies)
		if err != nil {
			return err
		}
		findings = append(findings, rev.Findings...)
		payout = payoutDigest(rev.Payout)
		if want, _ := in.Doc["payoutDigest"].(string); len(rev.Findings) == 0 && want != payout {
			findings = append(findings, "payout: the contract's split of the report's listening is "+payout+", the node announced "+want)
		}
	}
	verdict, status := "agree", nineten.ReviewAgreed
	if len(findings) > 0 {
		verdict, status = "disagree", nineten.ReviewDisagreed
	}
	fs := make([]any, len(findings))
	for i, s := range findings {
		fs[i] = s
	}
	doc := map[string]any{
		"@context": statementContext, "id": f.url("/reviews/" + month + "/" + hostOf(in.Peer)), "type": attestationType,
		"attributedTo": f.url("/actor"), "published": timestamp(f.now()), "object": reportID, "month": month,
		"reportHash": hash, "verdict": verdict, "findings": fs, "payoutDigest": payout,
	}
	signed, err := f.signNodeDoc(ctx, doc)
	if err != nil {
		return err
	}
	attestation, err := json.Marshal(signed)
	if err != nil {
		return err
	}
	sender, err := f.peerNode(ctx, in.Peer)
	if err != nil {
		return err
	}
	if err := f.sendToNode(ctx, sender, "Create", f.url("/reviews/"+month+"/"+hostOf(in.Peer)), signed); err != nil {
		return err
	}
	r := nineten.PeerReview{Month: nineten.Period(month), Peer: in.Peer, Role: nineten.ReviewGiven, Status: status, ReportHash: hash,
		Findings: findings, Attestation: attestation, RequestedAt: job.CreatedAt, AnsweredAt: f.now()}
	f.Log.InfoContext(ctx, "a peer's monthly report was reviewed", "peer", in.Peer, "month", month, "verdict", verdict, "findings", len(findings))
	return f.Store.SaveReview(ctx, &r)
}

// GiveUp logs a review that could not be made.
func (rv ReportReviewer) GiveUp(ctx context.Context, job *nineten.Job, err error) {
	rv.Log.WarnContext(ctx, "gave up reviewing a peer's report", "job", job.ID, "err", err)
}

// fileDigest is the hex SHA-256 of a whole report file, as announced for
// fetching (a report's own hash leaves its signature out).
func fileDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// fetchReport fetches a sealed report file of the peer at iri (on the
// peer's host) and checks it is the file announced (KindConflict if not).
func (f *Service) fetchReport(ctx context.Context, peer, iri, digest string) ([]byte, error) {
	const op = "federation.fetchReport"
	if !sameHost(iri, peer) {
		return nil, nineten.E(op, nineten.KindConflict, iri+" is not on the peer's host")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, iri, nil)
	if err != nil {
		return nil, nineten.E(op, nineten.KindConflict, iri+" is not a URL")
	}
	client := cmp.Or(f.MediaClient, f.Client)
	resp, err := client.Do(req)
	if err != nil {
		return nil, nineten.E(op, nineten.KindUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nineten.E(op, nineten.KindUnavailable, fmt.Sprintf("%s answered %d", iri, resp.StatusCode))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nineten.E(op, nineten.KindUnavailable, err)
	}
	if fileDigest(b) != digest {
		return b, nineten.E(op, nineten.KindConflict, "the file at "+iri+" is not the one announced (its SHA-256 differs)")
	}
	return b, nil
}

// attested records a peer's attestation of one of our months.
func (f *Service) attested(ctx context.Context, act *activity, body []byte) error {
	const op = "federation.attested"
	sender, err := f.peerNode(ctx, act.Actor)
	if err != nil {
		return nineten.E(op, nineten.KindPermission, err)
	}
	doc, err := verifyStatement(act, body, sender)
	if err != nil {
		return err
	}
	month, _ := doc["month"].(string)
	reviews, err := f.Store.Reviews(ctx, nineten.Period(month), nineten.ReviewAsked)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(reviews, func(r nineten.PeerReview) bool { return r.Peer == act.Actor })
	if i < 0 {
		return nineten.E(op, nineten.KindNotFound, "this node asked "+act.Actor+" for no review of "+month)
	}
	r := reviews[i]
	if hash, _ := doc["reportHash"].(string); hash != r.ReportHash {
		return f.ignore(ctx, act, "it attests another version of the report")
	}
	r.Findings = nil
	if fs, ok := doc["findings"].([]any); ok {
		for _, x := range fs {
			if s, ok := x.(string); ok {
				r.Findings = append(r.Findings, s)
			}
		}
	}
	r.Status = nineten.ReviewAgreed
	if doc["verdict"] != "agree" {
		r.Status = nineten.ReviewDisagreed
	}
	r.Attestation, _ = json.Marshal(doc)
	r.AnsweredAt = f.now()
	if err := f.Store.SaveReview(ctx, &r); err != nil {
		return err
	}
	f.Log.InfoContext(ctx, "a peer attested the monthly report", "peer", act.Actor, "month", month, "status", r.Status)
	if r.Status == nineten.ReviewDisagreed {
		err := f.dispute(ctx, r.Month, act.Actor+" disagrees with the monthly report: "+strings.Join(r.Findings, "; "))
		if nineten.ErrorKind(err) == nineten.KindConflict {
			return nil // the dispute is open: that is the outcome
		}
		return err
	}
	return nil
}

// AssertionKey fetches the node actor that keyID ("<actor>#<key>") belongs
// to and returns the Ed25519 key it publishes under that id: what an audit
// bundle carries to check a peer's attestation offline.
func (f *Service) AssertionKey(ctx context.Context, keyID string) (ed25519.PublicKey, error) {
	const op = "federation.AssertionKey"
	actor, _, _ := strings.Cut(keyID, "#")
	doc, err := f.peerNode(ctx, actor)
	if err != nil {
		return nil, nineten.E(op, nineten.KindUnavailable, "could not fetch the node actor "+actor, err)
	}
	pub, err := doc.assertionKey(keyID)
	if err != nil {
		return nil, nineten.E(op, nineten.KindNotFound, err)
	}
	return pub, nil
}

// VerifyProof checks the object integrity proof (FEP-8b32,
// eddsa-jcs-2022) of a signed document, such as a stored attestation, with
// pub, the key its proof names; it needs no network.
func VerifyProof(doc []byte, pub ed25519.PublicKey) error {
	d, err := decodeDoc(doc)
	if err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	return verifyProof(d, pub)
}
