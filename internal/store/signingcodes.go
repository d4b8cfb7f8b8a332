package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vigil-dev/vigil"
)

// One-time signing codes (esign's step-up): a user who signs in through the organization's OpenID Connect provider
// signs with a code a fresh sign-in there issued, instead of a password. Like sessions, the codes are operational
// credentials kept by their hash only, not audited records; the trail records each issue (signature.step_up, with
// the kind and expiry, never the code) and each signature made with one (its method "oidc").

// CreateSigningCode stores a one-time signing code by its hash for user userID and one signature of kind, and
// returns when it expires: vigil.SigningCodeTTL from now. Codes expired a day or more ago are removed on the way (the
// others stay, so that a signer is told theirs expired or was used). EINVALID
// for a kind no signature may sign. Needs PermSign.
func (db *DB) CreateSigningCode(ctx context.Context, hash string, userID int64, kind string) (expires time.Time, err error) {
	defer vigil.Wrap(&err, "store.CreateSigningCode", kind)
	if _, err := vigil.Authorize(ctx, vigil.PermSign); err != nil {
		return time.Time{}, err
	}
	if _, err := signableTable(kind); err != nil {
		return time.Time{}, err
	}
	err = db.transact(ctx, func(tx *Tx) error {
		expires = tx.Now().Add(vigil.SigningCodeTTL)
		if _, err := tx.ExecContext(ctx, "DELETE FROM signing_codes WHERE expires_at < $1", timeText(tx.Now().Add(-24*time.Hour))); err != nil {
			return err
		}
		var name string
		if err := tx.QueryRowContext(ctx, "SELECT name FROM users WHERE id = $1", userID).Scan(&name); errors.Is(err, sql.ErrNoRows) {
			return notFound("user", userID)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO signing_codes (code_hash, user_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
			hash, userID, kind, tx.NowText(), timeText(expires)); err != nil {
			return err
		}
		return tx.Audit(ctx, "signature.step_up", "user", name, nil, map[string]any{"kind": kind, "expires": expires}, "")
	})
	return expires, err
}

// SigningCode returns the one-time signing code with this hash, whether used or expired (by the store's clock):
// ENOTFOUND when there is none. Needs PermSign.
func (db *DB) SigningCode(ctx context.Context, hash string) (_ *vigil.SigningCode, err error) {
	defer vigil.Wrap(&err, "store.SigningCode", nil) // no key: the hash stays out of errors
	if _, err := vigil.Authorize(ctx, vigil.PermSign); err != nil {
		return nil, err
	}
	var c vigil.SigningCode
	var expires, used sql.NullString
	err = db.db.QueryRowContext(ctx, "SELECT user_id, kind, expires_at, used_at FROM signing_codes WHERE code_hash = $1", hash).Scan(&c.UserID, &c.Kind, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "no such signing code")
	} else if err != nil {
		return nil, err
	}
	c.Expires, c.Used = parseTime(expires), used.Valid
	c.Expired = !db.clock.Now().Before(c.Expires)
	return &c, nil
}

// redeemSigningCode marks p's code used, in the transaction that records its signature: only a code still
// unused, unexpired, p's user's and for p's kind is redeemed, so two signings racing with one code make one
// signature.
func (tx *Tx) redeemSigningCode(ctx context.Context, p *vigil.ProvenSigner) error {
	res, err := tx.ExecContext(ctx, "UPDATE signing_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 AND user_id = $3 AND kind = $4",
		tx.NowText(), p.CodeHash, p.UserID, p.Kind)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return vigil.Errorf(vigil.EUNAUTHORIZED, "the signature was not made: the signing code was used meanwhile or has expired: get a new one (/sign/step-up)")
	}
	return nil
}
