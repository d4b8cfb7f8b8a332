package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// TestMigrationAdvisoryData upgrades a store of the release before migration 36, which kept every advisory's JSON
// beside its document: an OSV record alone in its document loses its JSON when parsing the document again gives
// that JSON back, one whose JSON differs (an older importer read it otherwise) keeps it, and so does an advisory of
// another source; every one gets its search text, and each reads back as it was stored.
func TestMigrationAdvisoryData(t *testing.T) {
	osvRecord := func(elem ...string) ([]byte, vigil.Advisory) {
		name := testfix.Path(t, append([]string{"osv-advisories"}, elem...)...)
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		a, err := osv.ParseBytes(name, raw, untrusted.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return raw, a
	}
	same, sameAdv := osvRecord("go-vulndb", "data", "osv", "GO-2020-0005.json")
	older, olderAdv := osvRecord("pypa-advisory-database", "vulns", "lxml", "PYSEC-2018-12.yaml")
	olderAdv.Summary = "read by an older importer"
	nvd := vigil.Advisory{Source: vigil.SourceNVD, ID: "CVE-2022-1576", Details: "The WP Maintenance Mode & Coming Soon WordPress plugin before 2.4.5 is lacking CSRF"}
	rows := []struct {
		source string
		raw    []byte
		adv    vigil.Advisory
	}{{vigil.SourceOSV, same, sameAdv}, {vigil.SourceOSV, older, olderAdv}, {vigil.SourceNVD, []byte(`{"vulnerabilities":[]}`), nvd}}

	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx, admin := context.Background(), storetest.Admin()
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, store.MigrationAdvisoryData-1)
			if err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := old.SQL().Exec(q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec("INSERT INTO intel_runs (id, started_at, actor) VALUES (1, '2025-06-01T00:00:00.000000000Z', 'system:test')")
			for i, r := range rows {
				id := i + 1
				var gz bytes.Buffer
				zw := gzip.NewWriter(&gz)
				zw.Write(r.raw)
				zw.Close()
				data, _ := json.Marshal(&r.adv)
				exec(`INSERT INTO intel_documents (id, source, doc_id, name, fetched_at, digest, blob_digest, size, records, run_id)
					VALUES ($1, $2, $3, $4, '2025-06-01T00:00:00.000000000Z', $5, $5, $6, 1, 1)`, id, r.source, r.adv.ID, r.adv.ID+".json", r.adv.ID, len(r.raw))
				exec("INSERT INTO intel_raw (doc_id, raw) VALUES ($1, $2)", id, gz.Bytes())
				exec("INSERT INTO intel_vulns (id, preferred) VALUES ($1, $2)", id, r.adv.ID)
				for _, alias := range append([]string{r.adv.ID}, r.adv.Aliases...) {
					exec("INSERT INTO intel_aliases (alias, vuln_id) VALUES ($1, $2)", alias, id)
				}
				exec(`INSERT INTO intel_advisories (id, source, adv_id, vuln_id, digest, data, doc_ref, created_run, updated_run)
					VALUES ($1, $2, $3, $1, $4, $5, $1, 1, 1)`, id, r.source, r.adv.ID, "d"+r.adv.ID, string(data))
			}
			old.Close()

			db, err := store.Open(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var kept []string
			rs, err := db.SQL().Query("SELECT adv_id FROM intel_advisories WHERE data <> '' ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			for rs.Next() {
				var id string
				rs.Scan(&id)
				kept = append(kept, id)
			}
			rs.Close()
			if diff := cmp.Diff([]string{olderAdv.ID, nvd.ID}, kept); diff != "" {
				t.Errorf("advisories that kept their JSON (-want +got):\n%s", diff)
			}
			for _, r := range rows {
				revs, err := db.AdvisoryRevisions(admin, r.source, "", r.adv.ID)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(&r.adv)
				if got, _ := json.Marshal(revs[len(revs)-1].Advisory); !bytes.Equal(got, want) {
					t.Errorf("%s after the upgrade:\n got %s\nwant %s", r.adv.ID, got, want)
				}
			}
			for text, want := range map[string]string{"Malformed WALs": sameAdv.ID, "OLDER importer": olderAdv.ID, "wp maintenance mode": nvd.ID} {
				vs, err := db.Vulns(admin, vigil.VulnFilter{Text: text})
				var got []string
				for _, v := range vs {
					got = append(got, v.ID)
				}
				if err != nil || !slices.Equal(got, []string{want}) {
					t.Errorf("text %q = %v, %v; want %s", text, got, err, want)
				}
			}
		})
	}
}
