package vigil

import (
	"context"
	"time"
)

// Roles. Authorization lives in the services, not in SQL or in handlers.
const (
	RoleAdmin      = "admin"      // users, settings, and everything else
	RolePSIRT      = "psirt"      // assess findings, record events, import
	RoleRegulatory = "regulatory" // determinations, reports, events
	RoleViewer     = "viewer"     // read only
)

// Roles lists the valid roles.
var Roles = []string{RoleAdmin, RolePSIRT, RoleRegulatory, RoleViewer}

// User is a member of the team. The password hash never leaves the store.
type User struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	FullName  string    `json:"full_name,omitempty"` // the printed name a Part 11 signature shows
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Token is an API token's public part; the secret is shown once at creation and stored hashed.
type Token struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// Every API token expires, so a forgotten or leaked one stops working on its own.
const (
	TokenDefaultLifetime = 90 * 24 * time.Hour
	TokenMaxLifetime     = 365 * 24 * time.Hour
)

// TokenExpiry is when a token created at now and asked to expire at requested (zero for the default) expires:
// EINVALID naming the field when requested is not after now or more than TokenMaxLifetime after it.
func TokenExpiry(now, requested time.Time) (time.Time, error) {
	switch {
	case requested.IsZero():
		return now.Add(TokenDefaultLifetime).UTC(), nil
	case !requested.After(now):
		return time.Time{}, Errorf(EINVALID, "expires: %s is not in the future", requested.UTC().Format(time.RFC3339))
	case requested.Sub(now) > TokenMaxLifetime:
		return time.Time{}, Errorf(EINVALID, "expires: %s is more than %d days away (the longest a token may live)",
			requested.UTC().Format(time.RFC3339), TokenMaxLifetime/(24*time.Hour))
	}
	return requested.UTC(), nil
}

// TokenDeadline is when a stored token stops working: its expiry, and never later than TokenMaxLifetime after its
// creation, whatever was stored (tokens made before lifetimes were enforced have none, or a date in year 9999).
func TokenDeadline(created, expires time.Time) time.Time {
	limit := created.Add(TokenMaxLifetime)
	if expires.IsZero() || expires.After(limit) {
		return limit.UTC()
	}
	return expires.UTC()
}

// Actor is who performs an action: a user (through a session or a token) or the system itself.
type Actor struct {
	UserID  int64
	Name    string
	Role    string
	TokenID int64 // non-zero when acting through an API token
	System  bool  // scheduled jobs and the command line run as the system
}

// String is the actor as the audit trail records it.
func (a Actor) String() string {
	switch {
	case a.System && a.Name != "":
		return "system:" + a.Name
	case a.System:
		return "system"
	case a.TokenID != 0:
		return "token:" + a.Name
	case a.Role == RoleReporter:
		return "reporter:" + a.Name
	default:
		return "user:" + a.Name
	}
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor; ok is false when there is none.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// UserService manages users and tokens. Only an admin (or the system) may create users and others' tokens.
type UserService interface {
	CreateUser(ctx context.Context, u *User, password string) error
	SetPassword(ctx context.Context, name, password string) error
	Users(ctx context.Context) ([]*User, error)
	UserByName(ctx context.Context, name string) (*User, error)
	// Authenticate checks a password; it returns EUNAUTHORIZED for any failure without saying which part failed.
	Authenticate(ctx context.Context, name, password string) (*User, error)
	// CreateToken returns the secret once. An admin, or the user themself, signed in or on the command line: never
	// through a token, so that a stolen token cannot mint successors that outlive its revocation. expires zero
	// means TokenDefaultLifetime; EINVALID (field "expires") when it is not in the future or beyond
	// TokenMaxLifetime, EFORBIDDEN for a token or another user's non-admin.
	CreateToken(ctx context.Context, userName, tokenName string, expires time.Time) (*Token, string, error)
	// TokenActor resolves a presented secret; EUNAUTHORIZED when unknown, expired or its user disabled.
	TokenActor(ctx context.Context, secret string) (Actor, error)
}
