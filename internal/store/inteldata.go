package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// MigrationAdvisoryData is the version of the migration that stopped storing the JSON of the advisories that are
// read back from their document (derivable) and gave every advisory its search text.
const MigrationAdvisoryData = 36

// maxDerived bounds a stored document read back to show its advisory; the import bounded it already (an OSV record
// is at most untrusted.DefaultMaxRecordSize unless the run raised the limit), so this only stops a damaged store
// from inflating without end.
const maxDerived = 1 << 30

// decodeAdvisory reads a stored advisory into a: its JSON when the row holds it, else (data empty) by parsing its
// document again, raw being the document's stored gzip bytes and name its file. The parse goes through JSON once
// more so that a derived advisory is exactly the one decoded from the JSON that was stored before (the same empty
// lists, the same time zones).
func decodeAdvisory(data, raw []byte, name string, a *vigil.Advisory) error {
	if len(data) > 0 {
		return unmarshalData(data, a)
	}
	if raw == nil {
		return fmt.Errorf("stored without its JSON, and its document %s is missing", name)
	}
	b, err := deriveJSON(raw, name)
	if err != nil {
		return err
	}
	return unmarshalData(b, a)
}

// deriveJSON parses a derivable advisory's document again and returns the advisory's JSON as the import stored it
// (IntelWriter.Prepare marshals the same value).
func deriveJSON(raw []byte, name string) ([]byte, error) {
	doc, err := Gunzip(raw, maxDerived)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", name, err)
	}
	// The import checked the document against its run's limits: these only have to let it through again.
	lim := untrusted.Limits{MaxRecordSize: int64(len(doc)) + 1, MaxDepth: 1 << 16}
	a, err := osv.ParseBytes(name, doc, lim)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", name, err)
	}
	return json.Marshal(&a)
}

// advisoryDataMigration gives intel_advisories its search column, rebuilds the documents' digest indexes on the
// digests' prefixes (documentIndexes), and converts the stored rows: each advisory's
// search text is computed from its JSON, and the JSON of each derivable advisory (an OSV record alone in its
// document) is dropped when parsing the document again gives exactly that JSON back; one that does not (stored by
// an older importer that read the record differently) keeps it. It pages by id and runs in the migration's
// transaction, so a store is converted whole or not at all. SQLite keeps the freed pages for later rows: `vigil
// backup` writes a compacted copy.
func advisoryDataMigration(d *dialect) *goose.Migration {
	return goose.NewGoMigration(MigrationAdvisoryData, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE intel_advisories ADD COLUMN search TEXT NOT NULL DEFAULT ''"); err != nil {
			return fmt.Errorf("migration %d: %w", MigrationAdvisoryData, err)
		}
		for _, ix := range documentIndexes {
			if _, err := tx.ExecContext(ctx, "DROP INDEX "+ix.name); err != nil {
				return fmt.Errorf("migration %d: %w", MigrationAdvisoryData, err)
			}
			if _, err := tx.ExecContext(ctx, ix.ddl); err != nil {
				return fmt.Errorf("migration %d: %w", MigrationAdvisoryData, err)
			}
		}
		return convertAdvisoryData(ctx, tx, d)
	}}, nil)
}

func convertAdvisoryData(ctx context.Context, tx *sql.Tx, d *dialect) error {
	const page = 1000
	var update *sql.Stmt
	if !d.bulkArrays {
		var err error
		if update, err = tx.PrepareContext(ctx, "UPDATE intel_advisories SET search = $1, data = $2 WHERE id = $3"); err != nil {
			return err
		}
		defer update.Close()
	}
	type row struct {
		id           int64
		search, data string
	}
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT a.id, a.data, d.name, r.raw FROM intel_advisories a
			JOIN intel_documents d ON d.id = a.doc_ref
			LEFT JOIN intel_raw r ON r.doc_id = a.doc_ref AND d.source = $1 AND a.source = $1 AND d.records = 1 AND d.rejected = 0
			WHERE a.id > $2 ORDER BY a.id LIMIT $3`, vigil.SourceOSV, after, page)
		if err != nil {
			return fmt.Errorf("migration %d: %w", MigrationAdvisoryData, err)
		}
		var out []row
		for rows.Next() {
			var r row
			var data, raw []byte
			var name string
			if err := rows.Scan(&r.id, &data, &name, &raw); err != nil {
				rows.Close()
				return err
			}
			a := new(vigil.Advisory)
			if err := unmarshalData(data, a); err != nil {
				rows.Close()
				return fmt.Errorf("migration %d: advisory %d: %w", MigrationAdvisoryData, r.id, err)
			}
			r.search, r.data = searchText(a), string(data)
			if raw != nil {
				if b, err := deriveJSON(raw, name); err == nil && bytes.Equal(b, data) {
					r.data = ""
				}
			}
			out = append(out, r)
			after = r.id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		if update != nil {
			for _, r := range out {
				if _, err := update.ExecContext(ctx, r.search, r.data, r.id); err != nil {
					return fmt.Errorf("migration %d: %w", MigrationAdvisoryData, err)
				}
			}
			continue
		}
		ids, search, data := make([]int64, len(out)), make([]string, len(out)), make([]string, len(out))
		for i, r := range out {
			ids[i], search[i], data[i] = r.id, r.search, r.data
		}
		if _, err := tx.ExecContext(ctx, `UPDATE intel_advisories AS a SET search = u.search, data = u.data
			FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, search, data) WHERE a.id = u.id`, ids, search, data); err != nil {
			return fmt.Errorf("migration %d: %w", MigrationAdvisoryData, err)
		}
	}
}
