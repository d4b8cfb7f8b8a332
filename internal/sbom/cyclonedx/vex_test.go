package cyclonedx

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

var update = flag.Bool("update", false, "rewrite golden files")

func vexFixture() ([]vigil.Component, []vigil.Finding) {
	openssl := vigil.Component{Name: "openssl", Version: "1.1.1k", Purl: "pkg:generic/openssl@1.1.1k",
		CPE: "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*", Supplier: "OpenSSL Project", Type: "library",
		Hashes:  map[string]string{"SHA-256": "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "SHA-224": "not-cyclonedx"},
		Support: vigil.SupportNoLonger}
	jackson := vigil.Component{Group: "com.fasterxml.jackson.core", Name: "jackson-databind", Version: "2.9.10",
		Purl: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10", Type: "library", Support: vigil.SupportUnknown}
	firmware := vigil.Component{Name: "pump-fw", Version: "4.2.1", CPE: "cpe:2.3:o:acme:pump_firmware:4.2.1:*:*:*:*:*:*:*",
		Type: "firmware", Support: vigil.SupportActive}
	// A component only the findings know about (an SPDX purpose CycloneDX lacks becomes library).
	wolf := vigil.Component{Name: "wolfssl", Version: "4.8.1", CPE: "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*", Type: "source"}
	comps := []vigil.Component{openssl, jackson, firmware}
	findings := []vigil.Finding{
		{Component: jackson, Vulnerability: "GHSA-288c-cq4h-88gq", Aliases: []string{"CVE-2020-24616", "GHSA-288c-cq4h-88gq"}, State: vigil.FindingOpen,
			Evidence: vigil.Evidence{Matcher: "osv-ecosystem:Maven", Source: "osv", Range: "ECOSYSTEM >=2.9.0 <2.9.10.6", Fixed: "2.9.10.6"}},
		{Component: openssl, Vulnerability: "CVE-2021-3711", State: vigil.FindingOpen,
			Evidence: vigil.Evidence{Matcher: "nvd-cpe", Source: "nvd", Range: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:* <1.1.1l", Fixed: "1.1.1l"}},
		{Component: firmware, Vulnerability: "ICSMA-24-123-01", State: vigil.FindingCouldNotEval,
			Evidence: vigil.Evidence{Matcher: "csaf-product", Source: "csaf", Advisory: "ICSMA-24-123-01", Range: "vers:generic/<4.3", Reason: "version 4.2.1 is not in the advisory's version scheme"}},
		{Component: openssl, Vulnerability: "CVE-2021-3449", State: vigil.FindingResolved,
			Evidence: vigil.Evidence{Matcher: "nvd-cpe", Source: "nvd", Range: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:* <1.1.1k", Fixed: "1.1.1k"}},
		{Component: wolf, Vulnerability: "CVE-2022-25638", State: vigil.FindingOpen,
			Evidence: vigil.Evidence{Matcher: "nvd-cpe", Range: "cpe:2.3:a:wolfssl:wolfssl:*:*:*:*:*:*:*:* <5.2.0", Fixed: "5.2.0"}},
	}
	return comps, findings
}

func TestWriteVEXGolden(t *testing.T) {
	comps, findings := vexFixture()
	subject := &vigil.Component{Name: "Infusion Pump", Version: "4.2"}
	opt := VEXOptions{SerialNumber: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", Subject: subject,
		Timestamp: time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC), ToolVersion: "0.1.0"}
	for _, spec := range []string{"1.5", "1.6"} {
		t.Run(spec, func(t *testing.T) {
			o := opt
			o.SpecVersion = spec
			var buf bytes.Buffer
			if err := WriteVEX(&buf, comps, findings, o); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "vex-"+spec+".golden.json")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("VEX differs from %s (-want +got):\n%s", golden, diff)
			}
			// The document is valid CycloneDX: it passes the official schema and reads back.
			top, comps, ok, err := splitComponents(buf.Bytes())
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			if field, msg, err := validate(spec, top, buf.Bytes(), comps); err != nil || msg != "" {
				t.Fatalf("VEX fails the %s schema at %s: %s %v", spec, field, msg, err)
			}
			doc, err := ParseJSON("vex.json", buf.Bytes(), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Components) != 4 || doc.Name != "Infusion Pump" {
				t.Errorf("read back %d components, subject %q; want 4 and the pump", len(doc.Components), doc.Name)
			}
		})
	}
}

func TestWriteVEXStates(t *testing.T) {
	comps, findings := vexFixture()
	var buf bytes.Buffer
	if err := WriteVEX(&buf, comps, findings, VEXOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`"state": "in_triage"`, `"state": "resolved"`, `"status": "unknown"`, `"status": "unaffected"`,
		`"recommendation": "Upgrade jackson-databind to 2.9.10.6 or later."`,
		`"ref": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10"`,
		`"ref": "component-3"`, `"id": "CVE-2020-24616"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("VEX lacks %s", want)
		}
	}
	for _, unwanted := range []string{`"timestamp"`, `"serialNumber"`, `SHA-224`} {
		if strings.Contains(out, unwanted) {
			t.Errorf("VEX has %s", unwanted)
		}
	}
	if err := WriteVEX(&buf, comps, []vigil.Finding{{Component: comps[0]}}, VEXOptions{}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("finding without an id: err = %v, want EINVALID", err)
	}
	if err := WriteVEX(&buf, comps, nil, VEXOptions{SpecVersion: "1.4"}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("spec 1.4: err = %v, want EINVALID", err)
	}
}
