package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

const lifecyclePW = "correct horse battery staple"

// seedTeam creates root (admin), alice (psirt) and bob (viewer).
func seedTeam(t *testing.T, db *store.DB) {
	t.Helper()
	for _, u := range []*vigil.User{{Name: "root", Role: vigil.RoleAdmin}, {Name: "alice", Role: vigil.RolePSIRT}, {Name: "bob", Role: vigil.RoleViewer}} {
		if err := db.CreateUser(storetest.Admin(), u, lifecyclePW); err != nil {
			t.Fatal(err)
		}
	}
}

func login(t *testing.T, db *store.DB, name string) string {
	t.Helper()
	u, err := db.Authenticate(context.Background(), name, lifecyclePW)
	if err != nil {
		t.Fatalf("authenticate %s: %v", name, err)
	}
	secret, _, err := db.CreateSession(context.Background(), u, 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func newToken(t *testing.T, db *store.DB, user, name string) (*vigil.Token, string) {
	t.Helper()
	tok, secret, err := db.CreateToken(storetest.Admin(), user, name, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if vigil.ErrorCode(err) != code && !(code == "" && err == nil) {
		t.Errorf("%s: code %q, want %q (%v)", what, vigil.ErrorCode(err), code, err)
	}
	if code == "" && err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// lastEvent returns the newest audit event with action.
func lastEvent(t *testing.T, db *store.DB, action string) *vigil.AuditEvent {
	t.Helper()
	evs, err := db.Events(storetest.Admin(), vigil.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no %s event: %v", action, err)
	}
	return evs[0]
}

type auditWant struct {
	Actor, Action, ObjectID, Reason string
	Old, New                        string
}

func auditOf(e *vigil.AuditEvent, withValues bool) auditWant {
	w := auditWant{Actor: e.Actor, Action: e.Action, ObjectID: e.ObjectID, Reason: e.Reason}
	if withValues {
		w.Old, w.New = string(e.Old), string(e.New)
	}
	return w
}

func TestAccountRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedTeam(t, db)
		tok, _ := newToken(t, db, "alice", "ci")
		root := storetest.As("root", vigil.RoleAdmin)
		alice := storetest.As("alice", vigil.RolePSIRT)
		bob := storetest.As("bob", vigil.RoleViewer)
		tests := []struct {
			name string
			do   func() error
			code string
		}{
			{"psirt cannot disable", func() error { return db.SetUserDisabled(alice, "bob", true, "left") }, vigil.EFORBIDDEN},
			{"psirt cannot change a role", func() error { return db.SetUserRole(alice, "alice", vigil.RoleAdmin, "promote myself") }, vigil.EFORBIDDEN},
			{"no actor", func() error { return db.SetUserDisabled(context.Background(), "bob", true, "left") }, vigil.EUNAUTHORIZED},
			{"reason required to disable", func() error { return db.SetUserDisabled(root, "bob", true, "  ") }, vigil.EINVALID},
			{"reason required for a role", func() error { return db.SetUserRole(root, "bob", vigil.RolePSIRT, "") }, vigil.EINVALID},
			{"reason bounded", func() error { return db.SetUserRole(root, "bob", vigil.RolePSIRT, strings.Repeat("x", 3000)) }, vigil.EINVALID},
			{"unknown role", func() error { return db.SetUserRole(root, "bob", "root", "why not") }, vigil.EINVALID},
			{"unknown user", func() error { return db.SetUserDisabled(root, "nobody", true, "left") }, vigil.ENOTFOUND},
			{"unknown user's role", func() error { return db.SetUserRole(root, "nobody", vigil.RoleViewer, "x") }, vigil.ENOTFOUND},
			{"disable yourself", func() error { return db.SetUserDisabled(root, "root", true, "leaving") }, vigil.EINVALID},
			{"disable the last admin", func() error { return db.SetUserDisabled(storetest.Admin(), "root", true, "leaving") }, vigil.ECONFLICT},
			{"demote the last admin", func() error { return db.SetUserRole(root, "root", vigil.RoleViewer, "step down") }, vigil.ECONFLICT},
			{"another user lists tokens", func() error { _, err := db.Tokens(bob, "alice"); return err }, vigil.EFORBIDDEN},
			{"another user revokes a token", func() error { return db.RevokeToken(bob, "alice", tok.ID, "mine now") }, vigil.EFORBIDDEN},
			{"revoke without a reason", func() error { return db.RevokeToken(alice, "alice", tok.ID, "") }, vigil.EINVALID},
			{"revoke under another user's name", func() error { return db.RevokeToken(root, "bob", tok.ID, "wrong user") }, vigil.ENOTFOUND},
			{"revoke an unknown token", func() error { return db.RevokeToken(root, "alice", tok.ID+100, "gone") }, vigil.ENOTFOUND},
			{"tokens of an unknown user", func() error { _, err := db.Tokens(root, "nobody"); return err }, vigil.ENOTFOUND},
			{"the owner lists", func() error { _, err := db.Tokens(alice, "alice"); return err }, ""},
			{"an admin lists", func() error { _, err := db.Tokens(root, "alice"); return err }, ""},
		}
		for _, tt := range tests {
			wantCode(t, tt.name, tt.do(), tt.code)
		}
		// Nothing above changed anything.
		us, _ := db.Users(storetest.Admin())
		for _, u := range us {
			if u.Disabled || (u.Name == "root") != (u.Role == vigil.RoleAdmin) {
				t.Errorf("a refused change took effect: %+v", u)
			}
		}
		if evs, _ := db.Events(storetest.Admin(), vigil.AuditFilter{Action: "user.disable"}); len(evs) != 0 {
			t.Errorf("refused changes were audited: %d", len(evs))
		}
	})
}

func sessionCount(t *testing.T, db *store.DB, user string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)", user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDisableAndEnable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedTeam(t, db)
		root := storetest.As("root", vigil.RoleAdmin)
		sess1, sess2 := login(t, db, "alice"), login(t, db, "alice")
		bobSess := login(t, db, "bob")
		_, secret := newToken(t, db, "alice", "ci")
		if err := db.SetUserDisabled(root, "alice", true, "left the company"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{sess1, sess2} {
			_, err := db.SessionBySecret(context.Background(), s)
			wantCode(t, "session of a disabled user", err, vigil.EUNAUTHORIZED)
		}
		if n := sessionCount(t, db, "alice"); n != 0 {
			t.Errorf("disabled user has %d sessions left", n)
		}
		if _, err := db.SessionBySecret(context.Background(), bobSess); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		_, err := db.TokenActor(context.Background(), secret)
		wantCode(t, "token of a disabled user", err, vigil.EUNAUTHORIZED)
		_, err = db.Authenticate(context.Background(), "alice", lifecyclePW)
		wantCode(t, "login of a disabled user", err, vigil.EUNAUTHORIZED)
		if u, _ := db.UserByName(root, "alice"); !u.Disabled {
			t.Errorf("alice not disabled: %+v", u)
		}
		// Disabling again changes and records nothing.
		if err := db.SetUserDisabled(root, "alice", true, "again"); err != nil {
			t.Errorf("disable twice: %v", err)
		}
		got := auditOf(lastEvent(t, db, "user.disable"), true)
		want := auditWant{Actor: "user:root", Action: "user.disable", ObjectID: "alice", Reason: "left the company", Old: `{"disabled":false}`, New: `{"disabled":true}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("disable audit (-want +got):\n%s", diff)
		}

		if err := db.SetUserDisabled(root, "alice", false, "came back"); err != nil {
			t.Fatal(err)
		}
		s := login(t, db, "alice") // login works again
		if _, err := db.SessionBySecret(context.Background(), s); err != nil {
			t.Errorf("session after enabling: %v", err)
		}
		// The old sessions stay ended; the token, never revoked, works again.
		if _, err := db.SessionBySecret(context.Background(), sess1); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("old session revived: %v", err)
		}
		if _, err := db.TokenActor(context.Background(), secret); err != nil {
			t.Errorf("token after enabling: %v", err)
		}
		got = auditOf(lastEvent(t, db, "user.enable"), true)
		want = auditWant{Actor: "user:root", Action: "user.enable", ObjectID: "alice", Reason: "came back", Old: `{"disabled":true}`, New: `{"disabled":false}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("enable audit (-want +got):\n%s", diff)
		}
	})
}

func TestRoleChangeNextRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedTeam(t, db)
		sess := login(t, db, "alice")
		_, secret := newToken(t, db, "alice", "ci")
		if err := db.SetUserRole(storetest.As("root", vigil.RoleAdmin), "alice", vigil.RoleViewer, "moved to marketing"); err != nil {
			t.Fatal(err)
		}
		s, err := db.SessionBySecret(context.Background(), sess)
		if err != nil || s.User.Role != vigil.RoleViewer {
			t.Errorf("session role after the change = %+v, %v", s, err)
		}
		a, err := db.TokenActor(context.Background(), secret)
		if err != nil || a.Role != vigil.RoleViewer || a.Can(vigil.PermAssess) {
			t.Errorf("token actor after the change = %+v, %v", a, err)
		}
		got := auditOf(lastEvent(t, db, "user.role"), true)
		want := auditWant{Actor: "user:root", Action: "user.role", ObjectID: "alice", Reason: "moved to marketing", Old: `{"role":"psirt"}`, New: `{"role":"viewer"}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("role audit (-want +got):\n%s", diff)
		}
	})
}

func TestLastAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedTeam(t, db)
		root := storetest.As("root", vigil.RoleAdmin)
		steps := []struct {
			name string
			do   func() error
			code string
		}{
			{"promote alice", func() error { return db.SetUserRole(root, "alice", vigil.RoleAdmin, "second admin") }, ""},
			{"disable alice (root remains)", func() error { return db.SetUserDisabled(root, "alice", true, "on leave") }, ""},
			{"demote root, the only enabled admin", func() error { return db.SetUserRole(root, "root", vigil.RolePSIRT, "x") }, vigil.ECONFLICT},
			{"demote the disabled admin", func() error { return db.SetUserRole(root, "alice", vigil.RoleViewer, "on leave") }, ""},
			{"promote bob", func() error { return db.SetUserRole(root, "bob", vigil.RoleAdmin, "new lead") }, ""},
			{"root steps down", func() error { return db.SetUserRole(root, "root", vigil.RoleViewer, "handing over") }, ""},
			{"disable bob, now the last admin", func() error { return db.SetUserDisabled(storetest.Admin(), "bob", true, "x") }, vigil.ECONFLICT},
		}
		for _, s := range steps {
			wantCode(t, s.name, s.do(), s.code)
		}
	})
}

func TestRevokeToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedTeam(t, db)
		alice := storetest.As("alice", vigil.RolePSIRT)
		ci, ciSecret := newToken(t, db, "alice", "ci")
		laptop, laptopSecret := newToken(t, db, "alice", "laptop")
		list, err := db.Tokens(alice, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"ci", "laptop"}, names(list)); diff != "" {
			t.Errorf("tokens (-want +got):\n%s", diff)
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), ciSecret) || strings.Contains(string(b), "hash") {
			t.Errorf("token list leaks a secret: %s", b)
		}
		if err := db.RevokeToken(alice, "alice", ci.ID, "CI key rotated"); err != nil {
			t.Fatal(err)
		}
		_, err = db.TokenActor(context.Background(), ciSecret)
		wantCode(t, "revoked token", err, vigil.EUNAUTHORIZED)
		if _, err := db.TokenActor(context.Background(), laptopSecret); err != nil {
			t.Errorf("the other token: %v", err)
		}
		wantCode(t, "revoke twice", db.RevokeToken(storetest.As("root", vigil.RoleAdmin), "alice", ci.ID, "again"), vigil.ECONFLICT)
		list, _ = db.Tokens(storetest.As("root", vigil.RoleAdmin), "alice")
		if diff := cmp.Diff([]string{"laptop"}, names(list)); diff != "" {
			t.Errorf("tokens after revoking (-want +got):\n%s", diff)
		}
		// An admin revokes through a token of their own.
		_, rootSecret := newToken(t, db, "root", "admin-cli")
		ra, err := db.TokenActor(context.Background(), rootSecret)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeToken(vigil.WithActor(context.Background(), ra), "alice", laptop.ID, "laptop stolen"); err != nil {
			t.Fatal(err)
		}
		got := auditOf(lastEvent(t, db, "token.revoke"), false)
		want := auditWant{Actor: "token:root", Action: "token.revoke", ObjectID: "alice", Reason: "laptop stolen"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("revoke audit (-want +got):\n%s", diff)
		}
		evs, _ := db.Events(storetest.Admin(), vigil.AuditFilter{Action: "token.revoke"})
		if len(evs) != 2 || evs[1].Actor != "user:alice" || evs[1].Reason != "CI key rotated" || !strings.Contains(string(evs[1].Old), `"name":"ci"`) {
			t.Errorf("revoke events = %+v", evs)
		}
	})
}

func names(ts []*vigil.Token) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func lastSeen(t *testing.T, db *store.DB) string {
	t.Helper()
	var s sql.NullString
	if err := db.SQL().QueryRow("SELECT last_seen FROM sessions").Scan(&s); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return s.String
}

// TestSessionIdle moves the clock: a session used within the idle limit lives on (each use pushes the limit back),
// one left alone longer ends before its absolute expiry, and last_seen is written at most once a minute.
func TestSessionIdle(t *testing.T) {
	t0 := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	type step struct {
		at       time.Duration // since the session started
		ok       bool
		seenMove bool // whether last_seen must change
	}
	tests := []struct {
		name  string
		idle  time.Duration // 0: the store's default (SessionBySecret)
		steps []step
	}{
		{"default 30 minutes, just within", 0, []step{{29 * time.Minute, true, true}, {58 * time.Minute, true, true}, {58*time.Minute + 30*time.Second, true, false}, {59*time.Minute + 10*time.Second, true, true}}},
		{"default 30 minutes, just past", 0, []step{{10 * time.Minute, true, true}, {40*time.Minute + time.Second, false, false}, {41 * time.Minute, false, false}}},
		{"configured 10 minutes", 10 * time.Minute, []step{{9 * time.Minute, true, true}, {19*time.Minute + 30*time.Second, false, false}}},
		{"kept busy, still ends at the absolute expiry", 0, []step{{25 * time.Minute, true, true}, {50 * time.Minute, true, true}, {61 * time.Minute, false, false}}},
	}
	for _, engine := range storetest.Engines {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				clock := storetest.NewClock(t0)
				db := storetest.Open(t, engine, clock)
				seedTeam(t, db)
				u, _ := db.UserByName(storetest.Admin(), "alice")
				clock.T = t0
				secret, _, err := db.CreateSession(context.Background(), u, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				svc := vigil.SessionService(db)
				if tt.idle > 0 {
					svc = db.IdleSessions(tt.idle)
				}
				for _, s := range tt.steps {
					before := lastSeen(t, db)
					clock.T = t0.Add(s.at)
					_, err := svc.SessionBySecret(context.Background(), secret)
					if s.ok != (err == nil) {
						t.Fatalf("at +%s: err = %v, want ok = %v", s.at, err, s.ok)
					}
					if !s.ok {
						wantCode(t, "ended session", err, vigil.EUNAUTHORIZED)
						// An idle session is deleted when found idle; an expired one when the next session starts.
						if n := sessionCount(t, db, "alice"); n != 0 && s.at < time.Hour {
							t.Errorf("at +%s: the ended session is still stored", s.at)
						}
						continue
					}
					if moved := lastSeen(t, db) != before; moved != s.seenMove {
						t.Errorf("at +%s: last_seen moved = %v, want %v (%s -> %s)", s.at, moved, s.seenMove, before, lastSeen(t, db))
					}
				}
			})
		}
	}
}

// TestTokenLastUsed: a token's last use is recorded, at most once a minute.
func TestTokenLastUsed(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t0 := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
			clock := storetest.NewClock(t0)
			db := storetest.Open(t, engine, clock)
			seedTeam(t, db)
			_, secret := newToken(t, db, "alice", "ci")
			alice := storetest.As("alice", vigil.RolePSIRT)
			for _, s := range []struct {
				at   time.Duration
				want time.Duration
			}{{time.Hour, time.Hour}, {time.Hour + 30*time.Second, time.Hour}, {time.Hour + 61*time.Second, time.Hour + 61*time.Second}} {
				clock.T = t0.Add(s.at)
				if _, err := db.TokenActor(context.Background(), secret); err != nil {
					t.Fatal(err)
				}
				list, err := db.Tokens(alice, "alice")
				if err != nil || len(list) != 1 {
					t.Fatalf("tokens: %v %v", list, err)
				}
				// The clock ticks a millisecond per read.
				if got := list[0].LastUsed.Sub(t0).Truncate(time.Second); got != s.want {
					t.Errorf("at +%s: last used +%s, want +%s", s.at, got, s.want)
				}
			}
		})
	}
}

// BenchmarkSessionBySecret measures the per-request session check; with last_seen written at most once a minute,
// a steady stream of requests is reads only.
func BenchmarkSessionBySecret(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine, nil)
			u := &vigil.User{Name: "alice", Role: vigil.RolePSIRT}
			if err := db.CreateUser(storetest.Admin(), u, lifecyclePW); err != nil {
				b.Fatal(err)
			}
			secret, _, err := db.CreateSession(context.Background(), u, 8*time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := db.SessionBySecret(context.Background(), secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
