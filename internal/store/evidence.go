package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

// The reads an evidence package is made of: a contiguous segment of the trail, the event that last recorded each
// record of the package, and the records' states themselves (what audit.RowHash hashes), so that the package can
// be verified offline against the segment and a signed checkpoint.

// EventsBetween returns the events from seq from to seq to, both included, oldest first. Needs PermAuditVerify.
func (db *DB) EventsBetween(ctx context.Context, from, to int64) (_ []*vigil.AuditEvent, err error) {
	defer vigil.Wrap(&err, "store.EventsBetween", from)
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return nil, err
	}
	return queryAll(ctx, db.db, scanAudit, "SELECT "+auditCols+" FROM audit_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq", from, to)
}

// LastRecorded returns the sequence number of the last event that recorded the state of row id of an audited
// table (0 when none did). Needs PermAuditVerify.
func (db *DB) LastRecorded(ctx context.Context, table string, id int64) (_ int64, err error) {
	defer vigil.Wrap(&err, "store.LastRecorded", id)
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return 0, err
	}
	if _, ok := lookupAudited(table); !ok {
		return 0, vigil.Errorf(vigil.EINVALID, "table: %s is not an audited table", table)
	}
	// RecordsText is compact JSON of [table, key, hash] triples: the pair is found as written. A table name's "_"
	// matches itself too; no other audited table's name differs from one only there.
	pattern := `%["` + table + `","` + idText(id) + `",%`
	var seq sql.NullInt64
	err = db.db.QueryRowContext(ctx, "SELECT MAX(seq) FROM audit_events WHERE records LIKE $1", pattern).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq.Int64, err
}

// RecordRows returns the current state of the rows of an audited table with the given ids (a row that is gone is
// absent). Needs PermAuditVerify.
func (db *DB) RecordRows(ctx context.Context, table string, ids []int64) (_ map[int64]audit.Row, err error) {
	defer vigil.Wrap(&err, "store.RecordRows", table)
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return nil, err
	}
	t, ok := lookupAudited(table)
	if !ok {
		return nil, vigil.Errorf(vigil.EINVALID, "table: %s is not an audited table", table)
	}
	out := map[int64]audit.Row{}
	if len(ids) == 0 {
		return out, nil
	}
	err = readRows(ctx, db.db, t, ids, func(id int64, r audit.Row) { out[id] = r })
	return out, err
}
