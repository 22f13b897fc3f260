package federation

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	nineten "nineten.dev"
)

// A server that keeps failing is given up on, as Mastodon does with
// "unavailable domains": deliveries to it are dropped at once instead of
// each being retried for three weeks, and nothing waits in the queue for
// it. It is tried again as soon as it shows signs of life: a signed
// request from it, or an answer to the hourly probe (ProbeUnavailable).
// Activities dropped meanwhile are not sent later; followers on such a
// server missed them, as they would have on a server that was down.

// DefaultGiveUpAfter is how long a server may keep failing before the
// node gives up on it.
const DefaultGiveUpAfter = 7 * 24 * time.Hour

func (f *Service) giveUpAfter() time.Duration { return cmp.Or(f.GiveUpAfter, DefaultGiveUpAfter) }

// hostFailed records a failed delivery and gives up on the host when it
// has been failing long enough.
func (f *Service) hostFailed(ctx context.Context, host string) {
	h, err := f.Store.HostFailed(ctx, host, f.now())
	if err != nil {
		f.Log.WarnContext(ctx, "recording a failed delivery", "host", host, "err", err)
		return
	}
	if h.UnavailableSince.IsZero() && f.now().Sub(h.FailingSince) >= f.giveUpAfter() {
		if err := f.Store.MarkHostUnavailable(ctx, host, f.now()); err != nil {
			f.Log.WarnContext(ctx, "giving up on a server", "host", host, "err", err)
			return
		}
		f.Log.WarnContext(ctx, "giving up on a server that keeps failing; deliveries to it are dropped until it answers again",
			"host", host, "failing_since", h.FailingSince, "failures", h.Failures)
	}
}

// hostAlive records that host answered; a server given up on is tried
// again.
func (f *Service) hostAlive(ctx context.Context, host string) {
	h, err := f.Store.Host(ctx, host)
	if err != nil || h.FailingSince.IsZero() && h.UnavailableSince.IsZero() && f.now().Sub(h.LastSuccessAt) < time.Minute {
		return // healthy and recorded lately: spare the write
	}
	if err := f.Store.HostAlive(ctx, host, f.now()); err != nil {
		f.Log.WarnContext(ctx, "recording a server as alive", "host", host, "err", err)
		return
	}
	if !h.UnavailableSince.IsZero() {
		f.Log.InfoContext(ctx, "a server given up on answers again; delivering to it again", "host", host)
	}
}

// unavailable reports whether the node gave up on host.
func (f *Service) unavailable(ctx context.Context, host string) (bool, time.Time) {
	h, err := f.Store.Host(ctx, host)
	if err != nil {
		return false, time.Time{} // when in doubt, try
	}
	return !h.UnavailableSince.IsZero(), h.UnavailableSince
}

// ProbeUnavailable asks every server given up on for its NodeInfo
// discovery document and takes back those that answer.
func (f *Service) ProbeUnavailable(ctx context.Context) error {
	hosts, err := f.Store.UnavailableHosts(ctx)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s/.well-known/nodeinfo", f.remoteScheme(), h.Host), nil)
		if err != nil {
			continue
		}
		resp, err := f.Client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 500 {
			f.hostAlive(ctx, h.Host)
		}
	}
	return nil
}

// UnavailableHosts lists the servers given up on, for admins.
func (f *Service) UnavailableHosts(ctx context.Context) ([]nineten.HostHealth, error) {
	return f.Store.UnavailableHosts(ctx)
}

// RemoteMedia fetches a streaming file of a track on host, a server this
// node federates with (it delivered to it, or was delivered to by it),
// for the node's cache of remote media. Only HLS files are fetched, and
// through the SSRF-guarded client: the cache must not become an open proxy.
func (f *Service) RemoteMedia(ctx context.Context, host, path string) ([]byte, string, error) {
	const op = "federation.RemoteMedia"
	if !strings.HasPrefix(path, "/media/tracks/") || strings.Contains(path, "..") || !isStreamFile(path) {
		return nil, "", nineten.E(op, nineten.KindNotFound, "only streaming files of tracks are cached")
	}
	origin := f.remoteScheme() + "://" + host + "/"
	if f.blocked(ctx, origin) {
		return nil, "", nineten.E(op, nineten.KindNotFound, "this node does not federate with "+host)
	}
	if h, err := f.Store.Host(ctx, strings.ToLower(host)); err != nil || h.LastSuccessAt.IsZero() && h.FailingSince.IsZero() {
		return nil, "", nineten.E(op, nineten.KindNotFound, "this node does not federate with "+host)
	}
	client := f.MediaClient
	if client == nil {
		client = f.Client
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		return nil, "", nineten.E(op, nineten.KindInvalid, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", nineten.E(op, nineten.KindUnavailable, host+" could not be reached for the file", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", nineten.E(op, nineten.KindNotFound, fmt.Sprintf("%s answered %d for the file", host, resp.StatusCode))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", nineten.E(op, err)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

func isStreamFile(p string) bool {
	switch path.Ext(p) {
	case ".m3u8", ".m4s", ".mp4":
		return true
	}
	return false
}
