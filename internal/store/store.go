// Package store implements Vigil's services on database/sql for two engines: embedded SQLite (the default, pure Go,
// WAL, foreign keys, busy timeout) and PostgreSQL (for teams that outgrow one machine). One set of queries serves
// both; only the numbered, embedded migrations have a dialect file each. Every write runs in one transaction that
// also appends its audit event, so the trail and the data can never disagree.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

//go:embed migrations
var migrations embed.FS

// Engines.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is an open store. It implements the services of the root package.
type DB struct {
	db      *pool
	dialect *dialect
	dsn     string
	path    string // SQLite file path
	clock   vigil.Clock
	log     atomic.Pointer[slog.Logger]
}

// Engine returns SQLite or Postgres.
func (db *DB) Engine() string { return db.dialect.name }

// SQL returns the underlying handle, for tests and backups.
func (db *DB) SQL() *sql.DB { return db.db.DB }

// Open opens the store named by dsn ("sqlite:PATH", a bare path, "postgres://..." or "postgresql://...") and
// applies pending migrations. A store migrated by a newer Vigil is refused.
func Open(ctx context.Context, dsn string, clock vigil.Clock) (*DB, error) {
	db, err := openNoMigrate(ctx, dsn, clock)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openNoMigrate(ctx context.Context, dsn string, clock vigil.Clock) (*DB, error) {
	if clock == nil {
		clock = vigil.SystemClock{}
	}
	db := &DB{dsn: dsn, clock: clock}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db.dialect = postgresDialect
		var h *sql.DB
		h, err = sql.Open("pgx", dsn)
		if err == nil {
			h.SetMaxOpenConns(16)
			// Keep them all: database/sql keeps two idle by default, and under load every other query then
			// opened a connection (a PostgreSQL backend process) and closed it after one use.
			h.SetMaxIdleConns(16)
			db.db = &pool{DB: h}
		}
	default:
		db.dialect = sqliteDialect
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
		if path == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "--db: empty SQLite path")
		}
		db.path = path
		q := url.Values{}
		for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate") // writers queue at BEGIN instead of failing on lock upgrade
		var h *sql.DB
		h, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err == nil {
			// One writer at a time is SQLite's model; a small pool keeps readers concurrent under WAL.
			h.SetMaxOpenConns(8)
			h.SetMaxIdleConns(8) // a closed connection loses its prepared statements
			db.db = &pool{DB: h, cache: true}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", db.dialect.name, err)
	}
	if err := db.db.PingContext(ctx); err != nil {
		db.db.Close()
		return nil, vigil.Errorf(vigil.EINTERNAL, "cannot reach the %s database: %v", db.dialect.name, redact(err))
	}
	return db, nil
}

// redact removes a password that a driver error might echo from a DSN.
func redact(err error) string {
	s := err.Error()
	if i := strings.Index(s, "password="); i >= 0 {
		j := strings.IndexAny(s[i:], " &")
		if j < 0 {
			j = len(s) - i
		}
		s = s[:i] + "password=REDACTED" + s[i+j:]
	}
	return s
}

// Close closes the store.
func (db *DB) Close() (err error) {
	defer vigil.Wrap(&err, "store.Close", nil)
	return db.db.Close()
}

// Ping checks that the database answers (for /healthz).
func (db *DB) Ping(ctx context.Context) (err error) {
	defer vigil.Wrap(&err, "store.Ping", nil)
	return db.db.PingContext(ctx)
}

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, db.dialect.migrations)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(db.dialect.goose, db.db.DB, sub, goose.WithGoMigrations(matchRecordsMigration(db.dialect)))
}

// Migrate applies pending migrations, each in its own transaction. It refuses a database whose schema is newer
// than this binary knows, rather than run old code against it.
func (db *DB) Migrate(ctx context.Context) (err error) {
	defer vigil.Wrap(&err, "store.Migrate", nil)
	p, err := db.provider()
	if err != nil {
		return err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrVersionNotFound) {
		// A fresh database has no version table yet; goose creates it on Up.
		cur = 0
	}
	srcs := p.ListSources()
	latest := int64(0)
	if len(srcs) > 0 {
		latest = srcs[len(srcs)-1].Version
	}
	if cur > latest {
		return vigil.Errorf(vigil.EINVALID, "the database schema is at migration %d but this Vigil knows only up to %d: it was written by a newer Vigil; upgrade Vigil", cur, latest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the applied migration version and the newest this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	defer vigil.Wrap(&err, "store.SchemaVersion", nil)
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

// Backup writes a consistent online copy of a SQLite store to path (VACUUM INTO). For PostgreSQL it explains how.
func (db *DB) Backup(ctx context.Context, path string) (err error) {
	defer vigil.Wrap(&err, "store.Backup", path)
	if db.dialect.backup != "" {
		return vigil.Errorf(vigil.EINVALID, db.dialect.backup, path)
	}
	if _, err := os.Stat(path); err == nil {
		return vigil.Errorf(vigil.ECONFLICT, "backup: %s already exists", path)
	}
	if _, err := db.db.ExecContext(ctx, "VACUUM INTO $1", path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// The advisory lock keys of the store's writers (see dialect.lock).
const (
	auditLock  = 7316 // appending to the audit trail
	usersLock  = 7317 // changing who is an enabled admin
	intakeLock = 7318 // filing a researcher's report against the queue cap
)

// Tx is one transaction with its single "now" and its actor.
type Tx struct {
	*sql.Tx
	db    *DB
	now   time.Time
	actor vigil.Actor
}

// Now is the transaction's time: every row and event it writes carries the same instant.
func (tx *Tx) Now() time.Time { return tx.now }

// NowText is Now in the stored text format.
func (tx *Tx) NowText() string { return tx.now.Format(audit.TimeFormat) }

// transact runs fn in a transaction, retrying PostgreSQL serialization failures and deadlocks.
func (db *DB) transact(ctx context.Context, fn func(*Tx) error) error {
	actor, ok := vigil.ActorFrom(ctx)
	if !ok {
		return vigil.Errorf(vigil.EUNAUTHORIZED, "no actor: every change must be attributable")
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.try(ctx, actor, fn)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			continue
		}
		return classify(err)
	}
	return classify(err)
}

func (db *DB) try(ctx context.Context, actor vigil.Actor, fn func(*Tx) error) error {
	sqltx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqltx, db: db, now: db.clock.Now().UTC(), actor: actor}
	if err := fn(tx); err != nil {
		sqltx.Rollback()
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Audit appends one event to the trail inside tx. old and new are any JSON-marshalable values (nil for none);
// they are canonicalized so the hash can be recomputed from the stored text.
func (tx *Tx) Audit(ctx context.Context, action, objType, objID string, old, new any, reason string) error {
	// Every change's reason arrives here, whichever service took it.
	if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
		return err
	}
	// Serialize appenders: two transactions must not both extend the same head.
	if err := tx.db.dialect.lock(ctx, tx, auditLock); err != nil {
		return err
	}
	var head vigil.AuditCheckpoint
	err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&head.Count, &head.Head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit head: %w", err)
	}
	o, err := audit.Canonical(old)
	if err != nil {
		return err
	}
	n, err := audit.Canonical(new)
	if err != nil {
		return err
	}
	e := &vigil.AuditEvent{Time: tx.now, Actor: tx.actor.String(), Action: action, ObjectType: objType,
		ObjectID: objID, Old: o, New: n, Reason: reason}
	audit.Seal(e, head)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (seq, time, actor, action, object_type, object_id, old, new, reason, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Seq, e.Time.Format(audit.TimeFormat), e.Actor, e.Action, e.ObjectType, e.ObjectID,
		nullRaw(e.Old), nullRaw(e.New), e.Reason, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

func nullRaw(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// insertID runs an INSERT ... RETURNING id and returns the id (both engines support RETURNING).
func (tx *Tx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, mapErr(err)
}

// mapErr turns constraint violations into ECONFLICT so callers see a clear "already exists".
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return vigil.Errorf(vigil.ECONFLICT, "already exists (%s)", pe.ConstraintName)
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		msg := err.Error()
		if i := strings.Index(msg, "UNIQUE constraint failed: "); i >= 0 {
			msg = msg[i+len("UNIQUE constraint failed: "):]
			if j := strings.IndexAny(msg, " )"); j >= 0 {
				msg = msg[:j]
			}
		}
		return vigil.Errorf(vigil.ECONFLICT, "already exists (%s must be unique)", msg)
	}
	return err
}

// timeText and dateText convert values to their stored text form.
func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(audit.TimeFormat)
}

func dateText(d *vigil.Date) any {
	if d == nil || d.IsZero() {
		return nil
	}
	return d.String()
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	t, _ := time.Parse(audit.TimeFormat, s.String)
	return t
}

func parseDate(s sql.NullString) *vigil.Date {
	if !s.Valid || s.String == "" {
		return nil
	}
	d, err := vigil.ParseDate(s.String)
	if err != nil {
		return nil
	}
	return &d
}
