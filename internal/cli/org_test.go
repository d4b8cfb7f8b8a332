package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestOrgUpdatePolicy: `vigil org update` sets the regulatory policy with the flags (no ID when there is
// one organization), refuses a bad value naming the field and a change without a reason, and the audit trail
// records the change with its reason, on both engines.
func TestOrgUpdatePolicy(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme", "--time-zone", "America/Chicago")
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"--working-days", "lunar", "--reason", "x"}, `policy.working_days: unknown value "lunar" (want federal or weekdays)`},
				{[]string{"--reassessment-clock", "learned", "--reason", "x"}, `policy.reassessment_clock`},
				{[]string{"--working-days", "weekdays"}, "reason: required when the regulatory policy changes"},
			} {
				code, _, errs := r.run("", append([]string{"org", "update"}, tc.args...)...)
				if code == 0 || !strings.Contains(errs, tc.want) {
					t.Errorf("org update %v: exit %d, stderr %q; want %q", tc.args, code, errs, tc.want)
				}
			}
			matrix := filepath.Join(t.TempDir(), "matrix.json")
			os.WriteFile(matrix, []byte(`{"name":"acme-strict","version":"4","uncontrolled":{"high":["serious","critical","catastrophic"]}}`), 0o600)
			out := r.ok("org", "update", "--working-days", "weekdays", "--roll-deadlines=false", "--reassessment-clock", "first",
				"--acceptance-matrix", matrix, "--reason", "QMS-POL-12 rev C", "--format", "json")
			var o vigil.Organization
			if err := json.Unmarshal([]byte(out), &o); err != nil {
				t.Fatalf("org update --format json: %v\n%s", err, out)
			}
			if o.Policy.WorkingDays != "weekdays" || o.Policy.RollDeadlines || o.Policy.ReassessmentClock != "first" || !strings.Contains(string(o.Policy.AcceptanceMatrix), `"acme-strict"`) {
				t.Errorf("policy after update: %+v", o.Policy)
			}
			if show := r.ok("org", "show", "1"); !strings.Contains(show, "weekdays days, no roll, reassessment clock first, matrix acme-strict v4") {
				t.Errorf("org show:\n%s", show)
			}
			if audit := r.ok("audit", "log", "--action", "org.update", "--format", "json"); !strings.Contains(audit, "QMS-POL-12 rev C") {
				t.Errorf("audit trail has no org.update with the reason:\n%s", audit)
			}
		})
	}
}
