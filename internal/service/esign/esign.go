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
// OpenID Connect provider has no Vigil password: they step up (StartStepUp, FinishStepUp), a fresh authentication
// at the provider (prompt=login, max_age=0, auth_time checked) that the provider performs with both components,
// as at sign-in, and that issues a one-time signing code. The code stands for the password in one signature of
// the kind of record it was asked for, by that user, within vigil.SigningCodeTTL: it is shown once, stored as a
// hash, and redeemed in the transaction that records the signature, so it works the same in the browser, on the
// command line and through the API, and for an act whose record does not exist yet.
package esign

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// Store records signatures (the store).
type Store interface {
	// Sign records the signature p makes of the record of p.Kind with id recordID, in its current state,
	// redeeming p's one-time code if any (EUNAUTHORIZED when it was redeemed meanwhile or expired).
	Sign(ctx context.Context, p *vigil.ProvenSigner, recordID int64) (*vigil.Signature, error)
	Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*vigil.Signature, error)
	// IdentityUser returns the id of the user an OpenID Connect identity belongs to (ENOTFOUND when none).
	IdentityUser(ctx context.Context, issuer, subject string) (int64, error)
	// CreateSigningCode stores a one-time signing code by its hash, for user userID and one signature of kind, and
	// returns when it expires (vigil.SigningCodeTTL from now). EINVALID for a kind no signature may sign.
	CreateSigningCode(ctx context.Context, hash string, userID int64, kind string) (time.Time, error)
	// SigningCode returns a one-time signing code by its hash (ENOTFOUND when none).
	SigningCode(ctx context.Context, hash string) (*vigil.SigningCode, error)
	// UserByName returns a user by name (ENOTFOUND when none).
	UserByName(ctx context.Context, name string) (*vigil.User, error)
	// SignableKinds lists the kinds of record a signature may sign (the store's registry).
	SignableKinds() []string
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

// Sign re-authenticates req.Signer (Prove) and signs the record as them.
func (s *Service) Sign(ctx context.Context, req vigil.SignRequest) (*vigil.Signature, error) {
	p, err := s.Prove(ctx, req)
	if err != nil {
		return nil, err
	}
	return s.Store.Sign(ctx, p, req.RecordID)
}

// Prove re-authenticates req.Signer by name and password, or by name and one-time signing code, for a signature of
// req.Kind. Through a session or a token the caller can sign only as themself; the command line (the system actor)
// signs as whoever re-authenticates. The signer's own role must hold vigil.PermSign. A code is checked here and
// redeemed when the signature is recorded.
func (s *Service) Prove(ctx context.Context, req vigil.SignRequest) (*vigil.ProvenSigner, error) {
	a, err := vigil.Authorize(ctx, vigil.PermSign)
	if err != nil {
		return nil, err
	}
	if err := req.Meaning.Validate(); err != nil {
		return nil, err
	}
	req.Signer = strings.TrimSpace(req.Signer)
	req.Code = strings.TrimSpace(req.Code)
	switch {
	case req.Signer == "":
		return nil, vigil.Errorf(vigil.EINVALID, "signer: your user name, typed again, is the first component of the signature")
	case req.Password == "" && req.Code == "":
		return nil, vigil.Errorf(vigil.EINVALID, "password: required at every signing (21 CFR 11.200); or code: a one-time signing code from a fresh sign-in at your organization's provider (/sign/step-up)")
	case req.Password != "" && req.Code != "":
		return nil, vigil.Errorf(vigil.EINVALID, "password and code: give one, not both")
	case !a.System && a.Name != req.Signer:
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "you are signed in as %s: you can sign only as yourself", a.Name)
	}
	if req.Code == "" {
		u, err := s.Accounts.Authenticate(ctx, req.Signer, req.Password)
		if err != nil {
			return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the signature was not made: wrong user name or password")
		}
		return &vigil.ProvenSigner{UserID: u.ID, Name: u.Name, Role: u.Role, Kind: req.Kind, Meaning: req.Meaning, Method: vigil.SignedWithPassword}, nil
	}
	h := codeHash(req.Code)
	c, err := s.Store.SigningCode(ctx, h)
	if vigil.ErrorCode(err) == vigil.ENOTFOUND {
		return nil, refusedCode("the signing code is wrong")
	} else if err != nil {
		return nil, err
	}
	u, err := s.Store.UserByName(ctx, req.Signer)
	if err != nil && vigil.ErrorCode(err) != vigil.ENOTFOUND {
		return nil, err
	}
	switch {
	case u == nil || u.ID != c.UserID:
		return nil, refusedCode("the signing code is not yours: it was issued to another user")
	case u.Disabled:
		return nil, refusedCode("your account is disabled")
	case c.Kind != req.Kind:
		return nil, refusedCode(fmt.Sprintf("the signing code is not for this kind of record: it signs a %s, not a %s", c.Kind, req.Kind))
	case c.Used:
		return nil, refusedCode("the signing code was used already: each signs once")
	case c.Expired:
		return nil, refusedCode(fmt.Sprintf("the signing code expired (it is good for %s)", vigil.SigningCodeTTL))
	}
	return &vigil.ProvenSigner{UserID: u.ID, Name: u.Name, Role: u.Role, Kind: req.Kind, Meaning: req.Meaning, Method: vigil.SignedWithSSO, CodeHash: h}, nil
}

// Kinds lists the kinds of record a signature may sign, for which a step-up issues codes.
func (s *Service) Kinds() []string { return s.Store.SignableKinds() }

// StartStepUp asks for a one-time signing code for a signature of kind after a fresh sign-in at the provider: it
// returns the provider's authorization URL and the step-up the browser carries there and back (next is where to
// go after). Through a session only (a person at a browser); needs PermSign. ENOTFOUND without single sign-on.
func (s *Service) StartStepUp(ctx context.Context, kind, next string) (string, vigil.StepUp, error) {
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
	if kind == "" {
		return "", vigil.StepUp{}, vigil.Errorf(vigil.EINVALID, "kind: name the kind of record to sign")
	}
	u, p := s.Provider.StepUpStart(vigil.StepUp{Kind: kind, Asked: s.Clock.Now().UTC().Truncate(time.Second), Next: next})
	return u, p, nil
}

// FinishStepUp issues a one-time signing code for the step-up p once the provider's answer (state, code) checks
// out: a fresh authentication, for this step-up, of the provider identity that belongs to the signed-in user
// (EFORBIDDEN when the provider signed in someone else). It returns the code, shown once to its user and stored
// hashed, and when it expires. Needs PermSign.
func (s *Service) FinishStepUp(ctx context.Context, p vigil.StepUp, state, code string) (string, time.Time, error) {
	a, err := vigil.Authorize(ctx, vigil.PermSign)
	if err != nil {
		return "", time.Time{}, err
	}
	if s.Provider == nil {
		return "", time.Time{}, vigil.Errorf(vigil.ENOTFOUND, "signing through the provider needs single sign-on: sign with your password")
	}
	id, err := s.Provider.StepUpFinish(ctx, p, state, code, s.Clock.Now())
	if err != nil {
		return "", time.Time{}, vigil.Errorf(vigil.EUNAUTHORIZED, "no signing code was issued: %s", vigil.ErrorMessage(err))
	}
	uid, err := s.Store.IdentityUser(ctx, id.Issuer, id.Subject)
	if err != nil && vigil.ErrorCode(err) != vigil.ENOTFOUND {
		return "", time.Time{}, err
	}
	if uid == 0 || uid != a.UserID {
		return "", time.Time{}, vigil.Errorf(vigil.EFORBIDDEN, "no signing code was issued: the provider signed in another account than yours (%s): sign in there as yourself", a.Name)
	}
	c := newCode()
	expires, err := s.Store.CreateSigningCode(ctx, codeHash(c), a.UserID, p.Kind)
	if err != nil {
		return "", time.Time{}, err
	}
	return c, expires, nil
}

// refusedCode is a signing refused for its code: what is wrong and what to do.
func refusedCode(why string) error {
	return vigil.Errorf(vigil.EUNAUTHORIZED, "the signature was not made: %s: get a new one (/sign/step-up)", why)
}

// newCode is a one-time signing code: 100 random bits as five groups of four base32 letters and digits, typed or
// pasted at the signing.
func newCode() string {
	b := make([]byte, 13)
	rand.Read(b)
	t := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:20]
	return t[0:4] + "-" + t[4:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20]
}

// codeHash is how a code is stored and looked up: its SHA-256, over the code as typed in any case and with or
// without its dashes.
func codeHash(c string) string {
	c = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), "-", ""))
	sum := sha256.Sum256([]byte("vigil signing code\n" + c))
	return hex.EncodeToString(sum[:])
}

// Signatures lists the signatures of the records of one kind with the given ids, oldest first, each marked Broken
// when its record changed since. Needs PermRead.
func (s *Service) Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*vigil.Signature, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Signatures(ctx, kind, recordIDs...)
}
