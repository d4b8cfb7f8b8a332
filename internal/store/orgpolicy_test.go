package store_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestOrgPolicy: the organization's regulatory policy is stored and read back (the matrix in its canonical form),
// a value the determination could not run under is refused naming the field, a change without a reason is
// refused, and a change with one is in the audit trail with who, why, and the policy before and after.
func TestOrgPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		o := seedOrg(t, db)
		if got, _ := db.Org(ctx, o.ID); got.Policy.WorkingDays != "" || got.Policy.RollDeadlines || got.Policy.AcceptanceMatrix != nil {
			t.Errorf("a new organization's policy = %+v, want the defaults (empty)", got.Policy)
		}
		for _, tc := range []struct {
			name   string
			policy vigil.OrgPolicy
			want   string
		}{
			{"working days", vigil.OrgPolicy{WorkingDays: "lunar"}, `policy.working_days: unknown value "lunar" (want federal or weekdays)`},
			{"reassessment clock", vigil.OrgPolicy{ReassessmentClock: "learned"}, `policy.reassessment_clock`},
			{"matrix", vigil.OrgPolicy{AcceptanceMatrix: json.RawMessage(`{"name":"x","version":"1","uncontrolled":{"extreme":["minor"]}}`)}, "policy.acceptance_matrix"},
		} {
			bad := *o
			bad.Policy = tc.policy
			err := db.UpdateOrg(ctx, &bad, "try")
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), tc.want) {
				t.Errorf("%s: %v, want EINVALID naming %q", tc.name, err, tc.want)
			}
		}
		o.Policy = vigil.OrgPolicy{WorkingDays: "weekdays", RollDeadlines: true, ReassessmentClock: "first",
			AcceptanceMatrix: json.RawMessage(`{"name": "acme-strict", "version": "4", "uncontrolled": {"high": ["serious", "critical", "catastrophic"]}}`)}
		if err := db.UpdateOrg(ctx, o, ""); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), "reason: required") {
			t.Fatalf("policy change without a reason: %v, want EINVALID reason: required", err)
		}
		if err := db.UpdateOrg(storetest.As("quinn", vigil.RoleAdmin), o, "QMS-POL-12 rev C counts weekdays"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Org(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Policy.WorkingDays != "weekdays" || !got.Policy.RollDeadlines || got.Policy.ReassessmentClock != "first" {
			t.Errorf("stored policy = %+v", got.Policy)
		}
		if m := string(got.Policy.AcceptanceMatrix); !strings.Contains(m, `"acme-strict"`) || strings.Contains(m, ": ") {
			t.Errorf("stored matrix = %s, want acme-strict in canonical JSON", m)
		}
		evs, err := db.Events(ctx, vigil.AuditFilter{Action: "org.update", ObjectID: strconv.FormatInt(o.ID, 10)})
		if err != nil || len(evs) != 1 {
			t.Fatalf("org.update audit events = %d (%v), want 1", len(evs), err)
		}
		e := evs[0]
		if e.Reason != "QMS-POL-12 rev C counts weekdays" || e.Actor != "user:quinn" ||
			!strings.Contains(string(e.Old), `"policy":{"roll_deadlines":false}`) || !strings.Contains(string(e.New), `"working_days":"weekdays"`) {
			t.Errorf("audit event: actor %s reason %q old %s new %s", e.Actor, e.Reason, e.Old, e.New)
		}
		// A change of another field alone needs no reason, as before.
		got.CVDContact = "psirt@acme.example"
		if err := db.UpdateOrg(ctx, got, ""); err != nil {
			t.Errorf("contact change without a reason: %v", err)
		}
	})
}
