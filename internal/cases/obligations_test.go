package cases_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// clockLines renders deadlines as "clock due status urgent?" for comparison.
func clockLines(ds []cases.Deadline) []string {
	out := []string{}
	for _, d := range ds {
		s := fmt.Sprintf("%d %s %s %s", d.CaseID, d.Clock, d.Due, d.Status)
		if d.Urgent {
			s += " URGENT"
		}
		out = append(out, s)
	}
	return out
}

// TestPart806Start: the Part 806 report is due 10 working days after the correction starts (DETERMINATION.md: the
// correction_initiated event, else the first customer notice, else the first fix distributed). An uncontrolled case
// whose enforcement discretion is lost before any correction has started has a report due and no date for it:
// `part806_start` heads the deadlines, urgent, from the day discretion was lost (the day a serious adverse event
// failed criterion 1, else the first ED date passed) whatever day the clocks are computed for, until a correction
// starts; then the dated part806 clock runs.
// A controlled case, or one whose discretion still stands, never has it.
func TestPart806Start(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		id := fx.finding.CaseID
		if _, err := fx.svc.Assess(ctx, assessIn(id, vigil.RiskUncontrolled, "remote dose change")); err != nil {
			t.Fatal(err)
		}
		// Second case on the same device, for the serious adverse event: a vulnerability learned the same day.
		sae := &vigil.Case{DeviceID: fx.device.ID, Vulnerability: "CVE-2025-0009", Learned: vigil.NewDate(2025, 6, 2)}
		if err := fx.svc.OpenCase(ctx, sae, "bulletin"); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Assess(ctx, assessIn(sae.ID, vigil.RiskUncontrolled, "alarm suppression")); err != nil {
			t.Fatal(err)
		}
		ctl := &vigil.Case{DeviceID: fx.device.ID, Vulnerability: "CVE-2025-0010", Learned: vigil.NewDate(2025, 6, 2)}
		if err := fx.svc.OpenCase(ctx, ctl, "bulletin"); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Assess(ctx, assessIn(ctl.ID, vigil.RiskControlled, "not reachable")); err != nil {
			t.Fatal(err)
		}
		fx.at("2025-06-10")
		if err := fx.svc.RecordEvent(ctx, &vigil.CaseEvent{CaseID: sae.ID, Type: "serious_adverse_event", Date: vigil.NewDate(2025, 6, 10), Note: "MedWatch 3500A draft"}); err != nil {
			t.Fatal(err)
		}
		at := func(day string) []string {
			t.Helper()
			d, _ := vigil.ParseDate(day)
			ds, err := fx.svc.Deadlines(ctx, cases.DeadlineFilter{AsOf: d})
			if err != nil {
				t.Fatal(err)
			}
			return clockLines(ds)
		}
		// Before the ED dates: the first case's discretion is pending (no 806 obligation yet); the adverse event lost
		// the second's on its day, with no correction started: its report is due, undated, at the top.
		want := []string{
			fmt.Sprintf("%d part806_start 2025-06-10 required URGENT", sae.ID),
			fmt.Sprintf("%d ed_communication 2025-07-02 pending", id),
			fmt.Sprintf("%d mdr 2025-07-10 required", sae.ID),
			fmt.Sprintf("%d ed_fix 2025-08-01 pending", id),
		}
		if got := at("2025-06-12"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("on 2025-06-12:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The 30-day date passed without a notice: discretion lost on 2025-07-02, no correction started.
		got := at("2025-07-03")
		if len(got) < 2 || got[0] != fmt.Sprintf("%d part806_start 2025-06-10 required URGENT", sae.ID) || got[1] != fmt.Sprintf("%d part806_start 2025-07-02 required URGENT", id) {
			t.Errorf("on 2025-07-03, both cases must head the list with part806_start: %v", got)
		}
		for _, l := range got {
			if strings.HasPrefix(l, fmt.Sprint(ctl.ID)+" ") || strings.Contains(l, fmt.Sprintf("%d ed_", id)) {
				t.Errorf("on 2025-07-03 a clock that does not bind: %s", l)
			}
		}
		// The correction starts with the customer notice of 2025-07-07 (a Monday): part806_start gives way to the
		// report's date, 10 working days on.
		fx.at("2025-07-07")
		if err := fx.svc.RecordEvent(ctx, &vigil.CaseEvent{CaseID: id, Type: "customer_notified", Date: vigil.NewDate(2025, 7, 7),
			Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "CN-2025-20"}); err != nil {
			t.Fatal(err)
		}
		got = at("2025-07-07")
		if s := strings.Join(got, "\n"); strings.Contains(s, fmt.Sprintf("%d part806_start", id)) || !strings.Contains(s, fmt.Sprintf("%d part806 2025-07-21 required", id)) {
			t.Errorf("after the notice started the correction: %v", got)
		}
		// The second case's correction starts on Thursday 2025-07-03: 10 working days on the federal calendar skip
		// Independence Day (Friday the 4th).
		if err := fx.svc.RecordEvent(ctx, &vigil.CaseEvent{CaseID: sae.ID, Type: "correction_initiated", Date: vigil.NewDate(2025, 7, 3), Note: "CAPA-77"}); err != nil {
			t.Fatal(err)
		}
		got = at("2025-07-07")
		if s := strings.Join(got, "\n"); strings.Contains(s, "part806_start") || !strings.Contains(s, fmt.Sprintf("%d part806 2025-07-18 required", sae.ID)) {
			t.Errorf("after correction_initiated on 2025-07-03: %v", got)
		}
	})
}

// TestThreeVersionsOneCase: a vulnerability matched in three versions of one device is one case with one D0, one
// determination and one set of clocks; a fourth version whose SBOM arrives a week later joins the same case
// (audited as case.attach) and moves no deadline.
func TestThreeVersionsOneCase(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		lib := vigil.Component{Name: "wolfssl", Version: "4.8.1", Purl: "pkg:generic/wolfssl@4.8.1"}
		ev := vigil.Evidence{Matcher: "cpe", Source: "nvd", Range: "< 5.2.0", Fixed: "5.2.0"}
		match := func(version string) *vigil.DeviceVersion {
			t.Helper()
			v := &vigil.DeviceVersion{DeviceID: fx.device.ID, Version: version, UnitsFielded: 100}
			if err := fx.db.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			if _, _, err := fx.db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: lib, Vulnerability: "CVE-2022-25640", Aliases: []string{"GHSA-wolf-0001"}, Evidence: ev}}); err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, v := range []string{"4.0", "4.1", "4.2"} {
			match(v)
		}
		cs, err := fx.svc.Cases(ctx, vigil.CaseFilter{Vuln: "CVE-2022-25640"})
		if err != nil || len(cs) != 1 {
			t.Fatalf("cases of CVE-2022-25640: %v %v, want one", cs, err)
		}
		c := cs[0]
		if !c.Learned.Equal(vigil.NewDate(2025, 6, 2)) {
			t.Errorf("D0 = %s, want the match day 2025-06-02", c.Learned)
		}
		if _, err := fx.svc.Assess(ctx, assessIn(c.ID, vigil.RiskUncontrolled, "remote")); err != nil {
			t.Fatal(err)
		}
		clocks := func() []string {
			t.Helper()
			ds, err := fx.svc.Deadlines(ctx, cases.DeadlineFilter{AsOf: vigil.NewDate(2025, 6, 9)})
			if err != nil {
				t.Fatal(err)
			}
			var mine []cases.Deadline
			for _, d := range ds {
				if d.CaseID == c.ID {
					mine = append(mine, d)
				}
			}
			return clockLines(mine)
		}
		before := clocks()
		want := []string{fmt.Sprintf("%d ed_communication 2025-07-02 pending", c.ID), fmt.Sprintf("%d ed_fix 2025-08-01 pending", c.ID)}
		if strings.Join(before, "\n") != strings.Join(want, "\n") {
			t.Errorf("one set of clocks for three versions: %v, want %v", before, want)
		}
		fx.at("2025-06-09") // a week later, the fourth version's SBOM
		match("4.3")
		v, err := fx.svc.CaseView(ctx, c.ID, vigil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Versions) != 4 || !v.Case.Learned.Equal(c.Learned) || len(v.Assessments) != 1 {
			t.Errorf("after the fourth version: %d versions, D0 %s, %d assessments; want 4, %s, 1", len(v.Versions), v.Case.Learned, len(v.Assessments), c.Learned)
		}
		if after := clocks(); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("the late version moved the clocks: %v, was %v", after, before)
		}
		if all, _ := fx.svc.Cases(ctx, vigil.CaseFilter{Vuln: "GHSA-wolf-0001"}); len(all) != 1 {
			t.Errorf("cases by the alias after the late version: %d, want 1", len(all))
		}
		evs, err := fx.db.Events(ctx, vigil.AuditFilter{Action: "case.attach", ObjectID: fmt.Sprint(c.ID)})
		if err != nil || len(evs) != 3 {
			t.Errorf("case.attach events: %d %v, want 3 (versions 4.1, 4.2 and 4.3 joining)", len(evs), err)
		}
	})
}
