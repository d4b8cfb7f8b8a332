package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/service/notify"
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

// TestNotifyRuleTestAndRemove tests and removes rules from the settings screen and the API: a test sends one
// message through the rule's channel now (a webhook, signed with the rule's secret, received once per test and
// logged in the outbox as accepted); a channel that cannot deliver (e-mail without an SMTP server) is said, not
// hidden; removing needs a reason, is audited with it, and the rule is gone; a viewer may do neither.
func TestNotifyRuleTestAndRemove(t *testing.T) {
	e := newEnv(t, store.SQLite)
	var mu sync.Mutex
	var got []string // the bodies the receiver took, each after checking its signature
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get(notify.HeaderSignature)
		ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
		unix, _ := strconv.ParseInt(ts, 10, 64)
		if sig != notify.Sign(secret, unix, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		got = append(got, string(body))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	e.allowLoopbackWebhooks()
	psirt := e.login("psirt", password("psirt"))
	viewer := e.login("viewer", password("viewer"))
	res, body := psirt.api("POST", "/api/v1/notify/rules", map[string]any{"channel": "webhook", "target": hook.URL + "/vigil", "events": []string{"kev_hit"}})
	var added struct {
		Rule   vigil.NotifyRule `json:"rule"`
		Secret string           `json:"secret"`
	}
	if err := json.Unmarshal([]byte(body), &added); res.StatusCode != 201 || err != nil {
		t.Fatalf("add: %d %s", res.StatusCode, body)
	}
	mu.Lock()
	secret = added.Secret
	mu.Unlock()
	hookID := strconv.FormatInt(added.Rule.ID, 10)

	// Through the API: the message as delivered and its log.
	res, body = psirt.api("POST", "/api/v1/notify/rules/"+hookID+"/test", nil)
	var out struct {
		Mail vigil.Mail          `json:"mail"`
		Log  []vigil.MailAttempt `json:"log"`
	}
	if err := json.Unmarshal([]byte(body), &out); res.StatusCode != 200 || err != nil || out.Mail.State != vigil.MailAccepted || len(out.Log) != 1 || !strings.Contains(out.Log[0].Answer, "204") {
		t.Fatalf("API test: %d %s", res.StatusCode, body)
	}
	// Through the form: back to the outbox, which shows it accepted.
	res, _ = psirt.postForm("/settings/notifications/"+hookID+"/test", url.Values{"csrf": {psirt.csrf}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=rule-tested") {
		t.Fatalf("form test: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	mu.Lock()
	if len(got) != 2 || !strings.Contains(got[0], "test of notification rule "+hookID) {
		t.Errorf("the receiver took %d messages, want one per test: %q", len(got), got)
	}
	mu.Unlock()
	if ms, err := e.app.Outbox.Mails(sys(), vigil.MailFilter{}); err != nil || len(ms) != 2 || ms[0].State != vigil.MailAccepted || ms[1].State != vigil.MailAccepted {
		t.Errorf("outbox after two tests: %+v, %v", ms, err)
	}
	_, page := psirt.get("/settings/notifications?done=rule-tested")
	if !strings.Contains(page, "Test message sent and accepted") || !strings.Contains(page, `action="/settings/notifications/`+hookID+`/remove"`) {
		t.Errorf("the screen after a test:\n%s", clip(page))
	}
	if _, page := viewer.get("/settings/notifications"); strings.Contains(page, "/test\"") || strings.Contains(page, "/remove\"") {
		t.Error("a viewer is offered the test and remove buttons")
	}
	if res, _ := viewer.postForm("/settings/notifications/"+hookID+"/test", url.Values{"csrf": {viewer.csrf}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer test: %d, want 403", res.StatusCode)
	}

	// A channel that cannot deliver: e-mail without an SMTP server.
	res, body = psirt.api("POST", "/api/v1/notify/rules", map[string]any{"channel": "email", "target": "psirt@acme.example", "events": []string{"kev_hit"}})
	if err := json.Unmarshal([]byte(body), &added); res.StatusCode != 201 || err != nil {
		t.Fatalf("add e-mail rule: %d %s", res.StatusCode, body)
	}
	mailID := strconv.FormatInt(added.Rule.ID, 10)
	if res, body := psirt.api("POST", "/api/v1/notify/rules/"+mailID+"/test", nil); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "queued") {
		t.Errorf("API test of an e-mail rule without SMTP: %d %s", res.StatusCode, body)
	}
	if res, body := psirt.postForm("/settings/notifications/"+mailID+"/test", url.Values{"csrf": {psirt.csrf}}); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "The test message was not delivered") {
		t.Errorf("form test of an e-mail rule without SMTP: %d\n%s", res.StatusCode, clip(body))
	}

	// Removing: a reason, audited; then the rule is gone.
	if res, body := psirt.postForm("/settings/notifications/"+mailID+"/remove", url.Values{"csrf": {psirt.csrf}}); res.StatusCode != 400 || !strings.Contains(body, "reason") {
		t.Errorf("remove without a reason: %d\n%s", res.StatusCode, clip(body))
	}
	if res, _ := viewer.postForm("/settings/notifications/"+mailID+"/remove", url.Values{"csrf": {viewer.csrf}, "reason": {"mine now"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer remove: %d, want 403", res.StatusCode)
	}
	if res, _ := psirt.postForm("/settings/notifications/"+mailID+"/remove", url.Values{"csrf": {psirt.csrf}, "reason": {"moved to the digest"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("form remove: %d", res.StatusCode)
	}
	if res, body := psirt.api("DELETE", "/api/v1/notify/rules/"+hookID, map[string]string{}); res.StatusCode != 400 || !strings.Contains(body, "reason") {
		t.Errorf("API remove without a reason: %d %s", res.StatusCode, body)
	}
	if res, body := psirt.api("DELETE", "/api/v1/notify/rules/"+hookID, map[string]string{"reason": "the chat moved"}); res.StatusCode != 200 || !strings.Contains(body, `"removed": true`) {
		t.Errorf("API remove: %d %s", res.StatusCode, body)
	}
	if res, _ := psirt.api("DELETE", "/api/v1/notify/rules/"+hookID, map[string]string{"reason": "again"}); res.StatusCode != http.StatusNotFound {
		t.Errorf("API remove of a removed rule: %d, want 404", res.StatusCode)
	}
	if res, body := psirt.api("GET", "/api/v1/notify/rules", nil); res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("rules after removing both: %d %s", res.StatusCode, body)
	}
	for _, reason := range []string{"moved to the digest", "the chat moved"} {
		evs, err := e.db.Events(sys(), vigil.AuditFilter{Action: "notify.rule"})
		if err != nil || !slices.ContainsFunc(evs, func(ev *vigil.AuditEvent) bool { return ev.Reason == reason && ev.Actor == "user:psirt" }) {
			t.Errorf("no audit event of the removal %q by psirt: %v", reason, err)
		}
	}
}

// TestWebhookStaysOnPublicNetworks: a webhook URL is typed by a user, so by default its delivery dials public
// addresses only (the feeds' SSRF guard): a rule aimed at the server's own network is refused at the dial, the
// receiver gets nothing, and the outbox says why. The operator's --allow-net admits that network.
func TestWebhookStaysOnPublicNetworks(t *testing.T) {
	e := newEnv(t, store.SQLite)
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	psirt := e.login("psirt", password("psirt"))
	res, body := psirt.api("POST", "/api/v1/notify/rules", map[string]any{"channel": "webhook", "target": hook.URL + "/vigil", "events": []string{"kev_hit"}})
	var added struct {
		Rule vigil.NotifyRule `json:"rule"`
	}
	if err := json.Unmarshal([]byte(body), &added); res.StatusCode != 201 || err != nil {
		t.Fatalf("add: %d %s", res.StatusCode, body)
	}
	test := "/api/v1/notify/rules/" + strconv.FormatInt(added.Rule.ID, 10) + "/test"
	if res, body := psirt.api("POST", test, nil); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "127.0.0.1 is not public") || hits.Load() != 0 {
		t.Errorf("a webhook to 127.0.0.1 by default: %d %s (%d deliveries), want refused at the dial", res.StatusCode, body, hits.Load())
	}
	e.allowLoopbackWebhooks()
	if res, body := psirt.api("POST", test, nil); res.StatusCode != 200 || hits.Load() != 1 {
		t.Errorf("a webhook to 127.0.0.1 with --allow-net 127.0.0.0/8: %d %s (%d deliveries)", res.StatusCode, body, hits.Load())
	}
}
