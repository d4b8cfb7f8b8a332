package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestPortfolioRematch: `vigil portfolio rematch` re-matches every version, one device's, or one version, and
// reports the JSON summary; re-matching against unchanged intelligence opens and resolves nothing and finds exactly
// the findings the versions hold.
func TestPortfolioRematch(t *testing.T) {
	sbomPath := filepath.Join("testdata", "scan", "device.cdx.json")
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme")
			scanIntel(t, r)
			for _, dv := range [][2]string{{"Pump", "1.0"}, {"Pump", "2.0"}, {"Monitor", "1.0"}} {
				if !strings.Contains(r.ok("device", "list"), dv[0]) {
					r.ok("device", "create", "--name", dv[0], "--class", "II", "--pathway", "510k")
				}
				r.ok("version", "create", dv[1], "--device", dv[0])
				r.ok("sbom", "import", "--device", dv[0], "--version", dv[1], sbomPath)
			}
			var listed []map[string]any
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "findings")), &listed); err != nil {
				t.Fatal(err)
			}
			if len(listed) == 0 || len(listed)%3 != 0 {
				t.Fatalf("findings after the SBOM imports = %d, want the same non-zero count in each of 3 versions", len(listed))
			}
			type summary struct {
				Versions, Findings, Opened, Resolved int
				Seconds                              *float64
			}
			for _, tc := range []struct {
				args     []string
				versions int
			}{
				{nil, 3},
				{[]string{"--device", "Pump"}, 2},
				{[]string{"--device", "Pump", "--version", "2.0"}, 1},
			} {
				var got summary
				out := r.ok(append([]string{"--format", "json", "portfolio", "rematch"}, tc.args...)...)
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("rematch %v: %v in %s", tc.args, err, out)
				}
				want := summary{Versions: tc.versions, Findings: len(listed) / 3 * tc.versions, Seconds: got.Seconds}
				if got != want || got.Seconds == nil {
					t.Errorf("rematch %v = %s, want %+v and seconds", tc.args, out, want)
				}
			}
			if code, _, errs := r.run("", "portfolio", "rematch", "--version", "2.0"); code != 2 || !strings.Contains(errs, "--device") {
				t.Errorf("--version without --device: exit %d, %q; want 2 naming --device", code, errs)
			}
			if code, _, _ := r.run("", "portfolio", "rematch", "--device", "Ventilator"); code == 0 {
				t.Error("an unknown device re-matched")
			}
		})
	}
}
