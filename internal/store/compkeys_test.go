package store_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// osvKeys returns the store keys an OSV advisory of one package names.
func osvKeys(eco, name string) []vigil.PackageKey {
	return match.AdvisoryKeys(&vigil.Advisory{Affected: []vigil.Affected{{Ecosystem: eco, Name: name}}})
}

// nvdKeys returns the store keys an NVD advisory naming one vulnerable CPE match names.
func nvdKeys(criteria string) []vigil.PackageKey {
	return match.AdvisoryKeys(&vigil.Advisory{Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{Matches: []vigil.CPEMatch{
		{Vulnerable: true, Criteria: criteria}}}}}}})
}

// TestVersionsForKeys: the reverse index answers "which versions hold this package" for keys as advisories name
// them (match.AdvisoryKeys: OSV packages under their ecosystem's spelling, CPEs), through both of its query plans
// (a lookup per key, and one pass over the index for a change set of a full import); a version whose index is
// stale is found again once RefreshComponentKeys or RebuildComponentKeys rewrites it.
func TestVersionsForKeys(t *testing.T) {
	comps := map[string][]vigil.Component{
		"1.0": {
			{Name: "Django", Version: "3.2.0", Purl: "pkg:pypi/Django@3.2.0", Type: "library"},
			{Name: "commons-text", Group: "org.apache.commons", Version: "1.9", Purl: "pkg:maven/commons-text@1.9", Type: "library"},
		},
		"2.0": {
			{Name: "django", Version: "4.0.0", Purl: "pkg:pypi/django@4.0.0", Type: "library"},
			{Name: "minimed_508_firmware", Version: "1.0", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:1.0:*:*:*:*:*:*:*", Type: "firmware"},
			{Name: "openssl", Version: "3.0.11-1~deb12u2", Purl: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12", Type: "library"},
		},
	}
	nvd := nvdKeys("cpe:2.3:o:medtronic:minimed_508_firmware:*:*:*:*:*:*:*:*")
	tests := []struct {
		name string
		keys []vigil.PackageKey
		want []string // version names
	}{
		{"pypi name normalized", osvKeys("PyPI", "DJANGO"), []string{"1.0", "2.0"}},
		{"maven group from the CycloneDX group", osvKeys("Maven", "org.apache.commons:commons-text"), []string{"1.0"}},
		{"cpe", nvd, []string{"2.0"}},
		{"nobody holds it", osvKeys("npm", "left-pad"), nil},
		{"debian release suffix", osvKeys("Debian:12", "openssl"), []string{"2.0"}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		ids, names := pumpVersions(t, db, comps, "1.0", "2.0"), map[int64]string{}
		for n, id := range ids {
			names[id] = n
		}
		lookup := func(t *testing.T, keys []vigil.PackageKey) []string {
			t.Helper()
			got, err := db.VersionsForKeys(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, id := range got {
				out = append(out, names[id])
			}
			return out
		}
		// Past 50,000 keys the index is read in one pass: the same answers.
		var padding []vigil.PackageKey
		for i := range 60_000 {
			padding = append(padding, match.PackageKeyOf("npm", fmt.Sprintf("absent-%d", i)))
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, lookup(t, tt.keys)); diff != "" {
					t.Errorf("lookup per key (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.want, lookup(t, append(tt.keys, padding...))); diff != "" {
					t.Errorf("one pass over the index (-want +got):\n%s", diff)
				}
			})
		}

		// A stale index (written for other components) is seen, rewritten, and then answers again.
		if stale, err := db.ComponentKeysStale(ctx, ids["1.0"], match.StoreKeys(comps["1.0"])); err != nil || stale {
			t.Fatalf("fresh index: stale=%v err=%v", stale, err)
		}
		if rewritten, err := db.RefreshComponentKeys(ctx, ids["1.0"], comps["1.0"][:1]); err != nil || !rewritten {
			t.Fatalf("refresh with other components: rewritten=%v err=%v", rewritten, err)
		}
		if got := lookup(t, osvKeys("Maven", "org.apache.commons:commons-text")); got != nil {
			t.Errorf("after dropping commons-text from the index: %v", got)
		}
		if stale, err := db.ComponentKeysStale(ctx, ids["1.0"], match.StoreKeys(comps["1.0"])); err != nil || !stale {
			t.Errorf("index without commons-text: stale=%v err=%v, want stale", stale, err)
		}
		if err := db.RebuildComponentKeys(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1.0"}, lookup(t, osvKeys("Maven", "org.apache.commons:commons-text"))); diff != "" {
			t.Errorf("after RebuildComponentKeys (-want +got):\n%s", diff)
		}
		if rewritten, err := db.RefreshComponentKeys(ctx, ids["1.0"], comps["1.0"]); err != nil || rewritten {
			t.Errorf("refresh of a current index: rewritten=%v err=%v, want no rewrite", rewritten, err)
		}
	})
}

// TestComponentsForKeys: the reverse index names the components carrying each key, so a delta reads those
// components alone: keys as advisories name them find the current components of every version that carry them
// (with their VersionID), and with each the components of its version sharing its finding key (a duplicate whose
// CPE alone carries the key brings its twin); a component an SBOM import replaced is not returned. The index rows a
// store had before migration 45 name their components once it runs.
func TestComponentsForKeys(t *testing.T) {
	comps := map[string][]vigil.Component{
		"1.0": {
			{Name: "Django", Version: "3.2.0", Purl: "pkg:pypi/Django@3.2.0", Type: "library"},
			{Name: "commons-text", Group: "org.apache.commons", Version: "1.9", Purl: "pkg:maven/commons-text@1.9", Type: "library"},
			{Name: "busybox", Version: "1.36.1", Purl: "pkg:generic/busybox@1.36.1", Type: "application"},
			{Name: "busybox", Version: "1.36.1", Purl: "pkg:generic/busybox@1.36.1", CPE: "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*", Type: "application"},
		},
		"2.0": {
			{Name: "django", Version: "4.0.0", Purl: "pkg:pypi/django@4.0.0", Type: "library"},
			{Name: "openssl", Version: "3.0.11-1~deb12u2", Purl: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12", Type: "library"},
		},
	}
	nvd := nvdKeys("cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*")
	tests := []struct {
		name string
		keys []vigil.PackageKey
		want []string // version name and component purl, CPE or name
	}{
		{"pypi name normalized, both versions", osvKeys("PyPI", "DJANGO"), []string{"1.0 pkg:pypi/Django@3.2.0", "2.0 pkg:pypi/django@4.0.0"}},
		{"maven group", osvKeys("Maven", "org.apache.commons:commons-text"), []string{"1.0 pkg:maven/commons-text@1.9"}},
		{"a cpe brings its twin", nvd, []string{"1.0 pkg:generic/busybox@1.36.1", "1.0 pkg:generic/busybox@1.36.1 cpe"}},
		{"two keys at once", append(osvKeys("Debian:12", "openssl"), osvKeys("PyPI", "django")...),
			[]string{"1.0 pkg:pypi/Django@3.2.0", "2.0 pkg:pypi/django@4.0.0", "2.0 pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12"}},
		{"nobody holds it", osvKeys("npm", "left-pad"), nil},
	}
	eachUpgrade(t, store.MigrationComponentIDs, func(t *testing.T, db *store.DB) {
		// The store before migration 45 has the SBOMs; its index names no components.
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		for _, n := range []string{"1.0", "2.0"} {
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: n}
			if err := db.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			// An empty SBOM through the store (its row is audited), its components and index rows as the old
			// schema holds them.
			if _, err := db.ImportSBOM(ctx, v.ID, nil, vigil.SBOMMeta{Source: "test", Format: "cyclonedx-json 1.6"}, nil); err != nil {
				t.Fatal(err)
			}
			for _, c := range comps[n] {
				if _, err := db.SQL().ExecContext(ctx, "INSERT INTO components (sbom_id, version_id, name, grp, version, purl, cpe, type, current) SELECT MAX(id), $1, $2, $3, $4, $5, $6, $7, $8 FROM sboms",
					v.ID, c.Name, c.Group, c.Version, c.Purl, c.CPE, c.Type, true); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range match.StoreKeys(comps[n]) {
				if _, err := db.SQL().ExecContext(ctx, "INSERT INTO component_keys (version_id, kind, ecosystem, name) VALUES ($1, $2, $3, $4)", v.ID, k.Kind, k.Ecosystem, k.Name); err != nil {
					t.Fatal(err)
				}
			}
		}
	}, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		vs, err := db.Versions(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		names, ids := map[int64]string{}, map[string]int64{}
		for _, v := range vs {
			names[v.ID], ids[v.Version] = v.Version, v.ID
		}
		lookup := func(t *testing.T, keys []vigil.PackageKey) []string {
			t.Helper()
			got, err := db.ComponentsForKeys(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range got {
				s := names[c.VersionID] + " " + c.Purl
				if c.CPE != "" {
					s += " cpe"
				}
				out = append(out, s)
			}
			return out
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, lookup(t, tt.keys)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
		// A new SBOM without Django: its old component is no longer returned, the new SBOM's are.
		if _, err := db.ImportSBOM(ctx, ids["1.0"], comps["1.0"][1:], vigil.SBOMMeta{Source: "test", Format: "cyclonedx-json 1.6"}, nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"2.0 pkg:pypi/django@4.0.0"}, lookup(t, osvKeys("PyPI", "django"))); diff != "" {
			t.Errorf("after the new SBOM (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"1.0 pkg:maven/commons-text@1.9"}, lookup(t, osvKeys("Maven", "org.apache.commons:commons-text"))); diff != "" {
			t.Errorf("the new SBOM's component (-want +got):\n%s", diff)
		}
	})
}
