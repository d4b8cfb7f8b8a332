package readmodel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/web"
)

// TestWebCacheClasses checks that look-ups by id cannot push the aggregates out: a finding page per vulnerability
// (100,000 of them) must leave the dashboard and the lists' counts cached.
func TestWebCacheClasses(t *testing.T) {
	q := &Queries{agg: map[string]aggEntry{}, sizes: map[bool]int{}}
	add := func(key string) {
		q.makeRoom(key)
		q.put(key, aggEntry{1, key})
	}
	add("overview")
	add("clocks")
	for i := range maxCached - 2 {
		add(fmt.Sprintf("count:device=%d", i))
	}
	for i := range 3 * maxCached {
		add(fmt.Sprintf("vuln:CVE-2024-%05d", i))
	}
	if q.sizes[false] != maxCached {
		t.Errorf("aggregates: %d kept, want all %d", q.sizes[false], maxCached)
	}
	if n := q.sizes[true]; n > maxCached || n < maxCached-maxCached/10 {
		t.Errorf("look-ups: %d kept, bound %d", n, maxCached)
	}
	if _, ok := q.agg["vuln:CVE-2024-12287"]; !ok {
		t.Errorf("the newest look-up is missing")
	}
	// A full aggregate class gives way within itself, never the dashboard's.
	add("count:new")
	if _, ok := q.agg["overview"]; !ok || q.agg["clocks"].v == nil {
		t.Errorf("the dashboard's aggregates were dropped")
	}
	if q.sizes[false] > maxCached || len(q.agg) != q.sizes[false]+q.sizes[true] {
		t.Errorf("sizes %v disagree with %d entries", q.sizes, len(q.agg))
	}
}

// TestWebCacheWritesWaitForRefresh checks the snapshot a request gets while another request refreshes it: a read
// gets the one in hand at once; a request that writes waits for the refreshed one (it decides from what is there).
func TestWebCacheWritesWaitForRefresh(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if err := db.CreateOrg(storetest.Admin(), &vigil.Organization{Name: "Cache Medical", TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		q := New(db, &cases.Service{Store: db, Clock: storetest.NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))}, db)
		reader := func() context.Context { return vigil.WithMemo(storetest.As("bob", vigil.RoleViewer)) }
		before, err := q.current(reader())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateDevice(storetest.As("alice", vigil.RoleAdmin), &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}); err != nil {
			t.Fatal(err)
		}
		q.refreshMu.Lock() // another request is refreshing
		s, err := q.current(reader())
		if err != nil || s != before {
			t.Fatalf("a read during a refresh: got %+v, %v; want the snapshot in hand", s, err)
		}
		got := make(chan *snapshot)
		go func() {
			s, _ := q.current(storetest.As("alice", vigil.RoleAdmin)) // no memo: a write
			got <- s
		}()
		select {
		case s := <-got:
			t.Fatalf("a write did not wait for the refresh: got the snapshot at %d", s.seq)
		case <-time.After(100 * time.Millisecond):
		}
		q.refreshMu.Unlock()
		if s := <-got; s == nil || s.seq <= before.seq {
			t.Errorf("the write got %+v, want a snapshot after %d", s, before.seq)
		}
	})
}

// TestWebCacheGenerations checks what each kind of change recomputes: an assessment moves the risk counts and the
// risk-filtered lists but keeps the findings' own aggregates (the costly part); closing a finding moves both.
func TestWebCacheGenerations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		must := storetest.Must(t)
		must(db.CreateOrg(ctx, &vigil.Organization{Name: "Cache Medical", TimeZone: "UTC"}))
		d := &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k, CyberDevice: true,
			Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}}}
		must(db.CreateDevice(ctx, d))
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0", Status: vigil.VersionMarketed}
		must(db.CreateVersion(ctx, v))
		comp := vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
		must(db.SetComponents(ctx, v.ID, []vigil.Component{comp}, "a.cdx.json"))
		_, _, err := db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: comp, Vulnerability: "CVE-2021-44228"}, {Component: comp, Vulnerability: "CVE-2021-45046"}})
		must(err)
		fs, err := db.Findings(ctx, vigil.FindingFilter{})
		must(err)
		cs := &cases.Service{Store: db, Intel: db, Clock: storetest.NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))}
		q := New(db, cs, db)
		read := func() context.Context { return vigil.WithMemo(storetest.As("bob", vigil.RoleViewer)) }
		look := func(step string, open, uncontrolled, extra, listedUncontrolled, listedAll int) *web.Overview {
			t.Helper()
			ov, err := q.Overview(read(), time.Time{})
			must(err)
			if ov.Open != open || ov.Uncontrolled != uncontrolled || len(ov.ByDevice) != 1 || ov.ByDevice[0].Extra != extra {
				t.Errorf("%s: open %d uncontrolled %d by device %+v; want %d %d extra %d", step, ov.Open, ov.Uncontrolled, ov.ByDevice, open, uncontrolled, extra)
			}
			for risk, want := range map[vigil.RiskFilter]int{"uncontrolled": listedUncontrolled, "": listedAll} {
				p, err := q.FindingPage(read(), web.FindingQuery{Risk: risk})
				must(err)
				if p.Total != want || len(p.Rows) != want {
					t.Errorf("%s: findings with risk %q: total %d, %d rows; want %d", step, risk, p.Total, len(p.Rows), want)
				}
			}
			return ov
		}
		setPart := func() any {
			q.mu.Lock()
			defer q.mu.Unlock()
			return q.agg["overview-set"].v
		}

		look("before", 2, 0, 0, 0, 2)
		before := setPart()
		_, err = cs.Assess(ctx, cases.AssessInput{CaseID: fs[0].CaseID, CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Functions: []string{"dose delivery"}, Rationale: "reaches dosing"})
		must(err)
		look("assessed uncontrolled", 2, 1, 1, 1, 2)
		if setPart() != before {
			t.Errorf("an assessment recomputed the findings' aggregates")
		}
		must(db.SetFindingState(ctx, fs[1].ID, vigil.FindingClosed, "not applicable"))
		look("one closed", 1, 1, 1, 1, 1)
		if setPart() == before {
			t.Errorf("closing a finding kept the findings' aggregates")
		}
		// New since a visit: the count follows new findings, the rows shown carry their current risk.
		since := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		newSince := func(step string, n int, risks ...string) {
			t.Helper()
			ov, err := q.Overview(read(), since)
			must(err)
			var got []string
			for _, r := range ov.NewFindings {
				got = append(got, r.Vulnerability+" "+string(r.Risk))
			}
			if ov.NewCount != n || fmt.Sprint(got) != fmt.Sprint(risks) {
				t.Errorf("%s: %d new %v; want %d %v", step, ov.NewCount, got, n, risks)
			}
		}
		newSince("before", 1, "CVE-2021-45046 uncontrolled")
		_, _, err = db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: comp, Vulnerability: "CVE-2021-44228"}, {Component: comp, Vulnerability: "CVE-2021-45046"},
			{Component: comp, Vulnerability: "CVE-2021-45105"}})
		must(err)
		newSince("a new finding", 2, "CVE-2021-45105 ", "CVE-2021-45046 uncontrolled")
		third, err := db.Findings(ctx, vigil.FindingFilter{Vuln: "CVE-2021-45105"})
		must(err)
		_, err = cs.Assess(ctx, cases.AssessInput{CaseID: third[0].CaseID, CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Functions: []string{"dose delivery"}, Rationale: "reaches dosing"})
		must(err)
		newSince("the new one assessed", 2, "CVE-2021-45105 uncontrolled", "CVE-2021-45046 uncontrolled")
	})
}
