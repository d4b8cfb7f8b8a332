package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
)

// TestNoticeBuilderScreens takes a notice through the builder's forms as the PSIRT: drafted from a case (elements
// c and d missing: the records name no control and no fixed version), the check showing them missing, completed
// with a reason, previewed as text and HTML with its recipient, sent (once), its delivery shown; a follow-up
// drafted from it; a notice missing an element refused without a reason; and a CSAF advisory drafted from the
// notice, its document shown and a revision published. A viewer sees the notice without any form.
func TestNoticeBuilderScreens(t *testing.T) {
	e := newEnv(t, store.SQLite)
	e.communication()
	c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
	post := func(path string, v url.Values, want int) (string, string) {
		t.Helper()
		v.Set("csrf", c.csrf)
		res, body := c.postForm(path, v)
		if res.StatusCode != want {
			t.Fatalf("POST %s %v: %d, want %d\n%s", path, v, res.StatusCode, want, clip(body))
		}
		return res.Header.Get("Location"), body
	}
	page := func(path string, want ...string) string {
		t.Helper()
		res, body := c.get(path)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, clip(body))
		}
		for _, s := range want {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s lacks %q", path, s)
			}
		}
		return body
	}
	page("/notices", `id="notice-form"`, `id="advisory-form"`, fmt.Sprintf(`<option value="%d">`, e.noticeCase))

	loc, _ := post("/notices", url.Values{"case": {fmt.Sprint(e.noticeCase)}}, http.StatusSeeOther)
	path, _, _ := strings.Cut(loc, "?")
	var id int64
	if _, err := fmt.Sscanf(path, "/notices/%d", &id); err != nil {
		t.Fatalf("draft redirects to %q", loc)
	}
	body := page(path, `<li data-check="a" class="good">`, `<li data-check="c" class="bad">`, `<li data-check="d" class="bad">`, `class="grid notice-builder"`,
		"biomed@clinic.fixture.example", "Noticed Clinic", `href="/notices/`+fmt.Sprint(id)+`/preview"`, "CVE-2018-25032")
	if !strings.Contains(body, "Element(s) c, d missing") {
		t.Error("the send form does not ask why a notice missing c and d is sent")
	}
	n, err := e.app.Notices.Notice(sys(), id)
	if err != nil {
		t.Fatal(err)
	}
	control := "Until the fix is installed, keep the pumps on their own VLAN (IFU §7.1)."
	fix := "Release 3.3.1 will fix it; we will tell you when it is available."
	post(path, url.Values{"subject": {n.Subject}, "a": {n.Elements.A}, "b": {n.Elements.B}, "c": {control}, "d": {fix}, "reason": {"controls and fix written"}}, http.StatusSeeOther)
	body = page(path, `<li data-check="c" class="good">`, `<li data-check="d" class="good">`, "keep the pumps on their own VLAN")
	if strings.Contains(body, "missing: the notice will not meet criterion 2") || strings.Contains(body, `class="bad"`) {
		t.Error("a complete notice still shows an element missing")
	}
	page(path+"/preview", "<h2>The fix</h2>", fix, "<h2>What you can do now: compensating controls</h2>")

	post(path+"/send", url.Values{}, http.StatusSeeOther)
	page(path, `id="delivery-log"`, "queued", "Draft a follow-up", `<span class="badge good">sent</span>`)
	if strings.Contains(page(path), `id="edit-form"`) {
		t.Error("a sent notice can still be edited")
	}
	post(path+"/send", url.Values{}, http.StatusConflict)
	loc, _ = post("/notices", url.Values{"follow_up_of": {fmt.Sprint(id)}}, http.StatusSeeOther)
	follow, _, _ := strings.Cut(loc, "?")
	page(follow, fmt.Sprintf(`follows <a href="/notices/%d">N-%d</a>`, id, id), fmt.Sprintf("This notice updates our notice N-%d", id))
	page(path, "Follow-up <a href=\""+follow+"\">")

	incomplete := fmt.Sprintf("/notices/%d/send", e.notices[0])
	if _, body := post(incomplete, url.Values{}, http.StatusUnprocessableEntity); !strings.Contains(body, "does not meet G2016 criterion 2") {
		t.Errorf("a notice missing elements sent without a reason: %s", clip(body))
	}

	loc, _ = post("/advisories", url.Values{"notice": {fmt.Sprint(id)}, "tlp": {"WHITE"}}, http.StatusSeeOther)
	adv, _, _ := strings.Cut(loc, "?")
	page(adv, "csaf_security_advisory", "Not published yet", `id="publish-form"`, fmt.Sprintf(`notice <a href="/notices/%d">N-%d</a>`, id, id))
	post(adv+"/publish", url.Values{"status": {"interim"}, "summary": {"Initial release"}}, http.StatusSeeOther)
	page(adv, `<span class="badge">interim</span>`, "<td>Initial release</td>", "Publish revision 2")
	page("/notices", `href="`+adv+`"`)

	v := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	if _, body := v.get(path); strings.Contains(body, "<form") && strings.Contains(body, `action="/notices`) {
		t.Error("a viewer is offered the notice forms")
	}
}
