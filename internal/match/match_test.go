package match_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// loadOSV parses real OSV records through the feed parser, as the importer would.
func loadOSV(t testing.TB, elem ...string) *vigil.Advisory {
	t.Helper()
	p := testfix.Path(t, elem...)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := osv.Parse(filepath.Base(p), f, untrusted.Limits{})
	if err != nil {
		t.Fatalf("parse %s: %v", p, err)
	}
	return &a
}

func ghsa(t testing.TB, name string) *vigil.Advisory {
	return loadOSV(t, "osv-schema", "tools", "ghsa", "testdata", name+".osv.json")
}

func linter(t testing.TB, name string) *vigil.Advisory {
	return loadOSV(t, "osv-schema", "tools", "osv-linter", "testdata", name+".json")
}

// brief is what a test compares: the JSON contract's fields plus state and reason presence.
type brief struct {
	Comp    string // purl, else name@version
	Vuln    string
	State   string
	Matcher string
	Range   string
	Fixed   string
	Reason  bool
}

func briefs(fs []vigil.Finding) []brief {
	out := []brief{}
	for _, f := range fs {
		c := f.Component.Purl
		if c == "" {
			c = f.Component.Name + "@" + f.Component.Version
		}
		out = append(out, brief{c, f.Vulnerability, string(f.State), f.Evidence.Matcher, f.Evidence.Range, f.Evidence.Fixed,
			f.Evidence.Reason != ""})
	}
	return out
}

func purl(p string) vigil.Component { return vigil.Component{Purl: p} }

func TestMatchRealRecords(t *testing.T) {
	jquery := ghsa(t, "npm_greater_than")  // npm jquery SEMVER >=2.1.1-0 <3.0.0
	mixin := ghsa(t, "equals_with_patch")  // npm mixin-deep, events out of order
	akka := ghsa(t, "full_ranges")         // Maven com.typesafe.akka:akka-actor_2.12 / _2.11
	xwiki := ghsa(t, "maven_greater_than") // Maven, three ranges in one events list
	pluggable := ghsa(t, "pypi_normalize") // PyPI products-pluggableauthservice
	passenger := ghsa(t, "multiple_ranges_in_package")
	paranoid := ghsa(t, "equals_no_patch")     // RubyGems versions list only
	withdrawn := ghsa(t, "withdrawn")          // RubyGems activesupport, withdrawn
	gin := linter(t, "GO-2020-0001")           // Go github.com/gin-gonic/gin
	stdlib := linter(t, "GO-2024-2963")        // Go stdlib
	requests := linter(t, "PYSEC-2023-74")     // PyPI requests: GIT range before ECOSYSTEM range
	gradio := linter(t, "GHSA-9v2f-6vcg-3hgv") // PyPI "Gradio", versions list
	alpine := linter(t, "CVE-2018-5407")       // Alpine:v3.x openssl
	all := []*vigil.Advisory{jquery, mixin, akka, xwiki, pluggable, passenger, paranoid, withdrawn, gin, stdlib,
		requests, gradio, alpine}

	tests := []struct {
		name  string
		comps []vigil.Component
		want  []brief
	}{
		{"npm semver range", []vigil.Component{purl("pkg:npm/jquery@2.2.4"), purl("pkg:npm/jquery@3.0.0"),
			purl("pkg:npm/jquery@2.1.0")}, []brief{
			{"pkg:npm/jquery@2.2.4", "GHSA-mhpp-875w-9cpv", "open", "osv-ecosystem:npm", ">=2.1.1-0, <3.0.0 (SEMVER)", "3.0.0", false},
		}},
		{"events out of order are sorted", []vigil.Component{purl("pkg:npm/mixin-deep@1.3.1"),
			purl("pkg:npm/mixin-deep@1.3.2"), purl("pkg:npm/mixin-deep@2.0.0"), purl("pkg:npm/mixin-deep@2.0.1")}, []brief{
			{"pkg:npm/mixin-deep@1.3.1", "GHSA-fhjf-83wg-r2j9", "open", "osv-ecosystem:npm", ">=0, <1.3.2 (SEMVER)", "1.3.2", false},
			{"pkg:npm/mixin-deep@2.0.0", "GHSA-fhjf-83wg-r2j9", "open", "osv-ecosystem:npm", ">=2.0.0, <2.0.1 (SEMVER)", "2.0.1", false},
		}},
		{"maven group in purl namespace and in CycloneDX group", []vigil.Component{
			purl("pkg:maven/com.typesafe.akka/akka-actor_2.12@2.5.15"),
			{Name: "akka-actor_2.11", Group: "com.typesafe.akka", Version: "2.5.3", Purl: "pkg:maven/akka-actor_2.11@2.5.3"},
			purl("pkg:maven/com.typesafe.akka/akka-actor_2.12@2.5.16"),
			purl("pkg:maven/akka-actor_2.12@2.5.15"), // no group anywhere: not the same package
		}, []brief{
			{"pkg:maven/com.typesafe.akka/akka-actor_2.12@2.5.15", "GHSA-mr95-9rr4-668f", "open", "osv-ecosystem:Maven", ">=2.5.0, <2.5.16 (ECOSYSTEM)", "2.5.16", false},
			{"pkg:maven/akka-actor_2.11@2.5.3", "GHSA-mr95-9rr4-668f", "open", "osv-ecosystem:Maven", ">=2.5.0, <2.5.16 (ECOSYSTEM)", "2.5.16", false},
		}},
		{"maven order: 12.0 and 12.0.0, qualifiers", []vigil.Component{
			purl("pkg:maven/org.xwiki.commons/xwiki-commons-core@12.0"),
			purl("pkg:maven/org.xwiki.commons/xwiki-commons-core@12.6.7"),
			purl("pkg:maven/org.xwiki.commons/xwiki-commons-core@12.10.1"),
			purl("pkg:maven/org.xwiki.commons/xwiki-commons-core@11.10.12"),
			purl("pkg:maven/org.xwiki.commons/xwiki-commons-core@11.6"),
		}, []brief{
			{"pkg:maven/org.xwiki.commons/xwiki-commons-core@12.0", "GHSA-76mp-659p-rw65", "open", "osv-ecosystem:Maven", ">=12.0, <12.6.7 (ECOSYSTEM)", "12.6.7", false},
			{"pkg:maven/org.xwiki.commons/xwiki-commons-core@12.10.1", "GHSA-76mp-659p-rw65", "open", "osv-ecosystem:Maven", ">=12.10.0, <12.10.2 (ECOSYSTEM)", "12.10.2", false},
			{"pkg:maven/org.xwiki.commons/xwiki-commons-core@11.10.12", "GHSA-76mp-659p-rw65", "open", "osv-ecosystem:Maven", ">=11.6.1, <11.10.13 (ECOSYSTEM)", "11.10.13", false},
		}},
		{"PyPI names normalized (PEP 503)", []vigil.Component{
			purl("pkg:pypi/Products.PluggableAuthService@2.6.0"),
			{Name: "gradio", Version: "3.1.7", Purl: "pkg:pypi/gradio@3.1.7"},
		}, []brief{
			{"pkg:pypi/Products.PluggableAuthService@2.6.0", "GHSA-p44j-xrqg-4xrr", "open", "osv-ecosystem:PyPI", ">=0, <2.6.1 (ECOSYSTEM)", "2.6.1", false},
		}},
		{"GIT range before ECOSYSTEM range does not hide it", []vigil.Component{
			purl("pkg:pypi/requests@2.30.0"), purl("pkg:pypi/requests@2.31.0"), purl("pkg:pypi/requests@2.3"),
		}, []brief{
			{"pkg:pypi/requests@2.30.0", "PYSEC-2023-74", "open", "osv-ecosystem:PyPI", ">=2.3.0, <2.31.0 (ECOSYSTEM)", "2.31.0", false},
			{"pkg:pypi/requests@2.3", "PYSEC-2023-74", "open", "osv-ecosystem:PyPI", ">=2.3.0, <2.31.0 (ECOSYSTEM)", "2.31.0", false},
		}},
		{"a commit hash cannot be placed on a GIT range", []vigil.Component{
			purl("pkg:pypi/requests@74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"),
		}, []brief{
			{"pkg:pypi/requests@74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5", "PYSEC-2023-74", "could_not_evaluate", "osv-ecosystem:PyPI", "", "", true},
		}},
		{"RubyGems: ranges with introduced 0 and versions lists; withdrawn gives nothing", []vigil.Component{
			purl("pkg:gem/passenger@3.0.20"), purl("pkg:gem/passenger@4.0.4"), purl("pkg:gem/passenger@4.0.5"),
			purl("pkg:gem/paranoid2@1.1.5"), purl("pkg:gem/paranoid2@1.1.6"), purl("pkg:gem/activesupport@3.2.1"),
		}, []brief{
			{"pkg:gem/passenger@3.0.20", "GHSA-9qj7-jvg4-qr2x", "open", "osv-ecosystem:RubyGems", ">=0, <3.0.21 (ECOSYSTEM)", "3.0.21", false},
			{"pkg:gem/passenger@4.0.4", "GHSA-9qj7-jvg4-qr2x", "open", "osv-ecosystem:RubyGems", ">=4.0.1, <4.0.5 (ECOSYSTEM)", "4.0.5", false},
			{"pkg:gem/paranoid2@1.1.6", "GHSA-4g4c-8gqh-m4vm", "open", "osv-ecosystem:RubyGems", "versions: 1.1.6", "", false},
		}},
		{"Go module path with case, v prefix; stdlib from go1.x", []vigil.Component{
			purl("pkg:golang/github.com/gin-gonic/gin@v1.5.0"), purl("pkg:golang/github.com/gin-gonic/gin@v1.6.0"),
			purl("pkg:golang/stdlib@go1.22.4"), purl("pkg:golang/stdlib@go1.21.12"), purl("pkg:golang/stdlib@1.20"),
		}, []brief{
			{"pkg:golang/github.com/gin-gonic/gin@v1.5.0", "GO-2020-0001", "open", "osv-ecosystem:Go", ">=0, <1.6.0 (SEMVER)", "1.6.0", false},
			{"pkg:golang/stdlib@go1.22.4", "GO-2024-2963", "open", "osv-ecosystem:Go", ">=1.22.0-0, <1.22.5 (SEMVER)", "1.22.5", false},
			{"pkg:golang/stdlib@1.20", "GO-2024-2963", "open", "osv-ecosystem:Go", ">=0, <1.21.12 (SEMVER)", "1.21.12", false},
		}},
		{"Alpine releases must agree", []vigil.Component{
			purl("pkg:apk/alpine/openssl@1.0.2p-r0?distro=alpine-3.8.1"),
			purl("pkg:apk/alpine/openssl@1.0.2p-r0?distro=alpine-3.12.0"),
			purl("pkg:apk/alpine/openssl@1.0.2q-r0?distro=alpine-3.8.1"),
		}, []brief{
			{"pkg:apk/alpine/openssl@1.0.2p-r0?distro=alpine-3.8.1", "CVE-2018-5407", "open", "osv-ecosystem:Alpine:v3.8", ">=0, <1.0.2q-r0 (ECOSYSTEM)", "1.0.2q-r0", false},
		}},
		{"unknown packages and versionless components", []vigil.Component{
			purl("pkg:npm/left-pad@1.0.0"), {Name: "jquery", Version: "2.2.4"}, purl("pkg:npm/jquery"), purl("pkg:npm/jquery@latest"),
		}, []brief{
			{"pkg:npm/jquery", "GHSA-mhpp-875w-9cpv", "could_not_evaluate", "osv-ecosystem:npm", "", "", true},
			{"pkg:npm/jquery@latest", "GHSA-mhpp-875w-9cpv", "could_not_evaluate", "osv-ecosystem:npm", "", "", true},
		}},
	}
	x := match.NewIndex(match.Options{})
	x.Add(all...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x.Match(context.Background(), tt.comps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			// The cold path (only the components' keys looked up) must agree with the whole index.
			cold, err := match.New(x, match.Options{}).Match(context.Background(), tt.comps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, cold); diff != "" {
				t.Errorf("Engine.Match differs from Index.Match (-index +engine):\n%s", diff)
			}
		})
	}
}

// TestFindingCarriesEvidence checks the whole finding once: component, id, aliases, state and every evidence field.
func TestFindingCarriesEvidence(t *testing.T) {
	x := match.NewIndex(match.Options{})
	x.Add(linter(t, "PYSEC-2023-74"))
	comp := vigil.Component{Name: "requests", Version: "2.30.0", Purl: "pkg:pypi/requests@2.30.0"}
	got, err := x.Match(context.Background(), []vigil.Component{comp})
	if err != nil {
		t.Fatal(err)
	}
	want := []vigil.Finding{{
		Component:     comp,
		Vulnerability: "PYSEC-2023-74",
		Aliases:       []string{"CVE-2023-32681", "GHSA-j8r2-6x86-q33q"},
		State:         vigil.FindingOpen,
		Evidence: vigil.Evidence{Matcher: "osv-ecosystem:PyPI", Source: vigil.SourceOSV, Advisory: "PYSEC-2023-74",
			Range: ">=2.3.0, <2.31.0 (ECOSYSTEM)", Fixed: "2.31.0"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestRevisedAndWithdrawn checks that Add replaces a revised record and that a withdrawal removes it.
func TestRevisedAndWithdrawn(t *testing.T) {
	gin := linter(t, "GO-2020-0001")
	comp := []vigil.Component{purl("pkg:golang/github.com/gin-gonic/gin@v1.6.1")}
	x := match.NewIndex(match.Options{})
	x.Add(gin)
	count := func() int {
		t.Helper()
		got, err := x.Match(context.Background(), comp)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(); n != 0 {
		t.Fatalf("before revision: %d findings, want 0", n)
	}
	rev := *gin
	rev.Affected = []vigil.Affected{{Ecosystem: "Go", Name: "github.com/gin-gonic/gin", Ranges: []vigil.Range{{
		Type: vigil.RangeSemver, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: "1.7.0"}}}}}}
	x.Add(&rev)
	if n := count(); n != 1 {
		t.Fatalf("after revision: %d findings, want 1", n)
	}
	if x.Len() != 1 {
		t.Fatalf("Len = %d, want 1", x.Len())
	}
	wd := rev
	wd.Withdrawn = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	x.Add(&wd)
	if n := count(); n != 0 {
		t.Fatalf("after withdrawal: %d findings, want 0", n)
	}
	if x.Len() != 0 {
		t.Fatalf("Len = %d, want 0", x.Len())
	}
}

// TestVersionsList: a versions list matches a component's version as written or as its ecosystem orders it equal
// ("1.0" is PyPI's "1.0.0"), whether the list is short (searched entry by entry) or long (through a map), and
// nothing else; the evidence names the entry as the advisory wrote it.
func TestVersionsList(t *testing.T) {
	long := []string{"1.0.0"}
	for i := 1; i <= 40; i++ {
		long = append(long, fmt.Sprintf("2.%d", i))
	}
	for _, tc := range []struct {
		name     string
		versions []string
	}{{"short", []string{"2.5", "1.0.0", "2.1", "a b"}}, {"long", append(long, "a b")}} {
		t.Run(tc.name, func(t *testing.T) {
			x := match.NewIndex(match.Options{})
			x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "PYSEC-0000-1",
				Affected: []vigil.Affected{{Ecosystem: "PyPI", Name: "listed", Versions: tc.versions}}})
			for _, c := range []struct{ version, rng string }{
				{"2.5", "versions: 2.5"},   // as written
				{"a%20b", "versions: a b"}, // as written, though PyPI cannot order it
				{"1.0", "versions: 1.0.0"}, // ordered equal
				{"2.1.0", "versions: 2.1"}, // ordered equal
				{"2.50", ""},               // listed in neither form
				{"0.9", ""},                // below every entry
			} {
				got, err := x.Match(context.Background(), []vigil.Component{purl("pkg:pypi/listed@" + c.version)})
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case c.rng == "" && len(got) != 0:
					t.Errorf("%s: %d findings, want none", c.version, len(got))
				case c.rng != "" && (len(got) != 1 || got[0].Evidence.Range != c.rng):
					t.Errorf("%s: %+v, want one finding with range %q", c.version, got, c.rng)
				}
			}
		})
	}
}
