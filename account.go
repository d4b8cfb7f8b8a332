package vigil

import "context"

// AccountService is the account lifecycle an admin runs: disabling a departed colleague, changing a role, and
// listing and revoking API tokens. Every change needs a reason and is audited with it.
type AccountService interface {
	// SetUserDisabled disables (or re-enables) a user. Needs PermUsers. Disabling ends the user's sessions and
	// their tokens stop working. EINVALID when disabling yourself or without a reason, ECONFLICT for the last
	// enabled admin, ENOTFOUND for an unknown user.
	SetUserDisabled(ctx context.Context, name string, disabled bool, reason string) error
	// SetUserRole changes a user's role, effective on their next request. Needs PermUsers. EINVALID for an
	// unknown role or without a reason, ECONFLICT when demoting the last enabled admin, ENOTFOUND.
	SetUserRole(ctx context.Context, name, role, reason string) error
	// Tokens lists a user's unrevoked tokens (never their secrets). An admin, or the user themself; EFORBIDDEN
	// otherwise, ENOTFOUND for an unknown user.
	Tokens(ctx context.Context, userName string) ([]*Token, error)
	// RevokeToken revokes one of a user's tokens at once. An admin, or the user themself. EINVALID without a
	// reason, ENOTFOUND when the user has no such token, ECONFLICT when it is already revoked.
	RevokeToken(ctx context.Context, userName string, id int64, reason string) error
	// MarkSeen records that the caller has seen what is new: the dashboard's "new since" counts from then (not
	// from their last sign-in, which made it reset on every visit whether anything was looked at or not).
	MarkSeen(ctx context.Context) error
	// SetFullName sets a user's printed name, the name their electronic signatures show (21 CFR 11.50). An admin,
	// or the user themself. EINVALID when empty, ENOTFOUND for an unknown user.
	SetFullName(ctx context.Context, name, fullName string) error
}
