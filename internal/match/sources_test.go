package match_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// nvdRecord reads one NVD API 2.0 CVE record's configurations (the NVD parser is another package's job; this is
// the minimum to hand the engine real configurations).
func nvdRecord(t testing.TB, elem ...string) *vigil.Advisory {
	t.Helper()
	b, err := os.ReadFile(testfix.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ID             string `json:"id"`
		Configurations []struct {
			Operator string `json:"operator"`
			Negate   bool   `json:"negate"`
			Nodes    []struct {
				Operator string `json:"operator"`
				Negate   bool   `json:"negate"`
				Matches  []struct {
					Vulnerable            bool   `json:"vulnerable"`
					Criteria              string `json:"criteria"`
					VersionStartIncluding string `json:"versionStartIncluding"`
					VersionStartExcluding string `json:"versionStartExcluding"`
					VersionEndIncluding   string `json:"versionEndIncluding"`
					VersionEndExcluding   string `json:"versionEndExcluding"`
				} `json:"cpeMatch"`
			} `json:"nodes"`
		} `json:"configurations"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	a := &vigil.Advisory{Source: vigil.SourceNVD, ID: rec.ID}
	for _, c := range rec.Configurations {
		cfg := vigil.CPEConfig{Operator: c.Operator, Negate: c.Negate}
		for _, n := range c.Nodes {
			node := vigil.CPENode{Operator: n.Operator, Negate: n.Negate}
			for _, m := range n.Matches {
				node.Matches = append(node.Matches, vigil.CPEMatch(m))
			}
			cfg.Nodes = append(cfg.Nodes, node)
		}
		a.Configurations = append(a.Configurations, cfg)
	}
	return a
}

func TestMatchNVDConfigurations(t *testing.T) {
	a := nvdRecord(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json")
	if len(a.Configurations) != 19 {
		t.Fatalf("%d configurations, want 19", len(a.Configurations))
	}
	fw := func(model, v string) vigil.Component {
		return vigil.Component{Name: model + " firmware", Version: v,
			CPE: "cpe:2.3:o:medtronic:" + model + "_firmware:" + v + ":*:*:*:*:*:*:*"}
	}
	hw := func(model string) vigil.Component {
		return vigil.Component{Name: model, CPE: "cpe:2.3:h:medtronic:" + model + ":-:*:*:*:*:*:*:*", Type: "device"}
	}
	const crit523 = "cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*:*:*:*:*:*:*:* <=2.4a"
	tests := []struct {
		name  string
		comps []vigil.Component
		want  []brief
	}{
		{"firmware within bound on its hardware", []vigil.Component{fw("minimed_paradigm_523", "2.4a"), hw("minimed_paradigm_523")},
			[]brief{{"minimed_paradigm_523 firmware@2.4a", "CVE-2019-10964", "open", "nvd-cpe", crit523, "", false}}},
		{"an earlier patch letter", []vigil.Component{fw("minimed_paradigm_523", "2.3b"), hw("minimed_paradigm_523")},
			[]brief{{"minimed_paradigm_523 firmware@2.3b", "CVE-2019-10964", "open", "nvd-cpe", crit523, "", false}}},
		{"firmware above the bound", []vigil.Component{fw("minimed_paradigm_523", "2.5a"), hw("minimed_paradigm_523")}, []brief{}},
		{"firmware without its hardware (AND)", []vigil.Component{fw("minimed_paradigm_523", "2.4a")}, []brief{}},
		{"firmware on another pump's hardware", []vigil.Component{fw("minimed_paradigm_523", "2.4a"), hw("minimed_paradigm_723")}, []brief{}},
		{"any firmware version of the 508", []vigil.Component{fw("minimed_508", "1.0"), hw("minimed_508")},
			[]brief{{"minimed_508 firmware@1.0", "CVE-2019-10964", "open", "nvd-cpe", "cpe:2.3:o:medtronic:minimed_508_firmware:*:*:*:*:*:*:*:*", "", false}}},
		{"firmware version unknown: could not evaluate", []vigil.Component{
			{Name: "pump firmware", CPE: "cpe:2.3:o:medtronic:minimed_paradigm_523_firmware:*:*:*:*:*:*:*:*"}, hw("minimed_paradigm_523")},
			[]brief{{"pump firmware@", "CVE-2019-10964", "could_not_evaluate", "nvd-cpe", crit523, "", true}}},
	}
	x := match.NewIndex(match.Options{})
	x.Add(a)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x.Match(context.Background(), tt.comps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchBitnamiCPEs(t *testing.T) {
	dir := []string{"osv-advisories", "bitnami-vulndb", "data", "activemq"}
	x := match.NewIndex(match.Options{})
	for _, f := range []string{"BIT-activemq-2021-21341.json", "BIT-activemq-2026-49432.json"} {
		x.Add(loadOSV(t, append(dir, f)...))
	}
	tests := []struct {
		name  string
		comps []vigil.Component
		want  []brief
	}{
		{"last_affected is inclusive, and a CPE finds Bitnami's records", []vigil.Component{
			{Name: "activemq", Version: "5.16.1", CPE: "cpe:2.3:a:apache:activemq:5.16.1:*:*:*:*:*:*:*"}}, []brief{
			{"activemq@5.16.1", "BIT-activemq-2021-21341", "open", "osv-cpe:Bitnami", ">=5.16.1, <=5.16.1 (SEMVER)", "", false},
			{"activemq@5.16.1", "BIT-activemq-2026-49432", "open", "osv-cpe:Bitnami", ">=0, <5.19.8 (SEMVER)", "5.19.8", false},
		}},
		{"above last_affected", []vigil.Component{purl("pkg:bitnami/activemq@5.16.2")}, []brief{
			{"pkg:bitnami/activemq@5.16.2", "BIT-activemq-2026-49432", "open", "osv-ecosystem:Bitnami", ">=0, <5.19.8 (SEMVER)", "5.19.8", false},
		}},
		{"version from the CPE when the component has none", []vigil.Component{
			{Name: "broker", CPE: "cpe:2.3:a:apache:activemq:6.2.7:*:*:*:*:*:*:*"}}, []brief{}},
		{"another part (o) does not match an application CPE", []vigil.Component{
			{Name: "activemq", Version: "5.16.1", CPE: "cpe:2.3:o:apache:activemq:5.16.1:*:*:*:*:*:*:*"}}, []brief{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x.Match(context.Background(), tt.comps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchCSAFProducts(t *testing.T) {
	f, err := os.Open(testfix.Path(t, "cisa-csaf", "OT", "white", "2021", "icsma-21-355-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := csaf.Parse("icsma-21-355-01.json", f, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	x := match.NewIndex(match.Options{})
	var cves []string
	for i := range doc.Advisories {
		x.Add(&doc.Advisories[i])
		cves = append(cves, doc.Advisories[i].ID)
	}
	if len(cves) < 2 {
		t.Fatalf("%d advisories in the document", len(cves))
	}
	agilia := func(supplier, v string) vigil.Component {
		return vigil.Component{Name: "Agilia Partner Maintenance Software", Supplier: supplier, Version: v}
	}
	each := func(c vigil.Component, st, rng string, reason bool) []brief {
		var out []brief
		for _, id := range sortedCopy(cves) {
			out = append(out, brief{c.Name + "@" + c.Version, id, st, "csaf-product", rng, "", reason})
		}
		return out
	}
	tests := []struct {
		name string
		comp vigil.Component
		want []brief
	}{
		{"within <= 3.3.0", agilia("Fresenius Kabi AG", "3.2.1"), each(agilia("", "3.2.1"), "open", "product_version_range: <= 3.3.0", false)},
		{"equal to the bound", agilia("", "3.3.0"), each(agilia("", "3.3.0"), "open", "product_version_range: <= 3.3.0", false)},
		{"above", agilia("Fresenius Kabi", "3.4"), nil},
		{"another vendor's product of that name", agilia("Other Medical Inc.", "3.2.1"), nil},
		{"no version", agilia("", ""), each(agilia("", ""), "could_not_evaluate", "product_version_range: <= 3.3.0", true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x.Match(context.Background(), []vigil.Component{tt.comp})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = []brief{}
			}
			for i := range want {
				want[i].Comp = tt.comp.Name + "@" + tt.comp.Version
			}
			if diff := cmp.Diff(want, briefs(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			for _, f := range got {
				if f.Evidence.Advisory != "ICSMA-21-355-01" || f.Evidence.Source != vigil.SourceCSAF {
					t.Errorf("evidence names %s/%s, want csaf/ICSMA-21-355-01", f.Evidence.Source, f.Evidence.Advisory)
				}
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestMatchDistributionsAndGroups covers what the corpus has no record of: Debian source packages and releases,
// Composer vendors in the CycloneDX group, npm scopes, a declared ecosystem. The advisories are hand-built in OSV's
// shape for real packages.
func TestMatchDistributionsAndGroups(t *testing.T) {
	rng := func(intro, fixed string) []vigil.Range {
		return []vigil.Range{{Type: vigil.RangeEcosystem, Events: []vigil.RangeEvent{{Introduced: intro}, {Fixed: fixed}}}}
	}
	advs := []*vigil.Advisory{
		{Source: vigil.SourceOSV, ID: "DSA-5139-1", Affected: []vigil.Affected{
			{Ecosystem: "Debian:11", Name: "openssl", Ranges: rng("0", "1.1.1o-1")},
			{Ecosystem: "Debian:10", Name: "openssl", Ranges: rng("0", "1.1.1n-0+deb10u2")}}},
		{Source: vigil.SourceOSV, ID: "USN-5488-1", Affected: []vigil.Affected{
			{Ecosystem: "Ubuntu:22.04:LTS", Name: "openssl", Ranges: rng("0", "3.0.2-0ubuntu1.6")}}},
		{Source: vigil.SourceOSV, ID: "GHSA-3p32-j457-pg5x", Affected: []vigil.Affected{
			{Ecosystem: "Packagist", Name: "laravel/framework", Ranges: rng("0", "6.20.42")}}},
		{Source: vigil.SourceOSV, ID: "GHSA-c2qf-rxjj-qqgw", Affected: []vigil.Affected{
			{Ecosystem: "npm", Name: "@angular/core", Ranges: rng("0", "11.0.5")}}},
		{Source: vigil.SourceOSV, ID: "GHSA-jfh8-c2jp-5v3q", Affected: []vigil.Affected{
			{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Ranges: rng("2.0-beta9", "2.15.0")}}},
		{Source: vigil.SourceOSV, ID: "GHSA-qmqc-x3r4-6v39", Affected: []vigil.Affected{
			{Ecosystem: "FreeBSD:ports", Name: "openssl", Ranges: rng("0", "1.1.1o")}}},
	}
	tests := []struct {
		name  string
		opt   match.Options
		comps []vigil.Component
		want  []brief
	}{
		{"Debian binary package found through its source; release must agree", match.Options{}, []vigil.Component{
			purl("pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u3?arch=amd64&distro=debian-11&upstream=openssl"),
			purl("pkg:deb/debian/openssl@1.1.1n-0+deb10u3?distro=buster"),
			purl("pkg:deb/debian/openssl@1.1.1n-0+deb10u1?distro=debian-10.13"),
		}, []brief{
			{"pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u3?arch=amd64&distro=debian-11&upstream=openssl", "DSA-5139-1", "open", "osv-ecosystem:Debian:11", ">=0, <1.1.1o-1 (ECOSYSTEM)", "1.1.1o-1", false},
			{"pkg:deb/debian/openssl@1.1.1n-0+deb10u1?distro=debian-10.13", "DSA-5139-1", "open", "osv-ecosystem:Debian:10", ">=0, <1.1.1n-0+deb10u2 (ECOSYSTEM)", "1.1.1n-0+deb10u2", false},
		}},
		{"Ubuntu release", match.Options{}, []vigil.Component{
			purl("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.5?distro=ubuntu-22.04"),
			purl("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.5?distro=ubuntu-24.04"),
		}, []brief{
			{"pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.5?distro=ubuntu-22.04", "USN-5488-1", "open", "osv-ecosystem:Ubuntu:22.04:LTS", ">=0, <3.0.2-0ubuntu1.6 (ECOSYSTEM)", "3.0.2-0ubuntu1.6", false},
		}},
		{"Composer vendor and npm scope in the CycloneDX group", match.Options{}, []vigil.Component{
			{Name: "framework", Group: "laravel", Version: "6.20.41", Purl: "pkg:composer/framework@6.20.41"},
			{Name: "core", Group: "@angular", Version: "11.0.4", Purl: "pkg:npm/core@11.0.4"},
			purl("pkg:npm/%40angular/core@11.0.5"),
			purl("pkg:composer/Laravel/Framework@6.20.0"),
		}, []brief{
			{"pkg:composer/framework@6.20.41", "GHSA-3p32-j457-pg5x", "open", "osv-ecosystem:Packagist", ">=0, <6.20.42 (ECOSYSTEM)", "6.20.42", false},
			{"pkg:npm/core@11.0.4", "GHSA-c2qf-rxjj-qqgw", "open", "osv-ecosystem:npm", ">=0, <11.0.5 (ECOSYSTEM)", "11.0.5", false},
			{"pkg:composer/Laravel/Framework@6.20.0", "GHSA-3p32-j457-pg5x", "open", "osv-ecosystem:Packagist", ">=0, <6.20.42 (ECOSYSTEM)", "6.20.42", false},
		}},
		{"declared ecosystem for components without a purl", match.Options{Ecosystem: "maven"}, []vigil.Component{
			{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1"},
			{Name: "org.apache.logging.log4j:log4j-core", Version: "2.15.0"},
		}, []brief{
			{"log4j-core@2.14.1", "GHSA-jfh8-c2jp-5v3q", "open", "osv-ecosystem:Maven", ">=2.0-beta9, <2.15.0 (ECOSYSTEM)", "2.15.0", false},
		}},
		{"no declared ecosystem: a bare name is no package", match.Options{}, []vigil.Component{
			{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1"},
		}, []brief{}},
	}
	x := match.NewIndex(match.Options{})
	x.Add(advs...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := match.New(x, tt.opt).Match(context.Background(), tt.comps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnorderableEcosystem: an ECOSYSTEM range in an ecosystem Vigil cannot order is "could not evaluate", while a
// versions list still matches by text. Echo is a real OSV ecosystem whose order is not published; its records are
// met here through their CPEs.
func TestUnorderableEcosystem(t *testing.T) {
	cpes := []string{"cpe:2.3:a:gnu:glibc:*:*:*:*:*:*:*:*"}
	x := match.NewIndex(match.Options{})
	x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "ECHO-1", Affected: []vigil.Affected{{Ecosystem: "Echo", Name: "glibc",
		CPEs: cpes, Ranges: []vigil.Range{{Type: vigil.RangeEcosystem, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: "2.39"}}}}}}})
	x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "ECHO-2", Affected: []vigil.Affected{{Ecosystem: "Echo", Name: "glibc",
		CPEs: cpes, Versions: []string{"2.38", "2.37"}}}})
	comp := func(v string) vigil.Component {
		return vigil.Component{Name: "glibc", Version: v, CPE: "cpe:2.3:a:gnu:glibc:" + v + ":*:*:*:*:*:*:*"}
	}
	got, err := x.Match(context.Background(), []vigil.Component{comp("2.38"), comp("2.40")})
	if err != nil {
		t.Fatal(err)
	}
	want := []brief{
		{"glibc@2.38", "ECHO-1", "could_not_evaluate", "osv-cpe:Echo", "", "", true},
		{"glibc@2.38", "ECHO-2", "open", "osv-cpe:Echo", "versions: 2.38", "", false},
		{"glibc@2.40", "ECHO-1", "could_not_evaluate", "osv-cpe:Echo", "", "", true},
	}
	if diff := cmp.Diff(want, briefs(got)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if r := got[0].Evidence.Reason; !strings.Contains(r, `ecosystem "Echo" has no version order`) || !strings.Contains(r, "affected[0].ranges[0]") {
		t.Errorf("reason %q does not name the ecosystem and the range", r)
	}
}

// TestVersionWarningInEvidence: a finding whose answer rests on a version the ecosystem's tool orders only with a
// warning (dpkg on a revision with "_", apk on a number after a letter) is still decided as the tool decides it,
// and its evidence names the version and the warning; a finding resting on clean versions carries none.
func TestVersionWarningInEvidence(t *testing.T) {
	rng := func(intro, fixed string) []vigil.Range {
		return []vigil.Range{{Type: vigil.RangeEcosystem, Events: []vigil.RangeEvent{{Introduced: intro}, {Fixed: fixed}}}}
	}
	x := match.NewIndex(match.Options{})
	x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "DEB-1", Affected: []vigil.Affected{
		{Ecosystem: "Debian:11", Name: "libfoo", Ranges: rng("0", "6.0-5")}}})
	x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "ALPINE-1", Affected: []vigil.Affected{
		{Ecosystem: "Alpine", Name: "openssh", Ranges: rng("0", "5.7.1p1-r1")}}})
	x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "DEB-2", Affected: []vigil.Affected{
		{Ecosystem: "Debian:11", Name: "libbar", Versions: []string{"2.0-1_x86"}}}})
	comps := []vigil.Component{
		purl("pkg:deb/debian/libfoo@6.0-4.el6.x86_64?distro=debian-11"),
		purl("pkg:deb/debian/libfoo@6.0-4?distro=debian-11"),
		purl("pkg:deb/debian/libbar@2.0-1_x86?distro=debian-11"),
		purl("pkg:apk/alpine/openssh@5.7.1_p1-r0"),
	}
	got, err := x.Match(context.Background(), comps)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Comp, Vuln, State, Warning string }
	var rows []row
	for i, f := range got {
		rows = append(rows, row{briefs(got)[i].Comp, f.Vulnerability, string(f.State), f.Evidence.VersionWarning})
	}
	want := []row{
		{"pkg:deb/debian/libfoo@6.0-4.el6.x86_64?distro=debian-11", "DEB-1", "open",
			`component version "6.0-4.el6.x86_64": dpkg warns: invalid character in revision number`},
		{"pkg:deb/debian/libfoo@6.0-4?distro=debian-11", "DEB-1", "open", ""},
		{"pkg:deb/debian/libbar@2.0-1_x86?distro=debian-11", "DEB-2", "open", ""}, // listed as written: no ordering
		{"pkg:apk/alpine/openssh@5.7.1_p1-r0", "ALPINE-1", "open", `affected[0].ranges[0].events[1].fixed "5.7.1p1-r1": ` +
			`apk-tools 3 calls it invalid (a number after a letter); ordered as apk-tools 2 ordered it`},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
