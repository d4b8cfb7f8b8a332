package remediation_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/service/remediation"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture: an infusion pump with two fielded versions (3.2: 100 units, 3.3: 40), both affected by one case learned
// on 2025-06-02 and assessed uncontrolled, two consignees holding units of them, and the clock at 2025-06-10.
type fixture struct {
	db       *store.DB
	clock    *storetest.Clock
	svc      *remediation.Service
	caseID   int64
	v32, v33 *vigil.DeviceVersion
	general  *vigil.Consignee
	county   *vigil.Consignee
	fix      *vigil.DeviceVersion
	findings []*vigil.Finding
}

func (fx *fixture) at(day string) {
	d, _ := vigil.ParseDate(day)
	fx.clock.T = d.Time().Add(17 * time.Hour)
}

func each(t *testing.T, fn func(t *testing.T, fx *fixture)) {
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) { fn(t, setup(t, e)) })
	}
}

func setup(t *testing.T, engine string) *fixture {
	t.Helper()
	clock := storetest.NewClock(time.Date(2025, 6, 2, 17, 0, 0, 0, time.UTC))
	db := storetest.Open(t, engine, clock)
	ctx := storetest.Admin()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("org", db.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago",
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 15), Documents: vigil.EvidenceNotes("m.pdf", "p.pdf", "s.log", "sop")}}}))
	d := &vigil.Device{Name: "Infusion Pump IP-3", Class: "II", Pathway: vigil.Pathway510k,
		Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}}}
	must("device", db.CreateDevice(ctx, d))
	fx := &fixture{db: db, clock: clock}
	fx.v32 = &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.2", UnitsFielded: 100}
	fx.v33 = &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.3", UnitsFielded: 40}
	fx.fix = &vigil.DeviceVersion{DeviceID: d.ID, Version: "3.4", Status: vigil.VersionInDevelopment}
	for _, v := range []*vigil.DeviceVersion{fx.v32, fx.v33, fx.fix} {
		must("version", db.CreateVersion(ctx, v))
	}
	fx.general = &vigil.Consignee{Name: "General Hospital", Units: []vigil.ConsigneeUnit{{VersionID: fx.v32.ID, Units: 60}, {VersionID: fx.v33.ID, Units: 40}}}
	fx.county = &vigil.Consignee{Name: "County Clinic", Units: []vigil.ConsigneeUnit{{VersionID: fx.v32.ID, Units: 40}}}
	must("consignee", db.CreateConsignee(ctx, fx.general))
	must("consignee", db.CreateConsignee(ctx, fx.county))
	lib := vigil.Component{Name: "wolfssl", Version: "4.8.1", Purl: "pkg:generic/wolfssl@4.8.1"}
	for _, v := range []*vigil.DeviceVersion{fx.v32, fx.v33} { // matched on 2025-06-02: D0
		_, _, err := db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: lib, Vulnerability: "CVE-2025-0001"}})
		must("match", err)
		fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
		must("findings", err)
		fx.findings = append(fx.findings, fs...)
	}
	fx.at("2025-06-10")
	if len(fx.findings) == 0 {
		t.Fatal("no finding matched")
	}
	fx.caseID = fx.findings[0].CaseID
	if len(fx.findings) != 2 || fx.findings[1].CaseID != fx.caseID {
		t.Fatalf("the two findings are on cases %d and %d, want one case", fx.caseID, fx.findings[1].CaseID)
	}
	cs := &cases.Service{Store: db, Clock: clock}
	_, err := cs.Assess(ctx, cases.AssessInput{CaseID: fx.caseID, Date: vigil.NewDate(2025, 6, 3), CVSS: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		Functions: []string{"dose delivery"}, Rationale: "remote dose change"})
	must("assess", err)
	fx.svc = &remediation.Service{Store: db, Cases: cs}
	return fx
}

func plan(fx *fixture) *vigil.RemediationPlan {
	return &vigil.RemediationPlan{CaseID: fx.caseID, Date: vigil.NewDate(2025, 6, 9), FixRelease: "3.4", TargetDate: vigil.NewDate(2025, 7, 20),
		Cycle: vigil.CycleOutOfCycle, SSVC: "out-of-cycle (out-of-cycle cycle)", Rationale: "the TLS library update needs a full regression run (3 weeks)",
		Controls: []vigil.CompensatingControl{{What: "Put the pumps on a dedicated VLAN", Documented: "IFU §7.3", Since: vigil.NewDate(2025, 6, 5)}}}
}

func criterion(t *testing.T, fx *fixture, n int) string {
	t.Helper()
	v, err := fx.svc.Cases.CaseView(storetest.Admin(), fx.caseID, vigil.Date{})
	if err != nil {
		t.Fatal(err)
	}
	return v.Determination.EnforcementDiscretion.Criteria[n-1].Status
}

func eventTypes(t *testing.T, fx *fixture) []string {
	t.Helper()
	es, err := fx.db.CaseEvents(storetest.Admin(), fx.caseID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

// TestPlanVersionsAndEvents: every change of the plan is a new version, kept with its reason; the first plan
// records remediation_plan and interim_controls on the case (once), and nobody types them.
func TestPlanVersionsAndEvents(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		r, err := fx.svc.SetPlan(ctx, plan(fx))
		if err != nil {
			t.Fatal(err)
		}
		if r.Plan == nil || r.Plan.Version != 1 || len(r.History) != 1 {
			t.Fatalf("after the first plan: %+v", r)
		}
		p2 := plan(fx)
		p2.Date, p2.TargetDate, p2.Reason = vigil.NewDate(2025, 6, 10), vigil.NewDate(2025, 7, 25), "regression found a defect"
		if _, err := fx.svc.SetPlan(ctx, p2); err != nil {
			t.Fatal(err)
		}
		r, err = fx.svc.Remediation(ctx, fx.caseID)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, p := range r.History {
			got = append(got, fmt.Sprintf("%s v%d %s", p.TargetDate, p.Version, p.Reason))
		}
		if diff := cmp.Diff([]string{"2025-07-20 v1 ", "2025-07-25 v2 regression found a defect"}, got); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if r.Plan.Version != 2 {
			t.Errorf("plan in force is version %d, want 2", r.Plan.Version)
		}
		if diff := cmp.Diff([]string{regulatory.EventRemediationPlan, regulatory.EventInterimControls}, eventTypes(t, fx)); diff != "" {
			t.Errorf("case events (-want +got):\n%s", diff)
		}
		for _, bad := range []struct {
			name string
			edit func(p *vigil.RemediationPlan)
			code string
			msg  string
		}{
			{"no reason for a new version", func(p *vigil.RemediationPlan) {}, vigil.EINVALID, "reason: required"},
			{"no rationale", func(p *vigil.RemediationPlan) { p.Rationale, p.Reason = " ", "x" }, vigil.EINVALID, "rationale: required"},
			{"unknown cycle", func(p *vigil.RemediationPlan) { p.Cycle, p.Reason = "whenever", "x" }, vigil.EINVALID, "cycle:"},
			{"release without target", func(p *vigil.RemediationPlan) { p.TargetDate, p.Reason = vigil.Date{}, "x" }, vigil.EINVALID, "target_date:"},
			{"control undocumented", func(p *vigil.RemediationPlan) { p.Controls[0].Documented, p.Reason = "", "x" }, vigil.EINVALID, "controls[0].documented:"},
			{"control in the future", func(p *vigil.RemediationPlan) { p.Controls[0].Since, p.Reason = vigil.NewDate(2025, 6, 30), "x" }, vigil.EINVALID, "controls[0].since:"},
			{"before D0", func(p *vigil.RemediationPlan) { p.Date, p.Reason = vigil.NewDate(2025, 5, 1), "x" }, vigil.EINVALID, "date:"},
			{"nothing planned", func(p *vigil.RemediationPlan) {
				p.FixRelease, p.TargetDate, p.Cycle, p.Controls, p.Reason = "", vigil.Date{}, "", nil, "x"
			}, vigil.EINVALID, "plan:"},
			{"unknown case", func(p *vigil.RemediationPlan) { p.CaseID, p.Reason = 999, "x" }, vigil.ENOTFOUND, ""},
		} {
			t.Run(bad.name, func(t *testing.T) {
				p := plan(fx)
				bad.edit(p)
				_, err := fx.svc.SetPlan(ctx, p)
				if vigil.ErrorCode(err) != bad.code || !strings.Contains(vigil.ErrorMessage(err), bad.msg) {
					t.Errorf("err = %v, want %s containing %q", err, bad.code, bad.msg)
				}
			})
		}
		if _, err := fx.svc.SetPlan(storetest.As("vera", vigil.RoleViewer), plan(fx)); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("a viewer sets a plan: %v, want EFORBIDDEN", err)
		}
	})
}

// TestFixValidatedDistributedMeetsCriterion3: a fix is distributed only after a passed V&V, and its distribution
// records the validated fix_distributed event that meets ED criterion 3, exactly once.
func TestFixValidatedDistributedMeetsCriterion3(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		r, err := fx.svc.AddFix(ctx, &vigil.FixRelease{CaseID: fx.caseID, Release: "3.4", Description: "wolfSSL 5.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		fix := r.Fixes[0]
		if fix.VersionID != fx.fix.ID || fix.Remediation != vigil.RemediationPatch {
			t.Errorf("fix = %+v: want version %d linked by name and a patch", fix, fx.fix.ID)
		}
		fx.at("2025-07-20")
		dist := vigil.Distribution{Date: vigil.NewDate(2025, 7, 18), Channel: "remote update"}
		if _, err := fx.svc.Distribute(ctx, fix.ID, dist, ""); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), "no V&V record") {
			t.Errorf("distribute before V&V: %v", err)
		}
		failed := vigil.VVRecord{Protocol: "VVP-88", Report: "VVR-88", Result: vigil.VVFailed, Approver: "J. Quality", Validated: vigil.NewDate(2025, 7, 10)}
		if _, err := fx.svc.SetVV(ctx, fix.ID, failed, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Distribute(ctx, fix.ID, dist, ""); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), "V&V failed") {
			t.Errorf("distribute after a failed V&V: %v", err)
		}
		passed := failed
		passed.Report, passed.Result, passed.Validated = "VVR-89", vigil.VVPassed, vigil.NewDate(2025, 7, 15)
		if _, err := fx.svc.SetVV(ctx, fix.ID, passed, "", nil); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("replace a V&V record without a reason: %v", err)
		}
		if _, err := fx.svc.SetVV(ctx, fix.ID, passed, "re-run after the defect fix", nil); err != nil {
			t.Fatal(err)
		}
		if got := criterion(t, fx, 3); got != "pending" {
			t.Errorf("criterion 3 before distribution = %s, want pending", got)
		}
		early := dist
		early.Date = vigil.NewDate(2025, 7, 14)
		if _, err := fx.svc.Distribute(ctx, fix.ID, early, ""); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), "before the fix was validated") {
			t.Errorf("distribute before validation: %v", err)
		}
		r, err = fx.svc.Distribute(ctx, fix.ID, dist, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Fixes[0].EventID == 0 {
			t.Error("the distributed fix names no case event")
		}
		if got := criterion(t, fx, 3); got != "met" {
			t.Errorf("criterion 3 after a validated distribution on day 46 = %s, want met", got)
		}
		es, _ := fx.db.CaseEvents(ctx, fx.caseID)
		if len(es) != 1 || es[0].Type != regulatory.EventFixDistributed || !es[0].Details.Validated || es[0].Date.String() != "2025-07-18" ||
			!strings.Contains(es[0].Note, "VVR-89 passed") {
			t.Errorf("events = %+v", es)
		}
		if _, err := fx.svc.Distribute(ctx, fix.ID, dist, ""); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("distribute twice: %v", err)
		}
		if _, err := fx.svc.SetVV(ctx, fix.ID, passed, "again", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("change the V&V of a distributed fix: %v", err)
		}
		if _, err := fx.svc.Sync(ctx, fx.caseID); err != nil {
			t.Fatal(err)
		}
		if n := len(eventTypes(t, fx)); n != 1 {
			t.Errorf("after a sync, %d events: the fix was recorded again", n)
		}
	})
}

// TestDeploymentMetrics: units updated per consignee and version, and a version whose SBOM no longer carries the
// component, make the PM2025 figures: days to patch, days from patch to field, percent of units remediated.
func TestDeploymentMetrics(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		r, err := fx.svc.AddFix(ctx, &vigil.FixRelease{CaseID: fx.caseID, Release: "3.4"})
		if err != nil {
			t.Fatal(err)
		}
		fixID := r.Fixes[0].ID
		fx.at("2025-08-20")
		if _, err := fx.svc.SetVV(ctx, fixID, vigil.VVRecord{Protocol: "P", Report: "R", Result: vigil.VVPassed, Approver: "QA", Validated: vigil.NewDate(2025, 7, 1)}, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Distribute(ctx, fixID, vigil.Distribution{Date: vigil.NewDate(2025, 7, 2), Channel: "service bulletin SB-7"}, ""); err != nil {
			t.Fatal(err)
		}
		for _, d := range []vigil.Deployment{
			{ConsigneeID: fx.general.ID, VersionID: fx.v32.ID, Date: vigil.NewDate(2025, 7, 10), Units: 20},
			{ConsigneeID: fx.county.ID, VersionID: fx.v32.ID, Date: vigil.NewDate(2025, 7, 10), Units: 40},
			{ConsigneeID: fx.general.ID, VersionID: fx.v32.ID, Date: vigil.NewDate(2025, 7, 20), Units: 60},
		} {
			d.CaseID = fx.caseID
			if _, err := fx.svc.AddDeployment(ctx, &d); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []struct {
			name string
			d    vigil.Deployment
			msg  string
		}{
			{"more units than held", vigil.Deployment{ConsigneeID: fx.county.ID, VersionID: fx.v32.ID, Date: vigil.NewDate(2025, 7, 21), Units: 41}, "units: 41 updated, but"},
			{"no units of the version", vigil.Deployment{ConsigneeID: fx.county.ID, VersionID: fx.v33.ID, Date: vigil.NewDate(2025, 7, 21), Units: 1}, "consignee:"},
			{"an unaffected version", vigil.Deployment{ConsigneeID: fx.county.ID, VersionID: fx.fix.ID, Date: vigil.NewDate(2025, 7, 21), Units: 1}, "version:"},
			{"negative", vigil.Deployment{ConsigneeID: fx.county.ID, VersionID: fx.v32.ID, Date: vigil.NewDate(2025, 7, 21), Units: -1}, "units:"},
			{"in the future", vigil.Deployment{ConsigneeID: fx.county.ID, VersionID: fx.v32.ID, Date: vigil.NewDate(2025, 9, 1), Units: 1}, "date:"},
		} {
			t.Run(bad.name, func(t *testing.T) {
				bad.d.CaseID = fx.caseID
				if _, err := fx.svc.AddDeployment(ctx, &bad.d); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), bad.msg) {
					t.Errorf("err = %v, want EINVALID containing %q", err, bad.msg)
				}
			})
		}
		r, err = fx.svc.Remediation(ctx, fx.caseID)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Metrics
		if m.Units != 140 || m.Remediated != 100 || m.Percent != 71.4 || m.DaysToPatch == nil || *m.DaysToPatch != 30 || m.DaysToField != nil {
			t.Errorf("metrics with 3.3 not updated = %+v", m)
		}
		// 3.3's SBOM is re-imported without the vulnerable component: its finding resolves, its 40 units count.
		fx.at("2025-08-01")
		if _, _, err := fx.db.SyncFindings(ctx, fx.v33.ID, nil); err != nil {
			t.Fatal(err)
		}
		fx.at("2025-08-20")
		r, err = fx.svc.Remediation(ctx, fx.caseID)
		if err != nil {
			t.Fatal(err)
		}
		m = r.Metrics
		series := []string{}
		for _, p := range m.Series {
			series = append(series, p.Date.String()+" "+strconv.Itoa(p.Remediated))
		}
		if diff := cmp.Diff([]string{"2025-07-10 60", "2025-07-20 100", "2025-08-01 140"}, series); diff != "" {
			t.Errorf("series (-want +got):\n%s", diff)
		}
		if m.Percent != 100 || m.DaysToField == nil || *m.DaysToField != 30 || m.FullyRemediated.String() != "2025-08-01" {
			t.Errorf("metrics = %+v, want 100%%, 30 days to field", m)
		}
		var sources []string
		for _, f := range r.Field {
			sources = append(sources, f.Version+" "+f.Source+" "+strconv.Itoa(f.Remediated)+"/"+strconv.Itoa(f.Units))
		}
		if diff := cmp.Diff([]string{"3.2 reported 100/100", "3.3 sbom 40/40"}, sources); diff != "" {
			t.Errorf("field (-want +got):\n%s", diff)
		}
	})
}

// TestDeviceVEXFollowsTheCase: each version's VEX statement says what the case says as it goes: affected once
// assessed (its action from the plan in force, then from the distributed fix), fixed for the release that carries
// the fix, and the status a person recorded for one version (not_affected, justified) for that version alone.
func TestDeviceVEXFollowsTheCase(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		stmt := func(v *vigil.DeviceVersion) *vigil.DeviceVEXStatement {
			t.Helper()
			d, err := fx.svc.DeviceVEX(ctx, v.DeviceID, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range d.Statements {
				if d.Statements[i].Vulnerability == "CVE-2025-0001" {
					return &d.Statements[i]
				}
			}
			return nil
		}
		if s := stmt(fx.v32); s == nil || s.Status != vigil.VEXAffected || s.ActionStatement != "" || len(s.Components) != 1 {
			t.Errorf("3.2 assessed, no plan: %+v", s)
		}
		if s := stmt(fx.fix); s != nil {
			t.Errorf("3.4 before the fix: %+v, want no statement", s)
		}
		if _, err := fx.svc.SetPlan(ctx, plan(fx)); err != nil {
			t.Fatal(err)
		}
		if s := stmt(fx.v32); s == nil || !s.Workaround || s.FixedIn != "3.4" || s.FixDistributed ||
			s.ActionStatement != "A fix is planned in 3.4 by 2025-07-20; customers will be told when it is available. Until then, apply the compensating controls: Put the pumps on a dedicated VLAN (IFU §7.3)." {
			t.Errorf("3.2 with a plan: %+v", s)
		}
		r, err := fx.svc.AddFix(ctx, &vigil.FixRelease{CaseID: fx.caseID, Release: "3.4"})
		if err != nil {
			t.Fatal(err)
		}
		fx.at("2025-07-20")
		if _, err := fx.svc.SetVV(ctx, r.Fixes[0].ID, vigil.VVRecord{Protocol: "P", Report: "R-7", Result: vigil.VVPassed, Approver: "QA", Validated: vigil.NewDate(2025, 7, 14)}, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Distribute(ctx, r.Fixes[0].ID, vigil.Distribution{Date: vigil.NewDate(2025, 7, 15), Channel: "remote update"}, ""); err != nil {
			t.Fatal(err)
		}
		if s := stmt(fx.v32); s == nil || !s.FixDistributed || !strings.HasPrefix(s.ActionStatement, "Update to 3.4 (distributed 2025-07-15 by remote update).") {
			t.Errorf("3.2 after the fix: %+v", s)
		}
		if s := stmt(fx.fix); s == nil || s.Status != vigil.VEXFixed || s.FixedIn != "3.4" || !strings.Contains(s.Detail, "R-7") {
			t.Errorf("3.4 after the fix: %+v", s)
		}
		// A person records 3.3 as not affected on the case: that status stands for 3.3, with its justification.
		if err := fx.svc.Cases.SetVersionVEX(ctx, &vigil.VersionVEX{CaseID: fx.caseID, VersionID: fx.v33.ID, Status: vigil.VEXNotAffected,
			Justification: vigil.JustNotInExecutePath, ImpactStatement: "TLS is disabled in 3.3's configuration", Reason: "config review CR-12"}); err != nil {
			t.Fatal(err)
		}
		if s := stmt(fx.v33); s == nil || s.Status != vigil.VEXNotAffected || s.Justification != vigil.JustNotInExecutePath || s.ImpactStatement == "" {
			t.Errorf("3.3 recorded not affected: %+v", s)
		}
		if s := stmt(fx.v32); s == nil || s.Status != vigil.VEXAffected {
			t.Errorf("3.2 next to a not-affected 3.3: %+v", s)
		}
		// 3.2's SBOM is re-imported without the vulnerable component: its finding resolves and 3.2 is fixed, the
		// component no longer listed, while 3.3 keeps the status recorded for it.
		fx.at("2025-07-21")
		if _, _, err := fx.db.SyncFindings(ctx, fx.v32.ID, nil); err != nil {
			t.Fatal(err)
		}
		if s := stmt(fx.v32); s == nil || s.Status != vigil.VEXFixed || s.Detail != "The version's SBOM no longer carries the vulnerable component." ||
			s.FixedIn != "3.4" || len(s.Components) != 0 || s.ActionStatement != "" {
			t.Errorf("3.2 after its SBOM dropped the component: %+v", s)
		}
		if s := stmt(fx.v33); s == nil || s.Status != vigil.VEXNotAffected {
			t.Errorf("3.3 after 3.2's SBOM changed: %+v", s)
		}
	})
}

// TestRetractFixAndVV: a V&V record withdrawn from a distributed fix takes criterion 3 back (its validated
// fix_distributed event is retracted and the distribution recorded again, not validated), the fix release's VEX
// is no longer fixed, and the record is kept with its reason; a retracted fix release leaves the live fixes with
// its event retracted; each is audited and refused twice or without a reason.
func TestRetractFixAndVV(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		r, err := fx.svc.AddFix(ctx, &vigil.FixRelease{CaseID: fx.caseID, Release: "3.4"})
		if err != nil {
			t.Fatal(err)
		}
		fixID := r.Fixes[0].ID
		fx.at("2025-07-20")
		vv := vigil.VVRecord{Protocol: "VVP-1", Report: "VVR-1", Result: vigil.VVPassed, Approver: "QA", Validated: vigil.NewDate(2025, 7, 14)}
		if _, err := fx.svc.SetVV(ctx, fixID, vv, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Distribute(ctx, fixID, vigil.Distribution{Date: vigil.NewDate(2025, 7, 15), Channel: "remote update"}, ""); err != nil {
			t.Fatal(err)
		}
		if got := criterion(t, fx, 3); got != "met" {
			t.Fatalf("criterion 3 after the validated fix = %s", got)
		}
		if _, err := fx.svc.RetractVV(ctx, fixID, " "); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("retract the V&V without a reason: %v", err)
		}
		r, err = fx.svc.RetractVV(ctx, fixID, "VVR-1 tested the wrong build")
		if err != nil {
			t.Fatal(err)
		}
		f := r.Fixes[0]
		if f.VV != nil || len(f.VVRetractions) != 1 || f.VVRetractions[0].VV.Report != "VVR-1" || f.VVRetractions[0].Reason != "VVR-1 tested the wrong build" ||
			f.VVRetractions[0].Actor == "" || f.InField() || f.EventID == 0 {
			t.Errorf("fix after its V&V was retracted: %+v", f)
		}
		if got := criterion(t, fx, 3); got == "met" {
			t.Error("criterion 3 still met on a fix whose V&V was retracted")
		}
		v, err := fx.svc.Cases.CaseView(ctx, fx.caseID, vigil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		var standing []string
		for _, e := range v.Events {
			if e.Type == regulatory.EventFixDistributed {
				standing = append(standing, fmt.Sprintf("E%d validated=%v", e.ID, e.Details.Validated))
			}
		}
		if len(standing) != 1 || standing[0] != fmt.Sprintf("E%d validated=false", f.EventID) || len(v.Withdrawn) != 1 ||
			!strings.Contains(v.Withdrawn[0].Retraction.Reason, "VVR-1 tested the wrong build") {
			t.Errorf("fix_distributed events standing %v, withdrawn %+v", standing, v.Withdrawn)
		}
		d, err := fx.svc.DeviceVEX(ctx, fx.fix.DeviceID, fx.fix.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Statements) != 0 {
			t.Errorf("3.4's VEX with its V&V retracted: %+v, want no fixed statement", d.Statements)
		}
		if _, err := fx.svc.RetractVV(ctx, fixID, "again"); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("retract a V&V record twice: %v", err)
		}
		if _, err := fx.svc.SetVV(ctx, fixID, vv, "re-run", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("a new V&V record on a distributed fix: %v", err)
		}

		r, err = fx.svc.RetractFix(ctx, fixID, "release 3.4 recalled")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Fixes) != 0 || len(r.Retracted) != 1 || r.Retracted[0].Retraction.Reason != "release 3.4 recalled" || r.Metrics.DaysToPatch != nil {
			t.Errorf("after the fix release was retracted: fixes %+v, retracted %+v, metrics %+v", r.Fixes, r.Retracted, r.Metrics)
		}
		if _, err := fx.svc.RetractFix(ctx, fixID, "again"); vigil.ErrorCode(err) != vigil.ECONFLICT {
			t.Errorf("retract a fix release twice: %v", err)
		}
		if v, err = fx.svc.Cases.CaseView(ctx, fx.caseID, vigil.Date{}); err != nil {
			t.Fatal(err)
		}
		for _, e := range v.Events {
			if e.Type == regulatory.EventFixDistributed {
				t.Errorf("E%d fix_distributed stands after its fix release was retracted", e.ID)
			}
		}
		if len(v.Withdrawn) != 2 {
			t.Errorf("withdrawn records %+v, want both fix_distributed events", v.Withdrawn)
		}
		rep, err := fx.db.Verify(ctx, nil)
		if err != nil {
			t.Fatalf("audit verify after the retractions: %v %+v", err, rep)
		}
		acts := map[string]bool{}
		es, err := fx.db.Events(ctx, vigil.AuditFilter{Action: "remediation.*"})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			acts[e.Action] = true
		}
		if !acts["remediation.vv_retract"] || !acts["remediation.fix_retract"] {
			t.Errorf("audited actions %v", acts)
		}
	})
}
