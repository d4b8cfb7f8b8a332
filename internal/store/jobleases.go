package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil"
)

// AcquireLease takes the lease of the named job for owner until ttl from now, when no one holds it, its holder's
// lease has expired, or owner already holds it; ok is false when another owner's lease is live. It is one
// conditional upsert, atomic on both engines (PostgreSQL locks the conflicting row and re-checks the condition on
// its newest version; SQLite has one writer), so two servers racing for a free job cannot both win it. Leases are
// operational state, not audited.
func (db *DB) AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (ok bool, err error) {
	now := db.clock.Now().UTC()
	res, err := db.db.ExecContext(ctx, `INSERT INTO job_leases (name, owner, acquired_at, renewed_at, expires_at) VALUES ($1, $2, $3, $3, $4)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at,
			expires_at = excluded.expires_at
		WHERE job_leases.expires_at <= excluded.acquired_at OR job_leases.owner = excluded.owner`,
		job, owner, timeText(now), timeText(now.Add(ttl)))
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", job, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RenewLease extends owner's live lease of the job to ttl from now (the heartbeat of a running job); ok is false
// when owner no longer holds it: it expired and another server took the job.
func (db *DB) RenewLease(ctx context.Context, job, owner string, ttl time.Duration) (ok bool, err error) {
	now := db.clock.Now().UTC()
	res, err := db.db.ExecContext(ctx, "UPDATE job_leases SET renewed_at = $1, expires_at = $2 WHERE name = $3 AND owner = $4 AND expires_at > $1",
		timeText(now), timeText(now.Add(ttl)), job, owner)
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", job, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseLease frees owner's lease of the job (it expires now), so another server may take the job at once; the
// row stays, naming the last holder.
func (db *DB) ReleaseLease(ctx context.Context, job, owner string) error {
	if _, err := db.db.ExecContext(ctx, "UPDATE job_leases SET expires_at = $1 WHERE name = $2 AND owner = $3",
		timeText(db.clock.Now()), job, owner); err != nil {
		return fmt.Errorf("release lease %s: %w", job, err)
	}
	return nil
}

// CompleteLease frees owner's lease of the job and records now as the job's last completion (a periodic job's
// schedule). Nothing changes when owner no longer holds it.
func (db *DB) CompleteLease(ctx context.Context, job, owner string) error {
	now := timeText(db.clock.Now())
	if _, err := db.db.ExecContext(ctx, "UPDATE job_leases SET expires_at = $1, completed_at = $1 WHERE name = $2 AND owner = $3",
		now, job, owner); err != nil {
		return fmt.Errorf("complete lease %s: %w", job, err)
	}
	return nil
}

// LastCompleted is when the job last completed (zero when it never has).
func (db *DB) LastCompleted(ctx context.Context, job string) (time.Time, error) {
	var at sql.NullString
	err := db.db.QueryRowContext(ctx, "SELECT completed_at FROM job_leases WHERE name = $1", job).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("last completion of %s: %w", job, err)
	}
	return parseTime(at), nil
}

// JobLeases lists the jobs' leases by name (operational state: every signed-in role may read it).
func (db *DB) JobLeases(ctx context.Context) ([]*vigil.JobLease, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT name, owner, acquired_at, renewed_at, expires_at, completed_at FROM job_leases ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("job leases: %w", err)
	}
	defer rows.Close()
	out := []*vigil.JobLease{}
	for rows.Next() {
		var l vigil.JobLease
		var acq, ren, exp, done sql.NullString
		if err := rows.Scan(&l.Name, &l.Owner, &acq, &ren, &exp, &done); err != nil {
			return nil, err
		}
		l.Acquired, l.Renewed, l.Expires, l.Completed = parseTime(acq), parseTime(ren), parseTime(exp), parseTime(done)
		out = append(out, &l)
	}
	return out, rows.Err()
}
