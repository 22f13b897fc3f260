package anomaly

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	nineten "nineten.dev"
)

// JobDetect is the kind of the job that runs detection over one day.
const JobDetect = "anomaly.detect"

// Service runs the rules over the node's listening and keeps their flags.
type Service struct {
	Store      nineten.Store
	Clock      nineten.Clock
	Thresholds *Thresholds // nil: Default
	Log        *slog.Logger
	// Enqueued is told when a detection job was queued (to wake workers).
	Enqueued func()
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// DetectDay runs every rule over the listening of the UTC day of day and
// holds what they flag out of settlement. It is idempotent: a flag found
// again keeps its review, and only listens it did not hold yet join it.
// It returns the number of new flags.
func (s *Service) DetectDay(ctx context.Context, day time.Time) (int, error) {
	const op = "anomaly.DetectDay"
	day = midnight(day)
	var ls []Listen
	err := s.Store.DetectionListens(ctx, day.Add(-History), day.Add(24*time.Hour), func(d nineten.DetectionListen) error {
		// The rules see a play of another server's track like any other;
		// its ids are negated so that they never meet this node's (a
		// subject "track:-4" is remote track 4).
		sign := int64(1)
		if d.Remote {
			sign = -1
		}
		ls = append(ls, Listen{
			ID: sign * int64(d.ListenID), Listener: int64(d.UserID), Since: d.UserCreatedAt.UnixMilli(),
			Track: sign * int64(d.TrackID), Artist: sign * int64(d.ArtistID), TrackMS: d.TrackMS,
			Start: d.StartedAt.UnixMilli(), HeardMS: d.HeardMS, Network: d.Network, Device: d.Device, Held: d.Held,
		})
		return nil
	})
	if err != nil {
		return 0, nineten.E(op, err)
	}
	th := Default
	if s.Thresholds != nil {
		th = *s.Thresholds
	}
	found := Detect(ls, day, th)
	flags := make([]nineten.AnomalyFlag, len(found))
	now := s.now()
	for i, f := range found {
		var ids, remote []nineten.ID
		for _, id := range f.Listens {
			if id < 0 {
				remote = append(remote, nineten.ID(-id))
			} else {
				ids = append(ids, nineten.ID(id))
			}
		}
		flags[i] = nineten.AnomalyFlag{Rule: f.Rule, Subject: f.Subject, Day: day, Score: f.Score,
			Summary: f.Summary, Evidence: f.Evidence, ListenIDs: ids, RemoteListenIDs: remote, CreatedAt: now}
	}
	created, err := s.Store.SaveAnomalyFlags(ctx, flags)
	if err != nil {
		return 0, nineten.E(op, err)
	}
	if err := s.Store.DetectionRan(ctx, day, now, len(flags)); err != nil {
		return 0, nineten.E(op, err)
	}
	if created > 0 {
		s.log().InfoContext(ctx, "listens flagged as possible fake streams", "day", day.Format(time.DateOnly), "new_flags", created, "flags", len(flags))
	}
	return created, nil
}

// BeforeSettle runs detection over every day of period that has not been
// looked at since it ended, so that a settlement (or its preview) never
// pays for listening the rules have not seen.
func (s *Service) BeforeSettle(ctx context.Context, period nineten.Period) error {
	const op = "anomaly.BeforeSettle"
	start, err := period.Start()
	if err != nil {
		return nineten.E(op, err)
	}
	for day := start; day.Before(start.AddDate(0, 1, 0)) && !day.After(s.now()); day = day.Add(24 * time.Hour) {
		if err := s.EnsureDay(ctx, day); err != nil {
			return nineten.E(op, err)
		}
	}
	return nil
}

// EnsureDay runs detection over the UTC day of day unless it ran since the
// day ended: what a daily listening report calls first.
func (s *Service) EnsureDay(ctx context.Context, day time.Time) error {
	day = midnight(day)
	ran, err := s.Store.DetectionRunAt(ctx, day)
	if err != nil {
		return err
	}
	if !ran.IsZero() && !ran.Before(day.Add(24*time.Hour)) {
		return nil
	}
	_, err = s.DetectDay(ctx, day)
	return err
}

// Tick queues the detection of yesterday (UTC) once the day is over, unless
// it ran or is queued already. A node calls it every hour; several
// processes may.
func (s *Service) Tick(ctx context.Context) error {
	const op = "anomaly.Tick"
	yesterday := midnight(s.now()).Add(-24 * time.Hour)
	ran, err := s.Store.DetectionRunAt(ctx, yesterday)
	if err != nil {
		return nineten.E(op, err)
	}
	if !ran.IsZero() {
		return nil
	}
	payload, _ := json.Marshal(detectJob{Day: yesterday.Format(time.DateOnly)})
	active, err := s.Store.ActiveJobs(ctx)
	if err != nil {
		return nineten.E(op, err)
	}
	for _, j := range active {
		if j.Kind == JobDetect && string(j.Payload) == string(payload) {
			return nil
		}
	}
	if err := s.Store.Enqueue(ctx, &nineten.Job{Kind: JobDetect, Payload: payload, MaxAttempts: 5, RunAt: s.now()}); err != nil {
		return nineten.E(op, err)
	}
	if s.Enqueued != nil {
		s.Enqueued()
	}
	return nil
}

type detectJob struct {
	Day string `json:"day"` // YYYY-MM-DD
}

// Detector is the job handler that runs detection over a queued day.
func (s *Service) Detector() *Detector { return &Detector{s: s} }

// Detector runs JobDetect jobs.
type Detector struct{ s *Service }

func (d *Detector) Run(ctx context.Context, job *nineten.Job, progress func(int)) error {
	var p detectJob
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return nineten.E("anomaly.Detector", nineten.KindInvalid, "the job's payload is not a day", err)
	}
	day, err := time.Parse(time.DateOnly, p.Day)
	if err != nil {
		return nineten.E("anomaly.Detector", nineten.KindInvalid, fmt.Sprintf("%q is not a day (YYYY-MM-DD)", p.Day))
	}
	_, err = d.s.DetectDay(ctx, day)
	progress(100)
	return err
}

func (d *Detector) GiveUp(ctx context.Context, job *nineten.Job, err error) {
	d.s.log().ErrorContext(ctx, "fake-stream detection gave up", "payload", string(job.Payload), "err", err)
}

// Review clears (the listens count) or confirms (they never count) flags.
// Only admins review; the caller checks.
func (s *Service) Review(ctx context.Context, admin *nineten.User, ids []nineten.ID, decision nineten.FlagStatus) (int, error) {
	const op = "anomaly.Review"
	if admin == nil || admin.Role != nineten.RoleAdmin {
		return 0, nineten.E(op, nineten.KindPermission, "only admins review flagged listens")
	}
	if decision != nineten.FlagCleared && decision != nineten.FlagConfirmed {
		return 0, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("decide %q (they count) or %q (they never count), not %q", nineten.FlagCleared, nineten.FlagConfirmed, decision))
	}
	if len(ids) == 0 || len(ids) > 10_000 {
		return 0, nineten.E(op, nineten.KindInvalid, "name from 1 to 10,000 flags to review")
	}
	n, err := s.Store.ReviewAnomalyFlags(ctx, ids, decision, admin.ID, s.now())
	if err != nil {
		return 0, nineten.E(op, err)
	}
	s.log().InfoContext(ctx, "flags reviewed", "admin", admin.ID, "decision", decision, "flags", n)
	return n, nil
}

// Means explains a rule in words.
func Means(rule string) string {
	for _, r := range Rules {
		if r.Name == rule {
			return r.Means
		}
	}
	return rule
}
