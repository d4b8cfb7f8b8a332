package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// demoBulletin is a Health-ISAC bulletin on CVE-2023-38545 as a STIX 2.1 bundle.
const demoBulletin = `{"type":"bundle","id":"bundle--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","objects":[
{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--7c2b4e1a-3d5f-4a6b-8c9d-0e1f2a3b4c5d","created":"2023-10-11T14:00:00.000Z","modified":"2023-10-11T14:00:00.000Z",
 "name":"curl SOCKS5 heap overflow in patient-monitoring gateways","description":"Member reports of CVE-2023-38545 reachable from central-station clients that use a SOCKS5 proxy.",
 "external_references":[{"source_name":"cve","external_id":"CVE-2023-38545"}]}]}`

// seedDemoIntel imports the embedded intelligence subset (real NVD, GitHub, OSV, KEV, EPSS and ICSMA data),
// matches the portfolio, and takes findings through each state of the FDA flow, dated relative to today so the
// demo's clocks are always live: controlled, uncontrolled with enforcement discretion pending (two), a missed 30-day
// step (ED lost, the 806 report overdue) and closed; the other matches stay unassessed.
func (a *App) seedDemoIntel(ctx context.Context, sig *vigil.SignRequest) error {
	b, err := demoFS.ReadFile("demodata/intel.zip")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vigil-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "intel.zip")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	// The import re-matches what it changed: every package of the demo SBOMs, which were stored before it.
	if _, err := a.Intel.Import(ctx, []string{path}, vigil.ImportOptions{}); err != nil {
		return fmt.Errorf("demo intelligence: %w", err)
	}
	svc := a.Cases
	today := svc.Today(ctx)
	version := func(device, ver string) (*vigil.DeviceVersion, error) {
		d, err := a.Portfolio.DeviceByName(ctx, device)
		if err != nil {
			return nil, err
		}
		return a.Portfolio.VersionByName(ctx, d.ID, ver)
	}

	// 1. Controlled: a local, high-privilege pip flaw on the imaging workstation that can reach only the PHI archive.
	iw, err := version("ClearScan IW-2", "2.5")
	if err != nil {
		return err
	}
	pip, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: iw.ID, Vuln: "PYSEC-2023-228"})
	if err != nil || len(pip) == 0 {
		return fmt.Errorf("demo: the pip finding did not match (%v)", err)
	}
	if _, err := svc.Assess(ctx, cases.AssessInput{Signature: sig, CaseID: pip[0].CaseID, CVSS: "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:L/A:N",
		Functions: []string{"study archive (PHI)"}, Controls: []string{"pip is used only at build time, not at run time"},
		Rationale: "pip is not invoked on a fielded workstation; no clinical function is reachable."}); err != nil {
		return fmt.Errorf("demo assessment 1: %w", err)
	}

	// 2. Uncontrolled, enforcement discretion pending: CVE-2020-11023 (KEV-listed) in the pump's service web UI.
	ip, err := version("Infusio IP-3", "3.2.1")
	if err != nil {
		return err
	}
	jq := &vigil.Finding{VersionID: ip.ID, Vulnerability: "CVE-2020-11023", Source: "manual", Learned: today.AddDays(-12),
		Component: vigil.Component{Name: "jQuery", Version: "3.1.1", Purl: "pkg:nuget/jQuery@3.1.1"},
		Evidence:  vigil.Evidence{Matcher: "manual", Range: "< 3.5.0", Fixed: "3.5.0", Reason: "KEV triage: CISA added CVE-2020-11023; jQuery 3.1.1 ships in the service web UI"}}
	if err := a.Cases.CreateFinding(ctx, jq, "PSIRT triage of the CISA KEV addition against the pump SBOM"); err != nil {
		return err
	}
	if _, err := svc.Assess(ctx, cases.AssessInput{Signature: sig, CaseID: jq.CaseID, Date: today.AddDays(-10), CVSS: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N",
		Functions: []string{"drug library"}, Controls: []string{"service UI reachable only on the biomed VLAN"},
		Rationale: "XSS in the service UI can alter drug-library limits a clinician relies on."}); err != nil {
		return fmt.Errorf("demo assessment 2: %w", err)
	}
	for _, e := range []vigil.CaseEvent{
		{Type: "customer_notified", Date: today.AddDays(-5), Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "Customer notice CN-2026-014 (all four G2016 elements)"},
		{Type: "interim_controls", Date: today.AddDays(-5), Note: "CN-2026-014 §3: disable the service UI; biomed VLAN ACL"},
	} {
		e.CaseID = jq.CaseID
		if err := svc.RecordEvent(ctx, &e); err != nil {
			return fmt.Errorf("demo event %s: %w", e.Type, err)
		}
	}

	// 3. Missed clock: CVE-2023-38545 (curl SOCKS5 overflow) in the monitor; the notice went out on day 34.
	pm, err := version("VitalView PM-7", "7.0.4")
	if err != nil {
		return err
	}
	curl := &vigil.Finding{VersionID: pm.ID, Vulnerability: "CVE-2023-38545", Source: "manual", Learned: today.AddDays(-75),
		Component: vigil.Component{Name: "libcurl4", Version: "7.74.0-1.3+deb11u3", Purl: "pkg:deb/debian/libcurl4@7.74.0-1.3%2Bdeb11u3?arch=armhf"},
		Evidence:  vigil.Evidence{Matcher: "manual", Range: ">= 7.69.0, < 8.4.0", Fixed: "8.4.0"}}
	if err := a.Cases.CreateFinding(ctx, curl, "Health-ISAC bulletin on CVE-2023-38545, checked against the monitor SBOM"); err != nil {
		return err
	}
	// The Health-ISAC bulletin itself, as the ISAO sent it in STIX: a signal linked to the case, cited by the
	// assessment it prompted (G2016 §IX item 4).
	in, err := a.ISAO.ImportSTIX(ctx, "Health-ISAC", "H-ISAC-bulletin-2023-38545.stix.json", strings.NewReader(demoBulletin))
	if err != nil {
		return fmt.Errorf("demo ISAO bulletin: %w", err)
	}
	sigs, err := a.ISAO.Signals(ctx, in.ISAO, curl.CaseID)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("demo: the ISAO bulletin touched no case (%v)", err)
	}
	if _, err := svc.Assess(ctx, cases.AssessInput{Signature: sig, CaseID: curl.CaseID, Date: today.AddDays(-72), CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		Functions: []string{"physiological alarms"}, Controls: []string{"central-station traffic is not proxied"}, Signals: []int64{sigs[0].ID},
		Rationale: "A heap overflow in the central-station client could stop alarm delivery."}); err != nil {
		return fmt.Errorf("demo assessment 3: %w", err)
	}
	for _, e := range []vigil.CaseEvent{
		{Type: "customer_notified", Date: today.AddDays(-41), Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "Customer notice CN-2026-009, sent on day 34"},
		{Type: "interim_controls", Date: today.AddDays(-41), Note: "CN-2026-009 §2: block outbound SOCKS at the hospital firewall"},
		{Type: "remediation_plan", Date: today.AddDays(-41), Note: "CAPA-2026-031: firmware 7.0.5 with curl 8.4.0"},
		{Type: "isao_shared", Date: today.AddDays(-40), Note: "Health-ISAC portal submission HI-2026-5512"},
	} {
		e.CaseID = curl.CaseID
		if err := svc.RecordEvent(ctx, &e); err != nil {
			return fmt.Errorf("demo event %s: %w", e.Type, err)
		}
	}
	// 4. Uncontrolled, enforcement discretion pending, matched for real: CVE-2022-25640 (NVD, wolfSSL before 5.2.0)
	// in the pump's network stack; the notice is out, the ISAO share still due.
	wolf, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: ip.ID, Vuln: "CVE-2022-25640"})
	if err != nil || len(wolf) == 0 {
		return fmt.Errorf("demo: the wolfSSL finding did not match (%v)", err)
	}
	if _, err := svc.Assess(ctx, cases.AssessInput{Signature: sig, CaseID: wolf[0].CaseID, CVSS: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
		Functions: []string{"dose delivery"}, Controls: []string{"pump-to-server TLS only on the infusion VLAN"},
		Rationale: "A client that skips certificate_verify can reach the dose-programming service of the pump."}); err != nil {
		return fmt.Errorf("demo assessment 4: %w", err)
	}
	e := vigil.CaseEvent{CaseID: wolf[0].CaseID, Type: "customer_notified", Date: today, Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}},
		Note: "Customer notice CN-2026-021 (all four G2016 elements)"}
	if err := svc.RecordEvent(ctx, &e); err != nil {
		return fmt.Errorf("demo event %s: %w", e.Type, err)
	}

	// 5. Closed: Newtonsoft.Json 9.0.1 (GitHub advisory GHSA-5crp-9r3c-p9vr) on the older pump version, whose
	// deserializer reads only the pump's own signed drug library; assessed controlled, then closed with the reason.
	old, err := version("Infusio IP-3", "3.1.0")
	if err != nil {
		return err
	}
	nj, err := a.Cases.Findings(ctx, vigil.FindingFilter{VersionID: old.ID, Vuln: "GHSA-5crp-9r3c-p9vr"})
	if err != nil || len(nj) == 0 {
		return fmt.Errorf("demo: the Newtonsoft.Json finding did not match (%v)", err)
	}
	if _, err := svc.Assess(ctx, cases.AssessInput{Signature: sig, CaseID: nj[0].CaseID, CVSS: "CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:N/I:N/A:L",
		Functions: []string{"drug library"}, Controls: []string{"the drug library is signed and verified before it is parsed"},
		VEXStatus: vigil.VEXNotAffected, Rationale: "Only the signed drug library is deserialized; no attacker-controlled JSON reaches Newtonsoft.Json."}); err != nil {
		return fmt.Errorf("demo assessment 5: %w", err)
	}
	if err := a.Cases.SetFindingState(ctx, nj[0].ID, vigil.FindingClosed, "Not affected: VEX statement VEX-IP3-2026-002 (signed input only)"); err != nil {
		return fmt.Errorf("demo closing: %w", err)
	}
	return nil
}
