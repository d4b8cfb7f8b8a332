package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/pressly/goose/v3"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/secret"
)

// MigrationSealSMTP is the version of the migration that sealed the organization's stored SMTP password.
const MigrationSealSMTP = 35

// smtpBound binds a sealed SMTP URL to the organization's SMTP settings: it opens nowhere else.
const smtpBound = "smtp_settings"

// sealSMTPMigration seals the SMTP URL stored in clear with its password (before Vigil sealed it) under the
// store's secret key. The key lives outside the database, so the migration needs it: without it, a stored
// password stops the migration with what to do, rather than stay in clear or be dropped unseen.
func sealSMTPMigration(db *DB) *goose.Migration {
	return goose.NewGoMigration(MigrationSealSMTP, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		var stored string
		err := tx.QueryRowContext(ctx, "SELECT url FROM smtp_settings WHERE id = 1").Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !clearPassword(stored) {
			return nil
		} else if err != nil {
			return fmt.Errorf("migration %d: smtp settings: %w", MigrationSealSMTP, err)
		}
		sealed, err := secret.Seal(db.secretKey, smtpBound, stored)
		if errors.Is(err, secret.ErrNoKey) {
			return vigil.Errorf(vigil.EINVALID, "migration %d: the organization's SMTP password is stored in clear and is now kept sealed: give the secret key "+
				"(--secret-key FILE or $VIGIL_SECRET_KEY; create one with `head -c 32 /dev/urandom > FILE && chmod 600 FILE`) to seal it, then keep giving it", MigrationSealSMTP)
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE smtp_settings SET url = $1 WHERE id = 1", sealed)
		return err
	}}, nil)
}

// clearPassword says whether a stored SMTP URL carries a password in clear.
func clearPassword(stored string) bool {
	if secret.IsSealed(stored) {
		return false
	}
	u, err := url.Parse(stored)
	if err != nil {
		return true // unreadable: treat as secret
	}
	_, has := u.User.Password()
	return has
}
