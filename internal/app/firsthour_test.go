package app_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestBrowserFirstHour walks the README's first hour in headless Chromium on a store set up as `vigil init` sets
// it up (an organization and its first admin, no demo): sign in, add a device and a version with the screens' own
// forms, upload the real medical-device SBOM of examples/ against the examples' real intelligence, see the
// matches, assess one, record the customer notice and see the clocks change. On the deadlines screen no calendar
// entry is cut: each fits its cell, and each day's cell shows every entry (they were clipped at one line and at a
// fixed height).
func TestBrowserFirstHour(t *testing.T) {
	ui := newChromium(t, "first-hour", 8*time.Minute)
	ctx := app.CLIContext(context.Background())
	a, err := app.Open(ctx, storetest.MigratedDSN(t, "sqlite"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	unsigned(t, a)
	// What `vigil init` writes (its own test runs it): the organization, then its first admin.
	const pw = "correct horse battery staple"
	if err := a.Accounts.CreateUser(ctx, &vigil.User{Name: "alice", Role: vigil.RoleAdmin}, pw); err != nil {
		t.Fatal(err)
	}
	if err := a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Acme Medical", TimeZone: "America/Chicago", CVDAckDays: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Intel.Import(ctx, []string{"../../examples/intel"}, vigil.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler(app.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	sbomPath, err := filepath.Abs("../../examples/sbom.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL

	ui.do("sign in", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("input[name=name]")),
		chromedp.SendKeys(chromedp.CSS("input[name=name]"), "alice"), chromedp.SendKeys(chromedp.CSS("input[name=password]"), pw),
		chromedp.Click(chromedp.CSS("section.login button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("section.tiles")))
	ui.do("add a device", chromedp.Navigate(base+"/devices"), chromedp.Click(chromedp.CSS("details.panel summary")),
		chromedp.SendKeys(chromedp.CSS(`form[action="/devices"] input[name=name]`), "Infusion Pump IP-3"),
		chromedp.SetValue(chromedp.CSS(`form[action="/devices"] select[name=class]`), "II"),
		chromedp.SetValue(chromedp.CSS(`form[action="/devices"] select[name=pathway]`), "510k"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/devices"] input[name=submission_number]`), "K201234"),
		chromedp.Click(chromedp.CSS(`form[action="/devices"] input[name=cyber_device]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action="/devices"] textarea[name=functions]`), "dose delivery: catastrophic\nocclusion alarm: critical"),
		chromedp.Click(chromedp.CSS(`form[action="/devices"] button[type=submit]`)),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Device created")]`))
	ui.do("add a version", chromedp.Click(chromedp.CSS("details summary")),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/versions"] input[name=version]`), "3.2.1"),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/versions"] input[name=units_fielded]`), "5100"),
		chromedp.Click(chromedp.CSS(`form[action$="/versions"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#sbom-upload")))
	ui.shot("first-hour-01-version")
	ui.do("upload the SBOM", chromedp.SetUploadFiles(chromedp.CSS("#sbom-upload input[type=file]"), []string{sbomPath}),
		chromedp.Click(chromedp.CSS("#sbom-upload button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#upload-result")))
	if got := ui.text("#upload-result"); !strings.Contains(got, "3 new findings opened") {
		t.Fatalf("upload result: %q", got)
	}
	ui.do("see the matches", chromedp.Click(chromedp.CSS("#upload-result a")), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if got := ui.text("table.list"); !strings.Contains(got, "CVE-2022-25640") || !strings.Contains(got, "CVE-2022-25638") || !strings.Contains(got, "GHSA-5crp-9r3c-p9vr") {
		t.Fatalf("findings: %q", got)
	}
	ui.shot("first-hour-02-findings")
	ui.do("open the wolfSSL finding", chromedp.Click(`//a[text()="CVE-2022-25640"]/ancestor::tr//td[1]/a`), chromedp.WaitVisible(chromedp.CSS("#assess")))
	ui.do("assess", chromedp.SendKeys(chromedp.CSS("#cvss"), "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"),
		chromedp.WaitVisible(chromedp.CSS("#cvss-result b.score")),
		chromedp.Click(chromedp.CSS(`#assess input[name=function][value="dose delivery"]`)),
		chromedp.SendKeys(chromedp.CSS("#assess textarea[name=rationale]"), "A client without a certificate reaches the dose-programming interface."),
		chromedp.Click(chromedp.CSS("#assess button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Assessment recorded")]`))
	if got := ui.text("#determination"); !strings.Contains(got, "uncontrolled") {
		t.Fatalf("determination: %q", got)
	}
	if before := ui.text("#clocks"); !strings.Contains(before, "ED 30-day communication") || strings.Contains(before, "Part 806") {
		t.Fatalf("clocks after assessing: %q", before)
	}
	ui.do("record the customer notice", chromedp.SetValue(chromedp.CSS("#event-type"), "customer_notified"),
		chromedp.SendKeys(chromedp.CSS("#record-event input[name=note]"), "Customer notice CN-2026-14"),
		chromedp.Click(chromedp.CSS("#record-event button[type=submit]")),
		chromedp.WaitVisible(`//p[@class="notice" and contains(., "Event recorded")]`))
	if after := ui.text("#clocks"); !strings.Contains(after, "Part 806 report") {
		t.Errorf("clocks after the notice did not change: %q", after)
	}
	ui.shot("first-hour-03-finding")

	// No calendar entry is cut: a vulnerability id wraps inside its day instead of ending in an ellipsis.
	ui.do("open the deadlines", chromedp.Navigate(base+"/deadlines"), chromedp.WaitVisible(chromedp.CSS(".calendar a.due")))
	ui.shot("first-hour-04-deadlines")
	clipped, err := chromedp.Run(ui.ctx, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		for (const a of document.querySelectorAll("table.cal a.due")) {
			if (a.scrollWidth > a.clientWidth + 1) out.push("entry cut: " + a.textContent.trim());
		}
		for (const td of document.querySelectorAll("table.cal td")) {
			if (td.scrollHeight > td.clientHeight + 1) out.push("day cut: " + td.textContent.trim());
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(clipped) > 0 {
		t.Errorf("calendar entries cut on the deadlines screen: %q", clipped)
	}
	// The list of clocks keeps its columns: every cell of a row spans the row (the rule's cell, styled as a side
	// note, had become a block of its own height, off the row's grid).
	misaligned, err := chromedp.Run(ui.ctx, chromedp.Evaluate[[]string](`(() => {
		const out = [];
		for (const tr of document.querySelectorAll("#agenda tbody tr")) {
			const row = tr.getBoundingClientRect();
			for (const td of tr.cells) {
				const r = td.getBoundingClientRect();
				if (getComputedStyle(td).display !== "table-cell" || Math.abs(r.top - row.top) > 1 || Math.abs(r.height - row.height) > 1) {
					out.push(td.textContent.trim());
				}
			}
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(misaligned) > 0 {
		t.Errorf("deadlines table cells off their row: %q", misaligned)
	}
}
