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
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// countingStore records what a re-match reads: advisories by package or by id, whole versions' components, and
// which findings it syncs.
type countingStore struct {
	*store.DB
	byPackage  int      // AdvisoriesFor calls
	byID       int      // advisories AdvisoriesByID returned
	components int      // Components calls (a version's components read whole)
	vulns      []string // the vulnerability ids of the last SyncFindingsOf or SyncFindingsDelta (nil: all)
}

func (c *countingStore) Components(ctx context.Context, versionID int64) ([]vigil.Component, error) {
	c.components++
	return c.DB.Components(ctx, versionID)
}

func (c *countingStore) SyncFindingsDelta(ctx context.Context, versionIDs []int64, found []vigil.Finding, scope func(int64, string) bool, vulns []string) (int, int, error) {
	c.vulns = vulns
	return c.DB.SyncFindingsDelta(ctx, versionIDs, found, scope, vulns)
}

func (c *countingStore) AdvisoriesFor(ctx context.Context, keys []vigil.PackageKey) ([]*vigil.Advisory, error) {
	c.byPackage++
	return c.DB.AdvisoriesFor(ctx, keys)
}

func (c *countingStore) AdvisoriesByID(ctx context.Context, ids []string) ([]*vigil.Advisory, error) {
	advs, err := c.DB.AdvisoriesByID(ctx, ids)
	c.byID += len(advs)
	return advs, err
}

func (c *countingStore) SyncFindingsOf(ctx context.Context, versionID int64, found []vigil.Finding, scope func(string) bool, vulns []string) (int, int, error) {
	c.vulns = vulns
	return c.DB.SyncFindingsOf(ctx, versionID, found, scope, vulns)
}

// TestRematchChangedByAdvisory: after a small import RematchChanged matches the components carrying its keys against
// the advisories it changed only — not the package's other advisories (pip has several in the real PyPI corpus) —
// and syncs only those advisories' findings. A new advisory opens its finding, its withdrawal puts it in review, the
// package's other findings stay as they were, and a full Rematch afterwards changes nothing. When the runs reach
// back past the record of changed ids (a store migrated with unconsumed runs), it matches by package and is as
// exact. Both engines.
func TestRematchChangedByAdvisory(t *testing.T) {
	pypi := testfix.Path(t, "osv-corpus", "PyPI", "all.zip")
	comps := []vigil.Component{
		{Name: "pip", Version: "20.0", Purl: "pkg:pypi/pip@20.0", Type: "library"},
		{Name: "left-pad", Version: "1.0.0", Purl: "pkg:npm/left-pad@1.0.0", Type: "library"},
	}
	osv := func(t *testing.T, id, modified, extra string) string {
		p := filepath.Join(t.TempDir(), id+".json")
		doc := `{"id":"` + id + `","modified":"` + modified + `"` + extra + `,"affected":[{"package":{"ecosystem":"PyPI","name":"pip"},` +
			`"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"21.0"}]}]}]}`
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
			db := storetest.Open(t, engine, vigil.SystemClock{})
			cs := &countingStore{DB: db}
			a := &portfolio.Service{Store: cs}
			if err := db.CreateOrg(ctx, &vigil.Organization{Name: "Acme"}); err != nil {
				t.Fatal(err)
			}
			d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}
			if err := db.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
			if err := db.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ImportSBOM(ctx, v.ID, comps, vigil.SBOMMeta{Source: "test", Format: "cyclonedx-json 1.6"}, nil); err != nil {
				t.Fatal(err)
			}
			im := &importer.Importer{Store: db}
			open := func() map[string]vigil.FindingState {
				t.Helper()
				fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID, States: []vigil.FindingState{vigil.FindingOpen, vigil.FindingNeedsReview, vigil.FindingResolved}})
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]vigil.FindingState{}
				for _, f := range fs {
					out[f.Component.Name+" "+f.Vulnerability] = f.State
				}
				return out
			}
			step := func(path string) portfolio.RematchResult {
				t.Helper()
				if _, err := im.Import(ctx, []string{path}, vigil.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				*cs = countingStore{DB: db}
				res, err := a.RematchChanged(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}

			step(pypi)
			before := open()
			if len(before) < 2 {
				t.Fatalf("pip 20.0 has %d findings in the PyPI corpus: the test needs the package's other advisories", len(before))
			}

			res := step(osv(t, "PYSEC-9999-1", "2026-01-01T00:00:00Z", ""))
			if res.Opened != 1 || res.Resolved != 0 {
				t.Errorf("new advisory: %+v, want 1 opened", res)
			}
			if cs.byPackage != 0 || cs.byID != 1 || cs.components != 0 || !slices.Equal(cs.vulns, []string{"PYSEC-9999-1"}) {
				t.Errorf("new advisory: %d look-ups by package, %d advisories by id, %d versions' components read whole, synced %v; want 0, 1, 0, [PYSEC-9999-1]",
					cs.byPackage, cs.byID, cs.components, cs.vulns)
			}
			want := map[string]vigil.FindingState{"pip PYSEC-9999-1": vigil.FindingOpen}
			for k, st := range before {
				want[k] = st
			}
			if got := open(); !mapsEqual(got, want) {
				t.Errorf("after the new advisory: %v, want %v", got, want)
			}

			res = step(osv(t, "PYSEC-9999-1", "2026-02-01T00:00:00Z", `,"withdrawn":"2026-02-01T00:00:00Z"`))
			if res.Opened != 0 || res.Resolved != 0 || cs.byPackage != 0 || cs.byID != 0 || cs.components != 0 || !slices.Equal(cs.vulns, []string{"PYSEC-9999-1"}) {
				t.Errorf("withdrawal: %+v, %d look-ups by package, %d advisories by id, synced %v; want its finding alone synced by id, none resolved", res, cs.byPackage, cs.byID, cs.vulns)
			}
			want["pip PYSEC-9999-1"] = vigil.FindingNeedsReview
			if got := open(); !mapsEqual(got, want) {
				t.Errorf("after the withdrawal: %v, want %v", got, want)
			}

			// Runs the store kept no ids for: by package, as exact.
			if err := db.SetKV(ctx, "intel.changed_ids_after", "1000000"); err != nil {
				t.Fatal(err)
			}
			res = step(osv(t, "PYSEC-9999-2", "2026-03-01T00:00:00Z", ""))
			if res.Opened != 1 || cs.byPackage == 0 || cs.vulns != nil {
				t.Errorf("without recorded ids: %+v, %d look-ups by package, synced %v; want 1 opened by package, all ids synced", res, cs.byPackage, cs.vulns)
			}
			want["pip PYSEC-9999-2"] = vigil.FindingOpen
			if got := open(); !mapsEqual(got, want) {
				t.Errorf("after the by-package delta: %v, want %v", got, want)
			}

			all, err := a.Rematch(ctx, portfolio.RematchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if all.Opened != 0 || all.Resolved != 0 {
				t.Errorf("Rematch after the deltas = %+v: they left the version elsewhere than a full re-match", all)
			}
		})
	}
}

func mapsEqual(a, b map[string]vigil.FindingState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
