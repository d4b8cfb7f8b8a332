package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix/stixschema"
)

// upload posts a multipart form with a file, as the membership page's upload form does.
func (c *client) upload(path string, fields map[string]string, file string, content []byte) (*http.Response, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", c.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile("file", file)
		fw.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// TestISAOScreens walks the ISAO screens as a PSIRT lead would: a membership added, a document uploaded (kept
// with its SHA-256, bounded, served back only as an attachment, its title escaped), the §IX evidence viewed and
// exported as CSV and JSON, the case shared from its page and a sent customer notice from the sharing log (each
// bundle valid against the OASIS STIX schemas), a signal cited from the inbox and by a new assessment; a viewer
// sees no forms and is refused the writes.
func TestISAOScreens(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvKeyed(t, engine, nil) // no secret key: a TAXII password is refused
			e.isaoFixture()
			admin := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
			withCSRF := func(kv ...string) url.Values {
				v := url.Values{"csrf": {admin.csrf}}
				for i := 0; i+1 < len(kv); i += 2 {
					v.Add(kv[i], kv[i+1])
				}
				return v
			}
			if res, body := admin.get("/isao"); res.StatusCode != 200 || !strings.Contains(body, "Health-ISAC") || !strings.Contains(body, `id="membership-form"`) {
				t.Fatalf("/isao: %d", res.StatusCode)
			}
			// A membership with a TAXII password, but the server has no secret key: refused, nothing saved.
			res, body := admin.postForm("/isao/memberships", withCSRF("name", "MDISS", "device", "Infusio IP-3", "since", "2025-01-01", "tlp", "amber",
				"taxii_url", "https://taxii.mdiss.example/taxii2/", "collection", "c1", "user", "acme", "password", "hunter2hunter2", "reason", "Joined MDISS."))
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "The membership was not saved") || !strings.Contains(body, "secret key") {
				t.Errorf("a password without a secret key: %d %s", res.StatusCode, clip(body))
			}
			res, _ = admin.postForm("/isao/memberships", withCSRF("name", "MDISS", "since", "2025-01-01", "tlp", "amber", "reason", "Joined MDISS."))
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/isao/memberships/\d+\?done=isao-membership$`).MatchString(loc) {
				t.Fatalf("membership form: %d %s", res.StatusCode, loc)
			}
			page := strings.TrimSuffix(loc, "?done=isao-membership")
			content := []byte("%PDF-1.7 MDISS participant agreement")
			fields := map[string]string{"item": "2", "kind": "agreement", "title": "<script>alert(1)</script> agreement", "date": "2025-01-02", "reason": "Signed."}
			if res, body := admin.upload(page+"/documents", fields, "agreement.pdf", bytes.Repeat([]byte("x"), vigil.MaxISAODocument+1)); res.StatusCode != http.StatusBadRequest ||
				!strings.Contains(body, "larger than 16 MiB") {
				t.Errorf("a 16 MiB + 1 upload: %d %s", res.StatusCode, clip(body))
			}
			undated := map[string]string{"item": "2", "kind": "agreement", "reason": "x"}
			if res, body := admin.upload(page+"/documents", undated, "agreement.pdf", content); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "date: required") {
				t.Errorf("an undated document: %d %s", res.StatusCode, clip(body))
			}
			if res, _ := admin.upload(page+"/documents", fields, "agreement.pdf", content); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("upload: %d", res.StatusCode)
			}
			res, body = admin.get(page)
			if res.StatusCode != 200 || strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; agreement") {
				t.Errorf("membership page after the upload: %d (title not shown escaped)", res.StatusCode)
			}
			doc := regexp.MustCompile(`href="/isao/documents/(\d+)" download>&lt;script`).FindStringSubmatch(body)
			if doc == nil {
				t.Fatal("no download link for the document")
			}
			res, body = admin.get("/isao/documents/" + doc[1])
			if res.StatusCode != 200 || body != string(content) || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") ||
				res.Header.Get("Content-Type") != "application/octet-stream" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("download: %d %v %q", res.StatusCode, res.Header, body)
			}
			// The evidence of the organization's membership, on screen and exported.
			org := fmt.Sprintf("/isao/memberships/%d/evidence", e.membership)
			if res, body := admin.get(org + "?from=2025-01-01&to=2025-06-02"); res.StatusCode != 200 || !strings.Contains(body, "§IX evidence: Health-ISAC") {
				t.Errorf("evidence page: %d", res.StatusCode)
			}
			res, body = admin.get(org + "?from=2025-01-01&to=2025-06-02&format=csv")
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(body, "§IX,1,") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("evidence CSV: %d %s", res.StatusCode, clip(body))
			}
			var ev struct {
				Items []struct{ Evidenced bool }
			}
			if res, body := admin.get(org + "?format=json"); res.StatusCode != 200 || json.Unmarshal([]byte(body), &ev) != nil || len(ev.Items) != 4 || !ev.Items[0].Evidenced {
				t.Errorf("evidence JSON: %d %s", res.StatusCode, clip(body))
			}
			// Share the log4j case from its page, exported: the answer is the bundle.
			schemas := stixschema.Load(t)
			res, body = admin.postForm(fmt.Sprintf("/cases/%d/isao-share", e.log4jCase), withCSRF("isao", "Health-ISAC", "export", "1"))
			if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), fmt.Sprintf("case-%d.stix.json", e.log4jCase)) {
				t.Fatalf("case share: %d %s", res.StatusCode, clip(body))
			}
			for _, err := range schemas.Errors([]byte(body)) {
				t.Errorf("the case's bundle: %v", err)
			}
			// Over Health-ISAC's TAXII server: back to the case, whose page shows the share complete.
			if res, _ := admin.postForm(fmt.Sprintf("/cases/%d/isao-share", e.log4jCase), withCSRF("isao", "Health-ISAC")); res.StatusCode != http.StatusSeeOther ||
				res.Header.Get("Location") != fmt.Sprintf("/cases/%d?done=isao-shared#isao", e.log4jCase) {
				t.Errorf("a TAXII share: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			if len(e.taxii.Objects("shares")) == 0 {
				t.Error("the TAXII server holds nothing after the share")
			}
			if _, body := admin.get(fmt.Sprintf("/cases/%d", e.log4jCase)); !strings.Contains(body, `id="case-shares"`) || !strings.Contains(body, "isao_shared") ||
				!strings.Contains(body, ">complete<") {
				t.Error("the case page shows no complete share or isao_shared event")
			}
			// A refusal is shown on the case page: a membership covering no device of the case.
			if res, body := admin.postForm(fmt.Sprintf("/cases/%d/isao-share", e.log4jCase), withCSRF("isao", "InfraGard")); res.StatusCode != http.StatusBadRequest ||
				!strings.Contains(body, "The case was not shared") || !strings.Contains(body, "no active membership of InfraGard") {
				t.Errorf("a share with no membership: %d %s", res.StatusCode, clip(body))
			}
			// Poll the TAXII collection from the membership page: what it holds comes in.
			res, body = admin.postForm(fmt.Sprintf("/isao/memberships/%d/poll", e.membership), withCSRF())
			if res.StatusCode != 200 || !strings.Contains(body, `id="intake"`) || !strings.Contains(body, "STIX objects") {
				t.Errorf("poll: %d %s", res.StatusCode, clip(body))
			}
			// Share the sent notice from the sharing log.
			res, body = admin.postForm("/isao/shares/notice", withCSRF("notice", fmt.Sprint(e.notice), "isao", "Health-ISAC", "export", "1"))
			if res.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf("Customer communication N-%d", e.notice)) {
				t.Fatalf("notice share: %d %s", res.StatusCode, clip(body))
			}
			for _, err := range schemas.Errors([]byte(body)) {
				t.Errorf("the notice's bundle: %v", err)
			}
			if _, body := admin.get("/isao/shares"); !strings.Contains(body, fmt.Sprintf("N-%d", e.notice)) || strings.Count(body, "exported") < 2 {
				t.Error("the sharing log lacks the shares")
			}
			if res, _ := admin.postForm("/isao/shares/status", withCSRF()); res.StatusCode != http.StatusSeeOther {
				t.Errorf("asking again with nothing pending: %d", res.StatusCode)
			}
			// A STIX file from the inbox: a bad object is refused by name, the rest kept.
			res, body = admin.upload("/isao/signals/import", map[string]string{"isao": "Health-ISAC"}, "bulletin-2.json", []byte(`{"type":"bundle","id":"bundle--6e1d9a63-7a2d-4b66-9e8f-3a5c0d2f4b81",
				"objects":[{"type":"note","spec_version":"2.1","id":"note--2c8a7c5a-0f4e-4e56-9d3a-7b5e4c3f2a1b","created":"2025-06-01T00:00:00.000Z","modified":"2025-06-01T00:00:00.000Z",
				"abstract":"CVE-2021-44228 scanning <b>seen</b>","content":"Seen in the wild."},{"type":"note","id":"report--bad","spec_version":"2.1"}]}`))
			if res.StatusCode != 200 || !strings.Contains(body, "Refused (1)") || !strings.Contains(body, "CVE-2021-44228 scanning &lt;b&gt;seen&lt;/b&gt;") {
				t.Errorf("STIX import: %d %s", res.StatusCode, clip(body))
			}
			// The inbox: the signal, the case it touches; cited from there and by a new assessment.
			if _, body := admin.get("/isao/signals"); !strings.Contains(body, "Log4Shell exploited against infusion systems") || !strings.Contains(body, fmt.Sprintf(`href="/cases/%d#isao"`, e.log4jCase)) {
				t.Error("the inbox lacks the signal or its case")
			}
			if res, _ := admin.postForm(fmt.Sprintf("/isao/signals/%d/cite", e.signal), withCSRF("assessment", fmt.Sprintf("A%d", e.assessment), "reason", "Raised the exploitability.")); res.StatusCode != http.StatusSeeOther {
				t.Errorf("cite: %d", res.StatusCode)
			}
			if _, body := admin.get(fmt.Sprintf("/cases/%d", e.log4jCase)); !strings.Contains(body, fmt.Sprintf(`name="signal" value="%d"`, e.signal)) {
				t.Error("the assessment form offers no signal to cite")
			}
			res, _ = admin.postForm(fmt.Sprintf("/cases/%d/assess", e.log4jCase), withCSRF("cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "function", "dose delivery",
				"date", "2025-06-02", "rationale", "Re-assessed on the ISAO bulletin.", "signal", fmt.Sprint(e.signal)))
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("assess citing the signal: %d", res.StatusCode)
			}
			var sigs []vigil.ISAOSignal
			_, body = admin.api("GET", fmt.Sprintf("/api/v1/isao/signals?case=%d", e.log4jCase), nil)
			json.Unmarshal([]byte(body), &sigs)
			i := slices.IndexFunc(sigs, func(s vigil.ISAOSignal) bool { return s.ID == e.signal })
			if i < 0 || len(sigs[i].Assessments) != 2 || sigs[i].Assessments[0] != e.assessment {
				t.Errorf("the signal's citations: %s", clip(body))
			}
			// A viewer reads and is offered no form; its writes are refused.
			viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			if _, body := viewer.get("/isao"); strings.Contains(body, `id="membership-form"`) {
				t.Error("a viewer is offered the membership form")
			}
			if _, body := viewer.get(fmt.Sprintf("/cases/%d", e.log4jCase)); strings.Contains(body, `id="isao-share-form"`) {
				t.Error("a viewer is offered the share form")
			}
			if res, _ := viewer.postForm("/isao/memberships", url.Values{"csrf": {viewer.csrf}, "name": {"X"}, "reason": {"x"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("a viewer's membership: %d", res.StatusCode)
			}
		})
	}
}

// TestISAOAPI: the JSON API does what the screens do: a document attached base64 comes back byte for byte with
// its SHA-256 (bad base64 refused naming the field), the evidence exports as CSV, a case and a sent notice are
// shared (exported: the bundle in the answer, valid against the OASIS schemas), a citation is recorded, and the
// sharing log and alerts read back.
func TestISAOAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			e.isaoFixture()
			tok := e.token(vigil.RoleAdmin)
			call := func(method, path string, body any) (*http.Response, string) {
				return bearer(t, e.srv.URL, tok, method, path, body)
			}
			content := []byte("Health-ISAC TLP 2.0 sharing policy, 2025 edition\n")
			docs := fmt.Sprintf("/api/v1/isao/memberships/%d/documents", e.membership)
			if res, body := call("POST", docs, map[string]any{"item": 2, "kind": "policy", "title": "TLP policy", "date": "2025-01-15", "content": "not base64!"}); res.StatusCode != 400 ||
				!strings.Contains(body, "content: not base64") {
				t.Errorf("bad base64: %d %s", res.StatusCode, body)
			}
			res, body := call("POST", docs, map[string]any{"item": 2, "kind": "policy", "title": "TLP policy", "file_name": "tlp.txt", "date": "2025-01-15",
				"content": base64.StdEncoding.EncodeToString(content), "reason": "Reissued."})
			var doc vigil.ISAODocument
			if res.StatusCode != 201 || json.Unmarshal([]byte(body), &doc) != nil || doc.ID == 0 {
				t.Fatalf("attach: %d %s", res.StatusCode, body)
			}
			sum := sha256.Sum256(content)
			var back struct {
				SHA256, Content string
			}
			res, body = call("GET", fmt.Sprintf("/api/v1/isao/documents/%d", doc.ID), nil)
			if json.Unmarshal([]byte(body), &back) != nil || back.SHA256 != hex.EncodeToString(sum[:]) || back.Content != base64.StdEncoding.EncodeToString(content) {
				t.Errorf("document back: %d %s", res.StatusCode, clip(body))
			}
			res, body = call("GET", fmt.Sprintf("/api/v1/isao/memberships/%d/evidence?from=2025-01-01&to=2025-06-02&format=csv", e.membership), nil)
			if res.StatusCode != 200 || !strings.Contains(body, "policy: TLP policy,"+hex.EncodeToString(sum[:])) {
				t.Errorf("evidence CSV: %d %s", res.StatusCode, clip(body))
			}
			schemas := stixschema.Load(t)
			for _, path := range []string{fmt.Sprintf("/api/v1/cases/%d/isao-share", e.log4jCase), fmt.Sprintf("/api/v1/notices/%d/isao-share", e.notice)} {
				var out struct {
					Shares []vigil.ISAOShare
					Bundle json.RawMessage
				}
				res, body := call("POST", path, map[string]any{"isao": "Health-ISAC", "export": true})
				if res.StatusCode != 201 || json.Unmarshal([]byte(body), &out) != nil || len(out.Shares) != 1 || out.Shares[0].EventID == 0 {
					t.Fatalf("%s: %d %s", path, res.StatusCode, clip(body))
				}
				for _, err := range schemas.Errors(out.Bundle) {
					t.Errorf("%s: %v", path, err)
				}
			}
			// Over TAXII, to Health-ISAC's server: complete.
			var over struct{ Shares []vigil.ISAOShare }
			if res, body := call("POST", fmt.Sprintf("/api/v1/cases/%d/isao-share", e.log4jCase), map[string]any{}); res.StatusCode != 201 ||
				json.Unmarshal([]byte(body), &over) != nil || over.Shares[0].Method != vigil.ShareTAXII || over.Shares[0].Status != vigil.ShareComplete {
				t.Errorf("TAXII share: %d %s", res.StatusCode, clip(body))
			}
			var log []vigil.ISAOShare
			_, body = call("GET", fmt.Sprintf("/api/v1/isao/shares?case=%d", e.log4jCase), nil)
			if json.Unmarshal([]byte(body), &log) != nil || len(log) != 3 || log[1].NoticeID != e.notice {
				t.Errorf("sharing log: %s", clip(body))
			}
			if res, body := call("POST", "/api/v1/isao/citations", map[string]any{"assessment": e.assessment, "signals": []int64{e.signal + 1000}}); res.StatusCode != 404 ||
				!strings.Contains(body, "not found") {
				t.Errorf("citing a signal that does not exist: %d %s", res.StatusCode, body)
			}
			var cited []vigil.ISAOSignal
			if res, body := call("POST", "/api/v1/isao/citations", map[string]any{"assessment": e.assessment, "signals": []int64{e.signal}, "reason": "Considered."}); res.StatusCode != 201 ||
				json.Unmarshal([]byte(body), &cited) != nil || len(cited) != 1 || !slices.Equal(cited[0].Assessments, []int64{e.assessment}) {
				t.Errorf("cite: %d %s", res.StatusCode, body)
			}
		})
	}
}
