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
	SignatureRequirements(ctx context.Context) ([]*vigil.SignatureRequirement, error)
	SetSignatureRequirement(ctx context.Context, r *vigil.SignatureRequirement) error
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

var (
	_ vigil.SignatureService = (*Service)(nil)
	_ vigil.ActSigner        = (*Service)(nil)
)

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

// SignAct gates an act that may need a Part 11 signature (vigil.ActSigner): with req, it re-authenticates the
// signer before anything is written and returns ctx carrying the signing, which the store records with the act in
// the act's own transaction; without req, the act goes ahead unsigned only when the organization switched the
// requirement off for it. The signature signs a record of kind, the act's own (actKinds) when kind is "". The
// command line (the system actor) acts as the person who signs.
func (s *Service) SignAct(ctx context.Context, act vigil.SignedAct, kind string, req *vigil.SignRequest) (context.Context, error) {
	if err := act.Validate(); err != nil {
		return nil, err
	}
	if kind == "" {
		kind = actKinds[act]
	}
	if req == nil {
		r, err := s.Requirement(ctx, act)
		if err != nil {
			return nil, err
		}
		if r.Required {
			return nil, vigil.Errorf(vigil.EINVALID, "signature: required: %s needs a Part 11 signature (meaning, user, password or one-time signing code)", act.Text())
		}
		return ctx, nil
	}
	proof := *req
	proof.Kind, proof.RecordID = kind, 0
	p, err := s.Prove(ctx, proof)
	if err != nil {
		return nil, signatureField(err)
	}
	if a, _ := vigil.ActorFrom(ctx); a.System {
		ctx = vigil.WithActor(ctx, vigil.Actor{UserID: p.UserID, Name: p.Name, Role: p.Role})
	}
	return vigil.WithSigning(ctx, *p), nil
}

// actKinds is the kind of record each act's signature signs: the act's own record (an assessment, an 806 record),
// or its act record (store's recordAct) for the acts whose object changes later. A one-time signing code is asked
// for this kind.
var actKinds = map[vigil.SignedAct]string{
	vigil.ActDetermination: "assessment",
	vigil.ActPart806Filing: "regdoc_record",
	vigil.ActPart80620:     "regdoc_record",
	vigil.ActPremarket:     "regdoc_record",
	vigil.ActNoticeRelease: string(vigil.ActNoticeRelease),
	vigil.ActFixValidation: string(vigil.ActFixValidation),
	vigil.ActCaseClosure:   string(vigil.ActCaseClosure),
}

// signatureField names the request's signature object in a refusal of its fields ("signature.meaning: ...").
func signatureField(err error) error {
	if vigil.ErrorCode(err) != vigil.EINVALID {
		return err
	}
	return vigil.Errorf(vigil.EINVALID, "signature.%s", vigil.ErrorMessage(err))
}

// Requirements are the organization's signature requirements, one per act in vigil.SignedActs order: each the
// newest change, or required (the default) when never changed. Needs PermRead.
func (s *Service) Requirements(ctx context.Context) ([]vigil.SignatureRequirement, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	changes, err := s.Store.SignatureRequirements(ctx)
	if err != nil {
		return nil, err
	}
	now := map[vigil.SignedAct]vigil.SignatureRequirement{}
	for _, c := range changes {
		now[c.Act] = *c
	}
	out := make([]vigil.SignatureRequirement, 0, len(vigil.SignedActs))
	for _, act := range vigil.SignedActs {
		r, ok := now[act]
		if !ok {
			r = vigil.SignatureRequirement{Act: act, Required: true}
		}
		out = append(out, r)
	}
	return out, nil
}

// Requirement is the organization's signature requirement for one act. Needs PermRead.
func (s *Service) Requirement(ctx context.Context, act vigil.SignedAct) (vigil.SignatureRequirement, error) {
	rs, err := s.Requirements(ctx)
	if err != nil {
		return vigil.SignatureRequirement{}, err
	}
	for _, r := range rs {
		if r.Act == act {
			return r, nil
		}
	}
	return vigil.SignatureRequirement{}, act.Validate()
}

// SetRequirement switches the signature requirement of act on or off, with the reason (required either way:
// switching a Part 11 control off must say why), audited and shown in the evidence package's statements. Needs
// PermUsers (an admin).
func (s *Service) SetRequirement(ctx context.Context, act vigil.SignedAct, required bool, reason string) (*vigil.SignatureRequirement, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return nil, err
	}
	r := &vigil.SignatureRequirement{Act: act, Required: required, Reason: strings.TrimSpace(reason)}
	if err := s.Store.SetSignatureRequirement(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

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
