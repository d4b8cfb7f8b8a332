package store_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestOldHashUpgradedAtSignIn stores a password hash with the parameters of earlier versions (64 MiB, p=2) and
// checks that a wrong password leaves it alone while the right one signs in and upgrades it to OWASP's
// m=19 MiB, t=2, p=1, after which the password still works.
func TestOldHashUpgradedAtSignIn(t *testing.T) {
	const pw = "correct horse battery staple"
	salt := []byte("0123456789abcdef")
	b64 := base64.RawStdEncoding
	old := fmt.Sprintf("$argon2id$v=19$m=65536,t=2,p=2$%s$%s", b64.EncodeToString(salt),
		b64.EncodeToString(argon2.IDKey([]byte(pw), salt, 2, 64*1024, 2, 32)))
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		if err := db.CreateUser(ctx, &vigil.User{Name: "carol", Role: vigil.RoleViewer}, pw); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec("UPDATE users SET password_hash = $1 WHERE name = 'carol'", old); err != nil {
			t.Fatal(err)
		}
		stored := func() string {
			var h string
			if err := db.SQL().QueryRow("SELECT password_hash FROM users WHERE name = 'carol'").Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if _, err := db.Authenticate(ctx, "carol", "wrong horse battery staple"); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Fatalf("wrong password: %v", err)
		}
		if stored() != old {
			t.Error("a wrong password changed the stored hash")
		}
		if _, err := db.Authenticate(ctx, "carol", pw); err != nil {
			t.Fatalf("the right password against the old hash: %v", err)
		}
		if h := stored(); !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("stored hash after sign-in = %s, want OWASP's m=19456,t=2,p=1", h)
		}
		if _, err := db.Authenticate(ctx, "carol", pw); err != nil {
			t.Errorf("the right password against the upgraded hash: %v", err)
		}
	})
}
