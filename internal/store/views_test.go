package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// viewsFixture is a small portfolio for the screens' read models: two devices, three versions, findings first
// seen on three days, assessments (some revised), a closed finding, a KEV catalog and a fix event.
type viewsFixture struct {
	db    *store.DB
	clock *storetest.Clock
	pump  *vigil.Device
	mon   *vigil.Device
	v1    *vigil.DeviceVersion // Pump 1.0
	v2    *vigil.DeviceVersion // Pump 2.0
	v3    *vigil.DeviceVersion // Monitor 3.1
	id    map[string]int64     // finding ids by vulnerability
	cases map[int64]int64      // case ids by finding id
}

var viewsStart = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// eachViews runs fn on every engine with the fixture (storetest.Each, with a clock the fixture moves).
func eachViews(t *testing.T, fn func(t *testing.T, fx *viewsFixture)) {
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			clock := storetest.NewClock(viewsStart)
			fn(t, newViewsFixture(t, storetest.Open(t, e, clock), clock))
		})
	}
}

func newViewsFixture(t *testing.T, db *store.DB, clock *storetest.Clock) *viewsFixture {
	t.Helper()
	ctx := storetest.Admin()
	must := storetest.Must(t)
	fx := &viewsFixture{db: db, clock: clock, id: map[string]int64{}}
	must(db.CreateOrg(ctx, &vigil.Organization{Name: "Views Medical", TimeZone: "UTC"}))
	fx.pump = &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}
	fx.mon = &vigil.Device{Name: "Monitor", Class: "II", Pathway: vigil.Pathway510k}
	must(db.CreateDevice(ctx, fx.pump))
	must(db.CreateDevice(ctx, fx.mon))
	fx.v1 = &vigil.DeviceVersion{DeviceID: fx.pump.ID, Version: "1.0", Status: vigil.VersionMarketed}
	fx.v2 = &vigil.DeviceVersion{DeviceID: fx.pump.ID, Version: "2.0", Status: vigil.VersionMarketed}
	fx.v3 = &vigil.DeviceVersion{DeviceID: fx.mon.ID, Version: "3.1", Status: vigil.VersionMarketed}
	for _, v := range []*vigil.DeviceVersion{fx.v1, fx.v2, fx.v3} {
		must(db.CreateVersion(ctx, v))
	}
	log4j := vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
	// Names with LIKE's wildcards in them, and names those wildcards would match if they were not escaped.
	under := vigil.Component{Name: "foo_bar", Version: "1.0"}
	notUnder := vigil.Component{Name: "fooXbar", Version: "1.0"}
	pct := vigil.Component{Name: "zip50%off", Version: "1.0"}
	notPct := vigil.Component{Name: "zip50off", Version: "1.0"}
	sync := func(v *vigil.DeviceVersion, fs ...vigil.Finding) {
		t.Helper()
		var comps []vigil.Component
		for _, f := range fs {
			if !slices.ContainsFunc(comps, func(c vigil.Component) bool { return c.Name == f.Component.Name }) {
				comps = append(comps, f.Component)
			}
		}
		must(db.SetComponents(ctx, v.ID, comps, "sbom.cdx.json"))
		_, _, err := db.SyncFindings(ctx, v.ID, fs)
		must(err)
	}
	sync(fx.v1, vigil.Finding{Component: log4j, Vulnerability: "CVE-2021-44228"}, vigil.Finding{Component: log4j, Vulnerability: "CVE-2021-45046"})
	clock.T = clock.T.Add(24 * time.Hour)
	sync(fx.v2, vigil.Finding{Component: under, Vulnerability: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2021-44228"}},
		vigil.Finding{Component: notUnder, Vulnerability: "CVE-2023-0001"})
	clock.T = clock.T.Add(24 * time.Hour)
	sync(fx.v3, vigil.Finding{Component: pct, Vulnerability: "CVE-2023-0002"}, vigil.Finding{Component: notPct, Vulnerability: "CVE-2023-0003"})
	fs, err := db.Findings(ctx, vigil.FindingFilter{})
	must(err)
	fx.cases = map[int64]int64{}
	caseOf := fx.cases
	for _, f := range fs {
		fx.id[f.Vulnerability] = f.ID
		caseOf[f.ID] = f.CaseID
	}
	if len(fx.id) != 6 {
		t.Fatalf("fixture: %d findings, want 6", len(fx.id))
	}
	clock.T = clock.T.Add(24 * time.Hour)
	assess := func(vuln string, risk vigil.Risk, severity string) {
		t.Helper()
		must(db.Assess(ctx, &vigil.Assessment{CaseID: caseOf[fx.id[vuln]], Date: vigil.DateOf(clock.T, nil), Risk: risk, Severity: severity, Rationale: "test"}))
	}
	assess("CVE-2021-44228", "uncontrolled", vigil.HarmCritical)
	assess("CVE-2021-45046", "uncontrolled", vigil.HarmSerious)
	assess("CVE-2021-45046", "controlled", vigil.HarmMinor) // the latest assessment decides
	assess("CVE-2023-0001", "controlled", "")
	assess("CVE-2023-0001", "uncontrolled", vigil.HarmSerious)
	must(db.SetFindingState(ctx, fx.id["CVE-2023-0003"], vigil.FindingClosed, "not shipped"))
	must(db.AddCaseEvent(ctx, &vigil.CaseEvent{CaseID: caseOf[fx.id["CVE-2021-44228"]], Type: "fix_distributed",
		Date: vigil.DateOf(clock.Now(), nil), Details: vigil.EventData{Validated: true}, Note: "release notes 2.0.1"}))
	return fx
}

// importKEV stores a KEV catalog listing cves.
func (fx *viewsFixture) importKEV(t *testing.T, cves ...string) {
	t.Helper()
	var entries []vigil.KEVEntry
	for _, c := range cves {
		entries = append(entries, vigil.KEVEntry{CVE: c, Vendor: "Apache", Product: "Log4j", Name: c + " flaw", DateAdded: vigil.DateOf(viewsStart, nil),
			RequiredAction: "patch", DueDate: vigil.DateOf(viewsStart, nil).AddDays(14), RansomwareUse: "Known"})
	}
	raw, _ := json.Marshal(entries)
	_, err := fx.db.ImportIntel(storetest.Admin(), func(w vigil.IntelWriter) error {
		doc, err := w.Document(vigil.NewSourceDoc(vigil.SourceKEV, "kev", "kev.json", raw))
		if err != nil {
			return err
		}
		return w.KEV(doc, "2025.06.02", entries)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (fx *viewsFixture) ids(vulns ...string) []int64 {
	var out []int64
	for _, v := range vulns {
		out = append(out, fx.id[v])
	}
	slices.Sort(out)
	slices.Reverse(out) // newest first, as lists are
	return out
}

func rowIDs(l *vigil.FindingList) []int64 {
	out := []int64{}
	for _, r := range l.Rows {
		out = append(out, r.Finding.ID)
	}
	return out
}

func reader() context.Context { return storetest.As("viewer", vigil.RoleViewer) }

func TestFindingListFilters(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		// The clock ticks a millisecond a reading: take the time the store recorded.
		l, err := fx.db.FindingList(reader(), vigil.FindingListQuery{Vuln: "CVE-2023-0002"})
		if err != nil || len(l.Rows) != 1 {
			t.Fatalf("fixture: %+v, %v", l, err)
		}
		seenV3 := l.Rows[0].Finding.FirstSeen
		if !seenV3.After(viewsStart.Add(48*time.Hour)) || seenV3.After(viewsStart.Add(49*time.Hour)) {
			t.Fatalf("fixture: first seen %v", seenV3)
		}
		tests := []struct {
			name string
			q    vigil.FindingListQuery
			want []string
		}{
			{"default states: open and could not evaluate", vigil.FindingListQuery{},
				[]string{"CVE-2021-44228", "CVE-2021-45046", "GHSA-aaaa-bbbb-cccc", "CVE-2023-0001", "CVE-2023-0002"}},
			{"closed", vigil.FindingListQuery{States: []vigil.FindingState{vigil.FindingClosed}}, []string{"CVE-2023-0003"}},
			{"open and closed", vigil.FindingListQuery{States: []vigil.FindingState{vigil.FindingOpen, vigil.FindingClosed}},
				[]string{"CVE-2021-44228", "CVE-2021-45046", "GHSA-aaaa-bbbb-cccc", "CVE-2023-0001", "CVE-2023-0002", "CVE-2023-0003"}},
			{"device", vigil.FindingListQuery{DeviceID: fx.pump.ID}, []string{"CVE-2021-44228", "CVE-2021-45046", "GHSA-aaaa-bbbb-cccc", "CVE-2023-0001"}},
			{"version", vigil.FindingListQuery{VersionID: fx.v2.ID}, []string{"GHSA-aaaa-bbbb-cccc", "CVE-2023-0001"}},
			{"vulnerability by id or alias", vigil.FindingListQuery{Vuln: "CVE-2021-44228"}, []string{"CVE-2021-44228", "GHSA-aaaa-bbbb-cccc"}},
			{"vulnerability: exact, not a prefix", vigil.FindingListQuery{Vuln: "CVE-2021-4422"}, nil},
			{"text: underscore is literal", vigil.FindingListQuery{Text: "o_b"}, []string{"GHSA-aaaa-bbbb-cccc"}},
			{"text: percent is literal", vigil.FindingListQuery{Text: "50%"}, []string{"CVE-2023-0002"}},
			{"text: any case, vulnerability id", vigil.FindingListQuery{Text: "cve-2021"}, []string{"CVE-2021-44228", "CVE-2021-45046"}},
			{"text: component", vigil.FindingListQuery{Text: "LOG4J"}, []string{"CVE-2021-44228", "CVE-2021-45046"}},
			// GHSA-aaaa-bbbb-cccc is CVE-2021-44228 in another version of the pump: the same case, so the same risk.
			{"risk uncontrolled (latest assessment)", vigil.FindingListQuery{Risk: "uncontrolled"}, []string{"CVE-2021-44228", "GHSA-aaaa-bbbb-cccc", "CVE-2023-0001"}},
			{"risk controlled (latest assessment)", vigil.FindingListQuery{Risk: "controlled"}, []string{"CVE-2021-45046"}},
			{"unassessed", vigil.FindingListQuery{Risk: "unassessed"}, []string{"CVE-2023-0002"}},
			{"since: at first seen", vigil.FindingListQuery{Since: seenV3}, []string{"CVE-2023-0002"}},
			{"since: in another zone", vigil.FindingListQuery{Since: seenV3.In(time.FixedZone("NZST", 12*3600))}, []string{"CVE-2023-0002"}},
			{"since: after every finding", vigil.FindingListQuery{Since: seenV3.Add(time.Nanosecond)}, nil},
			{"filters combine", vigil.FindingListQuery{DeviceID: fx.pump.ID, Risk: "uncontrolled", Text: "log4j"}, []string{"CVE-2021-44228"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l, err := fx.db.FindingList(reader(), tt.q)
				if err != nil {
					t.Fatal(err)
				}
				want := fx.ids(tt.want...)
				if want == nil {
					want = []int64{}
				}
				if diff := cmp.Diff(want, rowIDs(l)); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
				if l.Older != 0 || l.Newer != 0 {
					t.Errorf("one page: cursors older %d newer %d, want none", l.Older, l.Newer)
				}
				n, err := fx.db.CountFindings(reader(), tt.q)
				if err != nil || n != len(want) {
					t.Errorf("count = %d, %v; want %d (the rows)", n, err, len(want))
				}
			})
		}
	})
}

func TestFindingListRows(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		l, err := fx.db.FindingList(reader(), vigil.FindingListQuery{Vuln: "CVE-2021-45046"})
		if err != nil || len(l.Rows) != 1 {
			t.Fatalf("got %+v, %v", l, err)
		}
		r := l.Rows[0]
		got := vigil.FindingListRow{Device: r.Device, Version: r.Version, Risk: r.Risk, Severity: r.Severity}
		want := vigil.FindingListRow{Device: "Pump", Version: "1.0", Risk: "controlled", Severity: vigil.HarmMinor}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
		f := r.Finding
		if f.DeviceID != fx.pump.ID || f.VersionID != fx.v1.ID || f.Component.Name != "log4j-core" || f.State != vigil.FindingOpen ||
			f.FirstSeen.Before(viewsStart) || f.FirstSeen.After(viewsStart.Add(time.Minute)) || f.Learned.String() != "2025-06-02" || !f.ResolvedAt.IsZero() {
			t.Errorf("finding = %+v", f)
		}
		l, err = fx.db.FindingList(reader(), vigil.FindingListQuery{States: []vigil.FindingState{vigil.FindingClosed}})
		if err != nil || len(l.Rows) != 1 || l.Rows[0].Risk != "" || l.Rows[0].Severity != "" || l.Rows[0].Finding.ResolvedAt.IsZero() {
			t.Errorf("closed, unassessed finding: %+v, %v", l, err)
		}
	})
}

func TestFindingListCursors(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		q := vigil.FindingListQuery{States: []vigil.FindingState{vigil.FindingOpen, vigil.FindingClosed}, Limit: 2}
		all := fx.ids("CVE-2021-44228", "CVE-2021-45046", "GHSA-aaaa-bbbb-cccc", "CVE-2023-0001", "CVE-2023-0002", "CVE-2023-0003")
		// Forward, older and older.
		var pages [][]int64
		var newer []int64
		for {
			l, err := fx.db.FindingList(reader(), q)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, rowIDs(l))
			newer = append(newer, l.Newer)
			if l.Older == 0 {
				break
			}
			if len(pages) > len(all) {
				t.Fatalf("no end after %d pages", len(pages))
			}
			q.After, q.Before = l.Older, 0
		}
		want := [][]int64{all[0:2], all[2:4], all[4:6]}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages forward (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{0, all[2], all[4]}, newer); diff != "" {
			t.Errorf("newer cursors forward (-want +got):\n%s", diff)
		}
		// Back from the last page, newer and newer, to the first.
		back := [][]int64{}
		q.After, q.Before = 0, all[4]
		for {
			l, err := fx.db.FindingList(reader(), q)
			if err != nil {
				t.Fatal(err)
			}
			back = append(back, rowIDs(l))
			if l.Older == 0 {
				t.Errorf("page %v reached going back has no older cursor", rowIDs(l))
			}
			if l.Newer == 0 {
				break
			}
			if len(back) > len(all) {
				t.Fatalf("no start after %d pages", len(back))
			}
			q.After, q.Before = 0, l.Newer
		}
		if diff := cmp.Diff([][]int64{all[2:4], all[0:2]}, back); diff != "" {
			t.Errorf("pages back (-want +got):\n%s", diff)
		}
		// A short page going back: the newest page is not full.
		l, err := fx.db.FindingList(reader(), vigil.FindingListQuery{States: q.States, Before: all[1], Limit: 2})
		if err != nil || !slices.Equal(rowIDs(l), all[0:1]) || l.Newer != 0 || l.Older != all[0] {
			t.Errorf("before the second newest: %v older %d newer %d, %v; want %v older %d", rowIDs(l), l.Older, l.Newer, err, all[0:1], all[0])
		}
	})
}

func TestFindingListInvalid(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		for _, q := range []vigil.FindingListQuery{{Risk: "low"}, {States: []vigil.FindingState{"gone"}}} {
			_, errList := fx.db.FindingList(reader(), q)
			_, errCount := fx.db.CountFindings(reader(), q)
			_, errKey := fx.db.FindingListKey(q)
			for _, err := range []error{errList, errCount, errKey} {
				if vigil.ErrorCode(err) != vigil.EINVALID {
					t.Errorf("%+v: code %q (%v), want %q", q, vigil.ErrorCode(err), err, vigil.EINVALID)
				}
			}
		}
		// Keys tell selections apart, and not cursors or limits.
		k := func(q vigil.FindingListQuery) string {
			s, err := fx.db.FindingListKey(q)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if k(vigil.FindingListQuery{}) != k(vigil.FindingListQuery{After: 5, Limit: 10}) ||
			k(vigil.FindingListQuery{}) == k(vigil.FindingListQuery{DeviceID: fx.pump.ID}) || k(vigil.FindingListQuery{Text: "a"}) == k(vigil.FindingListQuery{Text: "b"}) {
			t.Errorf("keys: %q %q %q", k(vigil.FindingListQuery{}), k(vigil.FindingListQuery{DeviceID: fx.pump.ID}), k(vigil.FindingListQuery{Text: "a"}))
		}
	})
}

func TestViewsAggregates(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		ctx := reader()
		oc, err := fx.db.OpenCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(oc, func(a, b vigil.OpenCount) int { return int(a.VersionID - b.VersionID) })
		wantOC := []vigil.OpenCount{
			{DeviceID: fx.pump.ID, Device: "Pump", VersionID: fx.v1.ID, Version: "1.0", State: vigil.FindingOpen, N: 2},
			{DeviceID: fx.pump.ID, Device: "Pump", VersionID: fx.v2.ID, Version: "2.0", State: vigil.FindingOpen, N: 2},
			{DeviceID: fx.mon.ID, Device: "Monitor", VersionID: fx.v3.ID, Version: "3.1", State: vigil.FindingOpen, N: 1},
		}
		if diff := cmp.Diff(wantOC, oc); diff != "" {
			t.Errorf("open counts (-want +got):\n%s", diff)
		}

		seen, resolved, err := fx.db.FindingDayCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byDay := func(cs []vigil.DayCount) map[string]int {
			m := map[string]int{}
			for _, c := range cs {
				m[c.Day] += c.N
			}
			return m
		}
		if diff := cmp.Diff(map[string]int{"2025-06-02": 2, "2025-06-03": 2, "2025-06-04": 2}, byDay(seen)); diff != "" {
			t.Errorf("first seen by day (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"2025-06-05": 1}, byDay(resolved)); diff != "" {
			t.Errorf("resolved by day (-want +got):\n%s", diff)
		}

		fix, err := fx.db.FixEvents(ctx)
		if err != nil || len(fix) != 1 {
			t.Fatalf("fix events: %+v, %v", fix, err)
		}
		var d vigil.EventData
		if err := json.Unmarshal(fix[0].Details, &d); err != nil || !d.Validated {
			t.Errorf("fix event details %s: %v", fix[0].Details, err)
		}
		got := vigil.FixEvent{CaseID: fix[0].CaseID, Vulnerability: fix[0].Vulnerability, Learned: fix[0].Learned, Date: fix[0].Date}
		want := vigil.FixEvent{CaseID: fx.cases[fx.id["CVE-2021-44228"]], Vulnerability: "CVE-2021-44228", Learned: "2025-06-02", Date: "2025-06-05"}
		if diff := cmp.Diff(want, got); diff != "" || !fix[0].ResolvedAt.IsZero() {
			t.Errorf("fix event (-want +got):\n%s resolved %v", diff, fix[0].ResolvedAt)
		}
	})
}

func TestViewsKEV(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		cat, err := fx.db.KEVCatalog(reader())
		if err != nil || len(cat) != 0 {
			t.Fatalf("before any import: %v, %v; want an empty catalog", cat, err)
		}
		// CVE-2023-0003 is listed but its finding is closed; CVE-2024-9999 is listed and named by no finding.
		fx.importKEV(t, "CVE-2021-44228", "CVE-2023-0003", "CVE-2024-9999")
		cat, err = fx.db.KEVCatalog(reader())
		if err != nil {
			t.Fatal(err)
		}
		var cves []string
		for cve, data := range cat {
			var e vigil.KEVEntry
			if err := json.Unmarshal(data, &e); err != nil || e.CVE != cve {
				t.Errorf("entry %s: %s, %v", cve, data, err)
			}
			cves = append(cves, cve)
		}
		slices.Sort(cves)
		if diff := cmp.Diff([]string{"CVE-2021-44228", "CVE-2023-0003", "CVE-2024-9999"}, cves); diff != "" {
			t.Errorf("catalog (-want +got):\n%s", diff)
		}
		cands, err := fx.db.OpenFindingsForKEV(reader())
		if err != nil {
			t.Fatal(err)
		}
		// The listed CVE's open finding, and the GHSA finding with a CVE alias (the caller checks the alias).
		want := []vigil.KEVCandidate{
			{FindingID: fx.id["CVE-2021-44228"], Vulnerability: "CVE-2021-44228", Device: "Pump"},
			{FindingID: fx.id["GHSA-aaaa-bbbb-cccc"], Vulnerability: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2021-44228"}, Device: "Pump"},
		}
		slices.SortFunc(want, func(a, b vigil.KEVCandidate) int { return int(a.FindingID - b.FindingID) })
		if diff := cmp.Diff(want, cands); diff != "" {
			t.Errorf("candidates (-want +got):\n%s", diff)
		}
	})
}

// TestCaseQueueRows checks the case queue's storage side: one row per live case, the versions it affects now (a
// finding joined through an alias counts its version; a closed finding does not), and its CVE's latest EPSS.
func TestCaseQueueRows(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		_, err := fx.db.ImportIntel(storetest.Admin(), func(w vigil.IntelWriter) error {
			doc, err := w.Document(vigil.NewSourceDoc(vigil.SourceEPSS, "epss", "epss.csv", []byte("cve,epss,percentile")))
			if err != nil {
				return err
			}
			return w.EPSS(doc, []vigil.EPSSScore{{CVE: "CVE-2021-44228", Score: 0.97, Percentile: 0.9995, Date: vigil.NewDate(2025, 6, 1)}})
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := fx.db.CaseQueueRows(reader())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range rows {
			epss := "-"
			if r.EPSS != nil {
				epss = fmt.Sprintf("%s %.4f %s", r.EPSS.CVE, r.EPSS.Percentile, r.EPSS.Date)
			}
			got[r.Case.Vulnerability] = fmt.Sprintf("%s %s %d %s", r.Case.Device, r.Case.State, r.Affected, epss)
		}
		want := map[string]string{
			"CVE-2021-44228": "Pump open 2 CVE-2021-44228 0.9995 2025-06-01", // v1, and v2 through the GHSA's alias
			"CVE-2021-45046": "Pump open 1 -",
			"CVE-2023-0001":  "Pump open 1 -",
			"CVE-2023-0002":  "Monitor open 1 -",
			"CVE-2023-0003":  "Monitor open 0 -", // its one finding is closed
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

func TestViewsAudit(t *testing.T) {
	eachViews(t, func(t *testing.T, fx *viewsFixture) {
		ctx := reader()
		head, err := fx.db.AuditHead(ctx)
		if err != nil || head == 0 {
			t.Fatalf("head = %d, %v", head, err)
		}
		fx.clock.T = fx.clock.T.Add(time.Hour)
		if err := fx.db.Assess(storetest.Admin(), &vigil.Assessment{CaseID: fx.cases[fx.id["CVE-2023-0002"]], Date: vigil.DateOf(fx.clock.T, nil), Risk: "controlled", Rationale: "segmented"}); err != nil {
			t.Fatal(err)
		}
		next, err := fx.db.AuditHead(ctx)
		if err != nil || next <= head {
			t.Fatalf("head after a write = %d, %v; want past %d", next, err, head)
		}
		ch, err := fx.db.AuditChanges(ctx, head, next)
		if err != nil {
			t.Fatal(err)
		}
		want := []vigil.AuditChange{{Seq: next, Action: "case.assess", ObjectType: "case", ObjectID: strconv.FormatInt(fx.cases[fx.id["CVE-2023-0002"]], 10)}}
		if diff := cmp.Diff(want, ch); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		if all, err := fx.db.AuditChanges(ctx, 0, head); err != nil || len(all) != int(head) {
			t.Errorf("changes up to the old head: %d, %v; want %d", len(all), err, head)
		}
		if none, err := fx.db.AuditChanges(ctx, next, next); err != nil || len(none) != 0 {
			t.Errorf("changes after the head: %v, %v", none, err)
		}

		ids, err := fx.db.AssessedCaseIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		var wantIDs []int64
		for _, f := range fx.ids("CVE-2021-44228", "CVE-2021-45046", "CVE-2023-0001", "CVE-2023-0002") {
			if c := fx.cases[f]; !slices.Contains(wantIDs, c) {
				wantIDs = append(wantIDs, c)
			}
		}
		slices.Sort(wantIDs)
		if diff := cmp.Diff(wantIDs, ids); diff != "" {
			t.Errorf("assessed (-want +got):\n%s", diff)
		}
		// GHSA-aaaa-bbbb-cccc's case is CVE-2021-44228's (an alias, the same device).
		for vuln, want := range map[string]bool{"CVE-2021-45046": true, "GHSA-aaaa-bbbb-cccc": true, "CVE-2023-0003": false} {
			if got, err := fx.db.HasAssessment(ctx, fx.cases[fx.id[vuln]]); err != nil || got != want {
				t.Errorf("HasAssessment(%s) = %v, %v; want %v", vuln, got, err, want)
			}
		}
		if got, err := fx.db.HasAssessment(ctx, 1<<40); err != nil || got {
			t.Errorf("HasAssessment(unknown) = %v, %v; want false", got, err)
		}
	})
}

// TestViewsNeedSignIn checks that every read model refuses a caller who is not signed in.
func TestViewsNeedSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		calls := map[string]func() error{
			"AuditHead":          func() error { _, err := db.AuditHead(ctx); return err },
			"AuditChanges":       func() error { _, err := db.AuditChanges(ctx, 0, 1); return err },
			"AssessedCaseIDs":    func() error { _, err := db.AssessedCaseIDs(ctx); return err },
			"UnassessedCases":    func() error { _, err := db.UnassessedCases(ctx); return err },
			"HasAssessment":      func() error { _, err := db.HasAssessment(ctx, 1); return err },
			"CountFindings":      func() error { _, err := db.CountFindings(ctx, vigil.FindingListQuery{}); return err },
			"FindingList":        func() error { _, err := db.FindingList(ctx, vigil.FindingListQuery{}); return err },
			"OpenCounts":         func() error { _, err := db.OpenCounts(ctx); return err },
			"FindingDayCounts":   func() error { _, _, err := db.FindingDayCounts(ctx); return err },
			"FixEvents":          func() error { _, err := db.FixEvents(ctx); return err },
			"KEVCatalog":         func() error { _, err := db.KEVCatalog(ctx); return err },
			"OpenFindingsForKEV": func() error { _, err := db.OpenFindingsForKEV(ctx); return err },
			"CaseQueueRows":      func() error { _, err := db.CaseQueueRows(ctx); return err },
		}
		for name, call := range calls {
			if err := call(); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
				t.Errorf("%s: code %q (%v), want %q", name, vigil.ErrorCode(err), err, vigil.EUNAUTHORIZED)
			}
		}
	})
}
