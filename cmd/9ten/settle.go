package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/anomaly"
	"nineten.dev/ledger/embedded"
	"nineten.dev/payout"
	"nineten.dev/sqlstore"
)

func settleCmd() *cobra.Command {
	var (
		data, dbAddr, month string
		dryRun              bool
	)
	cmd := &cobra.Command{
		Use:   "settle --month YYYY-MM",
		Short: "Pay out a month: each subscriber's $9 to their top 9 artists",
		Long: "Settle a month on the node's ledger from its verified listening: every subscriber's $9\n" +
			"(plus money held from months without listening) is split among the 9 artists they\n" +
			"listened to most, in proportion to their listening, exactly to the micro-dollar.\n" +
			"The node does this by itself on the settle day; this command runs it now or, with\n" +
			"--dry-run, shows what it would pay without recording anything. Settling a month\n" +
			"again with the same listening changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			path, err := existingDatabase(data, dbAddr)
			if err != nil {
				return err
			}
			db, err := sqlstore.Open(ctx, path)
			if err != nil {
				return err
			}
			defer db.Close()
			key, err := loadLedgerKey(data)
			if err != nil {
				return err
			}
			node, err := db.Setting(ctx, ledgerNodeSetting)
			if nineten.ErrorKind(err) == nineten.KindNotFound {
				return fmt.Errorf("this node has not run yet: start it once with 9ten serve, which names it on the ledger")
			}
			if err != nil {
				return err
			}
			ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key}, Node: node}
			detector := &anomaly.Service{Store: db}
			svc := &payout.Service{Ledger: ledger, Store: db, Node: node, BeforeTotals: detector.BeforeSettle, Gate: heldByReview(db)}
			res, err := svc.Settle(ctx, nineten.Period(month), dryRun, progressPrinter(cmd.ErrOrStderr(), "reading the month's listening"))
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			printSettlement(cmd.OutOrStdout(), node, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "./data", "the node's data directory")
	dbFlag(f, &dbAddr)
	f.StringVar(&month, "month", "", "the month to settle, YYYY-MM")
	f.BoolVar(&dryRun, "dry-run", false, "compute and show the payout without recording it")
	_ = cmd.MarkFlagRequired("month")
	return cmd
}

// progressPrinter returns a progress callback that rewrites one line of w
// at most five times a second.
func progressPrinter(w io.Writer, what string) func(n int) {
	var last time.Time
	return func(n int) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond {
			last = now
			fmt.Fprintf(w, "\r%s: %d listener × artist totals", what, n)
		}
	}
}

func printSettlement(w io.Writer, node string, r nineten.Settlement) {
	verb := "settled"
	if r.DryRun {
		verb = "would settle (dry run, nothing recorded)"
	}
	fmt.Fprintf(w, "%s %s of %s\n", verb, r.Period, node)
	fmt.Fprintf(w, "  listeners paid:       %d\n", r.Paid)
	fmt.Fprintf(w, "  listeners held:       %d (no eligible listening)\n", r.Held)
	fmt.Fprintf(w, "  listeners refunded:   %d ($%s)\n", r.Refunded, r.RefundedAmount)
	fmt.Fprintf(w, "  artists credited:     %d\n", r.Artists)
	fmt.Fprintf(w, "  to artists:           $%s\n", r.ToArtists)
	fmt.Fprintf(w, "  to held accounts:     $%s\n", r.ToHeld)
	if len(r.Ignored) > 0 {
		fmt.Fprintf(w, "  ignored:              %d listeners who listened without paying for the month\n", len(r.Ignored))
	}
	fmt.Fprintf(w, "  listening digest:     %s\n", r.Digest)
}

// heldByReview refuses, from the command line too, to settle a month that
// an open dispute holds or whose peer review (asked by the serving node of
// a cluster) is not all agreement; the serving node asks for the reviews.
func heldByReview(db nineten.Store) func(ctx context.Context, month nineten.Period) error {
	return func(ctx context.Context, month nineten.Period) error {
		ds, err := db.Disputes(ctx, month)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Resolved.IsZero() {
				return nineten.E("settle", nineten.KindConflict, "the settlement of "+string(month)+" is held by a dispute: "+d.Reason)
			}
		}
		if len(ds) > 0 {
			return nil // resolved by an admin
		}
		rs, err := db.Reviews(ctx, month, nineten.ReviewAsked)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Status != nineten.ReviewAgreed {
				return nineten.E("settle", nineten.KindConflict, "the peer review of "+string(month)+"'s report is not over: "+r.Peer+" is "+string(r.Status))
			}
		}
		return nil
	}
}
