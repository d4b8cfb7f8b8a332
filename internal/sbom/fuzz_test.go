package sbom

import (
	"bytes"
	"os"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must reject with EINVALID (never an internal
// error) and must return either a whole Document or nothing. Seeds: testdata/fuzz/FuzzParse (small CycloneDX JSON
// and XML, SPDX JSON and tag-value documents) plus small real fixtures.
func FuzzParse(f *testing.F) {
	for _, p := range [][]string{
		{"cyclonedx-bom-examples", "VEX", "CISA-Use-Cases", "Case-1", "vex-affected.json"},
		{"cyclonedx-spec-tests", "resources", "1.6", "valid-component-hashes-1.6.xml"},
		{"cyclonedx-spec-tests", "resources", "1.6", "valid-dependency-1.6.xml"},
		{"spdx-examples", "spdx-examples-repo", "software", "example1", "spdx2.2", "example1.spdx"},
		{"spdx-examples", "spdx-examples-repo", "presentations", "OSS-NA-2023", "SPDXVersion2.3", "03-SBOMwDependency.json"},
	} {
		b, err := os.ReadFile(testfix.Path(f, p...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse("fuzz", bytes.NewReader(data), untrusted.Limits{MaxRecordSize: 1 << 20, MaxRecords: 1000})
		if err != nil {
			if doc != nil {
				t.Fatalf("error %v with a document", err)
			}
			if code := vigil.ErrorCode(err); code != vigil.EINVALID {
				t.Fatalf("code %s for %v", code, err)
			}
			return
		}
		if doc == nil || len(doc.Refs) != len(doc.Components) || len(doc.Components) > 1000 {
			t.Fatalf("inconsistent document: %+v", doc)
		}
	})
}
