package portfolio_test

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestRematchChangedKeepsOtherComponents: RematchChanged matches again only the components carrying a changed key,
// yet the version ends exactly where a full re-match puts it. An NVD record whose configurations need firmware
// AND the pump it runs on (CVE-2019-10964, Medtronic MiniMed) opens a finding on the firmware although only the
// firmware's CPE is a changed key; the PyPI findings from the earlier import stay open, untouched; Rematch
// afterwards changes nothing. Both engines.
func TestRematchChangedKeepsOtherComponents(t *testing.T) {
	pypi := testfix.Path(t, "osv-corpus", "PyPI", "all.zip")
	nvd := testfix.Path(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json")
	comps := []vigil.Component{
		{Name: "pip", Version: "20.0", Purl: "pkg:pypi/pip@20.0", Type: "library"},
		{Name: "minimed_508_firmware", Version: "1.0", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:1.0:*:*:*:*:*:*:*", Type: "firmware"},
		{Name: "minimed_508", Version: "-", CPE: "cpe:2.3:h:medtronic:minimed_508:-:*:*:*:*:*:*:*", Type: "device"},
		{Name: "unrelated", Version: "1.0", Purl: "pkg:npm/left-pad@1.0.0", Type: "library"},
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
			db := storetest.Open(t, engine, vigil.SystemClock{})
			a := &portfolio.Service{Store: db}
			version := pumpVersions(t, ctx, db, comps)[0]
			im := &importer.Importer{Store: db}
			open := func() []string {
				t.Helper()
				fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: version})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, f := range fs {
					out = append(out, f.Component.Name+" "+f.Vulnerability+" "+string(f.State))
				}
				sort.Strings(out)
				return out
			}

			if _, err := im.Import(ctx, []string{pypi}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.RematchChanged(ctx); err != nil {
				t.Fatal(err)
			}
			afterPyPI := open()
			if len(afterPyPI) == 0 {
				t.Fatal("no PyPI finding for pip 20.0: the test would not show the kept findings")
			}

			if _, err := im.Import(ctx, []string{nvd}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			res, err := a.RematchChanged(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Versions != 1 || res.Opened != 1 || res.Resolved != 0 {
				t.Errorf("RematchChanged after the NVD import = %+v, want 1 version, 1 opened, 0 resolved", res)
			}
			want := append(append([]string(nil), afterPyPI...), "minimed_508_firmware CVE-2019-10964 open")
			sort.Strings(want)
			if diff := cmp.Diff(want, open()); diff != "" {
				t.Errorf("findings after the NVD import (-want +got):\n%s", diff)
			}

			all, err := a.Rematch(ctx, portfolio.RematchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if all.Versions != 1 || all.Opened != 0 || all.Resolved != 0 {
				t.Errorf("Rematch after RematchChanged = %+v: the partial re-match left the version elsewhere than a full one", all)
			}
			if diff := cmp.Diff(want, open()); diff != "" {
				t.Errorf("findings after Rematch (-want +got):\n%s", diff)
			}
		})
	}
}
