package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestAdvisoriesOfVersions: what a re-match of every version (one streaming statement) or of some (their reverse
// index rows) reads is exactly what looking up the versions' keys returns (AdvisoriesFor), each advisory once,
// withdrawn ones left out, in storage order and in batches.
func TestAdvisoriesOfVersions(t *testing.T) {
	comps := map[string][]vigil.Component{
		"1.0": {
			{Name: "Django", Version: "3.2.0", Purl: "pkg:pypi/Django@3.2.0", Type: "library"},
			{Name: "commons-text", Group: "org.apache.commons", Version: "1.9", Purl: "pkg:maven/commons-text@1.9", Type: "library"},
		},
		"2.0": {
			{Name: "django", Version: "4.0.0", Purl: "pkg:pypi/django@4.0.0", Type: "library"},
			{Name: "minimed_508_firmware", Version: "1.0", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:1.0:*:*:*:*:*:*:*", Type: "firmware"},
		},
	}
	osv := func(id string, pkgs ...[2]string) vigil.Advisory {
		a := vigil.Advisory{Source: vigil.SourceOSV, ID: id}
		for _, p := range pkgs {
			a.Affected = append(a.Affected, vigil.Affected{Ecosystem: p[0], Name: p[1],
				Ranges: []vigil.Range{{Type: vigil.RangeEcosystem, Events: []vigil.RangeEvent{{Introduced: "0"}}}}})
		}
		return a
	}
	withdrawn := osv("GHSA-gone", [2]string{"PyPI", "django"})
	withdrawn.Withdrawn = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	nvd := vigil.Advisory{Source: vigil.SourceNVD, ID: "CVE-2025-0001", Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{
		Matches: []vigil.CPEMatch{{Vulnerable: true, Criteria: "cpe:2.3:o:medtronic:minimed_508_firmware:*:*:*:*:*:*:*:*"}}}}}}}
	advs := []vigil.Advisory{
		osv("PYSEC-1", [2]string{"PyPI", "DJANGO"}),
		osv("GHSA-nobody", [2]string{"npm", "left-pad"}),
		osv("GHSA-both", [2]string{"PyPI", "django"}, [2]string{"Maven", "org.apache.commons:commons-text"}),
		withdrawn,
		nvd,
		osv("GHSA-text", [2]string{"Maven", "org.apache.commons:commons-text"}),
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		ids := pumpVersions(t, db, comps, "1.0", "2.0")
		put(t, db, advs...)
		read := func(t *testing.T, versionIDs []int64) []string {
			t.Helper()
			var got []string
			err := db.AdvisoriesOfVersions(ctx, versionIDs, func(b []*vigil.Advisory) {
				if len(b) == 0 {
					t.Error("an empty batch")
				}
				for _, a := range b {
					got = append(got, a.Source+" "+a.ID)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		lookup := func(t *testing.T, names ...string) []string {
			t.Helper()
			var keys []vigil.PackageKey
			for _, n := range names {
				keys = append(keys, match.StoreKeys(comps[n])...)
			}
			found, err := db.AdvisoriesFor(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range found {
				out = append(out, a.Source+" "+a.ID)
			}
			return out
		}
		for _, tt := range []struct {
			name     string
			versions []int64
			of       []string
			want     []string
		}{
			{"every version", nil, []string{"1.0", "2.0"}, []string{"osv PYSEC-1", "osv GHSA-both", "nvd CVE-2025-0001", "osv GHSA-text"}},
			{"1.0", []int64{ids["1.0"]}, []string{"1.0"}, []string{"osv PYSEC-1", "osv GHSA-both", "osv GHSA-text"}},
			{"2.0", []int64{ids["2.0"]}, []string{"2.0"}, []string{"osv PYSEC-1", "osv GHSA-both", "nvd CVE-2025-0001"}},
			{"none", []int64{}, nil, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := read(t, tt.versions)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("AdvisoriesOfVersions (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(lookup(t, tt.of...), got); diff != "" {
					t.Errorf("against AdvisoriesFor of the versions' keys (-lookup +bulk):\n%s", diff)
				}
			})
		}
	})
}
