// Command 9ten runs a 9ten node — a federated, fair-pay music streaming
// server — and its admin tools.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "9ten:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "9ten",
		Short:         "9ten: a federated, fair-pay music streaming node",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), demoCmd(), userCmd(), importCmd(), ledgerCmd(), settleCmd(), migrateCmd(), reportCmd(), auditCmd())
	return root
}

// nodeFlags declares the settings of a node on cmd.
func nodeFlags(cmd *cobra.Command, o *options) {
	f := cmd.Flags()
	f.String("config", "", "config file of \"name = value\" lines, names as the flags below (env NINETEN_CONFIG)")
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on for HTTP")
	f.StringVar(&o.PublicURL, "url", "", "public base URL of the node, e.g. https://music.example (default: http://<addr>); federation ids are made from it")
	f.StringVar(&o.Data, "data", "./data", "directory for the database, media and the node's secret")
	f.StringVar(&o.DB, "db", "", dbUsage)
	f.StringVar(&o.Blob, "blob", "", "where media are kept: a directory, or s3://bucket[/prefix]?endpoint=host:port&region=…&insecure=1&style=path, "+
		"with credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (default: the media directory in --data)")
	f.BoolVar(&o.CacheRemoteMedia, "cache-remote-media", false, "stream other servers' tracks through this node, which keeps a copy of each file "+
		"(saves their bandwidth and keeps playing when they are down; listeners' plays count here either way)")
	f.BoolVar(&o.MediaRedirect, "media-redirect", false, "send players to 15-minute pre-signed S3 URLs for media instead of relaying the bytes "+
		"(needs --blob s3://…; a granted segment then counts as served: weaker evidence of listening)")
	f.StringVar(&o.AdminUser, "admin-user", "admin", "username of the admin account created on first start")
	f.StringVar(&o.AdminPassword, "admin-password", "", "password of that admin account (default: generated and printed once)")
	f.Int64Var(&o.MaxUploadMiB, "max-upload-mib", 2048, "largest audio file an artist may upload, in MiB")
	f.IntVar(&o.Workers, "workers", 1, "background workers transcoding uploads in parallel")
	f.BoolVar(&o.SecureCookies, "secure-cookies", false, "mark cookies Secure (set when a TLS proxy is in front)")
	f.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.BoolVar(&o.AuthorizedFetch, "authorized-fetch", false, "require signed requests for ActivityPub documents (like Mastodon's secure mode)")
	f.IntVar(&o.DeliveryWorkers, "delivery-workers", 16, "activities delivered to other servers at once (waiting on the network, not the CPU)")
	f.IntVar(&o.DeliveryHostLimit, "delivery-host-limit", 4, "of those, at most this many to any one server, so a slow server cannot hold up the others")
	f.BoolVar(&o.DevFederation, "dev-federation", false, "federate with nodes on loopback over plain http (development and tests only)")
	f.BoolVar(&o.SimulatedPayments, "simulated-payments", false, "let listeners add pretend money (demo nodes; labelled as such in the UI)")
	f.IntVar(&o.SettleDay, "settle-day", 20, "day of the month on which the month before is paid out to artists (1–25)")
	f.DurationVar(&o.ListenThreshold, "listen-threshold", 0, "listening time that makes a verified listen (default 30s; tests only)")
	_ = f.MarkHidden("listen-threshold")
	f.DurationVar(&o.DeliveryRetryBase, "delivery-retry-base", 0, "wait before a failed delivery is retried, doubling each time (default 1m; tests only)")
	_ = f.MarkHidden("delivery-retry-base")
	f.StringVar(&o.DevClock, "dev-clock", "", "start the node's clock at this RFC 3339 time, running at normal speed from there, "+
		"so that month ends and settle days come on cue (tests only; needs --dev-federation)")
	_ = f.MarkHidden("dev-clock")
	paymentFlags(f, &o.Pay)
	reportFlags(f, &o.Reports)
	cmd.Long += "\n\nEvery flag can also be set by an environment variable NINETEN_<FLAG> (e.g. NINETEN_DATA,\n" +
		"NINETEN_ADMIN_PASSWORD) or by a line in the --config file; flags win over the environment,\n" +
		"the environment over the file."
}

func newLogger(o options) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(o.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, hopts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, hopts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", o.LogFormat)
}

func serveCmd() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node",
		Long: "Run a 9ten node on embedded defaults: SQLite in the data directory, media files on\n" +
			"local disk; only ffmpeg must be installed. On first start it creates the admin account.\n" +
			"--db postgres://… puts the node's state in PostgreSQL instead, which several node\n" +
			"processes can share.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNode(cmd, &o, nil)
		},
	}
	nodeFlags(cmd, &o)
	return cmd
}

// runNode opens the node o describes, creates its admin account on first
// start and serves until the command's context ends; ready, if set, runs
// once the node accepts requests.
func runNode(cmd *cobra.Command, o *options, ready func(n *node, addr string)) error {
	if err := applyConfig(cmd); err != nil {
		return err
	}
	log, err := newLogger(*o)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	ctx := cmd.Context()
	n, err := openNode(ctx, *o, log)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.ensureAdmin(ctx); err != nil {
		return err
	}
	return n.serve(ctx, func(addr string) {
		log.Info("node ready", "url", "http://"+addr+"/", "data", o.Data)
		if ready != nil {
			ready(n, addr)
		}
	})
}

// setDefault changes a flag's default, keeping it overridable by the
// environment and the config file.
func setDefault(cmd *cobra.Command, name, value string) {
	f := cmd.Flags().Lookup(name)
	f.DefValue = value
	_ = f.Value.Set(value)
}
