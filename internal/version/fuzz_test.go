package version_test

import (
	"testing"

	"github.com/google/osv-scalibr/semantic"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/version"
)

// fuzzEcosystems are the ecosystems the fuzz targets pick from. FuzzCompare holds some of Vigil's own
// comparators to osv-scalibr's (Maven's follows Maven 4, which osv-scalibr does not: TestReferenceSuites).
var fuzzEcosystems = []string{"npm", "Go", "NuGet", "Pub", "Hackage", "Debian", "Red Hat", "PyPI", "Maven",
	"Alpine", "Packagist", "RubyGems", "CRAN", "Linux", "opam"}

// scalibrName is the osv-scalibr ecosystem whose order Vigil's native comparator reproduces.
var scalibrName = map[string]string{"npm": "npm", "Go": "Go", "NuGet": "NuGet", "Pub": "Pub",
	"Hackage": "Hackage", "Debian": "Debian", "Red Hat": "Red Hat"}

func FuzzParse(f *testing.F) {
	f.Add(uint8(0), "1.2.3-beta.1+build")
	f.Add(uint8(1), "v0.0.0-20210101000000-abcdef123456")
	f.Add(uint8(5), "1:2.3~rc1-4ubuntu1")
	f.Add(uint8(6), "1:2.3-4.el8^git")
	f.Add(uint8(7), "1!2.0rc1.post2.dev3+local.7")
	f.Add(uint8(8), "1.0-alpha-1.RELEASE")
	f.Fuzz(func(t *testing.T, e uint8, s string) {
		eco := fuzzEcosystems[int(e)%len(fuzzEcosystems)]
		v, err := version.Parse(eco, s)
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("Parse(%q, %q) code = %q, want EINVALID", eco, s, vigil.ErrorCode(err))
			}
			return
		}
		if v.String() != s {
			t.Fatalf("String() = %q, want %q", v.String(), s)
		}
		if c := v.Compare(v); c != 0 {
			t.Fatalf("%q compares %d to itself", s, c)
		}
	})
}

func FuzzCompare(f *testing.F) {
	f.Add(uint8(0), "1.0.0-alpha.1", "1.0.0-alpha.beta")
	f.Add(uint8(2), "1.0.0.1-1.2.A", "1.0.0.1-1.2.a+A")
	f.Add(uint8(3), "1.0.0-beta+b1", "1.0.0-beta+b2")
	f.Add(uint8(5), "1.0~rc1-1", "1.0-1")
	f.Add(uint8(6), "1.0^git1", "1.0~rc1")
	f.Add(uint8(13), "2.6.32.1", "2.6.32-rc1")
	f.Fuzz(func(t *testing.T, e uint8, a, b string) {
		eco := fuzzEcosystems[int(e)%len(fuzzEcosystems)]
		va, errA := version.Parse(eco, a)
		vb, errB := version.Parse(eco, b)
		if errA != nil || errB != nil {
			return
		}
		got, back := va.Compare(vb), vb.Compare(va)
		if got != -back || got < -1 || got > 1 {
			t.Fatalf("%s: Compare(%q, %q) = %d but reverse = %d", eco, a, b, got, back)
		}
		name, ok := scalibrName[eco]
		if !ok || va.Warning() != "" || vb.Warning() != "" {
			return // osv-scalibr refuses what dpkg only warns about
		}
		sa, err := semantic.Parse(a, name)
		if err != nil {
			t.Fatalf("osv-scalibr rejects %q, Vigil accepts it", a)
		}
		sb, err := semantic.Parse(b, name)
		if err != nil {
			t.Fatalf("osv-scalibr rejects %q, Vigil accepts it", b)
		}
		want, err := sa.Compare(sb)
		if err != nil {
			t.Fatal(err)
		}
		if want > 0 {
			want = 1
		} else if want < 0 {
			want = -1
		}
		if got != want {
			t.Fatalf("%s: Compare(%q, %q) = %d, osv-scalibr says %d", eco, a, b, got, want)
		}
	})
}
