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
			clock := storetest.NewClock(time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
			dsn := storetest.DSN(t, engine)
			old, err := store.OpenAt(ctx, dsn, store.MigrationSealSMTP-1)
			if err != nil {
				t.Fatal(err)
			}
			_, err = old.SQL().Exec("INSERT INTO smtp_settings (id, url, updated_at, updated_by) VALUES (1, $1, '2025-12-01T00:00:00Z', 'cli')", clear)
			old.Close()
			if err != nil {
				t.Fatal(err)
			}
			if db, err := store.Open(ctx, dsn, clock); err == nil || !strings.Contains(err.Error(), "--secret-key") {
				if db != nil {
					db.Close()
				}
				t.Fatalf("migrating a clear password without the secret key: %v", err)
			}
			db, err := store.Open(ctx, dsn, clock, store.WithSecretKey(key))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
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
			for name, opt := range map[string][]store.Option{"no key": nil, "another key": {store.WithSecretKey(other)}} {
				o, err := store.Open(ctx, dsn, clock, opt...)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := o.SMTPURL(ctx); vigil.ErrorCode(err) != vigil.EINVALID || got != "" || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("%s: SMTPURL = %q, %v", name, got, err)
				}
				err = o.SetSMTPURL(storetest.Admin(), "smtp://u:pw-2@relay.example:587", "smtp://u:xxxxx@relay.example:587", "new relay")
				if name == "no key" && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "--secret-key")) {
					t.Errorf("storing a password without the key: %v", err)
				}
				o.Close()
			}
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
			keyless, err := store.Open(ctx, dsn, clock)
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
