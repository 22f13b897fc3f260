package listen

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	nineten "nineten.dev"
)

// Plays of other servers' tracks count like plays of this node's, and for
// the same reason: this node served the audio. A listener who plays a
// track of another server through StartRemote streams it through the
// node's remote-media path (/media/remote/<host>/<path>), which fetches
// each streaming file from that server (or from the node's cache of remote
// media) and records the segments it sends to the session exactly as it
// does for its own tracks; the signed progress reports are checked against
// that record by the same rule. The verified listen is then paid, at the
// month's settlement, to the account the track's server named as payee
// ("<its host>/<artist id>", 9ten's "ledgerAccount" term of the Audio
// object), and the node's settlement statement tells that server.
//
// The other design — the artist's server verifying the plays it serves and
// reporting signed per-listener facts back — was set aside:
//   - Trust: the money is the listener's node's to pay, so the evidence it
//     pays on is its own, from its own media server, not facts another
//     server asserts about this node's listeners (which a dishonest server
//     could inflate for its artists).
//   - Privacy: the artist's server learns nothing about who listened: it
//     sees this node fetch files (once each with --cache-remote-media),
//     and later one statement line per artist and month.
//   - Bandwidth: the cost. Without the cache every counted play crosses
//     the listener's node twice (in from the other server, out to the
//     player); with it, each file crosses once and later plays cost the
//     other server nothing.
// Tracks whose server names no payee (servers other than 9ten) still play,
// straight from their server, and are not counted here.

// StartRemote opens a listen session for a listener here playing a track
// of another server, known by its ActivityPub id. The Started it returns
// says where to stream it: through this node.
func (s *Service) StartRemote(ctx context.Context, viewer *nineten.User, iri string, from Client) (*Started, error) {
	const op = "listen.StartRemote"
	if viewer == nil {
		return nil, nineten.E(op, nineten.KindUnauthenticated, "log in to have plays of other servers' tracks counted")
	}
	if s.Resolve == nil {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node does not play other servers' tracks")
	}
	t, err := s.Resolve(ctx, iri)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if t.Payee == "" {
		return nil, nineten.E(op, nineten.KindInvalid, "the server of "+iri+" does not say whom its plays pay: play it from there; it is not counted here")
	}
	if t.DurationMS <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the server of "+iri+" gives no duration for it")
	}
	dir, err := remoteHLSDir(t)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if err := s.Store.SaveRemoteTrack(ctx, t); err != nil {
		return nil, nineten.E(op, err)
	}
	sess := &nineten.ListenSession{
		ID: nineten.RemoteSessionPrefix + sessionID(), RemoteTrackID: t.ID, UserID: viewer.ID, StartedAt: s.now(),
		Network: s.tag("network", networkOf(from.Addr)), Device: s.tag("device", deviceOf(from)),
	}
	if err := s.Store.CreateListenSession(ctx, sess); err != nil {
		return nil, nineten.E(op, err)
	}
	s.remember(sess, t.DurationMS, dir)
	out := s.started(sess.ID, t.DurationMS)
	u, _ := url.Parse(t.HLSURL)
	out.HLSURL = "/media/" + dir + path.Base(u.Path)
	return out, nil
}

// remoteHLSDir is where a remote track's HLS files are served and cached
// here: "remote/<host>/media/tracks/<id>/hls/" for the master playlist
// https://<host>/media/tracks/<id>/hls/master.m3u8. Only streams on the
// track's own server are played through the node.
func remoteHLSDir(t *nineten.RemoteTrack) (string, error) {
	u, err := url.Parse(t.HLSURL)
	iri, err2 := url.Parse(t.IRI)
	if err != nil || err2 != nil || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" ||
		!strings.EqualFold(u.Host, iri.Host) || !strings.HasPrefix(u.Path, "/media/tracks/") ||
		strings.Contains(u.Path, "..") || path.Ext(u.Path) != ".m3u8" {
		return "", nineten.E("listen.remoteHLSDir", nineten.KindInvalid, fmt.Sprintf("%s has no stream this node can play (%q)", t.IRI, t.HLSURL))
	}
	return "remote/" + strings.ToLower(u.Host) + path.Dir(u.Path) + "/", nil
}

// Relays reports whether key (a cache key "remote/<host>/<path>") is a
// streaming file of the remote track the session plays: the node then
// serves it to that session even when it does not cache remote media.
func (s *Service) Relays(ctx context.Context, sessionID, key string) bool {
	if !nineten.IsRemoteSession(sessionID) {
		return false
	}
	l, err := s.session(ctx, sessionID)
	return err == nil && strings.HasPrefix(key, l.hlsDir) && !strings.Contains(key, "..")
}

// RemoteSegmentServed records that the node served the streaming file
// under key (see Relays) to a session of a remote track. Like
// SegmentServed, it must be called only after the bytes were sent.
func (s *Service) RemoteSegmentServed(ctx context.Context, sessionID, key string) error {
	const op = "listen.RemoteSegmentServed"
	if !nineten.IsRemoteSession(sessionID) {
		return nil
	}
	l, err := s.servedTo(ctx, op, sessionID)
	if l == nil {
		return err
	}
	file, ok := strings.CutPrefix(key, l.hlsDir)
	if !ok {
		return nil
	}
	rendition, name, idx, ok := segmentFile(file)
	if !ok {
		return nil
	}
	return s.segmentServed(ctx, op, l, sessionID, rendition, name, idx)
}

// readPlaylist reads and parses a media playlist: from the blob store, or
// for a remote track whose files are not cached here, from its server.
func (s *Service) readPlaylist(ctx context.Context, key string) ([]nineten.Segment, error) {
	b, err := s.Blobs.Open(ctx, key)
	if err == nil {
		defer b.Close()
		return nineten.ParseMediaPlaylist(b)
	}
	rest, remote := strings.CutPrefix(key, "remote/")
	if nineten.ErrorKind(err) != nineten.KindNotFound || !remote || s.Fetch == nil {
		return nil, err
	}
	host, p, _ := strings.Cut(rest, "/")
	body, err := s.Fetch(ctx, host, "/"+p)
	if err != nil {
		return nil, err
	}
	return nineten.ParseMediaPlaylist(bytes.NewReader(body))
}
