package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
)

// TestNotificationsScreenAndAPI: the settings screen shows the rules and the outbox (no form for a viewer); a rule
// added through the form appears, a bad one is refused naming the field and hostile text is escaped; through the
// API a webhook rule's secret is returned once and never listed; the outbox API lists the queued messages.
func TestNotificationsScreenAndAPI(t *testing.T) {
	e := newEnv(t, store.SQLite)
	psirt := e.login("psirt", password("psirt"))
	if res, body := e.login("viewer", password("viewer")).get("/settings/notifications"); res.StatusCode != 200 || !strings.Contains(body, "No SMTP server") ||
		strings.Contains(body, `id="notify-add"`) {
		t.Fatalf("viewer: %d\n%s", res.StatusCode, clip(body))
	}
	res, body := psirt.postForm("/settings/notifications", url.Values{"csrf": {psirt.csrf}, "channel": {"email"}, "target": {"<script>x</script>"}, "events": {"kev_hit"}})
	if res.StatusCode != 400 || !strings.Contains(body, "target:") || strings.Contains(body, "<script>x</script>") {
		t.Errorf("bad target: %d\n%s", res.StatusCode, clip(body))
	}
	res, _ = psirt.postForm("/settings/notifications", url.Values{"csrf": {psirt.csrf}, "channel": {"email"}, "target": {"psirt@acme.example"},
		"events": {"kev_hit", "clock_overdue"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", res.StatusCode)
	}
	if _, body := psirt.get("/settings/notifications"); !strings.Contains(body, "psirt@acme.example") || !strings.Contains(body, "<code>clock_overdue</code>") {
		t.Errorf("rules after add:\n%s", clip(body))
	}
	res, body = psirt.api("POST", "/api/v1/notify/rules", map[string]any{"channel": "webhook", "target": "https://hooks.acme.example/vigil", "events": []string{"kev_hit"}})
	var out struct {
		Rule   vigil.NotifyRule `json:"rule"`
		Secret string           `json:"secret"`
	}
	if err := json.Unmarshal([]byte(body), &out); res.StatusCode != 201 || err != nil || !strings.HasPrefix(out.Secret, "whsec_") || !out.Rule.HasSecret {
		t.Fatalf("webhook rule: %d %s", res.StatusCode, body)
	}
	if res, body := psirt.api("GET", "/api/v1/notify/rules", nil); res.StatusCode != 200 || strings.Contains(body, out.Secret) || !strings.Contains(body, "hooks.acme.example") {
		t.Errorf("rules: %d %s", res.StatusCode, body)
	}
	if _, body := psirt.get("/settings/notifications"); strings.Contains(body, out.Secret) {
		t.Error("the screen shows a webhook's secret after its creation")
	}
	if res, body := psirt.api("GET", "/api/v1/outbox?state=lost", nil); res.StatusCode != 400 || !strings.Contains(body, "state") {
		t.Errorf("bad state: %d %s", res.StatusCode, body)
	}
	if res, body := psirt.api("GET", "/api/v1/outbox", nil); res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("outbox: %d %s", res.StatusCode, body)
	}
}
