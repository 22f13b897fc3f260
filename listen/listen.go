// Package listen is the use case of playback: it opens a listen session per
// playback, records which segments the node really served to it, checks the
// player's signed progress reports against that record, and counts a listen
// only when both agree. Client-only claims never count.
package listen

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	nineten "nineten.dev"
)

// Defaults of the verification rule.
const (
	DefaultThreshold      = 30 * time.Second
	DefaultReportInterval = 10 * time.Second
	// Slack absorbs the player's timer granularity (timeupdate fires every
	// ~250 ms) and segment-boundary rounding; it is far below anything a
	// fake listen could gain from.
	slack = 1500 * time.Millisecond
)

// Service runs playback sessions and verifies listens.
type Service struct {
	Store nineten.Store
	Blobs nineten.BlobStore
	Clock nineten.Clock
	// Secret derives each session's signing key, so keys are never stored.
	Secret         []byte
	Threshold      time.Duration // default DefaultThreshold
	ReportInterval time.Duration // default DefaultReportInterval
	Log            *slog.Logger
	// Verified is called when a listen becomes verified, once per listen
	// in this process: to share it with the listener's followers.
	Verified func(ctx context.Context, l *nineten.Listen)
	// Resolve looks up a track of another server by its ActivityPub id
	// (with whom its plays pay), and Fetch reads a streaming file of
	// another server (host, path there) that is not in Blobs: with both,
	// listeners here can play other servers' tracks through this node and
	// have those plays verified and paid (see remote.go).
	Resolve func(ctx context.Context, iri string) (*nineten.RemoteTrack, error)
	Fetch   func(ctx context.Context, host, path string) ([]byte, error)

	mu        sync.Mutex
	playlists map[string][]nineten.Segment // by blob key; media is immutable per track

	ingest ingest // sessions in memory and batched writes while Batch runs
}

// Started is what a player needs to run a playback session.
type Started struct {
	SessionID        string `json:"session_id"`
	Key              string `json:"key"` // hex; signs progress reports
	ThresholdMS      int64  `json:"threshold_ms"`
	ReportIntervalMS int64  `json:"report_interval_ms"`
	// HLSURL is, for a track of another server, where the player streams
	// it: through this node, which must serve the audio to verify it.
	HLSURL string `json:"hls_url,omitempty"`
}

// Report is a progress report from the player.
type Report struct {
	Seq        int64  `json:"seq"`
	PositionMS int64  `json:"position_ms"`
	HeardMS    int64  `json:"heard_ms"`
	Sig        string `json:"sig"`
}

// Outcome tells the player where its session stands.
type Outcome struct {
	// Status is "pending" until the player claims the threshold, then the
	// stored listen's status: "verified" or "unverified".
	Status   string `json:"status"`
	Counted  bool   `json:"counted"`
	HeardMS  int64  `json:"heard_ms"`
	ServedMS int64  `json:"served_ms"`
	Reason   string `json:"reason,omitempty"`
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return nineten.SystemClock{}.Now()
	}
	return s.Clock.Now()
}

func (s *Service) threshold() time.Duration {
	if s.Threshold > 0 {
		return s.Threshold
	}
	return DefaultThreshold
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Key returns the signing key of a session: HMAC(secret, session id).
func (s *Service) Key(sessionID string) []byte {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("9ten listen session key\x00" + sessionID))
	return m.Sum(nil)
}

// Sign signs a progress report the way players must.
func Sign(key []byte, sessionID string, r Report) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.%d.%d", sessionID, r.Seq, r.PositionMS, r.HeardMS)
	return hex.EncodeToString(m.Sum(nil))
}

// Client is where a playback comes from, as the HTTP server saw it.
type Client struct {
	Addr      string // the client's IP address
	Browser   string // the id the browser keeps in a cookie, if any
	UserAgent string
}

// Start opens a listen session for a visible track. viewer is nil for an
// anonymous listener, who is known by anonID (a random id the browser keeps).
// The session keeps only keyed hashes of where it came from (see
// nineten.ListenSession), for the fake-stream detector.
func (s *Service) Start(ctx context.Context, viewer *nineten.User, anonID string, trackID nineten.ID, from Client) (*Started, error) {
	const op = "listen.Start"
	t, err := s.Store.TrackByID(ctx, trackID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if !t.Visible() {
		return nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("track %d is not available for listening", trackID))
	}
	sess := &nineten.ListenSession{
		ID:        sessionID(),
		TrackID:   trackID,
		StartedAt: s.now(),
		Network:   s.tag("network", networkOf(from.Addr)),
		Device:    s.tag("device", deviceOf(from)),
	}
	if viewer != nil {
		sess.UserID = viewer.ID
	} else {
		if anonID == "" {
			return nil, nineten.E(op, nineten.KindInvalid, "anonymous listening needs cookies enabled")
		}
		sess.AnonID = anonID
	}
	if err := s.Store.CreateListenSession(ctx, sess); err != nil {
		return nil, nineten.E(op, err)
	}
	s.remember(sess, t.DurationMS, localHLSDir(t.ID))
	return s.started(sess.ID, t.DurationMS), nil
}

// sessionID makes a new random session id.
func sessionID() string {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return base64.RawURLEncoding.EncodeToString(id[:])
}

func (s *Service) started(id string, durationMS int64) *Started {
	interval := s.ReportInterval
	if interval <= 0 {
		interval = DefaultReportInterval
	}
	return &Started{
		SessionID:        id,
		Key:              hex.EncodeToString(s.Key(id)),
		ThresholdMS:      s.thresholdFor(durationMS).Milliseconds(),
		ReportIntervalMS: interval.Milliseconds(),
	}
}

// thresholdFor is the listening time that makes a listen: the threshold,
// or the whole track when it is shorter.
func (s *Service) thresholdFor(durationMS int64) time.Duration {
	return min(s.threshold(), time.Duration(durationMS)*time.Millisecond)
}

// localHLSDir is where a track of this node keeps its HLS files.
func localHLSDir(id nineten.ID) string { return fmt.Sprintf("tracks/%d/hls/", id) }

// SegmentServed records that the media server served a segment file of a
// track's HLS rendition to a session. file is the path under the track's
// "hls/" directory, e.g. "opus128/seg3.m4s"; anything that is not a media
// segment (playlists, init segments) is ignored, as are sessions of other
// tracks. It must be called only after the bytes were sent.
func (s *Service) SegmentServed(ctx context.Context, sessionID string, trackID nineten.ID, file string) error {
	const op = "listen.SegmentServed"
	if nineten.IsRemoteSession(sessionID) {
		return nil
	}
	rendition, name, idx, ok := segmentFile(file)
	if !ok {
		return nil
	}
	l, err := s.servedTo(ctx, op, sessionID)
	if l == nil || l.sess.TrackID != trackID {
		return err
	}
	return s.segmentServed(ctx, op, l, sessionID, rendition, name, idx)
}

// segmentFile splits a path under the HLS directory into its rendition,
// file name and segment index; ok is false for anything but a media
// segment.
func segmentFile(file string) (rendition, name string, idx int, ok bool) {
	rendition, name = path.Split(file)
	rendition = strings.TrimSuffix(rendition, "/")
	if rendition == "" || strings.Contains(rendition, "/") || !strings.HasPrefix(name, "seg") || !strings.HasSuffix(name, ".m4s") {
		return "", "", 0, false
	}
	idx, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "seg"), ".m4s"))
	if err != nil || idx < 0 {
		return "", "", 0, false
	}
	return rendition, name, idx, true
}

// servedTo is the session a segment was served to, or nil (and no error)
// when there is no such session.
func (s *Service) servedTo(ctx context.Context, op, sessionID string) (*live, error) {
	l, err := s.session(ctx, sessionID)
	if err != nil {
		if nineten.ErrorKind(err) == nineten.KindNotFound {
			return nil, nil
		}
		return nil, nineten.E(op, err)
	}
	return l, nil
}

// segmentServed records that segment idx (file name) of a rendition was
// served to session l.
func (s *Service) segmentServed(ctx context.Context, op string, l *live, sessionID, rendition, name string, idx int) error {
	segs, err := s.playlist(ctx, l.hlsDir+rendition+"/index.m3u8")
	if err != nil {
		return nineten.E(op, err)
	}
	for _, seg := range segs {
		if seg.URI != name {
			continue
		}
		served := nineten.ServedSegment{
			SessionID: sessionID, Rendition: rendition, Index: idx,
			StartMS: seg.StartMS, EndMS: seg.EndMS, ServedAt: s.now(),
		}
		l.mu.Lock()
		// A replayed segment is evidence already held.
		known := slices.ContainsFunc(l.served, func(g nineten.ServedSegment) bool { return g.Rendition == rendition && g.Index == idx })
		if !known {
			l.served = append(l.served, served)
		}
		l.seen = served.ServedAt
		l.mu.Unlock()
		if known {
			return nil
		}
		if s.queueSegment(served) {
			return nil
		}
		return s.Store.RecordServedSegment(ctx, served)
	}
	return nil
}

// playlist returns the parsed media playlist at key. Playlists of a track
// never change once it is ready, so parsed ones are kept in memory.
func (s *Service) playlist(ctx context.Context, key string) ([]nineten.Segment, error) {
	s.mu.Lock()
	segs, ok := s.playlists[key]
	s.mu.Unlock()
	if ok {
		return segs, nil
	}
	segs, err := s.readPlaylist(ctx, key)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.playlists == nil || len(s.playlists) > 4096 {
		s.playlists = make(map[string][]nineten.Segment)
	}
	s.playlists[key] = segs
	s.mu.Unlock()
	return segs, nil
}

// Progress takes a signed progress report and decides whether the session
// has become a listen. A listen is verified when all of these hold:
//   - the node served segments covering at least the threshold of the
//     track (30 s, or the whole track when shorter), in any rendition;
//   - the player reports having heard at least the threshold;
//   - that much time has passed since the session started;
//   - the player reports no more heard time than the node served.
//
// A claim that fails a check is stored as an unverified listen with the
// reason; later reports can still verify it. One session makes at most one
// listen, so seeking back and replaying never counts twice.
func (s *Service) Progress(ctx context.Context, sessionID string, r Report) (*Outcome, error) {
	const op = "listen.Progress"
	l, err := s.session(ctx, sessionID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	want := Sign(s.Key(sessionID), sessionID, r)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(r.Sig))) {
		return nil, nineten.E(op, nineten.KindUnauthenticated, "the progress report's signature does not match its session")
	}
	if r.Seq <= 0 || r.HeardMS < 0 || r.PositionMS < 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "seq must be positive and times non-negative")
	}
	now := s.now()
	l.mu.Lock()
	if r.Seq <= l.sess.LastSeq {
		last := l.sess.LastSeq
		l.mu.Unlock()
		return nil, nineten.E(op, nineten.KindConflict, fmt.Sprintf("report %d is not newer than %d", r.Seq, last))
	}
	sess := &l.sess
	elapsed := now.Sub(sess.StartedAt)
	// Heard time can grow only as fast as real time; replaying within the
	// session adds nothing beyond the track's length.
	heard := min(max(r.HeardMS, sess.HeardMS), elapsed.Milliseconds()+slack.Milliseconds(), l.durationMS)
	localServed := servedSpan(l.served, l.durationMS)
	threshold, verified := l.threshold, l.verified
	if verified && s.ingest.batching() {
		// Listening after the listen is verified raises its heard time
		// (SaveListening), which weighs in the payout: only as far as the
		// node served the audio (while batching, every segment served to
		// the session is in l.served).
		heard = max(min(heard, localServed+slack.Milliseconds()), sess.HeardMS)
	}
	sess.LastSeq, sess.HeardMS, sess.PositionMS, sess.LastReportAt = r.Seq, heard, min(r.PositionMS, l.durationMS), now
	l.seen = now
	claims := time.Duration(r.HeardMS)*time.Millisecond >= threshold-slack
	// The report that may make a listen is written at once, with the
	// decision; the others can wait for the next batch.
	batched := !(claims && !verified) && s.ingest.batching()
	report := *sess
	l.dirty = l.dirty || batched
	l.mu.Unlock()

	out := &Outcome{Status: "pending", HeardMS: heard, ServedMS: localServed}
	if batched {
		s.queueProgress(l)
		if verified {
			out.Status, out.Counted = string(nineten.ListenVerified), true
		}
		return out, nil
	}
	if err := s.Store.UpdateListenProgress(ctx, &report); err != nil {
		return nil, nineten.E(op, err)
	}
	served, err := s.servedMS(ctx, l)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	out.ServedMS = served
	if !claims {
		return out, nil
	}
	if verified {
		// As above: heard time counts only as far as the node served.
		heard = min(heard, served+slack.Milliseconds())
	}
	li := &nineten.Listen{
		SessionID: sessionID, TrackID: report.TrackID, RemoteTrackID: report.RemoteTrackID, UserID: report.UserID, AnonID: report.AnonID,
		StartedAt: report.StartedAt, HeardMS: heard, Status: nineten.ListenVerified,
	}
	switch {
	case time.Duration(served)*time.Millisecond < threshold-slack:
		li.Status, li.Reason = nineten.ListenUnverified, fmt.Sprintf("the node served %.1f s of audio to this session, less than the %.0f s a listen needs", float64(served)/1000, threshold.Seconds())
	case elapsed < threshold-slack:
		li.Status, li.Reason = nineten.ListenUnverified, fmt.Sprintf("only %.1f s passed since playback started", elapsed.Seconds())
	case r.HeardMS > served+slack.Milliseconds():
		li.Status, li.Reason = nineten.ListenUnverified, "the player reports more listening than the node served"
	}
	if li.Status == nineten.ListenVerified {
		li.VerifiedAt = now
	}
	if err := s.Store.SaveListen(ctx, li); err != nil {
		return nil, nineten.E(op, err)
	}
	if li.Status == nineten.ListenVerified {
		l.mu.Lock()
		l.verified = true
		l.mu.Unlock()
		// Shared listens are of this node's tracks only, for now.
		if !verified && s.Verified != nil && li.TrackID != 0 {
			s.Verified(ctx, li)
		}
	}
	out.Status, out.Counted, out.Reason = string(li.Status), li.Status == nineten.ListenVerified, li.Reason
	if li.Status == nineten.ListenUnverified {
		s.logger().InfoContext(ctx, "listen not verified", "session", sessionID, "track", report.TrackID, "reason", li.Reason)
	}
	return out, nil
}

// servedMS is how much of the track the node served to a session: the
// union of the spans of its served segments, in any rendition, as every
// process recorded them, plus what this process served and has not
// written yet.
func (s *Service) servedMS(ctx context.Context, l *live) (int64, error) {
	segs, err := s.Store.ServedSegments(ctx, l.sess.ID)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	segs = append(segs, l.served...)
	l.mu.Unlock()
	return servedSpan(segs, l.durationMS), nil
}

// servedSpan is the length of the union of the segments' spans, cut at
// the track's end. It sorts segs.
func servedSpan(segs []nineten.ServedSegment, durationMS int64) int64 {
	sort.Slice(segs, func(i, j int) bool { return segs[i].StartMS < segs[j].StartMS })
	var total, end int64
	for _, sg := range segs {
		start, stop := max(sg.StartMS, end), min(sg.EndMS, durationMS)
		if stop > start {
			total += stop - start
			end = stop
		}
	}
	return total
}

// Recent lists a listener's latest verified listens with their tracks.
func (s *Service) Recent(ctx context.Context, userID nineten.ID, limit int) ([]nineten.Listen, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	return s.Store.RecentListens(ctx, userID, limit)
}
