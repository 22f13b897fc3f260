package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"nineten.dev"
)

// defaultMaxAttempts is how often a job runs when its creator did not say.
const defaultMaxAttempts = 3

// lostWorker is the last error of a job whose worker vanished (a crash, a
// restart) while running its final attempt.
const lostWorker = "worker stopped during the last attempt"

const jobCols = `id, kind, payload, status, attempts, max_attempts, run_at, locked_until,
	last_error, progress, created_at, updated_at`

func scanJob(row scanner) (*nineten.Job, error) {
	var j nineten.Job
	var runAt, locked, created, updated int64
	err := row.Scan(&j.ID, &j.Kind, &j.Payload, &j.Status, &j.Attempts, &j.MaxAttempts, &runAt, &locked,
		&j.LastError, &j.Progress, &created, &updated)
	if err != nil {
		return nil, err
	}
	j.RunAt, j.LockedUntil = fromMS(runAt), fromMS(locked)
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	return &j, nil
}

// Enqueue adds j to the queue as queued, whatever its status. Zero values
// get defaults: three attempts, and now for RunAt and CreatedAt.
func (s *store) Enqueue(ctx context.Context, j *nineten.Job) error {
	const op = "sqlstore.Enqueue"
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = defaultMaxAttempts
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = nowUTC()
	}
	if j.RunAt.IsZero() {
		j.RunAt = j.CreatedAt
	}
	j.UpdatedAt = j.CreatedAt
	j.Status, j.Attempts, j.LockedUntil, j.Progress = nineten.JobQueued, 0, time.Time{}, 0
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, locked_until,
			last_error, progress, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?, 0, ?, 0, ?, ?) RETURNING id`,
		j.Kind, j.Payload, j.Status, j.MaxAttempts, ms(j.RunAt), j.LastError, ms(j.CreatedAt), ms(j.UpdatedAt),
	).Scan(&j.ID)
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

// Claim hands out the job of one of kinds that has waited longest: a queued
// job that is due, or a running one whose lease ran out because its worker
// died. Choosing and leasing happen in one transaction, so no two claimers
// get the same job: on SQLite the write transaction, which holds the write
// lock; on PostgreSQL a READ COMMITTED transaction that locks the row it
// picks with FOR UPDATE SKIP LOCKED, so that claimers in several processes
// pass over the rows others are taking instead of waiting for them (a row
// leased meanwhile no longer matches once locked, and is passed over too).
// A job whose lease ran out on its last attempt is failed rather than
// handed out again.
func (s *store) Claim(ctx context.Context, kinds []string, now time.Time, lease time.Duration) (*nineten.Job, error) {
	const op = "sqlstore.Claim"
	if len(kinds) == 0 {
		return nil, nil
	}
	at := ms(now)
	args := make([]any, 0, len(kinds)+2)
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, at, at)
	pick := `SELECT id, status, attempts, max_attempts FROM jobs
		WHERE kind IN (` + placeholders(len(kinds)) + `)
		AND status IN ('queued', 'running') -- lets SQLite use the index jobs_live
		AND ((status = 'queued' AND run_at <= ?) OR (status = 'running' AND locked_until < ?))
		ORDER BY run_at, id LIMIT 1`
	if s.pg {
		pick += ` FOR UPDATE SKIP LOCKED`
	}

	var job *nineten.Job
	claim := func(q querier) error {
		job = nil
		for {
			var id nineten.ID
			var status nineten.JobStatus
			var attempts, maxAttempts int
			err := q.QueryRowContext(ctx, pick, args...).Scan(&id, &status, &attempts, &maxAttempts)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			if status == nineten.JobRunning && attempts >= maxAttempts {
				_, err := q.ExecContext(ctx, `
					UPDATE jobs SET status = 'failed', last_error = ?, locked_until = 0, updated_at = ?
					WHERE id = ?`, lostWorker, at, id)
				if err != nil {
					return err
				}
				continue
			}
			job, err = scanJob(q.QueryRowContext(ctx, `
				UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = ?, updated_at = ?
				WHERE id = ? RETURNING `+jobCols, ms(now.Add(lease)), at, id))
			return err
		}
	}
	var err error
	if s.db == nil {
		err = claim(s.write)
	} else {
		err = s.db.run(ctx, txClaim, claim)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return job, nil
}

// Heartbeat extends the lease of a running job to until and records its
// progress. A job that is no longer running (it was failed or completed
// meanwhile) is a KindConflict: its worker should stop.
func (s *store) Heartbeat(ctx context.Context, id nineten.ID, until time.Time, progress int) error {
	const op = "sqlstore.Heartbeat"
	res, err := s.write.ExecContext(ctx, `
		UPDATE jobs SET locked_until = ?, progress = ?, updated_at = ?
		WHERE id = ? AND status = 'running'`, ms(until), progress, ms(nowUTC()), id)
	if err != nil {
		return dbError(op, err, "")
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var status nineten.JobStatus
	err = s.write.QueryRowContext(ctx, `SELECT status FROM jobs WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op, "job %d", id)
	}
	if err != nil {
		return dbError(op, err, "")
	}
	return nineten.E(op, nineten.KindConflict, fmt.Sprintf("job %d is %s, not running", id, status))
}

func (s *store) Complete(ctx context.Context, id nineten.ID, at time.Time) error {
	const op = "sqlstore.Complete"
	res, err := s.write.ExecContext(ctx, `
		UPDATE jobs SET status = 'done', progress = 100, locked_until = 0, updated_at = ?
		WHERE id = ?`, ms(at), id)
	return mustAffect(op, res, err, fmt.Sprintf("job %d", id))
}

func (s *store) Retry(ctx context.Context, id nineten.ID, errMsg string, runAt time.Time) error {
	const op = "sqlstore.Retry"
	res, err := s.write.ExecContext(ctx, `
		UPDATE jobs SET
			status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
			run_at = ?, last_error = ?, locked_until = 0, updated_at = ?
		WHERE id = ?`, ms(runAt), errMsg, ms(nowUTC()), id)
	return mustAffect(op, res, err, fmt.Sprintf("job %d", id))
}

// Fail marks a job failed for good, with errMsg as its last error.
func (s *store) Fail(ctx context.Context, id nineten.ID, errMsg string, at time.Time) error {
	const op = "sqlstore.Fail"
	res, err := s.write.ExecContext(ctx, `
		UPDATE jobs SET status = 'failed', last_error = ?, locked_until = 0, updated_at = ?
		WHERE id = ?`, errMsg, ms(at), id)
	return mustAffect(op, res, err, fmt.Sprintf("job %d", id))
}

func (s *store) JobByID(ctx context.Context, id nineten.ID) (*nineten.Job, error) {
	const op = "sqlstore.JobByID"
	j, err := scanJob(s.read.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "job %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return j, nil
}

// ActiveJobs lists queued and running jobs, oldest first.
func (s *store) ActiveJobs(ctx context.Context) ([]nineten.Job, error) {
	jobs, err := queryAll(ctx, s.read, scanJob,
		`SELECT `+jobCols+` FROM jobs WHERE status IN ('queued', 'running') ORDER BY id`)
	if err != nil {
		return nil, dbError("sqlstore.ActiveJobs", err, "")
	}
	return jobs, nil
}
