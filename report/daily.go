package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Group is listening summed over the day (or month), one track or one
// artist: eligible verified listens, milliseconds heard and distinct
// listeners.
//
// A track of another server played through this node is named by its
// ActivityPub id (RemoteTrack), which stays the same on every node, and
// its artist by the ledger account its server named (Payee, "<their
// node>/<their id>"); Track and Artist are then zero. Both are omitted
// when empty, so a day of local listening only is the same bytes (and
// hash) as before remote listening was reported.
type Group struct {
	Track       nineten.ID `json:"track,omitempty"`
	RemoteTrack string     `json:"remote_track,omitempty"`
	Artist      nineten.ID `json:"artist,omitempty"`
	Payee       string     `json:"payee,omitempty"`
	Listens     int64      `json:"listens"`
	HeardMS     int64      `json:"heard_ms"`
	Listeners   int64      `json:"listeners"`
}

// Line is one pseudonymous listener's listening to one artist: what the
// settlement splits a listener's $9 by. Payee names an artist of another
// server, as in Group (Artist is then zero).
type Line struct {
	Listener string     `json:"listener"`
	Artist   nineten.ID `json:"artist"`
	Payee    string     `json:"payee,omitempty"`
	Listens  int64      `json:"listens"`
	HeardMS  int64      `json:"heard_ms"`
}

// artistKey is an artist of this node (ID) or of another server (Payee).
type artistKey struct {
	ID    nineten.ID
	Payee string
}

// compare orders this node's artists by id, then other servers' by payee.
func (k artistKey) compare(o artistKey) int {
	return cmp.Or(strings.Compare(k.Payee, o.Payee), cmp.Compare(k.ID, o.ID))
}

// account is the artist's account on the ledger: "<node>/<id>" for an
// artist of node, the payee for an artist of another server.
func (k artistKey) account(node string) string {
	if k.Payee != "" {
		return k.Payee
	}
	return node + "/" + strconv.FormatInt(int64(k.ID), 10)
}

func (g Group) artist() artistKey { return artistKey{g.Artist, g.Payee} }
func (l Line) artist() artistKey  { return artistKey{l.Artist, l.Payee} }

// trackKey is a track of this node (ID) or of another server (IRI).
type trackKey struct {
	ID  nineten.ID
	IRI string
}

// Summary is the published part of a report: the groups heard by at least
// K distinct listeners. Totals is nil when the whole day had fewer.
type Summary struct {
	K          int     `json:"k"`
	Totals     *Group  `json:"totals,omitempty"`
	Tracks     []Group `json:"tracks"`
	Artists    []Group `json:"artists"`
	Suppressed int     `json:"suppressed"` // groups left out
}

// Daily is the whole of one day's report, the body only its audience
// reads. Its JSON encoding is canonical — fields in a fixed order, every
// list sorted, integers only — so the same listening always makes the same
// bytes and the same content hash.
type Daily struct {
	Format     string  `json:"format"` // 9ten-daily/1
	Node       string  `json:"node"`
	Day        string  `json:"day"`
	Pseudonyms string  `json:"pseudonyms"` // the id of the month's pseudonym key
	Totals     Group   `json:"totals"`
	Tracks     []Group `json:"tracks"`
	Artists    []Group `json:"artists"`
	Listening  []Line  `json:"listening"` // per listener × artist, by listener then artist
	// Held and Excluded count the day's eligible listens that fake-stream
	// flags keep out of everything above: awaiting review, and confirmed
	// fake. A review changes them, and makes the report's next version.
	Held     Group `json:"held"`
	Excluded Group `json:"excluded"`
}

const dailyFormat = "9ten-daily/1"

// aggregate sums a day's listening per track, per artist and per listener
// × artist. Rows are per listener and track, in order of listener (the
// store's order; sorted here if not), so each row is one distinct listener
// of its track, and one listener's lines are made together.
func aggregate(rows []nineten.DayListening, p pseudonyms) (tracks, artists []Group, lines []Line, totals Group) {
	if !slices.IsSortedFunc(rows, func(a, b nineten.DayListening) int { return cmp.Compare(a.UserID, b.UserID) }) {
		rows = slices.Clone(rows)
		slices.SortStableFunc(rows, func(a, b nineten.DayListening) int { return cmp.Compare(a.UserID, b.UserID) })
	}
	trackIdx := map[trackKey]int{}
	artistIdx := map[artistKey]int{}
	var user nineten.ID
	var pseudonym string
	first := 0 // the current listener's first line
	for i, r := range rows {
		tk, ak := trackKey{r.TrackID, r.RemoteTrack}, artistKey{r.ArtistID, r.Payee}
		t, ok := trackIdx[tk]
		if !ok {
			t = len(tracks)
			trackIdx[tk] = t
			tracks = append(tracks, Group{Track: r.TrackID, RemoteTrack: r.RemoteTrack, Artist: r.ArtistID, Payee: r.Payee})
		}
		tracks[t].Listens += r.Listens
		tracks[t].HeardMS += r.HeardMS
		tracks[t].Listeners++

		a, ok := artistIdx[ak]
		if !ok {
			a = len(artists)
			artistIdx[ak] = a
			artists = append(artists, Group{Artist: r.ArtistID, Payee: r.Payee})
		}
		artists[a].Listens += r.Listens
		artists[a].HeardMS += r.HeardMS

		if i == 0 || r.UserID != user {
			user, pseudonym, first = r.UserID, p.of(r.UserID), len(lines)
			totals.Listeners++
		}
		// A listener hears few artists a day: a scan of their lines is
		// cheaper than a map of every listener × artist.
		n := first
		for n < len(lines) && lines[n].artist() != ak {
			n++
		}
		if n == len(lines) {
			lines = append(lines, Line{Listener: pseudonym, Artist: r.ArtistID, Payee: r.Payee})
			artists[a].Listeners++
		}
		lines[n].Listens += r.Listens
		lines[n].HeardMS += r.HeardMS
		totals.Listens += r.Listens
		totals.HeardMS += r.HeardMS
	}
	// This node's tracks and artists by id, then other servers' by name.
	slices.SortFunc(tracks, func(a, b Group) int {
		return cmp.Or(strings.Compare(a.RemoteTrack, b.RemoteTrack), cmp.Compare(a.Track, b.Track))
	})
	sortArtists(artists)
	sortLines(lines)
	return tracks, artists, lines, totals
}

func sortLines(lines []Line) {
	slices.SortFunc(lines, func(a, b Line) int {
		return cmp.Or(strings.Compare(a.Listener, b.Listener), a.artist().compare(b.artist()))
	})
}

func sortArtists(artists []Group) {
	slices.SortFunc(artists, func(a, b Group) int { return a.artist().compare(b.artist()) })
}

// summarize keeps the groups heard by at least k distinct listeners.
func summarize(k int, totals Group, tracks, artists []Group) Summary {
	s := Summary{K: k, Tracks: []Group{}, Artists: []Group{}}
	if totals.Listeners >= int64(k) {
		t := totals
		s.Totals = &t
	} else if totals.Listeners > 0 {
		s.Suppressed++
	}
	for _, g := range tracks {
		if g.Listeners >= int64(k) {
			s.Tracks = append(s.Tracks, g)
		} else {
			s.Suppressed++
		}
	}
	for _, g := range artists {
		if g.Listeners >= int64(k) {
			s.Artists = append(s.Artists, g)
		} else {
			s.Suppressed++
		}
	}
	return s
}

// ParseDay reads a UTC day written YYYY-MM-DD.
func ParseDay(day string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil || len(day) != 10 {
		return time.Time{}, nineten.E("report.ParseDay", nineten.KindInvalid, "\""+day+"\" is not a day written YYYY-MM-DD")
	}
	return t, nil
}

// MakeDaily reads day's listening and builds its report, without sealing
// it. progress, when not nil, is called with the rows read so far.
func (s *Service) MakeDaily(ctx context.Context, day string, progress func(n int)) (*Daily, error) {
	const op = "report.MakeDaily"
	start, err := ParseDay(day)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	var rows []nineten.DayListening
	err = s.Store.DailyListening(ctx, start, start.AddDate(0, 0, 1), nineten.MinEligibleListenMS, func(d nineten.DayListening) error {
		rows = append(rows, d)
		if progress != nil && len(rows)%10_000 == 0 {
			progress(len(rows))
		}
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if progress != nil {
		progress(len(rows))
	}
	holds, err := s.Store.ListenHolds(ctx, nineten.HoldQuery{From: start, To: start.AddDate(0, 0, 1), MinHeardMS: nineten.MinEligibleListenMS})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	p := s.pseudonymsOf(nineten.PeriodOf(start))
	d := &Daily{Format: dailyFormat, Node: s.Node, Day: day, Pseudonyms: p.ID}
	for _, h := range holds {
		switch h.Hold {
		case nineten.HoldReview:
			d.Held = Group{Listens: h.Listens, HeardMS: h.HeardMS}
		case nineten.HoldConfirmed:
			d.Excluded = Group{Listens: h.Listens, HeardMS: h.HeardMS}
		}
	}
	d.Tracks, d.Artists, d.Listening, d.Totals = aggregate(rows, p)
	if d.Listening == nil {
		d.Tracks, d.Artists, d.Listening = []Group{}, []Group{}, []Line{}
	}
	return d, nil
}

// Daily makes, seals, signs, anchors and stores the report of day (UTC,
// YYYY-MM-DD). It is idempotent: when the day's listening is what the
// stored report holds, that report is kept (and anchored if it was not
// yet); when it changed (listens verified late, a review), the new report
// is anchored as the next version — refused once the month is settled.
func (s *Service) Daily(ctx context.Context, day string, progress func(n int)) (*nineten.StoredReport, error) {
	const op = "report.Daily"
	start, err := ParseDay(day)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if s.now().Before(start.AddDate(0, 0, 1)) {
		return nil, nineten.E(op, nineten.KindConflict, "the day "+day+" is not over yet (days are UTC): its report is made after midnight")
	}
	if s.BeforeDaily != nil {
		if err := s.BeforeDaily(ctx, start); err != nil {
			return nil, nineten.E(op, "checking the day's listening for fake streams", err)
		}
	}
	d, err := s.MakeDaily(ctx, day, progress)
	if err != nil {
		return nil, err
	}
	h := Header{ID: DailyID(day), Kind: string(nineten.ReportDaily), Node: s.Node, Day: day,
		Summary: summarize(s.k(), d.Totals, d.Tracks, d.Artists)}
	r, err := s.store(ctx, h, d, d.Totals)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return r, nil
}

// store seals content under h unless the stored report holds the same
// content, stores it and anchors it.
func (s *Service) store(ctx context.Context, h Header, content any, totals Group) (*nineten.StoredReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	plain, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(plain)
	digest := hex.EncodeToString(sum[:])
	r, err := s.Store.Report(ctx, h.ID)
	var a nineten.ReportAnchor
	if err == nil && r.Content == digest && r.Version > 0 && !s.anchoredElse(ctx, r) {
		return r, nil
	}
	switch {
	case err == nil && r.Content == digest && r.Version > 0:
		// The ledger's latest version is another file (two processes made
		// the report at once, and this one's store came last): the stored
		// file is anchored again below, as the latest version.
		fallthrough
	case err == nil && r.Content == digest:
		// Stored but not anchored: the node stopped in between.
	case err == nil || nineten.ErrorKind(err) == nineten.KindNotFound:
		prev := r
		if prev != nil && prev.Version > 0 {
			// A settled month's reports are final: refused before the
			// stored report is replaced.
			if all, err := s.Ledger.ReportAnchors(ctx, h.ID); err == nil && all[len(all)-1].Final {
				return nil, nineten.E(nineten.KindConflict, "the listening of "+h.Day+" changed since its report (version "+
					strconv.Itoa(prev.Version)+") but its month is settled: the report stays as it was paid from")
			}
		}
		if h.Recipients, err = s.recipients(ctx); err != nil {
			return nil, err
		}
		file, hash, err := seal(h, plain, s.Cipher, s.signingKey())
		if err != nil {
			return nil, err
		}
		r = &nineten.StoredReport{ID: h.ID, Kind: nineten.ReportKind(h.Kind), Day: h.Day, Hash: hash, Content: digest, File: file,
			Listens: totals.Listens, Listeners: totals.Listeners, Suppressed: h.Summary.Suppressed, CreatedAt: s.now()}
		// Stored before it is anchored: a crash in between leaves a report
		// the next run anchors, not a second version.
		if err := s.Store.SaveReport(ctx, r); err != nil {
			return nil, err
		}
		if a, err = s.Ledger.AnchorReport(ctx, nineten.ReportAnchor{ID: r.ID, Day: r.Day, Hash: r.Hash, Signer: s.Signer()}); err != nil {
			// Refused: the anchored report stays the stored one.
			if prev != nil {
				err = errors.Join(err, s.Store.SaveReport(ctx, prev))
			}
			return nil, err
		}
	default:
		return nil, err
	}
	if a.Version == 0 {
		if a, err = s.Ledger.AnchorReport(ctx, nineten.ReportAnchor{ID: r.ID, Day: r.Day, Hash: r.Hash, Signer: s.Signer()}); err != nil {
			return nil, err
		}
	}
	r.Version = a.Version
	if err := s.Store.SaveReport(ctx, r); err != nil {
		return nil, err
	}
	level := slog.LevelDebug // a day at a time is routine
	if r.Kind == nineten.ReportMonthly {
		level = slog.LevelInfo
	}
	s.log().Log(ctx, level, "listening report anchored", "report", r.ID, "version", r.Version, "hash", r.Hash, "listens", r.Listens)
	return r, nil
}

// anchoredElse reports whether the ledger's latest version of r is
// another file than r, in a month still open.
func (s *Service) anchoredElse(ctx context.Context, r *nineten.StoredReport) bool {
	all, err := s.Ledger.ReportAnchors(ctx, r.ID)
	if err != nil || len(all) == 0 {
		return false
	}
	last := all[len(all)-1]
	return last.Hash != r.Hash && !last.Final
}

// recipients is the report's audience: the node, then the others, each once.
func (s *Service) recipients(ctx context.Context) ([]string, error) {
	out := []string{s.Cipher.Recipient()}
	if s.Audience != nil {
		more, err := s.Audience(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range more {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}
