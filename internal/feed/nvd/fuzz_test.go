package nvd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzParse feeds arbitrary bytes to Parse: no panic, errors are EINVALID naming the file (or a Rejects after the
// valid records), and every advisory delivered keeps the invariants the CPE matcher relies on.
func FuzzParse(f *testing.F) {
	f.Add([]byte(page(okCVE)))
	f.Add([]byte(okCVE[len(`{"cve":`) : len(okCVE)-1]))
	lim := untrusted.Limits{MaxRecordSize: 1 << 20, MaxDepth: 32, MaxFileSize: 4 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := Parse("f.json", bytes.NewReader(b), lim, func(a vigil.Advisory) error {
			if !cveID.MatchString(a.ID) || a.Source != vigil.SourceNVD {
				t.Fatalf("bad id/source accepted: %q %q", a.ID, a.Source)
			}
			for _, c := range a.Configurations {
				if len(c.Nodes) == 0 {
					t.Fatal("configuration without nodes accepted")
				}
				for _, n := range c.Nodes {
					if n.Operator != "AND" && n.Operator != "OR" {
						t.Fatalf("node operator %q accepted", n.Operator)
					}
					for _, m := range n.Matches {
						if !isCPE23(m.Criteria) {
							t.Fatalf("criteria %q accepted", m.Criteria)
						}
					}
				}
			}
			for _, s := range a.Scores {
				if s.Base < 0 || s.Base > 10 || s.Vector == "" {
					t.Fatalf("score %+v accepted", s)
				}
			}
			return nil
		})
		if err != nil && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(err.Error(), "f.json")) {
			t.Fatalf("error %q (code %s) does not name the file with EINVALID", err, vigil.ErrorCode(err))
		}
	})
}
