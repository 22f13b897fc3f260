package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/sqlstore"
)

// mediaPrefixes are the top-level prefixes of every media key the node
// writes (tracks/<id>/…, albums/<id>/…).
var mediaPrefixes = []string{"tracks", "albums"}

func migrateCmd() *cobra.Command {
	var o options
	var toDB, toBlob string
	cmd := &cobra.Command{
		Use:   "migrate --to-db postgres://… --to-blob s3://…",
		Short: "Move a node's database and media to other storage (e.g. SQLite + disk → PostgreSQL + S3)",
		Long: "Copy the node's media to --to-blob and its database to --to-db, then check both: every\n" +
			"media file by size and SHA-256 read back from the target, every table by row count and\n" +
			"checksum. Stop the node first. The media copy can be run again after an interruption (files\n" +
			"already there and equal are skipped); the database copy is one transaction into an empty,\n" +
			"new database. Afterwards start the node with --db and --blob set to the targets, keeping\n" +
			"its data directory (node.secret and ledger.key).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if toDB == "" && toBlob == "" {
				return errors.New("give --to-db, --to-blob or both")
			}
			return migrateNode(cmd.Context(), o, toDB, toBlob, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "./data", "the node's data directory")
	dbFlag(f, &o.DB)
	f.StringVar(&o.Blob, "blob", "", "where the node keeps media now (default: media in --data)")
	f.StringVar(&toDB, "to-db", "", "the new database: a PostgreSQL URL (or a SQLite file)")
	f.StringVar(&toBlob, "to-blob", "", "the new media store: s3://bucket?endpoint=… (or a directory)")
	return cmd
}

func migrateNode(ctx context.Context, o options, toDB, toBlob string, stdout, stderr io.Writer) error {
	if toBlob != "" {
		src, err := openBlobs(ctx, o)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := openBlobs(ctx, options{Data: o.Data, Blob: toBlob})
		if err != nil {
			return err
		}
		defer dst.Close()
		files, size, skipped, err := copyMedia(ctx, src, dst, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "media: %d files (%s) copied and verified by SHA-256, %d already there\n", files, humanBytes(size), skipped)
	}
	if toDB != "" {
		addr, err := existingDatabase(o.Data, o.DB)
		if err != nil {
			return err
		}
		src, err := sqlstore.Open(ctx, addr)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := sqlstore.Open(ctx, toDB)
		if err != nil {
			return err
		}
		defer dst.Close()
		var last time.Time
		tables, err := sqlstore.Copy(ctx, src, dst, func(table string, done, total int64) {
			if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || done == total {
				last = now
				fmt.Fprintf(stderr, "\rcopying the database: %-18s %d of %d rows\033[K", table, done, total)
			}
		})
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		var rows int64
		for _, t := range tables {
			rows += t.Rows
		}
		fmt.Fprintf(stdout, "database: %d rows in %d tables copied; every table's row count and checksum match\n", rows, len(tables))
	}
	fmt.Fprintln(stdout, "done: start the node with the new --db/--blob and the same --data")
	return nil
}

// copyMedia copies every media file from src to dst and reads each back
// to compare its SHA-256 with the source's. Files already in dst with the
// same content are left alone, so an interrupted run can be resumed.
func copyMedia(ctx context.Context, src, dst nineten.BlobStore, progress io.Writer) (files int, size int64, skipped int, err error) {
	var keys []string
	for _, p := range mediaPrefixes {
		ks, err := src.List(ctx, p)
		if nineten.ErrorKind(err) == nineten.KindNotFound {
			continue
		}
		if err != nil {
			return 0, 0, 0, fmt.Errorf("listing the media under %s/: %w", p, err)
		}
		keys = append(keys, ks...)
	}
	var last time.Time
	for i, key := range keys {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || i == len(keys)-1 {
			last = now
			fmt.Fprintf(progress, "\rcopying media: %d of %d files (%s)\033[K", i+1, len(keys), humanBytes(size))
		}
		want, n, err := digest(ctx, src, key)
		if err != nil {
			return files, size, skipped, fmt.Errorf("reading %s: %w", key, err)
		}
		if have, m, err := digest(ctx, dst, key); err == nil && m == n && bytes.Equal(have, want) {
			skipped++
			continue
		} else if err != nil && nineten.ErrorKind(err) != nineten.KindNotFound {
			return files, size, skipped, fmt.Errorf("checking %s in the target: %w", key, err)
		}
		b, err := src.Open(ctx, key)
		if err != nil {
			return files, size, skipped, err
		}
		_, err = dst.Put(ctx, key, b)
		b.Close()
		if err != nil {
			return files, size, skipped, fmt.Errorf("writing %s: %w", key, err)
		}
		got, m, err := digest(ctx, dst, key)
		if err != nil || m != n || !bytes.Equal(got, want) {
			return files, size, skipped, fmt.Errorf("%s differs after copying (%d of %d bytes read back): %v", key, m, n, err)
		}
		files++
		size += n
	}
	fmt.Fprintln(progress)
	return files, size, skipped, nil
}

func digest(ctx context.Context, s nineten.BlobStore, key string) ([]byte, int64, error) {
	b, err := s.Open(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	defer b.Close()
	h := sha256.New()
	n, err := io.Copy(h, b)
	return h.Sum(nil), n, err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
