package storetest

import (
	"fmt"
	"time"

	"nineten.dev"
)

// anomalyFixture is a month with two listeners of one artist: ann's three
// listens and bob's one, all verified, each from a session with a network
// and a device.
type anomalyFixture struct {
	ann, bob *nineten.User
	artist   *nineten.Artist
	track    nineten.ID
	month    time.Time
	listens  []nineten.ID // ann's three, then bob's
}

func (e *env) anomalyFixture() *anomalyFixture {
	e.Helper()
	f := &anomalyFixture{ann: e.user("ann"), bob: e.user("bob"), month: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	f.artist = e.artist(e.user("owner").ID, "One")
	tr := e.track(nineten.Track{ArtistID: f.artist.ID, Title: "A", DurationMS: 200_000})
	f.track = tr.ID
	for i, u := range []*nineten.User{f.ann, f.ann, f.ann, f.bob} {
		id := fmt.Sprintf("an%d", i)
		start := f.month.Add(time.Duration(i+1) * time.Hour)
		e.ok(e.s.CreateListenSession(e.ctx, &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: start,
			HeardMS: 120_000, Network: "net-" + u.Username, Device: "dev-1"}))
		l := &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: start, HeardMS: 40_000,
			Status: nineten.ListenVerified, VerifiedAt: start.Add(40 * time.Second)}
		e.ok(e.s.SaveListen(e.ctx, l))
		f.listens = append(f.listens, l.ID)
	}
	return f
}

// totals is the month's ListeningTotals.
func (e *env) totals(month time.Time) []nineten.ListenerArtistTotal {
	e.Helper()
	var got []nineten.ListenerArtistTotal
	q := nineten.TotalsQuery{From: month, To: month.AddDate(0, 1, 0), MinHeardMS: 30_000}
	e.ok(e.s.ListeningTotals(e.ctx, q, func(t nineten.ListenerArtistTotal) error {
		got = append(got, t)
		return nil
	}))
	return got
}

var anomalyTests = []test{
	// The detector reads verified listens of logged-in listeners with the
	// session's network, device and heard time (the session hears on after
	// the listen is saved), and the listener's account age.
	{"DetectionListens/ReadsSessionContext", func(e *env) {
		f := e.anomalyFixture()
		var got []nineten.DetectionListen
		e.ok(e.s.DetectionListens(e.ctx, f.month, f.month.Add(3*time.Hour+time.Minute), func(d nineten.DetectionListen) error {
			got = append(got, d)
			return nil
		}))
		if len(got) != 3 {
			e.Fatalf("listens in the first three hours: got %d, want 3", len(got))
		}
		d := got[0]
		if d.ListenID != f.listens[0] || d.UserID != f.ann.ID || d.ArtistID != f.artist.ID || d.HeardMS != 120_000 ||
			d.TrackMS != 200_000 || d.Network != "net-ann" || d.Device != "dev-1" || d.UserCreatedAt.IsZero() ||
			!d.StartedAt.Equal(f.month.Add(time.Hour)) {
			e.Errorf("first listen: %+v", d)
		}
	}},
	// A flag holds its listens out of the totals until it is reviewed:
	// cleared, they count again; confirmed, they never do. A listen two
	// flags hold counts only when both are cleared.
	{"AnomalyFlags/HoldListensUntilReviewed", func(e *env) {
		f := e.anomalyFixture()
		day := f.month
		all := []nineten.ListenerArtistTotal{
			{UserID: f.ann.ID, ArtistID: f.artist.ID, Listens: 3, HeardMS: 120_000},
			{UserID: f.bob.ID, ArtistID: f.artist.ID, Listens: 1, HeardMS: 40_000},
		}
		e.same("before any flag", all, e.totals(f.month))
		flags := []nineten.AnomalyFlag{
			{Rule: "loop", Subject: fmt.Sprintf("listener:%d", f.ann.ID), Day: day, Score: 80, Summary: "looped",
				Evidence: map[string]int64{"plays": 3}, ListenIDs: f.listens[:2], CreatedAt: at(0)},
			{Rule: "network", Subject: "network:x", Day: day, Score: 60, Summary: "shared", ListenIDs: f.listens[1:3], CreatedAt: at(0)},
		}
		n, err := e.s.SaveAnomalyFlags(e.ctx, flags)
		e.ok(err)
		if n != 2 {
			e.Errorf("new flags: got %d, want 2", n)
		}
		var held []bool
		e.ok(e.s.DetectionListens(e.ctx, f.month, f.month.AddDate(0, 0, 1), func(d nineten.DetectionListen) error {
			held = append(held, d.Held)
			return nil
		}))
		e.same("which listens the detector sees held", []bool{true, true, true, false}, held)
		// Saved again (detection re-run): nothing new, nothing changes.
		n, err = e.s.SaveAnomalyFlags(e.ctx, flags)
		e.ok(err)
		if n != 0 {
			e.Errorf("new flags on a re-run: got %d, want 0", n)
		}
		e.same("all of ann's held", all[1:], e.totals(f.month))

		got, err := e.s.AnomalyFlags(e.ctx, nineten.FlagQuery{Status: nineten.FlagHeld})
		e.ok(err)
		if len(got) != 2 || got[0].Rule != "loop" || got[0].Listens != 2 || got[0].Evidence["plays"] != 3 ||
			len(got[0].Listeners) != 1 || got[0].Listeners[0] != f.ann.ID || len(got[0].Artists) != 1 || got[0].Status != nineten.FlagHeld {
			e.Fatalf("held flags: %+v", got)
		}
		loop, network := got[0].ID, got[1].ID
		mine, err := e.s.AnomalyFlags(e.ctx, nineten.FlagQuery{UserID: f.bob.ID})
		e.ok(err)
		if len(mine) != 0 {
			e.Errorf("bob's flags: %+v", mine)
		}
		theirs, err := e.s.AnomalyFlags(e.ctx, nineten.FlagQuery{ArtistID: f.artist.ID})
		e.ok(err)
		if len(theirs) != 2 {
			e.Errorf("the artist's flags: got %d, want 2", len(theirs))
		}

		admin := e.user("admin")
		changed, err := e.s.ReviewAnomalyFlags(e.ctx, []nineten.ID{loop}, nineten.FlagCleared, admin.ID, at(time.Hour))
		e.ok(err)
		if changed != 1 {
			e.Errorf("reviewed: got %d, want 1", changed)
		}
		// The first listen counts again; the second is still held by the other flag.
		e.same("loop cleared", []nineten.ListenerArtistTotal{
			{UserID: f.ann.ID, ArtistID: f.artist.ID, Listens: 1, HeardMS: 40_000}, all[1],
		}, e.totals(f.month))
		_, err = e.s.ReviewAnomalyFlags(e.ctx, []nineten.ID{network}, nineten.FlagConfirmed, admin.ID, at(time.Hour))
		e.ok(err)
		e.same("network confirmed", []nineten.ListenerArtistTotal{
			{UserID: f.ann.ID, ArtistID: f.artist.ID, Listens: 1, HeardMS: 40_000}, all[1],
		}, e.totals(f.month))
		holds, err := e.s.ListenHolds(e.ctx, nineten.HoldQuery{ArtistID: f.artist.ID, From: f.month, To: f.month.AddDate(0, 1, 0)})
		e.ok(err)
		e.same("the artist's listens by hold", []nineten.ListenHoldCount{
			{Hold: nineten.HoldNone, Listens: 2, HeardMS: 80_000},
			{Hold: nineten.HoldConfirmed, Listens: 2, HeardMS: 80_000},
		}, holds)
		holds, err = e.s.ListenHolds(e.ctx, nineten.HoldQuery{From: f.month, To: f.month.Add(2*time.Hour + time.Minute), MinHeardMS: 30_000})
		e.ok(err)
		e.same("the first two hours' listens by hold", []nineten.ListenHoldCount{
			{Hold: nineten.HoldNone, Listens: 1, HeardMS: 40_000},
			{Hold: nineten.HoldConfirmed, Listens: 1, HeardMS: 40_000},
		}, holds)
		// The daily report's listening leaves out what a flag holds.
		var daily []nineten.DayListening
		e.ok(e.s.DailyListening(e.ctx, f.month, f.month.AddDate(0, 0, 1), 30_000, func(d nineten.DayListening) error {
			daily = append(daily, d)
			return nil
		}))
		e.same("the day's listening with the network flag confirmed", []nineten.DayListening{
			{UserID: f.ann.ID, TrackID: f.track, ArtistID: f.artist.ID, Listens: 1, HeardMS: 40_000},
			{UserID: f.bob.ID, TrackID: f.track, ArtistID: f.artist.ID, Listens: 1, HeardMS: 40_000},
		}, daily)
		_, err = e.s.ReviewAnomalyFlags(e.ctx, []nineten.ID{network}, nineten.FlagCleared, admin.ID, at(2*time.Hour))
		e.ok(err)
		e.same("both cleared", all, e.totals(f.month))

		reviewed, err := e.s.AnomalyFlags(e.ctx, nineten.FlagQuery{IDs: []nineten.ID{network}})
		e.ok(err)
		if len(reviewed) != 1 || reviewed[0].Status != nineten.FlagCleared || reviewed[0].ReviewedBy != admin.ID || !reviewed[0].ReviewedAt.Equal(at(2*time.Hour)) {
			e.Errorf("reviewed flag: %+v", reviewed)
		}
		counts, err := e.s.AnomalyRuleCounts(e.ctx)
		e.ok(err)
		e.same("counts per rule", []nineten.RuleCount{{Rule: "loop", Status: nineten.FlagCleared, Flags: 1}, {Rule: "network", Status: nineten.FlagCleared, Flags: 1}}, counts)
		if _, err := e.s.ReviewAnomalyFlags(e.ctx, []nineten.ID{loop}, nineten.FlagHeld, admin.ID, at(0)); nineten.ErrorKind(err) != nineten.KindInvalid {
			e.Errorf("review back to held: got %v, want KindInvalid", err)
		}
	}},
	// Plays of other servers' tracks through the node are seen, held and
	// reviewed as this node's: the detector reads them (marked Remote, with
	// their session's tags and a stable number for their artist), a flag
	// holds them out of the day's listening and the totals, the listener
	// sees the flag, and a review counts them again.
	{"AnomalyFlags/HoldRemoteListens", func(e *env) {
		f := e.anomalyFixture()
		far := &nineten.RemoteTrack{IRI: "https://far.example/tracks/1", Payee: "far.example/5", DurationMS: 180_000}
		e.ok(e.s.SaveRemoteTrack(e.ctx, far))
		start := f.month.Add(5 * time.Hour)
		s := &nineten.ListenSession{ID: nineten.RemoteSessionPrefix + "an-far", RemoteTrackID: far.ID, UserID: f.bob.ID,
			StartedAt: start, HeardMS: 90_000, Network: "net-bob", Device: "dev-2"}
		e.ok(e.s.CreateListenSession(e.ctx, s))
		l := &nineten.Listen{SessionID: s.ID, RemoteTrackID: far.ID, UserID: f.bob.ID, StartedAt: start, HeardMS: 40_000,
			Status: nineten.ListenVerified, VerifiedAt: start.Add(40 * time.Second)}
		e.ok(e.s.SaveListen(e.ctx, l))

		var remote []nineten.DetectionListen
		e.ok(e.s.DetectionListens(e.ctx, f.month, f.month.AddDate(0, 0, 1), func(d nineten.DetectionListen) error {
			if d.Remote {
				remote = append(remote, d)
			}
			return nil
		}))
		if len(remote) != 1 || remote[0].ListenID != l.ID || remote[0].TrackID != far.ID || remote[0].ArtistID != far.ID ||
			remote[0].HeardMS != 90_000 || remote[0].TrackMS != 180_000 || remote[0].Network != "net-bob" || remote[0].Device != "dev-2" || remote[0].Held {
			e.Fatalf("remote listens the detector reads: %+v", remote)
		}
		daily := func() []nineten.DayListening {
			var out []nineten.DayListening
			e.ok(e.s.DailyListening(e.ctx, f.month, f.month.AddDate(0, 0, 1), 30_000, func(d nineten.DayListening) error {
				out = append(out, d)
				return nil
			}))
			return out
		}
		counted := []nineten.DayListening{
			{UserID: f.ann.ID, TrackID: f.track, ArtistID: f.artist.ID, Listens: 3, HeardMS: 120_000},
			{UserID: f.bob.ID, TrackID: f.track, ArtistID: f.artist.ID, Listens: 1, HeardMS: 40_000},
			{UserID: f.bob.ID, RemoteTrack: far.IRI, Payee: far.Payee, Listens: 1, HeardMS: 40_000},
		}
		e.same("the day's listening with the remote listen", counted, daily())

		_, err := e.s.SaveAnomalyFlags(e.ctx, []nineten.AnomalyFlag{{Rule: "device", Subject: "device:x", Day: f.month, Score: 70,
			Summary: "shared", ListenIDs: f.listens[3:], RemoteListenIDs: []nineten.ID{l.ID}, CreatedAt: at(0)}})
		e.ok(err)
		e.same("the day's listening with bob's held", counted[:1], daily())
		mine, err := e.s.AnomalyFlags(e.ctx, nineten.FlagQuery{UserID: f.bob.ID})
		e.ok(err)
		if len(mine) != 1 || mine[0].Listens != 2 || len(mine[0].Listeners) != 1 || mine[0].Listeners[0] != f.bob.ID {
			e.Fatalf("bob's flags: %+v", mine)
		}
		holds, err := e.s.ListenHolds(e.ctx, nineten.HoldQuery{From: f.month, To: f.month.AddDate(0, 1, 0), MinHeardMS: 30_000})
		e.ok(err)
		e.same("the month's listens by hold", []nineten.ListenHoldCount{
			{Hold: nineten.HoldNone, Listens: 3, HeardMS: 120_000},
			{Hold: nineten.HoldReview, Listens: 2, HeardMS: 80_000},
		}, holds)
		_, err = e.s.ReviewAnomalyFlags(e.ctx, []nineten.ID{mine[0].ID}, nineten.FlagCleared, f.ann.ID, at(time.Hour))
		e.ok(err)
		e.same("the day's listening once cleared", counted, daily())
	}},
	{"DetectionRuns/RecordedPerDay", func(e *env) {
		day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		got, err := e.s.DetectionRunAt(e.ctx, day)
		e.ok(err)
		if !got.IsZero() {
			e.Errorf("never ran: got %v", got)
		}
		e.ok(e.s.DetectionRan(e.ctx, day, at(time.Hour), 3))
		e.ok(e.s.DetectionRan(e.ctx, day, at(2*time.Hour), 0))
		got, err = e.s.DetectionRunAt(e.ctx, day)
		e.ok(err)
		if !got.Equal(at(2 * time.Hour)) {
			e.Errorf("last run: got %v, want %v", got, at(2*time.Hour))
		}
	}},
}
