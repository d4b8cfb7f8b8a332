package match_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// referencePurl parses with packageurl-go, the purl reference implementation, keeping Go module paths' case.
func referencePurl(s string) (match.Purl, bool) {
	p, err := packageurl.FromString(s)
	if err != nil {
		return match.Purl{}, false
	}
	out := match.Purl{Type: strings.ToLower(p.Type), Namespace: p.Namespace, Name: p.Name, Version: p.Version,
		Qualifiers: p.Qualifiers.Map(), Subpath: p.Subpath}
	if out.Type == "golang" {
		rest := strings.TrimLeft(s[len("pkg:"):], "/")
		if _, path, ok := strings.Cut(rest, "/"); ok {
			if g, err := packageurl.FromString("pkg:generic/" + path); err == nil {
				out.Namespace, out.Name = g.Namespace, g.Name
			}
		}
	}
	return out, true
}

var purlSeeds = []string{
	"pkg:pypi/Django_REST.framework@3.0",
	"pkg:npm/%40angular/core@11.0.0",
	"pkg:npm/@angular/core@11.0.0",
	"pkg:npm/@angular/core",
	"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
	"pkg:golang/github.com/BurntSushi/toml@v1.2.0",
	"pkg:golang/google.golang.org/genproto@v0.0.0-20200513103714-09dca8ec2884#googleapis/api/annotations",
	"pkg:golang/stdlib@go1.21.0",
	"pkg:composer/Laravel/Framework@6.0.0",
	"pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&upstream=openssl%403.0.11-1&distro=debian-12",
	"pkg:deb/debian/curl@7.74.0-1.3%2Bdeb11u7?distro=bullseye",
	"pkg:rpm/redhat/openssl-libs@1.1.1k-7.el8?epoch=1&upstream=openssl-1.1.1k-7.el8.src.rpm&distro=rhel-8.6",
	"pkg:apk/alpine/openssl@3.0.8-r0?distro=alpine-3.17.2",
	"pkg:nuget/Newtonsoft.Json@13.0.1",
	"pkg:cargo/rustls-pemfile@1.0.0",
	"pkg:gem/rails@7.0.0",
	"pkg:bitnami/activemq@5.16.1",
	"pkg:swift/github.com/apple/swift-nio@2.0.0",
	"pkg:generic/openssl@1.1.1",
	"PKG:PyPI/requests@2.31.0",
	"pkg://pypi/requests@2.31.0",
}

func TestParsePurlAgreesWithReference(t *testing.T) {
	for _, s := range purlSeeds {
		checkPurl(t, s)
	}
	for _, s := range []string{"", "pkg:", "pkg:/x", "npm/x@1", "pkg:n pm/x@1", "pkg:npm/%zz@1", "pkg:npm/"} {
		if _, err := match.ParsePurl(s); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("ParsePurl(%q): code %q, want EINVALID", s, vigil.ErrorCode(err))
		}
	}
}

// checkPurl: wherever the reference implementation accepts a purl, ParsePurl must identify the same packages.
func checkPurl(t *testing.T, s string) {
	t.Helper()
	if len(s) > 4096 {
		if _, err := match.ParsePurl(s); err == nil {
			t.Fatalf("ParsePurl accepted %d bytes", len(s))
		}
		return // the matcher refuses what no package URL needs; packageurl-go has no bound
	}
	ref, ok := referencePurl(s)
	if !ok || ref.Name == "" || !utf8.ValidString(s) {
		return // packageurl-go turns invalid UTF-8 into U+FFFD when it lower-cases; a package name is never that
	}
	got, err := match.ParsePurl(s)
	if err != nil {
		t.Fatalf("ParsePurl(%q): %v; packageurl-go reads %+v", s, err, ref)
	}
	if got.Type != ref.Type || got.Version != ref.Version {
		t.Fatalf("ParsePurl(%q): type %q version %q, packageurl-go %q %q", s, got.Type, got.Version, ref.Type, ref.Version)
	}
	for _, q := range []string{"distro", "upstream", "epoch"} {
		if got.Qualifiers[q] != ref.Qualifiers[q] {
			t.Fatalf("ParsePurl(%q): qualifier %s = %q, packageurl-go %q", s, q, got.Qualifiers[q], ref.Qualifiers[q])
		}
	}
	for _, m := range match.Matchers() {
		if !containsType(m.PurlTypes(), got.Type) {
			continue
		}
		if diff := cmp.Diff(m.Identify(ref), m.Identify(got)); diff != "" {
			t.Fatalf("Identify(%q) differs from packageurl-go's parse (-ref +got):\n%s", s, diff)
		}
	}
}

func containsType(ts []string, t string) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// FuzzParsePurl holds the fast purl parser to packageurl-go and to never panicking.
func FuzzParsePurl(f *testing.F) {
	for _, s := range purlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 5000 {
			return // past the bound only the length check runs; large inputs just slow minimization down
		}
		_, _ = match.ParsePurl(s)
		checkPurl(t, s)
	})
}
