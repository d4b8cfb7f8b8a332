package vigil

import (
	"context"
	"time"
)

// DefaultSessionIdle is how long a browser session may go unused before it ends, unless the server sets its own
// (vigil serve --session-idle).
const DefaultSessionIdle = 30 * time.Minute

// Session is a signed-in browser session. Its secret (the cookie value) is never stored, only its hash.
type Session struct {
	User    *User
	CSRF    string // the per-session anti-CSRF token every state-changing form must echo
	Expires time.Time
}

// SessionService keeps browser sessions.
type SessionService interface {
	// CreateSession starts a session for u and returns the cookie secret, shown to the browser only.
	CreateSession(ctx context.Context, u *User, ttl time.Duration) (secret string, s *Session, err error)
	// SessionBySecret returns a live session; EUNAUTHORIZED when unknown, expired or its user disabled.
	SessionBySecret(ctx context.Context, secret string) (*Session, error)
	DeleteSession(ctx context.Context, secret string) error
}
