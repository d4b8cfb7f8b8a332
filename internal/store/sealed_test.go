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

// sealing is a store an older Vigil left with a credential in clear, migrated by the migration that seals it.
type sealing struct {
	t     *testing.T
	dsn   string
	clock *storetest.Clock
}

// migrateSealing makes a store of engine at the schema before migration, runs the older Vigil's inserts on it,
// checks that the migration refuses to run without the secret key (its error naming each of refusal, nothing
// migrated), and returns the store migrated with key.
func migrateSealing(t *testing.T, engine string, migration int64, inserts []string, key []byte, refusal ...string) (*sealing, *store.DB) {
	t.Helper()
	ctx := context.Background()
	s := &sealing{t: t, dsn: storetest.DSN(t, engine), clock: storetest.NewClock(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))}
	old, err := store.OpenAt(ctx, s.dsn, migration-1)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range inserts {
		if _, err := old.SQL().Exec(q); err != nil {
			old.Close()
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := store.Open(ctx, s.dsn, s.clock)
	if err == nil {
		db.Close()
	}
	for _, want := range append(refusal, "--secret-key") {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("migrating a clear credential without the secret key: %v (want %q)", err, want)
		}
	}
	db, err = store.Open(ctx, s.dsn, s.clock, store.WithSecretKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

// withoutKey opens the store again with no secret key, then with other, handing each to check ("no key",
// "another key").
func (s *sealing) withoutKey(other []byte, check func(name string, o *store.DB)) {
	s.t.Helper()
	for _, x := range []struct {
		name string
		opt  []store.Option
	}{{"no key", nil}, {"another key", []store.Option{store.WithSecretKey(other)}}} {
		o, err := store.Open(context.Background(), s.dsn, s.clock, x.opt...)
		if err != nil {
			s.t.Fatal(err)
		}
		check(x.name, o)
		o.Close()
	}
}

// TestSMTPPasswordSealed: an SMTP password an older Vigil stored in clear is sealed by migration 35 with the
// secret key (without it the migration stops, saying what to do, and nothing is lost); from then on the database
// holds no clear password, the URL opens only with the same key, a password is refused without the key, and a URL
// without a password needs none. Both engines.
func TestSMTPPasswordSealed(t *testing.T) {
	const clear = "smtp://psirt:hunter2-secret@mail.acme.example:587?tls=starttls"
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			s, db := migrateSealing(t, engine, store.MigrationSealSMTP,
				[]string{"INSERT INTO smtp_settings (id, url, updated_at, updated_by) VALUES (1, '" + clear + "', '2025-12-01T00:00:00Z', 'cli')"}, key)
			stored := func() string {
				var s string
				if err := db.SQL().QueryRow("SELECT url FROM smtp_settings WHERE id = 1").Scan(&s); err != nil {
					t.Fatal(err)
				}
				return s
			}
			if s := stored(); strings.Contains(s, "hunter2") || !strings.HasPrefix(s, "v1:") {
				t.Fatalf("after the migration the database holds %q", s)
			}
			if got, err := db.SMTPURL(ctx); err != nil || got != clear {
				t.Fatalf("SMTPURL = %q, %v", got, err)
			}
			s.withoutKey(other, func(name string, o *store.DB) {
				if got, err := o.SMTPURL(ctx); vigil.ErrorCode(err) != vigil.EINVALID || got != "" || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("%s: SMTPURL = %q, %v", name, got, err)
				}
				err := o.SetSMTPURL(storetest.Admin(), "smtp://u:pw-2@relay.example:587", "smtp://u:xxxxx@relay.example:587", "new relay")
				if name == "no key" && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "--secret-key")) {
					t.Errorf("storing a password without the key: %v", err)
				}
			})
			if err := db.SetSMTPURL(storetest.Admin(), "smtp://u:pw-3@relay.example:587", "smtp://u:xxxxx@relay.example:587", "new relay"); err != nil {
				t.Fatal(err)
			}
			if s := stored(); strings.Contains(s, "pw-3") || !strings.HasPrefix(s, "v1:") {
				t.Fatalf("a new password stored as %q", s)
			}
			evs, err := db.Events(storetest.Admin(), vigil.AuditFilter{Action: "smtp.configure"})
			for _, e := range evs {
				if strings.Contains(string(e.New), "pw-") {
					t.Errorf("the audit trail holds the password: %s", e.New)
				}
			}
			if err != nil || len(evs) != 2 {
				t.Errorf("smtp.configure events: %d, %v", len(evs), err)
			}
			keyless, err := store.Open(ctx, s.dsn, s.clock)
			if err != nil {
				t.Fatal(err)
			}
			defer keyless.Close()
			if err := keyless.SetSMTPURL(storetest.Admin(), "smtp://relay.local:25?tls=none", "smtp://relay.local:25?tls=none", "local relay"); err != nil {
				t.Fatalf("a URL without a password needs no key: %v", err)
			}
			if got, err := keyless.SMTPURL(ctx); err != nil || got != "smtp://relay.local:25?tls=none" {
				t.Errorf("SMTPURL without a password = %q, %v", got, err)
			}
		})
	}
}

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
			// Rules 1 (a webhook) and 2 (e-mail).
			s, db := migrateSealing(t, engine, store.MigrationStepUp, []string{
				"INSERT INTO notify_rules (channel, target, events, secret, created_at, created_by) VALUES ('webhook', 'https://hooks.acme.example/a', '[\"kev_hit\"]', '" + clear + "', '2025-12-01T00:00:00Z', 'cli')",
				"INSERT INTO notify_rules (channel, target, events, created_at, created_by) VALUES ('email', 'psirt@acme.example', '[\"kev_hit\"]', '2025-12-01T00:00:00Z', 'cli')",
			}, key, "webhook signing secret")
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
			s.withoutKey(other, func(name string, o *store.DB) {
				if got, err := o.NotifyRuleSecret(ctx, 1); vigil.ErrorCode(err) != vigil.EINVALID || got != "" || strings.Contains(err.Error(), "clear-secret") {
					t.Errorf("%s: NotifyRuleSecret = %q, %v", name, got, err)
				}
				err := o.CreateNotifyRule(admin, &vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: "https://hooks.acme.example/c", Events: []vigil.NotifyEvent{vigil.EventKEVHit}}, "whsec_x")
				if name == "no key" && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "--secret-key")) {
					t.Errorf("storing a secret without the key: %v", err)
				}
			})
			if _, err := db.SQL().Exec("UPDATE notify_rules SET secret = $1 WHERE id = 2", stored(1)); err != nil {
				t.Fatal(err)
			}
			if got, err := db.NotifyRuleSecret(ctx, 2); vigil.ErrorCode(err) != vigil.EINVALID || got != "" {
				t.Errorf("rule 1's sealed secret opened for rule 2: %q, %v", got, err)
			}
		})
	}
}
