package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestNotifySMTPCommands configures the SMTP server from stdin, shows it without its password, sends a test message
// to a real Mailpit and reads its delivery log; a refused one shows the server's answer and is resent.
func TestNotifySMTPCommands(t *testing.T) {
	mp := testfix.StartMailpit(t)
	r := runner{t, storetest.MigratedDSN(t, store.SQLite)}
	r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC")
	if out := r.ok("notify", "smtp"); !strings.Contains(out, "none: set $VIGIL_SMTP_URL") {
		t.Errorf("unconfigured: %s", out)
	}
	if code, _, errs := r.run(mp.URL("psirt@acme.example")+"\n", "notify", "smtp", "set", "-"); code != 2 || !strings.Contains(errs, "--reason") {
		t.Errorf("set without a reason: %d %s", code, errs)
	}
	if code, _, errs := r.run(mp.URL("psirt@acme.example")+"\n", "notify", "smtp", "set", "-", "--reason", "test relay"); code != 2 || !strings.Contains(errs, "--secret-key") {
		t.Errorf("set a password without the secret key: %d %s", code, errs)
	}
	// The password is stored sealed with the secret key: every command that sends gives it.
	secretKey := filepath.Join(t.TempDir(), "secret.key")
	os.WriteFile(secretKey, bytes.Repeat([]byte("k"), 32), 0o600)
	t.Setenv("VIGIL_SECRET_KEY", secretKey)
	code, out, errs := r.run(mp.URL("psirt@acme.example")+"\n", "notify", "smtp", "set", "-", "--reason", "test relay")
	if code != 0 || strings.Contains(out+errs, "secret-password") || !strings.Contains(errs, "vigil:xxxxx@"+mp.SMTP) {
		t.Fatalf("smtp set: %d %s %s", code, out, errs)
	}
	dbFile := strings.TrimPrefix(r.db, "sqlite:")
	for _, f := range []string{dbFile, dbFile + "-wal"} {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte("secret-password")) {
			t.Errorf("%s holds the SMTP password in clear", filepath.Base(f))
		}
	}
	if out := r.ok("notify", "smtp", "--format", "json"); strings.Contains(out, "secret-password") || !strings.Contains(out, `"source": "settings"`) {
		t.Errorf("smtp: %s", out)
	}
	if out := r.ok("audit", "log", "--format", "json"); strings.Contains(out, "secret-password") || !strings.Contains(out, "smtp.configure") {
		t.Errorf("the trail: %s", out)
	}
	out = r.ok("notify", "smtp", "test", "--to", "you@acme.example")
	if !strings.Contains(out, "accepted") {
		t.Errorf("smtp test: %s", out)
	}
	got := mp.Messages(t)
	if len(got) != 1 || got[0].To[0].Address != "you@acme.example" || got[0].Subject != "Vigil test message" {
		t.Fatalf("arrived: %+v", got)
	}

	mp.Refuse(t, 550)
	if code, _, errs := r.run("", "notify", "smtp", "test", "--to", "gone@acme.example"); code != 1 || !strings.Contains(errs, "failed") || !strings.Contains(errs, "550") {
		t.Errorf("refused test: %d %s", code, errs)
	}
	var ms []struct {
		ID     int64  `json:"id"`
		To     string `json:"to"`
		State  string `json:"state"`
		Answer string `json:"answer"`
	}
	if err := json.Unmarshal([]byte(r.ok("notify", "outbox", "--state", "failed", "--format", "json")), &ms); err != nil || len(ms) != 1 || ms[0].To != "gone@acme.example" {
		t.Fatalf("outbox --state failed: %+v %v", ms, err)
	}
	id := itoa(ms[0].ID)
	if out := r.ok("notify", "outbox", "show", id); !strings.Contains(out, "550") || !strings.Contains(out, "failed") {
		t.Errorf("show: %s", out)
	}
	if code, _, errs := r.run("", "notify", "outbox", "--state", "lost"); code != 2 || !strings.Contains(errs, `"lost"`) {
		t.Errorf("bad state: %d %s", code, errs)
	}
	mp.Refuse(t, 0)
	r.ok("notify", "outbox", "resend", id, "--reason", "the address was fixed at the hospital")
	r.ok("notify", "outbox", "deliver")
	if out := r.ok("notify", "outbox", "show", id); !strings.Contains(out, "accepted") {
		t.Errorf("after resend: %s", out)
	}
	if len(mp.Messages(t)) != 2 {
		t.Errorf("the resent message did not arrive")
	}

	// Rules: add, list, test through the channel, run, remove.
	if code, _, errs := r.run("", "notify", "rule", "add", "--channel", "sms", "--to", "a@b.example", "--events", "kev_hit"); code != 2 || !strings.Contains(errs, "channel") {
		t.Errorf("bad channel: %d %s", code, errs)
	}
	r.ok("notify", "rule", "add", "--channel", "email", "--to", "psirt@acme.example", "--events", "kev_hit,report_awaiting_ack")
	var rules []struct {
		ID      int64    `json:"id"`
		Channel string   `json:"channel"`
		Events  []string `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.ok("notify", "rule", "list", "--format", "json")), &rules); err != nil || len(rules) != 1 || len(rules[0].Events) != 2 {
		t.Fatalf("rule list: %+v %v", rules, err)
	}
	if out := r.ok("notify", "rule", "test", itoa(rules[0].ID)); !strings.Contains(out, "accepted") {
		t.Errorf("rule test: %s", out)
	}
	if got := mp.Messages(t); got[len(got)-1].Subject != "[Vigil] Vigil: test notification" || got[len(got)-1].To[0].Address != "psirt@acme.example" {
		t.Errorf("rule test arrived as %+v", got[len(got)-1])
	}
	if _, _, errs := r.run("", "notify", "run"); !strings.Contains(errs, "0 event(s) standing") {
		t.Errorf("run: %s", errs)
	}
	r.ok("notify", "rule", "remove", itoa(rules[0].ID), "--reason", "moved to the digest")
	if out := r.ok("notify", "rule", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("after remove: %s", out)
	}
}
