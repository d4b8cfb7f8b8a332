package vex_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/publish/csaf"
	"github.com/vigil-dev/vigil/internal/sbom/cyclonedx"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
	"github.com/vigil-dev/vigil/internal/vex"
)

var update = flag.Bool("update", false, "rewrite golden files")

// deviceVEX is one device version with a statement of each status, as the remediation service makes them.
func deviceVEX() *vigil.DeviceVEX {
	at := time.Date(2026, 2, 12, 15, 4, 5, 0, time.UTC)
	wolf := vigil.Component{Name: "wolfssl", Version: "4.8.1", Purl: "pkg:generic/wolfssl@4.8.1", CPE: "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*"}
	json := vigil.Component{Name: "Newtonsoft.Json", Version: "9.0.1", Purl: "pkg:nuget/Newtonsoft.Json@9.0.1"}
	busybox := vigil.Component{Name: "busybox", Version: "1.31.1"}
	return &vigil.DeviceVEX{ID: "urn:uuid:0f4e5d6c-1b2a-8c3d-9e4f-5a6b7c8d9e0f", Author: "Acme Medical", Timestamp: at,
		Device: "Infusion Pump IP-3", Version: "3.2.1",
		Product:    vigil.Component{Name: "Infusion Pump IP-3", Version: "3.2.1", Purl: "pkg:generic/acme-medical/infusion-pump-ip-3@3.2.1", Type: "device"},
		Components: []vigil.Component{wolf, json, busybox},
		Statements: []vigil.DeviceVEXStatement{
			{CaseID: 7, Vulnerability: "CVE-2022-25640", Components: []vigil.Component{wolf}, Status: vigil.VEXAffected, FixedIn: "3.2.2", Workaround: true,
				ActionStatement: "A fix is planned in 3.2.2 by 2026-03-01; customers will be told when it is available. Until then, apply the compensating controls: pumps on a dedicated VLAN (IFU §7.3).",
				Detail:          "Assessed 2026-01-06: uncontrolled risk of patient harm.", Timestamp: at.Add(-48 * time.Hour)},
			{CaseID: 8, Vulnerability: "GHSA-5crp-9r3c-p9vr", Aliases: []string{"CVE-2024-21907"}, Components: []vigil.Component{json}, Status: vigil.VEXNotAffected,
				Justification: vigil.JustNotInExecutePath, ImpactStatement: "MaxDepth is set on every deserializer.", Timestamp: at.Add(-24 * time.Hour)},
			{CaseID: 9, Vulnerability: "CVE-2022-48174", Components: []vigil.Component{busybox}, Status: vigil.VEXUnderInvestigation,
				Detail: "Known since 2026-02-10; the assessment of its risk to patients is under way.", Timestamp: at},
			{CaseID: 10, Vulnerability: "CVE-2021-3711", Components: []vigil.Component{}, Status: vigil.VEXFixed, FixedIn: "3.2.1",
				Detail: "Fixed in 3.2.1: validated 2025-12-01 (VVR-2025-40), distributed 2025-12-03 by remote update.", Timestamp: at.Add(-72 * time.Hour)},
		}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// statuses reads a written document back with Vigil's own VEX reader: vulnerability → status.
func statuses(t *testing.T, name string, b []byte) map[string]vigil.VEXStatus {
	t.Helper()
	doc, err := vex.ParseBytes(name, b, vex.Limits())
	if err != nil {
		t.Fatalf("read back %s: %v", name, err)
	}
	out := map[string]vigil.VEXStatus{}
	for _, s := range doc.Statements {
		if prev, ok := out[s.Vulnerability]; ok && prev != s.Status {
			t.Errorf("%s: %s is both %s and %s", name, s.Vulnerability, prev, s.Status)
		}
		out[s.Vulnerability] = s.Status
	}
	return out
}

func want() map[string]vigil.VEXStatus {
	out := map[string]vigil.VEXStatus{}
	for _, s := range deviceVEX().Statements {
		out[s.Vulnerability] = s.Status
	}
	return out
}

// TestWriteOpenVEX: the document matches its golden file, validates against the OpenVEX 0.2.0 JSON schema, and says
// what the statements say (read back with Vigil's reader), justification and action statement included.
func TestWriteOpenVEX(t *testing.T) {
	var buf bytes.Buffer
	if err := vex.WriteOpenVEX(&buf, deviceVEX(), "0.1.0"); err != nil {
		t.Fatal(err)
	}
	golden(t, "devicevex.openvex.golden.json", buf.Bytes())
	cc := jsonschema.NewCompiler()
	cc.AssertFormat()
	sch, err := cc.Compile("testdata/openvex_json_schema_0.2.0.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("OpenVEX schema: %v", err)
	}
	if diff := cmp.Diff(want(), statuses(t, "device.openvex.json", buf.Bytes())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	doc, _ := vex.ParseBytes("device.openvex.json", buf.Bytes(), vex.Limits())
	for _, s := range doc.Statements {
		if s.Vulnerability == "GHSA-5crp-9r3c-p9vr" && s.Justification != string(vigil.JustNotInExecutePath) {
			t.Errorf("not_affected justification = %q", s.Justification)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"action_statement": "A fix is planned in 3.2.2`)) {
		t.Error("the affected statement lacks its action statement")
	}
}

// TestWriteCycloneDXVEX: the document matches its golden file, validates against the CycloneDX 1.6 schema (Vigil's
// own reader validates every document it reads), and reads back with the same statuses; the OpenVEX
// justification is written in CycloneDX's words.
func TestWriteCycloneDXVEX(t *testing.T) {
	var buf bytes.Buffer
	if err := vex.WriteCycloneDX(&buf, deviceVEX(), "0.1.0"); err != nil {
		t.Fatal(err)
	}
	golden(t, "devicevex.cdx.golden.json", buf.Bytes())
	if _, err := cyclonedx.ParseJSON("device.cdx.json", buf.Bytes(), untrusted.Limits{}); err != nil {
		t.Fatalf("CycloneDX 1.6 schema: %v", err)
	}
	if diff := cmp.Diff(want(), statuses(t, "device.cdx.json", buf.Bytes())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, s := range []string{`"justification": "code_not_reachable"`, `"state": "exploitable"`, `"update"`, `"workaround_available"`, `"specVersion": "1.6"`} {
		if !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("the document lacks %s", s)
		}
	}
}

// TestWriteCSAFVEX: the CSAF VEX document (written and validated by the CSAF writer) matches its golden file and
// reads back with the same statuses; the justification is a flag, the affected version's action a workaround
// remediation while the compensating controls stand in for the planned fix.
func TestWriteCSAFVEX(t *testing.T) {
	var buf bytes.Buffer
	pub := csaf.Publisher{Name: "Acme Medical", Namespace: "https://psirt.acme-medical.example"}
	if err := vex.WriteCSAF(&buf, deviceVEX(), pub); err != nil {
		t.Fatal(err)
	}
	golden(t, "devicevex.csaf.golden.json", buf.Bytes())
	if diff := cmp.Diff(want(), statuses(t, "device.csaf.json", buf.Bytes())); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, s := range []string{`"label": "vulnerable_code_not_in_execute_path"`, `"category": "workaround"`, `"category": "csaf_vex"`} {
		if !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("the document lacks %s", s)
		}
	}
	if err := vex.WriteCSAF(&bytes.Buffer{}, deviceVEX(), csaf.Publisher{Name: "Acme Medical"}); err == nil {
		t.Error("a CSAF document without the publisher's namespace was written")
	}
	// The CSAF TC's reference validator (strict schema and every mandatory test) accepts it, as it does advisories.
	file := filepath.Join(t.TempDir(), "devicevex.csaf.json")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range testfix.CSAFReferenceValidate(t, file) {
		if !r.IsValid {
			t.Errorf("csaf-validator-lib refuses the CSAF VEX: %+v", r.Errors)
		}
	}
}

// TestWriteRefusesAnIncompleteStatement: a not_affected statement without a justification or an impact statement
// is not a valid OpenVEX statement, and the writer says which one.
func TestWriteRefusesAnIncompleteStatement(t *testing.T) {
	d := deviceVEX()
	d.Statements[1].Justification, d.Statements[1].ImpactStatement = "", ""
	err := vex.WriteOpenVEX(&bytes.Buffer{}, d, "0.1.0")
	if vigil.ErrorCode(err) != vigil.EINVALID || !bytes.Contains([]byte(vigil.ErrorMessage(err)), []byte("GHSA-5crp-9r3c-p9vr")) {
		t.Errorf("err = %v, want EINVALID naming the statement", err)
	}
}
