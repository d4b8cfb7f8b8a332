package cli_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/vex"
)

// TestPlanAndVEXCommands takes the README's pump case from assessment to a plan, a validated and distributed fix
// and units updated in the field, on the command line: the case's remediation_plan, interim_controls and
// fix_distributed events follow from those records (criteria 2's plan and 3 met with nobody typing an event), and
// `vigil vex` publishes the version's status in OpenVEX and CycloneDX, each read back the same.
func TestPlanAndVEXCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.unsigned()
			today := time.Now().UTC().Format(time.DateOnly)
			r.ok("org", "create", "--name", "Acme Medical", "--time-zone", "UTC")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "3.2.1", "--device", "Pump", "--units", "100")
			r.ok("version", "create", "3.2.2", "--device", "Pump")
			r.ok("consignee", "create", "--name", "General Hospital", "--units", "Pump@3.2.1=60")
			r.ok("import", "../../examples/intel")
			r.ok("sbom", "import", "--device", "Pump", "--version", "3.2.1", "../../examples/sbom.cdx.json")
			id := strings.TrimSpace(r.ok("case", "list", "--vuln", "CVE-2022-25640", "--ids"))
			if id == "" {
				t.Fatal("no wolfSSL case")
			}
			exportStatus := func(format string) vigil.VEXStatus {
				t.Helper()
				out := r.ok("vex", "--device", "Pump", "--version", "3.2.1", "--format", format)
				doc, err := vex.ParseBytes("pump."+format+".json", []byte(out), vex.Limits())
				if err != nil {
					t.Fatalf("vex --format %s: %v\n%s", format, err, out)
				}
				for _, s := range doc.Statements {
					if s.Vulnerability == "CVE-2022-25640" {
						return s.Status
					}
				}
				t.Fatalf("vex --format %s has no statement of CVE-2022-25640:\n%s", format, out)
				return ""
			}
			if got := exportStatus("openvex"); got != vigil.VEXUnderInvestigation {
				t.Errorf("before assessment: %s, want under_investigation", got)
			}
			r.ok("case", "assess", id, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", "--functions", "dose delivery", "--rationale", "dose programming reachable")
			if code, _, errs := r.run("", "plan", "set", id, "--fix-release", "3.2.2"); code != 2 || !strings.Contains(errs, "rationale: required") {
				t.Errorf("plan set without a rationale: %d %s", code, errs)
			}
			r.ok("plan", "set", id, "--fix-release", "3.2.2", "--target", today, "--cycle", "out-of-cycle",
				"--control", "pumps on a dedicated VLAN|IFU §7.3|"+today, "--rationale", "wolfSSL 5.5 needs the regression suite")
			for _, format := range []string{"openvex", "cyclonedx"} {
				if got := exportStatus(format); got != vigil.VEXAffected {
					t.Errorf("assessed, fix planned (%s): %s, want affected", format, got)
				}
			}
			for _, format := range []string{"openvex", "cyclonedx-vex"} {
				code, out, errs := r.run("", "scan", "--device", "Pump", "--version", "3.2.1", "--format", format, "../../examples/sbom.cdx.json")
				doc, err := vex.ParseBytes("scan."+format+".json", []byte(out), vex.Limits())
				if code != 1 || err != nil {
					t.Fatalf("scan --format %s: %d %v\n%s", format, code, err, errs)
				}
				got := map[string]vigil.VEXStatus{}
				for _, s := range doc.Statements {
					got[s.Vulnerability] = s.Status
				}
				if got["CVE-2022-25640"] != vigil.VEXAffected || got["GHSA-5crp-9r3c-p9vr"] != vigil.VEXUnderInvestigation {
					t.Errorf("scan --format %s statuses = %v: want the case's affected for CVE-2022-25640, the unassessed match under investigation", format, got)
				}
			}
			action := r.ok("vex", "--device", "Pump", "--version", "3.2.1", "--format", "openvex")
			if !strings.Contains(action, "A fix is planned in 3.2.2") || !strings.Contains(action, "pumps on a dedicated VLAN (IFU §7.3)") {
				t.Errorf("the affected statement's action does not come from the plan:\n%s", action)
			}
			var rem struct {
				Fixes []struct {
					ID      int64 `json:"id"`
					EventID int64 `json:"event_id"`
				} `json:"fixes"`
				Metrics struct {
					DaysToPatch *int    `json:"days_to_patch"`
					Percent     float64 `json:"percent"`
				} `json:"metrics"`
			}
			if err := json.Unmarshal([]byte(r.ok("plan", "fix", id, "--release", "3.2.2", "--format", "json")), &rem); err != nil || len(rem.Fixes) != 1 {
				t.Fatalf("plan fix: %+v %v", rem, err)
			}
			fix := strconv.FormatInt(rem.Fixes[0].ID, 10)
			if code, _, errs := r.run("", "plan", "distribute", fix, "--date", today, "--channel", "remote update"); code != 2 || !strings.Contains(errs, "no V&V record") {
				t.Errorf("distribute before V&V: %d %s", code, errs)
			}
			r.ok("plan", "vv", fix, "--protocol", "VVP-31", "--report", "VVR-31", "--result", "passed", "--approver", "J. Smith, QA", "--validated", today)
			r.ok("plan", "distribute", fix, "--date", today, "--channel", "remote update")
			r.ok("plan", "deploy", id, "--consignee", "1", "--version", "3.2.1", "--units", "60", "--date", today)
			if err := json.Unmarshal([]byte(r.ok("plan", "show", id, "--format", "json")), &rem); err != nil {
				t.Fatal(err)
			}
			if rem.Fixes[0].EventID == 0 || rem.Metrics.DaysToPatch == nil || rem.Metrics.Percent != 60 {
				t.Errorf("after distribution and deployment: %+v", rem)
			}
			var cs struct {
				Determination struct {
					EnforcementDiscretion struct {
						Criteria []struct {
							Status string `json:"status"`
						} `json:"criteria"`
					} `json:"enforcement_discretion"`
				} `json:"determination"`
			}
			if err := json.Unmarshal([]byte(r.ok("case", "show", id, "--format", "json")), &cs); err != nil {
				t.Fatal(err)
			}
			show := r.ok("case", "show", id)
			for _, e := range []string{"E1 " + today + " remediation_plan", "E2 " + today + " interim_controls", "E3 " + today + " fix_distributed (fix release 3.2.2 (F1): V&V VVR-31 passed"} {
				if !strings.Contains(show, e) {
					t.Errorf("case show lacks %q:\n%s", e, show)
				}
			}
			if c := cs.Determination.EnforcementDiscretion.Criteria; len(c) != 4 || c[2].Status != "met" {
				t.Errorf("criterion 3 = %+v, want met", c)
			}
			if got := exportStatus("cyclonedx"); got != vigil.VEXAffected {
				t.Errorf("3.2.1 after the fix was distributed: %s, want affected (its units still run it)", got)
			}
			fixed := r.ok("vex", "--device", "Pump", "--version", "3.2.2", "--format", "openvex")
			if !strings.Contains(fixed, `"status": "fixed"`) || !strings.Contains(fixed, "CVE-2022-25640") {
				t.Errorf("3.2.2 does not say the fix:\n%s", fixed)
			}
			if code, _, errs := r.run("", "vex", "--device", "Pump", "--version", "3.2.1", "--format", "csaf"); code != 2 || !strings.Contains(errs, "--namespace: required") {
				t.Errorf("vex --format csaf without a namespace: %d %s", code, errs)
			}
			out := r.ok("vex", "--device", "Pump", "--version", "3.2.1", "--format", "csaf", "--namespace", "https://psirt.acme.example")
			doc, err := vex.ParseBytes("pump.csaf.json", []byte(out), vex.Limits())
			if err != nil || !strings.Contains(out, `"category": "vendor_fix"`) {
				t.Fatalf("vex --format csaf: %v\n%s", err, out)
			}
			for _, s := range doc.Statements {
				if s.Vulnerability == "CVE-2022-25640" && s.Status != vigil.VEXAffected {
					t.Errorf("csaf: CVE-2022-25640 is %s, want affected", s.Status)
				}
			}

			// The V&V record withdrawn: criterion 3 is no longer met, the record is kept; then the release itself.
			if code, _, errs := r.run("", "plan", "retract", fix, "--reason", "wrong build"); code != 2 || !strings.Contains(errs, "one of --vv") {
				t.Errorf("plan retract without --vv or --release: %d %s", code, errs)
			}
			out = r.ok("plan", "retract", fix, "--vv", "--reason", "VVR-31 tested the wrong build")
			if !strings.Contains(out, "VVR-31 retracted: VVR-31 tested the wrong build") {
				t.Errorf("plan retract --vv:\n%s", out)
			}
			if err := json.Unmarshal([]byte(r.ok("case", "show", id, "--format", "json")), &cs); err != nil {
				t.Fatal(err)
			}
			if c := cs.Determination.EnforcementDiscretion.Criteria; len(c) != 4 || c[2].Status == "met" {
				t.Errorf("criterion 3 after the V&V was retracted = %+v", c)
			}
			out = r.ok("plan", "retract", fix, "--release", "--reason", "release 3.2.2 recalled")
			if !strings.Contains(out, "Fix "+fix+" (3.2.2) retracted") || !strings.Contains(out, "release 3.2.2 recalled") {
				t.Errorf("plan retract --release:\n%s", out)
			}
			if code, _, errs := r.run("", "plan", "retract", fix, "--release", "--reason", "again"); code == 0 || !strings.Contains(errs, "retracted already") {
				t.Errorf("plan retract twice: %d %s", code, errs)
			}
		})
	}
}
