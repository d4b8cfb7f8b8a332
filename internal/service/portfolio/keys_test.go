package portfolio_test

import (
	"context"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestMatcherKeysFindImportedAdvisories holds the store's affected index and the matcher's keys to one contract:
// the keys match.ComponentKeys gives a component find, through (*store.DB).AdvisoriesFor, the advisories the
// importer filed for it, whatever the SBOM's spelling.
func TestMatcherKeysFindImportedAdvisories(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, engine, vigil.SystemClock{})
			im := &importer.Importer{Store: db}
			actx := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "test"})
			if _, err := im.Import(actx, []string{testfix.Path(t, "osv-corpus", "Go", "all.zip"), testfix.Path(t, "osv-corpus", "PyPI", "all.zip"),
				testfix.Path(t, "nvd-api-2.0", "fkie-cad"), testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json")}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				c    vigil.Component
				want string
			}{
				{"Go module by purl", vigil.Component{Name: "bluemonday", Version: "1.0.5", Purl: "pkg:golang/github.com/microcosm-cc/bluemonday@1.0.5"}, "GO-2022-0588"},
				{"PyPI by purl, other spelling", vigil.Component{Name: "PyBlueMonday", Version: "0.0.1", Purl: "pkg:pypi/PyBlueMonday@0.0.1"}, "PYSEC-2021-849"},
				{"firmware by CPE", vigil.Component{Name: "firmware", Version: "2.4a", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:-:*:*:*:*:*:*:*"}, "CVE-2019-10964"},
				{"a CSAF product by name, no supplier", vigil.Component{Name: "MiniMed 508 pump", Version: "1"}, "CVE-2019-10964"},
			}
			for _, tt := range tests {
				advs, err := db.AdvisoriesFor(ctx, match.ComponentKeys(tt.c, match.Options{}))
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, adv := range advs {
					ids = append(ids, adv.ID)
				}
				if !slices.Contains(ids, tt.want) {
					t.Errorf("%s: advisories %v, want %s among them", tt.name, ids, tt.want)
				}
			}
		})
	}
}
