package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/web"
)

// unwired lists routes whose service this server is built without: no role can succeed on them, so they are left
// out of the check that every permitted role's request succeeds (they are still walked for forbidden successes).
var unwired = map[string]bool{
	// Signing through the OpenID Connect provider: the walk's server has no single sign-on (TestSSOStepUpSigning
	// runs it against a provider).
	"POST /sign/step-up": true,
}

// path fills a route pattern with the fixture's objects.
func (e *env) path(pattern string) string {
	id := func(p string) string {
		switch {
		case strings.HasPrefix(p, "/settings/notifications/"), strings.HasPrefix(p, "/api/v1/notify/rules/"):
			return fmt.Sprint(e.testRule)
		case strings.Contains(p, "/notices/") && strings.HasSuffix(p, "/isao-share"):
			return fmt.Sprint(e.notice)
		case strings.Contains(p, "/notices/"):
			i := 0
			if strings.HasSuffix(p, "/send") {
				i = 1
			}
			if strings.HasPrefix(p, "/api/") {
				i += 2
			}
			return fmt.Sprint(e.notices[i])
		case strings.Contains(p, "/advisories/"):
			return fmt.Sprint(e.advisory)
		case strings.Contains(p, "/isao/memberships/"):
			return fmt.Sprint(e.membership)
		case strings.Contains(p, "/isao/documents/"):
			return fmt.Sprint(e.isaoDoc)
		case strings.Contains(p, "/isao/signals/"):
			return fmt.Sprint(e.signal)
		case strings.HasPrefix(p, "/api/v1/vex/proposals/"):
			return fmt.Sprint(e.vexProposals[0])
		case strings.Contains(p, "/vex/proposals/"):
			return fmt.Sprint(e.vexProposals[1])
		case strings.Contains(p, "/intake/"):
			return fmt.Sprint(e.reportFor(p))
		case strings.Contains(p, "/part806/sign-off"):
			return fmt.Sprint(e.controlledCase) // an 806.20 record needs a correction not reported
		case strings.HasSuffix(p, "/part806/filings"):
			return fmt.Sprint(e.reportableCase) // the form files the log4j case's report; a report is filed once
		case strings.HasPrefix(p, "/api/v1/cases/") && strings.Contains(p, "/remediation"):
			return fmt.Sprint(e.log4jCase)
		case strings.HasPrefix(p, "/api/v1/cases/") && strings.HasSuffix(p, "/merge"):
			return fmt.Sprint(e.apiDup)
		case strings.HasPrefix(p, "/api/v1/cases/") && (strings.HasSuffix(p, "/split") || strings.HasSuffix(p, "/vex")):
			return fmt.Sprint(e.springCase)
		case strings.HasPrefix(p, "/api/v1/cases/"):
			return fmt.Sprint(e.apiCase)
		case strings.Contains(p, "/tokens/") && strings.HasPrefix(p, "/api/"):
			return fmt.Sprint(e.targetTokens[0])
		case strings.Contains(p, "/tokens/"):
			return fmt.Sprint(e.targetTokens[1])
		case strings.Contains(p, "/consignees/"):
			return fmt.Sprint(e.consignee)
		case strings.Contains(p, "/devices/"):
			return fmt.Sprint(e.device)
		case strings.Contains(p, "/versions/"):
			return fmt.Sprint(e.v1)
		case strings.Contains(p, "/findings/"):
			return fmt.Sprint(e.log4j)
		case strings.HasPrefix(p, "/cases/"), strings.HasPrefix(p, "/api/v1/cases/"):
			return fmt.Sprint(e.log4jCase)
		}
		return "CVE-2021-44228"
	}
	p := strings.ReplaceAll(pattern, "{id}", id(pattern))
	p = strings.ReplaceAll(p, "{name}", "target")
	p = strings.ReplaceAll(p, "{feed}", "fixture-osv")
	p = strings.ReplaceAll(p, "{ref}", "CC-1")
	kind := "cmp" // a device's document; a case's: its premarket decision record (every assessed case has one)
	if strings.Contains(pattern, "/cases/") {
		kind = "premarket"
	}
	p = strings.ReplaceAll(p, "{kind}", kind)
	p = strings.ReplaceAll(p, "{aid}", fmt.Sprint(e.attachment))
	p = strings.ReplaceAll(p, "/*", "/vigil.css")
	switch {
	case strings.HasSuffix(p, "/diff"):
		p += fmt.Sprintf("?with=%d", e.v2)
	case strings.HasSuffix(p, "/cvss"):
		p += "?vector=" + url.QueryEscape("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	case p == "/api/v1/signatures":
		p += "?kind=assessment&id=1&id=2"
	}
	return p
}

// reportFor picks the fixture report a route acts on: one in the status its step needs, from the forms' set or
// the API's, so that each step's first permitted request succeeds.
func (e *env) reportFor(pattern string) int64 {
	set := 0
	if strings.HasPrefix(pattern, "/api/") {
		set = 1
	}
	switch {
	case strings.HasSuffix(pattern, "/triage"):
		return e.reports["acknowledged"][set]
	case strings.HasSuffix(pattern, "/advance"):
		return e.reports["triaged"][set]
	case strings.HasSuffix(pattern, "/close"), strings.HasSuffix(pattern, "/link"), strings.HasSuffix(pattern, "/messages"), strings.HasSuffix(pattern, "/message"):
		return e.reports["remediation"][set]
	case strings.HasSuffix(pattern, "/ack"):
		return e.reports["received"][set]
	}
	return e.reports["received"][0] // the pages, the attachment
}

// fill puts the fixture's objects into an API example that names some: the examples' numbers cannot know them.
func (e *env) fill(pattern string, ex any) any {
	m, ok := ex.(map[string]any)
	if ok && pattern == "/api/v1/isao/citations" {
		return map[string]any{"assessment": e.assessment, "signals": []int64{e.signal}, "reason": m["reason"]}
	}
	if !ok || !strings.HasPrefix(pattern, "/api/v1/cases") && pattern != "/api/v1/notices" && pattern != "/api/v1/advisories" {
		return ex
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	switch {
	case pattern == "/api/v1/cases":
		out["device_id"] = e.device
	case pattern == "/api/v1/notices", pattern == "/api/v1/advisories":
		out["cases"] = []int64{e.noticeCase}
	case strings.HasSuffix(pattern, "/merge"):
		out["into"] = e.apiCase
	case strings.HasSuffix(pattern, "/split"):
		out["findings"] = []int64{e.other}
	case strings.HasSuffix(pattern, "/remediation/retractions"):
		out["fix_id"] = e.fixes[1]
	case strings.HasSuffix(pattern, "/retractions"):
		out["record"] = fmt.Sprintf("E%d", e.apiEvent)
	}
	return out
}

// request builds a request for a route; the example body goes only with the route's own method.
func (e *env) request(rt web.RouteInfo, method string) *http.Request {
	var body io.Reader
	ctype := ""
	if method == rt.Method {
		switch ex := rt.Example.(type) {
		case url.Values:
			switch {
			case strings.HasSuffix(rt.Pattern, "/merge"):
				// The example's case number cannot know the fixture's: merge the log4j case into the spring one.
				ex = url.Values{"into": {fmt.Sprint(e.springCase)}, "reason": ex["reason"]}
			case strings.HasSuffix(rt.Pattern, "/remediation/retractions"):
				ex = url.Values{"fix_id": {fmt.Sprint(e.fixes[0])}, "record": ex["record"], "reason": ex["reason"]}
			case rt.Pattern == "/notices" || rt.Pattern == "/advisories":
				// A draft names a case of the fixture's.
				ex = url.Values{"case": {fmt.Sprint(e.noticeCase)}, "tlp": ex["tlp"]}
			case strings.HasSuffix(rt.Pattern, "/split"):
				// The log4j finding, in the log4j case or (merged) the spring one: a split acts on the live case.
				ex = url.Values{"finding": {fmt.Sprint(e.log4j)}, "vuln": ex["vuln"], "reason": ex["reason"]}
			case rt.Pattern == "/isao/shares/notice":
				ex = url.Values{"notice": {fmt.Sprint(e.notice)}, "isao": ex["isao"], "export": ex["export"]}
			case rt.Pattern == "/isao/signals/{id}/cite":
				ex = url.Values{"assessment": {fmt.Sprintf("A%d", e.assessment)}, "reason": ex["reason"]}
			case rt.Pattern == "/sources/rematch":
				// The fixture's findings are seeded, not matched: a re-match of them would change what later routes use.
				ex = url.Values{"version": {fmt.Sprint(e.emptyVersion)}}
			}
			body, ctype = strings.NewReader(e.asSigner(ex.Encode())), "application/x-www-form-urlencoded"
		case nil:
			if rt.Upload {
				var b bytes.Buffer
				mw := multipart.NewWriter(&b)
				if strings.HasSuffix(rt.Pattern, "/isao/memberships/{id}/documents") {
					for k, v := range map[string]string{"item": "2", "kind": "policy", "date": "2025-01-15", "reason": "Policies reissued."} {
						mw.WriteField(k, v)
					}
					fw, _ := mw.CreateFormFile("file", "h-isac-policies-2025.txt")
					fw.Write([]byte("Health-ISAC policies 2025\n"))
				} else if strings.HasSuffix(rt.Pattern, "/isao/signals/import") || strings.HasSuffix(rt.Pattern, "/isao/signals") {
					fw, _ := mw.CreateFormFile("file", "bulletin.stix.json")
					fw.Write([]byte(bulletin))
				} else if strings.HasSuffix(rt.Pattern, "/imports") {
					fw, _ := mw.CreateFormFile("file", "GHSA-test-0001-0001.json")
					fw.Write([]byte(osvDoc))
				} else if strings.HasSuffix(rt.Pattern, "/vex") {
					fw, _ := mw.CreateFormFile("file", "supplier.openvex.json")
					fw.Write([]byte(vexDoc(rt.Pattern)))
				} else {
					fw, _ := mw.CreateFormFile("file", "upload.cdx.json")
					fw.Write([]byte(sbomDoc))
				}
				mw.Close()
				body, ctype = &b, mw.FormDataContentType()
			}
		default:
			b, _ := json.Marshal(e.fill(rt.Pattern, ex))
			body, ctype = strings.NewReader(e.asSigner(string(b))), "application/json"
		}
	}
	path := e.path(rt.Pattern)
	if method == "POST" && rt.Pattern == "/api/v1/rematch" {
		path += fmt.Sprintf("?version=%d", e.emptyVersion) // as for /sources/rematch
	}
	if method == "POST" && strings.HasSuffix(rt.Pattern, "/consignees/{id}/delete") {
		// A delete succeeds once: each identity tries it on a consignee of its own.
		path = fmt.Sprintf("/consignees/%d/delete", e.deletable[0])
		e.deletable = append(e.deletable[1:], e.deletable[0])
	}
	for via, pattern := range map[string]string{"form": "POST /settings/notifications/{id}/remove", "api": "DELETE /api/v1/notify/rules/{id}"} {
		if method+" "+rt.Pattern == pattern && len(e.removable[via]) > 0 { // none outside the role walk: the request is refused before it matters
			// A rule is removed once: each identity tries it on a rule of its own.
			path = strings.ReplaceAll(rt.Pattern, "{id}", fmt.Sprint(e.removable[via][0]))
			e.removable[via] = append(e.removable[via][1:], e.removable[via][0])
		}
	}
	if method == "POST" && strings.HasSuffix(rt.Pattern, "/cases/filters/{id}/delete") {
		// A saved filter is deleted by its owner, once: the walk's identities come in the order of e.filters.
		path = fmt.Sprintf("/cases/filters/%d/delete", e.filters[0])
		e.filters = append(e.filters[1:], e.filters[0])
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req
}

// asSigner fills a signing example's signer and password in with the walking role's. A signing re-authenticates
// through the sign-in rate limit (10 a minute), which the walk's many signings would exhaust on the fixed clock:
// each moves the clock on by 10 seconds, as the signings of a real day are spread out, and the sessions stay
// within their idle timeout through the run of signed API acts.
func (e *env) asSigner(body string) string {
	if strings.Contains(body, "SIGNER") {
		e.clock.Advance(10 * time.Second)
	}
	return strings.NewReplacer("SIGNER", e.signer, "PASSWORD", password(e.signer)).Replace(body)
}

// identity is who sends a request: nobody, or a role through its session (pages) and token (API).
type identity struct {
	role    string
	session *client
	token   string
}

func succeeded(res *http.Response) bool {
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return true
	}
	// A form that worked answers 303 to the page it changed; a refused one never redirects anywhere but to sign-in.
	loc := res.Header.Get("Location")
	return res.StatusCode >= 300 && res.StatusCode < 400 && loc != "" && !strings.HasPrefix(loc, "/login")
}

func canDo(role, perm string) bool {
	return vigil.Actor{Name: role, Role: role}.Can(perm)
}

var verbs = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// TestRoleWalk walks every registered route with every verb as every role and anonymously, on both engines, and
// fails on any success the role's permissions do not allow. Each permitted request carries a valid example, and at
// least one permitted role must succeed with it: a handler that forgot to authorize would then succeed for a role
// that may not, and be caught. Every response carries the security headers, and every API success matches its
// OpenAPI schema.
func TestRoleWalk(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) { roleWalk(t, engine) })
	}
}

func roleWalk(t *testing.T, engine string) {
	e := newEnv(t, engine)
	e.openAPICases()
	e.notifyRules()
	e.communication()
	e.isaoFixture()
	e.rematchFixture()
	ids := []identity{{role: ""}}
	for _, r := range roles {
		ids = append(ids, identity{role: r, session: e.login(r, password(r)), token: e.token(r)})
	}
	table := map[string]web.RouteInfo{}
	for _, rt := range e.web.Routes() {
		table[rt.Method+" "+rt.Pattern] = rt
	}
	// The router's own view of what is registered: everything must be in the table.
	var walked []web.RouteInfo
	err := chi.Walk(e.web.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		rt, ok := table[method+" "+route]
		if !ok {
			t.Errorf("%s %s is registered but not in the route table", method, route)
			return nil
		}
		walked = append(walked, rt)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(walked) != len(table) {
		t.Errorf("chi has %d routes, the table %d", len(walked), len(table))
	}
	schemas := newSchemas(t, e)
	okBy := map[string][]string{}
	var patterns []string
	for _, rt := range walked {
		if !slices.Contains(patterns, rt.Pattern) {
			patterns = append(patterns, rt.Pattern)
		}
	}
	for _, pattern := range patterns {
		for _, method := range verbs {
			rt, registered := table[method+" "+pattern]
			if !registered {
				rt = web.RouteInfo{Method: "none", Pattern: pattern, API: strings.HasPrefix(pattern, "/api/")}
			}
			if method == "POST" && pattern == "/logout" {
				continue // ends the session the rest of the walk uses; tested on its own
			}
			for _, id := range ids {
				e.signer = id.role
				req := e.request(rt, method)
				var res *http.Response
				var body string
				switch {
				case id.role == "":
					res, body = e.anon().do(req)
				case rt.API && !rt.Session:
					req.Header.Set("Authorization", "Bearer "+id.token)
					res, body = id.session.do(req)
				default:
					req.Header.Set("X-CSRF-Token", id.session.csrf)
					res, body = id.session.do(req)
				}
				name := fmt.Sprintf("%s %s as %q", method, pattern, id.role)
				checkHeaders(t, name, res)
				allowed := registered && (rt.Public || id.role != "" && canDo(id.role, rt.Perm))
				ok := succeeded(res)
				if ok && !allowed {
					t.Errorf("%s: %d, but the role may not (needs %q)", name, res.StatusCode, rt.Perm)
				}
				key := method + " " + pattern
				if ok && allowed && id.role != "" {
					okBy[key] = append(okBy[key], id.role)
					switch {
					case rt.Download != "":
						if ct := res.Header.Get("Content-Type"); ct != rt.Download {
							t.Errorf("%s: a %s download answered %s", name, rt.Download, ct)
						}
					case rt.API && res.StatusCode < 300:
						schemas.check(t, name, rt, res.StatusCode, body)
					}
				}
				if allowed && !ok && !rt.Public && id.role != "" && res.StatusCode != http.StatusConflict && !unwired[key] {
					t.Errorf("%s: %d, want success (the example must be valid): %s", name, res.StatusCode, clip(body))
				}
			}
		}
	}
	for key, rt := range table {
		if rt.Public || unwired[key] || key == "POST /logout" {
			continue
		}
		if len(okBy[key]) == 0 {
			t.Errorf("%s: no role succeeded with the example, so the walk proves nothing for it", key)
		}
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func checkHeaders(t *testing.T, name string, res *http.Response) {
	t.Helper()
	for h, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("%s: %s = %q, want %q", name, h, res.Header.Get(h), want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
		!strings.Contains(csp, "script-src 'self'") {
		t.Errorf("%s: CSP is not strict: %q", name, csp)
	}
}

// schemas validates API responses against the OpenAPI document the server serves.
type schemas struct {
	c    *jsonschema.Compiler
	seen map[string]*jsonschema.Schema
}

const docURL = "https://vigil.test/openapi.json"

func newSchemas(t *testing.T, e *env) *schemas {
	res, body := e.anon().get("/api/openapi.json")
	if res.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", res.StatusCode)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(docURL, doc); err != nil {
		t.Fatal(err)
	}
	return &schemas{c: c, seen: map[string]*jsonschema.Schema{}}
}

func pointerEscape(s string) string {
	s = strings.ReplaceAll(s, "~", "~0")
	s = strings.ReplaceAll(s, "/", "~1")
	return url.PathEscape(s)
}

func (s *schemas) check(t *testing.T, name string, rt web.RouteInfo, status int, body string) {
	t.Helper()
	loc := fmt.Sprintf("%s#/paths/%s/%s/responses/%d/content/application~1json/schema", docURL, pointerEscape(rt.Pattern), strings.ToLower(rt.Method), status)
	sch, ok := s.seen[loc]
	if !ok {
		var err error
		if sch, err = s.c.Compile(loc); err != nil {
			t.Errorf("%s: the OpenAPI document has no schema for status %d: %v", name, status, err)
			s.seen[loc] = nil
			return
		}
		s.seen[loc] = sch
	}
	if sch == nil {
		return
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Errorf("%s: response is not JSON: %v", name, err)
		return
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s: response does not match its OpenAPI schema: %v", name, err)
	}
}

// TestOpenAPIMatchesRouter checks the served document against chi's routes, both ways.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t, store.SQLite)
	res, body := e.anon().get("/api/openapi.json")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	registered := map[string]bool{}
	chi.Walk(e.web.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/v1/") {
			registered[strings.ToLower(method)+" "+route] = true
			if _, ok := doc.Paths[route][strings.ToLower(method)]; !ok {
				t.Errorf("%s %s is registered but not in the OpenAPI document", method, route)
			}
		}
		return nil
	})
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, m+" "+p)
			if !registered[m+" "+p] {
				t.Errorf("%s %s is documented but not registered", m, p)
			}
		}
	}
	if len(documented) < 30 || !slices.Contains(documented, "post /api/v1/determine") {
		t.Errorf("the document covers only %d operations", len(documented))
	}
}
