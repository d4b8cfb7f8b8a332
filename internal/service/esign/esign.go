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
// OpenID Connect provider has no Vigil password; they are refused here until the provider step-up is wired in.
package esign

import (
	"context"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Store records signatures (the store): the signer is the context's actor.
type Store interface {
	Sign(ctx context.Context, s *vigil.Signature) error
	Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*vigil.Signature, error)
}

// Authenticator checks a user name and password (the accounts use case).
type Authenticator interface {
	Authenticate(ctx context.Context, name, password string) (*vigil.User, error)
}

// Service signs records. It implements vigil.SignatureService.
type Service struct {
	Store    Store
	Accounts Authenticator
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

// Signatures lists the signatures of the records of one kind with the given ids, oldest first, each marked Broken
// when its record changed since. Needs PermRead.
func (s *Service) Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*vigil.Signature, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Signatures(ctx, kind, recordIDs...)
}
