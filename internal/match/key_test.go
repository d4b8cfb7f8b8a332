package match_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

func TestComponentKeys(t *testing.T) {
	tests := []struct {
		name string
		comp vigil.Component
		opt  match.Options
		want []string
	}{
		{"PyPI name PEP 503", vigil.Component{Name: "Django_REST.framework", Purl: "pkg:pypi/Django_REST.framework@3.0"}, match.Options{},
			[]string{"PyPI:django-rest-framework", "csaf:django_rest.framework"}},
		{"npm scope", vigil.Component{Name: "core", Purl: "pkg:npm/%40angular/core@11.0.0"}, match.Options{},
			[]string{"csaf:core", "npm:@angular/core"}},
		{"npm scope only in group, without @", vigil.Component{Name: "core", Group: "angular", Purl: "pkg:npm/core@11.0.0"}, match.Options{},
			[]string{"csaf:core", "npm:@angular/core"}},
		{"Maven group in group", vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Purl: "pkg:maven/log4j-core@2.14.1"}, match.Options{},
			[]string{"Maven:org.apache.logging.log4j:log4j-core", "csaf:log4j-core"}},
		{"Go module path keeps case", vigil.Component{Name: "toml", Purl: "pkg:golang/github.com/BurntSushi/toml@v1.2.0"}, match.Options{},
			[]string{"Go:github.com/BurntSushi/toml", "csaf:toml"}},
		{"Composer lower-cased", vigil.Component{Purl: "pkg:composer/Laravel/Framework@6.0.0"}, match.Options{},
			[]string{"Packagist:laravel/framework"}},
		{"NuGet lower-cased", vigil.Component{Purl: "pkg:nuget/Newtonsoft.Json@13.0.1"}, match.Options{},
			[]string{"NuGet:newtonsoft.json"}},
		{"crates.io: - and _ alike", vigil.Component{Purl: "pkg:cargo/Rustls_Pemfile@1.0.0"}, match.Options{},
			[]string{"crates.io:rustls-pemfile"}},
		{"Debian binary and source", vigil.Component{Purl: "pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl%403.0.11-1&distro=debian-12"}, match.Options{},
			[]string{"Debian:libssl3", "Debian:openssl"}},
		{"RPM source from the src.rpm", vigil.Component{Purl: "pkg:rpm/redhat/openssl-libs@1.1.1k-7.el8?upstream=openssl-1.1.1k-7.el8.src.rpm"}, match.Options{},
			[]string{"Red Hat:openssl", "Red Hat:openssl-libs"}},
		{"CPE key", vigil.Component{Name: "OpenSSL", CPE: "cpe:2.3:a:OpenSSL:OpenSSL:1.0.2u:*:*:*:*:*:*:*"}, match.Options{},
			[]string{"cpe:openssl:openssl", "csaf:openssl"}},
		{"declared ecosystem", vigil.Component{Name: "Flask", Version: "2.0"}, match.Options{Ecosystem: "pypi"},
			[]string{"PyPI:flask", "csaf:flask"}},
		{"unknown purl type", vigil.Component{Purl: "pkg:generic/openssl@1.0"}, match.Options{}, nil},
		{"malformed purl", vigil.Component{Purl: "not a purl"}, match.Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, k := range match.ComponentKeys(tt.comp, tt.opt) {
				got = append(got, k.String())
				back, err := match.ParseKey(k.String())
				if err != nil || back != k {
					t.Errorf("ParseKey(%q) = %v, %v", k.String(), back, err)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdvisoryKeys(t *testing.T) {
	a := &vigil.Advisory{
		Affected: []vigil.Affected{
			{Ecosystem: "PyPI", Name: "Products.PluggableAuthService"},
			{Ecosystem: "pypi", Name: "products-pluggableauthservice"}, // the same key, once
			{Ecosystem: "Debian:12", Name: "openssl"},
			{Ecosystem: "Bitnami", Name: "activemq", CPEs: []string{"cpe:2.3:a:apache:activemq:*:*:*:*:*:*:*:*"}},
			{Ecosystem: "Maven:https://maven.google.com", Name: "com.google.android:lib"},
		},
		Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{Operator: "OR", Matches: []vigil.CPEMatch{
			{Vulnerable: true, Criteria: "cpe:2.3:o:medtronic:minimed_508_firmware:*:*:*:*:*:*:*:*"},
			{Vulnerable: false, Criteria: "cpe:2.3:h:medtronic:minimed_508:-:*:*:*:*:*:*:*"}, // a platform: not a key
		}}}}},
		Products: []vigil.Product{
			{Name: "Agilia  Partner", Status: "known_affected"},
			{Name: "x", Purl: "pkg:npm/%40angular/core@11.0.0", Status: "known_affected"},
		},
	}
	var got []string
	for _, k := range match.AdvisoryKeys(a) {
		got = append(got, k.String())
	}
	want := []string{"Bitnami:activemq", "Debian:openssl", "Maven:com.google.android:lib", "PyPI:products-pluggableauthservice",
		"cpe:apache:activemq", "cpe:medtronic:minimed_508_firmware", "csaf:agilia partner", "npm:@angular/core"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, err := match.ParseKey("nocolon"); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("ParseKey(nocolon) code = %q, want EINVALID", vigil.ErrorCode(err))
	}
}
