// Package esign is the electronic-signature use case of 21 CFR Part 11: a person signs a record (a determination,
// an event, a notice, an 806 record) with a meaning (authorship, review, approval, responsibility), proving who
// they are again at that moment, and the signature is bound to the hash of the record's state so that it cannot be
// copied to another record or outlive a change of the one it signed (11.70). Every other service signs through
// Sign with the kind of record it registered in the store's registry; the manifestation (vigil.Signature.Manifest)
// is shown with the record wherever it is shown.
//
// Re-authentication (11.200(a)(1)): every signing asks for both components, the user name and the password, even
// when the same person signed a moment earlier in the same session. 11.200(a)(1)(i) would allow one component for
// the later signings of "a single, continuous period of controlled system access", but Vigil cannot tell such a
// period apart from a browser left open (sessions last up to their idle timeout) or a command line that holds no
// session at all, so it applies 11.200(a)(1)(ii) to every signing. A user who signs in through the organization's
// OpenID Connect provider has no Vigil password: they sign through a step-up (StartStepUp, FinishStepUp), a fresh
// authentication at the provider (prompt=login, max_age=0, auth_time checked) bound to that one signing act, which
// the provider performs with both components, as at sign-in.
package esign

import (
	"context"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// Store records signatures (the store): the signer is the context's actor.
type Store interface {
	Sign(ctx context.Context, s *vigil.Signature) error
	Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*vigil.Signature, error)
	// IdentityUser returns the id of the user an OpenID Connect identity belongs to (ENOTFOUND when none).
	IdentityUser(ctx context.Context, issuer, subject string) (int64, error)
}

// Provider is the organization's OpenID Connect provider as a step-up (accounts.SSO).
type Provider interface {
	StepUpStart(p vigil.StepUp) (authURL string, out vigil.StepUp)
	StepUpFinish(ctx context.Context, p vigil.StepUp, state, code string, now time.Time) (vigil.SSOIdentity, error)
}

// Authenticator checks a user name and password (the accounts use case).
type Authenticator interface {
	Authenticate(ctx context.Context, name, password string) (*vigil.User, error)
}

// Service signs records. It implements vigil.SignatureService.
type Service struct {
	Store    Store
	Accounts Authenticator
	// Provider, when single sign-on is configured, lets users sign after a fresh sign-in there; nil otherwise.
	Provider Provider
	Clock    vigil.Clock
}

var _ vigil.SignatureService = (*Service)(nil)

// Sign re-authenticates req.Signer by name and password and signs the record as them. Through a session or a token
// the caller can sign only as themself; the command line (the system actor) signs as whoever re-authenticates.
// The signer's own role must hold vigil.PermSign.
func (s *Service) Sign(ctx context.Context, req vigil.SignRequest) (*vigil.Signature, error) {
	a, err := vigil.Authorize(ctx, vigil.PermSign)
	if err != nil {
		return nil, err
	}
	if err := req.Meaning.Validate(); err != nil {
		return nil, err
	}
	req.Signer = strings.TrimSpace(req.Signer)
	switch {
	case req.Signer == "":
		return nil, vigil.Errorf(vigil.EINVALID, "signer: your user name, typed again, is the first component of the signature")
	case req.Password == "":
		return nil, vigil.Errorf(vigil.EINVALID, "password: required at every signing (21 CFR 11.200)")
	case !a.System && a.Name != req.Signer:
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "you are signed in as %s: you can sign only as yourself", a.Name)
	}
	u, err := s.Accounts.Authenticate(ctx, req.Signer, req.Password)
	if err != nil {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the signature was not made: wrong user name or password")
	}
	sig := &vigil.Signature{Kind: req.Kind, RecordID: req.RecordID, Meaning: req.Meaning, Method: vigil.SignedWithPassword}
	signer := vigil.WithActor(ctx, vigil.Actor{UserID: u.ID, Name: u.Name, Role: u.Role})
	if err := s.Store.Sign(signer, sig); err != nil {
		return nil, err
	}
	return sig, nil
}

// StartStepUp asks to sign req's record (Kind, RecordID, Meaning; no password) after a fresh sign-in at the
// provider: it returns the provider's authorization URL and the step-up the browser carries there and back (next
// is where to go after). Through a session only (a person at a browser); needs PermSign. ENOTFOUND without single
// sign-on.
func (s *Service) StartStepUp(ctx context.Context, req vigil.SignRequest, next string) (string, vigil.StepUp, error) {
	a, err := vigil.Authorize(ctx, vigil.PermSign)
	if err != nil {
		return "", vigil.StepUp{}, err
	}
	if s.Provider == nil {
		return "", vigil.StepUp{}, vigil.Errorf(vigil.ENOTFOUND, "signing through the provider needs single sign-on: sign with your password")
	}
	if a.System || a.UserID == 0 {
		return "", vigil.StepUp{}, vigil.Errorf(vigil.EFORBIDDEN, "a step-up signs as the signed-in person: sign in first")
	}
	if err := req.Meaning.Validate(); err != nil {
		return "", vigil.StepUp{}, err
	}
	if req.Kind == "" || req.RecordID <= 0 {
		return "", vigil.StepUp{}, vigil.Errorf(vigil.EINVALID, "kind and record_id: name the record to sign")
	}
	u, p := s.Provider.StepUpStart(vigil.StepUp{Kind: req.Kind, RecordID: req.RecordID, Meaning: req.Meaning,
		Asked: s.Clock.Now().UTC().Truncate(time.Second), Next: next})
	return u, p, nil
}

// FinishStepUp signs the record of the step-up p once the provider's answer (state, code) checks out: a fresh
// authentication, for this act, of the provider identity that belongs to the signed-in user (EFORBIDDEN when the
// provider signed in someone else). The signature's method is vigil.SignedWithSSO. Needs PermSign.
func (s *Service) FinishStepUp(ctx context.Context, p vigil.StepUp, state, code string) (*vigil.Signature, error) {
	a, err := vigil.Authorize(ctx, vigil.PermSign)
	if err != nil {
		return nil, err
	}
	if s.Provider == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "signing through the provider needs single sign-on: sign with your password")
	}
	id, err := s.Provider.StepUpFinish(ctx, p, state, code, s.Clock.Now())
	if err != nil {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the signature was not made: %s", vigil.ErrorMessage(err))
	}
	uid, err := s.Store.IdentityUser(ctx, id.Issuer, id.Subject)
	if err != nil && vigil.ErrorCode(err) != vigil.ENOTFOUND {
		return nil, err
	}
	if uid == 0 || uid != a.UserID {
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "the signature was not made: the provider signed in another account than yours (%s): sign in there as yourself", a.Name)
	}
	sig := &vigil.Signature{Kind: p.Kind, RecordID: p.RecordID, Meaning: p.Meaning, Method: vigil.SignedWithSSO}
	if err := s.Store.Sign(ctx, sig); err != nil {
		return nil, err
	}
	return sig, nil
}

// Signatures lists the signatures of the records of one kind with the given ids, oldest first, each marked Broken
// when its record changed since. Needs PermRead.
func (s *Service) Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*vigil.Signature, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Signatures(ctx, kind, recordIDs...)
}
