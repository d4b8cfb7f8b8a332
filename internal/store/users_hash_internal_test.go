package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/vigil-dev/vigil"
)

// TestLoginFloodHashesWithinTheGate sends 20 concurrent bad logins, half for unknown names, and checks that the
// argon2id memory held at once never exceeded the gate's capacity (one OWASP-sized hash per core) while every
// attempt was still answered EUNAUTHORIZED; before the gate, each attempt held 64 MiB at the same time (bench/memory
// measures the process under 100).
func TestLoginFloodHashesWithinTheGate(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "s.db"), vigil.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "test"})
	if err := db.CreateUser(admin, &vigil.User{Name: "alice", Role: vigil.RoleViewer}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	hashGate.peak.Store(0)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "alice"
			if i%2 == 1 {
				name = fmt.Sprintf("nobody-%d", i)
			}
			_, errs[i] = db.Authenticate(ctx, name, "wrong password guess")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("attempt %d: %v, want EUNAUTHORIZED", i, err)
		}
	}
	if p := hashGate.peak.Load(); p == 0 || p > hashGate.capacity {
		t.Errorf("argon2id memory held at once peaked at %d KiB; the gate's capacity is %d KiB", p, hashGate.capacity)
	}
	if _, err := db.Authenticate(ctx, "alice", "correct horse battery"); err != nil {
		t.Errorf("the right password after the flood: %v", err)
	}
}

// TestCheckPasswordStoredParameters checks that a hash is verified with the parameters stored in it (those of
// earlier versions included) and that new hashes use OWASP's m=19 MiB, t=2, p=1.
func TestCheckPasswordStoredParameters(t *testing.T) {
	ctx := context.Background()
	phc := func(m, tm uint32, p uint8) string {
		salt := []byte("0123456789abcdef")
		key := argon2.IDKey([]byte("correct horse battery"), salt, tm, m, p, 32)
		b64 := base64.RawStdEncoding
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p, b64.EncodeToString(salt), b64.EncodeToString(key))
	}
	fresh, err := hashPassword(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"new hash", fresh, "correct horse battery", true},
		{"new hash, wrong password", fresh, "correct horse batterx", false},
		{"earlier versions' 64 MiB, p=2", phc(64*1024, 2, 2), "correct horse battery", true},
		{"OWASP 46 MiB, t=1", phc(46*1024, 1, 1), "correct horse battery", true},
		{"not argon2id", "$2a$10$abcdefghijklmnopqrstuu", "correct horse battery", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkPassword(ctx, tt.hash, tt.password)
			if err != nil || got != tt.want {
				t.Errorf("checkPassword = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if want := fmt.Sprintf("$m=%d,t=%d,p=%d$", 19*1024, 2, 1); !strings.Contains(fresh, want) {
		t.Errorf("new hash %s: want parameters %s", fresh, want)
	}
}
