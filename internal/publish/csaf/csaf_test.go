package csaf

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	csafin "github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/testfix"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	t0  = time.Date(2026, 3, 2, 15, 4, 0, 0, time.UTC)
	t1  = time.Date(2026, 4, 20, 9, 30, 0, 0, time.UTC)
	pub = Publisher{Name: "Acme Medical", Namespace: "https://acme.example", ContactDetails: "psirt@acme.example"}
	v1  = Product{ID: "IP3-3.2.1", Vendor: "Acme Medical", Name: "Infusion Pump IP-3", Version: "3.2.1",
		CPE: "cpe:2.3:h:acme:infusion_pump_ip-3:3.2.1:*:*:*:*:*:*:*"}
	v2  = Product{ID: "IP3-3.2.2", Vendor: "Acme Medical", Name: "Infusion Pump IP-3", Version: "3.2.2"}
	fix = Product{ID: "IP3-3.3.0", Vendor: "Acme Medical", Name: "Infusion Pump IP-3", Version: "3.3.0",
		Purl: "pkg:generic/acme/infusion-pump-ip-3@3.3.0"}
	rng = Product{ID: "IP3-LT-3.3.0", Vendor: "Acme Medical", Name: "Infusion Pump IP-3", Range: "vers:generic/<3.3.0"}
)

func advisory() Document {
	return Document{
		Category: CategorySecurityAdvisory, Title: "Acme Medical Infusion Pump IP-3: improper certificate validation",
		TLP: "WHITE", Publisher: pub,
		Tracking: Tracking{ID: "ACME-2026-0001", Status: StatusFinal, Initial: t0, Current: t1,
			Revisions: []Revision{{1, t0, "Initial release"}, {2, t1, "Fix release 3.3.0 available"}}},
		Notes: []Note{{Category: "summary", Title: "Summary", Text: "A client without a certificate can reach the dose-programming interface."},
			{Category: "general", Title: "Electronic signatures (21 CFR Part 11)", Text: "Determination of CVE-2022-25640 on Infusion Pump IP-3 (A1, 2026-03-02): " +
				"Electronically signed by Alice M. Smith (alice) on 2026-03-02 09:04:00 CST (-06:00) for approval; signs assessment 1 in state sha256:5f1c0e2a9b7d4c3e\n" +
				"Release of customer notice N-1 for CVE-2022-25640 on Infusion Pump IP-3: " +
				"Electronically signed by Alice M. Smith (alice) on 2026-03-03 10:15:00 CST (-06:00) for approval; signs notice_release 1 in state sha256:0a9e3b77c2d14f68"}},
		References: []Reference{{Category: "self", Summary: "This advisory", URL: "https://acme.example/.well-known/csaf/white/2026/acme-2026-0001.json"}},
		Products:   []Product{v1, v2, fix, rng},
		Vulnerabilities: []Vulnerability{{
			CVE: "CVE-2022-25640", Title: "WolfSSL accepts a TLS 1.3 client without a certificate", CWE: "CWE-295",
			DiscoveryDate: t0, ReleaseDate: t0,
			Notes: []Note{{Category: "description", Title: "Impact", Text: "Dose programming can be changed by an unauthenticated client on the clinical network."}},
			Status: ProductStatus{KnownAffected: []string{"IP3-3.2.1", "IP3-3.2.2", "IP3-LT-3.3.0"}, Fixed: []string{"IP3-3.3.0"},
				FirstFixed: []string{"IP3-3.3.0"}, Recommended: []string{"IP3-3.3.0"}},
			Scores:  []Score{{Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", Products: []string{"IP3-3.2.1", "IP3-3.2.2"}}},
			Threats: []Threat{{Category: "impact", Details: "Serious patient harm: an incorrect dose.", Products: []string{"IP3-3.2.1", "IP3-3.2.2"}}},
			Remediations: []Remediation{
				{Category: RemedyVendorFix, Details: "Update to 3.3.0.", Date: t1, URL: "https://acme.example/support/ip3", Products: []string{"IP3-3.2.1", "IP3-3.2.2"}},
				{Category: RemedyMitigation, Details: "Segment the pump network (IFU section 9.4).", Products: []string{"IP3-3.2.1", "IP3-3.2.2"}},
				{Category: RemedyWorkaround, Details: "Disable the service web UI.", Products: []string{"IP3-3.2.1"}},
			},
			References:      []Reference{{Summary: "NVD", URL: "https://nvd.nist.gov/vuln/detail/CVE-2022-25640"}},
			Acknowledgments: []Acknowledgment{{Names: []string{"Jane Doe"}, Organization: "Example Research", Summary: "reported the vulnerability"}},
		}},
	}
}

func vex() VEX {
	return VEX{Publisher: pub, Product: v1,
		Tracking: Tracking{ID: "ACME-VEX-IP3-3.2.1", Status: StatusInterim, Initial: t0, Current: t0, Revisions: []Revision{{1, t0, "Initial"}}},
		Statements: []VEXStatement{
			{Vulnerability: "CVE-2022-25640", Status: vigil.VEXAffected, Action: "Segment the pump network until 3.3.0 is installed.", ActionCategory: RemedyMitigation},
			{Vulnerability: "CVE-2024-0001", Status: vigil.VEXNotAffected, Justification: "vulnerable_code_not_in_execute_path", Impact: "The parser is never called."},
			{Vulnerability: "CVE-2024-0002", Status: vigil.VEXFixed},
			{Vulnerability: "VR-2026-7", System: "Acme PSIRT", Status: vigil.VEXUnderInvestigation},
		}}
}

// TestWrite writes each kind of document Vigil publishes, compares it with its golden file, and reads it back
// with Vigil's CSAF parser; every document passed the validator inside Write.
func TestWrite(t *testing.T) {
	draft := advisory()
	draft.Tracking.Status, draft.Tracking.Revisions = StatusDraft, draft.Tracking.Revisions[:1]
	draft.TLP = "AMBER"
	tests := []struct {
		name  string
		write func() ([]byte, error)
		cat   string
		vulns int
	}{
		{"advisory_final", func() ([]byte, error) { return Write(advisory()) }, CategorySecurityAdvisory, 1},
		{"advisory_draft_amber", func() ([]byte, error) { return Write(draft) }, CategorySecurityAdvisory, 1},
		{"vex_version", func() ([]byte, error) { return WriteVEX(vex()) }, CategoryVEX, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.write()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tt.name+".json"), got)
			doc, err := csafin.Parse(tt.name, bytes.NewReader(got), csafin.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if doc.Category != tt.cat || len(doc.Advisories) != tt.vulns {
				t.Errorf("read back: category %s, %d vulnerabilities; want %s, %d", doc.Category, len(doc.Advisories), tt.cat, tt.vulns)
			}
		})
	}
}

// TestWriteRefuses: what a document cannot say is refused with EINVALID naming the field.
func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name  string
		write func() ([]byte, error)
		want  string
	}{
		{"unknown cwe", func() ([]byte, error) { d := advisory(); d.Vulnerabilities[0].CWE = "CWE-99999999"; return Write(d) }, "cwe"},
		{"cvss v4", func() ([]byte, error) {
			d := advisory()
			d.Vulnerabilities[0].Scores[0].Vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N"
			return Write(d)
		}, "no place in CSAF 2.0"},
		{"undefined product", func() ([]byte, error) {
			d := advisory()
			d.Vulnerabilities[0].Status.Fixed = append(d.Vulnerabilities[0].Status.Fixed, "NOPE")
			return Write(d)
		}, "6.1.1"},
		{"final with no revision", func() ([]byte, error) { d := advisory(); d.Tracking.Revisions = nil; return Write(d) }, "tracking.revisions"},
		{"affected without action", func() ([]byte, error) { x := vex(); x.Statements[0].Action = ""; return WriteVEX(x) }, "statements[0]: action"},
		{"not_affected without justification", func() ([]byte, error) {
			x := vex()
			x.Statements[1].Justification, x.Statements[1].Impact = "", ""
			return WriteVEX(x)
		}, "statements[1]: justification"},
		{"unknown justification", func() ([]byte, error) { x := vex(); x.Statements[1].Justification = "trust_me"; return WriteVEX(x) }, "flags[0].label"},
		{"tlp", func() ([]byte, error) { d := advisory(); d.TLP = "CLEAR"; return Write(d) }, "tlp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.write()
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want EINVALID naming %q", err, tt.want)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{"ACME-2026-0001": "acme-2026-0001.json", "Acme VEX/IP3 3.2.1": "acme_vex_ip3_3_2_1.json"} {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was written (run with -update and review the diff):\n%s", path, got)
	}
}

// TestReferenceValidator runs the CSAF TC's reference validator, @secvisogram/csaf-validator-lib from npm (strict
// schema and every mandatory test), on every golden document: each kind of CSAF document Vigil writes.
func TestReferenceValidator(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("golden documents: %v %v", files, err)
	}
	for _, r := range testfix.CSAFReferenceValidate(t, files...) {
		if !r.IsValid || len(r.Errors) > 0 {
			t.Errorf("%s fails csaf-validator-lib: %+v", r.File, r.Errors)
		}
	}
}
