package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/vex"
)

// TestRemediationScreens takes the fixture's log4j case (on 3.1.0, 40 units at the hospital) through the
// remediation page's forms as the PSIRT: a plan, a fix release (3.2.1) with its V&V record, its distribution and
// the hospital's units updated; the page then shows the fix_distributed event it recorded, the field and the
// chart, the device's metrics page draws its charts, and the API's VEX of each version says what the case says.
func TestRemediationScreens(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
	page := fmt.Sprintf("/cases/%d/remediation", e.log4jCase)
	post := func(v url.Values, want int) string {
		t.Helper()
		v.Set("csrf", c.csrf)
		res, body := c.postForm(page, v)
		if res.StatusCode != want {
			t.Fatalf("POST %s %v: %d, want %d\n%s", page, v, res.StatusCode, want, clip(body))
		}
		return body
	}
	if res, body := c.get(page); res.StatusCode != 200 || !strings.Contains(body, "No plan yet") {
		t.Fatalf("empty remediation page: %d %s", res.StatusCode, clip(body))
	}
	if body := post(url.Values{"action": {"plan"}, "fix_release": {"3.2.1"}, "target_date": {"2025-07-01"}}, http.StatusUnprocessableEntity); !strings.Contains(body, "rationale: required") {
		t.Errorf("a plan without a rationale: %s", clip(body))
	}
	post(url.Values{"action": {"plan"}, "fix_release": {"3.2.1"}, "target_date": {"2025-07-01"}, "cycle": {"out-of-cycle"},
		"controls": {"Block LDAP egress at the firewall | IFU §7.3 | 2025-06-01"}, "rationale": {"log4j 2.17 needs a regression run"}}, http.StatusSeeOther)
	post(url.Values{"action": {"fix"}, "release": {"3.2.1"}, "description": {"log4j-core removed"}}, http.StatusSeeOther)
	_, body := c.get(page)
	m := regexp.MustCompile(`name="fix_id" value="(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no V&V form for the fix:\n%s", clip(body))
	}
	post(url.Values{"action": {"vv"}, "fix_id": {m[1]}, "protocol": {"VVP-9"}, "report": {"VVR-9"}, "result": {"passed"}, "approver": {"QA lead"}, "validated": {"2025-06-02"}}, http.StatusSeeOther)
	post(url.Values{"action": {"distribute"}, "fix_id": {m[1]}, "date": {"2025-06-02"}, "channel": {"remote update"}}, http.StatusSeeOther)
	post(url.Values{"action": {"deploy"}, "target": {fmt.Sprintf("%d:%d", e.consignee, e.v1)}, "units": {"40"}, "date": {"2025-06-02"}}, http.StatusSeeOther)
	_, body = c.get(page)
	for _, s := range []string{"fix distributed (validated)", "Block LDAP egress at the firewall", "40 of 100", "<svg", "VVR-9", "St. Fixture Hospital: 40 / 40"} {
		if !strings.Contains(body, s) {
			t.Errorf("the remediation page lacks %q: %s", s, body[strings.Index(body, "<main"):strings.Index(body, "id=\"plan\"")])
		}
	}
	if _, body := c.get(fmt.Sprintf("/cases/%d", e.log4jCase)); !strings.Contains(body, page) {
		t.Error("the case page does not link to its remediation")
	}
	if res, body := c.get(fmt.Sprintf("/devices/%d/remediation", e.device)); res.StatusCode != 200 || !strings.Contains(body, "Cases patched (a validated fix distributed): <b>1 of") || !strings.Contains(body, "median days to patch: <b>0</b>") || !strings.Contains(body, `<a href="/cases/1/remediation">`) || !strings.Contains(body, "<svg") {
		t.Errorf("device metrics page: %d %s", res.StatusCode, body[strings.Index(body, "<main"):])
	}
	for _, tt := range []struct {
		version int64
		want    vigil.VEXStatus
		text    string
	}{{e.v1, vigil.VEXAffected, "Update to 3.2.1 (distributed 2025-06-02 by remote update)."}, {e.v2, vigil.VEXFixed, "Fixed in 3.2.1"}} {
		for _, format := range []string{"openvex", "cyclonedx", "csaf"} {
			res, body := c.get(fmt.Sprintf("/api/v1/versions/%d/vex?format=%s&namespace=https://psirt.fixture.example", tt.version, format))
			doc, err := vex.ParseBytes("api."+format+".json", []byte(body), vex.Limits())
			if res.StatusCode != 200 || err != nil {
				t.Fatalf("%s of version %d: %d %v", format, tt.version, res.StatusCode, err)
			}
			var got vigil.VEXStatus
			for _, s := range doc.Statements {
				if s.Vulnerability == "CVE-2021-44228" {
					got = s.Status
				}
			}
			if got != tt.want || !strings.Contains(body, tt.text) {
				t.Errorf("%s of version %d: CVE-2021-44228 is %q, want %s with %q", format, tt.version, got, tt.want, tt.text)
			}
		}
	}
	viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	res, _ := viewer.postForm(page, url.Values{"csrf": {viewer.csrf}, "action": {"fix"}, "release": {"9"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer adds a fix: %d, want 403", res.StatusCode)
	}

	// The V&V record retracted through the page's form: the distribution stands, not validated; then the release.
	retract := func(record, reason string, want int) string {
		t.Helper()
		res, body := c.postForm(page+"/retractions", url.Values{"csrf": {c.csrf}, "fix_id": {m[1]}, "record": {record}, "reason": {reason}})
		if res.StatusCode != want {
			t.Fatalf("retract %s: %d, want %d\n%s", record, res.StatusCode, want, clip(body))
		}
		return body
	}
	if body := retract("vv", "", http.StatusUnprocessableEntity); !strings.Contains(body, "reason: required") {
		t.Errorf("a retraction without a reason: %s", clip(body))
	}
	retract("vv", "VVR-9 tested the wrong build", http.StatusSeeOther)
	if _, body := c.get(page); !strings.Contains(body, "fix distributed (not validated)") || !strings.Contains(body, "V&amp;V VVR-9 retracted") {
		t.Errorf("the page after the V&V was retracted: %s", body[strings.Index(body, `id="fix"`):])
	}
	retract("release", "3.2.1 recalled", http.StatusSeeOther)
	retract("release", "again", http.StatusConflict)
	if _, body := c.get(page); !strings.Contains(body, "<s>3.2.1</s>") || !strings.Contains(body, "3.2.1 recalled") {
		t.Errorf("the page after the release was retracted: %s", body[strings.Index(body, `id="fix"`):])
	}
}
