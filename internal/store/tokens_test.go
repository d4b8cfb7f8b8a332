package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestTokenLifetimes checks on both engines that every token expires: no expiry means the default, a past date or
// one beyond the maximum is refused naming the field, a token cannot create tokens (so none outlives its parent's
// revocation), and a token stored without an expiry, or with one in year 9999, stops a year after its creation.
func TestTokenLifetimes(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			start := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
			clock := storetest.NewClock(start)
			db := storetest.Open(t, engine, clock)
			seedTeam(t, db)
			bob, err := db.UserByName(context.Background(), "bob")
			if err != nil {
				t.Fatal(err)
			}
			_, bobSecret, err := db.CreateToken(storetest.As("bob", vigil.RoleViewer), "bob", "laptop", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			_, rootSecret := newToken(t, db, "root", "ops")
			tokenCtx := func(secret string) context.Context {
				a, err := db.TokenActor(context.Background(), secret)
				if err != nil {
					t.Fatal(err)
				}
				return vigil.WithActor(context.Background(), a)
			}
			for _, tt := range []struct {
				name    string
				ctx     context.Context
				user    string
				expires time.Time
				code    string
				want    time.Time // the stored expiry, when created
			}{
				{"default lifetime", storetest.As("bob", vigil.RoleViewer), "bob", time.Time{}, "", start.Add(90 * 24 * time.Hour)},
				{"a chosen date", storetest.As("bob", vigil.RoleViewer), "bob", start.AddDate(0, 0, 30), "", start.AddDate(0, 0, 30)},
				{"the maximum", storetest.Admin(), "bob", start.Add(365 * 24 * time.Hour), "", start.Add(365 * 24 * time.Hour)},
				{"beyond the maximum", storetest.Admin(), "bob", start.Add(366 * 24 * time.Hour), vigil.EINVALID, time.Time{}},
				{"year 9999", storetest.Admin(), "bob", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), vigil.EINVALID, time.Time{}},
				{"a past date", storetest.As("bob", vigil.RoleViewer), "bob", start.AddDate(0, 0, -1), vigil.EINVALID, time.Time{}},
				{"now", storetest.As("bob", vigil.RoleViewer), "bob", start, vigil.EINVALID, time.Time{}},
				{"a viewer's token for itself", tokenCtx(bobSecret), "bob", time.Time{}, vigil.EFORBIDDEN, time.Time{}},
				{"an admin's token for itself", tokenCtx(rootSecret), "root", time.Time{}, vigil.EFORBIDDEN, time.Time{}},
				{"an admin's token for another", tokenCtx(rootSecret), "bob", time.Time{}, vigil.EFORBIDDEN, time.Time{}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					tok, secret, err := db.CreateToken(tt.ctx, tt.user, "t", tt.expires)
					wantCode(t, "create", err, tt.code)
					if err != nil {
						if tt.code == vigil.EINVALID && !strings.HasPrefix(vigil.ErrorMessage(err), "expires: ") {
							t.Errorf("%q does not name the field", err)
						}
						return
					}
					// The fixture's clock ticks a millisecond a reading: the default counts from the creation.
					if tok.ExpiresAt.Before(tt.want) || tok.ExpiresAt.After(tt.want.Add(time.Second)) {
						t.Errorf("expires %s, want %s", tok.ExpiresAt, tt.want)
					}
					if _, err := db.TokenActor(context.Background(), secret); err != nil {
						t.Errorf("the new token: %v", err)
					}
				})
			}

			// Rows written before lifetimes were enforced: no expiry, or the year 9999 the API used to accept.
			var legacy []string
			for i, exp := range []any{nil, "9999-12-31T00:00:00.000000000Z"} {
				secret := fmt.Sprintf("vgl_legacy_%d", i)
				sum := sha256.Sum256([]byte(secret))
				if _, err := db.SQL().Exec("INSERT INTO tokens (user_id, name, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
					bob.ID, "legacy", hex.EncodeToString(sum[:]), start.Format("2006-01-02T15:04:05.000000000Z"), exp); err != nil {
					t.Fatal(err)
				}
				if _, err := db.TokenActor(context.Background(), secret); err != nil {
					t.Fatalf("legacy token %d on its first day: %v", i, err)
				}
				legacy = append(legacy, secret)
			}
			ts, err := db.Tokens(storetest.Admin(), "bob")
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range ts {
				if tok.ExpiresAt.IsZero() || tok.ExpiresAt.After(tok.CreatedAt.Add(365*24*time.Hour)) {
					t.Errorf("token %d (%s) lists expiry %s, more than a year after its creation %s", tok.ID, tok.Name, tok.ExpiresAt, tok.CreatedAt)
				}
			}
			// A year and a day on, every token of the first day is refused, the legacy ones included.
			clock.T = start.Add(366 * 24 * time.Hour)
			for _, secret := range append([]string{bobSecret, rootSecret}, legacy...) {
				if _, err := db.TokenActor(context.Background(), secret); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
					t.Errorf("a token a year and a day old: %v, want EUNAUTHORIZED", err)
				}
			}
		})
	}
}
