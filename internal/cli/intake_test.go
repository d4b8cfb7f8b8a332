package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestIntakeFlow files a complaint and a CISA tip on the command line, sees the acknowledgement clocks in the inbox
// and in `vigil deadlines`, walks one report to closed and refuses the steps the workflow does not allow, on both
// engines.
func TestIntakeFlow(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC", "--cvd-ack-days", "3", "--cvd-contact", "mailto:psirt@acme.example")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k")
			out := r.ok("intake", "add", "--source", "complaint", "--device", "Pump", "--title", "Pump rebooted during a network scan",
				"--description", "Complaint CMP-88", "--reference", "CMP-88")
			if !strings.Contains(out, "VR-1") {
				t.Fatalf("add printed %q", out)
			}
			r.ok("intake", "add", "--source", "cisa", "--product", "IP-3 gateway", "--title", "CISA tip: exposed telnet", "--description", "Tip 2025-77")
			var inbox []struct {
				Number, Status, Source, Product string
				AckDue                          string `json:"ack_due"`
			}
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "intake", "list")), &inbox); err != nil {
				t.Fatal(err)
			}
			if len(inbox) != 2 || inbox[0].Product != "Pump" || inbox[1].Source != "cisa" || inbox[0].AckDue == "" {
				t.Fatalf("inbox: %+v", inbox)
			}
			var ds []struct {
				Clock, Report string
			}
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "deadlines")), &ds); err != nil {
				t.Fatal(err)
			}
			if len(ds) != 2 || ds[0].Clock != "cvd_ack" || ds[0].Report != "VR-1" || ds[1].Report != "VR-2" {
				t.Errorf("deadlines: %+v", ds)
			}
			if out := r.ok("deadlines"); !strings.Contains(out, "cvd_ack") || !strings.Contains(out, "VR-2") {
				t.Errorf("deadlines table:\n%s", out)
			}

			for _, bad := range [][]string{
				{"intake", "add", "--source", "researcher", "--product", "x", "--title", "x", "--description", "x"},
				{"intake", "add", "--source", "rumour", "--product", "x", "--title", "x", "--description", "x"},
				{"intake", "triage", "VR-1", "--finding", "1", "--message", "too early"},
				{"intake", "ack", "VR-1"},
				{"intake", "show", "VR-x"},
				{"intake", "close", "VR-1", "--resolution", "bored", "--reason", "x"},
			} {
				if code, _, errs := r.run("", bad...); code != 2 && code != 1 || errs == "" {
					t.Errorf("vigil %s: exit %d, stderr %q; want a refusal", strings.Join(bad, " "), code, errs)
				}
			}
			r.ok("intake", "ack", "VR-1", "--message", "Received; investigating.")
			r.ok("intake", "message", "1", "--message", "Which firmware build?")
			r.ok("intake", "close", "VR-1", "--resolution", "not_vulnerability", "--reason", "The reboot was a power fault.")
			if code, _, errs := r.run("", "intake", "advance", "VR-1", "--to", "remediation", "--message", "x"); code == 0 || !strings.Contains(errs, "closed") {
				t.Errorf("advancing a closed report: exit %d %q", code, errs)
			}
			show := r.ok("intake", "show", "VR-1")
			for _, want := range []string{"closed not_vulnerability", "-> acknowledged", "Which firmware build?", "The reboot was a power fault."} {
				if !strings.Contains(show, want) {
					t.Errorf("show lacks %q:\n%s", want, show)
				}
			}
			if err := json.Unmarshal([]byte(r.ok("--format", "json", "deadlines")), &ds); err != nil || len(ds) != 1 || ds[0].Report != "VR-2" {
				t.Errorf("deadlines after the acknowledgement: %v %+v", err, ds)
			}
			r.ok("intake", "policy", "set", "--expires", "2027-01-01", "--languages", "en,de", "--base-url", "https://psirt.acme.example", "--reason", "published")
			if out := r.ok("intake", "policy"); !strings.Contains(out, "2027-01-01") || !strings.Contains(out, "en, de") {
				t.Errorf("policy:\n%s", out)
			}
		})
	}
}

// TestCSAFSignalsBecomeReports imports a CISA ICSMA advisory naming two of our devices: each signal becomes one
// report to triage (source csaf, D0 the import's day), and importing again or running `intake signals` files no
// duplicate.
func TestCSAFSignalsBecomeReports(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme Medical", "--time-zone", "America/Chicago")
			r.ok("device", "create", "--name", "MiniMed 508", "--class", "II", "--pathway", "510k")
			r.ok("device", "create", "--name", "Veo Pump", "--model", "554CM", "--class", "II", "--pathway", "510k")
			doc := testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json")
			r.ok("import", doc)
			var reports []struct {
				Source, Product, Reference, Title, Status string
				SignalID                                  int64 `json:"signal_id"`
			}
			list := func() {
				t.Helper()
				if err := json.Unmarshal([]byte(r.ok("--format", "json", "intake", "list", "--source", "csaf")), &reports); err != nil {
					t.Fatal(err)
				}
			}
			list()
			if len(reports) != 2 {
				t.Fatalf("reports from the advisory: %+v", reports)
			}
			products := map[string]bool{}
			for _, rep := range reports {
				products[rep.Product] = true
				if rep.Reference != "ICSMA-19-178-01" || rep.SignalID == 0 || rep.Status != "received" || !strings.Contains(rep.Title, "ICSMA-19-178-01") {
					t.Errorf("report: %+v", rep)
				}
			}
			if !products["MiniMed 508"] || !products["Veo Pump"] {
				t.Errorf("products: %v", products)
			}
			r.ok("import", doc)
			if out := r.ok("--format", "json", "intake", "signals"); strings.TrimSpace(out) != "[]" {
				t.Errorf("intake signals after the import filed them: %s", out)
			}
			list()
			if len(reports) != 2 {
				t.Errorf("after a second import: %d reports, want 2", len(reports))
			}
		})
	}
}
