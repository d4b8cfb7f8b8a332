package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// Payloads as a hostile feed, SBOM or colleague would write them.
const (
	pScript  = `<script>alert("x1")</script>`
	pImg     = `<img src=x onerror=alert(2)>`
	pSVG     = `"><svg onload=alert(3)>`
	pHover   = `<i onmouseover=alert(4)>pump</i>`
	pFormula = `=HYPERLINK("http://evil.example","click")`
)

var badLinks = []string{"mailto:psirt@evil.example", "javascript:alert(5)", " JaVaScRiPt:alert(6)", "data:text/html,<script>alert(7)</script>", "//evil.example/x", "vbscript:msgbox(8)"}

// hostile fills the fixture with script payloads in every place the outside world (or a user) writes text.
func hostile(t *testing.T, e *env) (vulnID string, findingID int64) {
	t.Helper()
	db := e.db
	ctx := sys()
	var refs []vigil.Reference
	for _, u := range badLinks {
		refs = append(refs, vigil.Reference{Type: pImg, URL: u})
	}
	refs = append(refs, vigil.Reference{Type: "ADVISORY", URL: "https://example.com/advisory?q=<b>"})
	vulnID = "GHSA-xss1-xss2-xss3"
	putAdvisories(t, db, vigil.Advisory{Source: vigil.SourceOSV, ID: vulnID, Aliases: []string{"CVE-2099-0001"}, Title: pScript, Summary: pImg, Details: pSVG + "\n" + pHover,
		Published: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), Modified: time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC), CWEs: []string{pScript},
		Scores:     []vigil.Score{{Source: pHover, Type: "Primary", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Base: 9.8}},
		References: refs,
		Affected:   []vigil.Affected{{Ecosystem: "npm", Name: pSVG, Ranges: []vigil.Range{{Type: vigil.RangeSemver, Events: []vigil.RangeEvent{{Introduced: "0"}, {Fixed: pScript}}}}}},
	}, vigil.Advisory{Source: vigil.SourceCSAF, ID: "CVE-2099-0001", Document: pHover, Title: pSVG, Summary: pScript,
		Products:     []vigil.Product{{ID: "P1", Vendor: pImg, Name: pScript, VersionRange: pSVG, Status: "known_affected"}},
		Remediations: []vigil.Remediation{{Category: "vendor_fix", Details: pScript, URL: "javascript:alert(9)"}}})
	// A component, a device, a user, an event note, an assessment: all with payloads.
	d := &vigil.Device{Name: pHover, Class: "II", Pathway: vigil.Pathway510k, IntendedUse: pScript,
		Functions: []vigil.ClinicalFunction{{Name: pImg, Severity: vigil.HarmCritical}}}
	if err := db.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	v := &vigil.DeviceVersion{DeviceID: d.ID, Version: pSVG}
	if err := db.CreateVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	comp := vigil.Component{Name: pScript, Group: pImg, Version: pSVG, Supplier: pFormula, SupportNote: pHover, Type: pScript}
	if err := db.SetComponents(ctx, v.ID, []vigil.Component{comp}, pScript); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: comp, Vulnerability: vulnID, Aliases: []string{pScript},
		Evidence: vigil.Evidence{Matcher: pImg, Source: pSVG, Advisory: pHover, Range: pScript, Fixed: pFormula, Reason: pImg}}}); err != nil {
		t.Fatal(err)
	}
	fs, err := db.Findings(ctx, vigil.FindingFilter{Vuln: vulnID})
	if err != nil || len(fs) != 1 {
		t.Fatalf("hostile finding: %v %v", fs, err)
	}
	findingID = fs[0].ID
	if _, err := e.app.Cases.Assess(ctx, cases.AssessInput{CaseID: fs[0].CaseID, Date: vigil.NewDate(2025, 6, 2), CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Functions: []string{pImg},
		Controls: []string{"network segmentation " + pScript}, Rationale: pSVG}); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Cases.RecordEvent(ctx, &vigil.CaseEvent{CaseID: fs[0].CaseID, Type: "customer_notified", Date: vigil.NewDate(2025, 6, 2), Note: pHover}); err != nil {
		t.Fatal(err)
	}
	// A retracted record with a hostile reason: the case page shows it struck through, with the reason.
	mistake := &vigil.CaseEvent{CaseID: fs[0].CaseID, Type: "interim_controls", Date: vigil.NewDate(2025, 6, 2), Note: pScript}
	if err := e.app.Cases.RecordEvent(ctx, mistake); err != nil {
		t.Fatal(err)
	}
	if err := e.app.Cases.Retract(ctx, &vigil.Retraction{CaseID: fs[0].CaseID, Record: vigil.RecordRef{Kind: vigil.RecordEvent, ID: mistake.ID}, Reason: pImg}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &vigil.User{Name: `<svg/onload=alert(10)>`, Role: vigil.RoleViewer}, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	return vulnID, findingID
}

var (
	// Real tags: html/template escapes every "<" of text, so each "<" followed by a letter opens an element.
	tagRe      = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?)*)\s*/?>`)
	attrRe     = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?`)
	urlAttrs   = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true, "poster": true, "data": true}
	ourScripts = map[string]bool{"/static/htmx.min.js": true, "/static/vigil.js": true}
)

// checkNoMarkup asserts a page carries none of the payloads as markup: no element but the template's (no script
// but ours, no svg or img from a payload), no event-handler attribute, and every link and source an http(s) URL or
// a path on this site.
func checkNoMarkup(t *testing.T, name, body string) {
	t.Helper()
	if strings.Contains(body, "ZgotmplZ") {
		t.Errorf("%s: html/template had to neutralize an unsafe value (ZgotmplZ): a feed value reached a URL or CSS context", name)
	}
	for _, m := range tagRe.FindAllStringSubmatch(body, -1) {
		tag := strings.ToLower(m[1])
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			k := strings.ToLower(a[1])
			v := html.UnescapeString(strings.Trim(a[2], `"'`))
			attrs[k] = v
			if strings.HasPrefix(k, "on") {
				t.Errorf("%s: <%s> carries an event handler %s=%q", name, tag, k, v)
			}
			if urlAttrs[k] {
				v = strings.TrimSpace(v)
				ok := strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "#") || strings.HasPrefix(v, "?") ||
					strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//")
				if !ok {
					t.Errorf("%s: <%s %s=%q> is not an http(s) link or a path on this site", name, tag, k, v)
				}
			}
		}
		switch tag {
		case "script":
			if !ourScripts[attrs["src"]] {
				t.Errorf("%s: a script element reached the page: %q", name, m[0])
			}
		case "img", "iframe", "object", "embed", "i", "base", "style":
			t.Errorf("%s: a %s element reached the page: %q", name, tag, m[0])
		}
	}
}

// TestHostileTextNeverBecomesMarkup imports advisories, an SBOM component, a device, a user, an assessment and an
// event whose text carries script payloads, then renders every screen that shows them.
func TestHostileTextNeverBecomesMarkup(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			vulnID, fid := hostile(t, e)
			c := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
			f, err := e.db.Finding(sys(), fid)
			if err != nil {
				t.Fatal(err)
			}
			pages := []string{"/", "/devices", "/findings", "/findings?state=all&q=script", fmt.Sprintf("/findings/%d", fid), "/vulns", "/vulns?q=alert",
				"/cases", "/cases?state=all&vuln=" + url.QueryEscape(pScript), fmt.Sprintf("/cases/%d", f.CaseID),
				"/vulns/" + vulnID, "/vulns/CVE-2099-0001", "/deadlines", "/sources", "/audit", "/audit?object_type=finding", "/users", "/account"}
			ds, _ := e.db.Devices(sys())
			for _, d := range ds {
				pages = append(pages, fmt.Sprintf("/devices/%d", d.ID))
				vs, _ := e.db.Versions(sys(), d.ID)
				for _, v := range vs {
					pages = append(pages, fmt.Sprintf("/versions/%d", v.ID), fmt.Sprintf("/versions/%d/diff?with=%d", v.ID, e.v1))
				}
			}
			escapedSeen := 0
			for _, p := range pages {
				res, body := c.get(p)
				if res.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", p, res.StatusCode)
					continue
				}
				checkNoMarkup(t, p, body)
				if strings.Contains(body, "&lt;script&gt;alert(&#34;x1&#34;)") || strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt;") {
					escapedSeen++
				}
			}
			if escapedSeen < 6 {
				t.Errorf("the payloads reached only %d pages (escaped): the fixture does not exercise the screens", escapedSeen)
			}
			// The retraction's reason is on the case page, as text, beside the struck-through record.
			if _, body := c.get(fmt.Sprintf("/cases/%d", f.CaseID)); !strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt;") || !strings.Contains(body, "<del>") {
				t.Errorf("the case page does not show the retracted record with its reason as text")
			}
			// The vulnerability page shows the bad references as text, the good one as a link.
			_, body := c.get("/vulns/" + vulnID)
			if !strings.Contains(body, `href="https://example.com/advisory?q=%3cb%3e"`) && !strings.Contains(body, `href="https://example.com/advisory?q=%3Cb%3E"`) {
				t.Errorf("the https reference is not a link")
			}
			if !strings.Contains(body, `class="nolink"`) || !strings.Contains(body, "javascript:alert(5)") {
				t.Errorf("the javascript: reference is not shown as text")
			}
			// The JSON API returns the text as data; its content type keeps a browser from rendering it.
			res, _ := c.api("GET", "/api/v1/vulns/"+vulnID, nil)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("API content type %q", ct)
			}
			// CSV exports defuse spreadsheet formulas.
			res, body = c.get("/findings?state=all&format=csv")
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("csv export: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
			}
			recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range recs {
				for _, cell := range r {
					if strings.HasPrefix(cell, "=") || strings.HasPrefix(cell, "+") || strings.HasPrefix(cell, "@") {
						t.Errorf("csv cell %q would run as a formula", cell)
					}
					if cell == "'"+pFormula {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("the formula cell is missing from the export")
			}
			// The JSON export is the same data, as an attachment.
			res, body = c.get("/findings?state=all&format=json")
			var rows []map[string]any
			if err := json.Unmarshal([]byte(body), &rows); err != nil || len(rows) < 4 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("json export: %d rows, %v", len(rows), err)
			}
		})
	}
}
