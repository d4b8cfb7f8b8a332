package cpe_test

import (
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

func FuzzParse(f *testing.F) {
	f.Add("cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:2.4a:*:*:*:*:*:*:*")
	f.Add(`cpe:2.3:a:vendor:prod\:uct:1\.0\:beta:*:*:*:*:*:*:*`)
	f.Add("cpe:2.3:o:medtronic:*_firmware:1.?:*:*:*:*:*:*:*")
	f.Add("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~:en")
	f.Add("cpe:/a:%02soft:prod%01%01:1.0%3abeta")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := cpe.Parse(s)
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("Parse(%q) code = %q, want EINVALID", s, vigil.ErrorCode(err))
			}
			return
		}
		fs := c.String()
		again, err := cpe.Parse(fs)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, whose String %q does not parse: %v", s, c, fs, err)
		}
		if again != c {
			t.Fatalf("Parse(%q) = %+v; through %q it becomes %+v", s, c, fs, again)
		}
		if again.String() != fs {
			t.Fatalf("String not stable: %q then %q", fs, again.String())
		}
		// A CPE always matches a criterion made of itself, when it has a version or needs none.
		if c.Vendor != cpe.Any && c.Product != cpe.Any && c.Part != cpe.Any {
			ok, err := cpe.MatchCriterion(vigil.CPEMatch{Criteria: fs}, c, "")
			if err == nil && !ok && !hasWildcards(c) {
				t.Fatalf("%q does not match itself", fs)
			}
		}
	})
}

func hasWildcards(c cpe.CPE) bool {
	for _, v := range []string{c.Vendor, c.Product, c.Version, c.Update, c.Edition, c.Language, c.SWEdition,
		c.TargetSW, c.TargetHW, c.Other} {
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '*' || v[i] == '?' {
				return v != cpe.Any
			}
		}
	}
	return false
}

func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0.2u", "1.0.2", "2.0.1-beta")
	f.Add("2.4a", "2.4", "1.0.0.0")
	f.Add("v1.0a1", "1.0-rc.1", "1.0.0-SNAPSHOT")
	f.Add("0.0.0.1", "0..0.", "00.000.0x")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := cpe.CompareVersions(a, b), cpe.CompareVersions(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("CompareVersions(%q, %q) = %d, reverse %d", a, b, ab, ba)
		}
		if cpe.CompareVersions(a, a) != 0 {
			t.Fatalf("%q differs from itself", a)
		}
		bc, ac := cpe.CompareVersions(b, c), cpe.CompareVersions(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
		if ab == 0 && bc == 0 && ac != 0 {
			t.Fatalf("equality not transitive: %q = %q = %q but %q vs %q = %d", a, b, c, a, c, ac)
		}
	})
}
