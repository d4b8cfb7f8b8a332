package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// The end-to-end flow of issue 6, through App.Handler as `vigil serve` runs it: sign in, import advisories, upload a
// device version's SBOM, see the new findings, assess one as an uncontrolled risk, record the customer notice and
// see the clocks change.

// flowSBOM names two Go modules that real go-vulndb advisories (in the shared fixtures) affect.
const flowSBOM = `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
 "metadata": {"component": {"type": "firmware", "name": "Infusio IP-3", "version": "3.2.1"}},
 "components": [
  {"type": "library", "name": "github.com/gin-gonic/gin", "version": "v1.9.0", "purl": "pkg:golang/github.com/gin-gonic/gin@v1.9.0"},
  {"type": "library", "name": "golang.org/x/crypto", "version": "v0.31.0", "purl": "pkg:golang/golang.org/x/crypto@v0.31.0"},
  {"type": "library", "name": "github.com/google/uuid", "version": "v1.6.0", "purl": "pkg:golang/github.com/google/uuid@v1.6.0"}]}`

var flowAdvisories = []string{"GO-2023-1737.json", "GO-2025-3487.json"}

type webFlow struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	pw    string
	clock *storetest.Clock
}

// flowSeed is the demo seeded once per engine on the flows' clock, its acts' signatures not required; its value is
// the admin's password and the clock's time after the seeding.
var flowSeed storetest.Seed[flowSeeded]

type flowSeeded struct {
	pw string
	at time.Time
}

func newWebFlow(t *testing.T, engine string) *webFlow {
	t.Helper()
	open := func(t testing.TB, dsn string, clock *storetest.Clock) *app.App {
		t.Helper()
		a, err := app.Open(context.Background(), dsn, clock)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	dsn, seeded := flowSeed.DSN(t, engine, func(t testing.TB, dsn string) flowSeeded {
		clock := storetest.NewClock(time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC))
		a := open(t, dsn, clock)
		defer a.Close()
		pw, err := a.SeedDemo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		unsigned(t, a) // the demo signs its own acts; the flows' acts are not about signing
		return flowSeeded{pw: pw, at: clock.T}
	})
	clock := storetest.NewClock(seeded.at)
	a := open(t, dsn, clock)
	t.Cleanup(func() { a.Close() })
	clock.T = seeded.at // the clock goes on from where the seeding left it
	h, err := a.Handler(app.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &webFlow{t: t, app: a, srv: srv, pw: seeded.pw, clock: clock}
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (f *webFlow) signIn(name, pw string) *browser {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: f.t, base: f.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := b.get("/login")
	res, _ := b.post("/login", url.Values{"csrf": {csrfRe.FindStringSubmatch(body)[1]}, "name": {name}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign in: %d", res.StatusCode)
	}
	_, body = b.get("/account")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		f.t.Fatal("no session after signing in")
	}
	b.csrf = m[1]
	return b
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) get(p string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.base+p, nil)
	return b.do(req)
}

func (b *browser) post(p string, v url.Values) (*http.Response, string) {
	if b.csrf != "" {
		v.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.base+p, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// upload posts a file as a browser form does (the CSRF token first, then the file).
func (b *browser) upload(p, name string, data []byte, fields ...string) (*http.Response, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+p, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// importAdvisories imports the flow's advisories through the API, with the session.
func (f *webFlow) importAdvisories(b *browser) {
	f.t.Helper()
	for _, name := range flowAdvisories {
		data, err := os.ReadFile(testfix.Path(f.t, "osv-advisories", "go-vulndb", "data", "osv", name))
		if err != nil {
			f.t.Fatal(err)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		req, _ := http.NewRequest("POST", b.base+"/api/v1/imports?source=osv", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-CSRF-Token", b.csrf)
		if res, body := b.do(req); res.StatusCode != http.StatusCreated {
			f.t.Fatalf("import %s: %d %s", name, res.StatusCode, body)
		}
	}
}

func (f *webFlow) version(device, version string) int64 {
	f.t.Helper()
	ctx := storetest.Admin()
	d, err := f.app.Portfolio.DeviceByName(ctx, device)
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := f.app.Portfolio.VersionByName(ctx, d.ID, version)
	if err != nil {
		f.t.Fatal(err)
	}
	return v.ID
}

var findingLink = regexp.MustCompile(`<a href="/findings/(\d+)">(\d+)</a></td>\s*<td><a href="/vulns/GO-2023-1737">`)

// clockRow returns the finding page's row of a clock in its Clocks table.
func clockRow(page, clock string) string {
	sec := page[max(strings.Index(page, `id="clocks"`), 0):]
	i := strings.Index(sec, clock+"</td>")
	if i < 0 {
		return ""
	}
	row := sec[i:]
	return row[:max(strings.Index(row, "</tr>"), 0)]
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestWebFlow(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			f := newWebFlow(t, engine)
			b := f.signIn("admin", f.pw)
			f.importAdvisories(b)
			ver := f.version("Infusio IP-3", "3.2.1")

			// The flow's SBOM drops most of the demo SBOM's components: refused until confirmed.
			res, page := b.upload(fmt.Sprintf("/versions/%d/sbom", ver), "ip3-3.2.1.cdx.json", []byte(flowSBOM))
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("shrinking upload: %d", res.StatusCode)
			}
			mustContain(t, "shrinking upload", page, "drops more than half the components", `id="shrink-confirm"`)
			res, page = b.upload(fmt.Sprintf("/versions/%d/sbom", ver), "ip3-3.2.1.cdx.json", []byte(flowSBOM), "allow_shrink", "on")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("upload: %d", res.StatusCode)
			}
			mustContain(t, "upload result", page, "SBOM imported: ip3-3.2.1.cdx.json", "<b>2</b> new findings opened")

			_, page = b.get(fmt.Sprintf("/findings?version=%d", ver))
			mustContain(t, "findings list", page, "GO-2023-1737", "CVE-2023-29401", "GO-2025-3487", "github.com/gin-gonic/gin@v1.9.0")
			m := findingLink.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no link to the gin finding")
			}
			fp := "/findings/" + m[1]
			_, page = b.get(fp)
			mustContain(t, "unassessed finding", page, "not assessed yet: no risk determination", "osv-ecosystem:Go", "1.9.1")

			res, _ = b.post(fp+"/assess", url.Values{"cvss": {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "function": {"dose delivery"},
				"rationale": {"The pump's REST service runs gin; a crafted request reaches the dosing API."}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("assess: %d", res.StatusCode)
			}
			_, page = b.get(fp)
			mustContain(t, "assessed finding", page, `<span class="badge bad">uncontrolled</span>`, "ED 30-day communication", "ED 60-day fix", "2025-07-02", "2025-08-01")
			if strings.Contains(page, "Part 806 report</td>") {
				t.Errorf("a Part 806 clock before any correction was initiated")
			}
			if strings.Contains(page, "</span> due </div>") || strings.Contains(page, "</span> due\n") {
				t.Errorf("a Part 806 status with \"due\" and no date")
			}

			res, _ = b.post(fp+"/events", url.Values{"type": {"customer_notified"}, "date": {"2025-06-02"}, "element": {"a", "b", "c", "d"},
				"note": {"Customer notice CN-2025-031 sent to all consignees"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("record notice: %d", res.StatusCode)
			}
			_, page = b.get(fp)
			// The notice initiates the correction: the 806 clock (10 working days) appears, conditional on ED.
			mustContain(t, "after the notice", page, "Part 806 report</td>", "2025-06-16", "Customer notice CN-2025-031")
			// Customers are notified but the ISAO share due the same day is not: the ED 30-day clock is pending (amber),
			// not met (green).
			if row := clockRow(page, "ED 30-day communication"); !strings.Contains(row, "st-pending") || strings.Contains(row, "st-met") {
				t.Errorf("ED 30-day clock after the notice alone: %s", row)
			}

			_, page = b.get("/")
			mustContain(t, "dashboard", page, "GO-2023-1737", "ED 30-day communication")
			_, page = b.get("/deadlines?format=csv")
			mustContain(t, "deadlines export", page, "Infusio IP-3,CVE-2023-29401,ed_communication,2025-07-02", "part806,2025-06-16")
			_, page = b.get("/vulns/CVE-2023-29401")
			mustContain(t, "vulnerability page", page, "GO-2023-1737", "Infusio IP-3 3.2.1", "osv-ecosystem:Go")

			// Interim controls put in place on day 0 but entered after the ED communication deadline (2025-07-02):
			// criterion 2 judges the date, and the page warns of the late entry, naming the event and its evidence.
			f.clock.T = time.Date(2025, 7, 10, 14, 0, 0, 0, time.UTC)
			b = f.signIn("admin", f.pw)
			res, _ = b.post(fp+"/events", url.Values{"type": {"interim_controls"}, "date": {"2025-06-02"}, "note": {"IFU addendum IA-7: block port 8080"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("record interim controls: %d", res.StatusCode)
			}
			_, page = b.get(fp)
			mustContain(t, "after the late entry", page, "<b>Late entry:</b> interim_controls dated 2025-06-02 was entered on 2025-07-10, after its deadline 2025-07-02",
				"The event: Interim controls on 2025-06-02: IFU addendum IA-7: block port 8080.")
			// The 30-day clock passed without a remediation plan: missed (red), not green "satisfied".
			if row := clockRow(page, "ED 30-day communication"); !strings.Contains(row, "st-missed") || strings.Contains(row, "good") {
				t.Errorf("missed ED 30-day clock: %s", row)
			}
		})
	}
}

// TestBrowserFlow drives Debian's headless Chromium through the same flow, with a screenshot of each main screen
// when $VIGIL_SCREENSHOTS asks for them.
func TestBrowserFlow(t *testing.T) {
	ui := newChromium(t, "flow", 8*time.Minute)
	f := newWebFlow(t, store.SQLite)
	base := f.srv.URL

	ui.do("sign in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("input[name=name]")))
	ui.shot("01-login")
	ui.do("sign in", chromedp.SendKeys(chromedp.CSS("input[name=name]"), "admin"), chromedp.SendKeys(chromedp.CSS("input[name=password]"), f.pw),
		chromedp.Click(chromedp.CSS("section.login button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("section.tiles")))
	ui.shot("02-dashboard-empty")

	// Advisories arrive (as a scheduled sync would bring them).
	jar := f.signIn("admin", f.pw)
	f.importAdvisories(jar)

	ver := f.version("Infusio IP-3", "3.2.1")
	sbomPath := filepath.Join(t.TempDir(), "ip3-3.2.1.cdx.json")
	if err := os.WriteFile(sbomPath, []byte(flowSBOM), 0o600); err != nil {
		t.Fatal(err)
	}
	ui.do("open the version", chromedp.Navigate(fmt.Sprintf("%s/versions/%d", base, ver)), chromedp.WaitVisible(chromedp.CSS("#sbom-upload")))
	ui.shot("03-version")
	// It drops most of the demo SBOM's components: the page shows the diff and asks to confirm.
	ui.do("upload the SBOM", chromedp.SetUploadFiles(chromedp.CSS("#sbom-upload input[type=file]"), []string{sbomPath}),
		chromedp.Click(chromedp.CSS("#sbom-upload button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#shrink-confirm")))
	ui.do("confirm the shrink", chromedp.Click(chromedp.CSS(`#sbom-upload input[name="allow_shrink"]`)),
		chromedp.SetUploadFiles(chromedp.CSS("#sbom-upload input[type=file]"), []string{sbomPath}),
		chromedp.Click(chromedp.CSS("#sbom-upload button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#upload-result")))
	if got := ui.text("#upload-result"); !strings.Contains(got, "2 new findings opened") {
		t.Fatalf("upload result: %q", got)
	}
	ui.shot("04-upload-result")

	ui.do("see the new findings", chromedp.Click(chromedp.CSS("#upload-result a")), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if got := ui.text("table.list"); !strings.Contains(got, "GO-2023-1737") || !strings.Contains(got, "GO-2025-3487") {
		t.Fatalf("findings list: %q", got)
	}
	ui.shot("05-findings")

	ui.do("open the gin finding", chromedp.Click(`//a[text()="GO-2023-1737"]/ancestor::tr//td[1]/a`), chromedp.WaitVisible(chromedp.CSS("#assess")))
	ui.shot("06-finding-unassessed")
	ui.do("assess", chromedp.SendKeys(chromedp.CSS("#cvss"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
		chromedp.WaitVisible(chromedp.CSS("#cvss-result b.score")))
	if got := ui.text("#cvss-result"); !strings.Contains(got, "9.8") {
		t.Errorf("CVSS calculator: %q", got)
	}
	ui.do("assess", chromedp.Click(chromedp.CSS(`#assess input[name=function][value="dose delivery"]`)),
		chromedp.SendKeys(chromedp.CSS("#assess textarea[name=rationale]"), "The pump's REST service runs gin; a crafted request reaches the dosing API."),
		chromedp.Click(chromedp.CSS("#assess button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Assessment recorded")]`), chromedp.WaitVisible(chromedp.CSS("#determination .verdict")))
	if got := ui.text("#determination"); !strings.Contains(got, "uncontrolled") || !strings.Contains(got, "Correction") {
		t.Fatalf("determination after assessing: %q", got)
	}
	before := ui.text("#clocks")
	if !strings.Contains(before, "ED 30-day communication") || strings.Contains(before, "Part 806") {
		t.Fatalf("clocks after assessing: %q", before)
	}
	ui.shot("07-finding-assessed")

	ui.do("record the customer notice", chromedp.SetValue(chromedp.CSS("#event-type"), "customer_notified"),
		chromedp.SendKeys(chromedp.CSS("#record-event input[name=note]"), "Customer notice CN-2025-031 sent to all consignees"),
		chromedp.Click(chromedp.CSS("#record-event button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Event recorded")]`))
	after := ui.text("#clocks")
	if !strings.Contains(after, "Part 806 report") || !strings.Contains(after, "2025-06-16") {
		t.Errorf("clocks after the notice did not change: %q", after)
	}
	ui.shot("08-finding-after-notice")

	// The case queue: filter it by the advisory's id (an alias of the case's CVE), open the case, record a serious
	// adverse event by mistake, retract it, and see the determination recover.
	ui.do("open the case queue", chromedp.Navigate(base+"/cases"), chromedp.WaitVisible(chromedp.CSS("#case-queue")))
	ui.shot("08a-cases")
	ui.do("filter the queue", chromedp.SendKeys(chromedp.CSS("#case-filters input[name=vuln]"), "GO-2023-1737"),
		chromedp.Click(chromedp.CSS("#case-filters button[type=submit]")), chromedp.WaitVisible(`//input[@name="vuln" and @value="GO-2023-1737"]`))
	if got := ui.text("#case-queue tbody"); !strings.Contains(got, "GO-2023-1737") || strings.Contains(got, "GO-2025-3487") || strings.Count(got, "Infusio IP-3") != 1 {
		t.Fatalf("the queue filtered by GO-2023-1737: %q", got)
	}
	ui.do("open the case", chromedp.Click(chromedp.CSS("#case-queue tbody tr td a")), chromedp.WaitVisible(chromedp.CSS("#retract")))
	if got := ui.text("#versions"); !strings.Contains(got, "3.2.1") || !strings.Contains(got, "affected") {
		t.Errorf("the case's versions: %q", got)
	}
	if got := ui.text("#determination"); !strings.Contains(got, "Enforcement discretion Pending") {
		t.Fatalf("the case's determination before the mistake: %q", got)
	}
	ui.shot("08b-case")
	ui.do("record an adverse event by mistake", chromedp.SetValue(chromedp.CSS("#event-type"), "serious_adverse_event"),
		chromedp.SendKeys(chromedp.CSS("#record-event input[name=note]"), "Complaint CMP-7"),
		chromedp.Click(chromedp.CSS("#record-event button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Event recorded")]`))
	if got := ui.text("#determination"); !strings.Contains(got, "Enforcement discretion Failed") || !strings.Contains(ui.text("#clocks"), "MDR") {
		t.Fatalf("after the adverse event: %q / %q", got, ui.text("#clocks"))
	}
	ref, err := chromedp.Run(ui.ctx, chromedp.AttributeValue(`//select[@name="record"]/option[contains(., "Serious adverse event")]`, "value"))
	if err != nil || !ref.Exists {
		t.Fatalf("the adverse event among the records to retract: %v", err)
	}
	ui.do("retract it", chromedp.SetValue(chromedp.CSS("#retract select[name=record]"), ref.Value),
		chromedp.SendKeys(chromedp.CSS("#retract input[name=reason]"), "CMP-7 is about another device."),
		chromedp.Click(chromedp.CSS("#retract button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Record retracted")]`))
	if got := ui.text("#determination"); !strings.Contains(got, "Enforcement discretion Pending") || strings.Contains(ui.text("#clocks"), "MDR") {
		t.Errorf("after the retraction the determination did not recover: %q / %q", got, ui.text("#clocks"))
	}
	if got := ui.text("#record-" + ref.Value); !strings.Contains(got, "retracted") || !strings.Contains(got, "CMP-7 is about another device.") {
		t.Errorf("the retracted record on the timeline: %q", got)
	}
	ui.shot("08c-case-after-retraction")

	for _, p := range []struct{ name, path, sel string }{
		{"09-dashboard", "/", "section.tiles"},
		{"10-deadlines", "/deadlines", ".calendar"},
		{"11-vulnerability", "/vulns/GO-2023-1737", "#affected"},
		{"12-devices", "/devices", "table.list"},
		{"13-sources", "/sources", "h1"},
		{"14-audit", "/audit", "table.list"},
		{"15-users", "/users", "table.list"},
	} {
		ui.do("open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		ui.shot(p.name)
	}
	if got := ui.text("table.list"); !strings.Contains(got, "admin") {
		t.Errorf("users page: %q", got)
	}
}

// TestDeadlinesFollowEveryChange checks the screens' cached clocks against each kind of write: an assessment, an
// event, a device change, closing the case. The cache follows the audit trail, so each shows at once. An
// unassessed case shows the date to assess it by, and a closed case keeps its unmet Part 806 obligation.
func TestDeadlinesFollowEveryChange(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			f := newWebFlow(t, engine)
			b := f.signIn("admin", f.pw)
			f.importAdvisories(b)
			ver := f.version("Infusio IP-3", "3.2.1")
			if res, _ := b.upload(fmt.Sprintf("/versions/%d/sbom", ver), "ip3.cdx.json", []byte(flowSBOM), "allow_shrink", "on"); res.StatusCode != 200 {
				t.Fatalf("upload: %d", res.StatusCode)
			}
			ctx := storetest.Admin()
			fs, err := f.app.Cases.Findings(ctx, vigil.FindingFilter{VersionID: ver, Vuln: "GO-2023-1737"})
			if err != nil || len(fs) != 1 {
				t.Fatalf("finding: %v %v", fs, err)
			}
			caseID := fs[0].CaseID
			clocks := func() []string {
				t.Helper()
				res, body := b.get(fmt.Sprintf("/api/v1/deadlines?device=%d", fs[0].DeviceID))
				if res.StatusCode != 200 {
					t.Fatalf("deadlines: %d", res.StatusCode)
				}
				var ds []struct {
					CaseID int64  `json:"case_id"`
					Clock  string `json:"clock"`
					Due    string `json:"due"`
				}
				json.Unmarshal([]byte(body), &ds)
				var out []string
				for _, d := range ds {
					if d.CaseID == caseID {
						out = append(out, d.Clock+" "+d.Due)
					}
				}
				return out
			}
			want := func(step string, w ...string) {
				t.Helper()
				if diff := cmp.Diff(w, clocks()); diff != "" {
					t.Errorf("%s: clocks (-want +got):\n%s", step, diff)
				}
			}
			want("before any assessment", "assess 2025-07-02")
			if _, err := f.app.Cases.Assess(ctx, cases.AssessInput{CaseID: caseID, CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
				Functions: []string{"dose delivery"}, Rationale: "reaches dosing"}); err != nil {
				t.Fatal(err)
			}
			want("assessed uncontrolled", "ed_communication 2025-07-02", "ed_fix 2025-08-01")
			if err := f.app.Cases.RecordEvent(ctx, &vigil.CaseEvent{CaseID: caseID, Type: "correction_initiated", Date: vigil.NewDate(2025, 6, 2), Note: "CAPA-1"}); err != nil {
				t.Fatal(err)
			}
			want("correction initiated", "part806 2025-06-16", "ed_communication 2025-07-02", "ed_fix 2025-08-01")
			d, err := f.app.Portfolio.Device(ctx, fs[0].DeviceID)
			if err != nil {
				t.Fatal(err)
			}
			d.Functions = append(d.Functions, vigil.ClinicalFunction{Name: "remote programming", Severity: vigil.HarmCritical})
			if err := f.app.Portfolio.UpdateDevice(ctx, d, "threat model review"); err != nil {
				t.Fatal(err)
			}
			want("device changed (everything recomputed)", "part806 2025-06-16", "ed_communication 2025-07-02", "ed_fix 2025-08-01")
			if err := f.app.Cases.SetCaseState(ctx, caseID, vigil.CaseClosed, "fix verified in the field", nil); err != nil {
				t.Fatal(err)
			}
			want("closed: the unmet Part 806 report stays", "part806 2025-06-16")
		})
	}
}
