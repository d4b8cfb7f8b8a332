package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/vigil-dev/vigil"
)

var (
	_ vigil.UserService    = (*DB)(nil)
	_ vigil.SessionService = (*DB)(nil)
)

// argon2id parameters: above OWASP's floor (m=19 MiB, t=2, p=1); about 60 ms per check on this hardware.
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	minPassword  = 12
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword verifies password against a PHC argon2id hash in constant time.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummyHash is checked against when the user does not exist, so that a login's timing does not say whether the
// name is known.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("vigil-timing-equalizer")
	return h
})

func validatePassword(p string) error {
	if utf8.RuneCountInString(p) < minPassword {
		return vigil.Errorf(vigil.EINVALID, "password: at least %d characters", minPassword)
	}
	if len(p) > 1024 {
		return vigil.Errorf(vigil.EINVALID, "password: at most 1024 bytes")
	}
	return nil
}

// CreateUser adds a team member. The password is hashed with argon2id; neither it nor the hash is audited.
func (db *DB) CreateUser(ctx context.Context, u *vigil.User, password string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	if err := vigil.OneOf("role", u.Role, vigil.Roles); err != nil {
		return err
	}
	if u.Name == "" || len(u.Name) > 64 || strings.ContainsAny(u.Name, " \t\r\n:") {
		return vigil.Errorf(vigil.EINVALID, "name: 1-64 characters, no spaces or colons")
	}
	if err := validatePassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		u.CreatedAt = tx.Now()
		id, err := tx.insertID(ctx, "INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5)",
			u.Name, u.Role, hash, u.Disabled, tx.NowText())
		if err != nil {
			return err
		}
		u.ID = id
		return tx.Audit(ctx, "user.create", "user", u.Name, nil, u, "")
	})
}

// SetPassword changes a user's password (admin, or the user themself).
func (db *DB) SetPassword(ctx context.Context, name, password string) error {
	a, ok := vigil.ActorFrom(ctx)
	if !ok || !(a.Can(vigil.PermUsers) || (a.Name == name && a.TokenID == 0)) {
		return vigil.Errorf(vigil.EFORBIDDEN, "only an admin or the user may change a password")
	}
	if err := validatePassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = $1 WHERE name = $2", hash, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("user", name)
		}
		// Existing sessions end with the old password.
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)", name); err != nil {
			return err
		}
		return tx.Audit(ctx, "user.password", "user", name, nil, nil, "password changed")
	})
}

// Users lists users by name.
func (db *DB) Users(ctx context.Context) ([]*vigil.User, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT id, name, role, disabled, created_at FROM users ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*vigil.User
	for rows.Next() {
		var u vigil.User
		var c sql.NullString
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c); err != nil {
			return nil, err
		}
		u.CreatedAt = parseTime(c)
		out = append(out, &u)
	}
	return out, rows.Err()
}

func (db *DB) userRow(ctx context.Context, where string, arg any) (*vigil.User, string, error) {
	var u vigil.User
	var hash string
	var c sql.NullString
	err := db.db.QueryRowContext(ctx, "SELECT id, name, role, disabled, created_at, password_hash FROM users WHERE "+where, arg).
		Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c, &hash)
	u.CreatedAt = parseTime(c)
	return &u, hash, err
}

// UserByName returns a user.
func (db *DB) UserByName(ctx context.Context, name string) (*vigil.User, error) {
	u, _, err := db.userRow(ctx, "name = $1", name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", name)
	}
	return u, err
}

// Authenticate checks a name and password. Every failure is the same EUNAUTHORIZED and costs the same time.
func (db *DB) Authenticate(ctx context.Context, name, password string) (*vigil.User, error) {
	u, hash, err := db.userRow(ctx, "name = $1", name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if err != nil {
		hash = dummyHash()
	}
	ok := checkPassword(hash, password)
	if err != nil || !ok || u.Disabled {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "wrong name or password")
	}
	return u, nil
}

// tokenPrefix marks Vigil tokens so secret scanners can find leaked ones.
const tokenPrefix = "vgl_"

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a random 256-bit secret with prefix.
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// CreateToken creates an API token for a user and returns its secret, once. Tokens are stored as SHA-256 hashes:
// they are 256-bit random, so a slow hash adds nothing.
func (db *DB) CreateToken(ctx context.Context, userName, tokenName string, expires time.Time) (*vigil.Token, string, error) {
	a, ok := vigil.ActorFrom(ctx)
	if !ok || !(a.Can(vigil.PermUsers) || a.Name == userName) {
		return nil, "", vigil.Errorf(vigil.EFORBIDDEN, "only an admin or the user may create a token for %s", userName)
	}
	u, err := db.UserByName(ctx, userName)
	if err != nil {
		return nil, "", err
	}
	if tokenName == "" {
		tokenName = "token"
	}
	secret := NewSecret(tokenPrefix)
	t := &vigil.Token{UserID: u.ID, Name: tokenName, ExpiresAt: expires}
	err = db.transact(ctx, func(tx *Tx) error {
		t.CreatedAt = tx.Now()
		id, err := tx.insertID(ctx, "INSERT INTO tokens (user_id, name, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
			u.ID, tokenName, secretHash(secret), tx.NowText(), timeText(expires))
		if err != nil {
			return err
		}
		t.ID = id
		return tx.Audit(ctx, "token.create", "user", userName, nil, t, "")
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// TokenActor resolves an API token secret to its actor.
func (db *DB) TokenActor(ctx context.Context, secret string) (vigil.Actor, error) {
	var a vigil.Actor
	var exp sql.NullString
	var disabled bool
	err := db.db.QueryRowContext(ctx, `SELECT t.id, u.id, u.name, u.role, u.disabled, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`,
		secretHash(secret)).Scan(&a.TokenID, &a.UserID, &a.Name, &a.Role, &disabled, &exp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return a, err
	}
	if err != nil || disabled || (exp.Valid && !parseTime(exp).After(db.clock.Now())) {
		return vigil.Actor{}, vigil.Errorf(vigil.EUNAUTHORIZED, "invalid or expired token")
	}
	return a, nil
}

// CreateSession starts a session for u and returns its secret (the cookie value) and CSRF token.
func (db *DB) CreateSession(ctx context.Context, u *vigil.User, ttl time.Duration) (secret string, s *vigil.Session, err error) {
	secret = NewSecret("")
	s = &vigil.Session{User: u, CSRF: NewSecret(""), Expires: db.clock.Now().Add(ttl).UTC()}
	ctx = vigil.WithActor(ctx, vigil.Actor{UserID: u.ID, Name: u.Name, Role: u.Role})
	err = db.transact(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < $1", tx.NowText()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
			secretHash(secret), u.ID, s.CSRF, tx.NowText(), timeText(s.Expires)); err != nil {
			return err
		}
		return tx.Audit(ctx, "session.login", "user", u.Name, nil, nil, "")
	})
	return secret, s, err
}

// SessionBySecret returns the live session for a cookie value; EUNAUTHORIZED when unknown or expired.
func (db *DB) SessionBySecret(ctx context.Context, secret string) (*vigil.Session, error) {
	var u vigil.User
	var s vigil.Session
	var exp, c sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.disabled, u.created_at, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
		secretHash(secret)).Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c, &s.CSRF, &exp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	s.Expires = parseTime(exp)
	if err != nil || u.Disabled || !s.Expires.After(db.clock.Now()) {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "session expired: sign in again")
	}
	u.CreatedAt = parseTime(c)
	s.User = &u
	return &s, nil
}

// DeleteSession ends a session (logout).
func (db *DB) DeleteSession(ctx context.Context, secret string) error {
	_, err := db.db.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = $1", secretHash(secret))
	return err
}
