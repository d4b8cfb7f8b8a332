package csaf

import (
	"bytes"
	"testing"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzParse feeds arbitrary bytes to Parse and Validate: neither may panic, and a parsed document must be
// internally consistent (one Vulnerability per Advisory, every advisory sourced "csaf" and tied to the document).
// The seed corpus in testdata/fuzz/FuzzParse holds small real-shaped documents.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalDoc))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Parse("fuzz.json", bytes.NewReader(b), untrusted.Limits{})
		if err == nil {
			if len(doc.Advisories) != len(doc.Vulnerabilities) {
				t.Fatalf("%d advisories, %d vulnerabilities", len(doc.Advisories), len(doc.Vulnerabilities))
			}
			for _, a := range doc.Advisories {
				if a.Source != "csaf" || a.Document != doc.ID || a.ID == "" {
					t.Fatalf("advisory %+v", a)
				}
			}
		}
		if _, err := Validate(b); err != nil && doc != nil {
			// Validate refuses only what Parse refuses too (not JSON, over a limit).
			t.Fatalf("Parse accepted what Validate rejected: %v", err)
		}
	})
}
