package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/report"
	"nineten.dev/seal"
	"nineten.dev/sqlstore"
)

func reportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Make and check the node's listening reports"}
	cmd.AddCommand(reportDailyCmd(), reportMonthlyCmd(), reportVerifyCmd())
	return cmd
}

// openTool opens the node o describes for an admin command that uses its
// ledger: the node must have run once, which named it on the ledger.
func openTool(cmd *cobra.Command, o *options) (*node, error) {
	if err := applyConfig(cmd); err != nil {
		return nil, err
	}
	log, err := newLogger(*o)
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	n, err := openNode(ctx, *o, log)
	if err != nil {
		return nil, err
	}
	name, err := n.db.Setting(ctx, ledgerNodeSetting)
	if err != nil {
		n.Close()
		if nineten.ErrorKind(err) == nineten.KindNotFound {
			return nil, fmt.Errorf("this node has not run yet: start it once with 9ten serve, which names it on the ledger")
		}
		return nil, err
	}
	n.setLedgerNode(name)
	if n.fed.Base == nil {
		n.fed.Base = &url.URL{Scheme: "http", Host: name}
	}
	return n, nil
}

func reportDailyCmd() *cobra.Command {
	var (
		o         options
		date, out string
	)
	cmd := &cobra.Command{
		Use:   "daily --date YYYY-MM-DD",
		Short: "Make (or make again) the listening report of a UTC day",
		Long: "Aggregate the day's verified listening per track, per artist and per listener × artist\n" +
			"(listeners under the month's pseudonyms), encrypt it to the node, its cluster peers and\n" +
			"the auditors, sign it and anchor its hash on the ledger. The node does this by itself\n" +
			"an hour after each midnight UTC; running it again for a day whose listening did not\n" +
			"change changes nothing, and one whose listening changed is anchored as a new version.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openTool(cmd, &o)
			if err != nil {
				return err
			}
			defer n.Close()
			r, err := n.reports.Daily(cmd.Context(), date, rowsPrinter(cmd.ErrOrStderr()))
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			printReport(cmd.OutOrStdout(), r)
			return writeReport(out, r)
		},
	}
	nodeFlags(cmd, &o)
	cmd.Flags().StringVar(&date, "date", "", "the UTC day, YYYY-MM-DD")
	cmd.Flags().StringVar(&out, "out", "", "also write the signed, encrypted report to this file")
	_ = cmd.MarkFlagRequired("date")
	return cmd
}

// rowsPrinter shows how many listener × track rows of the day were read,
// at most five times a second.
func rowsPrinter(w io.Writer) func(n int) {
	var last time.Time
	return func(n int) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond {
			last = now
			fmt.Fprintf(w, "\rreading the day's listening: %d listener × track rows", n)
		}
	}
}

func printReport(w io.Writer, r *nineten.StoredReport) {
	fmt.Fprintf(w, "report %s (version %d, anchored on the ledger)\n", r.ID, r.Version)
	fmt.Fprintf(w, "  hash:        %s\n", r.Hash)
	fmt.Fprintf(w, "  listens:     %d\n", r.Listens)
	fmt.Fprintf(w, "  listeners:   %d\n", r.Listeners)
	fmt.Fprintf(w, "  suppressed:  %d groups of fewer listeners than --report-k left out of the published summary\n", r.Suppressed)
}

func reportMonthlyCmd() *cobra.Command {
	var (
		o          options
		month, out string
	)
	cmd := &cobra.Command{
		Use:   "monthly --month YYYY-MM",
		Short: "Compile and check the listening report of a month",
		Long: "Bring every daily report of the month up to date, compile them into the month's report,\n" +
			"seal, sign and anchor it, and run its checks: every report is signed by the node and is\n" +
			"the version anchored on the ledger, every day is there, the dailies sum to the monthly\n" +
			"totals, each daily counts exactly the verified listens of its day, and one pseudonym\n" +
			"key serves the month. The settlement pays from this report only when every check passes.\n" +
			"Exits non-zero when a check fails, saying what it found.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openTool(cmd, &o)
			if err != nil {
				return err
			}
			defer n.Close()
			stderr := cmd.ErrOrStderr()
			days := 0
			c, err := n.reports.Monthly(cmd.Context(), nineten.Period(month), func(day string) {
				days++
				fmt.Fprintf(stderr, "\rdaily reports: %d (%s)", days, day)
			})
			fmt.Fprintln(stderr)
			if err != nil {
				return err
			}
			printReport(cmd.OutOrStdout(), c.Report)
			if err := writeReport(out, c.Report); err != nil {
				return err
			}
			return printChecks(cmd.OutOrStdout(), c)
		},
	}
	nodeFlags(cmd, &o)
	cmd.Flags().StringVar(&month, "month", "", "the month, YYYY-MM")
	cmd.Flags().StringVar(&out, "out", "", "also write the signed, encrypted report to this file")
	_ = cmd.MarkFlagRequired("month")
	return cmd
}

// writeReport writes a report's file to path, when one is given.
func writeReport(path string, r *nineten.StoredReport) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, r.File, 0o644)
}

func printChecks(w io.Writer, c *report.Checked) error {
	for _, check := range []string{report.CheckSignature, report.CheckAnchor, report.CheckComplete, report.CheckSum, report.CheckVerified, report.CheckPseudonyms} {
		status := "ok"
		for _, f := range c.Findings {
			if f.Check == check {
				status = "FAILED"
			}
		}
		fmt.Fprintf(w, "  check %-11s %s\n", check+":", status)
	}
	for _, f := range c.Findings {
		fmt.Fprintf(w, "    %s: %s\n", f.Check, f.Problem)
	}
	return c.Err()
}

func reportVerifyCmd() *cobra.Command {
	var data, dbAddr, identity, signer string
	var offline bool
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a listening report's signature and its anchor on the ledger",
		Long: "Check that FILE is a listening report signed by the key its header names (or --signer) and, unless\n" +
			"--offline, that the node's ledger (in --data, or --db) anchors exactly its hash under\n" +
			"that signer. With --identity (an age identity file of a recipient: the node's node.age,\n" +
			"a peer's or an auditor's) it also decrypts the report and checks its content.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return verifyReport(cmd.Context(), cmd.OutOrStdout(), file, data, dbAddr, identity, signer, offline)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "./data", "the node's data directory")
	dbFlag(f, &dbAddr)
	f.StringVar(&identity, "identity", "", "an age identity file to decrypt the report with")
	f.BoolVar(&offline, "offline", false, "check the signature only, without the node's ledger")
	f.StringVar(&signer, "signer", "", "require this signer (ed25519:…, the reportSigner of the node's actor)")
	return cmd
}

func verifyReport(ctx context.Context, w io.Writer, file []byte, data, dbAddr, identity, signer string, offline bool) error {
	f, err := report.Parse(file)
	if err != nil {
		return err
	}
	var want ed25519.PublicKey
	if signer != "" {
		if want, err = report.ParseSigner(signer); err != nil {
			return fmt.Errorf("--signer: %s", nineten.ErrorMessage(err))
		}
	}
	if err := f.Verify(want); err != nil {
		return err
	}
	h := f.Header
	fmt.Fprintf(w, "report %s of %s (%s): signature OK\n", h.ID, h.Node, h.Day)
	fmt.Fprintf(w, "  signed by:   %s\n", h.Signer)
	fmt.Fprintf(w, "  hash:        %s\n", f.Hash)
	fmt.Fprintf(w, "  recipients:  %d\n", len(h.Recipients))
	fmt.Fprintf(w, "  published:   %d tracks, %d artists; %d groups of fewer than %d listeners left out\n",
		len(h.Summary.Tracks), len(h.Summary.Artists), h.Summary.Suppressed, h.Summary.K)
	if !offline {
		addr, err := existingDatabase(data, dbAddr)
		if err != nil {
			return err
		}
		db, err := sqlstore.Open(ctx, addr)
		if err != nil {
			return err
		}
		defer db.Close()
		ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db}, Node: h.Node}
		anchors, err := ledger.ReportAnchors(ctx, h.ID)
		if err != nil {
			return err
		}
		found := false
		for _, a := range anchors {
			if a.Hash == f.Hash && a.Signer == h.Signer {
				found = true
				state := "the latest"
				if a.Version < len(anchors) {
					state = fmt.Sprintf("superseded by version %d", len(anchors))
				}
				fmt.Fprintf(w, "  anchored:    version %d of %s on the ledger (%s)\n", a.Version, h.Node, state)
			}
		}
		if !found {
			return nineten.E("report.verify", nineten.KindPermission, fmt.Sprintf("the ledger of %s does not anchor this report's hash under its signer (%d versions anchored): it was altered or is not this node's", h.Node, len(anchors)))
		}
	}
	if identity != "" {
		idFile, err := os.Open(identity)
		if err != nil {
			return err
		}
		defer idFile.Close()
		_, plain, err := report.Open(file, nil, func(b []byte) ([]byte, error) { return seal.DecryptWith(b, idFile) })
		if err != nil {
			return err
		}
		var totals report.Group
		if d, err := report.DecodeDaily(plain); err == nil {
			totals = d.Totals
		} else if m, err := report.DecodeMonthly(plain); err == nil {
			totals = m.Totals
		} else {
			return err
		}
		fmt.Fprintf(w, "  decrypted:   %d listens, %d s heard, %d listeners (content matches the header)\n", totals.Listens, totals.HeardMS/1000, totals.Listeners)
	}
	return nil
}
