package importer_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/feed/kev"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func imp(db *store.DB) *importer.Importer { return &importer.Importer{Store: db} }

// sums indexes a run's summaries by source as {added, updated, unchanged, withdrawn, rejected}.
func sums(res *importer.Result) map[string][5]int {
	out := map[string][5]int{}
	for _, s := range res.Summaries {
		out[s.Source] = [5]int{s.Added, s.Updated, s.Unchanged, s.Withdrawn, len(s.Rejected)}
	}
	return out
}

// checksum hashes every row of every table but except, so a test can show that a failed run left the store
// exactly as it was.
func checksum(t *testing.T, db *store.DB, except ...string) string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if db.Engine() == store.Postgres {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
	}
	tables := query(t, db.SQL(), q)
	h := sha256.New()
	for _, tb := range tables {
		if slices.Contains(except, tb[0]) {
			continue
		}
		rows := query(t, db.SQL(), "SELECT * FROM "+tb[0])
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = strings.Join(r, "\x1f")
		}
		slices.Sort(lines)
		fmt.Fprintf(h, "%s:%d\n%s\n", tb[0], len(lines), strings.Join(lines, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func query(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			r[i] = fmt.Sprintf("%v", v)
			if b, ok := v.([]byte); ok {
				r[i] = string(b)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func auditEvents(t *testing.T, db *store.DB) int {
	return count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'intel.import'")
}

func TestImportOSVCorpusTwice(t *testing.T) {
	corpus := testfix.Path(t, "osv-corpus")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		var last vigil.ImportProgress
		res, err := imp(db).Import(ctx, []string{corpus}, vigil.ImportOptions{Progress: func(p vigil.ImportProgress) { last = p }})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summaries[0]
		if s.Source != vigil.SourceOSV || s.Added+s.Withdrawn != 13946 || s.Updated != 0 || s.Unchanged != 0 || len(s.Rejected) != 0 {
			t.Fatalf("first import = %+v, want 13,946 records added or withdrawn, none rejected", s)
		}
		if last.Records != 13946 || last.Bytes != last.TotalBytes || last.TotalBytes == 0 {
			t.Errorf("progress = %+v, want all records and bytes", last)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM intel_advisories"); got != 13946 {
			t.Errorf("advisories stored = %d", got)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM intel_advisories WHERE withdrawn = $1", true); got != s.Withdrawn {
			t.Errorf("withdrawn stored = %d, summary says %d", got, s.Withdrawn)
		}
		if len(res.Changed) == 0 {
			t.Error("no changed package keys reported")
		}
		// An OSV record is a document of its own: its advisory is stored once, as the document, and parsed again to
		// be shown. What is read back is exactly what was imported: the digest of its JSON is the stored one.
		if got := count(t, db, "SELECT COUNT(*) FROM intel_advisories WHERE data <> ''"); got != 0 {
			t.Errorf("%d advisories stored with their JSON beside their OSV record", got)
		}
		for i, r := range query(t, db.SQL(), "SELECT adv_id, digest FROM intel_advisories ORDER BY id") {
			if i%40 != 0 {
				continue
			}
			revs, err := db.AdvisoryRevisions(ctx, vigil.SourceOSV, "", r[0])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(revs[len(revs)-1].Advisory)
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != r[1] || revs[len(revs)-1].Digest != r[1] {
				t.Errorf("%s read back from its document: %s, not the advisory imported", r[0], b)
			}
		}
		before := checksum(t, db, "intel_runs", "audit_events")
		events := auditEvents(t, db)

		res, err = imp(db).Import(ctx, []string{corpus}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 0, 13946, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("re-import (-want +got):\n%s", diff)
		}
		if got := auditEvents(t, db); got != events+1 {
			t.Errorf("intel.import events %d → %d, want one per run", events, got)
		}
		// Nothing but the run's own record and audit event may differ.
		if got := checksum(t, db, "intel_runs", "audit_events"); got != before {
			t.Error("re-import rewrote data")
		}
	})
}

func TestImportCSAFAllAdvisories(t *testing.T) {
	dir := testfix.Path(t, "cisa-csaf")
	// The expected counts come from the parser alone, file by file: every document and every vulnerability.
	var docs, icsma, advisories int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") || strings.Contains(p, "-feed-") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := csaf.Parse(p, f, untrusted.Limits{})
		if err != nil {
			return err
		}
		docs++
		advisories += len(doc.Advisories)
		if strings.HasPrefix(doc.ID, "ICSMA-") {
			icsma++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if icsma != 108 {
		t.Fatalf("fixture holds %d ICSMA documents, want 108", icsma)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		res, err := imp(db).Import(storetest.Admin(), []string{dir}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := sums(res)["csaf"]
		if s[4] != 0 || s[0]+s[1]+s[2] != advisories || s[0] == 0 {
			t.Errorf("csaf summary %v, want %d advisories and no rejection", s, advisories)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM intel_documents WHERE source = 'csaf'"); got != docs {
			t.Errorf("documents stored = %d, want %d", got, docs)
		}
		if got := count(t, db, "SELECT COUNT(DISTINCT doc_id) FROM intel_documents WHERE doc_id LIKE 'ICSMA-%'"); got != 108 {
			t.Errorf("ICSMA documents stored = %d, want 108", got)
		}
		// The raw document is kept and its digest is the SHA-256 of the file.
		raw, err := os.ReadFile(filepath.Join(dir, "OT", "white", "2019", "icsma-19-178-01.json"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		rows := query(t, db.SQL(), "SELECT id, digest FROM intel_documents WHERE doc_id = 'ICSMA-19-178-01'")
		if len(rows) != 1 || rows[0][1] != hex.EncodeToString(sum[:]) {
			t.Fatalf("stored ICSMA-19-178-01 = %v, want digest %x", rows, sum)
		}
		var ref int64
		fmt.Sscan(rows[0][0], &ref)
		stored, err := db.SourceDocument(storetest.Admin(), ref, 1<<20)
		if err != nil || string(stored) != string(raw) {
			t.Errorf("stored raw document differs from the file (%v)", err)
		}
	})
}

func TestImportNVDPagesAndCSAFMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		res, err := imp(db).Import(ctx, []string{testfix.Path(t, "nvd-api-2.0"),
			testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json")}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := sums(res)
		if n := s["nvd"]; n[4] != 0 || n[0] != 40 || n[0]+n[1]+n[2] != 40 {
			t.Errorf("nvd summary %v, want 40 CVEs added (38 + 1 + 1 pages), none rejected", n)
		}
		v, err := db.VulnDetail(ctx, "CVE-2019-10964")
		if err != nil {
			t.Fatal(err)
		}
		var srcs []string
		for _, r := range v.Sources {
			srcs = append(srcs, r.Source+":"+r.Document)
		}
		if diff := cmp.Diff([]string{"nvd:", "csaf:ICSMA-19-178-01"}, srcs); diff != "" {
			t.Errorf("sources (-want +got):\n%s", diff)
		}
		if len(v.Scores) < 3 {
			t.Errorf("scores = %v, want NVD's and the CSAF publisher's", v.Scores)
		}
		// A document id answers when the document describes one vulnerability.
		if d, err := db.Vuln(ctx, "ICSMA-19-178-01"); err != nil || d.ID != "CVE-2019-10964" {
			t.Errorf("by document id: %v, %v", d, err)
		}
		// NVD configurations are indexed by CPE vendor:product for the matcher.
		advs, err := db.AdvisoriesFor(ctx, []vigil.PackageKey{{Kind: vigil.KeyCPE, Ecosystem: "o", Name: "medtronic:minimed_508_firmware"}})
		if err != nil || len(advs) != 1 || advs[0].ID != "CVE-2019-10964" {
			t.Errorf("AdvisoriesFor(cpe) = %v, %v", advs, err)
		}
	})
}

func TestImportOSVAdvisoriesJSONAndYAML(t *testing.T) {
	dir := testfix.Path(t, "osv-advisories")
	var files int
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".yaml")) {
			files++
		}
		return nil
	})
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		res, err := imp(db).Import(storetest.Admin(), []string{dir}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := sums(res)["osv"]
		if s[4] != 0 || s[0]+s[1]+s[2]+s[3] != files || files != 1200 {
			t.Errorf("osv summary %v, want the %d (of 1200) records and no rejection", s, files)
		}
		// A GHSA alias answers with the CVE's merged record.
		rows := query(t, db.SQL(), "SELECT alias FROM intel_aliases WHERE alias LIKE 'GHSA-%' ORDER BY alias LIMIT 1")
		if len(rows) == 0 {
			t.Fatal("no GHSA alias stored")
		}
		v, err := db.Vuln(storetest.Admin(), rows[0][0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(v.ID, "CVE-") || !slices.Contains(v.Aliases, rows[0][0]) {
			t.Errorf("vuln %s = %s aliases %v, want the CVE with the GHSA among its aliases", rows[0][0], v.ID, v.Aliases)
		}
	})
}

func TestShowByGHSAGivesCVEWithBothSources(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// testdata/ghsa-cve-2022-1576.json is a hand-written OSV record (see testdata/README.md) aliasing the CVE
		// of NVD's single-entry page.
		res, err := imp(db).Import(storetest.Admin(), []string{testfix.Path(t, "nvd-api-2.0", "vunnel", "single-entry.json"),
			filepath.Join("testdata", "ghsa-cve-2022-1576.json")}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"nvd": {1, 0, 0, 0, 0}, "osv": {1, 0, 0, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
		v, err := db.VulnDetail(storetest.Admin(), "GHSA-5xw7-hx2q-9xwf")
		if err != nil {
			t.Fatal(err)
		}
		var srcs []string
		for _, a := range v.Advisories {
			srcs = append(srcs, a.Source+":"+a.ID)
		}
		if v.ID != "CVE-2022-1576" || !cmp.Equal([]string{"nvd:CVE-2022-1576", "osv:GHSA-5xw7-hx2q-9xwf"}, srcs) {
			t.Errorf("vuln = %s from %v, want CVE-2022-1576 from NVD and OSV", v.ID, srcs)
		}
		if !strings.Contains(v.Summary, "WordPress") {
			t.Errorf("summary %q is not NVD's description", v.Summary)
		}
	})
}

func TestKEVOlderThenNewer(t *testing.T) {
	older := testfix.Path(t, "cisa-kev", "history", "known_exploited_vulnerabilities-2025.01.24.json")
	newer := testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json")
	// Expected counts from the parser alone.
	oldCat, newCat := parseKEV(t, older), parseKEV(t, newer)
	oldBy := map[string]vigil.KEVEntry{}
	for _, e := range oldCat.Entries {
		oldBy[e.CVE] = e
	}
	var added, updated, unchanged, removed int
	newBy := map[string]bool{}
	for _, e := range newCat.Entries {
		newBy[e.CVE] = true
		o, ok := oldBy[e.CVE]
		switch {
		case !ok:
			added++
		case cmp.Equal(o, e):
			unchanged++
		default:
			updated++
		}
	}
	for c := range oldBy {
		if !newBy[c] {
			removed++
		}
	}
	t.Logf("kev older→newer: %d added, %d updated, %d unchanged, %d removed", added, updated, unchanged, removed)
	if len(oldCat.Entries) != 1252 || len(newCat.Entries) != 1404 {
		t.Fatalf("catalogs hold %d and %d entries, want 1252 and 1404", len(oldCat.Entries), len(newCat.Entries))
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		res, err := imp(db).Import(ctx, []string{older}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"kev": {1252, 0, 0, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("older catalog (-want +got):\n%s", diff)
		}
		res, err = imp(db).Import(ctx, []string{newer}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"kev": {added, updated, unchanged, removed, 0}}, sums(res)); diff != "" {
			t.Errorf("newer catalog (-want +got):\n%s", diff)
		}
		if added == 0 || added+updated+unchanged != 1404 {
			t.Errorf("expected counts look wrong: %d added, %d updated, %d unchanged", added, updated, unchanged)
		}
		// The same catalog as CSV changes nothing; the older one again never replaces newer entries.
		res, err = imp(db).Import(ctx, []string{testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.csv"), older}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"kev": {0, 0, 1404 + 1252, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("CSV then older again (-want +got):\n%s", diff)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM intel_kev_history"); got != 1252+added+updated+removed {
			t.Errorf("kev history rows = %d, want %d", got, 1252+added+updated+removed)
		}
		// KEV attaches by CVE even where no advisory describes it.
		v, err := db.Vuln(ctx, newCat.Entries[0].CVE)
		if err != nil || v.KEV == nil || v.KEV.CVE != newCat.Entries[0].CVE {
			t.Errorf("vuln %s: kev = %v, %v", newCat.Entries[0].CVE, v, err)
		}
		list, err := db.Vulns(ctx, vigil.VulnFilter{KEV: true})
		if err != nil || len(list) != 0 {
			t.Errorf("KEV filter without advisories = %d, %v", len(list), err)
		}
	})
}

func parseKEV(t *testing.T, p string) kev.Catalog {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := kev.Parse(p, f, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEPSSAndMalformedFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		good := testfix.Path(t, "epss", "vunnel", "example-1.csv")
		res, err := imp(db).Import(ctx, []string{good}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"epss": {5, 0, 0, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("epss (-want +got):\n%s", diff)
		}
		v, err := db.Vuln(ctx, "CVE-1999-0001")
		if err != nil || v.EPSS == nil || v.EPSS.Score != 0.00383 || v.EPSS.Date.String() != "2025-02-20" {
			t.Errorf("epss attached = %+v, %v", v, err)
		}
		before := checksum(t, db)
		for _, tt := range []struct{ file, want string }{
			{"invalid-header.csv", "invalid-header.csv: line 2"},
			{"missing-date.csv", "missing-date.csv: line 1"},
		} {
			p := testfix.Path(t, "epss", "vunnel", tt.file)
			_, err := imp(db).Import(ctx, []string{good, p}, vigil.ImportOptions{})
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error %v, want EINVALID naming %q", tt.file, err, tt.want)
			}
			if checksum(t, db) != before {
				t.Errorf("%s: a failed run changed the store", tt.file)
			}
		}
	})
}

// writeJSON writes v (a fixture decoded and edited by a test) to dir/name.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readJSON(t *testing.T, p string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMalformedStopsRunOrIsRejected(t *testing.T) {
	src := testfix.Path(t, "osv-advisories", "go-vulndb", "data")
	var goFiles []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") && len(goFiles) < 3 {
			goFiles = append(goFiles, p)
		}
		return nil
	})
	dir := t.TempDir()
	for i, p := range goFiles {
		m := readJSON(t, p)
		if i == 1 { // a range type OSV does not define
			m["affected"].([]any)[0].(map[string]any)["ranges"].([]any)[0].(map[string]any)["type"] = "CALVER"
		}
		writeJSON(t, dir, filepath.Base(p), m)
	}
	bad := filepath.Join(dir, filepath.Base(goFiles[1]))
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		if _, err := imp(db).Import(ctx, []string{testfix.Path(t, "epss", "vunnel", "example-1.csv")}, vigil.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		before := checksum(t, db)
		_, err := imp(db).Import(ctx, []string{dir}, vigil.ImportOptions{})
		if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "affected[0].ranges[0].type") {
			t.Fatalf("error = %v, want EINVALID naming %s and affected[0].ranges[0].type", err, bad)
		}
		if checksum(t, db) != before {
			t.Fatal("a failed run changed the store")
		}
		res, err := imp(db).Import(ctx, []string{dir}, vigil.ImportOptions{SkipInvalid: true})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summaries[0]
		if s.Added+s.Withdrawn != 2 || len(s.Rejected) != 1 {
			t.Fatalf("skip-invalid summary = %+v, want 2 imported and 1 rejected", s)
		}
		rj := s.Rejected[0]
		if rj.File != bad || rj.Record != strings.TrimSuffix(filepath.Base(bad), ".json") || !strings.Contains(rj.Error, "affected[0].ranges[0].type") {
			t.Errorf("rejected = %+v", rj)
		}
		// The rejected record is rejected again, never called unchanged.
		res, err = imp(db).Import(ctx, []string{dir}, vigil.ImportOptions{SkipInvalid: true})
		if err != nil {
			t.Fatal(err)
		}
		if s := res.Summaries[0]; s.Unchanged != 2 || len(s.Rejected) != 1 {
			t.Errorf("second skip-invalid run = %+v, want 2 unchanged and 1 rejected", s)
		}
	})
}

// TestOSVRevisionReadsBackEachDocument: an OSV record revised by a later file is stored, like the first, only as
// its document; the revision kept refers to the first document, so each version reads back as it was imported.
func TestOSVRevisionReadsBackEachDocument(t *testing.T) {
	raw, err := os.ReadFile(testfix.Path(t, "osv-advisories", "go-vulndb", "data", "osv", "GO-2020-0005.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "v1", "GO-2020-0005.json"), filepath.Join(dir, "v2", "GO-2020-0005.json")
	rec["modified"], rec["summary"] = "2024-01-01T00:00:00Z", "first summary"
	b1, _ := json.Marshal(rec)
	rec["modified"], rec["summary"] = "2024-02-01T00:00:00Z", "second summary"
	b2, _ := json.Marshal(rec)
	for f, b := range map[string][]byte{first: b1, second: b2} {
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, b, 0o644)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		for _, f := range []string{first, second} {
			if _, err := imp(db).Import(ctx, []string{f}, vigil.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM intel_advisories WHERE data = ''") + count(t, db, "SELECT COUNT(*) FROM intel_advisory_revisions WHERE data = ''"); n != 2 {
			t.Errorf("%d of the 2 versions stored as their document only", n)
		}
		revs, err := db.AdvisoryRevisions(ctx, vigil.SourceOSV, "", "GO-2020-0005")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range revs {
			got = append(got, r.Advisory.Summary)
		}
		if diff := cmp.Diff([]string{"first summary", "second summary"}, got); diff != "" {
			t.Errorf("revisions (-want +got):\n%s", diff)
		}
		if v, err := db.Vuln(ctx, "GO-2020-0005"); err != nil || v.Summary != "second summary" {
			t.Errorf("vulnerability = %+v, %v; want the second summary", v, err)
		}
	})
}

func TestCSAFRevisionKeepsEarlier(t *testing.T) {
	orig := testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json")
	m := readJSON(t, orig)
	tr := m["document"].(map[string]any)["tracking"].(map[string]any)
	tr["version"] = "2"
	tr["current_release_date"] = "2019-07-10T00:00:00.000000Z"
	tr["revision_history"] = append(tr["revision_history"].([]any), map[string]any{"number": "2", "date": "2019-07-10T00:00:00.000000Z", "summary": "Updated remediation"})
	vuln := m["vulnerabilities"].([]any)[0].(map[string]any)
	rem := vuln["remediations"].([]any)[0].(map[string]any)
	rem["details"] = "Revised: replace the pump."
	revised := writeJSON(t, t.TempDir(), "icsma-19-178-01.json", m)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		if _, err := imp(db).Import(ctx, []string{orig}, vigil.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		res, err := imp(db).Import(ctx, []string{revised}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"csaf": {0, 1, 0, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("revision (-want +got):\n%s", diff)
		}
		revs, err := db.AdvisoryRevisions(ctx, vigil.SourceCSAF, "ICSMA-19-178-01", "CVE-2019-10964")
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 2 || revs[0].Current || !revs[1].Current ||
			revs[0].Advisory.Remediations[0].Details == "Revised: replace the pump." || revs[1].Advisory.Remediations[0].Details != "Revised: replace the pump." {
			t.Errorf("revisions = %+v, want the original kept and the revision current", revs)
		}
		// Both documents are kept; re-importing the original changes nothing.
		if got := count(t, db, "SELECT COUNT(*) FROM intel_documents WHERE doc_id = 'ICSMA-19-178-01'"); got != 2 {
			t.Errorf("documents = %d, want both revisions", got)
		}
		res, err = imp(db).Import(ctx, []string{orig}, vigil.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string][5]int{"csaf": {0, 0, 1, 0, 0}}, sums(res)); diff != "" {
			t.Errorf("original again (-want +got):\n%s", diff)
		}
		v, _ := db.Vuln(ctx, "CVE-2019-10964")
		if v.Advisories[0].Remediations[0].Details != "Revised: replace the pump." {
			t.Error("the original replaced the revision")
		}
	})
}

func TestSignalsOnOurDevices(t *testing.T) {
	doc := testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json")
	tests := []struct {
		org  string
		want map[string]string // device → matched_by
	}{
		{"Acme Medical", map[string]string{"MiniMed 508": "name", "Veo Pump": "model"}},
		{"Medtronic plc", map[string]string{"MiniMed 508": "name", "Veo Pump": "model", "Infusion Center": "vendor"}},
	}
	for _, tt := range tests {
		t.Run(tt.org, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := storetest.Admin()
				if err := db.CreateOrg(ctx, &vigil.Organization{Name: tt.org, TimeZone: "America/Chicago"}); err != nil {
					t.Fatal(err)
				}
				for _, d := range []*vigil.Device{
					{Name: "MiniMed 508", Class: "II", Pathway: vigil.Pathway510k},
					{Name: "Veo Pump", Model: "554CM", Class: "II", Pathway: vigil.Pathway510k},
					{Name: "Infusion Center", Model: "IC-9", Class: "II", Pathway: vigil.Pathway510k},
				} {
					if err := db.CreateDevice(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
				res, err := imp(db).Import(ctx, []string{doc}, vigil.ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				sigs, err := db.Signals(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, s := range sigs {
					got[s.Device] = s.MatchedBy
					// Released 2019-06-27T00:00Z is the 26th in Chicago: the organization's calendar day.
					if s.ReleaseDate.String() != "2019-06-26" || s.Document != "ICSMA-19-178-01" || s.Vuln != "CVE-2019-10964" {
						t.Errorf("signal %+v", s)
					}
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("signals (-want +got):\n%s", diff)
				}
				if res.Signals != len(tt.want) {
					t.Errorf("result counts %d signals, want %d", res.Signals, len(tt.want))
				}
			})
		})
	}
}

// rawZip writes a zip whose single entry carries the given deflated bytes and declared CRC and size.
func rawZip(t *testing.T, dir, entry string, body []byte, crc uint32, size uint64) string {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	fw.Write(body)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: entry, Method: zip.Deflate, CRC32: crc, CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	p := filepath.Join(dir, strings.TrimSuffix(entry, ".json")+".zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCorruptAndHostileArchives(t *testing.T) {
	rec := []byte(`{"id":"GO-2099-0001","modified":"2024-01-01T00:00:00Z","summary":"` + strings.Repeat("x", 200) + `"}`)
	dir := t.TempDir()
	tests := []struct {
		name, want string
		zip        string
		skippable  bool
	}{
		{"declared smaller than it is", "more data than the declared", rawZip(t, dir, "a.json", rec, crc32.ChecksumIEEE(rec), 100), false},
		{"wrong checksum", "checksum", rawZip(t, dir, "b.json", rec, crc32.ChecksumIEEE(rec)+1, uint64(len(rec))), false},
		{"declared larger than the record limit", "limit", rawZip(t, dir, "c.json", rec, crc32.ChecksumIEEE(rec), 1<<40), true},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := imp(db).Import(storetest.Admin(), []string{tt.zip}, vigil.ImportOptions{})
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.zip+"!") {
					t.Errorf("error = %v, want EINVALID naming the entry and %q", err, tt.want)
				}
				res, err := imp(db).Import(storetest.Admin(), []string{tt.zip}, vigil.ImportOptions{SkipInvalid: true})
				if tt.skippable {
					if err != nil || len(res.Summaries) != 1 || len(res.Summaries[0].Rejected) != 1 {
						t.Errorf("skip-invalid: %v %+v", err, res)
					}
				} else if err == nil {
					t.Error("a corrupt archive was imported with --skip-invalid: corruption stops the run")
				}
			})
		}
		if n := count(t, db, "SELECT COUNT(*) FROM intel_advisories"); n != 0 {
			t.Errorf("%d advisories stored from corrupt archives", n)
		}
	})
}

func TestVulnFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		// EPSS scores for two CVEs of the NVD page, made up for the test (the fixture's scores are for 1999 CVEs).
		dir := t.TempDir()
		epss := filepath.Join(dir, "epss.csv")
		os.WriteFile(epss, []byte("#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000\ncve,epss,percentile\nCVE-2023-5631,0.91,0.99\nCVE-2022-1576,0.02,0.40\n"), 0o644)
		if _, err := imp(db).Import(ctx, []string{testfix.Path(t, "nvd-api-2.0"), testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json"),
			testfix.Path(t, "osv-corpus", "Go", "all.zip"), epss}, vigil.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		ids := func(f vigil.VulnFilter) []string {
			t.Helper()
			vs, err := db.Vulns(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, v := range vs {
				out = append(out, v.ID)
			}
			slices.Sort(out)
			return out
		}
		kevIDs := ids(vigil.VulnFilter{KEV: true})
		if !slices.Contains(kevIDs, "CVE-2023-5631") {
			t.Errorf("KEV = %v, want the NVD CVE in the catalog among them", kevIDs)
		}
		for _, id := range kevIDs {
			if v, err := db.Vuln(ctx, id); err != nil || v.KEV == nil {
				t.Errorf("KEV filter listed %s, which has no KEV entry (%v)", id, err)
			}
		}
		if n := len(ids(vigil.VulnFilter{Limit: 10000})); len(kevIDs) == 0 || len(kevIDs) >= n {
			t.Errorf("KEV filter kept %d of %d", len(kevIDs), n)
		}
		if got := ids(vigil.VulnFilter{MinEPSS: 0.5}); !cmp.Equal(got, []string{"CVE-2023-5631"}) {
			t.Errorf("EPSS >= 0.5 = %v", got)
		}
		if got := ids(vigil.VulnFilter{MinEPSS: 0.01}); len(got) != 2 {
			t.Errorf("EPSS >= 0.01 = %v, want both scored CVEs", got)
		}
		if got := ids(vigil.VulnFilter{Text: "wp maintenance mode", Limit: 10}); !cmp.Equal(got, []string{"CVE-2022-1576"}) {
			t.Errorf("text = %v", got)
		}
		if got := ids(vigil.VulnFilter{Ecosystem: "go", Text: "bluemonday"}); len(got) == 0 || !strings.HasPrefix(got[0], "CVE-") {
			t.Errorf("ecosystem go + text = %v", got)
		}
		for _, tc := range []struct{ text, want string }{
			{"Crafted Authentication Request", "CVE-2020-29652"}, // an OSV record's summary: stored only in its document
			{"ghsa-3vm4-22fp", "CVE-2020-29652"},                 // an alias, in any case
			{"btcsuitereleases/go-socks", "CVE-2013-10005"},      // a package name, in no summary
		} {
			if got := ids(vigil.VulnFilter{Text: tc.text}); !cmp.Equal(got, []string{tc.want}) {
				t.Errorf("text %q = %v, want %s", tc.text, got, tc.want)
			}
		}
		if got := ids(vigil.VulnFilter{Ecosystem: "PyPI"}); len(got) != 0 {
			t.Errorf("no PyPI advisory was imported, got %v", got)
		}
		all := ids(vigil.VulnFilter{Limit: 10000})
		recent := ids(vigil.VulnFilter{ModifiedSince: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 10000})
		if len(recent) == 0 || len(recent) >= len(all) {
			t.Errorf("modified since 2025: %d of %d", len(recent), len(all))
		}
		if _, err := db.Vulns(ctx, vigil.VulnFilter{MinEPSS: 1.5}); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("MinEPSS 1.5: %v", err)
		}
		// The newest first.
		vs, _ := db.Vulns(ctx, vigil.VulnFilter{Limit: 3})
		for i := 1; i < len(vs); i++ {
			if vs[i].Modified.After(vs[i-1].Modified) {
				t.Errorf("not newest first: %v after %v", vs[i].Modified, vs[i-1].Modified)
			}
		}
	})
}

// TestGzipBombRefusedAtRecordLimit imports a .json.gz OSV record that expands to 256 MiB, alone and in a folder,
// with a record limit of 1 MiB: the run fails with EINVALID naming the file and the record limit (or, with
// --skip-invalid, lists the file as rejected) after decompressing about the limit, where it used to read the
// whole expansion up to the 1 GiB file limit before the parser refused it. The bytes allocated during the run are
// the measure of what was decompressed.
func TestGzipBombRefusedAtRecordLimit(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "GO-2099-0001.json.gz")
	f, err := os.Create(bomb)
	if err != nil {
		t.Fatal(err)
	}
	if err := testfix.GzipBomb(f, `{"id":"GO-2099-0001","modified":"2024-01-01T00:00:00Z","details":"`, 256<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	lim := untrusted.Limits{MaxRecordSize: 1 << 20}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, in := range []string{bomb, dir} {
			t.Run(filepath.Base(in), func(t *testing.T) {
				im := &importer.Importer{Store: db, Limits: lim}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err := im.Import(storetest.Admin(), []string{in}, vigil.ImportOptions{})
				runtime.ReadMemStats(&after)
				if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), bomb) || !strings.Contains(err.Error(), "the limit for one OSV record") {
					t.Errorf("error = %v, want EINVALID naming %s and the record limit", err, bomb)
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
					t.Errorf("the run allocated %d MiB for a record limit of 1 MiB: the bomb was read past the limit", alloc>>20)
				}
				res, err := im.Import(storetest.Admin(), []string{in}, vigil.ImportOptions{SkipInvalid: true})
				if err != nil {
					t.Fatal(err)
				}
				if s := sums(res); s[vigil.SourceOSV] != [5]int{0, 0, 0, 0, 1} {
					t.Errorf("skip-invalid summaries = %v, want the OSV record rejected", s)
				}
			})
		}
		if n := count(t, db, "SELECT COUNT(*) FROM intel_advisories"); n != 0 {
			t.Errorf("%d advisories stored from a bomb", n)
		}
	})
}

// TestFullDiskImportSaysSo: an import that runs out of disk tells the user so (EUNAVAILABLE, which the API answers
// with 503), with no SQL and no server path in the message, and keeps nothing. It used to be "internal error".
// SQLite's disk is filled by capping the file's pages (a real SQLITE_FULL); PostgreSQL's by a trigger raising its
// disk_full error.
func TestFullDiskImportSaysSo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Engine() == store.SQLite {
			db.SQL().SetMaxOpenConns(1) // the page cap is per connection: keep to the one that has it
			var pages int
			if err := db.SQL().QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+8)); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, s := range []string{
				`CREATE FUNCTION fail_write() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN RAISE EXCEPTION 'could not extend file "base/16384/2619": No space left on device' USING ERRCODE = 'disk_full'; END $$`,
				"CREATE TRIGGER fail_documents BEFORE INSERT ON intel_documents FOR EACH ROW EXECUTE FUNCTION fail_write()",
			} {
				if _, err := db.SQL().Exec(s); err != nil {
					t.Fatal(err)
				}
			}
		}
		_, err := imp(db).Import(storetest.Admin(), []string{testfix.Path(t, "osv-corpus", "PyPI", "all.zip")}, vigil.ImportOptions{})
		if vigil.ErrorCode(err) != vigil.EUNAVAILABLE || !strings.Contains(vigil.ErrorMessage(err), "disk is full") {
			t.Fatalf("Import = %v (%s), want EUNAVAILABLE saying the disk is full", err, vigil.ErrorCode(err))
		}
		for _, leak := range []string{"INSERT", "base/", ".db", "SQLITE", "could not extend"} {
			if strings.Contains(vigil.ErrorMessage(err), leak) {
				t.Errorf("the message leaks %q: %s", leak, vigil.ErrorMessage(err))
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM intel_documents"); n != 0 {
			t.Errorf("%d documents kept from the failed import", n)
		}
	})
}
