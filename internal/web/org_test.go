package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestOrgPolicySettings: the organization's regulatory policy is set through the API and the settings page with
// the same validation messages, every change carries who and why in the audit trail, and a finding's
// determination runs under the new policy and records it.
func TestOrgPolicySettings(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			tok := e.token(vigil.RoleAdmin)
			const badDays = `policy.working_days: unknown value "lunar" (want federal or weekdays)`
			res, body := bearer(t, e.srv.URL, tok, "PATCH", "/api/v1/org", map[string]any{"policy": map[string]any{"working_days": "lunar"}, "reason": "try"})
			var apiErr struct {
				Error struct{ Message string } `json:"error"`
			}
			if res.StatusCode != 400 || json.Unmarshal([]byte(body), &apiErr) != nil || apiErr.Error.Message != badDays {
				t.Errorf("API, unknown working days: %d %s", res.StatusCode, clip(body))
			}
			res, body = bearer(t, e.srv.URL, tok, "PATCH", "/api/v1/org", map[string]any{"policy": map[string]any{"working_days": "weekdays"}})
			if res.StatusCode != 400 || !strings.Contains(body, "reason: required when the regulatory policy changes") {
				t.Errorf("API, no reason: %d %s", res.StatusCode, clip(body))
			}
			res, body = bearer(t, e.srv.URL, tok, "PATCH", "/api/v1/org", map[string]any{"policy": map[string]any{"working_days": "weekdays", "reassessment_clock": "first"}, "reason": "QMS-POL-12 rev C"})
			var o vigil.Organization
			if res.StatusCode != 200 || json.Unmarshal([]byte(body), &o) != nil || o.Policy.WorkingDays != "weekdays" || o.Policy.ReassessmentClock != "first" || o.Name != "Fixture Medical" || o.TimeZone != "UTC" {
				t.Fatalf("API, policy change: %d %s", res.StatusCode, clip(body))
			}
			res, body = bearer(t, e.srv.URL, tok, "GET", fmt.Sprintf("/api/v1/findings/%d/determination", e.log4j), nil)
			if res.StatusCode != 200 || !strings.Contains(body, `"working_days": "weekdays"`) || !strings.Contains(body, `"reassessment_clock": "first"`) {
				t.Errorf("determination after the change does not record the new policy: %d %s", res.StatusCode, clip(body))
			}

			c := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
			if res, body = c.get(fmt.Sprintf("/findings/%d", e.log4j)); res.StatusCode != 200 || !strings.Contains(body, "weekdays working days, deadlines not rolled, re-assessment clock first, matrix vigil-default v1") {
				t.Errorf("finding page does not show the policy in force: %d %s", res.StatusCode, clip(body))
			}

			// The settings page refuses the same value with the same message, and keeps what was typed.
			form := url.Values{"csrf": {c.csrf}, "time_zone": {"America/Chicago"}, "cvd_ack_days": {"5"}, "working_days": {"lunar"},
				"reassessment_clock": {"first"}, "roll_deadlines": {"true"}, "reason": {"calendar of the new QMS"}}
			res, body = c.postForm("/settings", form)
			if res.StatusCode != 400 || !strings.Contains(html.UnescapeString(body), badDays) || !strings.Contains(body, `value="calendar of the new QMS"`) {
				t.Errorf("settings page, unknown working days: %d %s", res.StatusCode, clip(body))
			}
			form.Set("working_days", "federal")
			res, _ = c.postForm("/settings", form)
			if res.StatusCode != 303 || res.Header.Get("Location") != "/settings?done=settings" {
				t.Fatalf("settings page, save: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			res, body = c.get("/settings?done=settings")
			if res.StatusCode != 200 || !strings.Contains(body, "Settings saved.") || !strings.Contains(body, "yes: calendar-day deadlines on a non-working day move") ||
				!strings.Contains(body, "America/Chicago: every regulatory date") {
				t.Errorf("settings page after the save: %d %s", res.StatusCode, clip(body))
			}
			evs, err := e.db.Events(sys(), vigil.AuditFilter{Action: "org.update"})
			if err != nil || len(evs) != 2 {
				t.Fatalf("org.update audit events: %d (%v), want 2", len(evs), err)
			}
			if evs[0].Actor != "user:admin" || evs[0].Reason != "calendar of the new QMS" || !strings.Contains(string(evs[0].New), `"roll_deadlines":true`) ||
				!strings.HasPrefix(evs[1].Actor, "token:") || evs[1].Reason != "QMS-POL-12 rev C" {
				t.Errorf("audit: %s %q / %s %q", evs[0].Actor, evs[0].Reason, evs[1].Actor, evs[1].Reason)
			}
		})
	}
}
