package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// pump creates the organization and an infusion pump with two clinical functions.
func pump(t testing.TB, db *store.DB, name string) *vigil.Device {
	t.Helper()
	ctx := storetest.Admin()
	if orgs, err := db.Orgs(ctx); err == nil && len(orgs) == 0 { // a store at an older schema has its organization already
		seedOrg(t, db)
	}
	d := &vigil.Device{Name: name, Class: "II", Pathway: vigil.Pathway510k,
		Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}, {Name: "event log", Severity: vigil.HarmNegligible}}}
	if err := db.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// pumpVersions creates the pump (pump) with one version per name, each with its SBOM from sboms imported, and
// returns the versions' ids by name.
func pumpVersions(t testing.TB, db *store.DB, sboms map[string][]vigil.Component, names ...string) map[string]int64 {
	t.Helper()
	ctx := storetest.Admin()
	d := pump(t, db, "Pump")
	ids := map[string]int64{}
	for _, n := range names {
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: n}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ImportSBOM(ctx, v.ID, sboms[n], vigil.SBOMMeta{Source: "test", Format: "cyclonedx-json 1.6"}, nil); err != nil {
			t.Fatal(err)
		}
		ids[n] = v.ID
	}
	return ids
}

// TestDeviceAcceptanceMatrix checks that a device's matrix is validated by the engine that decides with it,
// stored in its canonical form, read back, cleared with null, and that a bad one names the cell.
func TestDeviceAcceptanceMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		if d.AcceptanceMatrix != nil {
			t.Fatalf("new device has matrix %s, want none (the default)", d.AcceptanceMatrix)
		}
		cells := `{"name":"pump-strict","version":"2","cells":{
			"high":{"negligible":"C","minor":"U","serious":"U","critical":"U","catastrophic":"U"},
			"medium":{"negligible":"C","minor":"C","serious":"U","critical":"U","catastrophic":"U"},
			"low":{"negligible":"C","minor":"C","serious":"C","critical":"U","catastrophic":"U"}}}`
		d.AcceptanceMatrix = json.RawMessage(cells)
		if err := db.UpdateDevice(ctx, d, "QA-SOP-7: stricter matrix for the pump"); err != nil {
			t.Fatal(err)
		}
		want := `{"name":"pump-strict","version":"2","uncontrolled":{"high":["minor","serious","critical","catastrophic"],"low":["critical","catastrophic"],"medium":["serious","critical","catastrophic"]}}`
		if string(d.AcceptanceMatrix) != want {
			t.Errorf("canonical matrix %s, want %s", d.AcceptanceMatrix, want)
		}
		got, err := db.Device(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d, got, cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
			t.Errorf("device (-want +got):\n%s", diff)
		}
		for _, bad := range []struct{ doc, field string }{
			{`{"name":"x","version":"1","uncontrolled":{"high":["fatal"]}}`, "acceptance_matrix.uncontrolled.high[0]"},
			{`{"name":"x","uncontrolled":{}}`, "acceptance_matrix.version"},
			{`["C"]`, "acceptance_matrix"},
		} {
			d.AcceptanceMatrix = json.RawMessage(bad.doc)
			err := db.UpdateDevice(ctx, d, "typo")
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(vigil.ErrorMessage(err), bad.field+":") {
				t.Errorf("matrix %s: %v, want EINVALID naming %s", bad.doc, err, bad.field)
			}
		}
		if got, _ := db.Device(ctx, d.ID); string(got.AcceptanceMatrix) != want {
			t.Errorf("a refused update changed the matrix to %s", got.AcceptanceMatrix)
		}
		d.AcceptanceMatrix = json.RawMessage(`null`)
		if err := db.UpdateDevice(ctx, d, "back to the program default"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Device(ctx, d.ID); got.AcceptanceMatrix != nil {
			t.Errorf("null did not clear the matrix: %s", got.AcceptanceMatrix)
		}
		evs, err := db.Events(ctx, vigil.AuditFilter{ObjectType: "device", Action: "device.update"})
		if err != nil || len(evs) != 2 || !strings.Contains(string(evs[0].New)+string(evs[1].New), "pump-strict") {
			t.Errorf("device.update events %d (%v): the matrix change must be audited", len(evs), err)
		}
	})
}

// TestThreatModel builds a device's threat model through the service and checks refs, links, validation, the
// audit trail and the whole-model read, on both engines.
func TestThreatModel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		other := pump(t, db, "Monitor")

		wifi := &vigil.Asset{DeviceID: d.ID, Ref: "IF-WIFI", Name: "Wi-Fi interface", Kind: vigil.AssetInterface}
		params := &vigil.Asset{DeviceID: d.ID, Name: "therapy parameters", Kind: vigil.AssetData, Description: "drug library and rates"}
		for _, a := range []*vigil.Asset{wifi, params} {
			if err := db.CreateAsset(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if params.Ref != "A-1" {
			t.Errorf("assigned asset ref %q, want A-1", params.Ref)
		}
		threat := &vigil.Threat{DeviceID: d.ID, Title: "Remote change of the infusion rate", Category: vigil.StrideTampering,
			Assets: []string{"if-wifi", "A-1", "A-1"}, Functions: []string{"Dose Delivery"}, EntryPoints: []string{"Wi-Fi", " "}}
		if err := db.CreateThreat(ctx, threat); err != nil {
			t.Fatal(err)
		}
		if threat.Ref != "T-1" || !cmp.Equal(threat.Assets, []string{"IF-WIFI", "A-1"}) || !cmp.Equal(threat.Functions, []string{"dose delivery"}) ||
			!cmp.Equal(threat.EntryPoints, []string{"Wi-Fi"}) {
			t.Errorf("threat not normalized: %+v", threat)
		}
		logT := &vigil.Threat{DeviceID: d.ID, Ref: "T-7", Title: "Log flooding", Category: vigil.StrideDenialOfService, Functions: []string{"event log"}}
		if err := db.CreateThreat(ctx, logT); err != nil {
			t.Fatal(err)
		}
		next := &vigil.Threat{DeviceID: d.ID, Title: "Spoofed drug library", Category: vigil.StrideSpoofing}
		if err := db.CreateThreat(ctx, next); err != nil || next.Ref != "T-8" {
			t.Errorf("next threat ref %q (%v), want T-8 after T-7", next.Ref, err)
		}
		mit := &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlMitigation, Name: "Signed rate-change messages", Reference: "SDS-41", Threats: []string{"t-1"}}
		cc := &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlCompensating, Name: "Isolate pumps on a dedicated VLAN", Reference: "IFU §7.3", Threats: []string{"T-1", "T-7"}}
		for _, c := range []*vigil.Control{mit, cc} {
			if err := db.CreateControl(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if mit.Ref != "M-1" || cc.Ref != "CC-1" {
			t.Errorf("control refs %q, %q; want M-1, CC-1", mit.Ref, cc.Ref)
		}

		// Mistakes are refused with the field named; nothing is written.
		for _, tc := range []struct {
			name string
			err  error
			code string
			msg  string
		}{
			{"duplicate ref, other case", db.CreateAsset(ctx, &vigil.Asset{DeviceID: d.ID, Ref: "if-wifi", Name: "x", Kind: vigil.AssetData}), vigil.ECONFLICT, "ref: IF-WIFI"},
			{"same ref on another device is fine", db.CreateAsset(ctx, &vigil.Asset{DeviceID: other.ID, Ref: "IF-WIFI", Name: "x", Kind: vigil.AssetInterface}), "", ""},
			{"unknown kind", db.CreateAsset(ctx, &vigil.Asset{DeviceID: d.ID, Name: "x", Kind: "person"}), vigil.EINVALID, "kind:"},
			{"bad ref", db.CreateAsset(ctx, &vigil.Asset{DeviceID: d.ID, Ref: "a b", Name: "x", Kind: vigil.AssetData}), vigil.EINVALID, "ref:"},
			{"no device", db.CreateAsset(ctx, &vigil.Asset{DeviceID: 999, Name: "x", Kind: vigil.AssetData}), vigil.EINVALID, "device_id:"},
			{"asset of another device", db.CreateThreat(ctx, &vigil.Threat{DeviceID: other.ID, Title: "x", Category: vigil.StrideTampering, Assets: []string{"A-1"}}), vigil.EINVALID, "assets[0]:"},
			{"unknown function", db.CreateThreat(ctx, &vigil.Threat{DeviceID: d.ID, Title: "x", Category: vigil.StrideTampering, Functions: []string{"event log", "teleport"}}), vigil.EINVALID, "functions[1]:"},
			{"unknown STRIDE category", db.CreateThreat(ctx, &vigil.Threat{DeviceID: d.ID, Title: "x", Category: "phishing"}), vigil.EINVALID, "category:"},
			{"no title", db.CreateThreat(ctx, &vigil.Threat{DeviceID: d.ID, Category: vigil.StrideTampering}), vigil.EINVALID, "title:"},
			{"compensating control without IFU reference", db.CreateControl(ctx, &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlCompensating, Name: "firewall"}), vigil.EINVALID, "reference:"},
			{"control for an unknown threat", db.CreateControl(ctx, &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlMitigation, Name: "x", Threats: []string{"T-99"}}), vigil.EINVALID, "threats[0]:"},
			{"control ref already used by the other kind", db.CreateControl(ctx, &vigil.Control{DeviceID: d.ID, Ref: "M-1", Kind: vigil.ControlCompensating, Name: "x", Reference: "IFU"}), vigil.ECONFLICT, "ref: M-1"},
			{"update without reason", db.UpdateThreat(ctx, &vigil.Threat{DeviceID: d.ID, Ref: "T-1", Title: "x", Category: vigil.StrideTampering}, " "), vigil.EINVALID, "reason:"},
			{"update of a missing threat", db.UpdateThreat(ctx, &vigil.Threat{DeviceID: d.ID, Ref: "T-99", Title: "x", Category: vigil.StrideTampering}, "r"), vigil.ENOTFOUND, ""},
			{"control kind cannot change", db.UpdateControl(ctx, &vigil.Control{DeviceID: d.ID, Ref: "M-1", Kind: vigil.ControlCompensating, Name: "x", Reference: "IFU"}, "r"), vigil.EINVALID, "kind:"},
			{"a viewer may not write", db.CreateAsset(storetest.As("val", vigil.RoleViewer), &vigil.Asset{DeviceID: d.ID, Name: "x", Kind: vigil.AssetData}), vigil.EFORBIDDEN, ""},
		} {
			if vigil.ErrorCode(tc.err) != tc.code || !strings.HasPrefix(vigil.ErrorMessage(tc.err), tc.msg) {
				t.Errorf("%s: %v (code %q), want %q starting %q", tc.name, tc.err, vigil.ErrorCode(tc.err), tc.code, tc.msg)
			}
		}

		// An update with a reason replaces the fields and links, keeps the ref, and is audited with the reason.
		upd := &vigil.Threat{DeviceID: d.ID, Ref: "t-7", Title: "Log flooding over Wi-Fi", Category: vigil.StrideDenialOfService,
			Assets: []string{"IF-WIFI"}, Functions: []string{"event log"}, EntryPoints: []string{"Wi-Fi"}}
		if err := db.UpdateThreat(ctx, upd, "pen test PT-2025-03 found the log reachable over Wi-Fi"); err != nil {
			t.Fatal(err)
		}
		if upd.Ref != "T-7" || upd.ID != logT.ID {
			t.Errorf("update changed identity: %+v", upd)
		}
		got, err := db.Threat(ctx, d.ID, "T-7")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(upd, got, cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
			t.Errorf("threat after update (-want +got):\n%s", diff)
		}
		if err := db.UpdateAsset(ctx, &vigil.Asset{DeviceID: d.ID, Ref: "A-1", Name: "therapy parameters", Kind: vigil.AssetData, Description: "drug library, rates, limits"}, "limits added"); err != nil {
			t.Fatal(err)
		}
		mit.Threats = []string{"T-1", "T-8"}
		if err := db.UpdateControl(ctx, mit, "signing also covers the drug library"); err != nil {
			t.Fatal(err)
		}

		m, err := db.ThreatModel(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		type brief struct{ Ref, Links string }
		var gotBrief []brief
		for _, a := range m.Assets {
			gotBrief = append(gotBrief, brief{a.Ref, a.Kind + " " + a.Description})
		}
		for _, x := range m.Threats {
			gotBrief = append(gotBrief, brief{x.Ref, strings.Join(x.Assets, ",") + " | " + strings.Join(x.Functions, ",") + " | " + strings.Join(x.EntryPoints, ",")})
		}
		for _, c := range m.Controls {
			gotBrief = append(gotBrief, brief{c.Ref, c.Kind + " " + c.Reference + " " + strings.Join(c.Threats, ",")})
		}
		wantBrief := []brief{
			{"IF-WIFI", "interface "}, {"A-1", "data drug library, rates, limits"},
			{"T-1", "IF-WIFI,A-1 | dose delivery | Wi-Fi"}, {"T-7", "IF-WIFI | event log | Wi-Fi"}, {"T-8", " |  | "},
			{"M-1", "mitigation SDS-41 T-1,T-8"}, {"CC-1", "compensating IFU §7.3 T-1,T-7"},
		}
		if diff := cmp.Diff(wantBrief, gotBrief); diff != "" {
			t.Errorf("threat model (-want +got):\n%s", diff)
		}
		if m.Device != "Pump" || m.Threat("t-7") == nil || m.Control("cc-1") == nil || m.Asset("A-1") == nil || m.Threat("T-2") != nil {
			t.Errorf("model lookups: %+v", m)
		}
		if om, _ := db.ThreatModel(ctx, other.ID); len(om.Assets) != 1 || len(om.Threats) != 0 {
			t.Errorf("other device's model leaks: %+v", om)
		}

		for _, want := range []struct {
			typ    string
			n      int
			reason string
		}{{"asset", 4, "limits added"}, {"threat", 4, "pen test PT-2025-03"}, {"control", 3, "signing also covers"}} {
			evs, err := db.Events(ctx, vigil.AuditFilter{ObjectType: want.typ})
			if err != nil {
				t.Fatal(err)
			}
			reasons := ""
			for _, e := range evs {
				reasons += e.Reason + ";"
			}
			if len(evs) != want.n || !strings.Contains(reasons, want.reason) {
				t.Errorf("%s audit: %d events (reasons %q), want %d with %q", want.typ, len(evs), reasons, want.n, want.reason)
			}
		}
		if _, err := db.Verify(ctx, nil); err != nil {
			t.Errorf("audit chain: %v", err)
		}
	})
}

// TestAssessTraced checks that an assessment and the threats it names are recorded together or not at all, and
// that the trace is append-only.
func TestAssessTraced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		other := pump(t, db, "Monitor")
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.0"}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		f := &vigil.Finding{VersionID: v.ID, Vulnerability: "CVE-2025-0001"}
		if err := db.CreateFinding(ctx, f, "researcher report"); err != nil {
			t.Fatal(err)
		}
		for _, th := range []*vigil.Threat{
			{DeviceID: d.ID, Title: "Remote rate change", Category: vigil.StrideTampering, Functions: []string{"dose delivery"}},
			{DeviceID: d.ID, Title: "Log flooding", Category: vigil.StrideDenialOfService},
			{DeviceID: other.ID, Ref: "T-9", Title: "Other device's threat", Category: vigil.StrideSpoofing},
		} {
			if err := db.CreateThreat(ctx, th); err != nil {
				t.Fatal(err)
			}
		}
		a := &vigil.Assessment{CaseID: f.CaseID, Date: f.Learned, Risk: "uncontrolled", Severity: vigil.HarmCatastrophic, Exploitability: "high",
			Functions: []string{"dose delivery"}, Matrix: "vigil-default v1", Rationale: "T-1 realized"}
		if err := db.AssessTraced(ctx, a, []string{"t-2", "T-1", "T-1"}); err != nil {
			t.Fatal(err)
		}
		plain := &vigil.Assessment{CaseID: f.CaseID, Date: f.Learned, Risk: "controlled", Rationale: "interim VLAN", Interim: true}
		if err := db.AssessTraced(ctx, plain, nil); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			name    string
			a       vigil.Assessment
			threats []string
			code    string
			msg     string
		}{
			{"another device's threat", vigil.Assessment{CaseID: f.CaseID, Risk: "controlled", Rationale: "x"}, []string{"T-1", "T-9"}, vigil.EINVALID, "threats[1]:"},
			{"no rationale", vigil.Assessment{CaseID: f.CaseID, Risk: "controlled"}, []string{"T-1"}, vigil.EINVALID, "rationale:"},
			{"unknown risk", vigil.Assessment{CaseID: f.CaseID, Risk: "acceptable", Rationale: "x"}, []string{"T-1"}, vigil.EINVALID, "risk:"},
			{"missing case", vigil.Assessment{CaseID: 99, Risk: "controlled", Rationale: "x"}, []string{"T-1"}, vigil.ENOTFOUND, ""},
		} {
			err := db.AssessTraced(ctx, &bad.a, bad.threats)
			if vigil.ErrorCode(err) != bad.code || !strings.HasPrefix(vigil.ErrorMessage(err), bad.msg) {
				t.Errorf("%s: %v, want %s starting %q", bad.name, err, bad.code, bad.msg)
			}
		}
		as, err := db.Assessments(ctx, f.ID)
		if err != nil || len(as) != 2 {
			t.Fatalf("assessments %d (%v), want 2: refused ones must leave nothing", len(as), err)
		}
		trace, err := db.AssessmentThreats(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[int64][]string{a.ID: {"T-1", "T-2"}}, trace); diff != "" {
			t.Errorf("trace (-want +got):\n%s", diff)
		}
		if as[0].Matrix != "vigil-default v1" {
			t.Errorf("matrix id not kept: %q", as[0].Matrix)
		}
		if _, err := db.SQL().Exec("DELETE FROM assessment_threats"); err == nil {
			t.Error("assessment_threats rows could be deleted: the trace must be append-only")
		}
		evs, _ := db.Events(ctx, vigil.AuditFilter{Action: "case.assess"})
		if len(evs) != 2 || !strings.Contains(string(evs[len(evs)-1].New)+string(evs[0].New), `"threats":["T-2","T-1"]`) {
			t.Errorf("case.assess audit events %d; the threats must be in the audited record", len(evs))
		}
	})
}
