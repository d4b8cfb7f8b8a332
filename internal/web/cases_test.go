package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/web"
)

// TestCaseQueue checks the case queue on both engines: one row per case with its columns (versions, CVSS, EPSS,
// KEV, severity, determination, next clock and its colour), every filter (the vulnerability one alias-aware and
// equal to the case service's answer), sorting on a column both ways, and the CSV and JSON exports of what is
// shown.
func TestCaseQueue(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			putKEV(t, e.db, vigil.KEVEntry{CVE: "CVE-2021-44228", Name: "Log4Shell", DateAdded: vigil.NewDate(2021, 12, 10), DueDate: vigil.NewDate(2021, 12, 24)})
			if _, err := e.db.ImportIntel(sys(), func(w vigil.IntelWriter) error {
				doc := vigil.NewSourceDoc(vigil.SourceEPSS, "epss", "epss.csv", []byte("cve,epss,percentile"))
				ref, err := w.Document(doc)
				if err != nil {
					return err
				}
				return w.EPSS(ref, []vigil.EPSSScore{{CVE: "CVE-2021-44228", Score: 0.97, Percentile: 0.9995, Date: vigil.NewDate(2025, 6, 1)}})
			}); err != nil {
				t.Fatal(err)
			}
			c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			queue := func(q string) []web.CaseRow {
				t.Helper()
				res, body := c.get("/cases?format=json&" + q)
				var rows []web.CaseRow
				if res.StatusCode != 200 || json.Unmarshal([]byte(body), &rows) != nil {
					t.Fatalf("cases?%s: %d %s", q, res.StatusCode, clip(body))
				}
				return rows
			}
			line := func(r web.CaseRow) string {
				epss, next := "-", "-"
				if r.EPSSPercentile != nil {
					epss = fmt.Sprint(*r.EPSSPercentile)
				}
				if r.Next != nil {
					next = r.Next.Clock + " " + r.Next.Due.String()
				}
				return fmt.Sprintf("%s %s %s v%d cvss=%.1f epss=%s kev=%v %s %s %s %s", r.State, r.Device, r.Vulnerability, r.Versions, r.CVSS, epss, r.KEV,
					r.Severity, r.Determination, next, r.NextStanding)
			}
			lines := func(rows []web.CaseRow) []string {
				out := []string{}
				for _, r := range rows {
					out = append(out, line(r))
				}
				return out
			}
			log4j := "open Infusio IP-3 CVE-2021-44228 v1 cvss=9.8 epss=0.9995 kev=true catastrophic uncontrolled part806 2025-06-16 pending"
			spring := "open Infusio IP-3 CVE-2022-22965 v2 cvss=0.0 epss=- kev=false  provisional assess 2025-07-02 pending"
			// Default: open and needs review, the next clock first.
			if diff := cmp.Diff([]string{log4j, spring}, lines(queue(""))); diff != "" {
				t.Errorf("queue (-want +got):\n%s", diff)
			}
			rows := queue("")
			if !slices.Equal(rows[0].Aliases, []string{"GHSA-jfh8-c2jp-5v3q"}) {
				t.Errorf("aliases of the log4j case: %v", rows[0].Aliases)
			}
			springCase := rows[1].ID
			// The dashboard counts the queue and links to it; its clocks link to their cases.
			res, body := c.get("/")
			mustHave(t, "the dashboard", res.StatusCode, body, `href="/cases"><b>2</b> open cases`, `href="/cases?uncontrolled=1"><b>2</b> uncontrolled or not assessed cases`,
				fmt.Sprintf(`href="/cases/%d#clocks"`, rows[0].ID))
			// The vulnerability filter answers as the case service does: by the id or any alias.
			for _, vuln := range []string{"GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228", "CVE-2022-22965", "CVE-2000-0001"} {
				want := []int64{}
				cs, err := e.app.Cases.Cases(sys(), vigil.CaseFilter{Vuln: vuln})
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range cs {
					want = append(want, x.ID)
				}
				got := []int64{}
				for _, r := range queue("vuln=" + vuln) {
					got = append(got, r.ID)
				}
				if len(want) == 0 && vuln != "CVE-2000-0001" || !slices.Equal(want, got) {
					t.Errorf("vuln=%s: queue %v, case service %v", vuln, got, want)
				}
			}
			for q, want := range map[string][]string{
				"kev=1":                                 {log4j},
				"uncontrolled=1":                        {log4j, spring}, // provisional counts as uncontrolled
				fmt.Sprintf("device=%d", e.device):      {log4j, spring},
				fmt.Sprintf("device=%d", e.device+1000): {},
				"state=closed":                          {},
				"sort=versions":                         {log4j, spring},
				"sort=versions&desc=1":                  {spring, log4j},
				"sort=determination":                    {spring, log4j},
				"sort=epss&desc=1":                      {log4j, spring},
				"sort=vulnerability&desc=1":             {spring, log4j},
			} {
				if diff := cmp.Diff(want, lines(queue(q))); diff != "" {
					t.Errorf("%s (-want +got):\n%s", q, diff)
				}
			}
			res, body = c.get("/cases?sort=priority")
			if res.StatusCode != 400 || !strings.Contains(body, "sort: &#34;priority&#34; is not one of") {
				t.Errorf("an unknown sort column: %d %s", res.StatusCode, clip(body))
			}
			// The owner: given on the case, the queue shows it and filters by it (- for nobody).
			if err := e.app.Cases.SetCaseOwner(sys(), e.log4jCase, vigil.RolePSIRT, "On call."); err != nil {
				t.Fatal(err)
			}
			for q, want := range map[string][]string{"owner=psirt": {"CVE-2021-44228 psirt"}, "owner=-": {"CVE-2022-22965 "}, "owner=viewer": nil} {
				var got []string
				for _, r := range queue(q) {
					got = append(got, r.Vulnerability+" "+r.Owner)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", q, diff)
				}
			}
			// D0 corrected: the date to assess by moves with it at once.
			if err := e.app.Cases.SetLearned(sys(), springCase, vigil.NewDate(2025, 6, 1), "The supplier's bulletin came a day earlier.", "Bulletin SB-3"); err != nil {
				t.Fatal(err)
			}
			if got := queue("vuln=CVE-2022-22965"); len(got) != 1 || got[0].Next == nil || got[0].Next.Due != vigil.NewDate(2025, 7, 1) {
				t.Errorf("after correcting D0 to 2025-06-01: %v", lines(got))
			}
			// A month on, the unassessed case's date to be assessed by has passed: red.
			e.clock.T = time.Date(2025, 7, 3, 14, 0, 0, 0, time.UTC)
			c = e.login(vigil.RoleViewer, password(vigil.RoleViewer)) // the session ended in the month
			if got := queue("vuln=CVE-2022-22965"); len(got) != 1 || got[0].NextStanding != "overdue" || got[0].Next == nil || !got[0].Next.Overdue {
				t.Errorf("the unassessed case on 2025-07-03: %v", lines(got))
			}
			// Closed, the case leaves the default queue and is listed under closed.
			if err := e.app.Cases.SetCaseState(sys(), springCase, vigil.CaseClosed, "Not shipped in any fielded unit.", nil); err != nil {
				t.Fatal(err)
			}
			if rows := queue(""); len(rows) != 1 || rows[0].Vulnerability != "CVE-2021-44228" {
				t.Errorf("after closing: %v", lines(rows))
			}
			if rows := queue("state=closed"); len(rows) != 1 || rows[0].ID != springCase || rows[0].Next != nil || rows[0].NextStanding != "not_required" {
				t.Errorf("closed: %v", lines(rows))
			}
			// The CSV export is the same rows with the columns the screen shows.
			res, body = c.get("/cases?format=csv&state=all&sort=determination&desc=1")
			recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if res.StatusCode != 200 || err != nil || len(recs) != 3 {
				t.Fatalf("CSV: %d %v %q", res.StatusCode, err, clip(body))
			}
			if diff := cmp.Diff([]string{"id", "state", "device", "vulnerability", "aliases", "owner", "versions", "cvss", "epss_percentile", "kev", "severity",
				"determination", "next_clock", "next_due", "next_standing"}, recs[0]); diff != "" {
				t.Errorf("CSV header (-want +got):\n%s", diff)
			}
			if got := strings.Join(recs[1][1:], "|"); got != "open|Infusio IP-3|CVE-2021-44228|GHSA-jfh8-c2jp-5v3q|psirt|1|9.8|0.9995|yes|catastrophic|uncontrolled|part806|2025-06-16|overdue" {
				t.Errorf("CSV row: %s", got)
			}
			// The screen: the rows link to their case pages, the header sorts.
			res, body = c.get("/cases?state=all")
			mustHave(t, "the queue page", res.StatusCode, body, fmt.Sprintf(`href="/cases/%d"`, springCase), "GHSA-jfh8-c2jp-5v3q",
				`href="/cases?sort=cvss&amp;state=all"`, `<span class="badge st-overdue"`)
		})
	}
}

func mustHave(t *testing.T, what string, status int, body string, wants ...string) {
	t.Helper()
	if status != 200 {
		t.Fatalf("%s: %d %s", what, status, clip(body))
	}
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q", what, w)
		}
	}
}

// TestCasePage walks the case page's forms on both engines as the PSIRT would: an event entered by mistake is
// retracted (struck through with its reason) and the determination recovers; every form refuses bad input with the
// service's own message (what `vigil case ...` prints) and keeps the input; D0 is corrected; the case is closed and
// merged; its findings link to it and it lists them.
func TestCasePage(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
			page := fmt.Sprintf("/cases/%d", e.log4jCase)
			post := func(action string, kv ...string) (int, string, string) {
				t.Helper()
				v := url.Values{"csrf": {c.csrf}}
				for i := 0; i+1 < len(kv); i += 2 {
					v.Add(kv[i], kv[i+1])
				}
				res, body := c.postForm(page+"/"+action, v)
				return res.StatusCode, res.Header.Get("Location"), body
			}
			view := func() *cases.View {
				t.Helper()
				v, err := e.app.Cases.CaseView(sys(), e.log4jCase, vigil.Date{})
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			res, body := c.get(page)
			mustHave(t, "the case page", res.StatusCode, body, "Case "+fmt.Sprint(e.log4jCase)+": ", `id="versions"`, fmt.Sprintf(`href="/findings/%d"`, e.log4j),
				`action="`+page+`/events"`, `action="`+page+`/retract"`, `action="`+page+`/learned"`, `action="`+page+`/merge"`, `action="`+page+`/state"`)
			res, body = c.get(fmt.Sprintf("/findings/%d", e.log4j))
			mustHave(t, "the finding page", res.StatusCode, body, `href="`+page+`"`)

			// A serious adverse event entered by mistake: ED criterion 1 fails, the MDR clocks start.
			status, loc, body := post("events", "type", "serious_adverse_event", "date", "2025-06-02", "note", "Complaint CMP-1 (wrong device)")
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, page) {
				t.Fatalf("event: %d %s %s", status, loc, clip(body))
			}
			v := view()
			if v.Determination.EnforcementDiscretion.Status != "failed" || v.Determination.Deadlines.MDR.IsZero() {
				t.Fatalf("after the adverse event: ED %s, MDR due %s", v.Determination.EnforcementDiscretion.Status, v.Determination.Deadlines.MDR)
			}
			ref := fmt.Sprintf("E%d", v.Events[len(v.Events)-1].ID)
			// Without a reason the retraction is refused with the service's message, the form keeps the record.
			want := vigil.ErrorMessage(e.app.Cases.Retract(sys(), &vigil.Retraction{CaseID: e.log4jCase, Record: vigil.RecordRef{Kind: vigil.RecordEvent, ID: v.Events[len(v.Events)-1].ID}}))
			status, _, body = post("retract", "record", ref, "reason", "")
			if status != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(want)) || !strings.Contains(body, `value="`+ref+`" selected`) {
				t.Errorf("retract without a reason: %d, want the service's %q: %s", status, want, clip(body))
			}
			status, _, body = post("retract", "record", "Z9", "reason", "typo")
			if status != http.StatusBadRequest || !strings.Contains(body, "record: &#34;Z9&#34;: want A&lt;id&gt;") {
				t.Errorf("retract Z9: %d %s", status, clip(body))
			}
			status, _, body = post("retract", "record", ref, "reason", "Entered on the wrong case: CMP-1 is about the IP-2.")
			if status != http.StatusSeeOther {
				t.Fatalf("retract: %d %s", status, clip(body))
			}
			v = view()
			if v.Determination.EnforcementDiscretion.Status == "failed" || !v.Determination.Deadlines.MDR.IsZero() || len(v.Withdrawn) != 1 {
				t.Errorf("after the retraction: ED %s, MDR due %s, %d withdrawn", v.Determination.EnforcementDiscretion.Status, v.Determination.Deadlines.MDR, len(v.Withdrawn))
			}
			res, body = c.get(page)
			mustHave(t, "the case page after the retraction", res.StatusCode, body, `id="record-`+ref+`"`, "<del><b>Serious adverse event", "Entered on the wrong case: CMP-1 is about the IP-2.")

			// A dated assessment, entered later than its date, shows both dates.
			e.clock.T = time.Date(2025, 6, 9, 14, 0, 0, 0, time.UTC)
			c = e.login(vigil.RolePSIRT, password(vigil.RolePSIRT)) // the session ended in the week
			status, _, body = post("assess", "cvss", "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:N", "function", "dose delivery", "date", "2025-06-05",
				"rationale", "Re-assessed after the segmentation guide.")
			if status != http.StatusSeeOther {
				t.Fatalf("assess: %d %s", status, clip(body))
			}
			res, body = c.get(page)
			mustHave(t, "the case page after the re-assessment", res.StatusCode, body, "2025-06-05", "entered 2025-06-09")
			status, _, body = post("assess", "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "function", "dose delivery", "date", "2025-06-05")
			if status != http.StatusBadRequest || !strings.Contains(body, "rationale: required") || !strings.Contains(body, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") {
				t.Errorf("assess without a rationale: %d %s", status, clip(body))
			}

			// D0 corrected with a reason and evidence; without evidence it is refused with the service's message.
			want = vigil.ErrorMessage(e.app.Cases.SetLearned(sys(), e.log4jCase, vigil.NewDate(2025, 6, 1), "earlier mail", ""))
			status, _, body = post("learned", "date", "2025-06-01", "reason", "earlier mail", "evidence", "")
			if status != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(want)) {
				t.Errorf("learned without evidence: %d, want %q: %s", status, want, clip(body))
			}
			if status, _, body = post("learned", "date", "2025-06-01", "reason", "The researcher wrote a day earlier.", "evidence", "Mail MSG-88"); status != http.StatusSeeOther {
				t.Fatalf("learned: %d %s", status, clip(body))
			}
			if v = view(); !v.Case.Learned.Equal(vigil.NewDate(2025, 6, 1)) {
				t.Errorf("D0 after the correction: %s", v.Case.Learned)
			}

			// Closed with a reason, then merged into the spring case: the page follows the merge.
			if status, _, body = post("state", "state", "closed", "reason", ""); status != http.StatusBadRequest || !strings.Contains(body, "reason") {
				t.Errorf("close without a reason: %d %s", status, clip(body))
			}
			if status, _, body = post("state", "state", "closed", "reason", "Fix distributed to every fielded unit."); status != http.StatusSeeOther {
				t.Fatalf("close: %d %s", status, clip(body))
			}
			if v = view(); v.Case.State != vigil.CaseClosed {
				t.Errorf("state after closing: %s", v.Case.State)
			}
			if status, _, body = post("merge", "into", "x", "reason", "same"); status != http.StatusBadRequest || !strings.Contains(body, "into: the number of the case") {
				t.Errorf("merge into x: %d %s", status, clip(body))
			}
			if status, _, body = post("merge", "into", fmt.Sprint(e.springCase), "reason", "One report under two ids."); status != http.StatusSeeOther {
				t.Fatalf("merge: %d %s", status, clip(body))
			}
			res, _ = c.get(page)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/cases/%d", e.springCase) {
				t.Errorf("the merged case's page: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			// A viewer sees the case and none of its forms.
			res, body = e.login(vigil.RoleViewer, password(vigil.RoleViewer)).get(fmt.Sprintf("/cases/%d", e.springCase))
			mustHave(t, "the case page as a viewer", res.StatusCode, body, `id="versions"`)
			if strings.Contains(body, `/retract"`) || strings.Contains(body, `/events"`) {
				t.Errorf("a viewer is offered the case's forms")
			}
		})
	}
}

// TestCaseBulk checks the queue's bulk actions on both engines: one reason for several cases, each case changed by
// its own service call and audited on its own; a refused action says which case and changes none after it; a
// viewer is offered no bulk form and is refused.
func TestCaseBulk(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
			both := []string{fmt.Sprint(e.log4jCase), fmt.Sprint(e.springCase)}
			bulk := func(kv ...string) (int, string, string) {
				t.Helper()
				v := url.Values{"csrf": {c.csrf}, "case": both, "back": {"state=all&sort=id"}}
				for i := 0; i+1 < len(kv); i += 2 {
					v.Set(kv[i], kv[i+1])
				}
				res, body := c.postForm("/cases/bulk", v)
				return res.StatusCode, res.Header.Get("Location"), body
			}
			audited := func(action string) map[string]string {
				t.Helper()
				evs, err := e.app.Audit.Events(sys(), vigil.AuditFilter{Action: action, ObjectType: "case"})
				if err != nil {
					t.Fatal(err)
				}
				out, times := map[string]string{}, map[string]time.Time{} // the newest event of each case
				for _, ev := range evs {
					if _, ok := out[ev.ObjectID]; !ok || ev.Time.After(times[ev.ObjectID]) {
						out[ev.ObjectID], times[ev.ObjectID] = ev.Reason, ev.Time
					}
				}
				return out
			}
			res, body := c.get("/cases")
			mustHave(t, "the queue as PSIRT", res.StatusCode, body, `action="/cases/bulk"`, fmt.Sprintf(`name="case" value="%d"`, e.springCase))

			// Assess both with one recorded risk: two assessments, each audited under its case.
			status, loc, body := bulk("action", "assess", "risk", "controlled", "risk_reason", "The pump's network service is disabled in every shipped configuration.",
				"date", "2025-06-02", "rationale", "Field configuration audit FCA-9.")
			if status != http.StatusSeeOther || loc != "/cases?done=bulk&sort=id&state=all" {
				t.Fatalf("bulk assess: %d %q %s", status, loc, clip(body))
			}
			for _, id := range []int64{e.log4jCase, e.springCase} {
				v, err := e.app.Cases.CaseView(sys(), id, vigil.Date{})
				if err != nil {
					t.Fatal(err)
				}
				if n := len(v.Assessments); n == 0 || v.Assessments[n-1].Risk != vigil.RiskControlled || !strings.Contains(v.Assessments[n-1].Rationale, "FCA-9") {
					t.Errorf("case %d after the bulk assessment: %+v", id, v.Assessments)
				}
			}
			if got := audited("case.assess"); !strings.Contains(got[both[0]], "FCA-9") || !strings.Contains(got[both[1]], "FCA-9") {
				t.Errorf("case.assess audit events: %v", got)
			}
			// Closing without a reason is refused with the service's message; nothing changes. The cases close in one
			// transaction: one that cannot be closed (here no such case) leaves the others open, and is named.
			status, _, body = bulk("action", "state", "state", "closed", "reason", "")
			if status != http.StatusBadRequest || !strings.Contains(body, "No case was changed: reason: required") {
				t.Errorf("bulk close without a reason: %d %s", status, clip(body))
			}
			res, body = c.postForm("/cases/bulk", url.Values{"csrf": {c.csrf}, "case": append(both, "9999"), "action": {"state"}, "state": {"closed"}, "reason": {"Not shipped."}})
			if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "case 9999 not found") {
				t.Errorf("bulk close of two cases and one that does not exist: %d %s", res.StatusCode, clip(body))
			}
			if got := audited("case.state"); len(got) != 0 {
				t.Errorf("a refused bulk close changed cases: %v", got)
			}
			status, _, body = bulk("action", "state", "state", "closed", "reason", "Not shipped in any fielded unit.")
			if status != http.StatusSeeOther {
				t.Fatalf("bulk close: %d %s", status, clip(body))
			}
			if diff := cmp.Diff(map[string]string{both[0]: "Not shipped in any fielded unit.", both[1]: "Not shipped in any fielded unit."}, audited("case.state")); diff != "" {
				t.Errorf("case.state audit events (-want +got):\n%s", diff)
			}
			rows := []web.CaseRow{}
			res, body = c.get("/cases?format=json&state=closed")
			if json.Unmarshal([]byte(body), &rows) != nil || len(rows) != 2 {
				t.Errorf("closed cases after the bulk close: %d %s", res.StatusCode, clip(body))
			}
			// Assign both, then set one VEX status on every version each affects: one audited record per case (owner)
			// and per version (VEX).
			if status, _, body := bulk("action", "owner", "owner", "psirt", "owner_reason", "Triage rota week 23."); status != http.StatusSeeOther {
				t.Fatalf("bulk assign: %d %s", status, clip(body))
			}
			if diff := cmp.Diff(map[string]string{both[0]: "Triage rota week 23.", both[1]: "Triage rota week 23."}, audited("case.owner")); diff != "" {
				t.Errorf("case.owner audit events (-want +got):\n%s", diff)
			}
			status, _, body = bulk("action", "vex", "vex", "not_affected", "statement", "")
			if status != http.StatusBadRequest || !strings.Contains(body, "justification: not_affected needs") {
				t.Errorf("bulk not_affected without a why: %d %s", status, clip(body))
			}
			if status, _, body := bulk("action", "vex", "vex", "not_affected", "justification", "code_not_reachable", "statement", "The service is off in shipped configurations.",
				"vex_reason", "Field configuration audit FCA-9."); status != http.StatusSeeOther {
				t.Fatalf("bulk VEX: %d %s", status, clip(body))
			}
			for id, versions := range map[int64]int{e.log4jCase: 1, e.springCase: 2} {
				v, err := e.app.Cases.CaseView(sys(), id, vigil.Date{})
				if err != nil {
					t.Fatal(err)
				}
				if v.Case.Owner != "psirt" || len(v.VEX) != versions || v.VEX[0].Justification != vigil.JustCodeNotReachable || v.VEX[0].ImpactStatement == "" {
					t.Errorf("case %d after bulk assign and VEX: owner %q, VEX %+v", id, v.Case.Owner, v.VEX)
				}
			}
			// A viewer gets no bulk form, and the service refuses the action.
			v := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			res, body = v.get("/cases?state=all")
			if res.StatusCode != 200 || strings.Contains(body, `action="/cases/bulk"`) {
				t.Errorf("a viewer is offered the bulk form: %d", res.StatusCode)
			}
			res, _ = v.postForm("/cases/bulk", url.Values{"csrf": {v.csrf}, "case": both, "action": {"state"}, "state": {"open"}, "reason": {"x"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("a viewer's bulk action: %d", res.StatusCode)
			}
		})
	}
}
