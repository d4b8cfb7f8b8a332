package cases_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestOrgPolicyDecides: the organization's stored policy is the one every determination runs under and records.
// Its matrix decides an assessment of a device without its own; its working-day calendar moves the Part 806 due
// date across Juneteenth (Thursday 2025-06-19): 10 working days from a correction started Tuesday 2025-06-10 end
// on 06-25 counting federal holidays, 06-24 counting weekdays.
func TestOrgPolicyDecides(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		orgs, err := fx.db.Orgs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		org := orgs[0]
		org.Policy.AcceptanceMatrix = json.RawMessage(`{"name":"acme-strict","version":"4","uncontrolled":{"high":["negligible","minor","serious","critical","catastrophic"]}}`)
		if err := fx.db.UpdateOrg(ctx, org, "QMS-POL-12: no residual risk accepted for network attacks"); err != nil {
			t.Fatal(err)
		}
		a, err := fx.svc.Assess(ctx, cases.AssessInput{CaseID: fx.finding.CaseID, CVSS: networkVector, Threats: []string{"T-2"}, Rationale: "log flooding"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Risk != vigil.RiskUncontrolled || a.Matrix != "acme-strict v4" {
			t.Fatalf("assessment under the organization's matrix: risk %s, matrix %q", a.Risk, a.Matrix)
		}
		fx.clock.T = time.Date(2025, 6, 12, 15, 0, 0, 0, time.UTC)
		if err := fx.svc.RecordEvent(ctx, &vigil.CaseEvent{CaseID: fx.finding.CaseID, Type: "correction_initiated", Date: vigil.NewDate(2025, 6, 10), Note: "patch build started"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			workingDays string
			due         vigil.Date
		}{{"", vigil.NewDate(2025, 6, 25)}, {"weekdays", vigil.NewDate(2025, 6, 24)}, {"federal", vigil.NewDate(2025, 6, 25)}} {
			org.Policy.WorkingDays = tc.workingDays
			if err := fx.db.UpdateOrg(ctx, org, "calendar per QMS-POL-12"); err != nil {
				t.Fatal(err)
			}
			// The service reads the organization once per request context: a fresh context sees the change.
			v, err := fx.svc.FindingView(storetest.Admin(), fx.finding.ID, vigil.Date{})
			if err != nil {
				t.Fatal(err)
			}
			d := v.Determination
			if d == nil {
				t.Fatalf("working_days %q: no determination (%s)", tc.workingDays, v.Problem)
			}
			want := tc.workingDays
			if want == "" {
				want = "federal"
			}
			if string(d.Policy.WorkingDays) != want || d.Policy.Matrix.ID() != "acme-strict v4" || d.Deadlines.Part806 != tc.due {
				t.Errorf("working_days %q: determination policy %s/%s, part806 due %s; want %s/acme-strict v4, %s",
					tc.workingDays, d.Policy.WorkingDays, d.Policy.Matrix.ID(), d.Deadlines.Part806, want, tc.due)
			}
		}
	})
}
