package version_test

import (
	"testing"

	"github.com/google/osv-scalibr/semantic"

	"github.com/vigil-dev/vigil/internal/version"
)

// benchCases pairs an ecosystem with the fixture whose versions it compares.
var benchCases = []struct{ eco, file string }{
	{"npm", "semver-versions.txt"},
	{"Debian", "debian-versions-generated.txt"},
	{"Red Hat", "redhat-versions.txt"},
	{"PyPI", "pypi-versions-generated.txt"},
	{"Maven", "maven-versions-generated.txt"},
	{"Alpine", "alpine-versions-generated.txt"},
	{"RubyGems", "rubygems-versions-generated.txt"},
	{"Packagist", "packagist-versions-generated.txt"},
}

// BenchmarkVersionCompare is the matcher's hot loop: versions parsed once, compared many times.
func BenchmarkVersionCompare(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.eco, func(b *testing.B) {
			cmps := readFixture(b, bc.file)
			pairs := make([][2]version.Version, len(cmps))
			for i, c := range cmps {
				va, err := version.Parse(bc.eco, c.a)
				if err != nil {
					b.Fatal(err)
				}
				vb, err := version.Parse(bc.eco, c.b)
				if err != nil {
					b.Fatal(err)
				}
				pairs[i] = [2]version.Version{va, vb}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pairs[i%len(pairs)]
				p[0].Compare(p[1])
			}
		})
	}
}

// BenchmarkScalibrCompare is the same loop on osv-scalibr's parsed versions, for reference.
func BenchmarkScalibrCompare(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.eco, func(b *testing.B) {
			cmps := readFixture(b, bc.file)
			pairs := make([][2]semantic.Version, len(cmps))
			for i, c := range cmps {
				va, err := semantic.Parse(c.a, bc.eco)
				if err != nil {
					b.Fatal(err)
				}
				vb, err := semantic.Parse(c.b, bc.eco)
				if err != nil {
					b.Fatal(err)
				}
				pairs[i] = [2]semantic.Version{va, vb}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pairs[i%len(pairs)]
				_, _ = p[0].Compare(p[1])
			}
		})
	}
}

// BenchmarkCompare parses both strings on every call.
func BenchmarkCompare(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.eco, func(b *testing.B) {
			cmps := readFixture(b, bc.file)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := cmps[i%len(cmps)]
				if _, err := version.Compare(bc.eco, c.a, c.b); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCacheCompare compares strings through a warm Cache.
func BenchmarkCacheCompare(b *testing.B) {
	cmps := readFixture(b, "pypi-versions-generated.txt")
	c := version.NewCache(1 << 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := cmps[i%len(cmps)]
		if _, err := c.Compare("PyPI", x.a, x.b); err != nil {
			b.Fatal(err)
		}
	}
}
