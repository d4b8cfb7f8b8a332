package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDeadlinesAsOf: `vigil deadlines --as-of DATE` shows the clocks as they stood that day; --within and
// --overdue count from it; a malformed date is refused naming the flag.
func TestDeadlinesAsOf(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.unsigned()
			isaos := filepath.Join(t.TempDir(), "isaos.json")
			os.WriteFile(isaos, []byte(`[{"name":"Health-ISAC","since":"2020-01-01","documents":[{"item":1,"kind":"note","text":"agreement"},{"item":2,"kind":"note","text":"policies"},{"item":3,"kind":"note","text":"shares"},{"item":4,"kind":"note","text":"sop"}]}]`), 0o600)
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC", "--isaos", isaos)
			r.ok("device", "create", "--name", "Pump", "--class", "III", "--pathway", "PMA", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "2.0", "--device", "Pump")
			today := time.Now().UTC()
			day := func(n int) string { return today.AddDate(0, 0, -20+n).Format(time.DateOnly) } // day(0) is D0
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", day(0), "--reason", "researcher report")
			r.ok("case", "assess", "1", "--date", day(0), "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote")
			left := func(args ...string) map[string]float64 {
				var ds []map[string]any
				out := r.ok(append([]string{"--format", "json", "deadlines"}, args...)...)
				if err := json.Unmarshal([]byte(out), &ds); err != nil {
					t.Fatalf("deadlines %v: %v\n%s", args, err, out)
				}
				m := map[string]float64{}
				for _, d := range ds {
					m[d["clock"].(string)] = d["days_left"].(float64)
				}
				return m
			}
			if m := left("--as-of", day(1)); m["ed_communication"] != 29 || m["ed_fix"] != 59 {
				t.Errorf("as of D0+1: %v, want ed_communication 29 and ed_fix 59 days left", m)
			}
			if m := left("--as-of", day(25), "--within", "5d"); len(m) != 1 || m["ed_communication"] != 5 {
				t.Errorf("as of D0+25 within 5d: %v, want only ed_communication, 5 days left", m)
			}
			if m := left("--as-of", day(25), "--within", "4d"); len(m) != 0 {
				t.Errorf("as of D0+25 within 4d: %v, want none", m)
			}
			if m := left("--as-of", day(25), "--overdue"); len(m) != 0 {
				t.Errorf("as of D0+25 overdue: %v, want none", m)
			}
			if code, _, errs := r.run("", "deadlines", "--as-of", "2025-13-01"); code == 0 || !strings.Contains(errs, "--as-of") {
				t.Errorf("malformed --as-of: exit %d, %q", code, errs)
			}
		})
	}
}
