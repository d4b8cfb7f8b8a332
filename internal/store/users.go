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
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"

	"github.com/vigil-dev/vigil"
)

var (
	_ vigil.UserService    = (*DB)(nil)
	_ vigil.SessionService = (*DB)(nil)
	_ vigil.AccountService = (*DB)(nil)
)

// argon2id parameters: OWASP's second recommended configuration (m=19 MiB, t=2, p=1), which costs about as much
// time as 46 MiB with t=1 for less than half the memory. Hashes made with other parameters (the 64 MiB, p=2 ones
// of earlier versions) are verified with the parameters stored in them.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	minPassword  = 12
	// maxArgonMemory bounds the memory a stored hash may ask for (KiB); a hash above it never verifies.
	maxArgonMemory = 256 * 1024
)

// hashGate bounds the memory of the argon2id computations running at once. Every login attempt hashes, an unknown
// name included, so without it a flood of bad logins holds m KiB per request: 100 at once needed gigabytes. The
// capacity is one OWASP-sized hash per core; more would only queue inside the scheduler while holding memory.
var hashGate = newArgonGate(int64(max(runtime.GOMAXPROCS(0), 1)) * argonMemory)

// argonGate is a weighted semaphore over KiB of argon2id memory. peak is the most that was ever held at once,
// which the tests check against the capacity.
type argonGate struct {
	sem      *semaphore.Weighted
	capacity int64
	held     atomic.Int64
	peak     atomic.Int64
}

func newArgonGate(kib int64) *argonGate {
	return &argonGate{sem: semaphore.NewWeighted(kib), capacity: kib}
}

// key computes an argon2id key once the gate admits its memory (a hash larger than the whole capacity waits until
// it runs alone). It returns ctx's error when ctx ends first: the client has gone.
func (g *argonGate) key(ctx context.Context, password, salt []byte, t, m uint32, p uint8, keyLen uint32) ([]byte, error) {
	w := min(int64(m), g.capacity)
	if err := g.sem.Acquire(ctx, w); err != nil {
		return nil, err
	}
	defer g.sem.Release(w)
	now := g.held.Add(w)
	for peak := g.peak.Load(); now > peak && !g.peak.CompareAndSwap(peak, now); peak = g.peak.Load() {
	}
	defer g.held.Add(-w)
	return argon2.IDKey(password, salt, t, m, p, keyLen), nil
}

// hashPassword returns an argon2id hash in the PHC string format.
func hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := hashGate.key(ctx, []byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return currentParams + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key), nil
}

// currentParams begins every hash hashPassword makes now; a stored hash that does not begin with it was made with
// earlier parameters.
var currentParams = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, argonMemory, argonTime, argonThreads)

// checkPassword verifies password against a PHC argon2id hash in constant time, with the hash's own parameters.
func checkPassword(ctx context.Context, hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, nil
	}
	if m == 0 || m > maxArgonMemory || t == 0 || t > 16 || p == 0 || p > 16 {
		return false, nil
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false, nil
	}
	got, err := hashGate.key(ctx, []byte(password), salt, t, m, p, uint32(len(key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// dummyHash is checked against when the user does not exist, so that a login's timing does not say whether the
// name is known.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword(context.Background(), "vigil-timing-equalizer")
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
func (db *DB) CreateUser(ctx context.Context, u *vigil.User, password string) (err error) {
	defer vigil.Wrap(&err, "store.CreateUser", u.Name)
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	if err := vigil.OneOf("role", u.Role, vigil.Roles); err != nil {
		return err
	}
	if err := vigil.Text("name", u.Name, 64); err != nil {
		return err
	}
	if u.Name == "" || strings.ContainsAny(u.Name, " \t\r\n:") {
		return vigil.Errorf(vigil.EINVALID, "name: 1-64 characters, no spaces or colons")
	}
	if err := validatePassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(ctx, password)
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
		tx.wrote("users", id)
		return tx.Audit(ctx, "user.create", "user", u.Name, nil, u, "")
	})
}

// SetPassword changes a user's password (admin, or the user themself).
func (db *DB) SetPassword(ctx context.Context, name, password string) (err error) {
	defer vigil.Wrap(&err, "store.SetPassword", name)
	a, ok := vigil.ActorFrom(ctx)
	if !ok || !(a.Can(vigil.PermUsers) || (a.Name == name && a.TokenID == 0)) {
		return vigil.Errorf(vigil.EFORBIDDEN, "only an admin or the user may change a password")
	}
	if err := validatePassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(ctx, password)
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
func (db *DB) Users(ctx context.Context) (_ []*vigil.User, err error) {
	defer vigil.Wrap(&err, "store.Users", nil)
	rows, err := db.db.QueryContext(ctx, "SELECT id, name, role, disabled, created_at, COALESCE(full_name, '') FROM users ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*vigil.User
	for rows.Next() {
		var u vigil.User
		var c sql.NullString
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c, &u.FullName); err != nil {
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
	err := db.db.QueryRowContext(ctx, "SELECT id, name, role, disabled, created_at, password_hash, COALESCE(full_name, '') FROM users WHERE "+where, arg).
		Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c, &hash, &u.FullName)
	u.CreatedAt = parseTime(c)
	return &u, hash, err
}

// UserByName returns a user.
func (db *DB) UserByName(ctx context.Context, name string) (_ *vigil.User, err error) {
	defer vigil.Wrap(&err, "store.UserByName", name)
	u, _, err := db.userRow(ctx, "name = $1", name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", name)
	}
	return u, err
}

// Authenticate checks a name and password. Every failure is the same EUNAUTHORIZED and costs the same time.
func (db *DB) Authenticate(ctx context.Context, name, password string) (_ *vigil.User, err error) {
	defer vigil.Wrap(&err, "store.Authenticate", nil) // no key: a failure must look the same whoever was named
	u, hash, err := db.userRow(ctx, "name = $1", name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	sso := err == nil && hash == ssoHash // signs in through the provider only
	if err != nil || sso {
		hash = dummyHash()
	}
	ok, herr := checkPassword(ctx, hash, password)
	if herr != nil {
		return nil, herr
	}
	if err != nil || sso || !ok || u.Disabled {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "wrong name or password")
	}
	if !strings.HasPrefix(hash, currentParams) {
		// Made with earlier parameters (64 MiB): upgraded at the first sign-in that proves the password, so that it
		// stops costing more memory than the rest, and more time than an unknown name's check (which would tell
		// the name apart). Best-effort, and only if the password did not change meanwhile.
		if nh, err := hashPassword(ctx, password); err == nil {
			db.bookkeep(ctx, "password rehash", "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3", nh, u.ID, hash)
		}
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
// they are 256-bit random, so a slow hash adds nothing. A token cannot create tokens (see vigil.UserService).
func (db *DB) CreateToken(ctx context.Context, userName, tokenName string, expires time.Time) (_ *vigil.Token, _ string, err error) {
	defer vigil.Wrap(&err, "store.CreateToken", userName)
	a, ok := vigil.ActorFrom(ctx)
	if !ok || !(a.Can(vigil.PermUsers) || a.Name == userName) {
		return nil, "", vigil.Errorf(vigil.EFORBIDDEN, "only an admin or the user may create a token for %s", userName)
	}
	if a.TokenID != 0 {
		return nil, "", vigil.Errorf(vigil.EFORBIDDEN, "an API token cannot create tokens: sign in, or use the command line")
	}
	expires, err = vigil.TokenExpiry(db.clock.Now(), expires)
	if err != nil {
		return nil, "", err
	}
	if tokenName == "" {
		tokenName = "token"
	}
	if err := vigil.Text("name", tokenName, vigil.MaxName); err != nil {
		return nil, "", err
	}
	u, err := db.UserByName(ctx, userName)
	if err != nil {
		return nil, "", err
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
		tx.wrote("tokens", id)
		return tx.Audit(ctx, "token.create", "user", userName, nil, t, "")
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// TokenActor resolves an API token secret to its actor. The role is read from the users table on every call, so a
// role change or a disabled account takes effect on the next request; a revoked token is refused at once. last_used
// is written at most once a minute per token, so scripts polling the API do not turn every read into a write.
func (db *DB) TokenActor(ctx context.Context, secret string) (_ vigil.Actor, err error) {
	defer vigil.Wrap(&err, "store.TokenActor", nil)
	var a vigil.Actor
	var created, exp, revoked, used sql.NullString
	var disabled bool
	err = db.db.QueryRowContext(ctx, `SELECT t.id, u.id, u.name, u.role, u.disabled, t.created_at, t.expires_at, t.revoked_at, t.last_used FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`,
		secretHash(secret)).Scan(&a.TokenID, &a.UserID, &a.Name, &a.Role, &disabled, &created, &exp, &revoked, &used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return a, err
	}
	now := db.clock.Now()
	if err != nil || disabled || revoked.Valid || !vigil.TokenDeadline(parseTime(created), parseTime(exp)).After(now) {
		return vigil.Actor{}, vigil.Errorf(vigil.EUNAUTHORIZED, "invalid, expired or revoked token")
	}
	if !used.Valid || now.Sub(parseTime(used)) >= seenEvery {
		// Conditional on the value read, so concurrent requests with one token write it once.
		db.bookkeep(ctx, "token last used", "UPDATE tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used = $3)",
			timeText(now), a.TokenID, used)
	}
	return a, nil
}

// CreateSession starts a session for u and returns its secret (the cookie value) and CSRF token.
func (db *DB) CreateSession(ctx context.Context, u *vigil.User, ttl time.Duration) (secret string, s *vigil.Session, err error) {
	defer vigil.Wrap(&err, "store.CreateSession", u.Name)
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

// MarkSeen records in the trail that the actor has seen what is new (user.seen on the user): the dashboard counts
// new findings from the last one.
func (db *DB) MarkSeen(ctx context.Context) (err error) {
	defer vigil.Wrap(&err, "store.MarkSeen", nil)
	a, err := vigil.Authorize(ctx, vigil.PermRead)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error { return tx.Audit(ctx, "user.seen", "user", a.Name, nil, nil, "") })
}

// SessionBySecret returns the live session for a cookie value with the default idle limit; EUNAUTHORIZED when
// unknown, expired, idle too long or its user disabled. The server uses IdleSessions to set its own limit.
func (db *DB) SessionBySecret(ctx context.Context, secret string) (_ *vigil.Session, err error) {
	defer vigil.Wrap(&err, "store.SessionBySecret", nil)
	return db.sessionBySecret(ctx, secret, vigil.DefaultSessionIdle)
}

// seenEvery bounds the writes that keep sessions alive and record a token's last use: at most one per minute each.
const seenEvery = time.Minute

// IdleSessions returns the session service with idle limit idle (vigil.DefaultSessionIdle when idle is not positive): a
// session unused for longer ends even before its absolute expiry.
func (db *DB) IdleSessions(idle time.Duration) vigil.SessionService {
	if idle <= 0 {
		idle = vigil.DefaultSessionIdle
	}
	return idleSessions{DB: db, idle: idle}
}

type idleSessions struct {
	*DB
	idle time.Duration
}

func (s idleSessions) SessionBySecret(ctx context.Context, secret string) (*vigil.Session, error) {
	return s.DB.sessionBySecret(ctx, secret, s.idle)
}

// sessionBySecret checks the session against its absolute expiry and its idle limit. last_seen is written only
// when it is at least a minute old (or half the limit, for limits under two minutes), so a busy browser costs one
// write a minute, not one per request; the price is that a session may end up to that interval early.
func (db *DB) sessionBySecret(ctx context.Context, secret string, idle time.Duration) (*vigil.Session, error) {
	var u vigil.User
	var s vigil.Session
	var exp, c, seen sql.NullString
	hash := secretHash(secret)
	err := db.db.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.disabled, u.created_at, s.csrf, s.expires_at, COALESCE(s.last_seen, s.created_at) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
		hash).Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &c, &s.CSRF, &exp, &seen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	now := db.clock.Now()
	s.Expires = parseTime(exp)
	if err != nil || u.Disabled || !s.Expires.After(now) {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "session expired: sign in again")
	}
	last := parseTime(seen)
	if now.Sub(last) > idle {
		// The session is over whether or not its row goes now; CreateSession sweeps expired ones anyway.
		db.bookkeep(ctx, "idle session removal", "DELETE FROM sessions WHERE id_hash = $1", hash)
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "session ended after %s without use: sign in again", idle)
	}
	if now.Sub(last) >= min(seenEvery, idle/2) {
		// Conditional on the value read, so concurrent requests of one session write it once.
		db.bookkeep(ctx, "session last seen", "UPDATE sessions SET last_seen = $1 WHERE id_hash = $2 AND COALESCE(last_seen, created_at) = $3",
			timeText(now), hash, seen.String)
	}
	u.CreatedAt = parseTime(c)
	s.User = &u
	return &s, nil
}

// bookkeepWait bounds a bookkeeping write: a request does not wait longer than this for a write lock that another
// writer holds.
const bookkeepWait = 250 * time.Millisecond

// bookkeep runs a best-effort bookkeeping write (a token's last use, a session's last activity). It is not the
// request's purpose: a locked database or a full disk must not fail the read it accompanies, so its failure is
// logged and the request goes on; the write is tried again on a later request, since the value it would have moved
// is still old.
func (db *DB) bookkeep(ctx context.Context, what, query string, args ...any) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepWait)
	defer cancel()
	if _, err := db.db.ExecContext(ctx, query, args...); err != nil {
		db.logger().Warn("store: bookkeeping write skipped", "what", what, "err", classify(err))
	}
}

// DeleteSession ends a session (logout).
func (db *DB) DeleteSession(ctx context.Context, secret string) (err error) {
	defer vigil.Wrap(&err, "store.DeleteSession", nil)
	_, err = db.db.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = $1", secretHash(secret))
	return err
}

// ---- account lifecycle: disable, role change, token listing and revocation

// maxReason bounds the reason an admin gives; it goes into the audit trail.
const maxReason = 2000

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", vigil.Errorf(vigil.EINVALID, "reason: required (it goes into the audit trail)")
	}
	if len(reason) > maxReason {
		return "", vigil.Errorf(vigil.EINVALID, "reason: at most %d bytes", maxReason)
	}
	return reason, nil
}

// lockUsers serializes changes to who is an enabled admin, so that two admins demoting each other at once cannot
// both pass the last-admin check. SQLite transactions already take the write lock at BEGIN.
func (tx *Tx) lockUsers(ctx context.Context) error {
	return tx.db.dialect.lock(ctx, tx, usersLock)
}

// userForUpdate reads the user a change is about, inside the change's transaction.
func (tx *Tx) userForUpdate(ctx context.Context, name string) (*vigil.User, error) {
	var u vigil.User
	err := tx.QueryRowContext(ctx, "SELECT id, name, role, disabled FROM users WHERE name = $1", name).Scan(&u.ID, &u.Name, &u.Role, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", name)
	}
	return &u, err
}

// refuseLastAdmin returns ECONFLICT when u is the only enabled admin: taking it away would leave nobody able to
// manage users except through the command line on the database host.
func (tx *Tx) refuseLastAdmin(ctx context.Context, u *vigil.User, what string) error {
	if u.Role != vigil.RoleAdmin || u.Disabled {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE role = $1 AND disabled = $2", vigil.RoleAdmin, false).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return vigil.Errorf(vigil.ECONFLICT, "%s is the last enabled admin and cannot be %s: make another user admin first", u.Name, what)
	}
	return nil
}

// SetUserDisabled disables or re-enables a user (admin only; reason required; audited). Disabling ends the user's
// sessions; their tokens are refused because TokenActor reads the flag. An admin cannot disable themself, nor the
// last enabled admin (ECONFLICT). Setting the state the user is already in changes and records nothing.
func (db *DB) SetUserDisabled(ctx context.Context, name string, disabled bool, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetUserDisabled", name)
	a, err := vigil.Authorize(ctx, vigil.PermUsers)
	if err != nil {
		return err
	}
	if reason, err = checkReason(reason); err != nil {
		return err
	}
	if disabled && !a.System && a.Name == name {
		return vigil.Errorf(vigil.EINVALID, "you cannot disable your own account: ask another admin")
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.lockUsers(ctx); err != nil {
			return err
		}
		u, err := tx.userForUpdate(ctx, name)
		if err != nil || u.Disabled == disabled {
			return err
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
			if err := tx.refuseLastAdmin(ctx, u, "disabled"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET disabled = $1 WHERE id = $2", disabled, u.ID); err != nil {
			return err
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", u.ID); err != nil {
				return err
			}
		}
		tx.wrote("users", u.ID)
		return tx.Audit(ctx, action, "user", name, map[string]bool{"disabled": u.Disabled}, map[string]bool{"disabled": disabled}, reason)
	})
}

// SetUserRole changes a user's role (admin only; reason required; audited). It takes effect on the user's next
// request: sessions and tokens read the role from the users table each time. Demoting the last enabled admin is
// refused (ECONFLICT). Setting the role the user already has changes and records nothing.
func (db *DB) SetUserRole(ctx context.Context, name, role, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SetUserRole", name)
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	if err := vigil.OneOf("role", role, vigil.Roles); err != nil {
		return err
	}
	reason, err = checkReason(reason)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.lockUsers(ctx); err != nil {
			return err
		}
		u, err := tx.userForUpdate(ctx, name)
		if err != nil || u.Role == role {
			return err
		}
		if err := tx.refuseLastAdmin(ctx, u, "demoted"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = $1 WHERE id = $2", role, u.ID); err != nil {
			return err
		}
		tx.wrote("users", u.ID)
		return tx.Audit(ctx, "user.role", "user", name, map[string]string{"role": u.Role}, map[string]string{"role": role}, reason)
	})
}

// ownTokens authorizes token listing and revocation: an admin, or the user themself (through a session or one of
// their tokens). Another user learns nothing, not even whether the name exists.
func ownTokens(ctx context.Context, userName, verb string) error {
	a, ok := vigil.ActorFrom(ctx)
	if !ok {
		return vigil.Errorf(vigil.EUNAUTHORIZED, "sign in first")
	}
	if !a.Can(vigil.PermUsers) && (a.System || a.Name != userName) {
		return vigil.Errorf(vigil.EFORBIDDEN, "only an admin or the user may %s %s's tokens", verb, userName)
	}
	return nil
}

// Tokens lists a user's live (unrevoked) tokens, oldest first, expired ones included so they can be cleaned up:
// an admin, or the user themself. Never the secret or its hash. ENOTFOUND for an unknown user.
func (db *DB) Tokens(ctx context.Context, userName string) (_ []*vigil.Token, err error) {
	defer vigil.Wrap(&err, "store.Tokens", userName)
	if err := ownTokens(ctx, userName, "list"); err != nil {
		return nil, err
	}
	u, err := db.UserByName(ctx, userName)
	if err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, "SELECT id, user_id, name, created_at, expires_at, last_used FROM tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id", u.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*vigil.Token{}
	for rows.Next() {
		var t vigil.Token
		var c, e, l sql.NullString
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &c, &e, &l); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsed = parseTime(c), parseTime(l)
		t.ExpiresAt = vigil.TokenDeadline(t.CreatedAt, parseTime(e))
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of a user's tokens (an admin, or the user themself; reason required; audited). The token
// is refused from the next request on. ENOTFOUND when the user has no such token; ECONFLICT when already revoked.
func (db *DB) RevokeToken(ctx context.Context, userName string, id int64, reason string) (err error) {
	defer vigil.Wrap(&err, "store.RevokeToken", userName)
	if err := ownTokens(ctx, userName, "revoke"); err != nil {
		return err
	}
	reason, err = checkReason(reason)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		var t vigil.Token
		var c, e, revoked sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT t.id, t.user_id, t.name, t.created_at, t.expires_at, t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1 AND u.name = $2",
			id, userName).Scan(&t.ID, &t.UserID, &t.Name, &c, &e, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.ENOTFOUND, "user %s has no token %d", userName, id)
		}
		if err != nil {
			return err
		}
		if revoked.Valid {
			return vigil.Errorf(vigil.ECONFLICT, "token %d of %s was already revoked at %s", id, userName, revoked.String)
		}
		t.CreatedAt, t.ExpiresAt = parseTime(c), parseTime(e)
		if _, err := tx.ExecContext(ctx, "UPDATE tokens SET revoked_at = $1 WHERE id = $2", tx.NowText(), id); err != nil {
			return err
		}
		tx.wrote("tokens", id)
		return tx.Audit(ctx, "token.revoke", "user", userName, &t, nil, reason)
	})
}
