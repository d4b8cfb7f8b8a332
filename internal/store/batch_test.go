package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestLargeSBOMAndSync writes an SBOM and a findings sync larger than one multi-row statement holds, and checks
// every row arrives once, with its fields, and that the sync's audit event lists exactly the new findings' ids.
func TestLargeSBOMAndSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		seedOrg(t, db)
		d := &vigil.Device{Name: "Big", Class: "II", Pathway: vigil.Pathway510k}
		if err := db.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1", Status: vigil.VersionMarketed}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		const n = 2345
		comps := make([]vigil.Component, n)
		for i := range comps {
			comps[i] = vigil.Component{Name: fmt.Sprintf("lib-%04d", i), Version: fmt.Sprintf("1.%d.0", i%7), Purl: fmt.Sprintf("pkg:npm/lib-%04d@1.%d.0", i, i%7),
				Hashes: map[string]string{"SHA-256": fmt.Sprintf("%064x", i)}}
		}
		eos := vigil.NewDate(2027, 3, 1)
		comps[17].EndOfSupport = &eos
		if err := db.SetComponents(ctx, v.ID, comps, "big.cdx.json"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Components(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d components stored, want %d", len(got), n)
		}
		byName := map[string]vigil.Component{}
		for _, c := range got {
			byName[c.Name] = c
		}
		if c := byName["lib-0017"]; c.Version != "1.3.0" || c.Hashes["SHA-256"] != fmt.Sprintf("%064x", 17) || c.EndOfSupport == nil || !c.EndOfSupport.Equal(eos) {
			t.Errorf("lib-0017 came back as %+v", c)
		}
		if c := byName["lib-2344"]; c.Purl != "pkg:npm/lib-2344@1.6.0" || c.EndOfSupport != nil {
			t.Errorf("lib-2344 came back as %+v", c)
		}

		found := make([]vigil.Finding, 0, 1234)
		for i := range 1234 {
			found = append(found, vigil.Finding{Component: comps[i], Vulnerability: fmt.Sprintf("CVE-2026-%05d", i), Aliases: []string{fmt.Sprintf("GHSA-%04d", i)}})
		}
		opened, resolved, err := db.SyncFindings(ctx, v.ID, found)
		if err != nil || opened != 1234 || resolved != 0 {
			t.Fatalf("sync: opened %d resolved %d, %v", opened, resolved, err)
		}
		fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID, Limit: 5000})
		if err != nil || len(fs) != 1234 {
			t.Fatalf("findings: %d, %v", len(fs), err)
		}
		var ids []int64
		for _, f := range fs {
			ids = append(ids, f.ID)
			if f.State != vigil.FindingOpen || len(f.Aliases) != 1 || f.Learned.IsZero() {
				t.Fatalf("finding %d came back as %+v", f.ID, f)
			}
		}
		slices.Sort(ids)
		evs, err := db.Events(ctx, vigil.AuditFilter{Action: "finding.sync", Limit: 1})
		if err != nil || len(evs) != 1 {
			t.Fatalf("audit: %v %v", evs, err)
		}
		var ev struct{ Opened, Resolved []int64 }
		if err := json.Unmarshal(evs[0].New, &ev); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ev.Opened, ids) || len(ev.Resolved) != 0 {
			t.Errorf("the sync's audit event lists %d opened (sorted: %v), %d resolved; want the %d new ids in order",
				len(ev.Opened), slices.IsSorted(ev.Opened), len(ev.Resolved), len(ids))
		}
		// Again with the same set: nothing new, nothing resolved.
		if opened, resolved, err := db.SyncFindings(ctx, v.ID, found); err != nil || opened != 0 || resolved != 0 {
			t.Errorf("re-sync: opened %d resolved %d, %v", opened, resolved, err)
		}
	})
}
