package match_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// TestCSAFVersionStatements runs the version statements CISA's advisories actually carry (taken from the ICSMA and
// ICSA fixtures) against component versions.
func TestCSAFVersionStatements(t *testing.T) {
	tests := []struct {
		version, rng string // the product's product_version or product_version_range
		comp         string // the component's version
		want         string // "open", "could_not_evaluate" or "" for no finding
	}{
		{"", "<= 3.3.0", "3.2.1", "open"},
		{"", "<= 3.3.0", "3.3.1", ""},
		{"", "All versions < V6.5.1.5", "6.5.1.4", "open"},
		{"", "All versions < V6.5.1.5", "V6.5.1.5", ""},
		{"", "vers:all/<V7.0.3", "7.0.2", "open"},
		{"", "vers:all/*", "anything", "open"},
		{"", ">=5.3|<=6.4", "6.0", "open"},
		{"", ">=5.3|<=6.4", "5.2", ""},
		{"", ">=5.3|<=6.4", "6.5", ""},
		{"", "<= 1.12.0.27 | 1.12.13.2 | 1.12.14.5", "1.12.13.2", "open"},
		{"", "<= 1.12.0.27 | 1.12.13.2 | 1.12.14.5", "1.12.13.3", ""},
		{"", "<= 1.12.0.27 | 1.12.13.2 | 1.12.14.5", "1.11", "open"},
		{"", ">= V2016.05RS09", "2017.1", "open"},
		{"", "< august 28", "1.0", "could_not_evaluate"},
		{"", "<= 3.3.0", "", "could_not_evaluate"},
		{"6.9.4.11", "", "6.9.4.11", "open"},
		{"6.9.4.11", "", "6.9.4.12", ""},
		{"vers:all/*", "", "2.0", "open"},
		{"B.02", "", "b.02", "open"},
		{"CoaguChek Pro II", "", "1.0", "could_not_evaluate"},
		{"", "", "1.0", "open"}, // no statement: every version
	}
	for _, tt := range tests {
		t.Run(tt.version+tt.rng+"@"+tt.comp, func(t *testing.T) {
			x := match.NewIndex(match.Options{})
			x.Add(&vigil.Advisory{Source: vigil.SourceCSAF, ID: "CVE-2021-0001", Document: "ICSMA-21-001-01", Products: []vigil.Product{
				{ID: "CSAFPID-0001", Vendor: "Wind River", Name: "VxWorks", Version: tt.version, VersionRange: tt.rng, Status: "known_affected"},
				{ID: "CSAFPID-0002", Vendor: "Wind River", Name: "VxWorks", VersionRange: ">=1.0", Status: "known_not_affected"},
			}})
			got, err := x.Match(context.Background(), []vigil.Component{{Name: "VxWorks", Supplier: "Wind River Systems, Inc.", Version: tt.comp}})
			if err != nil {
				t.Fatal(err)
			}
			state := ""
			if len(got) == 1 {
				state = string(got[0].State)
			} else if len(got) > 1 {
				t.Fatalf("%d findings", len(got))
			}
			if state != tt.want {
				t.Errorf("state %q, want %q (%+v)", state, tt.want, got)
			}
		})
	}
}

// TestSourcePreference: one finding per (component, id) however many sources name the id; an affected result
// beats "could not evaluate", then OSV beats NVD beats CSAF.
func TestSourcePreference(t *testing.T) {
	comp := vigil.Component{Name: "openssl", Version: "1.0.2u", Purl: "pkg:bitnami/openssl@1.0.2u",
		CPE: "cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*"}
	osvAdv := &vigil.Advisory{Source: vigil.SourceOSV, ID: "CVE-2020-1971", Affected: []vigil.Affected{{Ecosystem: "Bitnami",
		Name: "openssl", Ranges: []vigil.Range{{Type: vigil.RangeSemver, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: "1.1.1i"}}}}}}}
	nvdAdv := &vigil.Advisory{Source: vigil.SourceNVD, ID: "CVE-2020-1971", Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{
		Operator: "OR", Matches: []vigil.CPEMatch{{Vulnerable: true, Criteria: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
			VersionStartIncluding: "1.0.2", VersionEndExcluding: "1.0.2x"}}}}}}}
	csafAdv := &vigil.Advisory{Source: vigil.SourceCSAF, ID: "CVE-2020-1971", Document: "ICSA-21-000-01", Products: []vigil.Product{
		{Name: "openssl", Vendor: "OpenSSL", Status: "known_affected"}}}
	tests := []struct {
		name        string
		advs        []*vigil.Advisory
		wantSource  string
		wantMatcher string
	}{
		{"all three", []*vigil.Advisory{csafAdv, nvdAdv, osvAdv}, vigil.SourceOSV, "osv-ecosystem:Bitnami"},
		{"NVD and CSAF", []*vigil.Advisory{csafAdv, nvdAdv}, vigil.SourceNVD, "nvd-cpe"},
		{"CSAF alone", []*vigil.Advisory{csafAdv}, vigil.SourceCSAF, "csaf-product"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := match.NewIndex(match.Options{})
			x.Add(tt.advs...)
			got, err := x.Match(context.Background(), []vigil.Component{comp})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d findings, want 1: %+v", len(got), got)
			}
			if diff := cmp.Diff([2]string{tt.wantSource, tt.wantMatcher}, [2]string{got[0].Evidence.Source, got[0].Evidence.Matcher}); diff != "" {
				t.Errorf("evidence (-want +got):\n%s", diff)
			}
			// Removing every advisory leaves nothing to find.
			for _, a := range tt.advs {
				x.Remove(a.Source, a.ID)
			}
			if got, _ := x.Match(context.Background(), []vigil.Component{comp}); len(got) != 0 || x.Len() != 0 {
				t.Errorf("after Remove: %d findings, %d advisories", len(got), x.Len())
			}
		})
	}
	// An open result from a later source beats an earlier source's "could not evaluate".
	bad := &vigil.Advisory{Source: vigil.SourceOSV, ID: "CVE-2020-1971", Affected: []vigil.Affected{{Ecosystem: "Bitnami",
		Name: "openssl", Ranges: []vigil.Range{{Type: vigil.RangeSemver, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: "not-a-version"}}}}}}}
	x := match.NewIndex(match.Options{})
	x.Add(bad, nvdAdv)
	got, err := x.Match(context.Background(), []vigil.Component{comp})
	if err != nil || len(got) != 1 || got[0].State != vigil.FindingOpen || got[0].Evidence.Source != vigil.SourceNVD {
		t.Errorf("open NVD result should win over OSV's could_not_evaluate: %+v, %v", got, err)
	}
}
