package stix

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and a parsed bundle must be consistent (counts
// cover the advisories, every advisory is sourced "stix" and tied to the bundle). Seeds live in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"type": "bundle", "id": "bundle--1", "objects": [{"type": "vulnerability", "id": "vulnerability--1", "name": "CVE-2024-1"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		bundle, err := Parse("fuzz.json", bytes.NewReader(b), untrusted.Limits{})
		if err != nil {
			return
		}
		if bundle.Counts["vulnerability"] != len(bundle.Advisories) || bundle.Counts["indicator"] != len(bundle.Indicators) || bundle.Counts["report"] != len(bundle.Reports) ||
			bundle.Counts["note"] != len(bundle.Notes) {
			t.Fatalf("counts %v for %d advisories, %d indicators, %d reports", bundle.Counts, len(bundle.Advisories), len(bundle.Indicators), len(bundle.Reports))
		}
		for _, a := range bundle.Advisories {
			if a.Source != "stix" || a.Document != bundle.ID || a.ID == "" || !strings.HasPrefix(bundle.ID, "bundle--") {
				t.Fatalf("advisory %+v in bundle %s", a, bundle.ID)
			}
		}
	})
}
