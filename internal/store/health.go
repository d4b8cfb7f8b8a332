package store

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/vigil-dev/vigil"
)

// SetLog sets the logger of the store's own warnings (a skipped bookkeeping write, the cause behind an
// EUNAVAILABLE); they are discarded until it is called.
func (db *DB) SetLog(l *slog.Logger) { db.log.Store(l) }

func (db *DB) logger() *slog.Logger {
	if l := db.log.Load(); l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// classify turns a database failure the operator can act on (a full disk, a lock held too long, a server that
// cannot be reached, a read-only file) into EUNAVAILABLE with a message that says so, without the SQL or the paths
// behind it. Any other error is returned as it is.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ve *vigil.Error
	if errors.As(err, &ve) {
		return err
	}
	if msg := unavailable(err); msg != "" {
		return vigil.Errorf(vigil.EUNAVAILABLE, "%s", msg)
	}
	return err
}

// unavailable is classify's message for err, "" when err is not one the operator can act on.
func unavailable(err error) string {
	const (
		busy     = "the database is busy: another write held its lock too long; try again (if it persists, look for a long-running import or a process holding the database)"
		full     = "the database's disk is full: free space on the server, then try again"
		down     = "the database server cannot be reached: check that it is running and accepts connections"
		ioErr    = "the database file could not be written (I/O error): check the server's disk"
		readOnly = "the database is read-only: check the file's permissions or the server's mode"
	)
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return busy
		case 13: // SQLITE_FULL
			return full
		case 10: // SQLITE_IOERR
			return ioErr
		case 8: // SQLITE_READONLY
			return readOnly
		}
		return ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return full
		case pe.Code == "55P03", pe.Code == "57014", pe.Code == "40P01": // lock_not_available, query_canceled, deadlock
			return busy
		case pe.Code == "25006": // read_only_sql_transaction (a standby)
			return readOnly
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57P"), pe.Code == "53300": // connection, shutdown, too many connections
			return down
		}
		return ""
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.As(err, &ne) {
		return down
	}
	return ""
}

// probeWait bounds the write probe of Health: a lock held longer than this is reported as busy.
const probeWait = 2 * time.Second

// Health reports whether the store answers a read and takes a write, each nil or EUNAVAILABLE saying why not. The
// write probe rewrites one row of its own (health.probe in the kv table), so it needs the write lock and a page of
// disk like any change: a full disk, or a write lock held by a stuck process, shows here rather than only on the
// next user's write. It waits at most probeWait.
func (db *DB) Health(ctx context.Context) (readErr, writeErr error) {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	var one int
	if err := db.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return db.probeError(ctx, err), db.probeError(ctx, err)
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ('health.probe', $1) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, timeText(db.clock.Now()))
	return nil, db.probeError(ctx, err)
}

func (db *DB) probeError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return vigil.Errorf(vigil.EUNAVAILABLE, "the database did not answer within %s (a write lock held that long, or an overloaded server)", probeWait)
	}
	if c := classify(err); vigil.ErrorCode(c) == vigil.EUNAVAILABLE {
		return c
	}
	db.logger().Error("store: health probe failed", "err", err)
	return vigil.Errorf(vigil.EUNAVAILABLE, "the database failed the check with an unexpected error (see the server log)")
}
