package portfolio_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestImportRematchesOnlyAffectedVersions: an SBOM import matches at once, an intelligence import re-matches the
// versions whose packages it touched, and a withdrawn advisory puts its findings in review. Both engines.
func TestImportRematchesOnlyAffectedVersions(t *testing.T) {
	pypi := testfix.Path(t, "osv-corpus", "PyPI", "all.zip")
	sboms := map[string]string{
		"Workstation": testfix.Path(t, "sbom-shelter-spdx", "in-the-lab", "spdx-syft-balenalib_apalis-imx6q-alpine-python-sha256_72b4e6d24e42e7012033e18f231dae3e9c821453c7d8147f52848485f33a10ef.json"),
		"Monitor":     testfix.Path(t, "sbom-shelter-spdx", "in-the-lab", "spdx-bom-balenalib_beaglebone-black-debian-node-sha256_feb54ebdc2d6d10f44bcff897a8a167f3f15daca75956cf6d6c7982455bd16c0.json"),
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
			db := storetest.Open(t, engine, vigil.SystemClock{})
			a := &portfolio.Service{Store: db}
			if err := db.CreateOrg(ctx, &vigil.Organization{Name: "Acme"}); err != nil {
				t.Fatal(err)
			}
			var v *vigil.DeviceVersion
			for _, n := range []string{"Workstation", "Monitor"} {
				d := &vigil.Device{Name: n, Class: "II", Pathway: vigil.Pathway510k}
				if err := db.CreateDevice(ctx, d); err != nil {
					t.Fatal(err)
				}
				v = &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
				if err := db.CreateVersion(ctx, v); err != nil {
					t.Fatal(err)
				}
				f, _ := os.Open(sboms[n])
				res, err := a.ImportSBOM(ctx, v.ID, f, sboms[n], portfolio.SBOMOptions{})
				f.Close()
				if err != nil || res.Matched {
					t.Fatalf("SBOM import before any intelligence: %+v %v (want matched=false)", res, err)
				}
			}
			v, _ = db.VersionByName(ctx, 1, "1.0")
			if _, _, matched, err := a.RematchVersion(ctx, v.ID); err != nil || matched {
				t.Fatalf("before any import: matched=%v err=%v (want an honest not-matched)", matched, err)
			}
			im := &importer.Importer{Store: db}
			if _, err := im.Import(ctx, []string{pypi}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := a.RematchChanged(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Versions != 1 {
				t.Errorf("re-matched %d versions, want only the imaging workstation's (1): %+v", res.Versions, res)
			}
			fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range fs {
				ids = append(ids, f.Component.Name+" "+f.Vulnerability)
			}
			for _, want := range []string{"pip PYSEC-2023-228", "setuptools PYSEC-2022-43012", "wheel PYSEC-2022-43017"} {
				if !slices.Contains(ids, want) {
					t.Errorf("missing finding %q in %v", want, ids)
				}
			}
			// Nothing changed: a second call re-matches nothing.
			if res, err := a.RematchChanged(ctx); err != nil || res.Versions != 0 {
				t.Errorf("second RematchChanged = %+v, %v", res, err)
			}
			// The advisory is withdrawn upstream: its finding waits for a person in needs_review.
			dir := t.TempDir()
			rec := `{"schema_version":"1.6.0","id":"PYSEC-2022-43017","modified":"2030-01-01T00:00:00Z","withdrawn":"2030-01-01T00:00:00Z",
				"affected":[{"package":{"ecosystem":"PyPI","name":"wheel"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0.38.1"}]}]}]}`
			os.WriteFile(filepath.Join(dir, "PYSEC-2022-43017.json"), []byte(rec), 0o600)
			if _, err := im.Import(ctx, []string{dir}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if res, err := a.RematchChanged(ctx); err != nil || res.Resolved != 0 || res.Versions != 1 {
				t.Errorf("after withdrawal: %+v, %v", res, err)
			}
			left, _ := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID, Vuln: "PYSEC-2022-43017"})
			if len(left) != 1 || left[0].State != vigil.FindingNeedsReview {
				t.Errorf("withdrawn advisory's findings: %v, want one in needs_review", left)
			}
		})
	}
}
