package portfolio_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestRematchSharesOneIndex: a full re-match matches every version against one index of the advisories their
// keys name, read before the first version, and ends where matching each version through an Engine (the scan's
// path) puts it: same findings, states and evidence. A version whose reverse index is stale (its rows lost here)
// may carry keys that index lacks: it is matched through an Engine, its findings stay exactly as they were, and
// its index is rewritten. A re-match of some versions counts only those. Both engines.
func TestRematchSharesOneIndex(t *testing.T) {
	pypi := testfix.Path(t, "osv-corpus", "PyPI", "all.zip")
	nvd := testfix.Path(t, "nvd-api-2.0", "fkie-cad", "CVE-2019-10964.json")
	comps := map[string][]vigil.Component{
		"1.0": {
			{Name: "pip", Version: "20.0", Purl: "pkg:pypi/pip@20.0", Type: "library"},
			{Name: "minimed_508_firmware", Version: "1.0", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:1.0:*:*:*:*:*:*:*", Type: "firmware"},
			{Name: "minimed_508", Version: "-", CPE: "cpe:2.3:h:medtronic:minimed_508:-:*:*:*:*:*:*:*", Type: "device"},
		},
		"2.0": {
			{Name: "pip", Version: "21.0", Purl: "pkg:pypi/pip@21.0", Type: "library"},
			{Name: "setuptools", Version: "50.0.0", Purl: "pkg:pypi/setuptools@50.0.0", Type: "library"},
			{Name: "wheel", Version: "0.30.0", Purl: "pkg:pypi/wheel@0.30.0", Type: "library"},
			{Name: "left-pad", Version: "1.0.0", Purl: "pkg:npm/left-pad@1.0.0", Type: "library"},
		},
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
			db := storetest.Open(t, engine, vigil.SystemClock{})
			a := &portfolio.Service{Store: db}
			vs := pumpVersions(t, ctx, db, comps["1.0"], comps["2.0"])
			ids := map[string]int64{"1.0": vs[0], "2.0": vs[1]}
			if _, err := (&importer.Importer{Store: db}).Import(ctx, []string{pypi, nvd}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			stored := func(n string) []string {
				t.Helper()
				fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: ids[n]})
				if err != nil {
					t.Fatal(err)
				}
				out := make([]vigil.Finding, len(fs))
				for i, f := range fs {
					out[i] = *f
				}
				return findingLines(out)
			}
			engineSays := func(n string) []string {
				t.Helper()
				fs, err := a.Matcher(match.Options{}).Match(ctx, comps[n])
				if err != nil {
					t.Fatal(err)
				}
				return findingLines(fs)
			}

			res, err := a.Rematch(ctx, portfolio.RematchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range []string{"1.0", "2.0"} {
				want := engineSays(n)
				if len(want) < 2 {
					t.Fatalf("version %s: %d findings through an Engine; the test needs several", n, len(want))
				}
				if diff := cmp.Diff(want, stored(n)); diff != "" {
					t.Errorf("version %s after Rematch (-Engine +stored):\n%s", n, diff)
				}
				total += len(want)
			}
			if res.Versions != 2 || res.Findings != total || res.Opened != total || res.Resolved != 0 {
				t.Errorf("first Rematch = %+v, want 2 versions, %d findings, all opened", res, total)
			}

			// 2.0's reverse index is lost: setuptools, wheel and left-pad are keys of no other version.
			if _, err := db.SQL().ExecContext(ctx, "DELETE FROM component_keys WHERE version_id = $1", ids["2.0"]); err != nil {
				t.Fatal(err)
			}
			before := stored("2.0")
			res, err = a.Rematch(ctx, portfolio.RematchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Versions != 2 || res.Findings != total || res.Opened != 0 || res.Resolved != 0 {
				t.Errorf("Rematch with 2.0's index stale = %+v, want 2 versions, %d findings, none opened or resolved", res, total)
			}
			if diff := cmp.Diff(before, stored("2.0")); diff != "" {
				t.Errorf("2.0's findings after a Rematch with its index stale (-before +after):\n%s", diff)
			}
			if stale, err := db.ComponentKeysStale(ctx, ids["2.0"], match.StoreKeys(comps["2.0"])); err != nil || stale {
				t.Errorf("2.0's reverse index after Rematch: stale=%v err=%v", stale, err)
			}

			res, err = a.Rematch(ctx, portfolio.RematchOptions{VersionIDs: []int64{ids["1.0"]}})
			if err != nil {
				t.Fatal(err)
			}
			if want := len(engineSays("1.0")); res.Versions != 1 || res.Findings != want || res.Opened != 0 || res.Resolved != 0 {
				t.Errorf("Rematch of 1.0 = %+v, want 1 version, %d findings, none opened or resolved", res, want)
			}
		})
	}
}

// findingLines renders findings as sorted lines of what a re-match decides: component, id, state and evidence.
func findingLines(fs []vigil.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		e := f.Evidence
		out[i] = fmt.Sprintf("%s@%s %s %s [%s %s %s range=%q fixed=%q reason=%q warn=%q]", f.Component.Name, f.Component.Version,
			f.Vulnerability, f.State, e.Matcher, e.Source, e.Advisory, e.Range, e.Fixed, e.Reason, e.VersionWarning)
	}
	sort.Strings(out)
	return out
}
