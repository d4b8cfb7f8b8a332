package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	csafin "github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestNoticeAndAdvisoryCommands checks issue 13's command-line contract on both engines: `notice draft` answers
// {"id", "missing_elements"}, an element is written with `notice edit`, `notice send` refuses a notice missing an
// element without a reason and records customer_notified on the case when sent; `advisory draft` answers {"id"},
// `advisory show` prints a valid CSAF document, `advisory publish` adds a revision.
func TestNoticeAndAdvisoryCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.unsigned()
			r.ok("org", "create", "--name", "Acme Medical", "--time-zone", "UTC", "--cvd-contact", "psirt@acme.example")
			r.ok("intake", "policy", "set", "--base-url", "https://psirt.acme.example", "--expires", time.Now().AddDate(0, 6, 0).Format(time.DateOnly), "--reason", "publish")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "2.0", "--device", "Pump", "--units", "30")
			r.ok("consignee", "create", "--name", "General Hospital", "--email", "biomed@general.example", "--email", "ciso@general.example", "--units", "Pump@2.0=30")
			if code, _, errs := r.run("", "consignee", "create", "--name", "Bad", "--email", "not an address"); code != 2 || !strings.Contains(errs, "emails[0]") {
				t.Errorf("bad address: exit %d %s", code, errs)
			}
			r.ok("finding", "create", "CVE-2022-25640", "--device", "Pump", "--version", "2.0", "--learned", time.Now().UTC().Format(time.DateOnly), "--reason", "bulletin")
			r.ok("case", "assess", "1", "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", "--functions", "dose delivery", "--controls", "network segmented per IFU 7.3", "--rationale", "remote dose change")

			var draft struct {
				ID      int64    `json:"id"`
				Missing []string `json:"missing_elements"`
			}
			if err := json.Unmarshal([]byte(r.ok("notice", "draft", "--case", "1", "--format", "json")), &draft); err != nil || draft.ID != 1 || strings.Join(draft.Missing, ",") != "d" {
				t.Fatalf("notice draft: %+v %v", draft, err)
			}
			if code, _, errs := r.run("", "notice", "send", "1"); code != 2 || !strings.Contains(errs, "(d) a fix is coming") {
				t.Errorf("send with d missing: exit %d %s", code, errs)
			}
			r.ok("notice", "edit", "N-1", "--element", "d=Release 2.1 fixes it; we will tell you when it is available.")
			if out := r.ok("notice", "preview", "1"); !strings.Contains(out, "To: biomed@general.example (General Hospital), ciso@general.example (General Hospital)") || !strings.Contains(out, "Release 2.1 fixes it") {
				t.Errorf("preview:\n%s", out)
			}
			r.ok("notice", "send", "1")
			var shown struct {
				State      string `json:"state"`
				Deliveries []struct {
					State string `json:"state"`
				} `json:"deliveries"`
			}
			if err := json.Unmarshal([]byte(r.ok("notice", "show", "1", "--format", "json")), &shown); err != nil || shown.State != "sent" || len(shown.Deliveries) != 2 || shown.Deliveries[0].State != "queued" {
				t.Errorf("notice show: %+v %v", shown, err)
			}
			// Criterion 2 no longer waits for the notice: only the plan and the interim controls are still needed.
			if out := r.ok("case", "show", "1", "--format", "json"); strings.Contains(out, "a customer notice with elements") || !strings.Contains(out, "interim compensating controls") {
				t.Errorf("case after the notice:\n%s", out)
			}

			var adv struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal([]byte(r.ok("advisory", "draft", "--notice", "1", "--format", "json")), &adv); err != nil || adv.ID != 1 {
				t.Fatalf("advisory draft: %+v %v", adv, err)
			}
			for _, status := range []string{"draft", "final"} {
				if status == "final" {
					r.ok("advisory", "publish", "1")
				}
				doc := r.ok("advisory", "show", "1")
				rep, err := csafin.Validate([]byte(doc))
				if err != nil || !rep.Valid() || !strings.Contains(doc, `"status": "`+status+`"`) || !strings.Contains(doc, `"namespace": "https://psirt.acme.example"`) {
					t.Errorf("advisory show (%s): %+v %v\n%s", status, rep, err, doc)
				}
			}
			if out := r.ok("advisory", "list"); !strings.Contains(out, "ACMEMEDICAL-SA-") || !strings.Contains(out, "final") {
				t.Errorf("advisory list:\n%s", out)
			}
		})
	}
}
