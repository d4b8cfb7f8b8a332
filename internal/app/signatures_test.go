package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestActSignatures takes every act that needs a Part 11 signature through the services as wired for `vigil serve`
// and the command line, on both engines: unsigned it is refused naming the signature field, with a wrong password
// it is refused too, and neither writes anything (the audit trail's head stays where it was); signed, the act and
// its signature are recorded together, and the signature's manifestation names the signer, the meaning and the
// record. The events a person types that are such acts (a customer notified, a validated fix, an 806 report filed)
// are gated the same way and sign the event itself. The case's evidence package then carries every signature and the signing policy, and verifies offline.
// An admin switches one act's requirement off, only with a reason, which the next package states.
func TestActSignatures(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) { actSignatures(t, engine) })
	}
}

func actSignatures(t *testing.T, engine string) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	ctx := app.CLIContext(context.Background())
	a, err := app.Open(ctx, storetest.MigratedDSN(t, engine), nil, app.WithAuditKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	must := storetest.Must(t)
	const pw = "correct horse battery staple"
	must(a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", RegistrationNumber: "2950123", TimeZone: "America/Chicago"}))
	must(a.Accounts.CreateUser(ctx, &vigil.User{Name: "ada", Role: vigil.RoleAdmin}, pw))
	must(a.Accounts.SetFullName(ctx, "ada", "Ada R. Lovelace"))
	d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k,
		Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}, {Name: "event log", Severity: vigil.HarmNegligible}}}
	must(a.Portfolio.CreateDevice(ctx, d))
	v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.0", Status: vigil.VersionMarketed, UnitsFielded: 30}
	must(a.Portfolio.CreateVersion(ctx, v))
	must(a.Portfolio.CreateVersion(ctx, &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.1"}))
	must(a.Portfolio.CreateConsignee(ctx, &vigil.Consignee{Name: "General Hospital", Emails: []string{"biomed@general.example"}, Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 30}}}))
	learned := a.Cases.Today(ctx).AddDays(-2)
	openCase := func(vuln string) int64 {
		t.Helper()
		f := &vigil.Finding{VersionID: v.ID, Vulnerability: vuln, Source: "manual", Component: vigil.Component{Name: "wolfssl", Version: "4.8.1"}, Learned: learned}
		must(a.Cases.CreateFinding(ctx, f, "supplier bulletin"))
		return f.CaseID
	}
	uncontrolled := cases.AssessInput{Date: learned, CVSS: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Functions: []string{"dose delivery"}, Rationale: "remote dose change"}
	controlled := cases.AssessInput{Date: learned, ConfidentialityOnly: true, Functions: []string{"event log"}, Rationale: "only the event log is exposed"}
	good := &vigil.SignRequest{Meaning: vigil.MeaningApproval, Signer: "ada", Password: pw}
	// The cases the acts need, assessed through the service (signed: the determination needs it too).
	// typed holds the events a person types that are signed acts: they sign the event itself.
	main, ctl, typed := openCase("CVE-2026-1001"), openCase("CVE-2026-1002"), openCase("CVE-2026-1003")
	for id, in := range map[int64]cases.AssessInput{main: uncontrolled, ctl: controlled, typed: uncontrolled} {
		in.CaseID, in.Signature = id, good
		_, err := a.Cases.Assess(ctx, in)
		must(err)
	}
	fixes, err := a.Remediation.AddFix(ctx, &vigil.FixRelease{CaseID: main, Release: "2.1", Remediation: vigil.RemediationPatch})
	must(err)
	fixID := fixes.Fixes[0].ID
	draft := func() int64 {
		n, err := a.Notices.DraftNotice(ctx, []int64{main}, 0)
		must(err)
		return n.ID
	}
	notice := draft()

	// Each act: do it with a signature (nil for none), and the kind and id of the record its signature signs.
	lastAct := func(act vigil.SignedAct, caseID int64) signed {
		v, err := a.Cases.CaseView(ctx, caseID, vigil.Date{})
		must(err)
		for i := len(v.Acts) - 1; i >= 0; i-- {
			if v.Acts[i].Act == act {
				return signed{string(act), v.Acts[i].ID}
			}
		}
		return signed{}
	}
	for _, tc := range []struct {
		act  vigil.SignedAct
		text string // the act as the refusal names it
		do   func(sig *vigil.SignRequest) (signed, error)
	}{
		{vigil.ActDetermination, "recording a determination (assessment)", func(sig *vigil.SignRequest) (signed, error) {
			in := uncontrolled
			in.CaseID, in.Signature, in.Rationale = main, sig, "reassessed after the supplier's analysis"
			x, err := a.Cases.Assess(ctx, in)
			if err != nil {
				return signed{}, err
			}
			return signed{"assessment", x.ID}, nil
		}},
		{vigil.ActPart806Filing, "marking an 806 report or amendment filed", func(sig *vigil.SignRequest) (signed, error) {
			r, err := a.Reports.File806(ctx, main, vigil.Date{}, "eSubmitter 12345", sig)
			if err != nil {
				return signed{}, err
			}
			return signed{regdocs.SignKind, r.ID}, nil
		}},
		{vigil.ActPart80620, "signing off an 806.20 record", func(sig *vigil.SignRequest) (signed, error) {
			so, err := a.Reports.SignOff80620(ctx, ctl, "RA review", sig)
			if err != nil {
				return signed{}, err
			}
			return signed{regdocs.SignKind, so.ID}, nil
		}},
		{vigil.ActPremarket, "recording a premarket decision", func(sig *vigil.SignRequest) (signed, error) {
			p, err := a.Reports.DecidePremarket(ctx, main, regdocs.PremarketDecision{Decision: regdocs.PremarketNone, Basis: "patch within the cleared design"}, "RA review", sig)
			if err != nil {
				return signed{}, err
			}
			return signed{regdocs.SignKind, p.ID}, nil
		}},
		{vigil.ActFixValidation, "recording a fix's V&V (validating the fix)", func(sig *vigil.SignRequest) (signed, error) {
			vv := vigil.VVRecord{Protocol: "VVP-7", Report: "VVR-7", Result: vigil.VVPassed, Approver: "QA lead", Validated: a.Cases.Today(ctx)}
			if _, err := a.Remediation.SetVV(ctx, fixID, vv, "", sig); err != nil {
				return signed{}, err
			}
			return lastAct(vigil.ActFixValidation, main), nil
		}},
		{vigil.ActNoticeRelease, "releasing a customer notice", func(sig *vigil.SignRequest) (signed, error) {
			if _, err := a.Notices.SendNotice(ctx, notice, "the fix date is not known yet", sig); err != nil {
				return signed{}, err
			}
			return lastAct(vigil.ActNoticeRelease, main), nil
		}},
		{vigil.ActCaseClosure, "closing a case", func(sig *vigil.SignRequest) (signed, error) {
			if err := a.Cases.SetCaseState(ctx, ctl, vigil.CaseClosed, "not reported: 806.20 record signed off", sig); err != nil {
				return signed{}, err
			}
			return lastAct(vigil.ActCaseClosure, ctl), nil
		}},
		{vigil.ActNoticeRelease, "a customer_notified event records releasing a customer notice, which", typedEvent(a, typed, regulatory.EventCustomerNotified, vigil.EventData{Elements: []string{"a", "b", "c", "d"}})},
		{vigil.ActFixValidation, "a fix_distributed event records recording a fix's V&V (validating the fix), which", typedEvent(a, typed, regulatory.EventFixDistributed, vigil.EventData{Validated: true, Remediation: vigil.RemediationPatch})},
		{vigil.ActPart806Filing, "a part806_filed event records marking an 806 report or amendment filed, which", typedEvent(a, typed, regulatory.EventPart806Filed, vigil.EventData{})},
	} {
		name := string(tc.act)
		if strings.HasPrefix(tc.text, "a ") {
			name += "/typed_event"
		}
		t.Run(name, func(t *testing.T) {
			head := func() int64 {
				t.Helper()
				evs, err := a.Audit.Events(ctx, vigil.AuditFilter{Limit: 1})
				if err != nil || len(evs) != 1 {
					t.Fatalf("trail head: %v", err)
				}
				return evs[0].Seq
			}
			for _, bad := range []struct {
				name string
				sig  *vigil.SignRequest
				code string
				want string
			}{
				{"unsigned", nil, vigil.EINVALID, "signature: required: " + tc.text + " needs a Part 11 signature (meaning, user, password"},
				{"wrong password", &vigil.SignRequest{Meaning: vigil.MeaningApproval, Signer: "ada", Password: "wrong"}, vigil.EUNAUTHORIZED, "wrong user name or password"},
				{"no meaning", &vigil.SignRequest{Signer: "ada", Password: pw}, vigil.EINVALID, "signature.meaning"},
			} {
				before := head()
				_, err := tc.do(bad.sig)
				if vigil.ErrorCode(err) != bad.code || !strings.Contains(vigil.ErrorMessage(err), bad.want) {
					t.Errorf("%s: %v (%s), want %s naming %q", bad.name, err, vigil.ErrorCode(err), bad.code, bad.want)
				}
				if after := head(); after != before {
					t.Errorf("%s: the refused act wrote %d audit events", bad.name, after-before)
				}
			}
			before := head()
			rec, err := tc.do(good)
			if err != nil {
				t.Fatalf("signed: %v", err)
			}
			sigs, err := a.Signing.Signatures(ctx, rec.kind, rec.id)
			if err != nil || len(sigs) != 1 {
				t.Fatalf("signatures of %s %d: %v %v", rec.kind, rec.id, sigs, err)
			}
			m := sigs[0].Manifest(a.Cases.Zone(ctx))
			if !strings.HasPrefix(m, "Electronically signed by Ada R. Lovelace (ada) on ") || !strings.Contains(m, " for approval; signs "+rec.kind) || sigs[0].Broken {
				t.Errorf("manifestation: %s", m)
			}
			// The act and its signature are one transaction's: the signature's event follows the act's directly, at
			// the same transaction time.
			evs, err := a.Audit.Events(ctx, vigil.AuditFilter{Limit: int(head() - before)})
			must(err)
			n := 0
			for i, e := range evs { // newest first
				if e.Action == "signature.sign" && e.ObjectType == rec.kind && e.ObjectID == strconv.FormatInt(rec.id, 10) {
					n++
					if i+1 == len(evs) || !evs[i+1].Time.Equal(e.Time) || evs[i+1].Action == "signature.sign" {
						t.Errorf("the signature's event is not the act's transaction's: %+v", evs)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d signature events for %s %d", n, rec.kind, rec.id)
			}
		})
	}

	// The switch-off: an admin only, with a reason; the act then goes unsigned, and the packages state it.
	if _, err := a.Signing.SetRequirement(ctx, vigil.ActPremarket, false, " "); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "reason") {
		t.Errorf("switching off without a reason: %v", err)
	}
	psirt := vigil.WithActor(context.Background(), vigil.Actor{UserID: 99, Name: "pat", Role: vigil.RolePSIRT})
	if _, err := a.Signing.SetRequirement(psirt, vigil.ActPremarket, false, "not ours"); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
		t.Errorf("a PSIRT member switches it off: %v", err)
	}
	_, err = a.Signing.SetRequirement(ctx, vigil.ActPremarket, false, "SOP-RA-4: premarket decisions are signed on paper in the DHF")
	must(err)
	if _, err := a.Reports.DecidePremarket(ctx, main, regdocs.PremarketDecision{Decision: regdocs.PremarketNone, Basis: "unchanged"}, "", nil); err != nil {
		t.Errorf("an unsigned premarket decision once the requirement is off: %v", err)
	}
	// A typed event that is no signed act takes no signature; one whose act is switched off records unsigned.
	if _, err := typedEvent(a, typed, regulatory.EventInterimControls, vigil.EventData{})(good); vigil.ErrorCode(err) != vigil.EINVALID ||
		!strings.Contains(vigil.ErrorMessage(err), "signature: a interim_controls event is not an act that is signed") {
		t.Errorf("a signed interim_controls event: %v", err)
	}
	if _, err := typedEvent(a, typed, regulatory.EventFixDistributed, vigil.EventData{Remediation: vigil.RemediationPatch})(nil); err != nil {
		t.Errorf("an unvalidated fix_distributed (no signed act): %v", err)
	}
	_, err = a.Signing.SetRequirement(ctx, vigil.ActNoticeRelease, false, "SOP-CN-2: notices are approved in the QMS")
	must(err)
	rec, err := typedEvent(a, typed, regulatory.EventCustomerNotified, vigil.EventData{Elements: []string{"a", "b", "c", "d"}})(nil)
	if err != nil {
		t.Errorf("an unsigned customer_notified once the requirement is off: %v", err)
	} else if sigs, err := a.Signing.Signatures(ctx, rec.kind, rec.id); err != nil || len(sigs) != 0 {
		t.Errorf("the unsigned event has signatures %v %v", sigs, err)
	}

	for _, caseID := range []int64{main, ctl, typed} {
		var buf bytes.Buffer
		if _, err := a.Evidence.ExportCase(ctx, caseID, &buf); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		must(err)
		rep, err := audit.VerifyPackage(zr, key.Public().(ed25519.PublicKey))
		if err != nil || len(rep.Problems) > 0 {
			t.Fatalf("case %d package: %v %v", caseID, err, rep.Problems)
		}
		files := map[string]string{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			var b bytes.Buffer
			b.ReadFrom(rc)
			rc.Close()
			files[f.Name] = b.String()
		}
		policy := files["signing-policy.txt"]
		if !strings.Contains(policy, "recording a premarket decision (premarket): NOT REQUIRED since ") || !strings.Contains(policy, "SOP-RA-4: premarket decisions are signed on paper") ||
			!strings.Contains(policy, "closing a case (case_closure): required (the default)") {
			t.Errorf("case %d signing-policy.txt:\n%s", caseID, policy)
		}
		want := map[int64][]string{main: {"signs assessment", "signs regdoc_record", "signs fix_validation", "signs notice_release"}, ctl: {"signs assessment", "signs regdoc_record", "signs case_closure"},
			typed: {"signs assessment", "signs case_event"}}[caseID]
		for _, w := range want {
			if !strings.Contains(files["case/signatures.txt"], w) {
				t.Errorf("case %d signatures.txt lacks %q:\n%s", caseID, w, files["case/signatures.txt"])
			}
		}
	}
}

// typedEvent is an act of TestActSignatures: a person types an event of typ on the case (cases.AddEvent), which
// signs the event itself when it is a signed act.
func typedEvent(a *app.App, caseID int64, typ string, d vigil.EventData) func(*vigil.SignRequest) (signed, error) {
	return func(sig *vigil.SignRequest) (signed, error) {
		ctx := app.CLIContext(context.Background())
		e := &vigil.CaseEvent{CaseID: caseID, Type: typ, Date: a.Cases.Today(ctx), Details: d, Note: "typed: " + typ}
		if err := a.Cases.AddEvent(ctx, e, sig); err != nil {
			return signed{}, err
		}
		return signed{vigil.KindCaseEvent, e.ID}, nil
	}
}

// signed names the record an act's signature signs: its kind and id.
type signed struct {
	kind string
	id   int64
}

// unsigned switches every signature requirement off, for a test whose acts are not about signing
// (TestActSignatures is).
func unsigned(t testing.TB, a *app.App) {
	t.Helper()
	for _, act := range vigil.SignedActs {
		if _, err := a.Signing.SetRequirement(app.CLIContext(context.Background()), act, false, "test not about Part 11 signatures"); err != nil {
			t.Fatal(err)
		}
	}
}
