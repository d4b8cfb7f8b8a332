package store_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestMigrationMatchOrder opens a store as the release before match records kept their versions lists in match
// order (format 1), upgrades it, and checks that migration 37 re-encoded the record: the list comes back in PEP
// 440 order with every entry counted as ordered, and the store finds the advisory by its package as before.
func TestMigrationMatchOrder(t *testing.T) {
	// PYSEC-2022-101 (shared osv-corpus), whose versions list is not in version order.
	adv := vigil.Advisory{Source: vigil.SourceOSV, ID: "PYSEC-2022-101", Aliases: []string{"CVE-2022-23557"},
		Affected: []vigil.Affected{{Ecosystem: "PyPI", Name: "tensorflow-cpu", Purl: "pkg:pypi/tensorflow-cpu",
			Versions: []string{"2.7.0", "2.7.1", "2.8.0rc0", "2.8.0rc1", "2.7.2", "2.7.3"}}}}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, store.MigrationMatchOrder-1)
			if err != nil {
				t.Fatal(err)
			}
			put(t, old, adv)
			if _, err := old.SQL().Exec("UPDATE intel_match SET record = $1", format1Record(&adv)); err != nil {
				t.Fatal(err)
			}
			old.Close()

			db, err := store.Open(ctx, dsn, vigil.SystemClock{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var rec []byte
			if err := db.SQL().QueryRow("SELECT record FROM intel_match").Scan(&rec); err != nil || len(rec) == 0 || rec[0] != 2 {
				t.Fatalf("the record after the upgrade: format %v, %v; want 2", rec[:min(1, len(rec))], err)
			}
			got, err := db.AdvisoriesFor(ctx, []vigil.PackageKey{{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "tensorflow-cpu"}})
			if err != nil || len(got) != 1 {
				t.Fatalf("AdvisoriesFor: %d advisories, %v", len(got), err)
			}
			af := got[0].Affected[0]
			want := []string{"2.7.0", "2.7.1", "2.7.2", "2.7.3", "2.8.0rc0", "2.8.0rc1"}
			if got[0].ID != adv.ID || !slices.Equal(af.Versions, want) || af.Ordered != len(want) {
				t.Errorf("%s %s: versions %q, %d ordered; want %q, all ordered", got[0].ID, af.Name, af.Versions, af.Ordered, want)
			}
		})
	}
}

// format1Record writes an OSV advisory's match record as Vigil wrote it before format 2 (internal/match record.go
// describes the layout): the versions lists as written, with no count of ordered entries.
func format1Record(a *vigil.Advisory) []byte {
	b := []byte{1}
	n := func(n int) { b = binary.AppendUvarint(b, uint64(n)) }
	str := func(s string) { n(len(s)); b = append(b, s...) }
	strs := func(s []string) {
		n(len(s))
		for _, x := range s {
			str(x)
		}
	}
	str(a.Source)
	str(a.ID)
	strs(a.Aliases)
	str(a.Document)
	b = binary.AppendVarint(b, 0) // not withdrawn
	n(len(a.Affected))
	for _, af := range a.Affected {
		str(af.Ecosystem)
		str(af.Name)
		str(af.Purl)
		n(len(af.Ranges))
		for _, r := range af.Ranges {
			str(r.Type)
			str(r.Repo)
			n(len(r.Events))
			for _, e := range r.Events {
				str(e.Introduced)
				str(e.Fixed)
				str(e.LastAffected)
				str(e.Limit)
			}
		}
		strs(af.Versions)
		strs(af.CPEs)
	}
	n(0) // configurations
	n(0) // products
	return b
}

// TestAdvisoriesForReadsInRuns reads the advisories of several packages a few names and ids per statement, so
// that the look-up spans several statements and one share per core: every advisory under the keys comes back
// once (one names two of the keys), in storage order, with its record (ids and ranges), and the withdrawn ones are
// left out, as the whole look-up in one statement each gives.
func TestAdvisoriesForReadsInRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		var advs []vigil.Advisory
		var want []string
		for i := range 11 {
			a := vigil.Advisory{Source: vigil.SourceOSV, ID: fmt.Sprintf("GHSA-runs-%04d-xxxx", i), Modified: ts("2024-01-01T00:00:00Z")}
			for _, name := range []string{fmt.Sprintf("pad-%d", i%3), "left-pad"}[:1+min(1, i%5)] {
				a.Affected = append(a.Affected, vigil.Affected{Ecosystem: "npm", Name: name, Ranges: []vigil.Range{{Type: vigil.RangeSemver,
					Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: fmt.Sprintf("1.%d.0", i)}}}}})
			}
			if i%4 == 3 {
				a.Withdrawn = ts("2024-02-01T00:00:00Z")
			} else {
				want = append(want, a.ID)
			}
			advs = append(advs, a)
		}
		// Imported in reverse, so that storage order is not the ids' order.
		slices.Reverse(advs)
		put(t, db, advs...)
		slices.Reverse(want)
		var keys []vigil.PackageKey
		for _, name := range []string{"pad-0", "pad-1", "pad-2", "left-pad", "no-pad"} {
			keys = append(keys, vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: "npm", Name: name})
		}
		whole, err := db.AdvisoriesFor(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		defer store.SetLookupChunk(2)()
		runs, err := db.AdvisoriesFor(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range [][]*vigil.Advisory{whole, runs} {
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
				var n int
				fmt.Sscanf(a.ID, "GHSA-runs-%04d-xxxx", &n)
				if fixed := a.Affected[0].Ranges[0].Events[1].Fixed; fixed != fmt.Sprintf("1.%d.0", n) {
					t.Errorf("%s: fixed %s, want 1.%d.0", a.ID, fixed, n)
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("advisories %q, want %q", ids, want)
			}
		}
	})
}
