package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
)

// ledgerKeyFile is the file in the data directory holding the Ed25519 seed
// (32 bytes) that signs the embedded ledger's entries. Like node.secret it
// never leaves the node: whoever holds it can sign entries. Its public key
// is in every entry's Signer, for auditors of a copy of the log.
const ledgerKeyFile = "ledger.key"

func ledgerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ledger", Short: "Inspect the node's payout ledger"}
	var data, db string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check every entry, hash, signature and balance of the ledger",
		Long: "Replay the embedded ledger's log from its first entry: check that the entries are\n" +
			"numbered without gaps, that each names the hash of the one before, that each hash\n" +
			"matches the entry and is signed by the node's ledger key, that the logged writes\n" +
			"rebuild the stored state byte for byte, and that the contract's audit passes.\n" +
			"Exits non-zero on the first problem, naming the entry or state key.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return verifyLedger(cmd.Context(), data, db, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	verify.Flags().StringVar(&data, "data", "./data", "the node's data directory")
	dbFlag(verify.Flags(), &db)
	cmd.AddCommand(verify)
	return cmd
}

// verifyLedger runs embedded.Ledger.Verify on the node in dataDir (whose
// database is dbAddr, or in dataDir), with progress on stderr and a
// summary on stdout.
func verifyLedger(ctx context.Context, dataDir, dbAddr string, stdout, stderr io.Writer) error {
	addr, err := existingDatabase(dataDir, dbAddr)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, addr)
	if err != nil {
		return err
	}
	defer db.Close()
	total, _, err := db.LedgerHead(ctx)
	if err != nil {
		return err
	}
	key, found, err := readLedgerKey(dataDir)
	if err != nil {
		return err
	}
	var pub ed25519.PublicKey
	switch {
	case found:
		pub = key.Public().(ed25519.PublicKey)
	case total > 0:
		return fmt.Errorf("%s is missing but the ledger has %d signed entries: restore it from a backup",
			filepath.Join(dataDir, ledgerKeyFile), total)
	default:
		// Nothing is signed yet, so no key is needed to check the entries;
		// an ephemeral one lets Verify still check the state is empty.
		pub, _, _ = ed25519.GenerateKey(rand.Reader)
	}

	var shown bool
	var last time.Time
	progress := func(done int64) {
		total = max(total, done) // the node may have appended since
		if now := time.Now(); done == total || now.Sub(last) >= 200*time.Millisecond {
			last, shown = now, true
			fmt.Fprintf(stderr, "\rverifying the ledger: %d of %d entries (%d%%)", done, total, done*100/max(total, 1))
		}
	}
	rep, err := (&embedded.Ledger{Store: db}).Verify(ctx, pub, progress)
	if shown {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		if rep != nil && rep.Entries > 0 {
			fmt.Fprintf(stderr, "entries 1 to %d are intact\n", rep.Entries)
		}
		return err
	}
	fmt.Fprintf(stdout, "ledger OK: %d entries\n", rep.Entries)
	if rep.Head != nil {
		fmt.Fprintf(stdout, "  head:          %s\n", hex.EncodeToString(rep.Head))
		fmt.Fprintf(stdout, "  signed by:     %s\n", embedded.KeyID(pub))
	}
	fmt.Fprintf(stdout, "  state keys:    %d\n", rep.Keys)
	fmt.Fprintf(stdout, "  accounts:      %d\n", rep.Accounts)
	fmt.Fprintf(stdout, "  transactions:  %d\n", rep.Transactions)
	fmt.Fprintf(stdout, "  total balance: %s held for listeners, months, artists and the operator\n", rep.Balance)
	return nil
}

// loadLedgerKey returns the node's ledger key from dataDir, making it on
// first use. Two processes starting at once agree on one key: the new key
// is written to a temporary file and linked into place, which fails if the
// other got there first, and then that one is read.
func loadLedgerKey(dataDir string) (ed25519.PrivateKey, error) {
	if key, found, err := readLedgerKey(dataDir); err != nil || found {
		return key, err
	}
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	tmp, err := os.CreateTemp(dataDir, ledgerKeyFile+".*")
	if err != nil {
		return nil, fmt.Errorf("writing the ledger key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; the key is never readable by others.
	_, err = tmp.Write(seed)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the ledger key: %w", err)
	}
	if err := os.Link(tmp.Name(), filepath.Join(dataDir, ledgerKeyFile)); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("writing the ledger key: %w", err)
	}
	key, _, err := readLedgerKey(dataDir)
	return key, err
}

// readLedgerKey reads the ledger key in dataDir; found is false when there
// is none yet.
func readLedgerKey(dataDir string) (key ed25519.PrivateKey, found bool, err error) {
	path := filepath.Join(dataDir, ledgerKeyFile)
	seed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the ledger key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, false, fmt.Errorf("the ledger key %s holds %d bytes, not %d: restore it from a backup", path, len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), true, nil
}
