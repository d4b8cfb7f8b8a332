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
	// CreateToken returns the secret once.
	CreateToken(ctx context.Context, userName, tokenName string, expires time.Time) (*Token, string, error)
	// TokenActor resolves a presented secret; EUNAUTHORIZED when unknown, expired or its user disabled.
	TokenActor(ctx context.Context, secret string) (Actor, error)
}
