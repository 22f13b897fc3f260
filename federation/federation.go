// Package federation is 9ten's ActivityPub surface: discovery (WebFinger,
// host-meta, NodeInfo 2.1), actors with their keys, and the objects the
// node publishes (tracks as Audio objects in our vocabulary), negotiated
// against the web app on the same URLs.
//
// Inbound requests to inboxes must carry a valid HTTP signature (draft-cavage
// or RFC 9421) by the actor they claim to come from; outbound deliveries are
// signed and go through a durable queue with exponential back-off.
package federation

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/safehttp"
	"nineten.dev/internal/ratelimit"
)

// Service serves the node's federation endpoints.
type Service struct {
	Store nineten.Store
	// Base is the node's public URL, e.g. https://music.example; actor and
	// object ids are made from it, so it must not change once federating.
	Base    *url.URL
	Version string
	Clock   nineten.Clock
	Log     *slog.Logger
	// Client makes every outbound request (SSRF-guarded).
	Client *safehttp.Client
	// Enqueued wakes the job workers after a delivery was queued.
	Enqueued func()
	// AuthorizedFetch requires signed GETs for ActivityStreams documents
	// (the node actor excepted: others need its key to check our own
	// signed fetches).
	AuthorizedFetch bool
	// HostLimit caps the deliveries in flight from this process to one
	// server (default 4), so that a slow server cannot take every delivery
	// worker; see hostSlots.
	HostLimit int
	// GiveUpAfter is how long a server may keep failing before deliveries
	// to it are dropped (default DefaultGiveUpAfter); see hosts.go.
	GiveUpAfter time.Duration
	// MediaClient fetches remote tracks' streaming files for the cache of
	// remote media (a larger body limit than Client's); default Client.
	MediaClient *safehttp.Client
	// Ledger is the node's ledger and LedgerNode its name there (the host
	// of its URL at first start): settlement statements are read from it
	// and payouts of other nodes' artists recorded on it; tracks name their
	// artist's account "<LedgerNode>/<artist id>" (ledgerAccount).
	Ledger     nineten.Ledger
	LedgerNode string
	// ClusterPeers are the base URLs of the other nodes of the node's
	// cluster, which review its monthly reports and whose it reviews
	// (reviews.go); ReviewDeadline is how long they have (default
	// DefaultReviewDeadline). MakeMonthly makes (or brings up to date) the
	// node's monthly report, and ReviewReport re-runs a node's month from
	// its report files (report.Service.Review).
	ClusterPeers   []string
	ReviewDeadline time.Duration
	MakeMonthly    func(ctx context.Context, month nineten.Period) error
	ReviewReport   func(ctx context.Context, signer string, month nineten.Period, monthly []byte, dailies [][]byte) (*nineten.ReportReview, error)
	// RetryBase is the wait before a failed delivery's first retry
	// (default a minute), doubling after each failure.
	RetryBase time.Duration
	// Reports are the node's listening-report keys, published in its actor.
	Reports ReportKeys
	// hostWait bounds the wait for a server's slot (default 250 ms), and
	// hostRetry is how soon a delivery that found its server busy runs
	// again (default 1 s, doubling each time it finds it busy again).
	hostWait, hostRetry time.Duration
	hosts               hostSlots

	keys   sync.Map // actor name → *Keypair
	blocks blocklist
	// rfc9421Hosts remembers servers that took only RFC 9421 signatures.
	rfc9421Hosts sync.Map
	// inboxLimit paces deliveries per sending address: 300 at once, then
	// five a second, far above what a healthy server sends.
	inboxLimit ratelimit.Limiter
	// replays remembers the signatures of accepted deliveries.
	replays replayGuard
}

// remoteScheme is how the node reaches other servers: https, or plain
// http when it runs on http itself (development federation on loopback).
func (f *Service) remoteScheme() string {
	if f.Base != nil && f.Base.Scheme == "http" {
		return "http"
	}
	return "https"
}

func (f *Service) now() time.Time {
	if f.Clock == nil {
		return nineten.SystemClock{}.Now()
	}
	return f.Clock.Now()
}

// url returns an absolute URL of this node for path.
func (f *Service) url(path string) string {
	return strings.TrimSuffix(f.Base.String(), "/") + path
}

// Handler serves every federation route.
func (f *Service) Handler() http.Handler {
	f.inboxLimit = ratelimit.Limiter{Burst: 300, Interval: 200 * time.Millisecond}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", f.webfinger)
	mux.HandleFunc("GET /.well-known/host-meta", f.hostMeta)
	mux.HandleFunc("GET /.well-known/nodeinfo", f.nodeInfoLinks)
	mux.HandleFunc("GET /nodeinfo/2.1", f.nodeInfo)
	mux.HandleFunc("GET /ns/9ten.jsonld", f.contextDoc)
	mux.HandleFunc("GET /actor", f.nodeActor)
	mux.HandleFunc("GET "+nodeIconPath, f.serveNodeIcon)
	mux.HandleFunc("GET /users/{name}", f.signedFetch(f.userActor))
	mux.HandleFunc("GET /artists/{slug}", f.signedFetch(f.artistActor))
	mux.HandleFunc("GET /artists/{slug}/outbox", f.signedFetch(f.artistOutbox))
	mux.HandleFunc("GET /tracks/{id}", f.signedFetch(f.track))
	mux.HandleFunc("GET /tracks/{id}/note", f.signedFetch(f.trackNote))
	mux.HandleFunc("GET /albums/{id}", f.signedFetch(f.album))
	mux.HandleFunc("GET /comments/{id}", f.signedFetch(f.comment))
	mux.HandleFunc("GET /playlists/{id}", f.signedFetch(f.playlist))
	for _, p := range []string{"/actor", "/users/{name}", "/artists/{slug}"} {
		mux.HandleFunc("GET "+p+"/followers", f.signedFetch(f.followersCollection))
		mux.HandleFunc("GET "+p+"/following", f.signedFetch(f.followingCollection))
		mux.HandleFunc("POST "+p+"/inbox", f.inbox)
	}
	mux.HandleFunc("GET /users/{name}/outbox", f.signedFetch(f.userOutbox))
	mux.HandleFunc("GET /actor/outbox", f.signedFetch(f.emptyCollection))
	mux.HandleFunc("POST /inbox", f.inbox)
	mux.HandleFunc("GET /reports/{id}", f.reportFile)
	return mux
}

// Paths lists the path prefixes Handler serves, for the server to route.
var Paths = []string{"/.well-known/", "/nodeinfo/", "/ns/", "/actor", "/actor/", "/users/", "/artists/", "/tracks/", "/albums/", "/comments/", "/playlists/", "/inbox", "/reports/"}
