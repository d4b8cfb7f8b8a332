package cases_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// code fails the test unless err has the code want and its message holds part.
func code(t *testing.T, what string, err error, want, part string) {
	t.Helper()
	if vigil.ErrorCode(err) != want || !strings.Contains(vigil.ErrorMessage(err), part) {
		t.Errorf("%s: %v, want %s with %q", what, err, want, part)
	}
}

// TestSplitCase: two CVEs united by a shared GHSA alias into one case are split apart (the second's finding moves,
// the alias goes with it, D0 is kept, the alias search finds each in any letter case on both engines); a report
// covering a second device opens the case there; every wrong split is refused naming the field.
func TestSplitCase(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		v2 := &vigil.DeviceVersion{DeviceID: fx.device.ID, Version: "3.3", UnitsFielded: 10}
		if err := fx.db.CreateVersion(ctx, v2); err != nil {
			t.Fatal(err)
		}
		lib := func(v string) vigil.Component {
			return vigil.Component{Name: "libxml2", Version: v, Purl: "pkg:generic/libxml2@" + v}
		}
		if _, _, err := fx.db.SyncFindings(ctx, v2.ID, []vigil.Finding{
			{Component: lib("2.9.1"), Vulnerability: "CVE-2024-1111", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}},
			{Component: lib("2.9.1"), Vulnerability: "CVE-2024-2222", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}},
		}); err != nil {
			t.Fatal(err)
		}
		united, err := fx.svc.Cases(ctx, vigil.CaseFilter{Vuln: "ghsa-AAAA-bbbb-cccc"})
		if err != nil || len(united) != 1 {
			t.Fatalf("one case by the GHSA alias in another letter case: %v %v", united, err)
		}
		c := united[0]
		fs, _ := fx.svc.Findings(ctx, vigil.FindingFilter{CaseID: c.ID})
		var second int64
		for _, f := range fs {
			if f.Vulnerability == "CVE-2024-2222" {
				second = f.ID
			}
		}
		if len(fs) != 2 || second == 0 || !slices.Contains(c.Aliases, "CVE-2024-2222") {
			t.Fatalf("the united case: %+v with findings %v", c, fs)
		}
		other := &vigil.Device{Name: "Infusion Pump IP-4", Class: "II", Pathway: vigil.Pathway510k}
		if err := fx.db.CreateDevice(ctx, other); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name       string
			in         vigil.SplitInput
			code, part string
		}{
			{"no reason", vigil.SplitInput{CaseID: c.ID, Findings: []int64{second}, Vulnerability: "CVE-2024-2222"}, vigil.EINVALID, "reason:"},
			{"nothing named", vigil.SplitInput{CaseID: c.ID, Reason: "r"}, vigil.EINVALID, "findings:"},
			{"the same vulnerability on the same device", vigil.SplitInput{CaseID: c.ID, Findings: []int64{second}, Reason: "r"}, vigil.EINVALID, "vulnerability:"},
			{"a finding of another case", vigil.SplitInput{CaseID: c.ID, Findings: []int64{fx.finding.ID}, Vulnerability: "CVE-2024-2222", Reason: "r"}, vigil.ECONFLICT, "findings: finding"},
			{"findings to another device", vigil.SplitInput{CaseID: c.ID, Findings: []int64{second}, DeviceID: other.ID, Reason: "r"}, vigil.EINVALID, "stays on its device"},
			{"no such case", vigil.SplitInput{CaseID: 999, Findings: []int64{second}, Vulnerability: "CVE-2024-2222", Reason: "r"}, vigil.ENOTFOUND, "case"},
		} {
			_, err := fx.svc.SplitCase(ctx, tt.in)
			code(t, tt.name, err, tt.code, tt.part)
		}
		nc, err := fx.svc.SplitCase(ctx, vigil.SplitInput{CaseID: c.ID, Findings: []int64{second}, Vulnerability: "CVE-2024-2222", Reason: "GHSA-aaaa-bbbb-cccc names two CVEs"})
		if err != nil {
			t.Fatal(err)
		}
		if nc.DeviceID != c.DeviceID || !nc.Learned.Equal(c.Learned) || nc.State != vigil.CaseOpen {
			t.Errorf("new case %+v: want the device and D0 of %+v", nc, c)
		}
		v, err := fx.svc.CaseView(ctx, nc.ID, vigil.Date{})
		if err != nil || len(v.Versions) != 1 || v.Versions[0].FindingID != second || len(v.Assessments) != 0 {
			t.Fatalf("new case view: %+v %v", v, err)
		}
		for id, want := range map[string]int64{"cve-2024-2222": nc.ID, "CVE-2024-1111": c.ID} {
			got, err := fx.svc.Cases(ctx, vigil.CaseFilter{Vuln: id})
			if err != nil || len(got) != 1 || got[0].ID != want {
				t.Errorf("case list --vuln %s: %v %v, want case %d", id, got, err, want)
			}
		}
		old, _ := fx.svc.CaseView(ctx, c.ID, vigil.Date{})
		if len(old.Versions) != 1 || slices.Contains(old.Case.Aliases, "CVE-2024-2222") {
			t.Errorf("the original after the split: %+v, aliases %v", old.Versions, old.Case.Aliases)
		}
		// A report covering a second device: the case opens there, learned the same day, with nothing moved.
		oc, err := fx.svc.SplitCase(ctx, vigil.SplitInput{CaseID: c.ID, DeviceID: other.ID, Reason: "VR-7 covers both pumps"})
		if err != nil {
			t.Fatal(err)
		}
		if oc.DeviceID != other.ID || oc.Vulnerability != c.Vulnerability || !oc.Learned.Equal(c.Learned) {
			t.Errorf("case on the other device: %+v", oc)
		}
		if _, err := fx.svc.SplitCase(ctx, vigil.SplitInput{CaseID: c.ID, DeviceID: other.ID, Reason: "again"}); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("a second case of the vulnerability on the other device: %v, want ECONFLICT", err)
		}
		evs, err := fx.db.Events(ctx, vigil.AuditFilter{Action: "case.split"})
		if err != nil || len(evs) != 2 {
			t.Errorf("case.split events: %d %v, want 2", len(evs), err)
		}
	})
}

// TestOwnerVEXSupersede: a case is given to a user and found by its owner; each version has its own VEX status (one
// not_affected with a justification while another is affected), the newest standing; a corrected assessment
// supersedes the first, which stays on the record, and the determination follows the correction.
func TestOwnerVEXSupersede(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		caseID := fx.finding.CaseID
		if err := fx.db.CreateUser(ctx, &vigil.User{Name: "rae", Role: vigil.RolePSIRT}, "correct horse battery staple"); err != nil {
			t.Fatal(err)
		}
		code(t, "owner not a user", fx.svc.SetCaseOwner(ctx, caseID, "nobody", "r"), vigil.EINVALID, "owner:")
		code(t, "owner without a reason", fx.svc.SetCaseOwner(ctx, caseID, "rae", ""), vigil.EINVALID, "reason:")
		if err := fx.svc.SetCaseOwner(ctx, caseID, "rae", "on call"); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			f    vigil.CaseFilter
			want int
		}{{vigil.CaseFilter{Owner: "rae"}, 1}, {vigil.CaseFilter{Owner: "bob"}, 0}, {vigil.CaseFilter{NoOwner: true}, 0}} {
			if got, err := fx.svc.Cases(ctx, tt.f); err != nil || len(got) != tt.want {
				t.Errorf("%+v: %d cases (%v), want %d", tt.f, len(got), err, tt.want)
			}
		}
		if err := fx.svc.SetCaseOwner(ctx, caseID, "", "back to the queue"); err != nil {
			t.Fatal(err)
		}
		if got, _ := fx.svc.Cases(ctx, vigil.CaseFilter{NoOwner: true}); len(got) != 1 || got[0].Owner != "" {
			t.Errorf("unowned: %+v", got)
		}

		// VEX per version: 3.2 is affected, 3.1 (no finding) not affected with a justification; 3.2 then fixed.
		v31 := &vigil.DeviceVersion{DeviceID: fx.device.ID, Version: "3.1", UnitsFielded: 5}
		if err := fx.db.CreateVersion(ctx, v31); err != nil {
			t.Fatal(err)
		}
		v32 := fx.finding.VersionID
		for _, x := range []vigil.VersionVEX{
			{VersionID: v32, Status: vigil.VEXAffected, ActionStatement: "Update to 3.2.1", Reason: "reproduced in the lab"},
			{VersionID: v31.ID, Status: vigil.VEXNotAffected, Justification: vigil.JustNotInExecutePath, ImpactStatement: "the REST service is off in 3.1", Reason: "code review CR-88"},
			{VersionID: v32, Status: vigil.VEXFixed, FixedIn: "3.2.1", Reason: "3.2.1 validated (VV-12)"},
		} {
			x.CaseID = caseID
			if err := fx.svc.SetVersionVEX(ctx, &x); err != nil {
				t.Fatal(err)
			}
		}
		code(t, "not_affected without a why", fx.svc.SetVersionVEX(ctx, &vigil.VersionVEX{CaseID: caseID, VersionID: v31.ID, Status: vigil.VEXNotAffected, Reason: "r"}), vigil.EINVALID, "justification:")
		other := &vigil.Device{Name: "Other", Class: "II", Pathway: vigil.Pathway510k}
		if err := fx.db.CreateDevice(ctx, other); err != nil {
			t.Fatal(err)
		}
		ov := &vigil.DeviceVersion{DeviceID: other.ID, Version: "1.0"}
		if err := fx.db.CreateVersion(ctx, ov); err != nil {
			t.Fatal(err)
		}
		code(t, "a version of another device", fx.svc.SetVersionVEX(ctx, &vigil.VersionVEX{CaseID: caseID, VersionID: ov.ID, Status: vigil.VEXAffected, Reason: "r"}), vigil.EINVALID, "version_id:")
		v, err := fx.svc.CaseView(ctx, caseID, vigil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, x := range v.VEX {
			got[x.Version] = string(x.Status) + " " + string(x.Justification) + x.FixedIn
		}
		want := map[string]string{"3.2": "fixed 3.2.1", "3.1": "not_affected vulnerable_code_not_in_execute_path"}
		if len(got) != 2 || got["3.2"] != want["3.2"] || got["3.1"] != want["3.1"] {
			t.Errorf("standing VEX: %v, want %v", got, want)
		}
		if len(v.Versions) != 1 || v.Versions[0].VEX == nil || v.Versions[0].VEX.Status != vigil.VEXFixed {
			t.Errorf("the finding's version row: %+v", v.Versions)
		}
		made, err := fx.svc.SetCaseVEX(ctx, caseID, vigil.VersionVEX{Status: vigil.VEXUnderInvestigation, Reason: "supplier bulletin re-opened it"})
		if err != nil || len(made) != 1 || made[0].VersionID != v32 {
			t.Errorf("the status for every affected version: %v %v", made, err)
		}

		// Supersede: the first assessment said uncontrolled; the correction, entered later, says controlled.
		first, err := fx.svc.Assess(ctx, assessIn(caseID, "uncontrolled", "entered with the wrong matrix"))
		if err != nil {
			t.Fatal(err)
		}
		fixed, err := fx.svc.Assess(ctx, assessIn(caseID, "controlled", "the device's own matrix decides"))
		if err != nil {
			t.Fatal(err)
		}
		ev := &vigil.CaseEvent{CaseID: caseID, Type: "interim_controls", Date: vigil.NewDate(2025, 6, 2), Note: "SG-7"}
		if err := fx.svc.RecordEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		ref := func(k string, id int64) string { return vigil.RecordRef{Kind: k, ID: id}.String() }
		for _, tt := range []struct {
			name, by, part string
		}{
			{"itself", ref(vigil.RecordAssessment, first.ID), "cannot replace"},
			{"another kind", ref(vigil.RecordEvent, ev.ID), "cannot replace"},
			{"not a record", "A999", "not a standing record"},
			{"not a reference", "X1", "superseded_by:"},
		} {
			code(t, "superseded by "+tt.name, fx.svc.Retract(ctx, &vigil.Retraction{CaseID: caseID, Record: vigil.RecordRef{Kind: vigil.RecordAssessment, ID: first.ID},
				SupersededBy: tt.by, Reason: "r"}), vigil.EINVALID, tt.part)
		}
		if err := fx.svc.Retract(ctx, &vigil.Retraction{CaseID: caseID, Record: vigil.RecordRef{Kind: vigil.RecordAssessment, ID: first.ID},
			SupersededBy: strings.ToLower(ref(vigil.RecordAssessment, fixed.ID)), Reason: "the matrix was the organization's, not the device's"}); err != nil {
			t.Fatal(err)
		}
		v, err = fx.svc.CaseView(ctx, caseID, vigil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Withdrawn) != 1 || v.Withdrawn[0].Assessment.ID != first.ID || v.Withdrawn[0].Retraction.SupersededBy != ref(vigil.RecordAssessment, fixed.ID) {
			t.Errorf("withdrawn: %+v", v.Withdrawn)
		}
		if v.Determination == nil || v.Determination.Risk != vigil.RiskControlled {
			t.Errorf("the determination after the correction: %+v (%s)", v.Determination, v.Problem)
		}
	})
}

// assessIn is a dated assessment of case id recording risk, as an assessor made it elsewhere.
func assessIn(id int64, risk vigil.Risk, why string) cases.AssessInput {
	return cases.AssessInput{CaseID: id, Date: vigil.NewDate(2025, 6, 2), Risk: risk, RiskReason: why, Severity: vigil.HarmCritical,
		SeverityReason: "dose delivery", Exploitability: vigil.ExploitabilityHigh, ExploitabilityReason: "network, no authentication", Rationale: why}
}
