package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestReportCommands runs `vigil report` on a PMA device with one reportable case: the 806 draft on stdout and as
// a PDF file, marking it filed (its number, then the case's Part 806 status filed), the 806.20 record refused for
// it, a premarket decision, the PMA, 524B and plan documents in each format, the settings, and every generation in
// the audit trail. The documents' content is the service's golden files; this checks the command line around them
// (one engine: the storage under it runs on both in internal/service/regdocs).
func TestReportCommands(t *testing.T) {
	r := runner{t, storetest.MigratedDSN(t, store.SQLite)}
	r.unsigned()
	dir := t.TempDir()
	today := time.Now().UTC()
	day := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }
	r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC", "--fei", "3001234567", "--registration", "2950123")
	r.ok("device", "create", "--name", "Pump", "--class", "III", "--pathway", "PMA", "--number", "P150012", "--cyber-device",
		"--pma-anniversary", today.AddDate(-3, 2, 0).Format(time.DateOnly), "--functions", "dose delivery=catastrophic")
	r.ok("version", "create", "2.0", "--device", "Pump", "--units", "300")
	r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", day(-45), "--reason", "researcher report")
	r.ok("case", "assess", "1", "--date", day(-45), "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote dose change")
	r.ok("case", "event", "add", "1", "correction_initiated", "--date", day(-40), "--note", "CAPA-1")

	settings := filepath.Join(dir, "settings.json")
	os.WriteFile(settings, []byte(`{"address": "1 Way, Chicago", "responsible_person": {"name": "Dana Reyes", "title": "VP RA"}, "patch_cycle": "quarterly"}`), 0o600)
	if out := r.ok("report", "settings", "--set", settings, "--reason", "contacts"); !strings.Contains(out, "Dana Reyes") {
		t.Errorf("settings: %s", out)
	}
	if code, _, errs := r.run("", "report", "settings", "--set", "-"); code != 2 || !strings.Contains(errs, "-") {
		t.Errorf("empty settings on stdin: exit %d %s, want 2", code, errs)
	}
	md := r.ok("report", "806", "--case", "1")
	for _, want := range []string{"# 21 CFR 806.10 report of correction: 2950123-", "-001-C", "Dana Reyes", "P150012", "Data cut-off"} {
		if !strings.Contains(md, want) {
			t.Errorf("806 draft lacks %q:\n%s", want, md)
		}
	}
	pdf := filepath.Join(dir, "806.pdf")
	r.ok("report", "806", "--case", "1", "--format", "pdf", "-o", pdf)
	if b, err := os.ReadFile(pdf); err != nil || !strings.HasPrefix(string(b), "%PDF-") {
		t.Errorf("806 PDF: %v %.8q", err, b)
	}
	if out := r.ok("report", "806", "--case", "1", "--file", "--date", day(0)); !strings.Contains(out, "-001-C marked filed on "+day(0)) {
		t.Errorf("file: %s", out)
	}
	var show struct {
		Determination struct {
			Part806 struct{ Status string } `json:"part806"`
		}
	}
	json.Unmarshal([]byte(r.ok("--format", "json", "case", "show", "1")), &show)
	if show.Determination.Part806.Status != "filed" {
		t.Errorf("after --file the case's Part 806 status is %q", show.Determination.Part806.Status)
	}
	// A consignee of a new lot after the filing: `vigil deadlines` shows the 806.10(d) amendment due.
	r.ok("consignee", "create", "--name", "Lakeside", "--units", "Pump@2.0=10:L-9@"+day(0))
	if out := r.ok("--format", "json", "deadlines"); !strings.Contains(out, `"clock": "part806_amendment"`) || !strings.Contains(out, "2.0/L-9") {
		t.Errorf("deadlines lack the amendment clock: %s", out)
	}
	if code, _, errs := r.run("", "report", "806.20", "--case", "1"); code != 1 || !strings.Contains(errs, "vigil report 806 --case 1") {
		t.Errorf("806.20 of a reported correction: exit %d %s", code, errs)
	}
	r.ok("report", "premarket", "--case", "1", "--decide", "pma_supplement", "--basis", "changes the telemetry authentication")
	if out := r.ok("report", "premarket", "--case", "1"); !strings.Contains(out, "a PMA supplement under 21 CFR 814.39") {
		t.Errorf("premarket record: %s", out)
	}
	period := today.AddDate(0, 2, 0).Year()
	if out := r.ok("report", "pma", "--device", "Pump", "--period", itoa(int64(period)), "--format", "html"); !strings.Contains(out, "<h2>CVE-2025-0001 (case 1)</h2>") {
		t.Errorf("pma html: %s", out)
	}
	var st struct {
		Kind string
		Data struct {
			Critical []struct{ Vulnerability string } `json:"critical_uncontrolled_open"`
		}
	}
	if err := json.Unmarshal([]byte(r.ok("report", "524b", "--device", "1", "--format", "json")), &st); err != nil || st.Kind != "524b" || len(st.Data.Critical) != 1 {
		t.Errorf("524b json: %+v %v", st, err)
	}
	if out := r.ok("report", "cmp", "--device", "Pump"); !strings.Contains(out, "quarterly") {
		t.Errorf("cmp: %s", out)
	}
	if code, _, _ := r.run("", "report", "cmp", "--device", "Pump", "--format", "docx"); code != 2 {
		t.Errorf("--format docx: exit %d, want 2", code)
	}
	// A controlled-risk change is not reported: its 806.20 record, signed off and signed electronically.
	r.ok("finding", "create", "CVE-2025-0002", "--device", "Pump", "--version", "2.0", "--learned", day(-10), "--reason", "supplier bulletin")
	r.ok("case", "assess", "2", "--date", day(-10), "--confidentiality-only", "--rationale", "only the patient list is exposed")
	if code, out, errs := r.run("correct horse battery staple\n", "user", "add", "rae", "--role", "regulatory"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errs)
	}
	r.ok("user", "full-name", "rae", "Rae Quinn")
	code, out, errs := r.run("correct horse battery staple\n", "report", "806.20", "--case", "2", "--sign-off", "--meaning", "approval", "--user", "rae")
	if code != 0 || !strings.Contains(out, "Electronically signed by Rae Quinn (rae)") || !strings.Contains(out, "for approval") {
		t.Errorf("806.20 --sign-off --user: exit %d\n%s%s", code, out, errs)
	}
	if out := r.ok("report", "806.20", "--case", "2"); !strings.Contains(out, "Electronically signed by Rae Quinn (rae)") {
		t.Errorf("the 806.20 record does not show its signature:\n%s", out)
	}
	var evs []map[string]any
	json.Unmarshal([]byte(r.ok("--format", "json", "audit", "log", "--action", "report.generate")), &evs)
	if len(evs) != 7 {
		t.Errorf("%d report.generate events, want 7 (one per document generated)", len(evs))
	}
}
