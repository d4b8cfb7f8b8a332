// Package accounts is the users use case: user accounts and their roles, passwords and API tokens, and signing in.
// Every change is authorized here: an admin (vigil.PermUsers) manages every account; a user may change their own
// password and manage their own tokens (an API token may not mint tokens: the store refuses it). Signing in
// (Authenticate, TokenActor, single sign-on through an OpenID Connect provider in sso.go) needs no actor: it is how
// one is obtained.
package accounts

import (
	"context"
	"time"

	"github.com/vigil-dev/vigil"
)

// Store is what the accounts use case needs from storage.
type Store interface {
	vigil.UserService
	vigil.AccountService
	vigil.SavedFilterService
}

// Service is the users use case. It implements vigil.UserService and vigil.AccountService.
type Service struct {
	Store Store
	// PasswordAdminsOnly keeps password sign-in for admins alone: set when single sign-on is configured, so that the
	// local admins are the break-glass way in while the provider is down and everyone else signs in through it.
	PasswordAdminsOnly bool
}

var (
	_ vigil.UserService        = (*Service)(nil)
	_ vigil.AccountService     = (*Service)(nil)
	_ vigil.SavedFilterService = (*Service)(nil)
)

// self allows an admin, or the user name themself.
func self(ctx context.Context, name, what string) error {
	a, err := vigil.Authorize(ctx, vigil.PermRead)
	if err != nil {
		return err
	}
	if !a.Can(vigil.PermUsers) && a.Name != name {
		return vigil.Errorf(vigil.EFORBIDDEN, "only an admin or %s may %s", name, what)
	}
	return nil
}

// CreateUser adds a user with a role and a password. Needs PermUsers.
func (s *Service) CreateUser(ctx context.Context, u *vigil.User, password string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	return s.Store.CreateUser(ctx, u, password)
}

// SetPassword changes a password: an admin, or the user themself (not through an API token).
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := self(ctx, name, "change this password"); err != nil {
		return err
	}
	return s.Store.SetPassword(ctx, name, password)
}

// Users lists every user. Needs PermUsers.
func (s *Service) Users(ctx context.Context) ([]*vigil.User, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return nil, err
	}
	return s.Store.Users(ctx)
}

// UserByName returns one user; ENOTFOUND when there is none. Needs PermRead.
func (s *Service) UserByName(ctx context.Context, name string) (*vigil.User, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.UserByName(ctx, name)
}

// Authenticate checks a password (sign-in: no actor needed). EUNAUTHORIZED on a wrong name or password alike, and
// for a non-admin when PasswordAdminsOnly (the same answer, so it tells no one that the password was right).
func (s *Service) Authenticate(ctx context.Context, name, password string) (*vigil.User, error) {
	u, err := s.Store.Authenticate(ctx, name, password)
	if err == nil && s.PasswordAdminsOnly && u.Role != vigil.RoleAdmin {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "wrong name or password")
	}
	return u, err
}

// CreateToken mints an API token for a user (an admin, or the user themself); the secret is returned once.
func (s *Service) CreateToken(ctx context.Context, userName, tokenName string, expires time.Time) (*vigil.Token, string, error) {
	if err := self(ctx, userName, "create a token for them"); err != nil {
		return nil, "", err
	}
	return s.Store.CreateToken(ctx, userName, tokenName, expires)
}

// TokenActor resolves a bearer token to its actor (sign-in: no actor needed).
func (s *Service) TokenActor(ctx context.Context, secret string) (vigil.Actor, error) {
	return s.Store.TokenActor(ctx, secret)
}

// SetUserDisabled disables or re-enables a user, with the reason in the audit trail. Needs PermUsers.
func (s *Service) SetUserDisabled(ctx context.Context, name string, disabled bool, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	return s.Store.SetUserDisabled(ctx, name, disabled, reason)
}

// SetUserRole changes a user's role, with the reason in the audit trail. Needs PermUsers.
func (s *Service) SetUserRole(ctx context.Context, name, role, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	return s.Store.SetUserRole(ctx, name, role, reason)
}

// Tokens lists a user's live tokens: an admin, or the user themself.
func (s *Service) Tokens(ctx context.Context, userName string) ([]*vigil.Token, error) {
	if err := self(ctx, userName, "list their tokens"); err != nil {
		return nil, err
	}
	return s.Store.Tokens(ctx, userName)
}

// SavedFilters lists the caller's saved filters of a screen. Needs PermRead; the store keeps them to their owner.
func (s *Service) SavedFilters(ctx context.Context, screen string) ([]*vigil.SavedFilter, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.SavedFilters(ctx, screen)
}

// SaveFilter saves the caller's filter under its name (replacing one of that name). Needs PermRead.
func (s *Service) SaveFilter(ctx context.Context, f *vigil.SavedFilter) error {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	return s.Store.SaveFilter(ctx, f)
}

// DeleteSavedFilter deletes one of the caller's saved filters. Needs PermRead.
func (s *Service) DeleteSavedFilter(ctx context.Context, id int64) error {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	return s.Store.DeleteSavedFilter(ctx, id)
}

// MarkSeen records that the signed-in user has seen what is new. Needs PermRead.
func (s *Service) MarkSeen(ctx context.Context) error {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return err
	}
	return s.Store.MarkSeen(ctx)
}

// RevokeToken revokes one of a user's tokens (an admin, or the user themself), with the reason in the audit trail.
func (s *Service) RevokeToken(ctx context.Context, userName string, id int64, reason string) error {
	if err := self(ctx, userName, "revoke their tokens"); err != nil {
		return err
	}
	return s.Store.RevokeToken(ctx, userName, id, reason)
}

// SetFullName sets a user's printed name (an admin, or the user themself), audited.
func (s *Service) SetFullName(ctx context.Context, name, fullName string) error {
	if err := self(ctx, name, "set their printed name"); err != nil {
		return err
	}
	return s.Store.SetFullName(ctx, name, fullName)
}
