package sbom

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func errMessage(t *testing.T, err error) string {
	t.Helper()
	var e *vigil.Error
	if !errors.As(err, &e) || e.Code != vigil.EINVALID {
		t.Fatalf("error %v is not an EINVALID *vigil.Error", err)
	}
	return e.Message
}

// TestParseDetects: Parse picks the reader from the content, never from the file name.
func TestParseDetects(t *testing.T) {
	tests := []struct {
		path       []string
		format     string
		components int
	}{
		{[]string{"medical-device-sboms", "case-study", "narrow.sbom.json"}, FormatCycloneDXJSON, 55},
		{[]string{"cyclonedx-bom-examples", "SBOM", "laravel-7.12.0", "bom.1.3.xml"}, FormatCycloneDXXML, 62},
		{[]string{"cyclonedx-bom-examples", "SBOM", "laravel-7.12.0", "bom.1.1.xml"}, FormatCycloneDXXML, 62},
		{[]string{"spdx-examples", "spdx-spec-v2.3", "SPDXJSONExample-v2.3.spdx.json"}, FormatSPDXJSON, 4},
		{[]string{"spdx-examples", "spdx-spec-v2.2", "SPDXTagExample-v2.2.spdx"}, FormatSPDXTagValue, 4},
		{[]string{"sbom-shelter-spdx", "in-the-wild", "usbutils.spdx"}, FormatSPDXTagValue, 0},
		{[]string{"sbom-shelter-spdx", "in-the-wild", "julia.spdx.json"}, FormatSPDXJSON, 34},
	}
	for _, tt := range tests {
		t.Run(filepath.Join(tt.path...), func(t *testing.T) {
			b, err := os.ReadFile(testfix.Path(t, tt.path...))
			if err != nil {
				t.Fatal(err)
			}
			if got := Detect(b); got != tt.format {
				t.Errorf("Detect = %q, want %q", got, tt.format)
			}
			doc, err := Parse("upload", strings.NewReader(string(b)), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Format != tt.format || len(doc.Components) != tt.components {
				t.Errorf("got %s with %d components, want %s with %d", doc.Format, len(doc.Components), tt.format, tt.components)
			}
		})
	}
}

// TestParseUnsupported: documents Parse does not read get a reason, not a guess.
func TestParseUnsupported(t *testing.T) {
	tests := []struct {
		name string
		path []string
		doc  string
		want string
	}{
		{"SPDX RDF", []string{"spdx-examples", "spdx-spec-v2.3", "SPDXRdfExample-v2.3.spdx.rdf.xml"}, "", "SPDX RDF/XML is not supported"},
		{"SPDX XML", []string{"spdx-examples", "spdx-spec-v2.3", "SPDXXMLExample-v2.3.spdx.xml"}, "", "SPDX XML is not supported"},
		{"SPDX YAML", []string{"spdx-examples", "spdx-spec-v2.3", "SPDXYAMLExample-2.3.spdx.yaml"}, "", "SPDX YAML is not supported"},
		{"SPDX 3", []string{"spdx-examples", "spdx-examples-repo", "software", "example11", "spdx3.0", "sbom.spdx3.json"}, "", "SPDX 3 (JSON-LD) is not supported"},
		{"OSV advisory", nil, `{"id":"GO-2024-0001","affected":[]}`, "not a CycloneDX (JSON, XML) or SPDX 2 (JSON, tag-value) document"},
		{"empty", nil, "", "not a CycloneDX"},
		{"binary", nil, "\x00\x01\x02PK", "not a CycloneDX"},
		{"html", nil, "<html><body>login</body></html>", "not a CycloneDX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			if tt.path != nil {
				b, err := os.ReadFile(testfix.Path(t, tt.path...))
				if err != nil {
					t.Fatal(err)
				}
				doc = string(b)
			}
			got, err := Parse("upload", strings.NewReader(doc), untrusted.Limits{})
			if err == nil {
				t.Fatalf("accepted as %s", got.Format)
			}
			if msg := errMessage(t, err); !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "sbom upload: ") {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
		})
	}
}

func TestParseOversize(t *testing.T) {
	b, err := os.ReadFile(testfix.Path(t, "cyclonedx-bom-examples", "SBOM", "keycloak-10.0.2", "bom.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lim := range []int64{1 << 20, int64(len(b)) - 1} {
		doc, err := Parse("keycloak.json", strings.NewReader(string(b)), untrusted.Limits{MaxRecordSize: lim})
		if err == nil || doc != nil {
			t.Fatalf("limit %d: accepted a %d-byte document", lim, len(b))
		}
		if msg := errMessage(t, err); !strings.Contains(msg, "larger than the limit") {
			t.Errorf("error = %q", msg)
		}
	}
	if _, err := Parse("keycloak.json", strings.NewReader(string(b)), untrusted.Limits{MaxRecordSize: int64(len(b))}); err != nil {
		t.Errorf("at exactly the limit: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	got := untrusted.Limits{}.Or(model.DefaultLimits())
	if got.MaxRecordSize != 64<<20 || got.MaxRecords != 200_000 || got.MaxDepth != 128 {
		t.Errorf("defaults = %+v, want 64 MiB, 200,000 components, depth 128", got)
	}
}

// TestParseByteOrderMarkAndCRLF: what Windows tools write (a UTF-8 byte order mark, CRLF line ends) is read.
func TestParseByteOrderMarkAndCRLF(t *testing.T) {
	tests := []struct {
		doc, format string
	}{
		{"\xef\xbb\xbf{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"version\":1,\"components\":[{\"type\":\"library\",\"name\":\"p\"}]}", FormatCycloneDXJSON},
		{"\xef\xbb\xbf<?xml version=\"1.0\"?>\r\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\" version=\"1\">\r\n<components><component type=\"library\"><name>p</name></component></components></bom>", FormatCycloneDXXML},
		{"\xef\xbb\xbf{\"spdxVersion\":\"SPDX-2.3\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"d\",\"documentNamespace\":\"x\",\"dataLicense\":\"CC0-1.0\",\"packages\":[{\"SPDXID\":\"SPDXRef-p\",\"name\":\"p\"}]}", FormatSPDXJSON},
		{"\xef\xbb\xbfSPDXVersion: SPDX-2.3\r\nDataLicense: CC0-1.0\r\nSPDXID: SPDXRef-DOCUMENT\r\nDocumentName: d\r\n\r\nPackageName: p\r\nSPDXID: SPDXRef-p\r\n", FormatSPDXTagValue},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			doc, err := Parse("win", strings.NewReader(tt.doc), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Format != tt.format || len(doc.Components) != 1 || doc.Components[0].Name != "p" {
				t.Errorf("got %s with %+v", doc.Format, doc.Components)
			}
		})
	}
}
