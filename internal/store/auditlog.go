package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

var _ vigil.AuditService = (*DB)(nil)

const auditCols = "seq, time, actor, action, object_type, object_id, old, new, reason, prev_hash, hash"

func scanAudit(row interface{ Scan(...any) error }) (*vigil.AuditEvent, error) {
	var e vigil.AuditEvent
	var t, o, n sql.NullString
	if err := row.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &o, &n, &e.Reason, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.Time = parseTime(t)
	if o.Valid {
		e.Old = []byte(o.String)
	}
	if n.Valid {
		e.New = []byte(n.String)
	}
	return &e, nil
}

// Events returns audit events matching f, newest first.
func (db *DB) Events(ctx context.Context, f vigil.AuditFilter) (_ []*vigil.AuditEvent, err error) {
	defer vigil.Wrap(&err, "store.Events", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+idText(int64(len(args)))))
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action LIKE ?", strings.TrimSuffix(f.Action, "*")+"%")
	}
	if f.ObjectType != "" {
		add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = ?", f.ObjectID)
	}
	if !f.Since.IsZero() {
		add("time >= ?", timeText(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", timeText(f.Until))
	}
	q := "SELECT " + auditCols + " FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q += " ORDER BY seq DESC LIMIT " + idText(int64(limit))
	return queryAll(ctx, db.db, scanAudit, q, args...)
}

// Checkpoint returns the current count and head hash of the trail.
func (db *DB) Checkpoint(ctx context.Context) (_ vigil.AuditCheckpoint, err error) {
	defer vigil.Wrap(&err, "store.Checkpoint", nil)
	var cp vigil.AuditCheckpoint
	err = db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_events").Scan(&cp.Count)
	if err != nil {
		return cp, err
	}
	err = db.db.QueryRowContext(ctx, "SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&cp.Head)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return cp, err
}

// Verify recomputes the whole chain in sequence order, streaming, and checks it still extends cp when given.
func (db *DB) Verify(ctx context.Context, cp *vigil.AuditCheckpoint) (_ vigil.AuditCheckpoint, err error) {
	defer vigil.Wrap(&err, "store.Verify", nil)
	rows, err := db.db.QueryContext(ctx, "SELECT "+auditCols+" FROM audit_events ORDER BY seq")
	if err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	defer rows.Close()
	v := audit.NewVerifier(cp)
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return vigil.AuditCheckpoint{}, err
		}
		if err := v.Next(e); err != nil {
			return vigil.AuditCheckpoint{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	return v.Done()
}
