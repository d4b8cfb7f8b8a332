package cli_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestVEXCommands: `vigil vex import` proposes the supplier's status on the finding it matches (here the README's
// pump: a real Newtonsoft.Json finding from the examples), `vex list` shows it waiting, `vex accept` needs a reason
// and closes the finding, and a VEX file given to `sbom import` is still refused as an SBOM.
func TestVEXCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=critical")
			r.ok("version", "create", "3.2.1", "--device", "Pump")
			r.ok("import", "../../examples/intel")
			r.ok("sbom", "import", "--device", "Pump", "--version", "3.2.1", "../../examples/sbom.cdx.json")
			id := strings.TrimSpace(r.ok("findings", "--vuln", "GHSA-5crp-9r3c-p9vr", "--ids"))
			if id == "" {
				t.Fatal("no Newtonsoft.Json finding")
			}
			vex := t.TempDir() + "/newtonsoft.openvex.json"
			writeFile := func(path, text string) {
				if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			writeFile(vex, `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"Pump Software Supplier Inc.",
				"statements":[{"vulnerability":{"name":"GHSA-5crp-9r3c-p9vr"},"products":[{"@id":"pkg:nuget/Newtonsoft.Json@9.0.1"}],
				"status":"not_affected","justification":"vulnerable_code_not_in_execute_path","impact_statement":"MaxDepth is set globally"},
				{"vulnerability":{"name":"CVE-2099-0001"},"products":[{"@id":"pkg:nuget/Newtonsoft.Json@9.0.1"}],"status":"affected"}]}`)
			code, out, errs := r.run("", "vex", "import", vex)
			if code != 0 || !strings.Contains(errs, "openvex VEX by Pump Software Supplier Inc., 2 statement(s): 1 proposal(s), 1 matching no open finding") ||
				!strings.Contains(out, "not_affected") || !strings.Contains(out, "pkg:nuget/Newtonsoft.Json@9.0.1") {
				t.Fatalf("vex import: %d\n%s\n%s", code, out, errs)
			}
			var ps []struct {
				ID        int64  `json:"id"`
				FindingID int64  `json:"finding_id"`
				State     string `json:"state"`
			}
			if err := json.Unmarshal([]byte(r.ok("vex", "list", "--format", "json")), &ps); err != nil || len(ps) != 1 || ps[0].State != "proposed" {
				t.Fatalf("vex list: %+v %v", ps, err)
			}
			pid := strconv.FormatInt(ps[0].ID, 10)
			if code, _, errs := r.run("", "vex", "accept", pid); code != 2 || !strings.Contains(errs, "--reason is required") {
				t.Errorf("accept without reason: %d %s", code, errs)
			}
			r.ok("vex", "accept", pid, "--reason", "supplier's analysis reviewed (PSIRT-2026-88)")
			if got := r.ok("findings", "--vuln", "GHSA-5crp-9r3c-p9vr", "--state", "closed", "--ids"); strings.TrimSpace(got) != id {
				t.Errorf("closed findings after accept: %q, want %s", got, id)
			}
			if code, _, errs := r.run("", "vex", "import", vex); code != 1 || !strings.Contains(errs, "already imported") {
				t.Errorf("re-import: %d %s", code, errs)
			}
			if code, _, _ := r.run("", "sbom", "import", "--device", "Pump", "--version", "3.2.1", vex); code == 0 {
				t.Error("a VEX file was accepted as an SBOM")
			}
		})
	}
}
