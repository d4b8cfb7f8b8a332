package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestSBOMImportDiffAndWhere(t *testing.T) {
	device := testfix.Path(t, "medical-device-sboms", "case-study", "narrow.sbom.json")
	invalid := testfix.Path(t, "cyclonedx-spec-tests", "resources", "1.5", "invalid-component-ref-1.5.json")
	spdx := testfix.Path(t, "sbom-shelter-spdx", "in-the-wild", "julia.spdx.json")
	vex := testfix.Path(t, "cyclonedx-bom-examples", "VEX", "vex.json")
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k")
			r.ok("version", "create", "1.0", "--device", "Pump")
			var res struct {
				Components int
				Diff       struct {
					Added     []any
					Unchanged int
				}
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "sbom", "import", "--device", "Pump", "--version", "1.0", device)), &res)
			if res.Components != 55 || len(res.Diff.Added) != 55 {
				t.Fatalf("first import: %+v", res)
			}
			res.Diff.Added = nil
			json.Unmarshal([]byte(r.ok("--format", "json", "sbom", "import", "--device", "Pump", "--version", "1.0", device)), &res)
			if len(res.Diff.Added) != 0 || res.Diff.Unchanged != 55 {
				t.Fatalf("re-import must show no change: %+v", res)
			}
			before := r.ok("audit", "log", "--limit", "1")
			code, _, errs := r.run("", "sbom", "import", "--device", "Pump", "--version", "1.0", invalid)
			if code != 2 || !strings.Contains(errs, "invalid-component-ref-1.5.json") || !strings.Contains(errs, "bom-ref") {
				t.Fatalf("invalid SBOM: exit %d, %q", code, errs)
			}
			if after := r.ok("audit", "log", "--limit", "1"); after != before {
				t.Errorf("a rejected SBOM wrote something")
			}
			var where []map[string]any
			json.Unmarshal([]byte(r.ok("--format", "json", "where", "log4net@2.0.8")), &where)
			if len(where) != 1 || where[0]["device"] != "Pump" {
				t.Errorf("where log4net@2.0.8 = %v", where)
			}
			// An SBOM that is empty (a VEX document) or drops more than half the components is refused with the
			// diff counts and changes nothing, until confirmed.
			for _, tc := range []struct{ file, want string }{
				{vex, "vex.json has no components: 0 components where the current SBOM has 55 (0 added, 55 removed, 0 changed, 0 unchanged)"},
				{spdx, "julia.spdx.json drops more than half the components: 34 components where the current SBOM has 55 (34 added, 55 removed, 0 changed, 0 unchanged)"},
			} {
				code, _, errs := r.run("", "sbom", "import", "--device", "Pump", "--version", "1.0", tc.file)
				if code != 2 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "--allow-shrink") {
					t.Errorf("shrinking import of %s: exit %d, %q, want exit 2 and %q", tc.file, code, errs, tc.want)
				}
			}
			if after := r.ok("audit", "log", "--limit", "1"); after != before {
				t.Errorf("a refused shrinking SBOM wrote something")
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "where", "log4net@2.0.8")), &where)
			if len(where) != 1 {
				t.Errorf("log4net no longer current after a refused import: %v", where)
			}
			// A new SBOM of another format replaces the current one and shows the diff.
			out := r.ok("sbom", "import", "--allow-shrink", "--device", "Pump", "--version", "1.0", spdx)
			if !strings.Contains(out, "55 removed") {
				t.Errorf("SPDX replacing CycloneDX diff: %s", out)
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "where", "log4net")), &where)
			if len(where) != 0 {
				t.Errorf("log4net still current after replacement: %v", where)
			}
		})
	}
}
