package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestAccountLifecycleCLI disables, re-enables and re-roles users and lists and revokes tokens on the command line,
// on both engines: exit 2 for invalid input, 1 for an unknown user or token or a refused change, and every change in
// the audit trail with its reason.
func TestAccountLifecycleCLI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			const pw = "correct horse battery staple\n"
			for _, u := range [][]string{{"root", "admin"}, {"jdoe", "psirt"}} {
				if code, out, errs := r.run(pw, "user", "add", u[0], "--role", u[1]); code != 0 {
					t.Fatalf("user add %s: %d %s %s", u[0], code, out, errs)
				}
			}
			tokOut := r.ok("token", "create", "--user", "jdoe", "--name", "ci", "--format", "json")
			var created struct {
				Token struct {
					ID int64 `json:"id"`
				} `json:"token"`
			}
			if err := json.Unmarshal([]byte(tokOut), &created); err != nil || created.Token.ID == 0 {
				t.Fatalf("token create: %s %v", tokOut, err)
			}

			for _, tc := range []struct {
				args []string
				code int
				want string // in stdout or stderr
			}{
				{[]string{"user", "disable", "jdoe"}, 2, "--reason"},
				{[]string{"user", "disable", "jdoe", "--reason", "  "}, 2, "--reason"},
				{[]string{"user", "disable"}, 2, "want 1 argument"},
				{[]string{"user", "role", "jdoe", "root", "--reason", "x"}, 2, "role"},
				{[]string{"user", "role", "jdoe", "--reason", "x"}, 2, "want 2 argument"},
				{[]string{"user", "disable", "nobody", "--reason", "left"}, 1, "not found"},
				{[]string{"user", "disable", "root", "--reason", "left"}, 1, "last enabled admin"},
				{[]string{"user", "role", "root", "viewer", "--reason", "x"}, 1, "last enabled admin"},
				{[]string{"token", "revoke", "jdoe", "seven", "--reason", "x"}, 2, "not a token id"},
				{[]string{"token", "revoke", "jdoe", "1"}, 2, "--reason"},
				{[]string{"token", "revoke", "root", "1", "--reason", "x"}, 1, "no token"},
				{[]string{"token", "list", "a", "b"}, 2, "at most 1"},
				{[]string{"token", "list", "nobody"}, 1, "not found"},
				{[]string{"serve", "--session-idle", "10s"}, 2, "--session-idle"},
				{[]string{"token", "create", "--user", "jdoe", "--expires-days", "0"}, 2, "--expires-days: 0 is outside 1..365"},
				{[]string{"token", "create", "--user", "jdoe", "--expires-days", "-3"}, 2, "--expires-days"},
				{[]string{"token", "create", "--user", "jdoe", "--expires-days", "366"}, 2, "--expires-days: 366 is outside 1..365"},
			} {
				code, out, errs := r.run("", tc.args...)
				if code != tc.code || !strings.Contains(out+errs, tc.want) {
					t.Errorf("vigil %v: exit %d (%q %q), want exit %d naming %q", tc.args, code, out, errs, tc.code, tc.want)
				}
			}

			// JSON errors on stdout, with the code.
			code, out, _ := r.run("", "user", "role", "root", "viewer", "--reason", "x", "--format", "json")
			if code != 1 || !strings.Contains(out, `"code": "ECONFLICT"`) {
				t.Errorf("json error: %d %s", code, out)
			}

			var u struct {
				Name     string `json:"name"`
				Role     string `json:"role"`
				Disabled bool   `json:"disabled"`
			}
			out = r.ok("user", "disable", "jdoe", "--reason", "left the company", "--format", "json")
			if err := json.Unmarshal([]byte(out), &u); err != nil || !u.Disabled || u.Name != "jdoe" {
				t.Errorf("disable: %s %v", out, err)
			}
			out = r.ok("user", "enable", "jdoe", "--reason", "rehired", "--format", "json")
			if err := json.Unmarshal([]byte(out), &u); err != nil || u.Disabled {
				t.Errorf("enable: %s %v", out, err)
			}
			out = r.ok("user", "role", "jdoe", "regulatory", "--reason", "new team")
			if !strings.Contains(out, "regulatory") {
				t.Errorf("role table: %s", out)
			}

			var list []struct {
				ID        int64     `json:"id"`
				User      string    `json:"user"`
				Name      string    `json:"name"`
				CreatedAt time.Time `json:"created_at"`
				ExpiresAt time.Time `json:"expires_at"`
			}
			out = r.ok("token", "list", "--format", "json")
			if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].User != "jdoe" || list[0].ID != created.Token.ID {
				t.Errorf("token list: %s %v", out, err)
			}
			// Created without --expires-days: the default 90 days, shown in the list.
			if d := list[0].ExpiresAt.Sub(list[0].CreatedAt); d < 90*24*time.Hour-time.Minute || d > 90*24*time.Hour {
				t.Errorf("token list: expires %s after creation, want 90 days: %s", d, out)
			}
			if table := r.ok("token", "list", "jdoe"); !strings.Contains(table, "EXPIRES") || !strings.Contains(table, list[0].ExpiresAt.UTC().Format(time.RFC3339)) {
				t.Errorf("token list table without the expiry %s:\n%s", list[0].ExpiresAt, table)
			}
			if strings.Contains(out, "vgl_") {
				t.Errorf("token list shows a secret: %s", out)
			}
			r.ok("token", "revoke", "jdoe", itoa(created.Token.ID), "--reason", "rotated")
			if out := r.ok("token", "list", "jdoe", "--format", "json"); strings.TrimSpace(out) != "[]" {
				t.Errorf("token list after revoking: %s", out)
			}
			if code, out, errs := r.run("", "token", "revoke", "jdoe", itoa(created.Token.ID), "--reason", "again"); code != 1 || !strings.Contains(out+errs, "already revoked") {
				t.Errorf("revoke twice: %d %s %s", code, out, errs)
			}

			out = r.ok("audit", "log", "--format", "json")
			var evs []struct {
				Actor, Action, Reason string
			}
			if err := json.Unmarshal([]byte(out), &evs); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, e := range evs {
				if strings.HasPrefix(e.Actor, "system:cli") {
					got[e.Action] = e.Reason
				}
			}
			for action, reason := range map[string]string{"user.disable": "left the company", "user.enable": "rehired", "user.role": "new team", "token.revoke": "rotated"} {
				if got[action] != reason {
					t.Errorf("audit %s: reason %q, want %q (%v)", action, got[action], reason, got)
				}
			}
		})
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
