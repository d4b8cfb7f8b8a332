package store_test

import (
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// put imports advisories as one run, one document per advisory, the way the importer does.
func put(t *testing.T, db *store.DB, advs ...vigil.Advisory) *vigil.IntelResult {
	t.Helper()
	res, err := db.ImportIntel(storetest.Admin(), func(w vigil.IntelWriter) error {
		for i := range advs {
			a := &advs[i]
			raw, _ := json.Marshal(a)
			doc := vigil.NewSourceDoc(a.Source, a.ID, a.ID+".json", raw)
			doc.Records = 1
			known, err := w.Known([]vigil.DocKey{{Digest: doc.Digest}})
			if err != nil {
				return err
			}
			if kd, ok := known[vigil.DocKey{Digest: doc.Digest}]; ok {
				w.Unchanged(a.Source, kd.Records)
				continue
			}
			ref, err := w.Document(doc)
			if err != nil {
				return err
			}
			p, err := w.Prepare(a)
			if err != nil {
				return err
			}
			if err := w.Advisory(ref, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func counts(res *vigil.IntelResult) map[string][5]int {
	out := map[string][5]int{}
	for _, s := range res.Summaries {
		out[s.Source] = [5]int{s.Added, s.Updated, s.Unchanged, s.Withdrawn, len(s.Rejected)}
	}
	return out
}

func ghsa(mod string, fixed string) vigil.Advisory {
	return vigil.Advisory{Source: vigil.SourceOSV, ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2024-1000"},
		Summary: "ghsa summary", Modified: ts(mod),
		Affected: []vigil.Affected{{Ecosystem: "PyPI", Name: "Django_Rest.Framework", Ranges: []vigil.Range{{Type: vigil.RangeEcosystem,
			Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: fixed}}}}}}}
}

func TestIntelMergeReviseAndIdempotence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		nvd := vigil.Advisory{Source: vigil.SourceNVD, ID: "CVE-2024-1000", Summary: "nvd description", Modified: ts("2024-02-01T00:00:00Z"),
			Scores: []vigil.Score{{Source: "nvd@nist.gov", Type: "Primary", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Base: 9.8}},
			Configurations: []vigil.CPEConfig{{Nodes: []vigil.CPENode{{Operator: "OR", Matches: []vigil.CPEMatch{
				{Vulnerable: true, Criteria: "cpe:2.3:a:encode:django-rest-framework:*:*:*:*:*:*:*:*", VersionEndExcluding: "3.15"}}}}}}}
		pysec := vigil.Advisory{Source: vigil.SourceOSV, ID: "PYSEC-2024-1", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}, Modified: ts("2024-01-05T00:00:00Z"),
			Affected: []vigil.Affected{{Ecosystem: "PyPI", Name: "djangorestframework"}}}

		res := put(t, db, ghsa("2024-01-01T00:00:00Z", "3.15"), nvd)
		if diff := cmp.Diff(map[string][5]int{"osv": {1, 0, 0, 0, 0}, "nvd": {1, 0, 0, 0, 0}}, counts(res)); diff != "" {
			t.Errorf("first run (-want +got):\n%s", diff)
		}
		// PYSEC links to the GHSA only: the union-find must put it in the CVE's group.
		res = put(t, db, pysec)
		if diff := cmp.Diff(map[string][5]int{"osv": {1, 0, 0, 0, 0}}, counts(res)); diff != "" {
			t.Errorf("second run (-want +got):\n%s", diff)
		}
		for _, id := range []string{"GHSA-aaaa-bbbb-cccc", "ghsa-AAAA-bbbb-cccc", "cve-2024-1000", "PYSEC-2024-1"} {
			v, err := db.VulnDetail(ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if v.ID != "CVE-2024-1000" {
				t.Errorf("%s: id = %s, want the CVE", id, v.ID)
			}
			if diff := cmp.Diff([]string{"GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"}, v.Aliases); diff != "" {
				t.Errorf("%s aliases (-want +got):\n%s", id, diff)
			}
			var srcs []string
			for _, s := range v.Sources {
				srcs = append(srcs, s.Source+":"+s.ID)
			}
			if diff := cmp.Diff([]string{"nvd:CVE-2024-1000", "osv:GHSA-aaaa-bbbb-cccc", "osv:PYSEC-2024-1"}, srcs); diff != "" {
				t.Errorf("%s sources (-want +got):\n%s", id, diff)
			}
			if v.Summary != "nvd description" {
				t.Errorf("summary = %q, want NVD's", v.Summary)
			}
		}

		before := auditCount(t, db)
		res = put(t, db, ghsa("2024-01-01T00:00:00Z", "3.15"), nvd, pysec)
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 0, 2, 0, 0}, "nvd": {0, 0, 1, 0, 0}}, counts(res)); diff != "" {
			t.Errorf("re-import (-want +got):\n%s", diff)
		}
		if len(res.Changed) != 0 {
			t.Errorf("re-import changed %v", res.Changed)
		}
		if got := auditCount(t, db); got != before+1 {
			t.Errorf("audit events %d → %d, want exactly one more", before, got)
		}

		// A revision replaces the merged view and keeps the earlier one; an older one never replaces it.
		res = put(t, db, ghsa("2024-03-01T00:00:00Z", "3.16"))
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 1, 0, 0, 0}}, counts(res)); diff != "" {
			t.Errorf("revision (-want +got):\n%s", diff)
		}
		wantKey := vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "django-rest-framework"}
		if !slices.Contains(res.Changed, wantKey) {
			t.Errorf("changed = %v, want %v", res.Changed, wantKey)
		}
		res = put(t, db, ghsa("2023-12-01T00:00:00Z", "3.10"))
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 0, 1, 0, 0}}, counts(res)); diff != "" {
			t.Errorf("older revision (-want +got):\n%s", diff)
		}
		revs, err := db.AdvisoryRevisions(ctx, vigil.SourceOSV, "", "GHSA-aaaa-bbbb-cccc")
		if err != nil {
			t.Fatal(err)
		}
		var fixed []string
		for _, r := range revs {
			fixed = append(fixed, r.Advisory.Affected[0].Ranges[0].Events[1].Fixed)
		}
		if diff := cmp.Diff([]string{"3.10", "3.15", "3.16"}, fixed); diff != "" {
			t.Errorf("revisions (older, earlier, current) (-want +got):\n%s", diff)
		}

		// The matcher reads the current revision's match record, not the older one imported last.
		cur, err := db.AdvisoriesFor(ctx, []vigil.PackageKey{wantKey})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range cur {
			if a.ID == "GHSA-aaaa-bbbb-cccc" {
				if got := a.Affected[0].Ranges[0].Events[1].Fixed; got != "3.16" {
					t.Errorf("match record of the revised advisory: fixed %s, want 3.16", got)
				}
				if a.Summary != "" {
					t.Errorf("a match record carries the summary %q: the matcher should not decode it", a.Summary)
				}
			}
		}

		// The affected index answers by however an SBOM spells the package.
		for _, k := range []vigil.PackageKey{
			{Kind: vigil.KeyPackage, Ecosystem: "pypi", Name: "django-rest-framework"},
			{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "Django.Rest_Framework"},
			{Kind: vigil.KeyCPE, Ecosystem: "a", Name: "encode:django-rest-framework"},
		} {
			advs, err := db.AdvisoriesFor(ctx, []vigil.PackageKey{k})
			if err != nil {
				t.Fatal(err)
			}
			if len(advs) != 1 {
				t.Errorf("AdvisoriesFor(%v) = %d advisories, want 1", k, len(advs))
			}
		}
		if all, err := db.AdvisoriesByID(ctx, []string{"CVE-2024-1000", "GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"}); err != nil || len(all) != 3 {
			t.Errorf("AdvisoriesByID = %d advisories, %v; want 3", len(all), err)
		}

		// Withdrawal: counted, and gone from the matcher's views.
		w := pysec
		w.Modified, w.Withdrawn = ts("2024-04-01T00:00:00Z"), ts("2024-04-01T00:00:00Z")
		res = put(t, db, w)
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 0, 0, 1, 0}}, counts(res)); diff != "" {
			t.Errorf("withdrawal (-want +got):\n%s", diff)
		}
		advs, _ := db.AdvisoriesFor(ctx, []vigil.PackageKey{{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "djangorestframework"}})
		if len(advs) != 0 {
			t.Errorf("a withdrawn advisory is still returned: %v", advs)
		}
		keys, last, err := db.ChangedKeys(ctx, 0)
		if err != nil || last != res.Run || !slices.Contains(keys, vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "djangorestframework"}) {
			t.Errorf("ChangedKeys = %v, %d, %v", keys, last, err)
		}
	})
}

func auditCount(t *testing.T, db *store.DB) int64 {
	t.Helper()
	cp, err := db.Checkpoint(storetest.Admin())
	if err != nil {
		t.Fatal(err)
	}
	return cp.Count
}

func TestIntelMergesGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		// Two vulnerabilities known separately, then one record naming both: they become one, named by the older CVE.
		put(t, db,
			vigil.Advisory{Source: vigil.SourceNVD, ID: "CVE-2021-200", Modified: ts("2021-01-01T00:00:00Z")},
			vigil.Advisory{Source: vigil.SourceNVD, ID: "CVE-2021-3", Modified: ts("2021-01-02T00:00:00Z")},
		)
		put(t, db, vigil.Advisory{Source: vigil.SourceOSV, ID: "GO-2021-0001", Aliases: []string{"CVE-2021-200", "CVE-2021-3"}, Modified: ts("2021-02-01T00:00:00Z")})
		v, err := db.Vuln(ctx, "CVE-2021-200")
		if err != nil {
			t.Fatal(err)
		}
		if v.ID != "CVE-2021-3" || len(v.Advisories) != 3 {
			t.Errorf("merged = %s with %d advisories, want CVE-2021-3 with 3", v.ID, len(v.Advisories))
		}
		list, err := db.Vulns(ctx, vigil.VulnFilter{})
		if err != nil || len(list) != 1 {
			t.Errorf("Vulns = %d, %v; want one merged vulnerability", len(list), err)
		}
		if _, err := db.Vuln(ctx, "CVE-1999-0001"); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("unknown id: %v", err)
		}
		if _, err := db.Vuln(context.Background(), "CVE-2021-3"); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("no actor: %v", err)
		}
		if _, err := db.ImportIntel(storetest.As("v", vigil.RoleViewer), func(vigil.IntelWriter) error { return nil }); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("viewer import: %v", err)
		}
	})
}

func TestZipBlob(t *testing.T) {
	raw := []byte(`{"id":"GO-2024-0001","modified":"2024-01-01T00:00:00Z"}`)
	var buf strings.Builder
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zw.Write(raw)
	zw.Close()
	blob := vigil.ZipBlob([]byte(buf.String()), crc32.ChecksumIEEE(raw), uint64(len(raw)))
	got, err := store.Gunzip(blob, 1<<20)
	if err != nil || string(got) != string(raw) {
		t.Fatalf("Gunzip(ZipBlob) = %q, %v", got, err)
	}
	if d := vigil.ZipBlobDigest([]byte(buf.String()), crc32.ChecksumIEEE(raw), uint64(len(raw))); d != sha256.Sum256(blob) {
		t.Error("ZipBlobDigest differs from the blob's SHA-256")
	}
	if _, err := store.Gunzip(blob, 10); err == nil {
		t.Error("Gunzip ignored its limit")
	}
}

func TestFeeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		f := &vigil.Feed{Name: "kev", Source: vigil.SourceKEV, URL: "https://www.cisa.gov/kev.json", Every: 24 * time.Hour, Enabled: true}
		if err := db.SetFeed(ctx, f); err != nil {
			t.Fatal(err)
		}
		at := ts("2025-06-02T09:00:00Z")
		if err := db.RecordFeedAttempt(ctx, "kev", vigil.FeedAttempt{At: at, Err: vigil.Errorf(vigil.EINVALID, "bad catalog"), Next: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Feed(ctx, "kev")
		if !got.Failing() || got.Failures != 1 || got.LastError != "bad catalog" || !got.LastSuccess.IsZero() || !got.NextAttempt.Equal(at.Add(time.Minute)) {
			t.Errorf("after a failure: %+v", got)
		}
		if err := db.RecordFeedAttempt(ctx, "kev", vigil.FeedAttempt{At: at.Add(time.Minute), Next: at.Add(25 * time.Hour), Cursor: "c1", Counts: []vigil.IntelSummary{{Source: "kev", Added: 3}}}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Feed(ctx, "kev")
		if got.Failing() || got.LastError != "" || got.Cursor != "c1" || !got.LastSuccess.Equal(at.Add(time.Minute)) || !strings.Contains(string(got.Counts), `"added":3`) {
			t.Errorf("after a success: %+v", got)
		}
		if err := db.RecordFeedAttempt(ctx, "kev", vigil.FeedAttempt{At: at.Add(2 * time.Minute), Next: at.Add(26 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, _ = db.Feed(ctx, "kev"); got.Cursor != "c1" {
			t.Errorf("a success without a cursor lost it: %q", got.Cursor)
		}
		for _, bad := range []*vigil.Feed{
			{Name: "a b", Source: "kev", URL: "https://x.org/", Every: time.Hour},
			{Name: "x", Source: "rss", URL: "https://x.org/", Every: time.Hour},
			{Name: "x", Source: "kev", URL: "file:///etc/passwd", Every: time.Hour},
			{Name: "x", Source: "kev", URL: "https://x.org/", Every: time.Second},
		} {
			if err := db.SetFeed(ctx, bad); vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("SetFeed(%+v) = %v, want EINVALID", bad, err)
			}
		}
		if err := db.SetFeed(storetest.As("v", vigil.RoleViewer), f); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
			t.Errorf("viewer SetFeed: %v", err)
		}
		if err := db.RecordFeedAttempt(ctx, "nope", vigil.FeedAttempt{At: at}); vigil.ErrorCode(err) != vigil.ENOTFOUND {
			t.Errorf("unknown feed: %v", err)
		}
	})
}

func TestIntelRevisedTwiceInOneRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		put(t, db, ghsa("2024-01-01T00:00:00Z", "3.15"))
		// Two revisions and an older version in one run: each revision kept, the newest current.
		res := put(t, db, ghsa("2024-02-01T00:00:00Z", "3.16"), ghsa("2024-03-01T00:00:00Z", "3.17"), ghsa("2023-06-01T00:00:00Z", "3.0"))
		if diff := cmp.Diff(map[string][5]int{"osv": {0, 2, 1, 0, 0}}, counts(res)); diff != "" {
			t.Errorf("summary (-want +got):\n%s", diff)
		}
		revs, err := db.AdvisoryRevisions(storetest.Admin(), vigil.SourceOSV, "", "GHSA-aaaa-bbbb-cccc")
		if err != nil {
			t.Fatal(err)
		}
		var fixed []string
		for _, r := range revs {
			fixed = append(fixed, r.Advisory.Affected[0].Ranges[0].Events[1].Fixed)
		}
		if diff := cmp.Diff([]string{"3.0", "3.15", "3.16", "3.17"}, fixed); diff != "" {
			t.Errorf("revisions (-want +got):\n%s", diff)
		}
		if cur, err := db.AdvisoriesByID(storetest.Admin(), []string{"GHSA-aaaa-bbbb-cccc"}); err != nil || len(cur) != 1 {
			t.Errorf("AdvisoriesByID = %d advisories, %v; want the current one only", len(cur), err)
		}
	})
}

// TestMatchRecordsMigration: migration 9 builds the match record of every advisory stored before records existed,
// the same records an import writes.
func TestMatchRecordsMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		withdrawn := ghsa("2024-01-01T00:00:00Z", "3.15")
		withdrawn.ID, withdrawn.Withdrawn = "GHSA-wwww-wwww-wwww", ts("2024-02-01T00:00:00Z")
		put(t, db, ghsa("2024-01-01T00:00:00Z", "3.15"), withdrawn, vigil.Advisory{Source: vigil.SourceCSAF, ID: "CVE-2024-2000",
			Document: "ICSMA-24-001-01", Products: []vigil.Product{{ID: "P1", Vendor: "Acme", Name: "Pump", VersionRange: "<2.0"}}})
		keys := []vigil.PackageKey{{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "django-rest-framework"},
			{Kind: vigil.KeyProduct, Ecosystem: "acme", Name: "pump"}}
		want, err := db.AdvisoriesFor(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 2 {
			t.Fatalf("AdvisoriesFor after the import = %d advisories, want 2 (the withdrawn one left out)", len(want))
		}
		if _, err := db.SQL().ExecContext(ctx, "DELETE FROM intel_match"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.AdvisoriesFor(ctx, keys); err != nil || len(got) != 0 {
			t.Fatalf("AdvisoriesFor without records = %d, %v; want none", len(got), err)
		}
		if err := store.BuildMatchRecords(ctx, db); err != nil {
			t.Fatal(err)
		}
		got, err := db.AdvisoriesFor(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("records built by the migration vs written by the import (-want +got):\n%s", diff)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM intel_match").Scan(&n); err != nil || n != 3 {
			t.Errorf("records after the migration = %d, %v; want 3 (the withdrawn advisory's too)", n, err)
		}
	})
}

// TestSyncFindingsOf: a sync scoped to some components opens and resolves their findings only; the others'
// findings stay as they are even though found does not repeat them.
func TestSyncFindingsOf(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		seedOrg(t, db)
		d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}
		if err := db.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
		if err := db.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
		django := vigil.Component{Name: "django", Version: "3.2", Purl: "pkg:pypi/django@3.2"}
		log4j := vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
		if err := db.SetComponents(ctx, v.ID, []vigil.Component{django, log4j}, "sbom.json"); err != nil {
			t.Fatal(err)
		}
		if o, r, err := db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: django, Vulnerability: "CVE-2023-1"},
			{Component: log4j, Vulnerability: "CVE-2021-44228"}}); err != nil || o != 2 || r != 0 {
			t.Fatalf("first sync = +%d -%d, %v; want +2", o, r, err)
		}
		onlyDjango := func(ck string) bool { return ck == django.FindingKey() }
		o, r, err := db.SyncFindingsOf(ctx, v.ID, []vigil.Finding{{Component: django, Vulnerability: "CVE-2023-2"}}, onlyDjango, nil)
		if err != nil || o != 1 || r != 1 {
			t.Fatalf("scoped sync = +%d -%d, %v; want +1 -1 (django's CVE-2023-1 resolved, log4j untouched)", o, r, err)
		}
		fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID, States: vigil.FindingStates})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]vigil.FindingState{}
		for _, f := range fs {
			got[f.Component.Name+" "+f.Vulnerability] = f.State
		}
		want := map[string]vigil.FindingState{"django CVE-2023-1": vigil.FindingResolved, "django CVE-2023-2": vigil.FindingOpen,
			"log4j-core CVE-2021-44228": vigil.FindingOpen}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("findings after the scoped sync (-want +got):\n%s", diff)
		}
	})
}

// TestSyncFindingsDelta: a delta's sync of several versions at once opens the new findings in each version and puts
// them in one case per device (one case.open event naming the findings of every version), resolves a finding of
// the synced ids whose component the version no longer holds, and leaves alone the findings of other ids and those
// of components outside the scope; each version gets its finding.sync event, and the trail verifies.
func TestSyncFindingsDelta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		django := vigil.Component{Name: "django", Version: "3.2", Purl: "pkg:pypi/django@3.2"}
		flask := vigil.Component{Name: "flask", Version: "2.0", Purl: "pkg:pypi/flask@2.0"}
		log4j := vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
		a, b := pump(t, db, "Pump A"), pump(t, db, "Pump B")
		var v [3]int64
		for i, spec := range []struct {
			dev   int64
			comps []vigil.Component
		}{{a.ID, []vigil.Component{django, log4j}}, {a.ID, []vigil.Component{django}}, {b.ID, []vigil.Component{django}}} {
			ver := &vigil.DeviceVersion{DeviceID: spec.dev, Version: fmt.Sprint(i + 1)}
			if err := db.CreateVersion(ctx, ver); err != nil {
				t.Fatal(err)
			}
			if err := db.SetComponents(ctx, ver.ID, spec.comps, "sbom.json"); err != nil {
				t.Fatal(err)
			}
			v[i] = ver.ID
		}
		if _, _, err := db.SyncFindings(ctx, v[0], []vigil.Finding{{Component: django, Vulnerability: "CVE-2020-1"},
			{Component: log4j, Vulnerability: "CVE-2020-1"}, {Component: log4j, Vulnerability: "CVE-2021-44228"}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SyncFindings(ctx, v[1], []vigil.Finding{{Component: django, Vulnerability: "CVE-2020-1"}}); err != nil {
			t.Fatal(err)
		}
		// Version 2 drops django for flask (no re-match since): its django finding is of a component it no longer holds.
		if err := db.SetComponents(ctx, v[1], []vigil.Component{flask}, "sbom-2.json"); err != nil {
			t.Fatal(err)
		}
		before, err := db.Events(ctx, vigil.AuditFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}

		redo := map[int64]map[string]bool{v[0]: {django.FindingKey(): true}, v[1]: {flask.FindingKey(): true}, v[2]: {django.FindingKey(): true}}
		found := []vigil.Finding{
			{VersionID: v[0], Component: django, Vulnerability: "CVE-2020-1"},
			{VersionID: v[0], Component: django, Vulnerability: "CVE-2026-7"},
			{VersionID: v[1], Component: flask, Vulnerability: "CVE-2026-7"},
			{VersionID: v[2], Component: django, Vulnerability: "CVE-2026-7"},
		}
		o, r, err := db.SyncFindingsDelta(ctx, v[:], found, func(ver int64, ck string) bool { return redo[ver][ck] }, []string{"CVE-2020-1", "CVE-2026-7"})
		if err != nil || o != 3 || r != 1 {
			t.Fatalf("delta = +%d -%d, %v; want +3 -1", o, r, err)
		}
		got := map[string]string{}
		cases := map[string]int64{}
		for i, ver := range v {
			fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: ver, States: vigil.FindingStates})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				k := fmt.Sprintf("%d %s %s", i+1, f.Component.Name, f.Vulnerability)
				got[k] = string(f.State)
				if f.Vulnerability == "CVE-2026-7" {
					cases[k] = f.CaseID
				}
			}
		}
		want := map[string]string{
			"1 django CVE-2020-1": "open", "1 log4j-core CVE-2020-1": "open", "1 log4j-core CVE-2021-44228": "open",
			"1 django CVE-2026-7": "open", "2 flask CVE-2026-7": "open", "3 django CVE-2026-7": "open",
			"2 django CVE-2020-1": "resolved",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("findings after the delta (-want +got):\n%s", diff)
		}
		if c1, c2, c3 := cases["1 django CVE-2026-7"], cases["2 flask CVE-2026-7"], cases["3 django CVE-2026-7"]; c1 == 0 || c1 != c2 || c3 == 0 || c3 == c1 {
			t.Errorf("cases of CVE-2026-7: version 1 %d, version 2 %d, version 3 %d; want one case for Pump A's two versions, another for Pump B", c1, c2, c3)
		}
		evs, err := db.Events(ctx, vigil.AuditFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range evs {
			if e.Seq > before[0].Seq {
				actions[e.Action]++
			}
		}
		if diff := cmp.Diff(map[string]int{"finding.sync": 3, "case.open": 2}, actions); diff != "" {
			t.Errorf("events of the delta (-want +got):\n%s", diff)
		}
		if rep, err := db.Verify(ctx, nil); err != nil || len(rep.Problems) != 0 {
			t.Errorf("verify after the delta: %+v, %v", rep, err)
		}
		if _, _, err := db.SyncFindingsDelta(ctx, v[:1], []vigil.Finding{{VersionID: v[2], Component: django, Vulnerability: "CVE-2026-8"}}, nil, []string{"CVE-2026-8"}); err == nil {
			t.Error("a finding of a version not synced was accepted")
		}
	})
}

// TestSQLiteWALBounded: every connection of a SQLite store bounds its WAL file, so the gigabyte a large import's one
// transaction writes to it is given back at the next checkpoint.
func TestSQLiteWALBounded(t *testing.T) {
	db := storetest.Open(t, store.SQLite, nil)
	var limit int64
	if err := db.SQL().QueryRow("PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != 64<<20 {
		t.Errorf("journal_size_limit = %d, want %d", limit, 64<<20)
	}
}

// TestFirstLoadBuildsDocumentIndexes: the first import into a store without documents drops the indexes on the
// documents' digests and builds them at its end; they exist afterwards on both engines, and a re-import finds its
// documents through them (unchanged, nothing added).
func TestFirstLoadBuildsDocumentIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		advs := []vigil.Advisory{ghsa("2024-01-01T00:00:00Z", "3.15"),
			{Source: vigil.SourceOSV, ID: "GO-2024-0002", Modified: ts("2024-01-02T00:00:00Z")}}
		if got := counts(put(t, db, advs...)); got[vigil.SourceOSV] != [5]int{2, 0, 0, 0, 0} {
			t.Fatalf("first import: %v", got)
		}
		firstLoadDeferredInPlace(t, db, "after the first load")
		if got := counts(put(t, db, advs...)); got[vigil.SourceOSV] != [5]int{0, 0, 2, 0, 0} {
			t.Errorf("re-import: %v, want 2 unchanged", got)
		}
	})
}

// firstLoadDeferredInPlace checks that what a first load drops and builds again at its end is in place: the
// documents' digest indexes, and on PostgreSQL the foreign keys and primary keys it defers, each still enforced.
func firstLoadDeferredInPlace(t *testing.T, db *store.DB, when string) {
	t.Helper()
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('intel_documents_digest', 'intel_documents_blob')"
	if db.Engine() == store.Postgres {
		q = "SELECT COUNT(*) FROM pg_indexes WHERE indexname IN ('intel_documents_digest', 'intel_documents_blob')"
	}
	var n int
	if err := db.SQL().QueryRow(q).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d indexes on the documents' digests %s (%v), want 2", n, when, err)
	}
	if db.Engine() != store.Postgres {
		return
	}
	want := []string{"intel_advisories_doc_ref_fkey", "intel_affected_pkey", "intel_changed_ids_pkey", "intel_changes_pkey",
		"intel_match_advisory_id_fkey", "intel_raw_doc_id_fkey"}
	rows, err := db.SQL().Query("SELECT conname FROM pg_constraint WHERE convalidated AND conname = ANY($1) ORDER BY conname", want)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	rows.Close()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("constraints %s (-want +got):\n%s", when, diff)
	}
	// Enforced, not only listed: a raw document without its document row is refused.
	if _, err := db.SQL().Exec("INSERT INTO intel_raw (doc_id, raw) VALUES (987654321, '\\x00')"); err == nil {
		t.Errorf("an orphan intel_raw row was accepted %s", when)
	}
}

// TestBulkImportAllOrNothing: a first load large enough to write several batches (which PostgreSQL takes through
// COPY) and then fail leaves no row and the digest indexes in place, on both engines; the same load then succeeds
// whole, its advisories found through the affected index.
func TestBulkImportAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const n = 1200 // more than two of the writer's batches
		advs := make([]vigil.Advisory, n)
		for i := range advs {
			advs[i] = vigil.Advisory{Source: vigil.SourceOSV, ID: "GHSA-bulk-" + strconv.Itoa(i), Aliases: []string{"CVE-2030-" + strconv.Itoa(10000+i)},
				Modified: ts("2024-01-01T00:00:00Z"), Summary: "bulk",
				Affected: []vigil.Affected{{Ecosystem: "PyPI", Name: "bulk-pkg", Ranges: []vigil.Range{{Type: vigil.RangeEcosystem,
					Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: "1." + strconv.Itoa(i)}}}}}}}
		}
		write := func(w vigil.IntelWriter) error {
			for i := range advs {
				raw, _ := json.Marshal(&advs[i])
				ref, err := w.Document(vigil.NewSourceDoc(vigil.SourceOSV, advs[i].ID, advs[i].ID+".json", raw))
				if err != nil {
					return err
				}
				p, err := w.Prepare(&advs[i])
				if err != nil {
					return err
				}
				if err := w.Advisory(ref, p); err != nil {
					return err
				}
			}
			return nil
		}
		tables := []string{"intel_documents", "intel_raw", "intel_vulns", "intel_aliases", "intel_advisories", "intel_match", "intel_affected", "intel_runs"}
		rows := func() map[string]int {
			out := map[string]int{}
			for _, tb := range tables {
				var c int
				if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&c); err != nil {
					t.Fatal(err)
				}
				out[tb] = c
			}
			return out
		}
		before := rows()
		boom := errors.New("the feed broke off")
		if _, err := db.ImportIntel(storetest.Admin(), func(w vigil.IntelWriter) error {
			if err := write(w); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failed import: %v, want %v", err, boom)
		}
		if got := rows(); !maps.Equal(got, before) {
			t.Errorf("rows after a failed import: %v, want %v", got, before)
		}
		firstLoadDeferredInPlace(t, db, "after a failed first load")

		res, err := db.ImportIntel(storetest.Admin(), write)
		if err != nil {
			t.Fatal(err)
		}
		if got := counts(res); got[vigil.SourceOSV] != [5]int{n, 0, 0, 0, 0} {
			t.Errorf("import: %v, want %d added", got, n)
		}
		got := rows()
		for _, tb := range []string{"intel_documents", "intel_raw", "intel_vulns", "intel_advisories", "intel_match", "intel_affected"} {
			if got[tb]-before[tb] != n {
				t.Errorf("%s: %d rows added, want %d", tb, got[tb]-before[tb], n)
			}
		}
		if got["intel_aliases"]-before["intel_aliases"] != 2*n {
			t.Errorf("intel_aliases: %d rows added, want %d", got["intel_aliases"]-before["intel_aliases"], 2*n)
		}
		found, err := db.AdvisoriesFor(context.Background(), []vigil.PackageKey{{Kind: vigil.KeyPackage, Ecosystem: "PyPI", Name: "bulk-pkg"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != n || found[0].ID != "GHSA-bulk-0" || found[n-1].Affected[0].Ranges[0].Events[1].Fixed != "1."+strconv.Itoa(n-1) {
			t.Errorf("AdvisoriesFor(bulk-pkg): %d advisories, want %d in import order with their ranges", len(found), n)
		}
	})
}
