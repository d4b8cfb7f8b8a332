package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil"
)

const feedCols = "name, source, url, schedule_seconds, enabled, last_attempt, last_success, last_error, failures, next_attempt, cursor, counts"

func scanFeed(row interface{ Scan(...any) error }) (*vigil.Feed, error) {
	var f vigil.Feed
	var secs int64
	var la, ls, na sql.NullString
	var counts string
	if err := row.Scan(&f.Name, &f.Source, &f.URL, &secs, &f.Enabled, &la, &ls, &f.LastError, &f.Failures, &na, &f.Cursor, &counts); err != nil {
		return nil, err
	}
	f.Every = time.Duration(secs) * time.Second
	f.Schedule = vigil.ScheduleText(f.Every)
	f.LastAttempt, f.LastSuccess, f.NextAttempt = parseTime(la), parseTime(ls), parseTime(na)
	if counts != "" && counts != "{}" {
		f.Counts = json.RawMessage(counts)
	}
	return &f, nil
}

// Feeds lists the configured feeds by name.
func (db *DB) Feeds(ctx context.Context) ([]*vigil.Feed, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+feedCols+" FROM intel_feeds ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*vigil.Feed{}
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Feed returns one feed (ENOTFOUND when it is not configured).
func (db *DB) Feed(ctx context.Context, name string) (*vigil.Feed, error) {
	f, err := scanFeed(db.db.QueryRowContext(ctx, "SELECT "+feedCols+" FROM intel_feeds WHERE name = $1", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "feed %q is not configured", name)
	}
	return f, err
}

// SetFeed creates or reconfigures a feed (source, URL, schedule, enabled); its sync history is kept. Needs
// vigil.PermImport; audited as "intel.feed".
func (db *DB) SetFeed(ctx context.Context, f *vigil.Feed) error {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := scanFeed(tx.QueryRowContext(ctx, "SELECT "+feedCols+" FROM intel_feeds WHERE name = $1", f.Name))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if old == nil {
			_, err = tx.ExecContext(ctx, "INSERT INTO intel_feeds (name, source, url, schedule_seconds, enabled) VALUES ($1, $2, $3, $4, $5)",
				f.Name, f.Source, f.URL, int64(f.Every/time.Second), f.Enabled)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE intel_feeds SET source = $1, url = $2, schedule_seconds = $3, enabled = $4 WHERE name = $5",
				f.Source, f.URL, int64(f.Every/time.Second), f.Enabled, f.Name)
		}
		if err != nil {
			return mapErr(err)
		}
		type cfg struct {
			Source, URL, Schedule string
			Enabled               bool
		}
		var o any
		if old != nil {
			o = cfg{old.Source, old.URL, old.Every.String(), old.Enabled}
		}
		return tx.Audit(ctx, "intel.feed", "feed", f.Name, o, cfg{f.Source, f.URL, f.Every.String(), f.Enabled}, "")
	})
}

// RecordFeedAttempt records how a sync went: the time, the error (counting consecutive failures) or the success
// (clearing them). It is operational state, not a decision, so it is not audited; the import run itself is.
func (db *DB) RecordFeedAttempt(ctx context.Context, name string, a vigil.FeedAttempt) error {
	var res sql.Result
	var err error
	if a.Err != nil {
		msg := vigil.ErrorMessage(a.Err)
		if vigil.ErrorCode(a.Err) == vigil.EINTERNAL {
			msg = bound(a.Err.Error(), 1000) // the operator of the feed page needs the cause; it holds no secret
		}
		res, err = db.db.ExecContext(ctx, "UPDATE intel_feeds SET last_attempt = $1, last_error = $2, failures = failures + 1, next_attempt = $3 WHERE name = $4",
			timeText(a.At), bound(msg, 1000), timeText(a.Next), name)
	} else {
		counts := "{}"
		if a.Counts != nil {
			counts = mustJSON(a.Counts)
		}
		res, err = db.db.ExecContext(ctx, `UPDATE intel_feeds SET last_attempt = $1, last_success = $1, last_error = '', failures = 0, next_attempt = $2,
			cursor = CASE WHEN $3 = '' THEN cursor ELSE $3 END, counts = $4 WHERE name = $5`,
			timeText(a.At), timeText(a.Next), a.Cursor, counts, name)
	}
	if err != nil {
		return fmt.Errorf("feed %s: record attempt: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vigil.Errorf(vigil.ENOTFOUND, "feed %q is not configured", name)
	}
	return nil
}

// HTTPCache returns the validators (ETag, Last-Modified) stored for a URL by the last import that fetched it, for a
// conditional request.
func (db *DB) HTTPCache(ctx context.Context, u string) (etag, lastModified string, err error) {
	err = db.db.QueryRowContext(ctx, "SELECT etag, last_modified FROM intel_http_cache WHERE url = $1", u).Scan(&etag, &lastModified)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return etag, lastModified, err
}

// SetHTTPCache records a URL's validators inside the import run, so they are kept only if the import commits: a
// failed import fetches the document again next time.
func (w *IntelWriter) SetHTTPCache(u, etag, lastModified string) error {
	_, err := w.tx.ExecContext(w.ctx, `INSERT INTO intel_http_cache (url, etag, last_modified, fetched_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, fetched_at = excluded.fetched_at`,
		bound(u, 2048), bound(etag, 512), bound(lastModified, 128), w.tx.NowText())
	return err
}

// IntelRuns lists the newest import runs first (at most limit, default 50).
func (db *DB) IntelRuns(ctx context.Context, limit int) ([]*vigil.IntelRun, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	rows, err := db.db.QueryContext(ctx, "SELECT id, started_at, actor, summary FROM intel_runs ORDER BY id DESC LIMIT "+idText(int64(limit)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*vigil.IntelRun
	for rows.Next() {
		var r vigil.IntelRun
		var at sql.NullString
		var s string
		if err := rows.Scan(&r.ID, &at, &r.Actor, &s); err != nil {
			return nil, err
		}
		r.StartedAt = parseTime(at)
		if err := json.Unmarshal([]byte(s), &r.Summaries); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}
