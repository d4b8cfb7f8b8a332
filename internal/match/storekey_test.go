package match_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// TestStoreKeys: the store keys of OSV packages, purls, CPEs and CSAF products, as the store files them.
func TestStoreKeys(t *testing.T) {
	tests := []struct {
		eco, name string
		want      vigil.PackageKey
	}{
		{"PyPI", "Django_REST.framework", vigil.PackageKey{Kind: "pkg", Ecosystem: "PyPI", Name: "django-rest-framework"}},
		{"pypi", "zope.interface", vigil.PackageKey{Kind: "pkg", Ecosystem: "PyPI", Name: "zope-interface"}},
		{"npm", "@Scope/Pkg", vigil.PackageKey{Kind: "pkg", Ecosystem: "npm", Name: "@Scope/Pkg"}},
		{"Go", "github.com/Sirupsen/logrus", vigil.PackageKey{Kind: "pkg", Ecosystem: "Go", Name: "github.com/Sirupsen/logrus"}},
		{"Maven", "org.Apache:Log4j", vigil.PackageKey{Kind: "pkg", Ecosystem: "Maven", Name: "org.Apache:Log4j"}},
		{"debian:12", "OpenSSL", vigil.PackageKey{Kind: "pkg", Ecosystem: "Debian", Name: "openssl"}},
		{"NuGet", "Newtonsoft.Json", vigil.PackageKey{Kind: "pkg", Ecosystem: "NuGet", Name: "newtonsoft.json"}},
		{"Unknown:1", "X", vigil.PackageKey{Kind: "pkg", Ecosystem: "Unknown", Name: "X"}},
	}
	for _, tt := range tests {
		if got := match.PackageKeyOf(tt.eco, tt.name); got != tt.want {
			t.Errorf("PackageKeyOf(%q, %q) = %v, want %v", tt.eco, tt.name, got, tt.want)
		}
	}
	if k, ok := match.PurlKey("pkg:pypi/Django_Rest@1.0"); !ok || k != (vigil.PackageKey{Kind: "purl", Ecosystem: "pypi", Name: "django-rest"}) {
		t.Errorf("PurlKey = %v %v", k, ok)
	}
	if k, ok := match.PurlKey("pkg:maven/org.apache/log4j-core@2.0"); !ok || k.Name != "org.apache/log4j-core" {
		t.Errorf("PurlKey maven = %v %v", k, ok)
	}
	if _, ok := match.PurlKey("pkg:/nope"); ok {
		t.Error("bad purl accepted")
	}
	if k, ok := match.CPEKey("cpe:2.3:o:Medtronic:MiniMed_508_firmware:*:*:*:*:*:*:*:*"); !ok || k != (vigil.PackageKey{Kind: "cpe", Ecosystem: "o", Name: "medtronic:minimed_508_firmware"}) {
		t.Errorf("CPEKey = %v %v", k, ok)
	}
	if _, ok := match.CPEKey("cpe:2.3:a:vendor:*:*:*:*:*:*:*:*:*"); ok {
		t.Error("a wildcard product was indexed")
	}
	got := match.ProductKeys(vigil.Product{Vendor: "Philips ", Name: "Vue  PACS", ModelNumbers: []string{"M-100"}})
	want := []vigil.PackageKey{{Kind: "product", Ecosystem: "philips", Name: "vue pacs"}, {Kind: "product", Ecosystem: "", Name: "vue pacs"},
		{Kind: "product", Ecosystem: "philips", Name: "m-100"}, {Kind: "product", Ecosystem: "", Name: "m-100"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ProductKeys (-want +got):\n%s", diff)
	}
	if s := (vigil.PackageKey{Kind: "pkg", Ecosystem: "PyPI", Name: "x"}).String(); !strings.Contains(s, "pkg:PyPI/x") {
		t.Errorf("String = %q", s)
	}
}

// TestStoreKeysCoverIndexKeys: for every real advisory (OSV corpus, NVD, CSAF), each key the Index files it under
// is reached from one of the store keys the store files it under (match.AdvisoryKeys, through Index.Lookup's
// reading of store keys), so no advisory the Index could match is missing from the store's look-up.
func TestStoreKeysCoverIndexKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("reads every real advisory; the race run (-short) covers the engine with TestEngineSharedAndBounded")
	}
	advs := realAdvisories(t)
	checked := 0
	for i := range advs {
		a := &advs[i]
		if a.IsWithdrawn() {
			continue
		}
		reached := map[string]bool{}
		for _, k := range match.AdvisoryKeys(a) {
			for _, ik := range match.IndexKeysOfStoreKey(k) {
				reached[ik] = true
			}
		}
		for _, ik := range match.IndexKeysOf(a) {
			checked++
			if !reached[ik] {
				t.Errorf("%s/%s: the Index files it under %q, which none of its store keys %v reaches", a.Source, a.ID, ik, match.AdvisoryKeys(a))
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d index keys checked", checked)
	}
}
