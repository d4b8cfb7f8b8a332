package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/web"
)

// TestUIParity: what the command line can change, the screens can change, through the same services. One fixture
// per engine serves every screen's subtest (each leaves what it changed for the next to see): each form round-trips
// (the stored values come back in the form, a save shows on the page and in the audit trail with its reason), a
// refused value shows the form again as sent with the service's message naming the field, a form without the
// session's CSRF token is refused, and a role that may not change the record gets a read-only page and 403.
func TestUIParity(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			u := &uiEnv{env: e, admin: e.login(vigil.RoleAdmin, password(vigil.RoleAdmin)), viewer: e.login(vigil.RoleViewer, password(vigil.RoleViewer))}
			t.Run("device", u.deviceEdit)
			t.Run("version", u.versionEdit)
			t.Run("org", u.orgEdit)
			t.Run("isaos", u.isaoEdit)
			t.Run("consignees", u.consigneeScreens)
			t.Run("feeds", u.feedScreens)
			t.Run("threats", u.threatScreens)
			t.Run("saved filters", u.savedFilters)
			t.Run("over time", u.overTime)     // it moves the clock on
			t.Run("rematch", u.rematchScreens) // last: the fixture's findings are seeded, not matched
		})
	}
}

type uiEnv struct {
	*env
	admin, viewer *client
}

// formCase is one post of a form and what must come back.
type formCase struct {
	name   string
	c      *client
	path   string
	form   url.Values
	status int
	// location is the redirect a save answers with; want are texts the page answered must hold (unescaped).
	location string
	want     []string
}

func (u *uiEnv) post(t *testing.T, tc formCase) string {
	t.Helper()
	f := url.Values{}
	for k, v := range tc.form {
		f[k] = v
	}
	if tc.c.csrf != "" && !f.Has("csrf") {
		f.Set("csrf", tc.c.csrf)
	}
	res, body := tc.c.postForm(tc.path, f)
	body = html.UnescapeString(body)
	if res.StatusCode != tc.status {
		t.Fatalf("%s: %d, want %d: %s", tc.name, res.StatusCode, tc.status, alertOf(body))
	}
	if tc.location != "" && res.Header.Get("Location") != tc.location {
		t.Errorf("%s: redirected to %q, want %q", tc.name, res.Header.Get("Location"), tc.location)
	}
	for _, w := range tc.want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: the page lacks %q: %s", tc.name, w, clip(body))
		}
	}
	return body
}

// page gets a page as c and checks it holds each text (unescaped) and none of the absent ones.
func (u *uiEnv) page(t *testing.T, c *client, path string, want []string, absent ...string) string {
	t.Helper()
	res, body := c.get(path)
	body = html.UnescapeString(body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, clip(body))
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("GET %s lacks %q", path, w)
		}
	}
	for _, a := range absent {
		if strings.Contains(body, a) {
			t.Errorf("GET %s holds %q", path, a)
		}
	}
	return body
}

// refusals checks that a post without the CSRF token, and one by the viewer, change nothing.
func (u *uiEnv) refusals(t *testing.T, path string, form url.Values) {
	t.Helper()
	nocsrf := url.Values{"csrf": {"forged"}}
	for k, v := range form {
		nocsrf[k] = v
	}
	u.post(t, formCase{name: "no CSRF token", c: u.admin, path: path, form: nocsrf, status: 403, want: []string{"CSRF check failed"}})
	u.post(t, formCase{name: "viewer", c: u.viewer, path: path, form: form, status: 403})
}

// audited returns the newest audit event of action, checking its actor and reason.
func (u *uiEnv) audited(t *testing.T, action, reason string) *vigil.AuditEvent {
	t.Helper()
	evs, err := u.db.Events(sys(), vigil.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no %s audit event (%v)", action, err)
	}
	if evs[0].Actor != "user:admin" || evs[0].Reason != reason {
		t.Errorf("%s: actor %s reason %q, want user:admin %q", action, evs[0].Actor, evs[0].Reason, reason)
	}
	return evs[0]
}

func (u *uiEnv) deviceEdit(t *testing.T) {
	path := fmt.Sprintf("/devices/%d/edit", u.device)
	u.page(t, u.admin, path, []string{`name="name" required value="Infusio IP-3"`, "dose delivery: catastrophic\nevent log (PHI): negligible", `name="cyber_device" value="1" checked`})
	u.page(t, u.viewer, path, []string{"may read this device but not change it"}, `id="device-edit"`)
	good := url.Values{"name": {"Infusio IP-3X"}, "model": {"IP-3X"}, "class": {"III"}, "pathway": {"PMA"}, "submission_number": {"P200001"},
		"udi_di": {"00812345000016"}, "pma_anniversary": {"2025-03-01"}, "intended_use": {"Infusion of fluids."},
		"functions": {"dose delivery: catastrophic\nevent log (PHI): minor\nalarm: critical"}, "reason": {"Re-classified after the PMA."}}
	u.refusals(t, path, good)
	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("functions", "dose delivery: lethal")
	u.post(t, formCase{name: "unknown severity", c: u.admin, path: path, form: bad, status: 400,
		want: []string{"The device was not saved: functions[0].severity", "Re-classified after the PMA."}})
	bad.Set("functions", "dose delivery catastrophic")
	u.post(t, formCase{name: "function without severity", c: u.admin, path: path, form: bad, status: 400, want: []string{"functions line 1: write \"function: severity\""}})
	bad.Set("functions", good.Get("functions"))
	bad.Set("pma_anniversary", "March 1st")
	u.post(t, formCase{name: "bad date", c: u.admin, path: path, form: bad, status: 400, want: []string{`pma_anniversary: "March 1st" is not a date`}})
	u.post(t, formCase{name: "save", c: u.admin, path: path, form: good, status: 303, location: fmt.Sprintf("/devices/%d?done=device-saved", u.device)})
	u.page(t, u.admin, fmt.Sprintf("/devices/%d?done=device-saved", u.device), []string{"Infusio IP-3X", "model IP-3X · Class III · PMA P200001", "Device saved", "alarm"})
	ev := u.audited(t, "device.update", "Re-classified after the PMA.")
	if !strings.Contains(string(ev.New), `"udi_di":"00812345000016"`) || !strings.Contains(string(ev.Old), `"class":"II"`) {
		t.Errorf("device.update records %s over %s", ev.New, ev.Old)
	}
	u.page(t, u.admin, path, []string{`value="2025-03-01"`, "event log (PHI): minor"}, `name="cyber_device" value="1" checked`)
}

func (u *uiEnv) versionEdit(t *testing.T) {
	path := fmt.Sprintf("/versions/%d/edit", u.v2)
	u.page(t, u.admin, path, []string{`<option value="marketed" selected>`, `name="units_fielded" inputmode="numeric" value="200"`})
	u.page(t, u.viewer, path, []string{"may read this version but not change it"}, `id="version-edit"`)
	good := url.Values{"status": {"fielded"}, "status_date": {"2025-05-01"}, "release_date": {"2024-01-15"}, "units_fielded": {"180"}, "reason": {"No longer marketed."}}
	u.refusals(t, path, good)
	for _, tc := range []struct{ field, value, want string }{
		{"status", "retired", "status"},
		{"units_fielded", "many", `units_fielded: "many" is not a whole number`},
		{"units_fielded", "-3", "units_fielded"},
		{"status_date", "2025-13-01", `status_date: "2025-13-01" is not a date`},
	} {
		bad := url.Values{}
		for k, v := range good {
			bad[k] = v
		}
		bad.Set(tc.field, tc.value)
		u.post(t, formCase{name: tc.field + "=" + tc.value, c: u.admin, path: path, form: bad, status: 400, want: []string{"The version was not saved: " + tc.want, "No longer marketed."}})
	}
	u.post(t, formCase{name: "save", c: u.admin, path: path, form: good, status: 303, location: fmt.Sprintf("/versions/%d?done=version-saved", u.v2)})
	u.page(t, u.admin, fmt.Sprintf("/versions/%d?done=version-saved", u.v2), []string{"Fielded · released 2024-01-15 · 180 units fielded", "Version saved"})
	u.audited(t, "version.update", "No longer marketed.")
}

// alertOf is the page's alert (why a form was refused), or the start of the page when it has none.
func alertOf(body string) string {
	if _, rest, ok := strings.Cut(body, `role="alert">`); ok {
		msg, _, _ := strings.Cut(rest, "<")
		return msg
	}
	return clip(body)
}

func (u *uiEnv) orgEdit(t *testing.T) {
	u.page(t, u.admin, "/settings", []string{`name="name" required value="Fixture Medical"`, "FEI number"})
	u.page(t, u.viewer, "/settings", []string{"FDA Establishment Identifier (FEI)", "not recorded", "FDA establishment registration number", "<dd>2950123</dd>"}, `name="fei_number"`)
	good := url.Values{"name": {"Fixture Medical Inc."}, "fei_number": {"3001234567"}, "registration_number": {"2950124"}, "time_zone": {"UTC"}, "cvd_ack_days": {"5"},
		"working_days": {"federal"}, "reassessment_clock": {"reassessed"}, "roll_deadlines": {"false"}, "reason": {"Registered name."}}
	u.refusals(t, "/settings", good)
	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("name", " ")
	u.post(t, formCase{name: "no name", c: u.admin, path: "/settings", form: bad, status: 400, want: []string{"The settings were not saved: name: required", `value="3001234567"`}})
	u.post(t, formCase{name: "save", c: u.admin, path: "/settings", form: good, status: 303, location: "/settings?done=settings"})
	u.page(t, u.viewer, "/settings", []string{"Settings: Fixture Medical Inc.", "<dd>3001234567</dd>", "<dd>2950124</dd>"})
	u.audited(t, "org.update", "Registered name.")
}

func (u *uiEnv) isaoEdit(t *testing.T) {
	u.page(t, u.admin, "/settings", []string{`name="isao_name" value="Health-ISAC"`, `name="isao_since" type="date" value="2020-01-01"`, `placeholder="add an ISAO"`})
	u.page(t, u.viewer, "/settings", []string{"Health-ISAC", "all four criteria"}, `id="isao-form"`)
	// The stored row (ticked: the membership ends) and the empty row filled in: MedISAO with three items evidenced.
	good := url.Values{"isao_name": {"Health-ISAC", "MedISAO"}, "isao_since": {"2020-01-01", "2025-01-10"},
		"isao_c1": {"a", "Membership MA-7"}, "isao_c2": {"b", "Agreement PA-2025"}, "isao_c3": {"c", "Share log SL-1"}, "isao_c4": {"d", ""},
		"isao_remove": {"0"}, "reason": {"Moved to MedISAO."}}
	u.refusals(t, "/settings/isaos", good)
	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad["isao_since"] = []string{"2020-01-01", "last spring"}
	u.post(t, formCase{name: "bad date", c: u.admin, path: "/settings/isaos", form: bad, status: 400,
		want: []string{`The ISAO memberships were not saved: isaos[1].since: "last spring" is not a date`, `value="Agreement PA-2025"`, `value="Moved to MedISAO."`}})
	bad["isao_since"] = good["isao_since"]
	bad["isao_name"] = []string{"Health-ISAC", ""}
	u.post(t, formCase{name: "evidence without a name", c: u.admin, path: "/settings/isaos", form: bad, status: 400, want: []string{"isaos[1].name: required"}})
	u.post(t, formCase{name: "save", c: u.admin, path: "/settings/isaos", form: good, status: 303, location: "/settings?done=isaos#isaos"})
	u.page(t, u.viewer, "/settings", []string{"MedISAO", "2025-01-10", "incomplete"}, "Health-ISAC")
	ms, err := u.app.ISAO.Memberships(sys())
	if err != nil || len(ms) != 2 {
		t.Fatalf("stored memberships: %+v (%v)", ms, err)
	}
	today := u.app.ISAO.Today(sys())
	hi, med := ms[0], ms[1]
	if hi.Name != "Health-ISAC" || hi.Active(today) || hi.Until != today.AddDays(-1) || len(hi.Documents) != 4 {
		t.Errorf("Health-ISAC, ended with its records kept: %+v", hi)
	}
	if med.Name != "MedISAO" || !med.Active(today) || len(med.Documents) != 3 || med.Documents[2].Title != "Share log SL-1" || med.Documents[2].Kind != vigil.DocNote ||
		!slices.Equal(med.Missing(today), []int{4}) {
		t.Errorf("MedISAO: %+v", med)
	}
	u.audited(t, "isao.create", "Moved to MedISAO.")
	u.audited(t, "isao.document", "Moved to MedISAO.")
}

func (u *uiEnv) consigneeScreens(t *testing.T) {
	u.page(t, u.viewer, "/consignees", []string{"St. Fixture Hospital", "Closing Clinic 1", `<td class="num">40</td>`}, `id="consignee-create"`)
	create := url.Values{"name": {"Mercy General"}, "contact": {"biomed@mercy.example"}, "address": {"1 Main St, Springfield"}}
	u.refusals(t, "/consignees", create)
	u.post(t, formCase{name: "create without a name", c: u.admin, path: "/consignees", form: url.Values{"contact": {"x@y.example"}}, status: 400,
		want: []string{"The consignee was not created: name: required", `value="x@y.example"`}})
	u.post(t, formCase{name: "create", c: u.admin, path: "/consignees", form: create, status: 303})
	cs, err := u.db.Consignees(sys())
	if err != nil || len(cs) != 3+len(roles) {
		t.Fatalf("consignees after create: %d (%v)", len(cs), err)
	}
	var mercy *vigil.Consignee
	for _, c := range cs {
		if c.Name == "Mercy General" {
			mercy = c
		}
	}
	path := fmt.Sprintf("/consignees/%d", mercy.ID)
	u.page(t, u.admin, path, []string{`value="biomed@mercy.example"`, "1 Main St, Springfield", fmt.Sprintf(`name="units_%d"`, u.v2)})
	u.page(t, u.viewer, fmt.Sprintf("/consignees/%d", u.consignee), []string{`value="40"`, `value="L-1; L-2"`, "readonly"}, `id="consignee-edit"`, `id="consignee-delete"`)
	edit := url.Values{"name": {"Mercy General Hospital"}, "contact": {"Dana Biomed, +1 555 0100"}, "address": {"1 Main St, Springfield"}, "emails": {"biomed@mercy.example\n it@mercy.example "},
		fmt.Sprintf("units_%d", u.v1): {"12"}, fmt.Sprintf("lots_%d", u.v1): {"A-7; A-8, A-9"}, fmt.Sprintf("units_%d", u.v2): {"3"},
		"reason": {"Units from the 2025 service report."}}
	u.refusals(t, path, edit)
	bad := url.Values{}
	for k, v := range edit {
		bad[k] = v
	}
	bad.Set(fmt.Sprintf("units_%d", u.v2), "three")
	u.post(t, formCase{name: "units not a number", c: u.admin, path: path, form: bad, status: 400,
		want: []string{`The consignee was not saved: units (Infusio IP-3X 3.2.1): "three" is not a whole number`, `value="A-7; A-8, A-9"`, `value="Units from the 2025 service report."`}})
	bad.Set(fmt.Sprintf("units_%d", u.v2), "3")
	bad.Set("emails", "biomed at mercy")
	u.post(t, formCase{name: "bad e-mail", c: u.admin, path: path, form: bad, status: 400, want: []string{"The consignee was not saved: emails[0]"}})
	u.post(t, formCase{name: "save", c: u.admin, path: path, form: edit, status: 303, location: path + "?done=consignee-saved"})
	got, err := u.db.Consignee(sys(), mercy.ID)
	if err != nil || got.Name != "Mercy General Hospital" || got.Contact != "Dana Biomed, +1 555 0100" || len(got.Units) != 2 || strings.Join(got.Emails, ",") != "biomed@mercy.example,it@mercy.example" ||
		got.Units[0].Units != 12 || strings.Join(got.Units[0].Lots, "|") != "A-7|A-8|A-9" || got.Units[1].Units != 3 {
		t.Errorf("stored consignee: %+v (%v)", got, err)
	}
	u.audited(t, "consignee.update", "Units from the 2025 service report.")
	u.page(t, u.admin, "/consignees", []string{"Mercy General Hospital", `<td class="num">15</td>`})

	del := fmt.Sprintf("/consignees/%d/delete", mercy.ID)
	u.refusals(t, del, url.Values{"reason": {"Site closed."}})
	u.post(t, formCase{name: "delete without a reason", c: u.admin, path: del, form: url.Values{"reason": {""}}, status: 400,
		want: []string{"The consignee was not deleted: reason: required", `value="A-7; A-8; A-9"`}})
	u.post(t, formCase{name: "delete", c: u.admin, path: del, form: url.Values{"reason": {"Site closed."}}, status: 303, location: "/consignees?done=consignee-deleted"})
	u.page(t, u.admin, "/consignees?done=consignee-deleted", []string{"Consignee deleted"}, "Mercy General")
	ev := u.audited(t, "consignee.delete", "Site closed.")
	if !strings.Contains(string(ev.Old), "Mercy General Hospital") {
		t.Errorf("consignee.delete keeps %s", ev.Old)
	}
}

func (u *uiEnv) feedScreens(t *testing.T) {
	u.page(t, u.viewer, "/sources", []string{"fixture-osv", "not synced"}, "Sync now", `id="feed-upload"`, `id="feed-form"`)
	u.page(t, u.admin, "/sources", []string{`action="/sources/fixture-osv/sync"`, `id="feed-upload"`, `name="every" required value="24h"`})

	// Sync now: fetched, imported, the portfolio re-matched, the attempt recorded.
	u.refusals(t, "/sources/fixture-osv/sync", url.Values{})
	if n := u.feedHits.Load(); n != 0 {
		t.Fatalf("a refused sync fetched the feed %d times", n)
	}
	u.post(t, formCase{name: "sync", c: u.admin, path: "/sources/fixture-osv/sync", status: 200,
		want: []string{"Synced fixture-osv", "osv +1 added", "re-matched"}})
	if n := u.feedHits.Load(); n != 1 {
		t.Errorf("sync fetched the feed %d times, want 1", n)
	}
	f, err := u.app.Intel.Feed(sys(), "fixture-osv")
	if err != nil || f.LastSuccess.IsZero() || f.Failures != 0 {
		t.Errorf("the sync was not recorded: %+v (%v)", f, err)
	}
	u.post(t, formCase{name: "sync an unknown feed", c: u.admin, path: "/sources/nope/sync", status: 404})

	// Configure: an existing feed from its page, a new one from the list.
	u.page(t, u.admin, "/sources/fixture-osv", []string{`name="editing" value="1"`, `<option selected>osv</option>`, "/GHSA-test-0001-0001.json", `name="every" required value="24h"`, `name="enabled" value="1" checked`})
	u.page(t, u.viewer, "/sources/fixture-osv", []string{"may read the feeds but not configure them"}, `id="feed-form"`)
	edit := url.Values{"editing": {"1"}, "name": {"fixture-osv"}, "source": {"osv"}, "url": {f.URL}, "every": {"6h"}}
	u.refusals(t, "/sources", edit)
	bad := url.Values{"editing": {"1"}, "name": {"fixture-osv"}, "source": {"osv"}, "url": {f.URL}, "every": {"daily"}}
	u.post(t, formCase{name: "bad schedule", c: u.admin, path: "/sources", form: bad, status: 400, want: []string{`The feed was not saved: every: "daily" is not a duration`, `name="editing" value="1"`}})
	bad.Set("every", "6h")
	bad.Set("url", "ftp://feeds.example/osv.zip")
	u.post(t, formCase{name: "bad URL", c: u.admin, path: "/sources", form: bad, status: 400, want: []string{`url: "ftp://feeds.example/osv.zip" is not an http(s) URL`}})
	u.post(t, formCase{name: "save", c: u.admin, path: "/sources", form: edit, status: 303, location: "/sources?done=feed-saved"})
	if f, err := u.app.Intel.Feed(sys(), "fixture-osv"); err != nil || f.Every.String() != "6h0m0s" || f.Enabled {
		t.Errorf("after the edit: %+v (%v)", f, err)
	}
	u.page(t, u.viewer, "/sources", []string{"disabled"})
	add := url.Values{"name": {"osv maven"}, "source": {"osv"}, "url": {"https://osv-vulnerabilities.storage.googleapis.com/Maven/all.zip"}, "every": {"24h"}, "enabled": {"1"}}
	u.post(t, formCase{name: "name with a space", c: u.admin, path: "/sources", form: add, status: 400, want: []string{`name: "osv maven" must be 1-64 characters without spaces`, `id="feed-upload"`}})
	add.Set("name", "osv-maven")
	u.post(t, formCase{name: "add", c: u.admin, path: "/sources", form: add, status: 303})
	u.page(t, u.admin, "/sources", []string{"osv-maven", "every 24h"})
	// Upload a feed file: imported and re-matched; a bad record keeps nothing.
	upload := func(c *client, csrf, name, doc string) (*http.Response, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf", csrf)
		mw.WriteField("source", "osv")
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(doc))
		mw.Close()
		req, _ := http.NewRequest("POST", u.srv.URL+"/sources/imports", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, body := c.do(req)
		return res, html.UnescapeString(body)
	}
	doc := strings.ReplaceAll(osvDoc, "GHSA-test-0001-0001", "GHSA-test-0002-0002")
	if res, _ := upload(u.viewer, u.viewer.csrf, "viewer.json", doc); res.StatusCode != 403 {
		t.Errorf("viewer upload: %d, want 403", res.StatusCode)
	}
	if res, _ := upload(u.admin, "forged", "forged.json", doc); res.StatusCode != 403 {
		t.Errorf("upload without the CSRF token: %d, want 403", res.StatusCode)
	}
	if res, body := upload(u.admin, u.admin.csrf, "broken.json", `{"id": "GHSA-x", "affected": "no"}`); res.StatusCode != 400 ||
		!strings.Contains(body, "The file was not imported (nothing was kept): ") || !strings.Contains(body, "broken.json") {
		t.Errorf("bad upload: %d %s", res.StatusCode, alertOf(body))
	}
	if res, body := upload(u.admin, u.admin.csrf, "GHSA-test-0002-0002.json", doc); res.StatusCode != 200 || !strings.Contains(body, "Imported GHSA-test-0002-0002.json") ||
		!strings.Contains(body, "osv +1 added") {
		t.Errorf("upload: %d %s", res.StatusCode, alertOf(body))
	}
	if v, err := u.app.Intel.Vuln(sys(), "GHSA-test-0002-0002"); err != nil || v == nil {
		t.Errorf("the uploaded advisory is not stored: %v", err)
	}
	evs, err := u.db.Events(sys(), vigil.AuditFilter{Action: "intel.feed", Limit: 2})
	if err != nil || len(evs) != 2 || evs[0].Actor != "user:admin" || evs[0].ObjectID != "osv-maven" || evs[1].ObjectID != "fixture-osv" {
		t.Errorf("intel.feed events: %+v (%v)", evs, err)
	}
}

// rematchScreens: the sources page re-matches every device version (`vigil portfolio rematch`) and says what it
// did; the API does it for every version, a device's or one version, and refuses a version of another device, an
// unknown version and a bad id; a viewer may do neither. A re-match right after a re-match changes nothing.
func (u *uiEnv) rematchScreens(t *testing.T) {
	// Signed in again: the clock has moved past the sessions of the subtests before.
	u = &uiEnv{env: u.env, admin: u.login(vigil.RoleAdmin, password(vigil.RoleAdmin)), viewer: u.login(vigil.RoleViewer, password(vigil.RoleViewer))}
	vs, err := u.app.Portfolio.Versions(sys(), 0)
	if err != nil || len(vs) < 2 {
		t.Fatalf("the fixture's versions: %d, %v; the test needs several", len(vs), err)
	}
	u.page(t, u.admin, "/sources", []string{`action="/sources/rematch"`})
	u.page(t, u.viewer, "/sources", nil, `action="/sources/rematch"`)
	u.refusals(t, "/sources/rematch", url.Values{})
	u.post(t, formCase{name: "rematch", c: u.admin, path: "/sources/rematch", status: 200,
		want: []string{"Re-matched the portfolio", fmt.Sprintf("Re-matched %d device versions", len(vs))}})

	admin, viewer := u.token(vigil.RoleAdmin), u.token(vigil.RoleViewer)
	call := func(path string, status int) portfolio.RematchResult {
		t.Helper()
		res, body := bearer(t, u.srv.URL, admin, "POST", path, nil)
		var got portfolio.RematchResult
		if res.StatusCode != status {
			t.Fatalf("POST %s: %d, want %d: %s", path, res.StatusCode, status, clip(body))
		}
		if status == 200 {
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("POST %s: %v: %s", path, err, clip(body))
			}
		}
		return got
	}
	if got := call("/api/v1/rematch", 200); got.Versions != len(vs) || got.Opened != 0 || got.Resolved != 0 {
		t.Errorf("re-match of every version after one: %+v, want %d versions, none opened or resolved", got, len(vs))
	}
	v := vs[0]
	if got := call(fmt.Sprintf("/api/v1/rematch?version=%d", v.ID), 200); got.Versions != 1 || got.Opened != 0 || got.Resolved != 0 {
		t.Errorf("re-match of version %d: %+v, want 1 version", v.ID, got)
	}
	of := 0
	for _, w := range vs {
		if w.DeviceID == v.DeviceID {
			of++
		}
	}
	if got := call(fmt.Sprintf("/api/v1/rematch?device=%d", v.DeviceID), 200); got.Versions != of {
		t.Errorf("re-match of device %d: %+v, want its %d versions", v.DeviceID, got, of)
	}
	call(fmt.Sprintf("/api/v1/rematch?device=%d&version=%d", v.DeviceID+1000, v.ID), 400)
	call("/api/v1/rematch?version=999999", 404)
	call("/api/v1/rematch?device=one", 400)
	if res, _ := bearer(t, u.srv.URL, viewer, "POST", "/api/v1/rematch", nil); res.StatusCode != 403 {
		t.Errorf("a viewer's re-match: %d, want 403", res.StatusCode)
	}
}

func (u *uiEnv) threatScreens(t *testing.T) {
	path := fmt.Sprintf("/devices/%d/threats", u.device)
	u.page(t, u.viewer, path, []string{"Unauthenticated dose change", "Network segmentation", "IFU §7.1"}, `id="threat-form"`, "Edit</a>")
	u.page(t, u.admin, path, []string{`id="asset-form"`, `id="threat-form"`, `id="control-form"`, `name="functions" value="alarm"`, `name="threats" value="T-1"`})

	// Add a threat reaching two functions through a new asset, then a mitigation addressing it.
	u.post(t, formCase{name: "add asset", c: u.admin, path: path, form: url.Values{"kind": {"asset"}, "name": {"Wi-Fi module"}, "asset_kind": {"interface"}}, status: 303,
		location: path + "?done=model-added#assets"})
	threat := url.Values{"kind": {"threat"}, "title": {"Alarm suppression over Wi-Fi"}, "category": {"denial_of_service"}, "assets": {"A-2"},
		"functions": {"alarm", "dose delivery"}, "entry_points": {"Wi-Fi, Bluetooth LE"}}
	u.refusals(t, path, threat)
	bad := url.Values{}
	for k, v := range threat {
		bad[k] = v
	}
	bad["functions"] = []string{"teleportation"}
	u.post(t, formCase{name: "unknown function", c: u.admin, path: path, form: bad, status: 400,
		want: []string{"The threat was not added: functions[0]", "teleportation", `value="Alarm suppression over Wi-Fi"`}})
	u.post(t, formCase{name: "add threat", c: u.admin, path: path, form: threat, status: 303, location: path + "?done=model-added#threats"})
	u.post(t, formCase{name: "compensating control without its reference", c: u.admin, path: path,
		form: url.Values{"kind": {"control"}, "name": {"Disable Wi-Fi"}, "control_kind": {"compensating"}, "threats": {"T-2"}}, status: 400,
		want: []string{"The control was not added: reference: required for a compensating control"}})
	u.post(t, formCase{name: "add control", c: u.admin, path: path,
		form: url.Values{"kind": {"control"}, "ref": {"M-7"}, "name": {"Signed alarm configuration"}, "control_kind": {"mitigation"}, "reference": {"SRS-114"}, "threats": {"T-2"}}, status: 303})
	m, err := u.app.Threats.ThreatModel(sys(), u.device)
	if err != nil || len(m.Assets) != 2 || len(m.Threats) != 2 || len(m.Controls) != 2 {
		t.Fatalf("model after the adds: %+v (%v)", m, err)
	}
	if th := m.Threat("T-2"); th == nil || strings.Join(th.Functions, ",") != "alarm,dose delivery" || strings.Join(th.EntryPoints, "|") != "Wi-Fi|Bluetooth LE" || th.Assets[0] != "A-2" {
		t.Errorf("T-2 stored as %+v", th)
	}
	if c := m.Control("M-7"); c == nil || c.Threats[0] != "T-2" {
		t.Errorf("M-7 stored as %+v", c)
	}

	// Edit: the form holds the stored item; a change needs a reason.
	item := path + "/T-2"
	u.page(t, u.admin, item, []string{`name="title" required value="Alarm suppression over Wi-Fi"`, `value="alarm" checked`, `value="A-2" checked`, `value="Wi-Fi, Bluetooth LE"`})
	u.page(t, u.viewer, item, []string{"may read the threat model but not change it"}, `id="threat-form"`)
	edit := url.Values{"title": {"Alarm suppression over Wi-Fi"}, "category": {"denial_of_service"}, "assets": {"A-2"}, "functions": {"alarm"},
		"entry_points": {"Wi-Fi"}, "reason": {"Bluetooth removed in 3.2."}}
	u.refusals(t, item, edit)
	noReason := url.Values{}
	for k, v := range edit {
		noReason[k] = v
	}
	noReason.Del("reason")
	u.post(t, formCase{name: "no reason", c: u.admin, path: item, form: noReason, status: 400, want: []string{"The threat was not saved: reason: required"}})
	u.post(t, formCase{name: "save", c: u.admin, path: item, form: edit, status: 303, location: path + "?done=model-saved#threats"})
	if th, err := u.app.Threats.Threat(sys(), u.device, "T-2"); err != nil || strings.Join(th.Functions, ",") != "alarm" || strings.Join(th.EntryPoints, ",") != "Wi-Fi" {
		t.Errorf("T-2 after the edit: %+v (%v)", th, err)
	}
	u.audited(t, "threat.update", "Bluetooth removed in 3.2.")
	u.post(t, formCase{name: "edit an unknown ref", c: u.admin, path: path + "/T-99", form: edit, status: 404})
}

// overTime: the dashboard's "open findings over time" on a young portfolio. On the day the findings were first seen
// it has two points (the day before, and today) and says so instead of drawing a jump from zero; three days later it
// draws a point a day, not a line between two weekly points.
func (u *uiEnv) overTime(t *testing.T) {
	series := func(c *client) []web.Point {
		t.Helper()
		res, body := c.get("/api/v1/dashboard")
		var ov web.Overview
		if res.StatusCode != 200 || json.Unmarshal([]byte(body), &ov) != nil {
			t.Fatalf("dashboard API: %d %s", res.StatusCode, clip(body))
		}
		return ov.OpenOverTime
	}
	pts := series(u.admin)
	if len(pts) != 2 || pts[0].Date.String() != "2025-06-01" || pts[0].N != 0 || pts[1].Date.String() != "2025-06-02" || pts[1].N == 0 {
		t.Fatalf("on the first day: %+v", pts)
	}
	open := pts[1].N
	u.page(t, u.admin, "/", []string{fmt.Sprintf("%d open on 2025-06-02. The trend shows from the third day of history.", open)}, `aria-label="Open findings over time"`)
	u.clock.T = u.clock.T.Add(3 * 24 * time.Hour)
	admin := u.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
	pts = series(admin)
	var days []string
	for _, p := range pts {
		days = append(days, fmt.Sprintf("%s=%d", p.Date, p.N))
	}
	want := fmt.Sprintf("2025-06-01=0 2025-06-02=%d 2025-06-03=%d 2025-06-04=%d 2025-06-05=%d", open, open, open, open)
	if got := strings.Join(days, " "); got != want {
		t.Errorf("three days on: %s, want %s", got, want)
	}
	u.page(t, admin, "/", []string{`aria-label="Open findings over time"`}, "The trend shows from the third day")
}

// savedFilters: any signed-in user saves the case queue's filter under a name and gets it back from a link; the
// filters are theirs alone.
func (u *uiEnv) savedFilters(t *testing.T) {
	body := u.page(t, u.viewer, "/cases?kev=1&state=all&offset=50", []string{`id="saved-filters"`, `href="/cases?kev=1">KEV only</a>`, `name="query" value="kev=1&state=all"`})
	if strings.Count(body, `class="saved"`) != 1 {
		t.Errorf("the viewer sees %d saved filters, want their 1", strings.Count(body, `class="saved"`))
	}
	save := url.Values{"name": {"All KEV"}, "query": {"kev=1&state=all&offset=50&bogus=x"}}
	u.post(t, formCase{name: "no CSRF token", c: u.viewer, path: "/cases/filters", form: url.Values{"csrf": {"forged"}, "name": {"All KEV"}, "query": {"kev=1"}}, status: 403})
	u.post(t, formCase{name: "no name", c: u.viewer, path: "/cases/filters", form: url.Values{"name": {" "}, "query": {"kev=1&state=all"}}, status: 400,
		want: []string{"The filter was not saved: name: required", `name="query" value="kev=1&state=all"`}})
	u.post(t, formCase{name: "bad filter", c: u.viewer, path: "/cases/filters", form: url.Values{"name": {"x"}, "query": {"device=pump"}}, status: 400, want: []string{"device"}})
	u.post(t, formCase{name: "save", c: u.viewer, path: "/cases/filters", form: save, status: 303, location: "/cases?kev=1&state=all&done=filter-saved"})
	u.page(t, u.viewer, "/cases?done=filter-saved", []string{"Filter saved", `href="/cases?kev=1&state=all">All KEV</a>`})
	u.page(t, u.admin, "/cases", []string{`href="/cases?kev=1">KEV only</a>`}, "All KEV")
	ev := u.lastEvent(t, "filter.save")
	if ev.Actor != "user:viewer" || !strings.Contains(string(ev.New), `"query":"kev=1\u0026state=all"`) && !strings.Contains(string(ev.New), `"query":"kev=1&state=all"`) {
		t.Errorf("filter.save: %s %s", ev.Actor, ev.New)
	}
	fs, err := u.app.Accounts.SavedFilters(vigil.WithActor(sys(), vigil.Actor{UserID: userID(t, u.env, "viewer"), Name: "viewer", Role: vigil.RoleViewer}), "cases")
	if err != nil || len(fs) != 2 {
		t.Fatalf("the viewer's filters: %+v (%v)", fs, err)
	}
	del := fmt.Sprintf("/cases/filters/%d/delete", fs[0].ID) // "All KEV", first by name
	u.post(t, formCase{name: "another user's filter", c: u.admin, path: del, status: 404})
	u.post(t, formCase{name: "delete", c: u.viewer, path: del, status: 303, location: "/cases?done=filter-deleted"})
	u.page(t, u.viewer, "/cases", []string{"KEV only"}, "All KEV")
}

// lastEvent is the newest audit event of action.
func (u *uiEnv) lastEvent(t *testing.T, action string) *vigil.AuditEvent {
	t.Helper()
	evs, err := u.db.Events(sys(), vigil.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no %s audit event (%v)", action, err)
	}
	return evs[0]
}

func userID(t *testing.T, e *env, name string) int64 {
	t.Helper()
	us, err := e.db.Users(sys())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Name == name {
			return u.ID
		}
	}
	t.Fatalf("no user %s", name)
	return 0
}

// TestGettingStarted: a store with its organization and first admin but no device shows the first steps on the
// dashboard, each a link to the screen that does it; once a device exists the steps go.
func TestGettingStarted(t *testing.T) {
	clock := storetest.NewClock(time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC))
	dsn := storetest.MigratedDSN(t, store.SQLite)
	a, err := app.Open(context.Background(), dsn, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := sys()
	if err := a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "New Medical", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Accounts.CreateUser(ctx, &vigil.User{Name: "alice", Role: vigil.RoleAdmin}, password("alice")); err != nil {
		t.Fatal(err)
	}
	ws, err := a.WebServer(app.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, engine: store.SQLite, app: a, web: ws, clock: clock, srv: httptest.NewServer(ws)}
	t.Cleanup(e.srv.Close)
	u := &uiEnv{env: e}
	c := e.login("alice", password("alice"))
	u.page(t, c, "/", []string{`id="getting-started"`, `<a href="/devices">Devices</a>: add a device`, `<a href="/sources">Sources</a>: sync`})
	if err := a.Portfolio.CreateDevice(ctx, &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}); err != nil {
		t.Fatal(err)
	}
	u.page(t, c, "/", []string{"Dashboard"}, `id="getting-started"`)
}
