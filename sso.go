package vigil

import (
	"context"
	"time"
)

// SSOIdentity is who an OpenID Connect provider says signed in: its issuer and subject (the stable key of the
// account), the name shown in Vigil and the trail, and the role mapped from the configured claim.
type SSOIdentity struct {
	Issuer  string
	Subject string
	Name    string
	Role    string
}

// SSOPending is what a browser carries between leaving for the provider and coming back: the state the callback
// must echo, the nonce the ID token must hold, the PKCE verifier the code exchange proves, and where to go after.
type SSOPending struct {
	State    string
	Nonce    string
	Verifier string
	Next     string
}

// StepUp is a fresh sign-in at the provider asked for signing (21 CFR 11.200 for a user who signs in through
// single sign-on), which issues a one-time signing code: the kind of record the code will sign, when it was asked
// (the provider's auth_time must not be older), where to go after, and the state, nonce and PKCE verifier of its
// authorization request. The nonce binds the rest: a browser that alters what it carries back no longer matches
// the ID token.
type StepUp struct {
	State    string
	Nonce    string
	Verifier string
	Kind     string
	Asked    time.Time
	Next     string
}

// SSOService signs users in through the organization's OpenID Connect provider (authorization code flow with
// state, nonce and PKCE). Password sign-in stays for local admins only: the break-glass path when the provider is
// down.
type SSOService interface {
	// SSOStart returns the provider's authorization URL and what the browser must bring back.
	SSOStart(next string) (authURL string, p SSOPending)
	// SSOFinish exchanges the code, verifies the ID token (signature, issuer, audience, expiry, nonce), maps the
	// role claim and returns the Vigil user, created on first sign-in and its role kept in step with the claim.
	// EUNAUTHORIZED when the state, code or token does not check out; EFORBIDDEN when the claim maps to no role.
	SSOFinish(ctx context.Context, p SSOPending, state, code string) (*User, error)
}
