package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestWebhookSecretsSealed: a webhook rule's signing secret an older Vigil stored in clear is sealed by migration
// 41 with the secret key (without it the migration stops, saying what to do, and nothing is lost), the rules are
// attested so the trail still reconciles; from then on the database holds no clear secret, a secret opens only
// with the same key and for its own rule, a new one is refused without the key, and the trail never holds one.
// Both engines.
func TestWebhookSecretsSealed(t *testing.T) {
	const clear = "whsec_clear-secret-of-an-older-vigil"
	key, other := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			admin := storetest.Admin()
			clock := storetest.NewClock(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, store.MigrationStepUp-1)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				"INSERT INTO notify_rules (channel, target, events, secret, created_at, created_by) VALUES ('webhook', 'https://hooks.acme.example/a', '[\"kev_hit\"]', '" + clear + "', '2025-12-01T00:00:00Z', 'cli')",
				"INSERT INTO notify_rules (channel, target, events, created_at, created_by) VALUES ('email', 'psirt@acme.example', '[\"kev_hit\"]', '2025-12-01T00:00:00Z', 'cli')",
			} {
				if _, err := old.SQL().Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			old.Close() // rules 1 (a webhook) and 2 (e-mail)
			if db, err := store.Open(ctx, dsn, clock); err == nil || !strings.Contains(err.Error(), "webhook signing secret") || !strings.Contains(err.Error(), "--secret-key") {
				if db != nil {
					db.Close()
				}
				t.Fatalf("migrating a clear webhook secret without the secret key: %v", err)
			}
			db, err := store.Open(ctx, dsn, clock, store.WithSecretKey(key))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stored := func(id int) string {
				var s string
				if err := db.SQL().QueryRow("SELECT secret FROM notify_rules WHERE id = $1", id).Scan(&s); err != nil {
					t.Fatal(err)
				}
				return s
			}
			if s := stored(1); strings.Contains(s, "clear-secret") || !strings.HasPrefix(s, "v1:") {
				t.Fatalf("after the migration the database holds %q", s)
			}
			if s := stored(2); s != "" {
				t.Errorf("an e-mail rule got a secret: %q", s)
			}
			if got, err := db.NotifyRuleSecret(ctx, 1); err != nil || got != clear {
				t.Fatalf("NotifyRuleSecret = %q, %v", got, err)
			}
			if rep, err := db.Verify(admin, nil); err != nil {
				t.Fatalf("verify after the migration: %v (%+v)", err, rep.Problems)
			}

			// A new rule's secret is sealed, bound to its rule; the trail has no secret.
			r := &vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: "https://hooks.acme.example/b", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}
			if err := db.CreateNotifyRule(admin, r, "whsec_new-secret-42"); err != nil {
				t.Fatal(err)
			}
			if s := stored(int(r.ID)); strings.Contains(s, "new-secret") || !strings.HasPrefix(s, "v1:") {
				t.Fatalf("a new secret stored as %q", s)
			}
			if got, err := db.NotifyRuleSecret(ctx, r.ID); err != nil || got != "whsec_new-secret-42" {
				t.Fatalf("NotifyRuleSecret = %q, %v", got, err)
			}
			evs, err := db.Events(admin, vigil.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if b := string(e.New) + string(e.Old) + e.Reason; strings.Contains(b, "secret-42") || strings.Contains(b, "clear-secret") || strings.Contains(b, "v1:") {
					t.Errorf("audit event %d (%s) holds a secret: %s", e.Seq, e.Action, b)
				}
			}

			// Without the key, or with another, no secret opens and none is stored; a sealed secret copied to
			// another rule does not open there.
			for name, opt := range map[string][]store.Option{"no key": nil, "another key": {store.WithSecretKey(other)}} {
				o, err := store.Open(ctx, dsn, clock, opt...)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := o.NotifyRuleSecret(ctx, 1); vigil.ErrorCode(err) != vigil.EINVALID || got != "" || strings.Contains(err.Error(), "clear-secret") {
					t.Errorf("%s: NotifyRuleSecret = %q, %v", name, got, err)
				}
				err = o.CreateNotifyRule(admin, &vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: "https://hooks.acme.example/c", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, "whsec_x")
				if name == "no key" && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "--secret-key")) {
					t.Errorf("storing a secret without the key: %v", err)
				}
				o.Close()
			}
			if _, err := db.SQL().Exec("UPDATE notify_rules SET secret = $1 WHERE id = 2", stored(1)); err != nil {
				t.Fatal(err)
			}
			if got, err := db.NotifyRuleSecret(ctx, 2); vigil.ErrorCode(err) != vigil.EINVALID || got != "" {
				t.Errorf("rule 1's sealed secret opened for rule 2: %q, %v", got, err)
			}
		})
	}
}
