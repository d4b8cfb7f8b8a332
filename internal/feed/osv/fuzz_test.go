package osv

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzParse feeds arbitrary bytes (JSON and YAML) to ParseBytes: it must never panic, must fail only with EINVALID
// naming the file, and whatever it accepts must keep the invariants the matcher relies on.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("id: PYSEC-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: x}\n  versions: ['1.0']\n"))
	lim := untrusted.Limits{MaxRecordSize: 1 << 20, MaxDepth: 32}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseBytes("f.json", b, lim)
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(err.Error(), "f.json: ") {
				t.Fatalf("error %q (code %s) does not name the file with EINVALID", err, vigil.ErrorCode(err))
			}
			return
		}
		checkInvariants(t, a)
	})
}

func checkInvariants(t *testing.T, a vigil.Advisory) {
	t.Helper()
	if a.Source != vigil.SourceOSV || checkID(a.ID) != nil {
		t.Fatalf("bad id/source: %+v", a)
	}
	for _, af := range a.Affected {
		for _, r := range af.Ranges {
			if r.Type != vigil.RangeEcosystem && r.Type != vigil.RangeSemver && r.Type != vigil.RangeGit {
				t.Fatalf("range type %q accepted", r.Type)
			}
			if r.Type == vigil.RangeGit && r.Repo == "" {
				t.Fatal("GIT range without repo accepted")
			}
			intro := false
			for _, e := range r.Events {
				n := 0
				for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
					if v != "" {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("event %+v accepted", e)
				}
				intro = intro || e.Introduced != ""
			}
			if !intro {
				t.Fatalf("range without introduced accepted: %+v", r)
			}
		}
		for _, v := range af.Versions {
			if v == "" {
				t.Fatal("empty version accepted")
			}
		}
	}
}
