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

// TestThreatModelFlow builds a threat model on the command line, gives the device its own acceptance matrix,
// assesses a finding against both, and checks that changing the device's pathway or the organization's ISAO
// evidence, or adding an event, changes `finding show` at once, and that `finding summary` traces it all.
func TestThreatModelFlow(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.unsigned()
			dir := t.TempDir()
			write := func(name, body string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			partial := write("partial.json", `[{"name":"Health-ISAC","since":"2020-01-01","documents":[{"item":1,"kind":"note","text":"agreement"},{"item":2,"kind":"note","text":"policies"}]}]`)
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC", "--isaos", partial)
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic,event log=negligible")

			// The threat model, built for people: refs assigned or chosen, STRIDE by letter or name.
			r.ok("threat", "asset", "add", "--device", "Pump", "--id", "IF-WIFI", "--name", "Wi-Fi interface", "--kind", "interface")
			r.ok("threat", "add", "--device", "Pump", "--title", "Remote change of the infusion rate", "--stride", "T",
				"--assets", "IF-WIFI", "--functions", "dose delivery", "--entry-points", "Wi-Fi")
			r.ok("threat", "add", "--device", "Pump", "--title", "Event log flooding", "--stride", "denial-of-service", "--functions", "event log")
			r.ok("threat", "mitigation", "add", "--device", "Pump", "--name", "Signed rate-change messages", "--reference", "SDS-41", "--threats", "T-1")
			out := r.ok("threat", "control", "add", "--device", "Pump", "--name", "Pumps on a dedicated VLAN", "--reference", "IFU §7.3", "--threats", "T-1,T-2")
			if !strings.Contains(out, "CC-1") || !strings.Contains(out, "compensating control") {
				t.Errorf("control add printed %q", out)
			}
			var model struct {
				Threats []struct {
					Ref, Category string
					Functions     []string
				}
				Controls []struct{ Ref, Kind string }
			}
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "threat", "list", "--device", "Pump")), &model); err != nil {
				t.Fatal(err)
			}
			if len(model.Threats) != 2 || model.Threats[0].Category != "tampering" || model.Threats[1].Category != "denial_of_service" ||
				len(model.Controls) != 2 || model.Controls[0].Ref != "M-1" || model.Controls[1].Kind != "compensating" {
				t.Errorf("threat list: %+v", model)
			}
			if out := r.ok("threat", "list", "--device", "Pump"); !strings.Contains(out, "Threat model of Pump: 2 threat(s), 1 asset(s), 2 control(s)") || !strings.Contains(out, "M-1, CC-1") {
				t.Errorf("threat list table:\n%s", out)
			}
			if out := r.ok("threat", "show", "t-1", "--device", "Pump"); !strings.Contains(out, "dose delivery (catastrophic)") || !strings.Contains(out, "CC-1 Pumps on a dedicated VLAN (IFU §7.3)") {
				t.Errorf("threat show:\n%s", out)
			}
			r.ok("threat", "update", "T-2", "--device", "Pump", "--entry-points", "Wi-Fi,USB service port", "--reason", "pen test PT-7")

			// The device's own matrix: read from a file, checked before anything is written.
			bad := write("bad.json", `{"name":"ip3-strict","version":"2","uncontrolled":{"high":["fatal"]}}`)
			strict := write("strict.json", `{"name":"ip3-strict","version":"2","uncontrolled":{"high":["negligible","minor","serious","critical","catastrophic"],"medium":["critical","catastrophic"],"low":["catastrophic"]}}`)
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"device", "update", "Pump", "--matrix", bad, "--reason", "x"}, "--matrix " + bad + ".uncontrolled.high[0]"},
				{[]string{"device", "update", "Pump", "--matrix", filepath.Join(dir, "missing.json")}, "--matrix"},
				{[]string{"threat", "control", "add", "--device", "Pump", "--name", "Firewall rules"}, "reference"},
				{[]string{"threat", "add", "--device", "Pump", "--title", "x", "--stride", "phishing"}, "--stride"},
				{[]string{"threat", "add", "--title", "x", "--stride", "T"}, "--device"},
				{[]string{"threat", "add", "--device", "Pump", "--title", "x", "--stride", "T", "--functions", "teleport"}, "functions[0]"},
				{[]string{"threat", "update", "T-1", "--device", "Pump", "--title", "y"}, "reason"},
				{[]string{"threat", "show", "T-9", "--device", "Pump"}, "T-9"},
			} {
				code, out, errs := r.run("", tc.args...)
				if code == 0 || !strings.Contains(out+errs, tc.want) {
					t.Errorf("vigil %v: exit %d, output %q %q; want a failure naming %q", tc.args, code, out, errs, tc.want)
				}
			}
			r.ok("device", "update", "Pump", "--matrix", strict, "--reason", "QA-SOP-7: no residual risk accepted for network attacks")
			r.ok("version", "create", "2.0", "--device", "Pump", "--units", "300")
			today := time.Now().UTC()
			day := func(n int) string { return today.AddDate(0, 0, -5+n).Format(time.DateOnly) }
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", day(0), "--reason", "researcher report CVD-14")

			var a struct {
				Risk, Matrix, Severity string
				Functions, Controls    []string
			}
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "case", "assess", "1", "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
				"--threats", "T-2", "--controls", "CC-1", "--rationale", "log can be flooded over Wi-Fi")), &a); err != nil {
				t.Fatal(err)
			}
			// Under the default matrix high × negligible is controlled; the device's strict matrix says uncontrolled.
			if a.Risk != "uncontrolled" || a.Matrix != "ip3-strict v2" || a.Severity != "negligible" || strings.Join(a.Functions, ",") != "event log" || strings.Join(a.Controls, ",") != "CC-1" {
				t.Fatalf("assessment: %+v", a)
			}
			if code, out, errs := r.run("", "case", "assess", "1", "--threats", "T-9", "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--rationale", "x"); code != 2 || !strings.Contains(out+errs, "threats[0]") {
				t.Errorf("unknown threat: exit %d %q %q", code, out, errs)
			}

			type crit struct {
				N      int
				Status string
			}
			type det struct {
				Risk, Matrix      string
				PMAPeriodicReport bool `json:"pma_periodic_report"`
				ED                struct {
					Status   string
					Criteria []crit
				} `json:"enforcement_discretion"`
			}
			show := func() det {
				t.Helper()
				var v struct{ Determination det }
				if err := json.Unmarshal([]byte(r.ok("--format", "json", "finding", "show", "1")), &v); err != nil {
					t.Fatal(err)
				}
				return v.Determination
			}
			d := show()
			if d.Risk != "uncontrolled" || d.Matrix != "ip3-strict v2" || d.PMAPeriodicReport || d.ED.Criteria[3].Status != "failed" {
				t.Fatalf("510(k), ISAO evidence incomplete: %+v", d)
			}
			// The pathway changes: the PMA periodic-report consequence follows at once.
			r.ok("device", "update", "Pump", "--pathway", "PMA", "--class", "III", "--number", "P210001", "--reason", "PMA approved")
			if d = show(); !d.PMAPeriodicReport {
				t.Errorf("after 510k → PMA: pma_periodic_report false")
			}
			// The ISAO evidence is completed: criterion 4 is no longer failed but waits for the share.
			r.ok("isao", "document", "Health-ISAC", "--item", "3", "--kind", "note", "--note", "shares", "--reason", "criteria 3 and 4 evidenced")
			r.ok("isao", "document", "Health-ISAC", "--item", "4", "--kind", "note", "--note", "sop", "--reason", "criteria 3 and 4 evidenced")
			if d = show(); d.ED.Criteria[3].Status != "pending" || d.ED.Status != "pending" {
				t.Errorf("after ISAO evidence: criterion 4 %s, ED %s; want pending", d.ED.Criteria[3].Status, d.ED.Status)
			}
			r.ok("case", "event", "add", "1", "isao_shared", "--date", day(2), "--note", "Health-ISAC share #8841")
			if d = show(); d.ED.Criteria[3].Status != "met" {
				t.Errorf("after isao_shared: criterion 4 %s, want met", d.ED.Criteria[3].Status)
			}

			md := r.ok("finding", "summary", "1")
			for _, s := range []string{"# Vulnerability summary: CVE-2025-0001 in Pump 2.0", "researcher report CVD-14", "| T-2 Event log flooding | denial of service |",
				"| CC-1 Pumps on a dedicated VLAN | compensating control | IFU §7.3 | T-1, T-2 |", "acceptance matrix ip3-strict v2",
				"a correction", "**PMA periodic report:** yes", "Health-ISAC share \\#8841", "## 8. Events and their evidence"} {
				if !strings.Contains(md, s) {
					t.Errorf("summary lacks %q:\n%s", s, md)
				}
			}
			var sm map[string]any
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "finding", "summary", "1")), &sm); err != nil || sm["determination"] == nil {
				t.Errorf("summary JSON: %v %v", err, sm)
			}
			if code, _, _ := r.run("", "--format", "xml", "finding", "summary", "1"); code != 2 {
				t.Errorf("--format xml: exit %d, want 2", code)
			}
			log := r.ok("--format", "json", "audit", "log", "--object-type", "threat")
			if !strings.Contains(log, "threat.create") || !strings.Contains(log, "pen test PT-7") {
				t.Errorf("threat audit log: %s", log)
			}
			if out := r.ok("audit", "verify"); !strings.HasPrefix(out, "ok:") {
				t.Errorf("verify: %s", out)
			}
		})
	}
}
