package cli_test

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix/stixschema"
)

// TestISAOFlow runs the ISAO commands as a PSIRT would: a membership from the --isaos file, a document attached
// with its SHA-256, the pump line's own membership, a case exported for upload by hand (the file passes the OASIS
// schemas, the sharing log has it, the case its isao_shared event), the §IX evidence as CSV.
func TestISAOFlow(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			dir := t.TempDir()
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC", "--isaos", filepath.Join("..", "..", "examples", "isaos.json"))
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "2.0", "--device", "Pump")
			day := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", day, "--reason", "researcher report")
			r.ok("case", "assess", "1", "--date", day, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery",
				"--controls", "segment the pump network", "--rationale", "remote")
			pdf := filepath.Join(dir, "agreement.pdf")
			os.WriteFile(pdf, []byte("%PDF-1.7 participant agreement"), 0o600)
			out := r.ok("isao", "document", "Health-ISAC", "--item", "2", "--kind", "agreement", "--file", pdf, "--date", "2024-02-01")
			if !strings.Contains(out, "agreement.pdf") {
				t.Errorf("document: %s", out)
			}
			if code, _, errs := r.run("", "isao", "document", "Health-ISAC", "--item", "9", "--kind", "note", "--note", "x"); code != 2 || !strings.Contains(errs, "item") {
				t.Errorf("item 9: exit %d, %s", code, errs)
			}
			var ms []struct {
				Name      string
				Documents []struct{ Item int }
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "isao", "list")), &ms)
			if len(ms) != 1 || ms[0].Name != "Health-ISAC" || len(ms[0].Documents) != 5 {
				t.Fatalf("isao list: %+v", ms)
			}
			bundle := filepath.Join(dir, "case-1.stix.json")
			out = r.ok("share", "1", "--isao", "Health-ISAC", "--export", bundle)
			if !strings.Contains(out, "exported") {
				t.Errorf("share: %s", out)
			}
			raw, err := os.ReadFile(bundle)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range stixschema.Load(t).Errors(raw) {
				t.Errorf("exported bundle: %v", err)
			}
			if !strings.Contains(r.ok("case", "show", "1"), "isao_shared") {
				t.Error("the case shows no isao_shared event")
			}
			if code, _, errs := r.run("", "share", "1", "--isao", "Health-ISAC"); code == 0 || !strings.Contains(errs, "--export") {
				t.Errorf("a share without a TAXII server: exit %d, %s", code, errs)
			}
			rows, err := csv.NewReader(strings.NewReader(r.ok("--format", "csv", "isao", "evidence", "Health-ISAC"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			shares := 0
			for _, row := range rows {
				if row[0] == "share" {
					shares++
				}
			}
			if shares != 1 || len(rows) < 8 {
				t.Errorf("evidence CSV: %v", rows)
			}
			// The pump line's own membership, without evidence, overrides the organization's: criterion 4 fails.
			r.ok("isao", "set", "MDISS", "--device", "Pump", "--since", day)
			if out := r.ok("isao", "alerts"); !strings.Contains(out, "MDISS") || !strings.Contains(out, "§IX item 1") {
				t.Errorf("alerts: %s", out)
			}
		})
	}
}
