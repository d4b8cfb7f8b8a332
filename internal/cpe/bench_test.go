package cpe_test

import (
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

var benchVersions = [][2]string{
	{"1.0.2u", "1.0.2"}, {"2.0.1-beta", "2.0.1"}, {"2.4a", "2.6a"}, {"10.0.19041.1234", "10.0.19041.987"},
	{"8.0.34", "8.0.4"}, {"1.0.0", "1.0"}, {"v3.18.2", "3.18.10"}, {"2019-10-01", "2019-09-30"},
}

func BenchmarkCompareVersions(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := benchVersions[i%len(benchVersions)]
		cpe.CompareVersions(p[0], p[1])
	}
}

func BenchmarkParse(b *testing.B) {
	names := []string{
		"cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*:*:*:*:*:*:*:*",
		`cpe:2.3:a:vendor:prod\:uct:1\.0\:beta:*:*:*:*:*:*:*`,
		"cpe:/a:openssl:openssl:1.0.2u",
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := cpe.Parse(names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCriterionMatches is the CPE matcher's inner loop: a compiled criterion against a parsed component.
func BenchmarkCriterionMatches(b *testing.B) {
	cr, err := cpe.Compile(vigil.CPEMatch{Criteria: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
		VersionStartIncluding: "1.0.2", VersionEndExcluding: "1.0.2u", Vulnerable: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := cpe.Parse("cpe:2.3:a:openssl:openssl:1.0.2t:*:*:*:*:*:*:*")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if ok, err := cr.Matches(c, ""); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkEvaluate evaluates one firmware-on-hardware configuration against a 200-component device.
func BenchmarkEvaluate(b *testing.B) {
	cfg := vigil.CPEConfig{Operator: "AND", Nodes: []vigil.CPENode{
		{Operator: "OR", Matches: []vigil.CPEMatch{{Vulnerable: true, VersionEndIncluding: "2.4a",
			Criteria: "cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*:*:*:*:*:*:*:*"}}},
		{Operator: "OR", Matches: []vigil.CPEMatch{{Criteria: "cpe:2.3:h:medtronic:minimed_paradigm_523:-:*:*:*:*:*:*:*"}}},
	}}
	have := []cpe.Item{{CPE: "cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*", Version: "2.4a"},
		{CPE: "cpe:2.3:h:medtronic:minimed_paradigm_523:-"}}
	for i := 0; len(have) < 200; i++ {
		have = append(have, cpe.Item{CPE: "cpe:2.3:a:vendor:lib" + string(rune('a'+i%26)) + ":1.0." + string(rune('0'+i%10))})
	}
	set, err := cpe.NewSet(have)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, _, err := set.Evaluate(cfg); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
