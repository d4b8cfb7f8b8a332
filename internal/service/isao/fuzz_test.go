package isao

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzSignals feeds arbitrary bytes through the STIX parser into signals: never a panic, and every signal kept is
// inert (no control character but newline and tab, valid UTF-8, bounded), names its STIX type in its id, and
// carries only well-formed CVE ids.
func FuzzSignals(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","id":"bundle--1","objects":[{"type":"report","id":"report--1","name":"CVE-2025-0001 \u001b[31m<script>","published":"2025-01-01T00:00:00Z","object_refs":["x--1"]},
		{"type":"note","id":"note--2","content":"see CVE-2024-12345","object_refs":["report--1"]},{"type":"indicator","id":"indicator--3","pattern":"[a:b = 'c']","pattern_type":"stix"},
		{"type":"vulnerability","id":"vulnerability--4","name":"x","external_references":[{"source_name":"cve","external_id":"CVE-2023-0001"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		bundle, err := stix.Parse("fuzz.json", bytes.NewReader(b), untrusted.Limits{})
		if err != nil {
			return
		}
		for _, sg := range signals(bundle, 0, "fuzz.json") {
			if !strings.HasPrefix(sg.STIXID, sg.Type+"--") {
				t.Fatalf("signal %q of type %s", sg.STIXID, sg.Type)
			}
			for _, s := range []string{sg.Name, sg.Description, sg.Source} {
				if len(s) > vigil.MaxText+3 || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) || !utf8.ValidString(s) {
					t.Fatalf("text not inert: %q", s)
				}
			}
			for _, c := range sg.CVEs {
				if !isCVE(c) || c != strings.ToUpper(c) {
					t.Fatalf("CVE %q", c)
				}
			}
		}
	})
}
