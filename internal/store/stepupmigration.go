package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/secret"
)

// MigrationStepUp is the version of the migration that added one-time signing codes and sealed the webhook
// rules' signing secrets.
const MigrationStepUp = 41

// signingCodesDDL is the table of one-time signing codes, per engine: each by the SHA-256 of the code (never the
// code), its user, the kind of record it may sign, when it expires and when it was used.
var signingCodesDDL = map[string]string{
	SQLite: `CREATE TABLE signing_codes (
		code_hash TEXT PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES users(id),
		kind TEXT NOT NULL,
		created_at TEXT NOT NULL,
		expires_at TEXT NOT NULL,
		used_at TEXT
	)`,
	Postgres: `CREATE TABLE signing_codes (
		code_hash TEXT PRIMARY KEY,
		user_id BIGINT NOT NULL REFERENCES users(id),
		kind TEXT NOT NULL,
		created_at TEXT NOT NULL,
		expires_at TEXT NOT NULL,
		used_at TEXT
	)`,
}

// stepUpMigration creates the signing codes' table and seals every webhook rule's signing secret stored in clear
// (before Vigil sealed them) under the store's secret key, each bound to its rule. The key lives outside the
// database, so the migration needs it when a clear secret is stored: without it, the migration stops with what
// to do, rather than leave the secret in clear or drop it unseen. The rules' rows change without an event of
// their own: they are attested after it (attestAt).
func stepUpMigration(db *DB) *goose.Migration {
	return goose.NewGoMigration(MigrationStepUp, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, signingCodesDDL[db.dialect.name]); err != nil {
			return fmt.Errorf("migration %d: signing codes: %w", MigrationStepUp, err)
		}
		type clear struct {
			id     int64
			secret string
		}
		var rules []clear
		err := eachRow(ctx, tx, "SELECT id, secret FROM notify_rules WHERE secret <> '' ORDER BY id", nil, func(rows *sql.Rows) error {
			var c clear
			if err := rows.Scan(&c.id, &c.secret); err != nil {
				return err
			}
			if !secret.IsSealed(c.secret) {
				rules = append(rules, c)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("migration %d: webhook secrets: %w", MigrationStepUp, err)
		}
		for _, r := range rules {
			sealed, err := secret.Seal(db.secretKey, webhookBound(r.id), r.secret)
			if errors.Is(err, secret.ErrNoKey) {
				return vigil.Errorf(vigil.EINVALID, "migration %d: %d webhook signing secret(s) are stored in clear and are now kept sealed: give the secret key "+
					"(--secret-key FILE or $VIGIL_SECRET_KEY; create one with `head -c 32 /dev/urandom > FILE && chmod 600 FILE`) to seal them, then keep giving it", MigrationStepUp, len(rules))
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE notify_rules SET secret = $1 WHERE id = $2", sealed, r.id); err != nil {
				return err
			}
		}
		return nil
	}}, nil)
}
