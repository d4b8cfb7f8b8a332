package cli_test

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
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
			r.unsigned()
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
			if code, _, errs := r.run("", "share", "1", "--notice", "1"); code != 2 || !strings.Contains(errs, "not both") {
				t.Errorf("share CASE --notice: exit %d, %s", code, errs)
			}
			// Nothing pending: asking again asks nothing.
			if out := r.ok("--format", "json", "isao", "status"); strings.TrimSpace(out) != "[]" {
				t.Errorf("isao status with nothing pending: %s", out)
			}
			// The ISAO's bulletin names the case's CVE: a signal linked to the case, cited by the re-assessment.
			bulletin := filepath.Join(dir, "bulletin.stix.json")
			os.WriteFile(bulletin, []byte(`{"type":"bundle","id":"bundle--5d0c8f52-6f1c-4a55-8d7e-2f4b9c1e3a70","objects":[{"type":"vulnerability","spec_version":"2.1",
				"id":"vulnerability--0a6f5a3e-8d2c-4c34-9b1e-5f3c2a1d0e9f","created":"2025-06-01T00:00:00.000Z","modified":"2025-06-01T00:00:00.000Z",
				"name":"Exploited in the wild","external_references":[{"source_name":"cve","external_id":"CVE-2025-0001"}]}]}`), 0o600)
			if out := r.ok("isao", "import", "Health-ISAC", bulletin); !strings.Contains(out, "Health-ISAC") {
				t.Errorf("isao import: %s", out)
			}
			type signal struct {
				ID          int64
				Cases       []int64
				Assessments []int64
			}
			var sigs []signal
			json.Unmarshal([]byte(r.ok("--format", "json", "isao", "signals", "--case", "1")), &sigs)
			if len(sigs) != 1 || len(sigs[0].Cases) != 1 || sigs[0].Cases[0] != 1 {
				t.Fatalf("signals of case 1: %+v", sigs)
			}
			sid := strconv.FormatInt(sigs[0].ID, 10)
			if code, _, errs := r.run("", "case", "assess", "1", "--date", day, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery",
				"--signals", "999", "--rationale", "x"); code == 0 || !strings.Contains(errs, "signal 999 not found") {
				t.Errorf("assess citing no signal: exit %d, %s", code, errs)
			}
			out = r.ok("case", "assess", "1", "--date", day, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery",
				"--signals", sid, "--rationale", "re-assessed on the ISAO's bulletin: exploited in the wild")
			if !strings.Contains(out, "Cites ISAO signals "+sid) {
				t.Errorf("case assess --signals: %s", out)
			}
			aid, _ := strconv.ParseInt(strings.TrimPrefix(strings.Fields(out)[0], "A"), 10, 64)
			json.Unmarshal([]byte(r.ok("--format", "json", "isao", "signals", "--case", "1")), &sigs)
			if len(sigs) != 1 || len(sigs[0].Assessments) != 1 || sigs[0].Assessments[0] != aid {
				t.Errorf("the signal after the re-assessment A%d: %+v", aid, sigs)
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
			cited := false
			for _, row := range rows {
				cited = cited || row[0] == "signal" && strings.Contains(row[4], "cases 1; assessments ") && !strings.Contains(row[4], "assessments none")
			}
			if !cited {
				t.Errorf("evidence CSV names no signal cited by an assessment: %v", rows)
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
