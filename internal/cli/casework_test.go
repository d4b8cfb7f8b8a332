package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestCaseCorrectionsCLI runs the case commands past the contract on both engines: two versions' findings are one
// case; it is given an owner and found by it; each version gets its own VEX status; the second version's finding
// is split out under its own CVE with D0 kept; a corrected assessment supersedes the first; the trail verifies.
func TestCaseCorrectionsCLI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.unsigned()
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "2.0", "--device", "Pump")
			r.ok("version", "create", "2.1", "--device", "Pump")
			if code, out, errs := r.run("correct horse battery staple\n", "user", "add", "bob", "--role", "psirt"); code != 0 {
				t.Fatalf("user add: %d %s %s", code, out, errs)
			}
			d0 := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			for _, v := range []string{"2.0", "2.1"} {
				r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", v, "--learned", d0, "--reason", "researcher report VR-3")
			}
			show := func(id string) cases.Out {
				t.Helper()
				var o cases.Out
				if err := json.Unmarshal([]byte(r.ok("--format", "json", "case", "show", id)), &o); err != nil {
					t.Fatal(err)
				}
				return o
			}
			if o := show("1"); len(o.Versions) != 2 || o.Learned.String() != d0 {
				t.Fatalf("one case for both versions: %+v", o)
			}
			r.ok("case", "assign", "1", "bob", "--reason", "on call")
			if got := strings.TrimSpace(r.ok("case", "list", "--owner", "bob", "--ids")); got != "1" {
				t.Errorf("case list --owner bob: %q", got)
			}
			r.ok("case", "vex", "1", "--version", "2.0", "--status", "not_affected", "--justification", "code_not_reachable", "--reason", "code review CR-88")
			r.ok("case", "vex", "1", "--version", "2.1", "--status", "affected", "--action", "update to 2.2", "--reason", "reproduced")
			if code, _, errs := r.run("", "case", "vex", "1", "--version", "2.0", "--status", "not_affected", "--reason", "r"); code != 2 || !strings.Contains(errs, "justification") {
				t.Errorf("not_affected without a why: exit %d %s", code, errs)
			}
			o := show("1")
			if len(o.VEX) != 2 || o.VEX[0].Version != "2.0" || o.VEX[0].Justification != "code_not_reachable" || o.VEX[1].Status != "affected" || o.Owner != "bob" {
				t.Errorf("VEX per version and owner: %+v %q", o.VEX, o.Owner)
			}
			var second int64
			for _, v := range o.Versions {
				if v.Version == "2.1" {
					second = v.FindingID
				}
			}
			var split cases.Out
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "case", "split", "1", "--findings", itoa(second), "--vuln", "CVE-2025-0002",
				"--reason", "2.1 carries another flaw")), &split); err != nil {
				t.Fatal(err)
			}
			if split.Vulnerability != "CVE-2025-0002" || len(split.Versions) != 1 || split.Versions[0].FindingID != second || split.Learned.String() != d0 {
				t.Errorf("the split case: %+v", split)
			}
			if o := show("1"); len(o.Versions) != 1 {
				t.Errorf("the original after the split: %+v", o.Versions)
			}
			for _, risk := range []string{"uncontrolled", "controlled"} {
				r.ok("case", "assess", "1", "--risk", risk, "--risk-reason", "matrix", "--severity", "critical", "--severity-reason", "dose",
					"--exploitability", "high", "--exploitability-reason", "network", "--rationale", "assessed "+risk)
			}
			r.ok("case", "retract", "1", "A1", "--superseded-by", "A2", "--reason", "the device's own matrix decides")
			// Disclosure coordination: each command starts from the standing record and changes what its flags give.
			r.ok("case", "disclosure", "1", "--embargo", "2025-09-01", "--partners", "cisa,reporter", "--cve-requested-from", "CISA", "--credit", "Rae Searcher",
				"--reason", "agreed with the reporter")
			if code, _, errs := r.run("", "case", "disclosure", "1", "--cve", "CVE-2025-0001", "--reason", "assigned"); code != 2 || !strings.Contains(errs, "cve_assigned_by") {
				t.Errorf("a CVE without the CNA: exit %d %s", code, errs)
			}
			if code, _, errs := r.run("", "case", "disclosure", "1", "--credit", "x"); code != 2 || !strings.Contains(errs, "reason") {
				t.Errorf("without a reason: exit %d %s", code, errs)
			}
			r.ok("case", "disclosure", "1", "--cve", "CVE-2025-0001", "--cve-assigned-by", "CISA", "--embargo", "", "--reason", "CVE assigned, embargo lifted")
			if o := show("1"); len(o.Disclosures) != 2 || o.Disclosures[1].Embargo != nil || o.Disclosures[1].CVE != "CVE-2025-0001" ||
				o.Disclosures[1].Credit != "Rae Searcher" || strings.Join(o.Disclosures[1].Partners, ",") != "cisa,reporter" {
				t.Errorf("disclosure records: %+v", o.Disclosures)
			}
			if out := r.ok("case", "show", "1"); !strings.Contains(out, "disclosure ") || !strings.Contains(out, ": partners cisa, reporter; CVE requested from CISA; CVE-2025-0001") || !strings.Contains(out, "(CVE assigned, embargo lifted)") {
				t.Errorf("case show lacks the disclosure: %s", out)
			}
			if o := show("1"); len(o.Withdrawn) != 1 || o.Withdrawn[0].Retraction.SupersededBy != "A2" || o.Determination == nil || o.Determination.Risk != "controlled" {
				t.Errorf("after the supersession: %+v %+v", o.Withdrawn, o.Determination)
			}
			if out := r.ok("audit", "verify"); !strings.HasPrefix(out, "ok:") {
				t.Errorf("verify: %s", out)
			}
		})
	}
}
