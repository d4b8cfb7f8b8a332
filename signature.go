package vigil

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// SignatureMeaning is what a 21 CFR Part 11 electronic signature means (11.50(a)(3)): the signer authored the
// record, reviewed it, approved it, or takes responsibility for it.
type SignatureMeaning string

// Signature meanings.
const (
	MeaningAuthorship     SignatureMeaning = "authorship"
	MeaningReview         SignatureMeaning = "review"
	MeaningApproval       SignatureMeaning = "approval"
	MeaningResponsibility SignatureMeaning = "responsibility"
)

// SignatureMeanings lists the meanings.
var SignatureMeanings = []SignatureMeaning{MeaningAuthorship, MeaningReview, MeaningApproval, MeaningResponsibility}

func (m SignatureMeaning) Validate() error { return OneOf("meaning", m, SignatureMeanings) }
func (m SignatureMeaning) MarshalText() ([]byte, error) {
	return marshalWord("meaning", m, SignatureMeanings)
}
func (m *SignatureMeaning) UnmarshalText(b []byte) error {
	return unmarshalWord("meaning", m, b, SignatureMeanings)
}

// The ways a signer proves who they are at the moment of signing (11.200(a)).
const (
	SignedWithPassword = "password" // user name and password, both components, at every signing
	SignedWithSSO      = "oidc"     // a fresh sign-in at the organization's OpenID Connect provider
)

// Signature is a Part 11 electronic signature: who signed (the user and their printed name), when, what it means,
// and the record it signs, bound to the hash of that record's state at signing (RecordHash, the audit trail's
// record hash) so that it cannot be copied to another record or survive a change of the one it signed (11.70).
type Signature struct {
	ID       int64            `json:"id"`
	Kind     string           `json:"kind"` // the kind of record signed: assessment, case_event, ...
	RecordID int64            `json:"record_id"`
	Meaning  SignatureMeaning `json:"meaning"`
	Signer   string           `json:"signer"`       // the user name
	Printed  string           `json:"printed_name"` // the signer's printed (full) name, as at signing
	SignedAt time.Time        `json:"signed_at"`
	Method   string           `json:"method"` // SignedWithPassword or SignedWithSSO
	// RecordHash is the state of the record the signature signs (internal/audit.RowHash).
	RecordHash string `json:"record_hash"`
	// Broken is set when the record no longer has the state it was signed in: the signature does not apply to it.
	Broken bool `json:"broken,omitempty"`
}

// Manifest is the signature's manifestation (11.50): the printed name, the date and time with its zone, the
// meaning, and the state of the record signed. Every screen, export and document that shows a signed record
// shows this line with it.
func (s *Signature) Manifest(loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	line := fmt.Sprintf("Electronically signed by %s (%s) on %s for %s; signs %s %d in state sha256:%s",
		s.Printed, s.Signer, s.SignedAt.In(loc).Format("2006-01-02 15:04:05 MST (-07:00)"), s.Meaning, s.Kind, s.RecordID, short(s.RecordHash))
	if s.Broken {
		line += " — BROKEN: the record changed after it was signed"
	}
	return line
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// SignRequest asks to sign one record. The signer proves who they are again at signing (11.200(a)(1)): their
// user name and password, every time, whether or not they signed earlier in the same session; or, for a user who
// signs in through the organization's OpenID Connect provider and has no Vigil password, their user name and a
// one-time signing code (Code) that a fresh sign-in at the provider gave them (the step-up, /sign/step-up).
type SignRequest struct {
	Kind     string           `json:"kind"`
	RecordID int64            `json:"record_id"`
	Meaning  SignatureMeaning `json:"meaning"`
	// Signer is the user name, typed again; through a session or token it must be the signed-in user.
	Signer   string `json:"signer"`
	Password string `json:"password,omitempty"`
	// Code is a one-time signing code, given instead of Password: good for one signature of the kind of record it
	// was issued for, by the user it was issued to, within SigningCodeTTL of the fresh sign-in.
	Code string `json:"code,omitempty"`
}

// SigningCodeTTL is how long a one-time signing code stays good after the fresh sign-in that issued it.
const SigningCodeTTL = 5 * time.Minute

// SigningCode is a one-time signing code as stored (by its hash): whose it is, the kind of record it may sign,
// until when, and whether it was used or has expired.
type SigningCode struct {
	UserID  int64
	Kind    string
	Expires time.Time
	Used    bool
	Expired bool
}

// ProvenSigner is a signer re-authenticated for one signing that is yet to be recorded (SignatureService.Prove):
// an act that must be signed (closing a case, releasing a notice ...) proves its signer before it writes anything,
// then records itself and the signature in one transaction. The one-time code it was proven with, if any, is
// redeemed in that transaction, so that a code signs once and a refused act leaves it unused.
type ProvenSigner struct {
	UserID  int64
	Name    string
	Role    string
	Kind    string // the kind of record the signature signs
	Meaning SignatureMeaning
	Method  string // SignedWithPassword or SignedWithSSO
	// CodeHash names the one-time signing code to redeem ("" when the signer typed a password).
	CodeHash string
}

// SignatureService signs records and lists their signatures. Every service whose records need a Part 11
// signature (determinations, notices, 806 records) calls Sign with the kind it registered.
type SignatureService interface {
	// Sign re-authenticates the signer and signs the record in its current state. EUNAUTHORIZED when the name and
	// password (or one-time code: unknown, expired, used, another user's or another kind's) do not check out; EFORBIDDEN when the caller is not the signer or the signer's role may not sign;
	// EINVALID for an unknown kind or meaning, or a signer without a printed name; ENOTFOUND for no such record;
	// ECONFLICT when the signer already signed this state of the record with this meaning.
	Sign(ctx context.Context, req SignRequest) (*Signature, error)
	// Prove re-authenticates the signer of req for a signing of req.Kind and meaning req.Meaning (its RecordID
	// unused), writing nothing: the act's service then records the act and the signature in one transaction
	// (the store's signing of a ProvenSigner). The same errors as Sign for the signer.
	Prove(ctx context.Context, req SignRequest) (*ProvenSigner, error)
	// Signatures lists the signatures of the records of one kind with the given ids, oldest first, each marked
	// Broken when its record changed since. Needs PermRead.
	Signatures(ctx context.Context, kind string, recordIDs ...int64) ([]*Signature, error)
	// Requirements are the organization's signature requirements, one per act of SignedActs (required unless an
	// admin switched it off). Needs PermRead.
	Requirements(ctx context.Context) ([]SignatureRequirement, error)
	// SetRequirement switches act's requirement on or off with a reason (EINVALID without one). Needs PermUsers.
	SetRequirement(ctx context.Context, act SignedAct, required bool, reason string) (*SignatureRequirement, error)
}

// SignedAct is an act that needs a Part 11 signature when the organization requires one (every act by default):
// the signature is carried by the act's own request and recorded in the act's own transaction.
type SignedAct string

// The acts a signature may be required for.
const (
	ActDetermination SignedAct = "determination"  // a case's assessment, which the determination follows
	ActNoticeRelease SignedAct = "notice_release" // the send of a customer notice (it records customer_notified)
	ActPart806Filing SignedAct = "part806_filing" // an 806.10 report or its 806.10(d) amendment marked filed
	ActPart80620     SignedAct = "part806_20"     // the sign-off of an 806.20 record of a correction not reported
	ActPremarket     SignedAct = "premarket"      // a premarket-submission decision
	ActFixValidation SignedAct = "fix_validation" // a fix's V&V record, which makes the fix validated
	ActCaseClosure   SignedAct = "case_closure"   // closing a case
)

// SignedActs lists the acts, in the order of a case's life.
var SignedActs = []SignedAct{ActDetermination, ActNoticeRelease, ActPart806Filing, ActPart80620, ActPremarket, ActFixValidation, ActCaseClosure}

// signedActText says what each act is, in the words of a refusal ("closing a case needs a Part 11 signature").
var signedActText = map[SignedAct]string{
	ActDetermination: "recording a determination (assessment)",
	ActNoticeRelease: "releasing a customer notice",
	ActPart806Filing: "marking an 806 report or amendment filed",
	ActPart80620:     "signing off an 806.20 record",
	ActPremarket:     "recording a premarket decision",
	ActFixValidation: "recording a fix's V&V (validating the fix)",
	ActCaseClosure:   "closing a case",
}

// Text is what the act is, in a sentence.
func (a SignedAct) Text() string { return signedActText[a] }

func (a SignedAct) Validate() error { return OneOf("act", a, SignedActs) }

// SignatureRequirement is the organization's setting for one act: whether it needs a Part 11 signature. Every act
// needs one unless an admin switched the requirement off, with a reason; each change is kept (SetBy, SetAt) and
// the evidence package's statements show the settings in force.
type SignatureRequirement struct {
	ID       int64     `json:"id,omitempty"` // the change in force (0: never changed, the default)
	Act      SignedAct `json:"act"`
	Required bool      `json:"required"`
	Reason   string    `json:"reason,omitempty"` // why it was last changed ("" while never changed: the default)
	SetBy    string    `json:"set_by,omitempty"`
	SetAt    time.Time `json:"set_at,omitzero"`
}

type signingKey struct{}

// WithSigning returns ctx carrying p, the signer proven for an act about to be recorded: the store that records
// the act signs the record it writes as p, in the act's own transaction. Only the signature service (esign's
// SignAct) sets it, once p is proven.
func WithSigning(ctx context.Context, p ProvenSigner) context.Context {
	return context.WithValue(ctx, signingKey{}, p)
}

// SigningFrom returns the proven signer ctx carries, if any.
func SigningFrom(ctx context.Context) (ProvenSigner, bool) {
	p, ok := ctx.Value(signingKey{}).(ProvenSigner)
	return p, ok
}

// ActSigner gates the acts that may need a Part 11 signature (esign.Service). Every service that records such an
// act calls SignAct first, with the signature its request carries (nil for none), and records the act through the
// context it returns.
type ActSigner interface {
	// SignAct re-authenticates req's signer for act, writing nothing, and returns ctx carrying the signing (and
	// the signer as the actor when the caller is the system: the command line acts as the person who signs).
	// The signature will sign a record of kind: "" for the act's own record (an assessment, an 806 record, the
	// act record of a closure ...), or another kind when the act is recorded otherwise (KindCaseEvent: a
	// hand-typed event that is the act); a one-time signing code must have been issued for that kind.
	// Without req it returns ctx as it is when the organization does not require a signature for act, else
	// EINVALID naming the field "signature". EUNAUTHORIZED when the name and password do not check out.
	SignAct(ctx context.Context, act SignedAct, kind string, req *SignRequest) (context.Context, error)
}

// KindCaseEvent is the kind of record a case event's signature signs: the event itself (its row's hash). A
// hand-typed event that is a signed act (a customer notified, an 806 report filed, a validated fix distributed)
// is signed as one.
const KindCaseEvent = "case_event"

// ActRecord is what a signed act did to an object that changes afterwards (a case closed, a fix validated, a notice
// released), as it was at that moment: the signature of the act signs it (kind: the act).
type ActRecord struct {
	ID         int64           `json:"id"`
	Act        SignedAct       `json:"act"`
	CaseID     int64           `json:"case_id,omitempty"`
	ObjectType string          `json:"object_type"` // case, fix_release, notice
	ObjectID   int64           `json:"object_id"`
	Body       json.RawMessage `json:"body"`
	Actor      string          `json:"actor"`
	CreatedAt  time.Time       `json:"created_at"`
}

// ActRecordFilter selects act records: of a case, or of one object (ObjectType and ObjectID).
type ActRecordFilter struct {
	CaseID     int64
	ObjectType string
	ObjectID   int64
}

// GateAct is how a service asks signer (its ActSigner) to gate act with the signature its request carries (nil for
// none), and records the act through the context returned. A service built without a signer (a test of
// something else) records acts unsigned and refuses a signature it has no way to check.
func GateAct(ctx context.Context, signer ActSigner, act SignedAct, req *SignRequest) (context.Context, error) {
	return GateActOn(ctx, signer, act, "", req)
}

// GateActOn is GateAct for an act recorded as a record of kind rather than its own (ActSigner.SignAct).
func GateActOn(ctx context.Context, signer ActSigner, act SignedAct, kind string, req *SignRequest) (context.Context, error) {
	if signer != nil {
		return signer.SignAct(ctx, act, kind, req)
	}
	if req != nil {
		return nil, Errorf(EINTERNAL, "signature: this service was built without electronic signatures")
	}
	return ctx, nil
}
