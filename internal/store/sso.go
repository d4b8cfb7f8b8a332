package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ssoHash is the password_hash of a user created by single sign-on: no password matches it (Authenticate refuses
// it after the same work as any other failure).
const ssoHash = "sso"

// SSOUser returns the user bound to an OpenID Connect identity, creating the user and the binding at the
// identity's first sign-in and changing the role when the provider's claim now maps to another. Signing in needs no
// actor: the writes are audited as "system:sso". ECONFLICT when the name is an account not bound to this identity
// (a local account such as the break-glass admin, or another identity's), or when the claim would demote the last
// enabled admin; EUNAUTHORIZED when the user is disabled.
func (db *DB) SSOUser(ctx context.Context, id vigil.SSOIdentity) (_ *vigil.User, err error) {
	defer vigil.Wrap(&err, "store.SSOUser", id.Name)
	if err := vigil.OneOf("role", id.Role, vigil.Roles); err != nil {
		return nil, err
	}
	if err := vigil.Text("name", id.Name, 64); err != nil {
		return nil, err
	}
	if id.Name == "" || strings.ContainsAny(id.Name, " \t\r\n:") {
		return nil, vigil.Errorf(vigil.EINVALID, "name: the provider's name claim %q is not a Vigil name (1-64 characters, no spaces or colons)", id.Name)
	}
	if id.Issuer == "" || id.Subject == "" || len(id.Issuer) > 512 || len(id.Subject) > 255 {
		return nil, vigil.Errorf(vigil.EINVALID, "identity: issuer and subject are required (at most 512 and 255 bytes)")
	}
	ctx = vigil.WithActor(ctx, vigil.Actor{System: true, Name: "sso"})
	u := &vigil.User{Name: id.Name, Role: id.Role}
	err = db.transact(ctx, func(tx *Tx) error {
		if err := tx.lockUsers(ctx); err != nil {
			return err
		}
		var c sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.disabled, u.created_at FROM user_identities i JOIN users u ON u.id = i.user_id
			WHERE i.issuer = $1 AND i.subject = $2`, id.Issuer, id.Subject).Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.createSSOUser(ctx, u, id)
		}
		if err != nil {
			return err
		}
		u.CreatedAt = parseTime(c)
		if u.Disabled {
			return vigil.Errorf(vigil.EUNAUTHORIZED, "this account is disabled")
		}
		if u.Role == id.Role {
			return nil
		}
		if id.Role != vigil.RoleAdmin {
			if err := tx.refuseLastAdmin(ctx, u, "demoted by the provider's role claim"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = $1 WHERE id = $2", id.Role, u.ID); err != nil {
			return err
		}
		old := u.Role
		u.Role = id.Role
		tx.wrote("users", u.ID)
		return tx.Audit(ctx, "user.role", "user", u.Name, map[string]string{"role": old}, map[string]string{"role": id.Role},
			"role claim at sign-in through "+id.Issuer)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// createSSOUser adds the user of an identity's first sign-in, refusing a name that is already an account.
func (tx *Tx) createSSOUser(ctx context.Context, u *vigil.User, id vigil.SSOIdentity) error {
	var taken int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE name = $1", u.Name).Scan(&taken); err != nil {
		return err
	}
	if taken > 0 {
		return vigil.Errorf(vigil.ECONFLICT, "name: %q is already a Vigil account that does not sign in through %s; an admin must resolve it", u.Name, id.Issuer)
	}
	u.CreatedAt = tx.Now()
	uid, err := tx.insertID(ctx, "INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5)",
		u.Name, u.Role, ssoHash, false, tx.NowText())
	if err != nil {
		return err
	}
	u.ID = uid
	tx.wrote("users", uid)
	if err := tx.Audit(ctx, "user.create", "user", u.Name, nil, u, "first sign-in through "+id.Issuer); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
		id.Issuer, id.Subject, uid, tx.NowText()); err != nil {
		return err
	}
	tx.wrote("users", uid)
	return tx.Audit(ctx, "user.identity", "user", u.Name, nil, map[string]string{"issuer": id.Issuer, "subject": id.Subject}, "")
}

// IdentityUser returns the id of the user an OpenID Connect identity (issuer, subject) belongs to: ENOTFOUND when
// none, EUNAUTHORIZED when that user is disabled. Needs PermRead.
func (db *DB) IdentityUser(ctx context.Context, issuer, subject string) (_ int64, err error) {
	defer vigil.Wrap(&err, "store.IdentityUser", subject)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return 0, err
	}
	var id int64
	var disabled bool
	err = db.db.QueryRowContext(ctx, `SELECT u.id, u.disabled FROM user_identities i JOIN users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2`,
		issuer, subject).Scan(&id, &disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, vigil.Errorf(vigil.ENOTFOUND, "no user has this identity at the provider")
	case err != nil:
		return 0, err
	case disabled:
		return 0, vigil.Errorf(vigil.EUNAUTHORIZED, "this account is disabled")
	}
	return id, nil
}
