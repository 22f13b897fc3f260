package main

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	nineten "nineten.dev"
	"nineten.dev/catalog"
)

func importCmd() *cobra.Command {
	var (
		o        options
		username string
		artistID int64
	)
	cmd := &cobra.Command{
		Use:   "import DIR",
		Short: "Import a folder of music for an artist, and transcode it",
		Long: "Import every audio file under DIR (FLAC, MP3, WAV, Ogg Vorbis, Opus, M4A/AAC) into an\n" +
			"artist profile, reading tags and covers as uploads do, and process them with progress.\n" +
			"It may run beside a serving node on the same data directory.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			log, err := newLogger(o)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			n, err := openNode(ctx, o, log)
			if err != nil {
				return err
			}
			defer n.Close()
			u, err := n.db.UserByUsername(ctx, username)
			if err != nil {
				return err
			}
			if err := n.ensureArtist(ctx, u); err != nil {
				return err
			}
			return n.importDir(ctx, u, nineten.ID(artistID), args[0])
		},
	}
	nodeFlags(cmd, &o)
	cmd.Flags().StringVar(&username, "user", "", "username owning the artist profile")
	cmd.Flags().Int64Var(&artistID, "artist-id", 0, "artist profile to import into (needed when the user has several)")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

// ensureArtist gives a user without an artist profile one in their name.
func (n *node) ensureArtist(ctx context.Context, u *nineten.User) error {
	own, err := n.catalog.ArtistsOf(ctx, u)
	if err != nil || len(own) > 0 {
		return err
	}
	a, err := n.catalog.CreateArtist(ctx, u, u.DisplayName, "")
	if err == nil {
		fmt.Printf("  created the artist profile %q for %s\n", a.Name, u.Username)
	}
	return err
}

// importDir uploads every supported file under dir, then processes them.
func (n *node) importDir(ctx context.Context, u *nineten.User, artistID nineten.ID, dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && catalog.Supported(strings.ToLower(filepath.Ext(path))) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no audio files under %s", dir)
	}
	var ids []nineten.ID
	failed := 0
	for i, path := range files {
		fmt.Printf("\r  imported %d/%d files", i, len(files))
		t, err := n.uploadFile(ctx, u, artistID, path)
		if err != nil {
			fmt.Printf("\n  skipped %s: %v\n", path, nineten.ErrorMessage(err))
			failed++
			continue
		}
		ids = append(ids, t.ID)
	}
	fmt.Printf("\r  imported %d/%d files\n", len(ids), len(files))
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go n.runner.Run(ctx)
	if err := n.waitReady(ctx, ids); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be imported", failed, len(files))
	}
	return nil
}
