package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestBrowserReportFlow drives headless Chromium through issue 12's flow: a researcher reports a vulnerability on
// the public page (no account, an attachment), keeps the follow-up link and sees the report received; a PSIRT
// member signs in, finds it in the inbox with its acknowledgement clock, acknowledges it, triages it into a finding
// and a new case, and coordinates the disclosure on that case (embargo, partners, credit); the researcher's link
// then shows the new status, the disclosure and both messages, and the researcher answers.
// Without Chromium it skips loudly, unless $CI is set: then it fails.
func TestBrowserReportFlow(t *testing.T) {
	ui := newChromium(t, "report", 6*time.Minute)
	f := newWebFlow(t, store.SQLite)
	ctx := storetest.Admin()
	if err := f.app.Accounts.CreateUser(ctx, &vigil.User{Name: "pat", Role: vigil.RolePSIRT}, "pat's long passphrase"); err != nil {
		t.Fatal(err)
	}
	fs, err := f.app.Cases.Findings(ctx, vigil.FindingFilter{})
	if err != nil || len(fs) == 0 {
		t.Fatalf("the demo has no finding to triage into: %v", err)
	}
	finding := fs[0].ID
	base := f.srv.URL
	poc := filepath.Join(t.TempDir(), "poc.txt")
	if err := os.WriteFile(poc, []byte("curl -X POST http://pump/api/dose -d rate=999\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The researcher, with no account.
	ui.do("open the report page", chromedp.Navigate(base+"/report"), chromedp.WaitVisible(chromedp.CSS("#report-form")))
	ui.shot("r01-report-form")
	ui.do("fill the report", chromedp.SetValue(chromedp.CSS("#device"), fmt.Sprint(fs[0].DeviceID)),
		chromedp.SendKeys(chromedp.CSS("#title"), "Dose rate changes without a session <script>alert(1)</script>"),
		chromedp.SendKeys(chromedp.CSS("#description"), "POST /api/dose accepts a new rate from anyone on the network."),
		chromedp.SendKeys(chromedp.CSS("textarea[name=steps]"), "curl -X POST http://pump/api/dose -d rate=999"),
		chromedp.SendKeys(chromedp.CSS("input[name=reporter_email]"), "rae@lab.example"),
		chromedp.SetUploadFiles(chromedp.CSS("input[name=attachments]"), []string{poc}),
		chromedp.Click(chromedp.CSS("#report-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#report-filed")))
	number := ui.text("#report-number")
	href, err := chromedp.Run(ui.ctx, chromedp.AttributeValue(chromedp.CSS("#follow-link"), "href"))
	follow := href.Value
	if err != nil || !strings.HasPrefix(follow, "/report/follow/") || !strings.HasPrefix(number, "VR-") {
		t.Fatalf("receipt: %q %q %v", number, follow, err)
	}
	ui.shot("r02-report-received")
	ui.do("follow the report", chromedp.Navigate(base+follow), chromedp.WaitVisible(chromedp.CSS("#report-status")))
	if got := ui.text("#report-status"); got != "Received" {
		t.Fatalf("reporter's status before the acknowledgement: %q", got)
	}

	// The PSIRT.
	ui.do("sign in as the PSIRT", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("input[name=name]")),
		chromedp.SendKeys(chromedp.CSS("input[name=name]"), "pat"), chromedp.SendKeys(chromedp.CSS("input[name=password]"), "pat's long passphrase"),
		chromedp.Click(chromedp.CSS("section.login button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("section.tiles")))
	if got := ui.text("#intake"); !strings.Contains(got, number) {
		t.Errorf("dashboard's acknowledgement clocks lack %s: %q", number, got)
	}
	ui.do("open the inbox", chromedp.Navigate(base+"/intake"), chromedp.WaitVisible(chromedp.CSS("#awaiting")))
	if got := ui.text("#awaiting"); !strings.Contains(got, number) || !strings.Contains(got, "days left") {
		t.Fatalf("inbox: %q", got)
	}
	ui.shot("r03-inbox")
	ui.do("open the report", chromedp.Click(fmt.Sprintf(`//a[text()=%q]`, number)), chromedp.WaitVisible(chromedp.CSS("#ack")))
	if got := ui.text("h1"); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Errorf("the hostile title is not shown as text: %q", got)
	}
	if got := ui.text("#attachments"); !strings.Contains(got, "poc.txt") {
		t.Errorf("attachments: %q", got)
	}
	ui.shot("r04-report-received")
	ui.do("acknowledge", chromedp.Click(chromedp.CSS("#ack button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Report acknowledged")]`), chromedp.WaitVisible(chromedp.CSS("#triage")))
	ui.do("triage into a finding and a new case", chromedp.SendKeys(chromedp.CSS("#triage input[name=findings]"), fmt.Sprint(finding)),
		chromedp.Click(chromedp.CSS("#triage input[name=new_case]")),
		chromedp.SendKeys(chromedp.CSS("#triage textarea[name=message]"), "Confirmed on the pump's current firmware; tracked for remediation."),
		chromedp.Click(chromedp.CSS("#triage button[type=submit]")), chromedp.WaitVisible(`//p[@class="notice" and contains(., "Report triaged")]`))
	if got := ui.text("#report-status"); got != "Triaged" {
		t.Errorf("status after triage: %q", got)
	}
	if got := ui.text("#details"); !strings.Contains(got, fmt.Sprintf("finding %d", finding)) || !strings.Contains(got, "case ") {
		t.Errorf("triage links: %q", got)
	}
	ui.shot("r05-report-triaged")
	// Disclosure is coordinated on the case the report opened (D0 its receipt day), from the report's link to it.
	ui.do("open the new case's disclosure", chromedp.Click(chromedp.CSS(`#coordination a[href$="#disclosure"]`)), chromedp.WaitVisible(chromedp.CSS("#disclosure-form")))
	if got := ui.text("#disclosure"); !strings.Contains(got, number) {
		t.Errorf("the case's disclosure panel does not list %s: %q", number, got)
	}
	ui.do("coordinate the disclosure", chromedp.SetValue(chromedp.CSS(`#disclosure-form input[name=embargo]`), "2027-03-01"),
		chromedp.Click(chromedp.CSS(`#disclosure-form input[name=partner][value=cisa]`)), chromedp.Click(chromedp.CSS(`#disclosure-form input[name=partner][value=reporter]`)),
		chromedp.SendKeys(chromedp.CSS(`#disclosure-form input[name=cve_requested_from]`), "CISA"),
		chromedp.SendKeys(chromedp.CSS(`#disclosure-form input[name=credit]`), "Rae Searcher (Lab)"),
		chromedp.SendKeys(chromedp.CSS(`#disclosure-form input[name=reason]`), "Embargo agreed with the reporter."),
		chromedp.Click(chromedp.CSS("#disclosure-form button[type=submit]")), chromedp.WaitVisible(`//p[@class="notice" and contains(., "Disclosure coordination recorded")]`))
	if got := ui.text("#timeline"); !strings.Contains(got, "Disclosure coordination") || !strings.Contains(got, "embargo until 2027-03-01; partners cisa, reporter; CVE requested from CISA") {
		t.Errorf("the case's timeline lacks the coordination: %q", got)
	}
	ui.shot("r05b-case-disclosure")
	ui.do("sign out", chromedp.Click(chromedp.CSS("form.logout button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("input[name=name]")))

	// The researcher's link shows the change.
	ui.do("follow again", chromedp.Navigate(base+follow), chromedp.WaitVisible(chromedp.CSS("#report-status")))
	if got := ui.text("#report-status"); got != "Triaged" {
		t.Errorf("reporter's status after triage: %q", got)
	}
	if got := ui.text("#coordination"); !strings.Contains(got, "Embargo until 2027-03-01") || !strings.Contains(got, "Credit: “Rae Searcher (Lab)”") {
		t.Errorf("the reporter's view lacks the disclosure coordination: %q", got)
	}
	thread := ui.text("#thread")
	for _, want := range []string{"Thank you for your report", "Confirmed on the pump's current firmware", "PSIRT"} {
		if !strings.Contains(thread, want) {
			t.Errorf("reporter's thread lacks %q: %q", want, thread)
		}
	}
	if strings.Contains(thread, "pat") {
		t.Errorf("the reporter sees the staff member's name: %q", thread)
	}
	ui.do("answer", chromedp.SendKeys(chromedp.CSS("#reply textarea[name=message]"), "Thanks. I can retest a fix."),
		chromedp.Click(chromedp.CSS("#reply button[type=submit]")), chromedp.WaitVisible(`//p[@class="notice" and contains(., "Your message was sent")]`))
	if got := ui.text("#thread"); !strings.Contains(got, "I can retest a fix.") {
		t.Errorf("the reporter's answer is not in the thread: %q", got)
	}
	ui.shot("r06-reporter-view")
}
