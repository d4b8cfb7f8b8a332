package store

import (
	"context"
	"fmt"

	"github.com/vigil-dev/vigil"
)

// SetAnalyzeThreshold lets a test make a small import count as a large one; it returns the restore function.
func SetAnalyzeThreshold(n int) (restore func()) {
	old := analyzeThreshold
	analyzeThreshold = n
	return func() { analyzeThreshold = old }
}

// SetLookupChunk lets a test read the affected index and match records a few names or ids per statement, so that
// a small store's look-up spans several statements and shares; it returns the restore function.
func SetLookupChunk(n int) (restore func()) {
	old := lookupChunk
	lookupChunk = n
	return func() { lookupChunk = old }
}

// BuildMatchRecords runs migration 9's work again, for a test that emptied intel_match.
func BuildMatchRecords(ctx context.Context, db *DB) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := buildMatchRecords(ctx, tx, db.dialect); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// OpenAt opens the store at dsn migrated only up to version, as an older Vigil left it (no attestation runs).
func OpenAt(ctx context.Context, dsn string, version int64) (*DB, error) {
	db, err := openNoMigrate(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	p, err := db.provider()
	if err == nil {
		_, err = p.UpTo(ctx, version)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// AuditedTables lists the registry of audited tables, for the tests that must cover each.
func AuditedTables() []string {
	var out []string
	for _, t := range auditedTables {
		out = append(out, t.name)
	}
	return out
}

// RecordHash is the state the store reads for one audited row now (empty when there is none).
func RecordHash(ctx context.Context, db *DB, table string, id int64) (string, error) {
	t, ok := lookupAudited(table)
	if !ok {
		return "", fmt.Errorf("%s is not audited", table)
	}
	var hash string
	err := readRecords(ctx, db.db, t, []int64{id}, func(_ int64, h string) { hash = h })
	return hash, err
}

// FindingsDigest is the digest a full sync of found writes for its version.
func FindingsDigest(found []vigil.Finding) string { return findingsDigest(found) }

// RenameAudited renames the devices ids in one transaction, each rename with an event recording its row, then
// appends notes events recording no row: through one Audit per event, or (batched) all through one auditEvents
// after the writes, as a re-match appends its cases' events.
func RenameAudited(ctx context.Context, db *DB, ids []int64, notes int, batched bool) error {
	return db.transact(ctx, func(tx *Tx) error {
		var evs []pendingEvent
		add := func(action, obj string, new any) error {
			if batched {
				evs = append(evs, tx.event(action, "device", obj, nil, new, "renamed"))
				return nil
			}
			return tx.Audit(ctx, action, "device", obj, nil, new, "renamed")
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, "UPDATE devices SET name = name || '*' WHERE id = $1", id); err != nil {
				return err
			}
			tx.wrote("devices", id)
			if err := add("device.rename", idText(id), map[string]int64{"id": id}); err != nil {
				return err
			}
		}
		for i := range notes {
			if err := add("device.note", fmt.Sprint(i), map[string]int{"note": i}); err != nil {
				return err
			}
		}
		return tx.auditEvents(ctx, evs)
	})
}
