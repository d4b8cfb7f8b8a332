package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/web"
)

var followLink = regexp.MustCompile(`id="follow-link" class="mono" href="(/report/follow/[A-Za-z0-9_-]+)"`)

// reportForm fetches /report as c and returns its CSRF token.
func reportForm(t *testing.T, c *client) string {
	t.Helper()
	res, body := c.get("/report")
	m := csrfField.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("report page: %d", res.StatusCode)
	}
	return m[1]
}

type part struct{ name, file, ctype, body string }

// postMultipart sends a multipart form.
func (c *client) postMultipart(path string, parts ...part) (*http.Response, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.file == "" {
			mw.WriteField(p.name, p.body)
			continue
		}
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file)}
		h["Content-Type"] = []string{p.ctype}
		w, _ := mw.CreatePart(h)
		w.Write([]byte(p.body))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func reportCount(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM intake_reports").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const hostileText = `<script>alert(1)</script><img src=x onerror=alert(2)>`

// TestPublicReportPage files a report through the page as a researcher with hostileText text and an attachment,
// follows it, answers, and checks the refusals: no CSRF token, a filled honeypot, a wrong content type, too many
// files. Each refusal says why and stores nothing; hostileText text is escaped on every page that shows it.
func TestPublicReportPage(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			before := reportCount(t, e)
			res, body := e.anon().get("/report")
			if res.StatusCode != 200 || !strings.Contains(body, "Infusio IP-3") || !strings.Contains(body, `name="website"`) {
				t.Fatalf("report page: %d, lists the device and the honeypot? %s", res.StatusCode, clip(body))
			}
			fields := func(csrf string) []part {
				return []part{{name: "csrf", body: csrf}, {name: "device_id", body: fmt.Sprint(e.device)}, {name: "version", body: "3.2.1"},
					{name: "title", body: "Dose change " + hostileText}, {name: "description", body: hostileText + " [x](javascript:alert(3))"},
					{name: "reporter_email", body: "rae@lab.example"}, {name: "website", body: ""}}
			}
			poc := part{name: "attachments", file: "poc<b>.txt", ctype: "text/plain", body: "curl -X POST http://pump/api/dose\n"}
			refusals := []struct {
				name   string
				parts  func(c *client) []part
				status int
				says   string
			}{
				{"no CSRF cookie or token", func(c *client) []part { return fields("") }, 403, "CSRF"},
				{"wrong CSRF token", func(c *client) []part { reportForm(t, c); return fields("forged") }, 403, "CSRF"},
				{"honeypot filled", func(c *client) []part {
					return append(fields(reportForm(t, c)), part{name: "website", body: "http://spam.example"})
				}, 400, "website"},
				{"HTML as an attachment", func(c *client) []part {
					return append(fields(reportForm(t, c)), part{name: "attachments", file: "x.html", ctype: "text/html", body: "<html><script>x</script>"})
				}, 400, "attachments[0].content_type"},
				{"PNG that is HTML", func(c *client) []part {
					return append(fields(reportForm(t, c)), part{name: "attachments", file: "x.png", ctype: "image/png", body: "<!DOCTYPE html><script>x</script>"})
				}, 400, "attachments[0]"},
				{"too many files", func(c *client) []part {
					ps := fields(reportForm(t, c))
					for range vigil.MaxAttachments + 1 {
						ps = append(ps, poc)
					}
					return ps
				}, 400, "attachments: 6 files"},
				{"oversized title", func(c *client) []part {
					ps := fields(reportForm(t, c))
					ps[3].body = strings.Repeat("t", vigil.MaxReportTitle+1)
					return ps
				}, 400, "title"},
			}
			for _, tt := range refusals {
				c := e.anon()
				res, body := c.postMultipart("/report", tt.parts(c)...)
				if res.StatusCode != tt.status || !strings.Contains(body, tt.says) {
					t.Errorf("%s: %d, want %d saying %q: %s", tt.name, res.StatusCode, tt.status, tt.says, clip(body))
				}
				if strings.Contains(body, "<script>alert(1)") {
					t.Errorf("%s: the refusal page echoes hostileText text unescaped", tt.name)
				}
			}
			if n := reportCount(t, e); n != before {
				t.Fatalf("refusals stored %d reports", n-before)
			}

			researcher := e.anon()
			res, body = researcher.postMultipart("/report", append(fields(reportForm(t, researcher)), poc)...)
			m := followLink.FindStringSubmatch(body)
			if res.StatusCode != http.StatusCreated || m == nil {
				t.Fatalf("filing: %d %s", res.StatusCode, clip(body))
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("the receipt page shows hostileText text unescaped")
			}
			follow := m[1]
			res, body = researcher.get(follow)
			if res.StatusCode != 200 || !strings.Contains(body, `id="report-status">Received`) || strings.Contains(body, "<script>alert") {
				t.Fatalf("follow page: %d %s", res.StatusCode, clip(body))
			}
			reply := csrfField.FindStringSubmatch(body)
			res, _ = researcher.postForm(follow, map[string][]string{"csrf": {reply[1]}, "message": {"Build 77. " + hostileText}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("reply: %d", res.StatusCode)
			}
			// Another browser with the report number but not the link reads nothing; a guessed link neither.
			stranger := e.anon()
			for _, p := range []string{"/report/follow/" + strings.Repeat("A", 43), "/report/follow/" + vigil.ReportNumber(1), follow + "x"} {
				res, body := stranger.get(p)
				if res.StatusCode != http.StatusNotFound || strings.Contains(body, "Build 77") {
					t.Errorf("GET %s: %d, want 404 showing nothing", p, res.StatusCode)
				}
			}

			// The PSIRT sees it escaped, with the attachment as a download only.
			rs, err := e.app.Intake.Reports(sys(), vigil.ReportFilter{})
			if err != nil {
				t.Fatal(err)
			}
			r := rs[len(rs)-1]
			for _, x := range rs {
				if strings.HasPrefix(x.Title, "Dose change") {
					r = x
				}
			}
			if r, err = e.app.Intake.Report(sys(), r.ID); err != nil || len(r.Attachments) != 1 {
				t.Fatalf("the filed report: %v %+v", err, r)
			}
			psirt := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
			for _, p := range []string{"/intake", fmt.Sprintf("/intake/%d", r.ID)} {
				res, body := psirt.get(p)
				if res.StatusCode != 200 || strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || !strings.Contains(body, "&lt;script&gt;") {
					t.Errorf("%s: %d, hostileText text must show escaped", p, res.StatusCode)
				}
			}
			att := fmt.Sprintf("/intake/%d/attachments/%d", r.ID, r.Attachments[0].ID)
			res, body = psirt.get(att)
			if res.StatusCode != 200 || body != poc.body || res.Header.Get("Content-Type") != "application/octet-stream" ||
				res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="poc_b_.txt"`) ||
				!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("attachment download: %d %q %v", res.StatusCode, body, res.Header)
			}
			if res, _ := researcher.get(att); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("the reporter fetching the attachment: %d, want the sign-in page", res.StatusCode)
			}
		})
	}
}

// TestReportAPI files through the JSON API, follows and answers by token, and checks the refusals: a form
// content type (what a cross-site page could send), unknown fields, another report's token, a revoked token.
func TestReportAPI(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.anon()
	in := map[string]any{"product": "Infusio IP-3", "title": "Telnet open", "description": "Port 23 answers.",
		"attachments": []map[string]any{{"name": "scan.txt", "content_type": "text/plain", "data": "UE9SVCAyMyBvcGVuCg=="}}}
	res, body := c.api("POST", "/api/v1/intake", in)
	var out struct {
		Number, Token string
		FollowUp      string `json:"follow_up"`
	}
	if err := json.Unmarshal([]byte(body), &out); res.StatusCode != 201 || err != nil || out.Token == "" || out.FollowUp != "/report/follow/"+out.Token {
		t.Fatalf("filing: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/intake", strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Content-Type", "text/plain")
	if res, body := c.do(req); res.StatusCode != 400 || !strings.Contains(body, "application/json") {
		t.Errorf("text/plain body: %d %s", res.StatusCode, body)
	}
	if res, body := c.api("POST", "/api/v1/intake", map[string]any{"title": "x", "description": "x", "product": "x", "is_admin": true}); res.StatusCode != 400 || !strings.Contains(body, "is_admin") {
		t.Errorf("unknown field: %d %s", res.StatusCode, body)
	}
	res, body = c.api("POST", "/api/v1/intake/reply", map[string]string{"token": out.Token, "message": "Also port 2323."})
	if res.StatusCode != 201 || !strings.Contains(body, "Also port 2323.") {
		t.Fatalf("reply: %d %s", res.StatusCode, body)
	}
	other := e.reports["received"][1]
	res, body = c.api("POST", "/api/v1/intake/follow", map[string]string{"token": out.Token})
	if res.StatusCode != 200 || !strings.Contains(body, out.Number) || strings.Contains(body, vigil.ReportNumber(other)+`"`) {
		t.Errorf("follow: %d %s", res.StatusCode, body)
	}
	id, _ := vigil.ParseReportNumber(out.Number)
	if err := e.app.Intake.RevokeLink(sys(), id, "test"); err != nil {
		t.Fatal(err)
	}
	for p, body := range map[string]map[string]string{"/api/v1/intake/follow": {"token": out.Token}, "/api/v1/intake/reply": {"token": out.Token, "message": "x"}} {
		if res, got := c.api("POST", p, body); res.StatusCode != 401 || !strings.Contains(got, "revoked") {
			t.Errorf("%s with a revoked token: %d %s", p, res.StatusCode, got)
		}
	}
}

// TestReportRateLimits sends a burst from one address and from many (through a trusted proxy's
// X-Forwarded-For): the per-address limit holds the first, the global cap the second; each refusal is 429 with
// Retry-After, and only the accepted reports are stored.
func TestReportRateLimits(t *testing.T) {
	e := newEnv(t, store.SQLite, func(o *app.ServeOptions) {
		o.ReportsPerAddr, o.ReportsPerHour = 3, 8
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	before := reportCount(t, e)
	srv := e.srv.URL
	send := func(addr string) int {
		req, _ := http.NewRequest("POST", srv+"/api/v1/intake", strings.NewReader(`{"product":"P","title":"T","description":"D"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", addr)
		res, body := e.anon().do(req)
		if res.StatusCode == 429 && (res.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many")) {
			t.Errorf("429 without Retry-After or reason: %v %s", res.Header, body)
		}
		return res.StatusCode
	}
	got := map[int]int{}
	for range 6 {
		got[send("198.51.100.7")]++
	}
	if got[201] != 3 || got[429] != 3 {
		t.Errorf("one address: %v, want 3 accepted and 3 refused", got)
	}
	got = map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := send(fmt.Sprintf("203.0.113.%d", i+1))
			mu.Lock()
			got[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[201] != 5 || got[429] != 7 {
		t.Errorf("many addresses: %v, want the global cap's remaining 5 accepted and 7 refused", got)
	}
	if n := reportCount(t, e) - before; n != 8 {
		t.Errorf("%d reports stored, want 8", n)
	}
	// A second server on the same database (behind the same load balancer) has a fresh memory but shares the
	// database's windows: the address and the hour are spent for it too, until the next hour.
	second, err := e.app.WebServer(app.ServeOptions{ReportsPerAddr: 3, ReportsPerHour: 8, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(second)
	defer ts.Close()
	srv = ts.URL
	if code := send("198.51.100.7"); code != 429 {
		t.Errorf("the spent address through a second server: %d, want 429", code)
	}
	if code := send("192.0.2.77"); code != 429 {
		t.Errorf("a new address through a second server once the hour's cap is spent: %d, want 429", code)
	}
	e.clock.T = e.clock.T.Add(time.Hour)
	if code := send("198.51.100.7"); code != 201 {
		t.Errorf("the address an hour later through the second server: %d, want 201", code)
	}
	if n := reportCount(t, e) - before; n != 9 {
		t.Errorf("%d reports stored, want 9", n)
	}
}

// TestSecurityTxt checks RFC 9116's required fields and the dashboard's warning before and after the expiry.
func TestSecurityTxt(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.anon()
	if res, body := c.get("/.well-known/security.txt"); res.StatusCode != 404 || !strings.Contains(body, "set the organization&#39;s CVD contact") {
		t.Errorf("unconfigured: %d %s", res.StatusCode, clip(body))
	}
	org, err := e.app.Portfolio.Orgs(sys())
	if err != nil {
		t.Fatal(err)
	}
	org[0].CVDContact = "psirt@fixture.example"
	if err := e.app.Portfolio.UpdateOrg(sys(), org[0], "CVD contact"); err != nil {
		t.Fatal(err)
	}
	expires := e.clock.T.Add(40 * 24 * time.Hour).Truncate(time.Second)
	if err := e.app.Intake.SetPolicy(sys(), &vigil.CVDPolicy{Expires: expires, Languages: []string{"en", "de"}, BaseURL: "https://psirt.fixture.example/"}, "publish"); err != nil {
		t.Fatal(err)
	}
	res, body := c.get("/.well-known/security.txt")
	want := "# Vulnerability disclosure for Fixture Medical. Reports are acknowledged within 5 working days.\n" +
		"Contact: mailto:psirt@fixture.example\nContact: https://psirt.fixture.example/report\nExpires: " + expires.UTC().Format(time.RFC3339) + "\n" +
		"Preferred-Languages: en, de\nCanonical: https://psirt.fixture.example/.well-known/security.txt\nPolicy: https://psirt.fixture.example/security/policy\n" +
		"CSAF: https://psirt.fixture.example/.well-known/csaf/provider-metadata.json\n"
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" || body != want {
		t.Errorf("security.txt: %d %s\n%s\nwant\n%s", res.StatusCode, res.Header.Get("Content-Type"), body, want)
	}
	withKey, err := web.SecurityTxt(&vigil.CVDPolicy{OrgName: "Fixture Medical", Contact: "psirt@fixture.example", Expires: expires, BaseURL: "https://psirt.fixture.example"}, "0123ABCD")
	if err != nil || !strings.HasSuffix(withKey, "CSAF: https://psirt.fixture.example/.well-known/csaf/provider-metadata.json\nEncryption: https://psirt.fixture.example/.well-known/csaf/openpgp/0123ABCD.asc\n") {
		t.Errorf("security.txt with an OpenPGP key lacks its Encryption field: %v\n%s", err, withKey)
	}
	if res, body := c.get("/security/policy"); res.StatusCode != 200 || !strings.Contains(body, "within 5 working days") || !strings.Contains(body, "Infusio IP-3") {
		t.Errorf("policy page: %d %s", res.StatusCode, clip(body))
	}
	viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	if _, body := viewer.get("/"); strings.Contains(body, "securitytxt-warning") || !strings.Contains(body, `id="intake"`) {
		t.Errorf("dashboard warns 40 days before the expiry, or lacks the intake panel")
	}
	e.clock.T = expires.Add(-10 * 24 * time.Hour)
	viewer = e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	if _, body := viewer.get("/"); !strings.Contains(body, "security.txt expires on") || !strings.Contains(body, "(in 9 days)") {
		t.Errorf("dashboard does not warn 10 days before the expiry")
	}
	e.clock.T = expires.Add(time.Hour)
	viewer = e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	if _, body := viewer.get("/"); !strings.Contains(body, "security.txt expired on") {
		t.Errorf("dashboard does not say security.txt expired")
	}
}

// TestAckClocksAmongDeadlines checks that the acknowledgement clocks show on the deadlines screen and API with
// every other clock, linked to their report, and as of an earlier day only those open then.
func TestAckClocksAmongDeadlines(t *testing.T) {
	e := newEnv(t, store.SQLite)
	tok := e.token(vigil.RoleViewer)
	res, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/deadlines", nil)
	var ds []struct {
		Clock, Report string
		Overdue       bool
	}
	if err := json.Unmarshal([]byte(body), &ds); res.StatusCode != 200 || err != nil {
		t.Fatalf("deadlines: %d %v", res.StatusCode, err)
	}
	acks := 0
	for _, d := range ds {
		if d.Clock == "cvd_ack" {
			acks++
			if d.Report == "" || d.Overdue {
				t.Errorf("ack clock: %+v", d)
			}
		}
	}
	// The fixture has two reports received and not acknowledged (the others were acknowledged the same day).
	if acks != 2 {
		t.Errorf("%d acknowledgement clocks among the deadlines, want 2: %s", acks, clip(body))
	}
	c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	if _, page := c.get("/deadlines"); !strings.Contains(page, fmt.Sprintf(`href="/intake/%d"`, e.reports["received"][0])) || !strings.Contains(page, "CVD acknowledgement") {
		t.Errorf("deadlines screen lacks the acknowledgement clock and its link")
	}
	if _, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/deadlines?as_of=2025-06-01", nil); strings.Contains(body, "cvd_ack") {
		t.Errorf("as of the day before any report, an acknowledgement clock: %s", clip(body))
	}
}

// TestCaseDisclosurePage coordinates disclosure on the case page and through the API: a bad CVE id is refused with
// the form kept, a role without intake.write is offered no form and refused, the record shows on the case's
// timeline (reporter-supplied text escaped) and on the page of each report triaged into the case, and the API
// answers with the case carrying every record.
func TestCaseDisclosurePage(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
	page := fmt.Sprintf("/cases/%d", e.log4jCase)
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {c.csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	res, body := c.get(page)
	mustHave(t, "the case page", res.StatusCode, body, `id="disclosure"`, `action="`+page+`/disclosure"`, "Nothing recorded yet.",
		fmt.Sprintf(`href="/intake/%d"`, e.reports["triaged"][0]))
	res, body = c.postForm(page+"/disclosure", form("cve", "CVE-21-1", "cve_assigned_by", "MITRE", "credit", "Rae", "reason", "assigned"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cve: &#34;CVE-21-1&#34; is not a CVE id") || !strings.Contains(body, `value="CVE-21-1"`) {
		t.Errorf("a bad CVE id: %d %s", res.StatusCode, clip(body))
	}
	res, body = c.postForm(page+"/disclosure", form("embargo", "2025-09-01", "partner", "cisa", "partner", "reporter", "other_partners", "Health-ISAC",
		"cve_requested_from", "CISA", "credit", "<script>alert(1)</script> Rae", "reason", "Agreed with the reporter."))
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "#disclosure") {
		t.Fatalf("record: %d %s %s", res.StatusCode, res.Header.Get("Location"), clip(body))
	}
	res, body = c.get(page)
	mustHave(t, "the case page after the record", res.StatusCode, body, `class="tl-disclosure"`, "<b>Disclosure coordination</b>",
		"embargo until 2025-09-01; partners cisa, reporter, Health-ISAC; CVE requested from CISA; credit: &lt;script&gt;alert(1)&lt;/script&gt; Rae — Agreed with the reporter.",
		`value="Health-ISAC"`)
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("the credit line is not escaped on the case page")
	}
	res, body = c.get(fmt.Sprintf("/intake/%d", e.reports["triaged"][0]))
	mustHave(t, "a triaged report's page", res.StatusCode, body, fmt.Sprintf(`href="/cases/%d#disclosure"`, e.log4jCase), "embargo until <b>")

	reg := e.login(vigil.RoleRegulatory, password(vigil.RoleRegulatory))
	res, body = reg.get(page)
	mustHave(t, "the case page as regulatory", res.StatusCode, body, `id="disclosure"`)
	if strings.Contains(body, `action="`+page+`/disclosure"`) {
		t.Error("a role without intake.write is offered the disclosure form")
	}
	if res, _ := reg.postForm(page+"/disclosure", url.Values{"csrf": {reg.csrf}, "reason": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("regulatory records a disclosure: %d", res.StatusCode)
	}

	api := c
	res, body = api.api("POST", "/api/v1"+page+"/disclosure", map[string]any{"embargo": "2025-09-01", "partners": []string{"cisa", "reporter"},
		"cve_requested_from": "CISA", "cve": "CVE-2025-12345", "cve_assigned_by": "CISA", "published": "2025-09-02", "credit": "Rae Searcher", "reason": "CVE assigned."})
	var out cases.Out
	if err := json.Unmarshal([]byte(body), &out); res.StatusCode != 200 || err != nil || len(out.Disclosures) != 2 || out.Disclosures[1].CVE != "CVE-2025-12345" {
		t.Fatalf("API: %d %s", res.StatusCode, clip(body))
	}
	if res, body := api.api("POST", "/api/v1"+page+"/disclosure", map[string]any{"reason": "x", "embargo": "soon"}); res.StatusCode != 400 || !strings.Contains(body, `\"soon\"`) {
		t.Errorf("API with a bad date: %d %s", res.StatusCode, body)
	}
	r, err := e.app.Intake.Report(sys(), e.reports["remediation"][1])
	if err != nil || len(r.Coordination) != 1 || r.Coordination[0].CVE != "CVE-2025-12345" {
		t.Errorf("a report triaged into the case: %+v, %v", r, err)
	}
}
