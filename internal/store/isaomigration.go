package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/vigil-dev/vigil"
)

// isaoDDL holds migration 28's schema, one file per engine. It is SQL beside a Go migration because moving the
// organization's JSON memberships needs Go: each free-text evidence string becomes a note document named by its
// SHA-256, which SQLite cannot compute. The rows it writes are attested after it (attestAt).
//
//go:embed isaoddl/*.sql
var isaoDDL embed.FS

// MigrationISAO is the version of the migration that gave ISAO participation its own tables.
const MigrationISAO = 28

// isaoMigration creates the ISAO tables, moves every organization's memberships into them (each non-empty
// evidence string of §IX item N an undated note document of item N, added by "system:migrate"), and drops the
// organization's JSON column, in one transaction.
func isaoMigration(db *DB) *goose.Migration {
	return goose.NewGoMigration(MigrationISAO, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if err := migrateISAOs(ctx, db, tx); err != nil {
			return fmt.Errorf("migration %d (ISAO memberships): %w", MigrationISAO, err)
		}
		return nil
	}}, nil)
}

func migrateISAOs(ctx context.Context, db *DB, tx *sql.Tx) error {
	b, err := isaoDDL.ReadFile("isaoddl/" + db.dialect.name + ".sql")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(b)); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	type old struct {
		Name     string     `json:"name"`
		Since    vigil.Date `json:"since"`
		Criteria [4]string  `json:"criteria_evidence"`
	}
	type org struct {
		id      int64
		updated string
		isaos   []old
	}
	var orgs []org
	err = eachRow(ctx, tx, "SELECT id, updated_at, isaos FROM orgs ORDER BY id", nil, func(rows *sql.Rows) error {
		var o org
		var raw string
		if err := rows.Scan(&o.id, &o.updated, &raw); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(raw), &o.isaos); err != nil {
			return fmt.Errorf("orgs %d isaos: %w", o.id, err)
		}
		orgs = append(orgs, o)
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range orgs {
		for _, m := range o.isaos {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO isao_memberships (org_id, name, since, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`,
				o.id, m.Name, dateText(&m.Since), o.updated).Scan(&id)
			if err != nil {
				return fmt.Errorf("org %d membership %q: %w", o.id, m.Name, err)
			}
			for _, d := range vigil.EvidenceNotes(m.Criteria[:]...) {
				d.AddedBy = "system:migrate"
				if err := insertDocument(ctx, tx, id, &d, o.updated); err != nil {
					return err
				}
			}
		}
	}
	_, err = tx.ExecContext(ctx, "ALTER TABLE orgs DROP COLUMN isaos")
	return err
}

// insertDocument stores a document's content (once per SHA-256) and its row, setting its ID, digest and size.
func insertDocument(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, membershipID int64, d *vigil.ISAODocument, at string) error {
	sum := sha256.Sum256(d.Content)
	d.SHA256, d.Size, d.MembershipID = hex.EncodeToString(sum[:]), int64(len(d.Content)), membershipID
	if _, err := q.ExecContext(ctx, "INSERT INTO isao_document_contents (sha256, content) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING", d.SHA256, d.Content); err != nil {
		return fmt.Errorf("document %q content: %w", d.Title, err)
	}
	err := q.QueryRowContext(ctx, `INSERT INTO isao_documents (membership_id, item, kind, title, file_name, sha256, size, date, expires, added_at, added_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		membershipID, d.Item, d.Kind, d.Title, d.FileName, d.SHA256, d.Size, dateText(&d.Date), dateText(&d.Expires), at, d.AddedBy).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("document %q: %w", d.Title, err)
	}
	return nil
}
