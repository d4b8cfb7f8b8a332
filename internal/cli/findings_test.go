package cli_test

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestFindingsByAliasAndState: `vigil findings --vuln` finds a finding by any alias of its vulnerability (the
// real OSV record PYSEC-2022-43017 is CVE-2022-40898), as the UI and the API do, and --state takes "all" and
// comma lists as they do; on both engines.
func TestFindingsByAliasAndState(t *testing.T) {
	dir := t.TempDir()
	zr, err := zip.OpenReader(testfix.Path(t, "osv-corpus", "PyPI", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	adv := filepath.Join(dir, "PYSEC-2022-43017.json")
	for _, f := range zr.File {
		if f.Name == "PYSEC-2022-43017.json" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			os.WriteFile(adv, b, 0o600)
		}
	}
	bom := filepath.Join(dir, "tool.cdx.json")
	os.WriteFile(bom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
 {"type":"library","name":"wheel","version":"0.37.1","purl":"pkg:pypi/wheel@0.37.1"}]}`), 0o600)
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k")
			r.ok("version", "create", "1.0", "--device", "Pump")
			r.ok("import", adv)
			r.ok("sbom", "import", "--device", "Pump", "--version", "1.0", bom)
			count := func(args ...string) int {
				t.Helper()
				var fs []struct{ Vulnerability string }
				if err := json.Unmarshal([]byte(r.ok(append([]string{"--format", "json", "findings"}, args...)...)), &fs); err != nil {
					t.Fatal(err)
				}
				for _, f := range fs {
					if f.Vulnerability != "PYSEC-2022-43017" {
						t.Errorf("findings %v: %q", args, f.Vulnerability)
					}
				}
				return len(fs)
			}
			r.ok("finding", "close", "1", "--reason", "Build tool only, not shipped.")
			for _, tc := range []struct {
				args []string
				want int
			}{
				{[]string{"--vuln", "CVE-2022-40898", "--state", "all"}, 1},
				{[]string{"--vuln", "PYSEC-2022-43017", "--state", "all"}, 1},
				{[]string{"--vuln", "cve-2022-40898", "--state", "all"}, 1},   // case does not matter, on either engine
				{[]string{"--vuln", "pysec-2022-43017", "--state", "all"}, 1}, // nor for the id itself
				{[]string{"--vuln", "CVE-2022-40898"}, 0},                     // closed: not in the default states
				{[]string{"--vuln", "CVE-2022-40898", "--state", "open,closed"}, 1},
				{[]string{"--vuln", "CVE-2022-4089", "--state", "all"}, 0}, // an alias is matched whole
				{[]string{"--state", "closed", "--state", "resolved"}, 1},
			} {
				if got := count(tc.args...); got != tc.want {
					t.Errorf("findings %v: %d findings, want %d", tc.args, got, tc.want)
				}
			}
			// The table names the device and the version (not the version's id).
			if out := r.ok("findings", "--state", "all"); !strings.Contains(out, "DEVICE  VERSION") || !strings.Contains(out, "Pump    1.0") {
				t.Errorf("findings table:\n%s", out)
			}
			if code, _, errs := r.run("", "findings", "--state", "shut"); code != 2 || !strings.Contains(errs, "shut") {
				t.Errorf("--state shut: exit %d %q", code, errs)
			}
		})
	}
}
