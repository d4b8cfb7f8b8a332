package web_test

import (
	"archive/zip"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDocumentLinksAndRoutes: the case page and the device page link their regulatory documents, and the routes
// serve them: HTML under a policy that allows its one inline style by hash (and sandboxes it), PDF and Markdown
// as downloads, JSON on the API; a document that does not apply is a conflict naming the one that does.
func TestDocumentLinksAndRoutes(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	_, body := c.get(fmt.Sprintf("/cases/%d", e.log4jCase))
	if want := fmt.Sprintf(`href="/cases/%d/documents/premarket?format=pdf"`, e.log4jCase); !strings.Contains(body, want) {
		t.Errorf("the case page lacks %s", want)
	}
	_, body = c.get(fmt.Sprintf("/devices/%d", e.device))
	for _, want := range []string{fmt.Sprintf(`href="/devices/%d/documents/524b?format=html"`, e.device), fmt.Sprintf(`href="/devices/%d/documents/cmp?format=md"`, e.device)} {
		if !strings.Contains(body, want) {
			t.Errorf("the device page lacks %s", want)
		}
	}
	res, body := c.get(fmt.Sprintf("/devices/%d/documents/cmp", e.device))
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(csp, "style-src 'sha256-") || !strings.Contains(csp, "sandbox") ||
		!strings.Contains(body, "<h1>Cybersecurity Management Plan") {
		t.Errorf("cmp html: %d, CSP %q, %.200s", res.StatusCode, csp, body)
	}
	res, body = c.get(fmt.Sprintf("/cases/%d/documents/premarket?format=pdf", e.log4jCase))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "premarket.pdf") {
		t.Errorf("premarket pdf: %d %v %.8q", res.StatusCode, res.Header, body)
	}
	res, body = c.api("GET", fmt.Sprintf("/api/v1/devices/%d/documents/524b", e.device), nil)
	if res.StatusCode != 200 || !strings.Contains(body, `"kind": "524b"`) && !strings.Contains(body, `"kind":"524b"`) {
		t.Errorf("524b json: %d %.300s", res.StatusCode, body)
	}
	res, body = c.api("GET", fmt.Sprintf("/api/v1/cases/%d/documents/806.20", e.log4jCase), nil)
	if res.StatusCode != 409 || !strings.Contains(body, "vigil report 806 --case") {
		t.Errorf("806.20 of a reportable correction: %d %s", res.StatusCode, body)
	}
	res, _ = c.api("GET", fmt.Sprintf("/api/v1/cases/%d/documents/816", e.log4jCase), nil)
	if res.StatusCode != 400 {
		t.Errorf("an unknown kind: %d, want 400", res.StatusCode)
	}
}

// TestRegulatoryRecordForms: the case page's forms and the API record what the CLI records — the 806 report marked
// filed (with part806_filed on the case), the 806.20 sign-off signed under Part 11 in its own transaction (a
// mistyped password records nothing; the retry records one signed sign-off), the premarket decision with its basis
// — and a viewer gets neither the forms nor the writes.
func TestRegulatoryRecordForms(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			e.openAPICases()
			ra := e.login(vigil.RoleRegulatory, password(vigil.RoleRegulatory))
			viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			casePath := fmt.Sprintf("/cases/%d", e.log4jCase)

			_, body := viewer.get(casePath)
			if !strings.Contains(body, `id="regulatory-records"`) || strings.Contains(body, `action="`+casePath+`/part806/file"`) || strings.Contains(body, `action="`+casePath+`/premarket"`) {
				t.Errorf("a viewer sees the records without their forms: %v", strings.Contains(body, `id="regulatory-records"`))
			}
			res, _ := viewer.postForm(casePath+"/part806/file", url.Values{"csrf": {viewer.csrf}, "reason": {"x"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("a viewer files: %d, want 403", res.StatusCode)
			}
			_, body = ra.get(casePath)
			if !strings.Contains(body, `action="`+casePath+`/part806/file"`) || !strings.Contains(body, "Not filed yet") {
				t.Fatalf("the case page lacks the filing form")
			}
			res, body = ra.postForm(casePath+"/part806/file", url.Values{"csrf": {ra.csrf}, "date": {"2999-01-01"}, "reason": {"eSubmitter"}})
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "The report was not marked filed: date: 2999-01-01 is in the future") {
				t.Errorf("a future filing date: %d %s", res.StatusCode, clip(body))
			}
			res, _ = ra.postForm(casePath+"/part806/file", url.Values{"csrf": {ra.csrf}, "date": {"2025-06-02"}, "reason": {"eSubmitter 12345"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("file: %d", res.StatusCode)
			}
			_, body = ra.get(casePath)
			if !strings.Contains(body, "Filed as <b>2950123-6/2/25-001-C</b>") || !strings.Contains(body, "part806") {
				t.Errorf("the case page does not show the report filed: %s", clip(body[strings.Index(body, `id="regulatory-records"`):]))
			}
			v, err := e.app.Cases.CaseView(sys(), e.log4jCase, vigil.Date{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Determination.Part806.Status != "filed" {
				t.Errorf("after filing, the determination says %s", v.Determination.Part806.Status)
			}
			res, body = ra.api("POST", fmt.Sprintf("/api/v1/cases/%d/part806/filings", e.log4jCase), map[string]any{"reason": "again"})
			if res.StatusCode != http.StatusConflict || !strings.Contains(body, "filed already") {
				t.Errorf("filing twice: %d %s", res.StatusCode, body)
			}

			// The 806.20 sign-off, from the dialog: a wrong password, then the right one, on the same sign-off.
			ctlPath := fmt.Sprintf("/cases/%d", e.controlledCase)
			signOff := url.Values{"csrf": {ra.csrf}, "meaning": {"approval"}, "signer": {vigil.RoleRegulatory}, "password": {"wrong password 123"}, "reason": {"RA review"}}
			res, body = ra.postForm(ctlPath+"/part806/sign-off", signOff)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "wrong user name or password") {
				t.Errorf("a wrong password: %d %s", res.StatusCode, clip(body))
			}
			signOff.Set("password", password(vigil.RoleRegulatory))
			if res, body = ra.postForm(ctlPath+"/part806/sign-off", signOff); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-off: %d %s", res.StatusCode, clip(body))
			}
			res, body = ra.api("GET", fmt.Sprintf("/api/v1/cases/%d/regulatory", e.controlledCase), nil)
			var recs regdocs.CaseRecords
			if err := json.Unmarshal([]byte(body), &recs); err != nil || res.StatusCode != 200 {
				t.Fatalf("records: %d %s", res.StatusCode, body)
			}
			rs, err := e.db.RegRecords(sys(), vigil.RegRecordFilter{Kind: vigil.RegPart806Record, CaseID: e.controlledCase})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || recs.SignOff == nil || recs.SignOff.ID != rs[0].ID || len(recs.SignOff.Signatures) != 1 ||
				!strings.Contains(recs.SignOff.Signatures[0], "Pat regulatory Fixture") || !slices.Contains(recs.Documents, "806.20") {
				t.Errorf("one signed sign-off wanted: %d records, %+v", len(rs), recs.SignOff)
			}
			_, body = ra.get(ctlPath)
			if !strings.Contains(body, "Signed off by user:regulatory") {
				t.Errorf("the case page does not show the sign-off")
			}

			// The premarket decision through the API, signed.
			res, body = ra.api("POST", fmt.Sprintf("/api/v1/cases/%d/premarket", e.log4jCase), map[string]any{"decision": "pma_supplement", "basis": "x"})
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not fit") {
				t.Errorf("a PMA supplement for a 510(k) device: %d %s", res.StatusCode, body)
			}
			res, body = ra.api("POST", fmt.Sprintf("/api/v1/cases/%d/premarket", e.log4jCase), map[string]any{"decision": "none", "basis": "Patch within the cleared design.",
				"signature": map[string]any{"meaning": "approval", "signer": vigil.RoleRegulatory, "password": password(vigil.RoleRegulatory)}})
			var pd regdocs.PremarketDecision
			if err := json.Unmarshal([]byte(body), &pd); err != nil || res.StatusCode != http.StatusCreated || pd.Decision != "none" || len(pd.Signatures) != 1 {
				t.Errorf("premarket: %d %s", res.StatusCode, body)
			}
			res, body = ra.get(fmt.Sprintf("/cases/%d/documents/premarket?format=md", e.log4jCase))
			if res.StatusCode != 200 || !strings.Contains(body, "Patch within the cleared design.") || !strings.Contains(body, "Pat regulatory Fixture") {
				t.Errorf("the premarket record lacks the decision or its signature: %s", clip(body))
			}
			res, _ = ra.postForm(casePath+"/premarket", url.Values{"csrf": {ra.csrf}, "decision": {"510k"}, "basis": {""}})
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("a decision without a basis: %d", res.StatusCode)
			}
		})
	}
}

// TestEvidenceDownloadsAndDocumentSettings: a case's and a device's evidence packages download from the pages and
// the API and verify offline with the server's audit key (a viewer may not have them); the documents' settings of
// the organization and of a device line are edited on their pages (a bad JSON names the field; the PSIRT may not),
// read through the API merged, and the 524B statements follow the critical rule set there.
func TestEvidenceDownloadsAndDocumentSettings(t *testing.T) {
	e := newEnv(t, store.SQLite)
	admin := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
	viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	verify := func(name, body string, want ...string) {
		t.Helper()
		zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("%s: not a zip: %v", name, err)
		}
		rep, err := audit.VerifyPackage(zr, fixtureKey.Public().(ed25519.PublicKey))
		if err != nil {
			t.Errorf("%s does not verify: %v %v", name, err, rep.Problems)
		}
		for _, w := range want {
			if !slices.ContainsFunc(zr.File, func(f *zip.File) bool { return f.Name == w }) {
				t.Errorf("%s has no %s", name, w)
			}
		}
	}
	res, body := admin.get(fmt.Sprintf("/cases/%d/evidence.zip", e.log4jCase))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" || !strings.Contains(res.Header.Get("Content-Disposition"), fmt.Sprintf("evidence-case-%d.zip", e.log4jCase)) {
		t.Fatalf("case evidence: %d %v", res.StatusCode, res.Header)
	}
	verify("the case's package", body, "case/case.json", "documents/806.pdf", "documents/premarket.json", "isao/shares.json")
	res, body = admin.api("GET", fmt.Sprintf("/api/v1/devices/%d/evidence?period=2025", e.device), nil)
	if res.StatusCode != 200 {
		t.Fatalf("device evidence: %d %s", res.StatusCode, clip(body))
	}
	verify("the device's package", body, "device/period.json", "device/documents/524b.pdf", "device/documents/cmp.json",
		fmt.Sprintf("cases/%d/case/case.json", e.log4jCase), fmt.Sprintf("cases/%d/documents/806.json", e.log4jCase), fmt.Sprintf("cases/%d/case/case.json", e.springCase),
		"isao/evidence-Health-ISAC.json")
	if res, _ := viewer.get(fmt.Sprintf("/cases/%d/evidence.zip", e.log4jCase)); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer downloads evidence: %d", res.StatusCode)
	}

	ra := e.login(vigil.RoleRegulatory, password(vigil.RoleRegulatory))
	_, body = ra.get("/settings")
	if !strings.Contains(body, `action="/settings/documents"`) {
		t.Fatalf("the settings page lacks the documents' settings form")
	}
	res, body = ra.postForm("/settings/documents", url.Values{"csrf": {ra.csrf}, "settings": {`{"critical_rule": {"severities": ["fatal"]}}`}, "reason": {"x"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "critical_rule.severities[0]") || !strings.Contains(body, "fatal") {
		t.Errorf("a bad rule: %d %s", res.StatusCode, clip(body))
	}
	res, body = ra.postForm("/settings/documents", url.Values{"csrf": {ra.csrf}, "settings": {`{"critical_rule": {"kev": true, "min_cvss": 9.5, "basis": "SOP-PSIRT-12"}, "patch_cycle": "quarterly"}`},
		"reason": {"SOP-PSIRT-12 rev B"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the documents' settings: %d %s", res.StatusCode, clip(body))
	}
	psirt := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
	if res, _ := psirt.postForm("/settings/documents", url.Values{"csrf": {psirt.csrf}, "settings": {`{}`}, "reason": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("the PSIRT changes the documents' settings: %d", res.StatusCode)
	}
	res, body = ra.postForm(fmt.Sprintf("/devices/%d/document-settings", e.device), url.Values{"csrf": {ra.csrf}, "settings": {`{"pma_approved_version": "3.1.0", "nonsense": 1}`}, "reason": {"x"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "nonsense") {
		t.Errorf("an unknown field: %d %s", res.StatusCode, clip(body))
	}
	if res, _ = ra.postForm(fmt.Sprintf("/devices/%d/document-settings", e.device), url.Values{"csrf": {ra.csrf}, "settings": {`{"pma_approved_version": "3.1.0"}`}, "reason": {"S038"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the device's settings: %d", res.StatusCode)
	}
	var st regdocs.Settings
	_, body = viewer.api("GET", fmt.Sprintf("/api/v1/document-settings?device=%d", e.device), nil)
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.PMAApprovedVersion != "3.1.0" || st.Critical == nil || st.Critical.MinCVSS != 9.5 || st.PatchCycle != "quarterly" {
		t.Errorf("the device's settings in force: %s", body)
	}
	_, body = viewer.get(fmt.Sprintf("/devices/%d/documents/524b?format=md", e.device))
	if !strings.Contains(body, "its CVSS base score is 9.5 or more. Basis: SOP-PSIRT-12.") {
		t.Errorf("the 524B statements do not state the rule: %s", body)
	}
}
