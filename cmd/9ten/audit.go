package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/federation"
	"nineten.dev/report"
)

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Export and check a month's audit bundle"}
	cmd.AddCommand(auditExportCmd(), auditVerifyCmd())
	return cmd
}

func auditExportCmd() *cobra.Command {
	var (
		o          options
		month, out string
	)
	cmd := &cobra.Command{
		Use:   "export --month YYYY-MM --out BUNDLE",
		Short: "Write a month's audit bundle: reports, peer attestations, ledger events and Merkle proofs",
		Long: "Write the audit bundle of a month (a .tar.gz): its monthly and daily listening reports\n" +
			"as signed and anchored, every anchor the ledger holds of them, the month's ledger\n" +
			"transactions (artists' credits, no listeners), and a Merkle tree with one line per\n" +
			"report and per artist (listening and earnings) with each line's proof, and the cluster\n" +
			"peers' signed attestations of the monthly report with the keys their node actors publish\n" +
			"(fetched now: the peers must answer), under a manifest signed by the node's report key.\n" +
			"The month's report must pass its checks.\n" +
			"Check it anywhere with 9ten audit verify.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openTool(cmd, &o)
			if err != nil {
				return err
			}
			defer n.Close()
			tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			m, err := n.reports.Export(cmd.Context(), nineten.Period(month), tmp)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote the audit bundle of %s of %s to %s\n", m.Month, m.Node, out)
			fmt.Fprintf(w, "  files:        %d\n", len(m.Files)+2)
			fmt.Fprintf(w, "  lines:        %d (reports and artists)\n", m.Lines)
			fmt.Fprintf(w, "  merkle root:  %s\n", m.MerkleRoot)
			fmt.Fprintf(w, "  signed by:    %s\n", m.Signer)
			return nil
		},
	}
	nodeFlags(cmd, &o)
	cmd.Flags().StringVar(&month, "month", "", "the month, YYYY-MM")
	cmd.Flags().StringVar(&out, "out", "", "the bundle file to write")
	_ = cmd.MarkFlagRequired("month")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func auditVerifyCmd() *cobra.Command {
	var artist string
	cmd := &cobra.Command{
		Use:   "verify BUNDLE",
		Short: "Check an audit bundle offline; with --artist, an artist's own earnings",
		Long: "Check an audit bundle without the node: the manifest's signature and every file's hash,\n" +
			"every report's signature and that it is the version the ledger anchors, the Merkle root\n" +
			"and every proof, that each artist's earnings are the ledger's credits, and that each peer\n" +
			"attestation is signed (FEP-8b32) by the key it carries and attests this monthly report's\n" +
			"hash. With --artist\n" +
			"(the artist's id, or <node>/<id>) it shows that artist's listening and earnings, proved.\n" +
			"Compare the signer it prints with the reportSigner of the node's actor, and each\n" +
			"attestation's key with the one its peer's actor publishes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := report.VerifyBundle(f, artist, federation.VerifyProof)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			m := c.Manifest
			fmt.Fprintf(w, "audit bundle of %s of %s: OK\n", m.Month, m.Node)
			fmt.Fprintf(w, "  signed by:    %s\n", m.Signer)
			fmt.Fprintf(w, "  merkle root:  %s (%d lines, every proof checked)\n", m.MerkleRoot, m.Lines)
			fmt.Fprintf(w, "  reports:      %d, each signed and the version anchored on the ledger\n", c.Reports)
			fmt.Fprintf(w, "  ledger:       %d transactions of the month\n", c.Events)
			fmt.Fprintf(w, "  attestations: %d, each signed by its peer and of this monthly report\n", len(c.Attestations))
			for _, a := range c.Attestations {
				fmt.Fprintf(w, "    %s: %s (key %s, ed25519 %s)\n", a.Peer, a.Verdict, a.KeyID, a.PublicKey)
				for _, f := range a.Findings {
					fmt.Fprintf(w, "      finding: %s\n", f)
				}
			}
			if a := c.Artist; a != nil {
				fmt.Fprintf(w, "artist %s in %s:\n", a.Artist, m.Month)
				if a.Suppressed {
					fmt.Fprintf(w, "  listens:      left out (fewer listeners than the node publishes)\n")
				} else {
					fmt.Fprintf(w, "  listens:      %d by %d listeners, %d s heard\n", a.Listens, a.Listeners, a.HeardMS/1000)
				}
				fmt.Fprintf(w, "  earned:       $%s in %d settlement transactions %v\n", a.Earned, len(a.SettleTxs), a.SettleTxs)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&artist, "artist", "", "show and prove this artist's line: their id, or <node>/<id>")
	return cmd
}
