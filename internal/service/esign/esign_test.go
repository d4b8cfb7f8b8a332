package esign_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/service/accounts"
	"github.com/vigil-dev/vigil/internal/service/esign"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// provider is a step-up provider that vouches for whoever the test says (TestSSOStepUpSigning runs the real one
// against an in-test OpenID Connect provider).
type provider struct{ id vigil.SSOIdentity }

func (p *provider) StepUpStart(s vigil.StepUp) (string, vigil.StepUp) {
	return "https://idp.example/auth", s
}
func (p *provider) StepUpFinish(context.Context, vigil.StepUp, string, string, time.Time) (vigil.SSOIdentity, error) {
	if p.id.Subject == "" {
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the provider did not authenticate you again")
	}
	return p.id, nil
}

type fixture struct {
	db      *store.DB
	svc     *esign.Service
	idp     *provider
	clock   *storetest.Clock
	event   int64 // a case event, the record the tests sign
	regdoc  int64 // a regulatory record
	ann     context.Context
	annUser *vigil.User
}

// newFixture is a store with two SSO users (ann, psirt; ben, regulatory), a password user (pat), a case event and
// a regulatory record to sign.
func newFixture(t *testing.T, engine string) *fixture {
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db := storetest.Open(t, engine, clock)
	ctx := storetest.Admin()
	must := storetest.Must(t)
	must(db.CreateOrg(ctx, &vigil.Organization{Name: "Acme", TimeZone: "UTC"}))
	d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}
	must(db.CreateDevice(ctx, d))
	v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.0", UnitsFielded: 10}
	must(db.CreateVersion(ctx, v))
	fd := &vigil.Finding{VersionID: v.ID, Vulnerability: "CVE-2026-0001"}
	must(db.CreateFinding(ctx, fd, "researcher report"))
	e := &vigil.CaseEvent{CaseID: fd.CaseID, Type: "correction_initiated", Date: vigil.DateOf(clock.T, time.UTC), Note: "CAPA-7"}
	must(db.AddCaseEvent(ctx, e))
	rec := &vigil.RegRecord{Kind: vigil.RegPremarket, CaseID: fd.CaseID, Date: vigil.DateOf(clock.T, time.UTC), Body: []byte(`{"decision":"none","basis":"patch"}`)}
	must(db.AddRegRecord(ctx, rec, "premarket decision"))
	var ann *vigil.User
	for _, u := range []struct{ sub, name, role string }{{"s-ann", "ann", vigil.RolePSIRT}, {"s-ben", "ben", vigil.RoleRegulatory}} {
		x, err := db.SSOUser(context.Background(), vigil.SSOIdentity{Issuer: "https://idp.example", Subject: u.sub, Name: u.name, Role: u.role})
		must(err)
		must(db.SetFullName(ctx, u.name, strings.ToUpper(u.name[:1])+u.name[1:]+" Fixture"))
		if ann == nil {
			ann = x
		}
	}
	must(db.CreateUser(ctx, &vigil.User{Name: "pat", Role: vigil.RoleRegulatory}, "correct horse battery staple"))
	must(db.SetFullName(ctx, "pat", "Pat Fixture"))
	idp := &provider{}
	return &fixture{db: db, idp: idp, clock: clock, event: e.ID, regdoc: rec.ID, annUser: ann,
		ann: vigil.WithActor(context.Background(), vigil.Actor{UserID: ann.ID, Name: ann.Name, Role: ann.Role}),
		svc: &esign.Service{Store: db, Accounts: &accounts.Service{Store: db}, Provider: idp, Clock: clock}}
}

// code steps up as the context's user with the provider vouching for subject, for a code of kind.
func (f *fixture) code(t *testing.T, ctx context.Context, subject, kind string) (string, error) {
	t.Helper()
	_, p, err := f.svc.StartStepUp(ctx, kind, "/")
	if err != nil {
		t.Fatal(err)
	}
	f.idp.id = vigil.SSOIdentity{Issuer: "https://idp.example", Subject: subject}
	c, exp, err := f.svc.FinishStepUp(ctx, p, p.State, "provider-code")
	if err == nil && (exp.Sub(f.clock.T) > vigil.SigningCodeTTL || exp.Sub(f.clock.T) < vigil.SigningCodeTTL-time.Second) {
		t.Errorf("the code expires at %v: not %s from now (%v)", exp, vigil.SigningCodeTTL, f.clock.T)
	}
	return c, err
}

// TestSigningCodes: a step-up issues a code only for the signed-in user's own identity at the provider; the code
// signs one record of its kind, as its user, once, before it expires, typed in any case and without its dashes; a
// signing refused after the code checked out (no such record) leaves it unused; two signings racing with one code
// make one signature. Both engines.
func TestSigningCodes(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			f := newFixture(t, engine)
			if _, err := f.code(t, f.ann, "s-ben", "case_event"); vigil.ErrorCode(err) != vigil.EFORBIDDEN || !strings.Contains(err.Error(), "another account") {
				t.Errorf("the provider vouching for ben to ann's session: %v", err)
			}
			if _, err := f.code(t, f.ann, "", "case_event"); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED || !strings.Contains(err.Error(), "no signing code was issued") {
				t.Errorf("a refused step-up: %v", err)
			}
			if _, err := f.code(t, f.ann, "s-ann", "device"); vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("a code for a kind no signature signs: %v", err)
			}
			c, err := f.code(t, f.ann, "s-ann", "case_event")
			if err != nil || len(c) != 24 || strings.Count(c, "-") != 4 {
				t.Fatalf("code = %q, %v", c, err)
			}
			req := vigil.SignRequest{Kind: "case_event", RecordID: 999, Meaning: vigil.MeaningReview, Signer: "ann", Code: strings.ToLower(strings.ReplaceAll(c, "-", ""))}
			if _, err := f.svc.Sign(f.ann, req); vigil.ErrorCode(err) != vigil.ENOTFOUND {
				t.Fatalf("signing no such record: %v", err)
			}
			req.RecordID = f.event
			sig, err := f.svc.Sign(f.ann, req)
			if err != nil || sig.Method != vigil.SignedWithSSO || sig.Signer != "ann" || sig.Printed != "Ann Fixture" {
				t.Fatalf("Sign with the code after a refused signing = %+v, %v", sig, err)
			}
			req.Meaning = vigil.MeaningApproval
			if _, err := f.svc.Sign(f.ann, req); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED || !strings.Contains(err.Error(), "used already") {
				t.Errorf("the code again: %v", err)
			}

			// Racing: both prove the code, one signature is made.
			c, _ = f.code(t, f.ann, "s-ann", "regdoc_record")
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, m := range []vigil.SignatureMeaning{vigil.MeaningReview, vigil.MeaningApproval} {
				p, err := f.svc.Prove(f.ann, vigil.SignRequest{Kind: "regdoc_record", Meaning: m, Signer: "ann", Code: c})
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = f.db.Sign(f.ann, p, f.regdoc)
				}()
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) || vigil.ErrorCode(errs[0])+vigil.ErrorCode(errs[1]) != vigil.EUNAUTHORIZED {
				t.Errorf("two signings with one code: %v, %v; want one signature and one EUNAUTHORIZED", errs[0], errs[1])
			}
			if sigs, _ := f.db.Signatures(storetest.Admin(), "regdoc_record", f.regdoc); len(sigs) != 1 {
				t.Errorf("%d signatures of the record, want 1", len(sigs))
			}

			// Expired.
			c, _ = f.code(t, f.ann, "s-ann", "regdoc_record")
			f.clock.Advance(vigil.SigningCodeTTL)
			if _, err := f.svc.Sign(f.ann, vigil.SignRequest{Kind: "regdoc_record", RecordID: f.regdoc, Meaning: vigil.MeaningReview, Signer: "ann", Code: c}); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED || !strings.Contains(err.Error(), "expired") {
				t.Errorf("an expired code: %v", err)
			}
		})
	}
}

// TestProve: a signer proves who they are with a password or a code, not both nor neither; through a session only
// as themself; the command line (the system actor) as whoever the code or password is; a disabled user's code, a
// code for another kind or of another user are refused; Prove writes nothing. SQLite (the store's side runs on
// both engines in TestSigningCodes).
func TestProve(t *testing.T) {
	f := newFixture(t, store.SQLite)
	c, err := f.code(t, f.ann, "s-ann", "case_event")
	if err != nil {
		t.Fatal(err)
	}
	ben := vigil.WithActor(context.Background(), vigil.Actor{UserID: f.annUser.ID + 1, Name: "ben", Role: vigil.RoleRegulatory})
	for _, tc := range []struct {
		name string
		ctx  context.Context
		req  vigil.SignRequest
		code string
		says string
	}{
		{"neither", f.ann, vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ann"}, vigil.EINVALID, "password: required"},
		{"both", f.ann, vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ann", Password: "x", Code: c}, vigil.EINVALID, "not both"},
		{"as another", ben, vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ann", Code: c}, vigil.EFORBIDDEN, "only as yourself"},
		{"another's code", ben, vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ben", Code: c}, vigil.EUNAUTHORIZED, "not yours"},
		{"another kind", f.ann, vigil.SignRequest{Kind: "assessment", Meaning: vigil.MeaningReview, Signer: "ann", Code: c}, vigil.EUNAUTHORIZED, "it signs a case_event, not a assessment"},
		{"a wrong code", f.ann, vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ann", Code: "AAAA-AAAA-AAAA-AAAA-AAAA"}, vigil.EUNAUTHORIZED, "is wrong"},
		{"a wrong password", storetest.Admin(), vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "pat", Password: "wrong"}, vigil.EUNAUTHORIZED, "wrong user name or password"},
	} {
		if _, err := f.svc.Prove(tc.ctx, tc.req); vigil.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %s saying %q", tc.name, err, tc.code, tc.says)
		}
	}
	p, err := f.svc.Prove(storetest.Admin(), vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ann", Code: c})
	if err != nil || p.UserID != f.annUser.ID || p.Method != vigil.SignedWithSSO || p.CodeHash == "" || strings.Contains(p.CodeHash, c) {
		t.Fatalf("the command line proving ann's code = %+v, %v", p, err)
	}
	if p, err := f.svc.Prove(storetest.Admin(), vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "pat", Password: "correct horse battery staple"}); err != nil || p.Method != vigil.SignedWithPassword || p.CodeHash != "" {
		t.Fatalf("pat's password = %+v, %v", p, err)
	}
	if sigs, _ := f.db.Signatures(storetest.Admin(), "case_event", f.event); len(sigs) != 0 {
		t.Errorf("Prove wrote %d signatures", len(sigs))
	}
	if err := f.db.SetUserDisabled(storetest.Admin(), "ann", true, "left"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Prove(storetest.Admin(), vigil.SignRequest{Kind: "case_event", Meaning: vigil.MeaningReview, Signer: "ann", Code: c}); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("a disabled user's code: %v", err)
	}
}
