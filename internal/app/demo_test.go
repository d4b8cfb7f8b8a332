package app_test

import (
	"context"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// The demo shows each state of the FDA flow, live as of today, from real embedded data.
func TestDemoStates(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := app.CLIContext(context.Background())
			a, err := app.Open(ctx, storetest.MigratedDSN(t, engine), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if _, err := a.SeedDemo(ctx); err != nil {
				t.Fatal(err)
			}
			svc := a.Cases
			view := func(vuln string) *cases.View {
				fs, err := a.Cases.Findings(ctx, vigil.FindingFilter{Vuln: vuln})
				if err != nil || len(fs) != 1 {
					t.Fatalf("finding %s: %v %v", vuln, fs, err)
				}
				v, err := svc.FindingView(ctx, fs[0].ID, vigil.Date{})
				if err != nil || v.Determination == nil {
					t.Fatalf("view %s: %v %v", vuln, err, v.Problem)
				}
				return v
			}
			if d := view("PYSEC-2023-228").Determination; d.Risk != "controlled" || d.Change != "enhancement" {
				t.Errorf("pip: %s %s", d.Risk, d.Change)
			}
			jq := view("CVE-2020-11023")
			if jq.KEV == nil {
				t.Error("CVE-2020-11023 should carry its KEV entry")
			}
			if d := jq.Determination; d.Risk != "uncontrolled" || d.EnforcementDiscretion.Status != "pending" || d.Part806.Status != "conditional" {
				t.Errorf("jQuery: %s ED %s 806 %s", d.Risk, d.EnforcementDiscretion.Status, d.Part806.Status)
			}
			if d := view("CVE-2023-38545").Determination; d.EnforcementDiscretion.Status != "failed" || d.Part806.Status != "overdue" {
				t.Errorf("curl: ED %s 806 %s", d.EnforcementDiscretion.Status, d.Part806.Status)
			}
			// Both pump versions ship wolfSSL 4.8.1; the current one's finding is assessed and notified.
			pump, _ := a.Portfolio.DeviceByName(ctx, "Infusio IP-3")
			current, _ := a.Portfolio.VersionByName(ctx, pump.ID, "3.2.1")
			wolf, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: current.ID, Vuln: "CVE-2022-25640"})
			if err != nil || len(wolf) != 1 {
				t.Fatalf("wolfSSL finding: %v %v", wolf, err)
			}
			v, err := svc.FindingView(ctx, wolf[0].ID, vigil.Date{})
			if err != nil || v.Determination == nil || v.Determination.Risk != "uncontrolled" || v.Determination.EnforcementDiscretion.Status != "pending" {
				t.Fatalf("wolfSSL: %v %+v", err, v)
			}
			// One vulnerability on one device is one case, whatever number of versions ship it.
			if len(v.Versions) != 2 || v.Versions[0].Version != "3.1.0" || v.Versions[1].Version != "3.2.1" {
				t.Errorf("wolfSSL case versions: %+v, want 3.1.0 and 3.2.1", v.Versions)
			}
			closed, err := a.Cases.Findings(ctx, vigil.FindingFilter{Vuln: "GHSA-5crp-9r3c-p9vr", States: []vigil.FindingState{vigil.FindingClosed}})
			if err != nil || len(closed) != 1 {
				t.Errorf("closed Newtonsoft.Json finding: %v %v", closed, err)
			}
			// The real medical-device SBOM (the pump) matches the real records, not only hand-entered findings.
			matched := map[string]bool{}
			all, _ := a.Cases.Findings(ctx, vigil.FindingFilter{DeviceID: pump.ID, States: vigil.FindingStates})
			for _, f := range all {
				if f.Source != "manual" {
					matched[f.Component.Name+" "+f.Vulnerability] = true
				}
			}
			for _, want := range []string{"WolfSSL CVE-2022-25638", "WolfSSL CVE-2022-25640", "Newtonsoft.Json GHSA-5crp-9r3c-p9vr"} {
				if !matched[want] {
					t.Errorf("the pump's SBOM did not match %s (matched: %v)", want, matched)
				}
			}
			// The vulnerabilities screen's "KEV only" filter shows the KEV-listed jQuery flaw.
			kev, err := a.Intel.Vulns(ctx, vigil.VulnFilter{KEV: true})
			if err != nil || len(kev) == 0 || kev[0].ID != "CVE-2020-11023" {
				t.Errorf("KEV-only vulnerabilities: %v %v", kev, err)
			}
			open, _ := a.Cases.Findings(ctx, vigil.FindingFilter{})
			if len(open) < 50 {
				t.Errorf("demo portfolio has only %d open findings", len(open))
			}
			if _, err := a.Audit.Verify(ctx, nil); err != nil {
				t.Errorf("demo audit trail: %v", err)
			}
		})
	}
}
