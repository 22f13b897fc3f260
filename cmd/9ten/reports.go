package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	nineten "nineten.dev"
	"nineten.dev/federation"
	"nineten.dev/report"
	"nineten.dev/seal"
)

// reportOptions configure the listening reports and their audience.
type reportOptions struct {
	K        int
	Cluster  string
	Peers    []string // base URLs of the cluster's other nodes
	Auditors []string // age recipients
	// ReviewDeadline is how long the peers have to attest a month.
	ReviewDeadline time.Duration
}

func reportFlags(f *pflag.FlagSet, o *reportOptions) {
	f.IntVar(&o.K, "report-k", report.DefaultK, "a group of listening (a track, an artist, a day) is published in a report only when at least this many distinct listeners are in it")
	f.StringVar(&o.Cluster, "cluster", "", "name of the cluster of nodes this node belongs to (peers review each other's monthly reports)")
	f.StringSliceVar(&o.Peers, "cluster-peers", nil, "base URLs of the cluster's other nodes, comma-separated: their reports' recipients are read from their node actors")
	f.DurationVar(&o.ReviewDeadline, "review-deadline", federation.DefaultReviewDeadline, "how long the cluster peers have to attest a month's report before a missing attestation holds its settlement (a dispute)")
	f.StringSliceVar(&o.Auditors, "report-auditors", nil, "age recipients (age1…) of the auditors every listening report is also encrypted to, comma-separated")
}

// checkReportOptions says which report flag is wrong, and how.
func checkReportOptions(o reportOptions) error {
	if o.K < 1 {
		return fmt.Errorf("--report-k %d: give at least 1 (the default %d keeps small groups of listeners private)", o.K, report.DefaultK)
	}
	if _, err := seal.ParseRecipients(o.Auditors); err != nil {
		return fmt.Errorf("--report-auditors: %s", nineten.ErrorMessage(err))
	}
	for _, p := range o.Peers {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return fmt.Errorf("--cluster-peers: %q is not a node's base URL like https://music.example", p)
		}
	}
	return nil
}

// reportAgeFile is the node's age identity in the data directory: it
// decrypts the node's listening reports (and its peers', to review them).
const reportAgeFile = "node.age"

// openReports makes the node's report service and publishes its keys in
// the node actor.
func (n *node) openReports(ctx context.Context, o reportOptions, secret []byte) error {
	if err := checkReportOptions(o); err != nil {
		return err
	}
	cipher, err := seal.Load(filepath.Join(n.opts.Data, reportAgeFile))
	if err != nil {
		return err
	}
	// Like node.secret and ledger.key, every process needs the same identity.
	stored, err := n.db.InitSetting(ctx, "report_age_recipient", cipher.Recipient())
	if err != nil {
		return err
	}
	if stored != cipher.Recipient() {
		return fmt.Errorf("%s is not the age identity this node's database was set up with (%s): every process of a node needs the same %s",
			filepath.Join(n.opts.Data, reportAgeFile), stored, reportAgeFile)
	}
	n.reports = &report.Service{
		Store: n.db, Ledger: n.ledger, Cipher: cipher, Clock: n.clock, Secret: secret, K: o.K,
		Audience: (&audience{fed: n.fed, o: o, log: n.log}).recipients,
		Log:      n.log.With("component", "report"),
		PeerKey:  n.fed.AssertionKey,
	}
	n.fed.Reports = federation.ReportKeys{Recipient: cipher.Recipient(), Signer: n.reports.Signer(), Cluster: o.Cluster}
	n.payouts.Listening = n.reports.SettlementTotals
	// The cluster's peers review each month's report before it is settled.
	n.fed.ClusterPeers, n.fed.ReviewDeadline = o.Peers, o.ReviewDeadline
	n.fed.MakeMonthly = func(ctx context.Context, month nineten.Period) error {
		_, err := n.reports.Monthly(ctx, month, nil)
		return err
	}
	n.fed.ReviewReport = n.reports.Review
	n.payouts.Gate = n.fed.ReviewGate
	n.server.Reports = n.reports
	n.reports.BeforeDaily = n.anomaly.EnsureDay
	return nil
}

// audience is who the node's reports are encrypted to besides itself: the
// auditors, and the cluster peers, whose recipients are read from their
// node actors and remembered, so that a peer that is down for a day does
// not drop out of the reports made meanwhile.
type audience struct {
	fed   *federation.Service
	o     reportOptions
	log   *slog.Logger
	mu    sync.Mutex
	known map[string]string // peer base URL → recipient
}

func (a *audience) recipients(ctx context.Context) ([]string, error) {
	out := append([]string(nil), a.o.Auditors...)
	for _, peer := range a.o.Peers {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		keys, err := a.fed.PeerReportKeys(ctx, peer)
		cancel()
		a.mu.Lock()
		if a.known == nil {
			a.known = map[string]string{}
		}
		if err == nil {
			a.known[peer] = keys.Recipient
		}
		r, ok := a.known[peer]
		a.mu.Unlock()
		if !ok {
			// The report is made without the peer rather than not at all;
			// the next version, or the monthly report, reaches it.
			a.log.Warn("a cluster peer's report recipient is unknown; the report is made without it", "peer", peer, "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// reportLoop makes the reports that are due (report.Service.Tick) every
// quarter of an hour.
func (n *node) reportLoop(ctx context.Context) {
	tick := time.NewTicker(15 * time.Minute)
	defer tick.Stop()
	for {
		if err := n.reports.Tick(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("making the listening reports", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
