package web_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/web"
)

// TestDetermineAPIScenarios runs every shared worked case through POST /api/v1/determine: the HTTP API must give
// what the engine and the CLI give.
func TestDetermineAPIScenarios(t *testing.T) {
	cases, err := scenario.Load(testfix.Path(t, "scenarios"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("scenarios: %d, %v", len(cases), err)
	}
	e := newEnv(t, store.SQLite)
	tok := e.token(vigil.RoleViewer)
	for _, sc := range cases {
		t.Run(sc.File, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/determine", bytes.NewReader(sc.Facts))
			req.Header.Set("Authorization", "Bearer "+tok)
			res, body := e.anon().do(req)
			wantStatus := http.StatusOK
			if sc.WantCode() != "" {
				wantStatus = http.StatusBadRequest
			}
			if res.StatusCode != wantStatus {
				t.Errorf("status %d, want %d: %s", res.StatusCode, wantStatus, clip(body))
			}
			for _, d := range scenario.Diff(sc.Expect, []byte(body)) {
				t.Errorf("%s: %s", sc.Name, d)
			}
		})
	}
}

func multipartFile(name string, data []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return &b, mw.FormDataContentType()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func zipOf(files map[string][]byte) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for name, b := range files {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

// TestSBOMUpload uploads SBOMs through the API in every accepted wrapping and with the mistakes people make, on
// both engines: good ones replace the version's components and report the diff; bad ones change nothing and say
// what is wrong, naming the file.
func TestSBOMUpload(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			tok := e.token(vigil.RolePSIRT)
			upload := func(body []byte, name string, multi bool) (*http.Response, string) {
				var r *bytes.Buffer
				ctype := "application/octet-stream"
				path := fmt.Sprintf("/api/v1/versions/%d/sbom", e.v1)
				if multi {
					r, ctype = multipartFile(name, body)
				} else {
					r = bytes.NewBuffer(body)
					path += "?name=" + name
				}
				req, _ := http.NewRequest("POST", e.srv.URL+path, r)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", ctype)
				return e.anon().do(req)
			}
			big := bytes.Repeat([]byte(" "), 65<<20)
			vex, err := os.ReadFile(testfix.Path(t, "cyclonedx-bom-examples", "VEX", "vex.json"))
			if err != nil {
				t.Fatal(err)
			}
			other := strings.Replace(sbomDoc, `"name":"log4j-core"`, `"name":"log4j-api"`, 1)
			other = strings.Replace(other, `"name":"spring-beans"`, `"name":"spring-core"`, 1)
			other = strings.NewReplacer("log4j-core@", "log4j-api@", "spring-beans@", "spring-core@").Replace(other)
			for _, tt := range []struct {
				name      string
				body      []byte
				file      string
				multi     bool
				status    int
				wantInErr string
			}{
				{"raw JSON", []byte(sbomDoc), "bom.cdx.json", false, 201, ""},
				{"multipart", []byte(sbomDoc), "bom.cdx.json", true, 201, ""},
				{"gzip", gz([]byte(sbomDoc)), "bom.cdx.json.gz", true, 201, ""},
				{"zip of one file", zipOf(map[string][]byte{"sbom/bom.cdx.json": []byte(sbomDoc)}), "bundle.zip", true, 201, ""},
				{"not an SBOM", []byte(`{"hello": "world"}`), "notes.json", true, 400, "notes.json"},
				{"a malformed purl", []byte(strings.Replace(sbomDoc, `"pkg:maven/org.springframework/spring-beans@5.3.17"`, `"pkg:::"`, 1)), "bad.cdx.json", true, 400, "bad.cdx.json"},
				{"empty", nil, "empty.json", true, 400, "empty"},
				{"a NUL in a component name", []byte(strings.Replace(sbomDoc, `"name":"log4j-core"`, `"name":"log4j\u0000core"`, 1)), "nul.cdx.json", true, 400,
					"sbom nul.cdx.json: components[0].name: contains a NUL byte"},
				{"a 1 MiB component name", []byte(strings.Replace(sbomDoc, `"name":"log4j-core"`, `"name":"`+strings.Repeat("x", 1<<20)+`"`, 1)), "long.cdx.json", true, 400,
					"sbom long.cdx.json: components[0].name: 1048576 bytes, more than 512"},
				{"zip of two files", zipOf(map[string][]byte{"a.json": []byte(sbomDoc), "b.json": []byte(sbomDoc)}), "two.zip", true, 400, "exactly one SBOM"},
				{"gzip bomb", gz(bytes.Repeat([]byte("A"), 70<<20)), "bomb.json.gz", true, 400, "expands to more than"},
				{"no components (a VEX document)", vex, "vex.json", true, 400,
					"sbom vex.json has no components: 0 components where the current SBOM has 2 (0 added, 2 removed, 0 changed, 0 unchanged); nothing was imported: confirm with allow_shrink=true"},
				{"every component dropped", []byte(other), "other.cdx.json", false, 400,
					"sbom other.cdx.json drops more than half the components: 2 components where the current SBOM has 2 (2 added, 2 removed, 0 changed, 0 unchanged)"},
				{"too large", big, "huge.json", false, 400, "larger than"},
			} {
				res, body := upload(tt.body, tt.file, tt.multi)
				if res.StatusCode != tt.status {
					t.Errorf("%s: %d, want %d: %s", tt.name, res.StatusCode, tt.status, clip(body))
					continue
				}
				if tt.status != 201 {
					var er struct {
						Error struct{ Code, Message string }
					}
					json.Unmarshal([]byte(body), &er)
					if er.Error.Code != vigil.EINVALID || !strings.Contains(er.Error.Message, tt.wantInErr) {
						t.Errorf("%s: error %+v, want EINVALID mentioning %q", tt.name, er.Error, tt.wantInErr)
					}
					continue
				}
				var got portfolio.SBOMResult
				if err := json.Unmarshal([]byte(body), &got); err != nil || got.Components != 2 || got.Format != "cyclonedx-json" {
					t.Errorf("%s: %+v %v", tt.name, got, err)
				}
			}
			// The first good upload changed log4j 2.14.1 → 2.17.1; the rest changed nothing. Failures stored nothing.
			comps, err := e.db.Components(sys(), e.v1)
			if err != nil {
				t.Fatal(err)
			}
			var vers []string
			for _, c := range comps {
				vers = append(vers, c.Name+"@"+c.Version)
			}
			if diff := cmp.Diff([]string{"log4j-core@2.17.1", "spring-beans@5.3.17"}, vers); diff != "" {
				t.Errorf("components (-want +got):\n%s", diff)
			}
			// Confirmed, the same VEX document empties the version.
			req, _ := http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/api/v1/versions/%d/sbom?name=vex.json&allow_shrink=true", e.v1), bytes.NewReader(vex))
			req.Header.Set("Authorization", "Bearer "+tok)
			if res, body := e.anon().do(req); res.StatusCode != 201 {
				t.Errorf("confirmed shrink: %d %s", res.StatusCode, clip(body))
			}
			if comps, _ := e.db.Components(sys(), e.v1); len(comps) != 0 {
				t.Errorf("components after a confirmed empty SBOM: %v", comps)
			}
			// A viewer may not upload.
			vt := e.token(vigil.RoleViewer)
			req, _ = http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/api/v1/versions/%d/sbom", e.v1), strings.NewReader(sbomDoc))
			req.Header.Set("Authorization", "Bearer "+vt)
			if res, _ := e.anon().do(req); res.StatusCode != http.StatusForbidden {
				t.Errorf("viewer upload: %d, want 403", res.StatusCode)
			}
		})
	}
}

// TestUploadFormShowsTheDiff uploads through the version page's form as a browser does.
func TestUploadFormShowsTheDiff(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
	// The CSRF token travels in the form, before the file.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", c.csrf)
	fw, _ := mw.CreateFormFile("file", "pump-3.1.0.cdx.json")
	fw.Write([]byte(sbomDoc))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/versions/%d/sbom", e.v1), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, page := c.do(req)
	if res.StatusCode != 200 || !strings.Contains(page, "SBOM imported: pump-3.1.0.cdx.json") || !strings.Contains(page, "<b>2</b> changed") {
		t.Errorf("upload form: %d\n%s", res.StatusCode, mainOf(page))
	}
	// A bad file: the same page, the message, nothing stored.
	b.Reset()
	mw = multipart.NewWriter(&b)
	mw.WriteField("csrf", c.csrf)
	fw, _ = mw.CreateFormFile("file", "photo.png")
	fw.Write([]byte("\x89PNG\r\n"))
	mw.Close()
	req, _ = http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/versions/%d/sbom", e.v1), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, page = c.do(req)
	if res.StatusCode != 400 || !strings.Contains(page, "The SBOM was not imported: sbom photo.png: not a CycloneDX") {
		t.Errorf("bad upload: %d\n%s", res.StatusCode, mainOf(page))
	}
	if strings.Contains(page, `name="allow_shrink"`) {
		t.Errorf("a bad file asks to confirm a shrink:\n%s", mainOf(page))
	}
	// An empty SBOM (a VEX document) is refused with the diff and a confirmation box; re-submitted with the box
	// ticked, it is imported.
	vex, err := os.ReadFile(testfix.Path(t, "cyclonedx-bom-examples", "VEX", "vex.json"))
	if err != nil {
		t.Fatal(err)
	}
	submit := func(confirm bool) (*http.Response, string) {
		b.Reset()
		mw = multipart.NewWriter(&b)
		mw.WriteField("csrf", c.csrf)
		if confirm {
			mw.WriteField("allow_shrink", "on")
		}
		fw, _ = mw.CreateFormFile("file", "vex.json")
		fw.Write(vex)
		mw.Close()
		req, _ = http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/versions/%d/sbom", e.v1), &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(req)
	}
	res, page = submit(false)
	if res.StatusCode != 400 || !strings.Contains(page, "sbom vex.json has no components") || !strings.Contains(page, `name="allow_shrink"`) ||
		!strings.Contains(page, "<b>2</b> removed, <b>0</b> added") {
		t.Errorf("empty SBOM: %d\n%s", res.StatusCode, mainOf(page))
	}
	if comps, _ := e.db.Components(sys(), e.v1); len(comps) != 2 {
		t.Errorf("a refused upload changed the components: %v", comps)
	}
	res, page = submit(true)
	if res.StatusCode != 200 || !strings.Contains(page, "SBOM imported: vex.json") || !strings.Contains(page, "<b>2</b> removed") {
		t.Errorf("confirmed empty SBOM: %d\n%s", res.StatusCode, mainOf(page))
	}
}

// TestFindingPages pages through findings newest first and back, with filters, counting every match.
func TestFindingPages(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			var found []vigil.Finding
			for i := 0; i < 117; i++ {
				found = append(found, vigil.Finding{Component: vigil.Component{Name: fmt.Sprintf("lib%03d", i), Version: "1.0"}, Vulnerability: fmt.Sprintf("CVE-2024-%04d", i),
					Evidence: vigil.Evidence{Matcher: "test", Range: "<2"}})
			}
			if _, _, err := e.db.SyncFindings(sys(), e.v2, found); err != nil {
				t.Fatal(err)
			}
			tok := e.token(vigil.RoleViewer)
			get := func(q string) web.FindingPage {
				t.Helper()
				res, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/findings?"+q, nil)
				var p web.FindingPage
				if res.StatusCode != 200 || json.Unmarshal([]byte(body), &p) != nil {
					t.Fatalf("findings?%s: %d %s", q, res.StatusCode, clip(body))
				}
				return p
			}
			// Forward through every page, then back.
			var ids []int64
			p := get(fmt.Sprintf("version=%d&limit=50", e.v2))
			pages := []web.FindingPage{p}
			for p.Older != 0 {
				p = get(fmt.Sprintf("version=%d&limit=50&after=%d", e.v2, p.Older))
				pages = append(pages, p)
			}
			for _, p := range pages {
				for _, r := range p.Rows {
					ids = append(ids, r.ID)
				}
			}
			// The sync replaced the version's one earlier finding (now resolved) with these 117.
			if len(pages) != 3 || len(ids) != 117 || pages[0].Total != 117 || pages[0].Newer != 0 || pages[2].Older != 0 {
				t.Fatalf("pages %d, rows %d, total %d", len(pages), len(ids), pages[0].Total)
			}
			for i := 1; i < len(ids); i++ {
				if ids[i] >= ids[i-1] {
					t.Fatalf("not newest first at %d: %v", i, ids[i-1:i+1])
				}
			}
			back := get(fmt.Sprintf("version=%d&limit=50&before=%d", e.v2, pages[2].Rows[0].ID))
			if diff := cmp.Diff(rowIDs(pages[1]), rowIDs(back)); diff != "" {
				t.Errorf("back one page (-want +got):\n%s", diff)
			}
			if back.Newer == 0 || back.Older == 0 {
				t.Errorf("the middle page reached backwards has newer %d and older %d", back.Newer, back.Older)
			}
			for _, tt := range []struct {
				q    string
				want int
			}{
				{"q=lib00", 10},
				{"q=LIB01", 10},
				{"vuln=GHSA-jfh8-c2jp-5v3q", 1}, // an alias finds the CVE's finding
				{"risk=uncontrolled", 1},
				{"risk=unassessed", 118},
				{fmt.Sprintf("device=%d&state=all", e.device), 120},
				{"state=resolved", 1},
				{"q=50%25", 0}, // LIKE wildcards in the search are literal
			} {
				if got := get(tt.q); got.Total != tt.want || len(got.Rows) != min(tt.want, 50) {
					t.Errorf("%s: total %d rows %d, want %d", tt.q, got.Total, len(got.Rows), tt.want)
				}
			}
			for _, bad := range []string{"state=gone", "risk=maybe", "after=x", "since=yesterday"} {
				res, _ := bearer(t, e.srv.URL, tok, "GET", "/api/v1/findings?"+bad, nil)
				if res.StatusCode != 400 {
					t.Errorf("%s: %d, want 400", bad, res.StatusCode)
				}
			}
		})
	}
}

func rowIDs(p web.FindingPage) []int64 {
	var out []int64
	for _, r := range p.Rows {
		out = append(out, r.ID)
	}
	return out
}

// mainOf returns the page's main element, for failure messages.
func mainOf(page string) string {
	if i := strings.Index(page, "<main>"); i >= 0 {
		page = page[i:]
	}
	if len(page) > 1500 {
		page = page[:1500]
	}
	return page
}

// TestEveryListExports downloads every list a screen shows as CSV and as JSON.
func TestEveryListExports(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
	lists := []string{"/devices?", fmt.Sprintf("/devices/%d?", e.device), fmt.Sprintf("/versions/%d?", e.v1), "/findings?state=all&", "/vulns?",
		"/vulns/CVE-2021-44228?", "/deadlines?", "/sources?", "/audit?", "/users?", fmt.Sprintf("/findings/%d?", e.log4j),
		"/?list=clocks&", "/?list=new&", "/?list=kev&", "/?list=devices&"}
	for _, l := range lists {
		for _, format := range []string{"csv", "json"} {
			if strings.HasPrefix(l, "/?list=") && format == "json" {
				l = "/?"
			}
			res, body := c.get(l + "format=" + format)
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment; filename=") {
				t.Errorf("%sformat=%s: %d %q", l, format, res.StatusCode, res.Header.Get("Content-Disposition"))
				continue
			}
			switch format {
			case "csv":
				if recs, err := csv.NewReader(strings.NewReader(body)).ReadAll(); err != nil || len(recs) < 1 || len(recs[0]) < 2 {
					t.Errorf("%scsv: %d records, %v", l, len(recs), err)
				}
			case "json":
				if !json.Valid([]byte(body)) || body == "null\n" {
					t.Errorf("%sjson: %s", l, clip(body))
				}
			}
		}
	}
	if res, _ := c.get("/findings?format=xml"); res.StatusCode != 400 {
		t.Errorf("format=xml: %d, want 400", res.StatusCode)
	}
}

// TestTextRuleAPI sends a NUL byte, invalid UTF-8 and over-long values in a path, a query and JSON bodies, on both
// engines: each is 400 naming the field (PostgreSQL answered 500 where SQLite stored or matched).
func TestTextRuleAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			tok := e.token(vigil.RoleAdmin)
			for _, tt := range []struct {
				name, method, path string
				body               any
				want               string
			}{
				{"a NUL in a filter", "GET", "/api/v1/findings?q=log4j%00", nil, `query parameter \"q\": contains a NUL byte`},
				{"invalid UTF-8 in a filter", "GET", "/api/v1/vulns?q=%FF", nil, `query parameter \"q\": not valid UTF-8`},
				{"a NUL in a path", "GET", "/api/v1/vulns/CVE-2021-44228%00", nil, "path: contains a NUL byte"},
				{"a NUL in a device name", "POST", "/api/v1/devices", map[string]any{"name": "Pump\x00", "class": "II", "pathway": "510k"}, "name: contains a NUL byte"},
				{"a device name over the index limit", "POST", "/api/v1/devices", map[string]any{"name": strings.Repeat("p", 3000), "class": "II", "pathway": "510k"}, "name: 3000 bytes, more than 512"},
				{"a NUL in an event note", "POST", fmt.Sprintf("/api/v1/findings/%d/events", e.log4j),
					map[string]any{"type": "customer_notified", "date": "2025-06-02", "note": "CN\x00", "elements": []string{"a", "b", "c", "d"}}, "note: contains a NUL byte"},
				{"a NUL in a version", "POST", fmt.Sprintf("/api/v1/devices/%d/versions", e.device), map[string]any{"version": "4.0\x00"}, "version: contains a NUL byte"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					res, body := bearer(t, e.srv.URL, tok, tt.method, tt.path, tt.body)
					if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code": "EINVALID"`) || !strings.Contains(body, tt.want) {
						t.Errorf("%d %s, want 400 EINVALID naming %q", res.StatusCode, clip(body), tt.want)
					}
				})
			}
		})
	}
}

// TestEventAPILateEntry checks that the API leaves the entry day to Vigil, and that an action entered after its
// deadline shows in the finding's determination as a late_entry naming the event's index.
func TestEventAPILateEntry(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			tok := e.token(vigil.RoleRegulatory)
			path := fmt.Sprintf("/api/v1/findings/%d/events", e.log4j)
			res, body := bearer(t, e.srv.URL, tok, "POST", path, map[string]any{"type": "interim_controls", "date": "2025-06-02", "recorded": "2025-06-02", "note": "IFU addendum"})
			if res.StatusCode != 400 || !strings.Contains(body, `"recorded: Vigil records the day the event is entered`) {
				t.Errorf("event with recorded: %d %s", res.StatusCode, clip(body))
			}
			// D0 is 2025-06-02: the ED communication deadline is 2025-07-02.
			e.clock.T = time.Date(2025, 7, 3, 9, 0, 0, 0, time.UTC)
			res, body = bearer(t, e.srv.URL, tok, "POST", path, map[string]any{"type": "interim_controls", "date": "2025-06-02", "note": "IFU addendum"})
			if res.StatusCode != 201 {
				t.Fatalf("record interim controls: %d %s", res.StatusCode, clip(body))
			}
			res, body = bearer(t, e.srv.URL, tok, "GET", fmt.Sprintf("/api/v1/findings/%d", e.log4j), nil)
			var v struct {
				Determination struct {
					Warnings []map[string]any `json:"warnings"`
				} `json:"determination"`
			}
			if res.StatusCode != 200 || json.Unmarshal([]byte(body), &v) != nil {
				t.Fatalf("finding: %d %s", res.StatusCode, clip(body))
			}
			var late []map[string]any
			for _, w := range v.Determination.Warnings {
				if w["code"] == "late_entry" {
					late = append(late, w)
				}
			}
			// The facts' events are the recorded events in order: the fixture's notice, then these controls.
			if len(late) != 1 || late[0]["event"] != float64(1) ||
				!strings.HasPrefix(late[0]["message"].(string), "interim_controls dated 2025-06-02 was entered on 2025-07-03, after its deadline 2025-07-02") {
				t.Errorf("late_entry warnings %v", late)
			}
		})
	}
}

// TestManualFindingPage: a finding a person recorded shows why it was recorded, not a matcher's "Could not
// evaluate", on both engines.
func TestManualFindingPage(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			f := &vigil.Finding{VersionID: e.v1, Vulnerability: "CVE-2020-11023", Component: vigil.Component{Name: "jquery", Version: "3.1.1"},
				Evidence: vigil.Evidence{Matcher: "manual", Range: "< 3.5.0", Reason: "KEV triage: jQuery 3.1.1 ships in the service web UI"}}
			if err := e.db.CreateFinding(sys(), f, "Found in KEV triage."); err != nil {
				t.Fatal(err)
			}
			c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			res, page := c.get(fmt.Sprintf("/findings/%d", f.ID))
			if res.StatusCode != 200 || !strings.Contains(page, "<h2>Why it was recorded</h2>") ||
				!strings.Contains(page, "<dt>Reason</dt><dd>KEV triage: jQuery 3.1.1 ships in the service web UI</dd>") || strings.Contains(page, "Could not evaluate") {
				t.Errorf("manual finding page: %d\n%s", res.StatusCode, mainOf(page))
			}
		})
	}
}

// TestJSONKeepsAngleBrackets: an SPDX supplier "Person: Name <mail>" reads the same in the API and in a JSON
// export as on the page, not as \u003cmail\u003e.
func TestJSONKeepsAngleBrackets(t *testing.T) {
	e := newEnv(t, store.SQLite)
	const supplier = "Person: Natanael Copa <ncopa@alpinelinux.org>"
	if err := e.db.SetComponents(sys(), e.v1, []vigil.Component{{Name: "alpine-baselayout", Version: "3.2.0-r20", Supplier: supplier}}, "apk.spdx.json"); err != nil {
		t.Fatal(err)
	}
	res, api := bearer(t, e.srv.URL, e.token(vigil.RoleViewer), "GET", fmt.Sprintf("/api/v1/versions/%d/components", e.v1), nil)
	_, export := e.login(vigil.RoleViewer, password(vigil.RoleViewer)).get(fmt.Sprintf("/versions/%d?format=json", e.v1))
	for what, body := range map[string]string{"API": api, "JSON export": export} {
		if res.StatusCode != 200 || !strings.Contains(body, supplier) || strings.Contains(body, `\u003c`) {
			t.Errorf("%s: %d %s", what, res.StatusCode, clip(body))
		}
	}
}
