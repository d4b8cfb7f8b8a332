package store

import (
	"context"
	"fmt"
	"time"
)

// Hit counts one hit in bucket's window that starts at window and returns the hits counted in that window so far,
// this one included. Windows that started before keep are deleted first, so the table holds only the windows a
// limit still reads. The count is one upsert, atomic on both engines, so hits through several servers at once are
// each counted once.
func (db *DB) Hit(ctx context.Context, bucket string, window, keep time.Time) (int, error) {
	if _, err := db.db.ExecContext(ctx, "DELETE FROM rate_windows WHERE window_start < $1", timeText(keep)); err != nil {
		return 0, fmt.Errorf("rate window %s: %w", bucket, err)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `INSERT INTO rate_windows (bucket, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_windows.hits + 1 RETURNING hits`, bucket, timeText(window)).Scan(&n); err != nil {
		return 0, fmt.Errorf("rate window %s: %w", bucket, err)
	}
	return n, nil
}
