package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/anomaly"
	"nineten.dev/catalog"
	"nineten.dev/federation"
	"nineten.dev/federation/safehttp"
	"nineten.dev/jobs"
	"nineten.dev/ledger/embedded"
	"nineten.dev/listen"
	"nineten.dev/payout"
	"nineten.dev/picture"
	"nineten.dev/playlist"
	"nineten.dev/report"
	"nineten.dev/server"
	"nineten.dev/sqlstore"
	"nineten.dev/subscription"
	"nineten.dev/transcode"
	"nineten.dev/ui"
)

// options configure a node; each is a flag of `9ten serve`.
type options struct {
	Addr            string
	Data            string
	AdminUser       string
	AdminPassword   string
	MaxUploadMiB    int64
	Workers         int
	SecureCookies   bool
	LogFormat       string
	LogLevel        string
	ListenThreshold time.Duration
	PublicURL       string
	DevFederation   bool
	AuthorizedFetch bool
	// DeliveryWorkers deliver activities to other servers at once, at most
	// DeliveryHostLimit of them to any one server.
	DeliveryWorkers   int
	DeliveryHostLimit int
	// SimulatedPayments lets listeners deposit pretend money (demo nodes).
	SimulatedPayments bool
	SettleDay         int
	// DeliveryRetryBase shortens the deliveries' back-off (tests only).
	DeliveryRetryBase time.Duration
	// DevClock starts the node's clock at another time (tests only).
	DevClock string

	// DB is the database: a postgres:// URL or a SQLite file; default
	// 9ten.db in Data.
	DB string
	// Blob is where media are kept: a directory, or s3://bucket?… (see
	// blob/s3.ParseURL); default the media directory in Data.
	Blob string
	// MediaRedirect sends players to pre-signed URLs of the bucket for
	// media bytes instead of relaying them (S3 only).
	MediaRedirect bool
	// CacheRemoteMedia streams other servers' tracks through this node.
	CacheRemoteMedia bool
	// Pay configures real money: USDP and a payment gateway.
	Pay payOptions
	// Reports configure the listening reports and their audience.
	Reports reportOptions
}

// node is one running 9ten node: the only place that knows every
// implementation of every port.
type node struct {
	opts     options
	log      *slog.Logger
	clock    nineten.Clock // the wall clock, or --dev-clock's
	db       *sqlstore.DB
	blobs    blobStore
	accounts *account.Service
	catalog  *catalog.Service
	pictures *picture.Service
	listens  *listen.Service
	ledger   *embedded.Contract
	subs     *subscription.Service
	payouts  *payout.Service
	reports  *report.Service
	anomaly  *anomaly.Service
	runner   *jobs.Runner // transcodes: CPU-bound, few at once
	delivery *jobs.Runner // federation deliveries: waiting on the network
	server   *server.Server
	fed      *federation.Service
	ffmpeg   string // path of the ffmpeg the transcoder uses
	pay      *payments
}

func openNode(ctx context.Context, o options, log *slog.Logger) (*node, error) {
	if err := os.MkdirAll(o.Data, 0o750); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	tc := transcode.New()
	if err := tc.Check(ctx); err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, databaseAddress(o.Data, o.DB))
	if err != nil {
		return nil, err
	}
	blobs, err := openBlobs(ctx, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	secret, err := loadSecret(filepath.Join(o.Data, "node.secret"))
	if err != nil {
		db.Close()
		return nil, err
	}
	clock, err := nodeClock(o)
	if err != nil {
		db.Close()
		return nil, err
	}
	n := &node{opts: o, log: log, clock: clock, db: db, blobs: blobs, ffmpeg: tc.FFmpegPath}
	n.runner = &jobs.Runner{Queue: db, Clock: clock, Workers: o.Workers, Log: log.With("component", "jobs")}
	// Deliveries get workers of their own, so a long transcode never holds
	// up federation, nor a dead remote server the transcodes.
	n.delivery = &jobs.Runner{Queue: db, Clock: clock, Workers: o.DeliveryWorkers, Log: log.With("component", "delivery")}
	n.accounts = &account.Service{Store: db, Clock: clock}
	n.catalog = &catalog.Service{
		Store: db, Blobs: blobs, Transcoder: tc, Clock: clock,
		ScratchDir:     filepath.Join(o.Data, "scratch"),
		MaxUploadBytes: o.MaxUploadMiB << 20,
		Enqueued:       n.runner.Kick,
		Log:            log.With("component", "catalog"),
	}
	n.fed = &federation.Service{
		Store: db, Clock: clock, Version: version(), Log: log.With("component", "federation"),
		Client:          safehttp.New(safehttp.Options{AllowLoopback: o.DevFederation, UserAgent: "9ten/" + version()}),
		Enqueued:        n.delivery.Kick,
		RetryBase:       o.DeliveryRetryBase,
		AuthorizedFetch: o.AuthorizedFetch,
		// Streaming files run to a few MiB; everything else stays small.
		MediaClient: safehttp.New(safehttp.Options{AllowLoopback: o.DevFederation, UserAgent: "9ten/" + version(), MaxBody: 32 << 20}),
		HostLimit:   o.DeliveryHostLimit,
	}
	n.pictures = &picture.Service{Store: db, Blobs: blobs, UserChanged: n.fed.UserChanged, ArtistChanged: n.fed.ArtistChanged, Log: log}
	n.accounts.Closing = n.fed.AccountClosing
	n.accounts.Closed = func(ctx context.Context, c *nineten.ClosedAccount) {
		n.catalog.AccountClosed(ctx, c)
		n.pictures.Closed(ctx, c)
	}
	n.accounts.ProfileChanged, n.accounts.DisabledChanged = n.fed.UserChanged, n.fed.UserDisabled
	n.catalog.Changed = n.fed.TrackChanged
	n.catalog.ArtistChanged = n.fed.ArtistChanged
	n.catalog.AlbumChanged = n.fed.AlbumChanged
	playlists := &playlist.Service{Store: db, Clock: clock, Changed: n.fed.PlaylistChanged, Resolve: n.fed.ResolveTrack}
	n.runner.Handlers = map[string]jobs.Handler{catalog.JobProcessTrack: n.catalog.Processor()}
	n.delivery.Handlers = map[string]jobs.Handler{federation.JobDeliver: n.fed.Deliverer(), federation.JobImportPlaylists: n.fed.PlaylistImporter(), federation.JobReviewReport: n.fed.Reviewer()}
	if o.SettleDay < 1 || o.SettleDay > 25 {
		db.Close()
		return nil, fmt.Errorf("--settle-day %d: artists are paid by the 25th; choose a day from 1 to 25", o.SettleDay)
	}
	ledgerKey, err := loadLedgerKey(o.Data)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := checkSharedSecrets(ctx, db, o.Data, secret, ledgerKey); err != nil {
		db.Close()
		return nil, err
	}
	// The ledger's node id is the host of the public URL, known once the
	// node listens (see serve); until then the services are not used.
	n.ledger = &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: ledgerKey, Clock: clock}}
	n.subs = &subscription.Service{Ledger: n.ledger, Store: db, Clock: clock, Simulated: o.SimulatedPayments}
	n.anomaly = &anomaly.Service{Store: db, Clock: clock, Log: log.With("component", "anomaly"), Enqueued: n.runner.Kick}
	n.runner.Handlers[anomaly.JobDetect] = n.anomaly.Detector()
	n.payouts = &payout.Service{Ledger: n.ledger, Store: db, Clock: clock, SettleDay: o.SettleDay, Log: log.With("component", "payout"),
		BeforeTotals: n.anomaly.BeforeSettle}
	n.accounts.Ledger = n.ledger
	n.payouts.Done = func(ctx context.Context, p nineten.Period) {
		if k, err := n.accounts.PurgeClosed(ctx, p); err != nil {
			log.Warn("finishing closed accounts after a settled month failed; the next run retries", "period", p, "err", err)
		} else if k > 0 {
			log.Info("closed accounts finished: their listening was settled", "period", p, "accounts", k)
		}
	}
	n.fed.Ledger = n.ledger
	n.subs.Changed = n.fed.SubscriptionChanged
	n.payouts.Settled = func(ctx context.Context, period nineten.Period) error {
		_, err := n.fed.SendStatements(ctx, period)
		return err
	}
	n.listens = &listen.Service{Store: db, Blobs: blobs, Clock: clock, Secret: secret, Threshold: o.ListenThreshold, Log: log.With("component", "listen")}
	n.listens.Verified = n.fed.ListenVerified
	n.listens.Resolve = n.fed.PlayableTrack
	n.listens.Fetch = func(ctx context.Context, host, path string) ([]byte, error) {
		body, _, err := n.fed.RemoteMedia(ctx, host, path)
		return body, err
	}
	if o.PublicURL != "" {
		u, err := url.Parse(strings.TrimSuffix(o.PublicURL, "/"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			db.Close()
			return nil, fmt.Errorf("--url %q: give the node's public base URL, like https://music.example", o.PublicURL)
		}
		n.fed.Base = u
	}
	n.server = &server.Server{
		Accounts: n.accounts, Catalog: n.catalog, Playlists: playlists, Pictures: n.pictures, Listens: n.listens, Subscriptions: n.subs, Payouts: n.payouts, Anomalies: n.anomaly, Store: db, Blobs: blobs,
		Log: log.With("component", "http"), UI: ui.Handler(), Index: ui.Index(),
		Federation: n.fed.Handler(), FederationPaths: federation.Paths, Federator: n.fed, Social: n.fed, Statements: n.fed, PeerReviews: n.fed,
		SecureCookies: o.SecureCookies, MaxUploadBytes: o.MaxUploadMiB << 20,
		MediaRedirect: o.MediaRedirect, RemoteMediaCache: o.CacheRemoteMedia,
	}
	if err := n.openPayments(o.Pay); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.openReports(ctx, o.Reports, secret); err != nil {
		db.Close()
		return nil, err
	}
	return n, nil
}

func (n *node) Close() error {
	return errors.Join(n.db.Close(), n.blobs.Close())
}

// ensureAdmin creates the first admin on a node without users and prints
// the password once, when it was generated.
func (n *node) ensureAdmin(ctx context.Context) error {
	pw, err := n.accounts.EnsureAdmin(ctx, n.opts.AdminUser, n.opts.AdminPassword)
	if err != nil {
		return fmt.Errorf("creating the admin account: %w", err)
	}
	if pw != "" {
		user := n.opts.AdminUser
		if user == "" {
			user = "admin"
		}
		if n.opts.AdminPassword == "" {
			fmt.Printf("Created the admin account %q with password %s (shown only once; change it after logging in).\n", user, pw)
		} else {
			fmt.Printf("Created the admin account %q with the configured password.\n", user)
		}
	}
	return nil
}

// serve runs the node until ctx ends: HTTP, background jobs and the
// periodic sweep of orphaned files. ready is called once it accepts requests.
func (n *node) serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", n.opts.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", n.opts.Addr, err)
	}
	if n.fed.Base == nil {
		// Without --url the node is known by the address it listens on:
		// fine on a laptop, wrong behind a proxy.
		n.fed.Base = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}
	// The node keeps the name it had on the ledger at its first start,
	// whatever its address later: its accounts are under that name.
	name, err := n.db.InitSetting(ctx, ledgerNodeSetting, n.fed.Base.Host)
	if err != nil {
		ln.Close()
		return err
	}
	if name != n.fed.Base.Host {
		n.log.Info("the node keeps its ledger name from its first start", "ledger_name", name, "url", n.fed.Base.String())
	}
	n.setLedgerNode(name)
	srv := &http.Server{
		Handler:           n.server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	listensWritten := n.listens.Batch(ctx)
	go func() {
		defer close(done)
		defer listensWritten()
		var wg sync.WaitGroup
		wg.Go(func() { n.runner.Run(ctx) })
		wg.Go(func() { n.delivery.Run(ctx) })
		wg.Go(func() { n.runPayments(ctx) })
		wg.Wait()
	}()
	go n.sweepLoop(ctx)
	go n.payoutLoop(ctx)
	go n.reportLoop(ctx)
	go n.probeLoop(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	n.server.SetReady(true)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		cancel()
		<-done
		return err
	case <-ctx.Done():
	}
	n.server.SetReady(false)
	n.log.Info("shutting down")
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	err = srv.Shutdown(shutdownCtx)
	<-done
	return err
}

// ledgerNodeSetting is the setting that holds the node's name on the
// ledger: the host (and port) of its public URL when it first started.
const ledgerNodeSetting = "ledger_node"

// setLedgerNode names the node on the ledger.
func (n *node) setLedgerNode(host string) {
	n.ledger.Node, n.subs.Node, n.payouts.Node, n.reports.Node, n.accounts.Node, n.fed.LedgerNode = host, host, host, host, host, host
}

// nodeClock is the wall clock, or with --dev-clock one that started at
// another time and runs at the same speed.
func nodeClock(o options) (nineten.Clock, error) {
	if o.DevClock == "" {
		return nineten.SystemClock{}, nil
	}
	start, err := time.Parse(time.RFC3339, o.DevClock)
	if err != nil || !o.DevFederation {
		return nil, fmt.Errorf("--dev-clock %q: give an RFC 3339 time (2031-03-10T12:00:00Z), with --dev-federation (tests only)", o.DevClock)
	}
	return devClock(time.Until(start)), nil
}

// devClock is the wall clock shifted by a fixed offset.
type devClock time.Duration

func (c devClock) Now() time.Time { return time.Now().UTC().Add(time.Duration(c)) }

// payoutLoop runs the money calendar: at start, then every hour, whatever
// is due (the fake-stream detection of the day before, once it is over;
// renewals and the month's opening on the 1st, the settlement of the month
// before on the settle day). Every step is idempotent, so several
// processes of one node may run it.
func (n *node) payoutLoop(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if err := n.anomaly.Tick(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("queueing the fake-stream detection", "err", err)
		}
		if err := n.payouts.Tick(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("running the payout calendar", "err", err)
		}
		// Renewals and expiries reach the artists listeners support.
		if err := n.fed.SyncSubscriptions(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("telling other nodes of subscriptions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probeLoop asks the servers the node gave up on, every hour, whether
// they are back.
func (n *node) probeLoop(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := n.fed.ProbeUnavailable(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("probing servers given up on", "err", err)
		}
	}
}

func (n *node) sweepLoop(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if err := n.catalog.Sweep(ctx, time.Hour); err != nil && ctx.Err() == nil {
			n.log.Warn("sweeping orphaned files", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// version is the module version the binary was built from, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// checkSharedSecrets makes sure that every process of a node signs with
// the same secrets: the first process records their fingerprints in the
// database, and a process whose data directory holds other ones refuses
// to start. Otherwise listen sessions opened on one process would fail
// their signature check on another, and the ledger would be signed by two
// keys.
func checkSharedSecrets(ctx context.Context, db nineten.SettingStore, dataDir string, secret []byte, ledgerKey ed25519.PrivateKey) error {
	sum := sha256.Sum256(secret)
	for _, c := range []struct{ name, value, file string }{
		{"node_secret_sha256", hex.EncodeToString(sum[:]), "node.secret"},
		{"ledger_key", embedded.KeyID(ledgerKey.Public().(ed25519.PublicKey)), ledgerKeyFile},
	} {
		stored, err := db.InitSetting(ctx, c.name, c.value)
		if err != nil {
			return err
		}
		if stored != c.value {
			return fmt.Errorf("%s is not the %s this node's database was set up with: every process of a node "+
				"needs the same %s (copy it from the data directory of the node's first process)",
				filepath.Join(dataDir, c.file), c.file, c.file)
		}
	}
	return nil
}

// loadSecret reads the node's secret, creating it on first start. It
// derives per-session keys, so it never leaves the node.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the node secret %s (32 bytes expected; restore it from a backup): %v", path, err)
	}
	b = make([]byte, 32)
	_, _ = rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing the node secret: %w", err)
	}
	return b, nil
}
