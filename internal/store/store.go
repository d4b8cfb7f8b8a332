// Package store implements Vigil's services on database/sql for two engines: embedded SQLite (the default, pure Go,
// WAL, foreign keys, busy timeout) and PostgreSQL (for teams that outgrow one machine). One set of queries serves
// both; only the numbered, embedded migrations have a dialect file each. Every write runs in one transaction that
// also appends its audit event, so the trail and the data can never disagree.
package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
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
	// auditKey signs every audit event once the trail is signed (WithAuditKey); nil on a store opened without it,
	// which may then not append to a signed trail.
	auditKey ed25519.PrivateKey
	// secretKey seals the credentials the store keeps (the organization's SMTP password; WithSecretKey).
	secretKey []byte
}

// Option configures a store at Open.
type Option func(*DB)

// WithAuditKey makes the store sign the audit trail with key (the key file kept outside the database): the first
// event it appends to an unsigned trail enrolls the key, and every event after is signed.
func WithAuditKey(key ed25519.PrivateKey) Option { return func(db *DB) { db.auditKey = key } }

// WithSecretKey makes the store seal the credentials it keeps with key (internal/secret): the organization's
// SMTP password. Without it, none can be stored.
func WithSecretKey(key []byte) Option { return func(db *DB) { db.secretKey = key } }

// Engine returns SQLite or Postgres.
func (db *DB) Engine() string { return db.dialect.name }

// SQL returns the underlying handle, for tests and backups.
func (db *DB) SQL() *sql.DB { return db.db.DB }

// Open opens the store named by dsn ("sqlite:PATH", a bare path, "postgres://..." or "postgresql://...") and
// applies pending migrations. A store migrated by a newer Vigil is refused.
func Open(ctx context.Context, dsn string, clock vigil.Clock, opts ...Option) (*DB, error) {
	db, err := openNoMigrate(ctx, dsn, clock)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(db)
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
		if err := createSQLite(ctx, path); err != nil {
			return nil, err
		}
		q := url.Values{}
		// journal_size_limit: a large import is one transaction, and its WAL grows past a gigabyte before the commit;
		// the next checkpoint that empties the WAL truncates the file to this bound instead of leaving it that size.
		for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "journal_size_limit(67108864)"} {
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

// sqlitePageSize is the page size of a new SQLite store. The default 4 KiB holds only three of the ~1 KiB
// documents an OSV archive is made of, so a quarter of every page of intel_raw stayed empty, and a large import
// made four times the write calls of 16 KiB pages: with 16 KiB the 100k corpus's store is 236 MB instead of 251
// and its import 12% less CPU (issue 19). Only a new store gets it: SQLite fixes the page size of a WAL database
// when it creates it.
const sqlitePageSize = 16384

// createSQLite creates the SQLite store at path, when no file is there, with its page size and in WAL mode. The
// driver runs the DSN's pragmas in alphabetical order, journal_mode before page_size, and a database in WAL mode
// keeps the page size it was created with, so the page size cannot go in the DSN.
func createSQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(path, "?") || strings.Contains(path, ":memory:") {
		return nil
	}
	h, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("create SQLite store %s: %w", path, err)
	}
	defer h.Close()
	for _, q := range []string{"PRAGMA page_size = " + idText(sqlitePageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := h.ExecContext(ctx, q); err != nil {
			return vigil.Errorf(vigil.EINVALID, "create SQLite store %s: %v", path, err)
		}
	}
	return nil
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
	return goose.NewProvider(db.dialect.goose, db.db.DB, sub, goose.WithGoMigrations(matchRecordsMigration(db.dialect), casesMigration(db), isaoMigration(db), sealSMTPMigration(db),
		advisoryDataMigration(db.dialect), matchOrderMigration(db.dialect), stepUpMigration(db),
		componentIDsMigration(db)))
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
	return db.attestMigrated(ctx, cur, latest)
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

// The advisory lock keys of the store's writers (see dialect.lock), one list so that no two writers share a key
// by accident (an import once held the admins' key for its whole run).
const (
	auditLock    = 7316 // appending to the audit trail
	usersLock    = 7317 // changing who is an enabled admin
	intakeLock   = 7318 // filing a researcher's report against the queue cap
	findingsLock = 7319 // a version's findings, with the version as the second key (syncFindings' digest)
	importLock   = 7320 // one import run at a time (IntelWriter)
)

// Tx is one transaction with its single "now" and its actor.
type Tx struct {
	*sql.Tx
	db    *DB
	now   time.Time
	actor vigil.Actor
	// touched holds the audited rows written since the last Audit (table → ids): that event records the state
	// each was left in, and a transaction that touched rows without auditing them does not commit.
	touched map[string][]int64
	// conn is the connection a bulk load's transaction runs on (PostgreSQL, transactBulk), for copyFrom.
	conn *sql.Conn
	// signed counts the signatures of the act a signing context asked for (signAct): a transaction run with one
	// that signed nothing does not commit, so an act can never lose the signature its request carried.
	signed int
}

// copyFrom writes rows (one value per column of cols) into table through PostgreSQL's COPY on the transaction's
// connection: a bulk load's rows stream in the binary COPY format, without the planning and array decoding a
// multi-row INSERT costs the server. Only a transaction of transactBulk on PostgreSQL has one (canCopy).
func (tx *Tx) copyFrom(ctx context.Context, table string, cols []string, rows [][]any) error {
	return tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: the connection is a %T, not pgx's", table, dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}

// canCopy says whether copyFrom can write for tx.
func (tx *Tx) canCopy() bool { return tx.conn != nil }

// Now is the transaction's time: every row and event it writes carries the same instant.
func (tx *Tx) Now() time.Time { return tx.now }

// NowText is Now in the stored text format.
func (tx *Tx) NowText() string { return tx.now.Format(audit.TimeFormat) }

// transact runs fn in a transaction, retrying PostgreSQL serialization failures and deadlocks.
func (db *DB) transact(ctx context.Context, fn func(*Tx) error) error {
	return db.transactOn(ctx, false, fn)
}

// transactBulk is transact for a bulk load: on PostgreSQL the transaction runs on a connection of its own, which
// Tx.copyFrom writes through with COPY.
func (db *DB) transactBulk(ctx context.Context, fn func(*Tx) error) error {
	return db.transactOn(ctx, db.dialect.copy, fn)
}

func (db *DB) transactOn(ctx context.Context, ownConn bool, fn func(*Tx) error) error {
	actor, ok := vigil.ActorFrom(ctx)
	if !ok {
		return vigil.Errorf(vigil.EUNAUTHORIZED, "no actor: every change must be attributable")
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.try(ctx, actor, ownConn, fn)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			continue
		}
		return classify(err)
	}
	return classify(err)
}

func (db *DB) try(ctx context.Context, actor vigil.Actor, ownConn bool, fn func(*Tx) error) error {
	var conn *sql.Conn
	begin := db.db.BeginTx
	if ownConn {
		var err error
		if conn, err = db.db.Conn(ctx); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer conn.Close()
		begin = conn.BeginTx
	}
	sqltx, err := begin(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqltx, db: db, now: db.clock.Now().UTC(), actor: actor, conn: conn}
	if err := fn(tx); err != nil {
		sqltx.Rollback()
		return err
	}
	if len(tx.touched) > 0 {
		sqltx.Rollback()
		return fmt.Errorf("audited rows of %v were written without an audit event", slices.Sorted(maps.Keys(tx.touched)))
	}
	if _, ok := vigil.SigningFrom(ctx); ok && tx.signed == 0 {
		sqltx.Rollback()
		return fmt.Errorf("a signed act's transaction recorded no signature: the act was not written")
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// wrote notes rows of an audited table (auditedTables) that tx inserted, changed or deleted: the next Audit
// records the state it left each in.
func (tx *Tx) wrote(table string, ids ...int64) {
	if len(ids) == 0 {
		return
	}
	if tx.touched == nil {
		tx.touched = map[string][]int64{}
	}
	tx.touched[table] = append(tx.touched[table], ids...)
}

// Audit appends one event to the trail inside tx. old and new are any JSON-marshalable values (nil for none);
// they are canonicalized so the hash can be recomputed from the stored text. The event records the state of
// every audited row tx wrote since the last Audit, and is signed when the store holds the audit key.
func (tx *Tx) Audit(ctx context.Context, action, objType, objID string, old, new any, reason string) error {
	return tx.auditEvents(ctx, []pendingEvent{tx.event(action, objType, objID, old, new, reason)})
}

// pendingEvent is an audit event not appended yet: what Audit takes, and the audited rows it records (table →
// ids, as tx.touched holds them).
type pendingEvent struct {
	action, objType, objID string
	old, new               any
	reason                 string
	rows                   map[string][]int64
}

// event takes the rows tx wrote since the last event into a pending event, for auditEvents.
func (tx *Tx) event(action, objType, objID string, old, new any, reason string) pendingEvent {
	e := pendingEvent{action: action, objType: objType, objID: objID, old: old, new: new, reason: reason, rows: tx.touched}
	tx.touched = nil
	return e
}

// auditEvents appends evs to the trail inside tx, in order: the same events, hashes and signatures as one Audit
// each, but a re-match appends thousands (an event per case it opens), so the states of all their rows are read
// with one query per table and chunk, the head is read and the key checked once, and the events are inserted a
// few hundred per statement. Each event records the state its rows are in now: every write the events describe
// must be done before (as it is before Audit).
func (tx *Tx) auditEvents(ctx context.Context, evs []pendingEvent) error {
	if len(evs) == 0 {
		return nil
	}
	out := make([]*vigil.AuditEvent, len(evs))
	all := map[string][]int64{}
	for i, p := range evs {
		// Every change's reason arrives here, whichever service took it.
		if err := vigil.Text("reason", p.reason, vigil.MaxText); err != nil {
			return err
		}
		o, err := audit.Canonical(p.old)
		if err != nil {
			return err
		}
		n, err := audit.Canonical(p.new)
		if err != nil {
			return err
		}
		out[i] = &vigil.AuditEvent{Time: tx.now, Actor: tx.actor.String(), Action: p.action, ObjectType: p.objType,
			ObjectID: p.objID, Old: o, New: n, Reason: p.reason}
		for t, ids := range p.rows {
			all[t] = append(all[t], ids...)
		}
	}
	states, err := tx.recordStates(ctx, all)
	if err != nil {
		return err
	}
	for i, p := range evs {
		for _, t := range slices.Sorted(maps.Keys(p.rows)) {
			for _, id := range slices.Compact(slices.Sorted(slices.Values(p.rows[t]))) {
				out[i].Records = append(out[i].Records, vigil.AuditRecord{Table: t, Key: idText(id), Hash: states[t][id]})
			}
		}
	}
	// Serialize appenders: two transactions must not both extend the same head.
	if err := tx.db.dialect.lock(ctx, tx, auditLock); err != nil {
		return err
	}
	last, err := tx.auditHead(ctx)
	if err != nil {
		return err
	}
	head, err := tx.enrollKey(ctx, last)
	if err != nil {
		return err
	}
	for _, e := range out {
		head = tx.seal(e, head)
	}
	return tx.insertEvents(ctx, out)
}

// auditHead reads the trail's head event (a zero event, Seq 0, when the trail is empty): its count and hash, its
// signature ("" when unsigned), and its action and payload (a key rotation's names the key in force after it).
func (tx *Tx) auditHead(ctx context.Context) (*vigil.AuditEvent, error) {
	var e vigil.AuditEvent
	var n sql.NullString
	err := tx.QueryRowContext(ctx, "SELECT seq, hash, sig, action, new FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&e.Seq, &e.Hash, &e.Signature, &e.Action, &n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("audit head: %w", err)
	}
	e.New = json.RawMessage(n.String)
	return &e, nil
}

// enrollKey keeps the trail's signing rule: a store with the audit key appending to an unsigned trail first
// appends the event that enrolls the key; a store without it may not append to a signed trail (its events would
// read as forged), nor may one holding another key than the one in force (the head's signer, or the new key of a
// rotation at the head). It returns the head to append after.
func (tx *Tx) enrollKey(ctx context.Context, headEvent *vigil.AuditEvent) (vigil.AuditCheckpoint, error) {
	head := vigil.AuditCheckpoint{Count: headEvent.Seq, Head: headEvent.Hash}
	key := tx.db.auditKey
	switch {
	case key == nil && headEvent.Signature != "":
		return head, vigil.Errorf(vigil.EINVALID, "the audit trail is signed: this Vigil needs the audit key to write (--audit-key FILE or $VIGIL_AUDIT_KEY)")
	case key == nil:
		return head, nil
	case headEvent.Signature != "":
		pub := key.Public().(ed25519.PublicKey)
		if headEvent.Action == audit.RotateAction {
			next, err := audit.EnrolledKey(headEvent)
			if err != nil {
				return head, vigil.Errorf(vigil.EINVALID, "audit event %d: %v", headEvent.Seq, err)
			}
			if !next.Equal(pub) {
				return head, vigil.Errorf(vigil.EINVALID, "the audit key was rotated at event %d to %s: this Vigil holds another key (%s); give the new key file", headEvent.Seq, audit.KeyText(next), audit.KeyText(pub))
			}
			return head, nil
		}
		if !audit.VerifyEvent(pub, headEvent) {
			return head, vigil.Errorf(vigil.EINVALID, "the audit trail is signed by another key than the audit key given (%s)", audit.KeyText(pub))
		}
		return head, nil
	}
	id, payload := audit.KeyEvent(key.Public().(ed25519.PublicKey))
	e := &vigil.AuditEvent{Time: tx.now, Actor: tx.actor.String(), Action: audit.KeyAction, ObjectType: "audit_key",
		ObjectID: id, New: payload, Reason: "the audit trail is signed with this key from here on"}
	return tx.appendEvent(ctx, e, head)
}

// appendEvent seals e after head, signs it when the store holds the audit key, and inserts it.
func (tx *Tx) appendEvent(ctx context.Context, e *vigil.AuditEvent, head vigil.AuditCheckpoint) (vigil.AuditCheckpoint, error) {
	next := tx.seal(e, head)
	if err := tx.insertEvents(ctx, []*vigil.AuditEvent{e}); err != nil {
		return head, err
	}
	return next, nil
}

// seal seals e after head and signs it when the store holds the audit key; it returns the head e makes.
func (tx *Tx) seal(e *vigil.AuditEvent, head vigil.AuditCheckpoint) vigil.AuditCheckpoint {
	audit.Seal(e, head)
	if tx.db.auditKey != nil {
		audit.SignEvent(tx.db.auditKey, e)
	}
	return vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
}

// insertEvents inserts sealed events, a few hundred per statement.
func (tx *Tx) insertEvents(ctx context.Context, evs []*vigil.AuditEvent) error {
	b := newBatch("audit_events", "seq, time, actor, action, object_type, object_id, old, new, reason, prev_hash, hash, records, sig", "")
	b.max = min(b.max, 500) // an event's payload may be large: bound a statement's size
	for _, e := range evs {
		var recs any
		if len(e.Records) > 0 {
			recs = audit.RecordsText(e.Records)
		}
		b.add(e.Seq, e.Time.Format(audit.TimeFormat), e.Actor, e.Action, e.ObjectType, e.ObjectID,
			nullRaw(e.Old), nullRaw(e.New), e.Reason, e.PrevHash, e.Hash, recs, e.Signature)
		if b.full() {
			if err := b.flush(ctx, tx); err != nil {
				return fmt.Errorf("audit append: %w", err)
			}
		}
	}
	if err := b.flush(ctx, tx); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// nullText stores an empty text as NULL: a column added to an audited table stays NULL (out of the record's hash)
// until it is set.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
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
