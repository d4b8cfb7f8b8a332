package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/web"
)

func putKEV(t *testing.T, db *store.DB, entries ...vigil.KEVEntry) {
	t.Helper()
	_, err := db.ImportIntel(sys(), func(w vigil.IntelWriter) error {
		raw, _ := json.Marshal(entries)
		doc := vigil.NewSourceDoc(vigil.SourceKEV, "kev", "known_exploited_vulnerabilities.json", raw)
		doc.Records = len(entries)
		ref, err := w.Document(doc)
		if err != nil {
			return err
		}
		return w.KEV(ref, "2025.06.01", entries)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDashboard checks what the dashboard says on both engines: counts, the running clocks soonest first, KEV
// hits, and an overdue clock once its day has passed.
func TestDashboard(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			_, page := c.get("/")
			if !strings.Contains(page, "The CISA KEV catalog has not been imported yet") {
				t.Errorf("without a catalog the dashboard must say so")
			}
			putKEV(t, e.db, vigil.KEVEntry{CVE: "CVE-2021-44228", Vendor: "Apache", Product: "Log4j2", Name: "Apache Log4j2 Remote Code Execution Vulnerability",
				DateAdded: vigil.NewDate(2021, 12, 10), RequiredAction: "Apply updates per vendor instructions.", DueDate: vigil.NewDate(2021, 12, 24), RansomwareUse: "Known"})

			var ov web.Overview
			res, body := c.api("GET", "/api/v1/dashboard", nil)
			if res.StatusCode != 200 || json.Unmarshal([]byte(body), &ov) != nil {
				t.Fatalf("dashboard API: %d %s", res.StatusCode, clip(body))
			}
			var clocks []string
			for _, d := range ov.Clocks {
				clocks = append(clocks, d.Clock+" "+d.Due.String())
			}
			// The unassessed case (the fixture's other finding) shows the date to assess it by.
			if diff := cmp.Diff([]string{"part806 2025-06-16", "ed_communication 2025-07-02", "assess 2025-07-02", "ed_fix 2025-08-01"}, clocks); diff != "" {
				t.Errorf("clocks (-want +got):\n%s", diff)
			}
			if ov.Open != 3 || ov.Uncontrolled != 1 || ov.Unassessed != 2 || !ov.KEVAvailable || len(ov.KEV) != 1 || ov.KEV[0].Vulnerability != "CVE-2021-44228" ||
				ov.KEV[0].KEV == nil || len(ov.ByDevice) != 1 || ov.ByDevice[0].N != 3 || ov.ByDevice[0].Extra != 1 {
				t.Errorf("overview: open %d uncontrolled %d unassessed %d kev %+v by device %+v", ov.Open, ov.Uncontrolled, ov.Unassessed, ov.KEV, ov.ByDevice)
			}
			_, page = c.get("/")
			for _, want := range []string{"CVE-2021-44228", "Apache Log4j2 Remote Code Execution", "ED 30-day communication", "<svg", "Open findings by device"} {
				if !strings.Contains(page, want) {
					t.Errorf("dashboard lacks %q", want)
				}
			}
			if strings.Contains(page, `class="overdue"`) {
				t.Errorf("an overdue clock on 2025-06-02")
			}
			// A month later the 806 clock is overdue: first, and red.
			e.clock.T = time.Date(2025, 7, 3, 14, 0, 0, 0, time.UTC)
			c = e.login(vigil.RoleViewer, password(vigil.RoleViewer)) // the first session has expired
			_, page = c.get("/")
			first := strings.Index(page, `<tr class="overdue">`)
			if first < 0 || !strings.Contains(page[first:first+400], "Part 806 report") || !strings.Contains(page, "17 days overdue") {
				t.Errorf("on 2025-07-03 the 806 clock must lead the list, overdue")
			}
		})
	}
}

// TestDashboardKEVThroughAliases checks that a finding named by another id (a GHSA) whose alias is in the KEV
// catalog is listed, under the CVE, and that a catalog entry no open finding names is not.
func TestDashboardKEVThroughAliases(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			spring := vigil.Component{Name: "spring-beans", Group: "org.springframework", Version: "5.3.17", Purl: "pkg:maven/org.springframework/spring-beans@5.3.17"}
			if _, _, err := e.db.SyncFindings(sys(), e.v2, []vigil.Finding{
				{Component: spring, Vulnerability: "CVE-2022-22965"},
				{Component: spring, Vulnerability: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2099-0001"}},
			}); err != nil {
				t.Fatal(err)
			}
			putKEV(t, e.db,
				vigil.KEVEntry{CVE: "CVE-2099-0001", Name: "Aliased", DateAdded: vigil.NewDate(2025, 1, 2), DueDate: vigil.NewDate(2025, 1, 23)},
				vigil.KEVEntry{CVE: "CVE-2021-44228", Name: "Log4Shell", DateAdded: vigil.NewDate(2021, 12, 10), DueDate: vigil.NewDate(2021, 12, 24)},
				vigil.KEVEntry{CVE: "CVE-2000-0001", Name: "Nobody has it", DateAdded: vigil.NewDate(2021, 12, 10), DueDate: vigil.NewDate(2021, 12, 24)})
			c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			var ov web.Overview
			res, body := c.api("GET", "/api/v1/dashboard", nil)
			if res.StatusCode != 200 || json.Unmarshal([]byte(body), &ov) != nil {
				t.Fatalf("dashboard API: %d %s", res.StatusCode, clip(body))
			}
			got := map[string]string{}
			for _, h := range ov.KEV {
				name := ""
				if h.KEV != nil {
					name = h.KEV.Name
				}
				got[h.Vulnerability] = fmt.Sprintf("%d %s", h.Findings, name)
			}
			want := map[string]string{"CVE-2099-0001": "1 Aliased", "CVE-2021-44228": "1 Log4Shell"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("KEV hits (-want +got):\n%s", diff)
			}
		})
	}
}
