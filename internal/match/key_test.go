package match_test

import (
	"context"
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
			[]string{"pkg:PyPI/django-rest-framework", "product:/django_rest.framework", "purl:pypi/django-rest-framework"}},
		{"npm scope", vigil.Component{Name: "core", Purl: "pkg:npm/%40angular/core@11.0.0"}, match.Options{},
			[]string{"pkg:npm/@angular/core", "product:/core", "purl:npm/@angular/core"}},
		{"npm scope only in group, without @", vigil.Component{Name: "core", Group: "angular", Purl: "pkg:npm/core@11.0.0"}, match.Options{},
			[]string{"pkg:npm/@angular/core", "product:/core", "product:angular/core", "purl:npm/angular/core"}},
		{"Maven group in group", vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Purl: "pkg:maven/log4j-core@2.14.1"}, match.Options{},
			[]string{"pkg:Maven/org.apache.logging.log4j:log4j-core", "product:/log4j-core", "product:org.apache.logging.log4j/log4j-core",
				"purl:maven/org.apache.logging.log4j/log4j-core"}},
		{"Go module path keeps case", vigil.Component{Purl: "pkg:golang/github.com/BurntSushi/toml@v1.2.0"}, match.Options{},
			[]string{"pkg:Go/github.com/BurntSushi/toml", "purl:golang/github.com/burntsushi/toml"}},
		{"Composer lower-cased", vigil.Component{Purl: "pkg:composer/Laravel/Framework@6.0.0"}, match.Options{},
			[]string{"pkg:Packagist/laravel/framework", "purl:composer/laravel/framework"}},
		{"NuGet lower-cased", vigil.Component{Purl: "pkg:nuget/Newtonsoft.Json@13.0.1"}, match.Options{},
			[]string{"pkg:NuGet/newtonsoft.json", "purl:nuget/newtonsoft.json"}},
		{"Debian binary and source", vigil.Component{Purl: "pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl%403.0.11-1&distro=debian-12"}, match.Options{},
			[]string{"pkg:Debian/libssl3", "pkg:Debian/openssl", "purl:deb/debian/libssl3"}},
		{"RPM source from the src.rpm", vigil.Component{Purl: "pkg:rpm/redhat/openssl-libs@1.1.1k-7.el8?upstream=openssl-1.1.1k-7.el8.src.rpm"}, match.Options{},
			[]string{"pkg:Red Hat/openssl", "pkg:Red Hat/openssl-libs", "purl:rpm/redhat/openssl-libs"}},
		{"CPE key; CSAF name under the supplier", vigil.Component{Name: "OpenSSL", Supplier: "OpenSSL  Project", CPE: "cpe:2.3:a:OpenSSL:OpenSSL:1.0.2u:*:*:*:*:*:*:*"}, match.Options{},
			[]string{"cpe:a/openssl:openssl", "product:/openssl", "product:openssl project/openssl"}},
		{"CSAF vendor without the legal form", vigil.Component{Name: "Agilia Link+", Supplier: "Fresenius Kabi AG", Version: "3.0"}, match.Options{},
			[]string{"product:/agilia link+", "product:fresenius kabi/agilia link+", "product:fresenius kabi ag/agilia link+"}},
		{"legal form after a comma", vigil.Component{Name: "VxWorks", Supplier: "Wind River Systems, Inc."}, match.Options{},
			[]string{"product:/vxworks", "product:wind river systems/vxworks", "product:wind river systems, inc./vxworks"}},
		{"declared ecosystem", vigil.Component{Name: "Flask", Version: "2.0"}, match.Options{Ecosystem: "pypi"},
			[]string{"pkg:PyPI/flask", "product:/flask", "purl:pypi/flask"}},
		{"unknown purl type", vigil.Component{Purl: "pkg:generic/openssl@1.0"}, match.Options{}, []string{"purl:generic/openssl"}},
		{"malformed purl", vigil.Component{Purl: "not a purl"}, match.Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, k := range match.ComponentKeys(tt.comp, tt.opt) {
				got = append(got, k.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLookupByStoreKeys: the in-memory Source answers the same keys the store does, for every way an advisory
// names a package.
func TestLookupByStoreKeys(t *testing.T) {
	advs := []*vigil.Advisory{
		{Source: "osv", ID: "A", Affected: []vigil.Affected{{Ecosystem: "PyPI", Name: "Products.PluggableAuthService"}}},
		{Source: "osv", ID: "B", Affected: []vigil.Affected{{Ecosystem: "debian:12", Name: "OpenSSL"}}},
		{Source: "osv", ID: "C", Affected: []vigil.Affected{{Ecosystem: "Bitnami", Name: "activemq",
			CPEs: []string{"cpe:2.3:a:apache:activemq:*:*:*:*:*:*:*:*"}}}},
		{Source: "nvd", ID: "D", Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{Operator: "OR", Matches: []vigil.CPEMatch{
			{Vulnerable: true, Criteria: "cpe:2.3:o:medtronic:minimed_508_firmware:*:*:*:*:*:*:*:*"},
			{Vulnerable: false, Criteria: "cpe:2.3:h:medtronic:minimed_508:-:*:*:*:*:*:*:*"}}}}}}},
		{Source: "csaf", ID: "E", Products: []vigil.Product{{Vendor: "Fresenius Kabi", Name: "Agilia  Partner", Status: "known_affected"}}},
		{Source: "csaf", ID: "F", Products: []vigil.Product{{Name: "x", Purl: "pkg:npm/%40angular/core@11.0.0", Status: "known_affected"}}},
		{Source: "osv", ID: "G", Affected: []vigil.Affected{{Ecosystem: "Android", Name: "platform/frameworks/base"}}},
	}
	x := match.NewIndex(match.Options{})
	x.Add(advs...)
	tests := []struct {
		key  vigil.PackageKey
		want []string
	}{
		{vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: "pypi", Name: "products-pluggableauthservice"}, []string{"A"}},
		{vigil.PackageKey{Kind: vigil.KeyPurl, Ecosystem: "pypi", Name: "products.pluggableauthservice"}, []string{"A"}},
		{vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: "Debian", Name: "openssl"}, []string{"B"}},
		{vigil.PackageKey{Kind: vigil.KeyCPE, Ecosystem: "a", Name: "apache:activemq"}, []string{"C"}},
		{vigil.PackageKey{Kind: vigil.KeyCPE, Ecosystem: "o", Name: "medtronic:minimed_508_firmware"}, []string{"D"}},
		{vigil.PackageKey{Kind: vigil.KeyCPE, Ecosystem: "h", Name: "medtronic:minimed_508"}, nil}, // a platform
		{vigil.PackageKey{Kind: vigil.KeyProduct, Ecosystem: "fresenius kabi", Name: "agilia partner"}, []string{"E"}},
		{vigil.PackageKey{Kind: vigil.KeyPurl, Ecosystem: "npm", Name: "@angular/core"}, []string{"F"}},
		{vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: "Android", Name: "platform/frameworks/base"}, []string{"G"}},
		{vigil.PackageKey{Kind: "bogus", Ecosystem: "x", Name: "y"}, nil},
	}
	for _, tt := range tests {
		got, err := x.Lookup(context.Background(), []vigil.PackageKey{tt.key})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("Lookup(%v) mismatch (-want +got):\n%s", tt.key, diff)
		}
	}
}
