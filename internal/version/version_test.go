package version_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/version"
)

// comparison is one fixture line: a op b.
type comparison struct {
	line int
	a, b string
	want int
}

// readFixture reads an osv-scalibr version fixture: "a op b" per line, blank lines and "# " or "// " comments
// skipped (PROVENANCE.md of osv-semantic-versions).
func readFixture(t testing.TB, name string) []comparison {
	t.Helper()
	f, err := os.Open(testfix.Path(t, "osv-semantic-versions", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []comparison
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "// ") {
			continue
		}
		parts := strings.Split(line, " ")
		if len(parts) != 3 {
			t.Fatalf("%s:%d: want \"a op b\", got %q", name, n, line)
		}
		want := map[string]int{"<": -1, "=": 0, ">": +1}
		w, ok := want[parts[1]]
		if !ok {
			t.Fatalf("%s:%d: unknown operator %q", name, n, parts[1])
		}
		out = append(out, comparison{n, parts[0], parts[2], w})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFixtures runs every comparison of every osv-semantic-versions file, both ways round, through
// Version.Compare and the Compare shortcut, for every ecosystem that shares the file's ordering. The lines the
// ecosystem's own tool answers differently are listed in testdata/reference/osv-scalibr-disputed.txt with the
// tool's answer, which TestDisputed holds Vigil to; every one of them must still be a line of its fixture.
func TestFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("compares every fixture's versions in one goroutine (two minutes under the race detector, which finds nothing there); the race run (-short) checks the cache's locking with TestCacheConcurrent")
	}
	disputed := map[string]bool{}
	for _, d := range readDisputed(t) {
		disputed[d.key] = true
	}
	seen := map[string]bool{}
	semver := []string{"npm", "Go", "crates.io", "Hex", "Bitnami", "ConanCenter", "Docker Hardened Images",
		"GHC", "Julia", "SwiftURL", "GitHub Actions", "Kubernetes", "VSCode", "Root:npm"}
	rpm := []string{"Red Hat", "Red Hat:rhel_aus:8.4::appstream", "AlmaLinux:9", "Azure Linux", "Mageia:9",
		"openEuler:22.03-LTS", "openSUSE:Leap 15.5", "Photon OS:3.0", "Rocky Linux", "SUSE"}
	apk := []string{"Alpine", "Alpine:v3.18", "Alpaquita:stream", "BellSoft Hardened Containers:23", "Chainguard",
		"MinimOS", "Wolfi", "Root:Alpine:3.18"}
	deb := []string{"Debian", "Debian:12", "Ubuntu:22.04:LTS", "Ubuntu:Pro:18.04:LTS", "Root:Debian:12"}
	tests := []struct {
		file        string
		comparisons int // as counted from the file, so a truncated fixture fails
		ecosystems  []string
	}{
		{"alpine-versions-generated.txt", 13979, apk},
		{"alpine-versions.txt", 778, apk},
		{"cran-versions-generated.txt", 57, []string{"CRAN", "Bioconductor"}},
		{"cran-versions.txt", 21, []string{"CRAN", "Bioconductor"}},
		{"debian-versions-generated.txt", 14442, deb},
		{"debian-versions.txt", 30, deb},
		{"hackage-versions.txt", 11, []string{"Hackage"}},
		{"maven-versions-generated.txt", 14752, []string{"Maven", "Maven:https://maven.google.com"}},
		{"maven-versions.txt", 102, []string{"Maven"}},
		{"nuget-versions.txt", 35, []string{"NuGet"}},
		{"packagist-versions-generated.txt", 10630, []string{"Packagist"}},
		{"packagist-versions.txt", 95, []string{"Packagist", "Packagist:https://packages.drupal.org/8"}},
		{"pub-versions.txt", 100, []string{"Pub"}},
		{"pypi-versions-generated.txt", 12375, []string{"PyPI", "Root:PyPI"}},
		{"pypi-versions.txt", 37, []string{"PyPI"}},
		{"redhat-versions.txt", 165, rpm},
		{"rubygems-versions-generated.txt", 4098, []string{"RubyGems"}},
		{"rubygems-versions.txt", 25, []string{"RubyGems"}},
		{"semver-versions.txt", 86, semver},
	}
	for _, tt := range tests {
		cmps := readFixture(t, tt.file)
		if len(cmps) != tt.comparisons {
			t.Errorf("%s: %d comparisons, want %d", tt.file, len(cmps), tt.comparisons)
		}
		for _, eco := range tt.ecosystems {
			t.Run(tt.file+"/"+eco, func(t *testing.T) {
				failed := 0
				for _, c := range cmps {
					if k := fmt.Sprintf("%s:%d", tt.file, c.line); disputed[k] {
						seen[k] = true
						continue
					}
					va, err := version.Parse(eco, c.a)
					if err != nil {
						t.Fatalf("line %d: %v", c.line, err)
					}
					vb, err := version.Parse(eco, c.b)
					if err != nil {
						t.Fatalf("line %d: %v", c.line, err)
					}
					got, back := va.Compare(vb), vb.Compare(va)
					short, err := version.Compare(eco, c.a, c.b)
					if err != nil {
						t.Fatalf("line %d: %v", c.line, err)
					}
					if got != c.want || back != -c.want || short != c.want {
						failed++
						if failed <= 10 {
							t.Errorf("line %d: %s vs %s = %d (reverse %d, Compare %d), want %d",
								c.line, c.a, c.b, got, back, short, c.want)
						}
					}
				}
				if failed > 0 {
					t.Errorf("%d of %d comparisons failed", failed, len(cmps))
				}
			})
		}
	}
	for k := range disputed {
		if !seen[k] {
			t.Errorf("osv-scalibr-disputed.txt lists %s, which is no comparison of that fixture", k)
		}
	}
}

// TestMoreOrders covers orderings the fixtures do not: the families Vigil adds (Linux, opam) and a few versions
// the matcher meets in medical-device SBOMs.
func TestMoreOrders(t *testing.T) {
	tests := []struct {
		eco, a, b string
		want      int
	}{
		{"Go", "v1.2.3", "1.2.3", 0},
		{"SemVer", "1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"semver", "2.0.0", "10.0.0", -1},
		{"Go", "v0.0.0-20210101000000-abcdef123456", "v0.0.1", -1},
		{"Go", "v1.10.0", "v1.9.9", +1},
		{"npm", "1.0.0-rc.1", "1.0.0-rc.1+build.5", 0},
		{"npm", "1.0.0--1", "1.0.0--2", +1}, // a negative numeric identifier, as osv-scalibr reads it
		{"Linux", "2.6.32.1", "2.6.32", +1},
		{"Linux", "6.1-rc1", "6.1", -1},
		{"Linux", "6.1.0", "6.1", 0},
		{"opam", "1.0~beta", "1.0", -1},
		{"opam", "1.0", "1.0.1", -1},
		{"opam", "v1.2", "1.2", +1}, // letters sort after the end
		{"Debian", "1:1.0", "2.0", +1},
		{"Debian", "1.0~rc1-1", "1.0-1", -1},
		{"Debian", "1.0", "1.0-0", 0},
		{"Ubuntu:22.04:LTS", "1.1.1f-1ubuntu2.16", "1.1.1f-1ubuntu2.9", +1},
		{"Red Hat", "1:1.0-1.el8", "2.0-1.el8", +1},
		{"Red Hat", "1.0~rc1", "1.0", -1},
		{"Red Hat", "1.0^git1", "1.0", +1},
		{"PyPI", "1.0.dev0", "1.0a0", -1},
		{"PyPI", "v1.0", "1.0", 0},
		{"Maven", "1.0-SNAPSHOT", "1.0", -1},
		{"Maven", "1.0.RELEASE", "1.0", 0},
		{"NuGet", "1.0.0-BETA", "1.0.0-beta", 0},
		{"Hackage", "1.0", "1.0.0", -1},
		{"Bitnami", "1.2.3-debian-12-r4", "1.2.3", -1},
		{"Root:Debian:12", "1.0-1", "1.0-2", -1},
		{"pypi", "2.0", "10.0", -1}, // any case
		{"RED HAT:rhel_aus:8.4::appstream", "1.0-2", "1.0-10", -1},
		// Issue 20's examples: each answer is the ecosystem tool's own.
		{"Maven", "2-abc", "2.0.abc", 0},
		{"Maven", "1-0.alpha", "1", -1},
		{"Maven", "1.é", "1.0", +1}, // an unknown qualifier sorts after the release
		{"Alpine", "1.0~1234", "1.0~2345", -1},
		{"Debian", "a-0", "1", +1}, // a letter sorts after a digit
		{"Debian", "6.0-4.el6.x86_64", "6.0-4.el6.x86_65", -1},
		{"Debian", "1.0-1é", "1.0-1z", +1}, // dpkg (signed char): bytes above 0x7f after letters
		{"Debian", "1.0-1é", "1.0-1+", -1}, // ... and before other ASCII
		{"RubyGems", "1.2.3-1", "1.2.3.pre.1", 0},
		{"Alpine", "5.7.1p1-r0", "5.7.1p1-r1", -1}, // as apk-tools 2 read it
	}
	for _, tt := range tests {
		t.Run(tt.eco+"/"+tt.a+"/"+tt.b, func(t *testing.T) {
			got, err := version.Compare(tt.eco, tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			back, err := version.Compare(tt.eco, tt.b, tt.a)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || back != -tt.want {
				t.Errorf("Compare = %d, reverse %d; want %d", got, back, tt.want)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	long := strings.Repeat("1.", version.MaxLen/2) + "1"
	tests := []struct {
		eco, v string
		want   string // part of the message
	}{
		{"npm", "", "empty"},
		{"PyPI", "", "empty"},
		{"Red Hat", "", "empty"},
		{"npm", long, "longer than"},
		{"npm", "1.0.0 ", "whitespace"},
		{"PyPI", "1.0\n", "whitespace"},
		{"Maven", "1.0\x00", "control"},
		{"RubyGems", "1.0\xff", "UTF-8"},
		{"npm", "latest", "must start with a digit"},
		{"Go", "vv1.0.0", "must start with a digit"},
		{"Go", "v", "must start with a digit"},
		{"crates.io", "^1.2", "must start with a digit"},
		{"NuGet", "beta", "must start with a digit"},
		{"Pub", "x1.0", "must start with a digit"},
		{"Hackage", "1.2.3.4.5-notallowed", "numbers only"},
		{"CRAN", "1.a.2", "not allowed"},
		{"CRAN", "!", "not allowed"},
		{"Debian", "1.2.3-not-a-debian:version!@#$", "epoch"},
		{"Debian", ":1.0", "epoch"},
		{"Debian", "x:1.0", "epoch"},
		{"Debian", "1.0-", "empty revision"},
		{"Debian", "1:", "nothing after"},
		{"Debian", "999999999999999999999999:0-1", "too big"},
		{"Debian", "-1:0-1", "not a number"},
		{"Debian", "-0", "empty upstream"},
		{"Alpine", "a", "must start with a digit"},
		{"Alpine", ".1", "must start with a digit"},
		{"opam", "1.0/2", "invalid character"},
		{"RubyGems", "a1", "malformed"},
		{"RubyGems", "1..2", "malformed"},
		{"RubyGems", "1.0-", "malformed"},
		{"RubyGems", "1.0_2", "malformed"},
		{"RubyGems", "1a", "malformed"},                   // Gem::Version wants "1.a"
		{"Maven", "1.\U0001D7E4", "cannot read a number"}, // ComparableVersion throws NumberFormatException
	}
	for _, tt := range tests {
		t.Run(tt.eco+"/"+tt.v, func(t *testing.T) {
			_, err := version.Parse(tt.eco, tt.v)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("Parse code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			msg := vigil.ErrorMessage(err)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not say %q", msg, tt.want)
			}
			if len(msg) > 300 {
				t.Errorf("message is %d bytes: the input should be clipped", len(msg))
			}
			// Compare reports the bad version whichever side it is on.
			for _, args := range [][2]string{{tt.v, "1.0"}, {"1.0", tt.v}} {
				if _, err := version.Compare(tt.eco, args[0], args[1]); vigil.ErrorCode(err) != vigil.EINVALID {
					t.Errorf("Compare(%q, %q) code = %q, want EINVALID", args[0], args[1], vigil.ErrorCode(err))
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"PyPI", "PyPI", true},
		{"pypi", "PyPI", true},
		{"NPM", "npm", true},
		{"go", "Go", true},
		{"CRATES.IO", "crates.io", true},
		{"Debian:12", "Debian:12", true},
		{"debian:12", "Debian:12", true},
		{"Debian:", "Debian", true},
		{"Alpine:v3.18", "Alpine:v3.18", true},
		{"ubuntu:22.04:LTS", "Ubuntu:22.04:LTS", true},
		{"Ubuntu:Pro:24.04:LTS", "Ubuntu:Pro:24.04:LTS", true},
		{"red hat:rhel_aus:8.4::appstream", "Red Hat:rhel_aus:8.4::appstream", true},
		{"Maven:https://maven.google.com", "Maven:https://maven.google.com", true},
		{"root:alpine:3.18", "Root:Alpine:3.18", true},
		{"Root:PyPI", "Root:PyPI", true},
		{"bitnami", "Bitnami", true},
		{"Root", "", false},
		{"Root:Root:PyPI", "", false},
		{"Root:Android", "", false},
		{"", "", false},
		{"Android", "", false}, // GIT ranges only: no version order
		{"OSS-Fuzz", "", false},
		{"PyPI ", "", false},
		{"Py", "", false},
		{":12", "", false},
		{strings.Repeat("x", 1000), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := version.Normalize(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
			_, err := version.Parse(tt.in, "1")
			if tt.wantOK != (err == nil) && tt.wantOK {
				t.Errorf("Parse(%q, \"1\") = %v", tt.in, err)
			}
			if !tt.wantOK && vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("Parse(%q) code = %q, want EINVALID", tt.in, vigil.ErrorCode(err))
			}
		})
	}
}

func TestKnown(t *testing.T) {
	known := version.Known()
	want := []string{"Alpine", "Bitnami", "crates.io", "Debian", "Go", "Maven", "npm", "NuGet", "Packagist",
		"PyPI", "Red Hat", "RubyGems", "Ubuntu", "Linux", "Root"}
	have := map[string]bool{}
	for i, k := range known {
		have[k] = true
		if i > 0 && strings.ToLower(known[i-1]) > strings.ToLower(k) {
			t.Errorf("Known() not sorted: %q before %q", known[i-1], k)
		}
		if k == "Root" {
			continue // Root always names the ecosystem it wraps (TestNormalize)
		}
		if n, ok := version.Normalize(k); !ok || n != k {
			t.Errorf("Known()[%d] = %q does not normalize to itself (%q, %v)", i, k, n, ok)
		}
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("Known() lacks %q", w)
		}
	}
	for _, no := range []string{"Android", "OSS-Fuzz", "GIT"} {
		if have[no] {
			t.Errorf("Known() has %q, which has no version order", no)
		}
	}
}

func TestVersionAccessors(t *testing.T) {
	v, err := version.Parse("debian:12", "1:2.3-4")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{v.String(), v.Ecosystem()}
	if diff := cmp.Diff([]string{"1:2.3-4", "Debian:12"}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	var zero version.Version
	if !zero.IsZero() || v.IsZero() {
		t.Error("IsZero wrong")
	}
	if zero.Compare(v) != -1 || v.Compare(zero) != +1 || zero.Compare(zero) != 0 {
		t.Error("the zero Version must sort first")
	}
	// Different orderings are not comparable but still ordered, both ways round.
	p, err := version.Parse("PyPI", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Compare(v) != -v.Compare(p) || p.Compare(v) == 0 {
		t.Errorf("cross-ordering Compare not antisymmetric: %d, %d", p.Compare(v), v.Compare(p))
	}
	// Debian and Ubuntu share dpkg's order.
	u, err := version.Parse("Ubuntu:22.04:LTS", "1:2.3-5")
	if err != nil {
		t.Fatal(err)
	}
	if v.Compare(u) != -1 {
		t.Errorf("Debian 1:2.3-4 vs Ubuntu 1:2.3-5 = %d, want -1", v.Compare(u))
	}
}

// TestWarnings: a version the ecosystem's tool orders with a warning is ordered and carries the warning; one it
// accepts as it is carries none.
func TestWarnings(t *testing.T) {
	tests := []struct {
		eco, v string
		want   string // part of the warning, "" for none
	}{
		{"Debian", "a-0", "does not start with digit"},
		{"Ubuntu:22.04:LTS", "6.0-4.el6.x86_64", "invalid character in revision"},
		{"Debian", "1.0_2", "invalid character in version"},
		{"Debian", "1:2.3~rc1+dfsg-4ubuntu1", ""},
		{"Alpine", "5.1p1-r0", "apk-tools 2"},
		{"Alpine", "1.0bc", "apk calls it invalid"},
		{"Alpine", "1.2.3_rc1-r2", ""},
		{"Maven", "1.0-SNAPSHOT", ""},
		{"npm", "1.0.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.eco+"/"+tt.v, func(t *testing.T) {
			v, err := version.Parse(tt.eco, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Warning(); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("Warning() = %q, want %q", got, tt.want)
			}
		})
	}
}
