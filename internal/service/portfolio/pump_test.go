package portfolio_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
)

// pumpVersions seeds org Acme and device Pump with one version per SBOM given, named 1.0, 2.0, ..., each SBOM
// imported (and matched against what the store holds), and returns the versions' ids in that order.
func pumpVersions(t *testing.T, ctx context.Context, db *store.DB, sboms ...[]vigil.Component) []int64 {
	t.Helper()
	if err := db.CreateOrg(ctx, &vigil.Organization{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}
	if err := db.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, comps := range sboms {
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: fmt.Sprintf("%d.0", i+1)}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ImportSBOM(ctx, v.ID, comps, vigil.SBOMMeta{Source: "test", Format: "cyclonedx-json 1.6"}, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	return ids
}
