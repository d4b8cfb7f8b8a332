package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// whoami returns the role /api/v1/me reports for a client, or the status when it fails.
func whoami(c *client) string {
	res, body := c.get("/api/v1/me")
	if res.StatusCode != 200 {
		return fmt.Sprint(res.StatusCode)
	}
	var m struct{ Role string }
	json.Unmarshal([]byte(body), &m)
	return m.Role
}

// TestAccountForms drives the users and account screens' lifecycle forms: each works with the session's CSRF token
// and is refused without it, and a change applies to the affected user's very next request.
func TestAccountForms(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			admin := e.login(vigil.RoleAdmin, password(vigil.RoleAdmin))
			target := e.login("target", password("target"))
			if got := whoami(target); got != vigil.RoleViewer {
				t.Fatalf("target = %s", got)
			}
			steps := []struct {
				name     string
				c        *client
				path     string
				form     url.Values
				csrf     bool
				status   int
				want     string // on the page
				targetIs string // what /api/v1/me says for target's session afterwards
			}{
				{"role without CSRF", admin, "/users/target/role", url.Values{"role": {"psirt"}, "reason": {"x"}}, false, 403, "CSRF", vigil.RoleViewer},
				{"role without reason", admin, "/users/target/role", url.Values{"role": {"psirt"}}, true, 400, "reason", vigil.RoleViewer},
				{"role", admin, "/users/target/role", url.Values{"role": {"psirt"}, "reason": {"Joined the PSIRT"}}, true, 200, "The role of target is now psirt", vigil.RolePSIRT},
				{"role by a non-admin", target, "/users/target/role", url.Values{"role": {"admin"}, "reason": {"x"}}, true, 403, "", vigil.RolePSIRT},
				{"disable yourself", admin, "/users/admin/disabled", url.Values{"disabled": {"true"}, "reason": {"x"}}, true, 400, "your own account", vigil.RolePSIRT},
				{"disable, bad value", admin, "/users/target/disabled", url.Values{"disabled": {"yes"}, "reason": {"x"}}, true, 400, "true or false", vigil.RolePSIRT},
				{"disable without CSRF", admin, "/users/target/disabled", url.Values{"disabled": {"true"}, "reason": {"x"}}, false, 403, "CSRF", vigil.RolePSIRT},
				{"disable", admin, "/users/target/disabled", url.Values{"disabled": {"true"}, "reason": {"Left the company"}}, true, 200, "target is disabled", "401"},
				{"enable", admin, "/users/target/disabled", url.Values{"disabled": {"false"}, "reason": {"Rehired"}}, true, 200, "target is enabled again", "401"},
			}
			for _, s := range steps {
				f := url.Values{}
				for k, v := range s.form {
					f[k] = v
				}
				if s.csrf {
					f.Set("csrf", s.c.csrf)
				}
				res, body := s.c.postForm(s.path, f)
				if res.StatusCode != s.status || !strings.Contains(body, s.want) {
					t.Errorf("%s: %d, want %d with %q: %s", s.name, res.StatusCode, s.status, s.want, clip(body))
				}
				if got := whoami(target); got != s.targetIs {
					t.Errorf("%s: target's session is %s, want %s", s.name, got, s.targetIs)
				}
			}
			// Enabled again, target signs in (the old session stays ended).
			if got := whoami(e.login("target", password("target"))); got != vigil.RolePSIRT {
				t.Errorf("after enabling: %s", got)
			}
			evs, _ := e.db.Events(sys(), vigil.AuditFilter{ObjectType: "user", ObjectID: "target"})
			got := map[string]string{}
			for _, ev := range evs {
				got[ev.Action] = ev.Actor + " / " + ev.Reason
			}
			for action, want := range map[string]string{"user.role": "user:admin / Joined the PSIRT", "user.disable": "user:admin / Left the company", "user.enable": "user:admin / Rehired"} {
				if got[action] != want {
					t.Errorf("audit %s = %q, want %q", action, got[action], want)
				}
			}
		})
	}
}

// TestAccountTokens: the account page lists your own tokens (escaped) and revokes them with CSRF; a revoked token
// is refused at once; another user can neither list nor revoke them.
func TestAccountTokens(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			tok, secret, err := e.db.CreateToken(sys(), "viewer", pScript, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			res, body := viewer.get("/account")
			if res.StatusCode != 200 || strings.Contains(body, pScript) || !strings.Contains(body, "&lt;script&gt;") ||
				!strings.Contains(body, fmt.Sprintf("/users/viewer/tokens/%d/revoke", tok.ID)) {
				t.Fatalf("account page: %d %s", res.StatusCode, clip(body))
			}
			if strings.Contains(body, secret) {
				t.Error("account page shows a token secret")
			}
			psirt := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
			path := fmt.Sprintf("/users/viewer/tokens/%d/revoke", tok.ID)
			if res, _ := psirt.postForm(path, url.Values{"csrf": {psirt.csrf}, "reason": {"mine now"}}); res.StatusCode != 403 {
				t.Errorf("another user revoking: %d", res.StatusCode)
			}
			if res, _ := viewer.postForm(path, url.Values{"reason": {"rotated"}}); res.StatusCode != 403 {
				t.Errorf("revoke without CSRF: %d", res.StatusCode)
			}
			if res, _ := bearer(t, e.srv.URL, secret, "GET", "/api/v1/me", nil); res.StatusCode != 200 {
				t.Fatalf("token before revoking: %d", res.StatusCode)
			}
			res, body = viewer.postForm(path, url.Values{"csrf": {viewer.csrf}, "reason": {"rotated"}})
			if res.StatusCode != 200 || !strings.Contains(body, "is revoked") || strings.Contains(body, path) {
				t.Errorf("revoke: %d %s", res.StatusCode, clip(body))
			}
			if res, _ := bearer(t, e.srv.URL, secret, "GET", "/api/v1/me", nil); res.StatusCode != 401 {
				t.Errorf("revoked token: %d", res.StatusCode)
			}
			res, body = viewer.postForm(path, url.Values{"csrf": {viewer.csrf}, "reason": {"again"}})
			if res.StatusCode != 409 || !strings.Contains(body, "already revoked") {
				t.Errorf("revoke twice: %d %s", res.StatusCode, clip(body))
			}
		})
	}
}

// TestAccountAPI checks the lifecycle API's status codes.
func TestAccountAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			adminTok, viewerTok := e.token(vigil.RoleAdmin), e.token(vigil.RoleViewer)
			own, ownSecret, err := e.db.CreateToken(sys(), "viewer", "laptop", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			tokPath := fmt.Sprintf("/api/v1/users/viewer/tokens/%d", own.ID)
			tests := []struct {
				name, token, method, path string
				body                      any
				status                    int
				want                      string
			}{
				{"anonymous", "", "PUT", "/api/v1/users/target/role", map[string]string{"role": "psirt", "reason": "x"}, 401, ""},
				{"viewer changes a role", viewerTok, "PUT", "/api/v1/users/target/role", map[string]string{"role": "psirt", "reason": "x"}, 403, ""},
				{"unknown role", adminTok, "PUT", "/api/v1/users/target/role", map[string]string{"role": "root", "reason": "x"}, 400, "role"},
				{"no reason", adminTok, "PUT", "/api/v1/users/target/role", map[string]string{"role": "psirt"}, 400, "reason"},
				{"unknown field", adminTok, "PUT", "/api/v1/users/target/role", map[string]string{"role": "psirt", "reason": "x", "why": "y"}, 400, "why"},
				{"unknown user", adminTok, "PUT", "/api/v1/users/nobody/role", map[string]string{"role": "psirt", "reason": "x"}, 404, ""},
				{"demote the last admin", adminTok, "PUT", "/api/v1/users/admin/role", map[string]string{"role": "viewer", "reason": "x"}, 409, "last enabled admin"},
				{"role", adminTok, "PUT", "/api/v1/users/target/role", map[string]string{"role": "psirt", "reason": "x"}, 200, `"role": "psirt"`},
				{"disabled missing", adminTok, "PUT", "/api/v1/users/target/disabled", map[string]string{"reason": "x"}, 400, "disabled"},
				{"disable yourself", adminTok, "PUT", "/api/v1/users/admin/disabled", map[string]any{"disabled": true, "reason": "x"}, 400, "own account"},
				{"disable", adminTok, "PUT", "/api/v1/users/target/disabled", map[string]any{"disabled": true, "reason": "left"}, 200, `"disabled": true`},
				{"another user's tokens", viewerTok, "GET", "/api/v1/users/psirt/tokens", nil, 403, ""},
				{"own tokens", viewerTok, "GET", "/api/v1/users/viewer/tokens", nil, 200, `"name": "laptop"`},
				{"an admin lists", adminTok, "GET", "/api/v1/users/viewer/tokens", nil, 200, `"name": "laptop"`},
				{"revoke without a reason", viewerTok, "DELETE", tokPath, nil, 400, "reason"},
				{"revoke another's", e.token(vigil.RolePSIRT), "DELETE", tokPath + "?reason=x", nil, 403, ""},
				{"revoke an unknown token", viewerTok, "DELETE", "/api/v1/users/viewer/tokens/999999?reason=x", nil, 404, ""},
				{"revoke a bad id", viewerTok, "DELETE", "/api/v1/users/viewer/tokens/abc?reason=x", nil, 404, ""},
				{"revoke (query reason)", viewerTok, "DELETE", tokPath + "?reason=rotated", nil, 200, `"revoked": true`},
				{"revoke twice (body reason)", adminTok, "DELETE", tokPath, map[string]string{"reason": "again"}, 409, "already revoked"},
				{"revoked token", ownSecret, "GET", "/api/v1/me", nil, 401, ""},
			}
			for _, tt := range tests {
				var res *http.Response
				var body string
				if tt.token == "" {
					res, body = e.anon().api(tt.method, tt.path, tt.body)
				} else {
					res, body = bearer(t, e.srv.URL, tt.token, tt.method, tt.path, tt.body)
				}
				if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
					t.Errorf("%s: %s %s = %d %s, want %d with %q", tt.name, tt.method, tt.path, res.StatusCode, clip(body), tt.status, tt.want)
				}
			}
		})
	}
}

// TestSessionIdleWeb: the server's idle limit ends a browser session left alone, before its absolute expiry.
func TestSessionIdleWeb(t *testing.T) {
	for _, tt := range []struct {
		name  string
		idle  time.Duration
		after time.Duration
		ok    bool
	}{
		{"default, within", 0, 29 * time.Minute, true},
		{"default, past", 0, 31 * time.Minute, false},
		{"configured 10m, past", 10 * time.Minute, 11 * time.Minute, false},
		{"configured 2h, past the default", 2 * time.Hour, 90 * time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storetest.Engines[0], func(o *app.ServeOptions) { o.SessionIdle = tt.idle })
			c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			e.clock.T = e.clock.T.Add(tt.after)
			res, _ := c.get("/account")
			if ok := res.StatusCode == 200; ok != tt.ok {
				t.Errorf("after %s: %d (%s), want ok = %v", tt.after, res.StatusCode, res.Header.Get("Location"), tt.ok)
			}
		})
	}
}

// TestTokenMinting creates tokens through the API and the account form: a token (a viewer's, or an admin's for
// anyone) cannot create one, so no token outlives its parent's revocation; a signed-in user gets one that expires in
// 90 days by default, may pick a date up to a year away, and a past date or year 9999 is refused naming the field.
func TestTokenMinting(t *testing.T) {
	e := newEnv(t, store.SQLite) // e.clock: 2025-06-02
	viewerTok, adminTok := e.token(vigil.RoleViewer), e.token(vigil.RoleAdmin)
	viewer := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	day := func(d int) string { return e.clock.T.AddDate(0, 0, d).Format(time.DateOnly) }
	for _, tt := range []struct {
		name    string
		token   string // empty: the viewer's session
		user    string
		expires string
		status  int
		want    string // in the body
	}{
		{"a viewer's token for itself", viewerTok, "viewer", "", 403, "an API token cannot create tokens"},
		{"a viewer's token with a date", viewerTok, "viewer", day(30), 403, "an API token cannot create tokens"},
		{"an admin's token for itself", adminTok, "admin", "", 403, "an API token cannot create tokens"},
		{"an admin's token for another user", adminTok, "viewer", "", 403, "an API token cannot create tokens"},
		{"signed in, no date", "", "viewer", "", 201, `"expires_at": "` + e.clock.T.AddDate(0, 0, 90).Format(time.DateOnly)},
		{"signed in, a month", "", "viewer", day(30), 201, `"expires_at": "` + day(30)},
		{"signed in, yesterday", "", "viewer", day(-1), 400, "expires: " + day(-1)},
		{"signed in, today (already begun)", "", "viewer", day(0), 400, "is not in the future"},
		{"signed in, 9999-12-31", "", "viewer", "9999-12-31", 400, "more than 365 days away"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]string{"name": "child"}
			if tt.expires != "" {
				body["expires"] = tt.expires
			}
			path := "/api/v1/users/" + tt.user + "/tokens"
			var res *http.Response
			var got string
			if tt.token != "" {
				res, got = bearer(t, e.srv.URL, tt.token, "POST", path, body)
			} else {
				res, got = viewer.api("POST", path, body)
			}
			if res.StatusCode != tt.status || !strings.Contains(got, tt.want) {
				t.Errorf("%d %s, want %d with %q", res.StatusCode, clip(got), tt.status, tt.want)
			}
		})
	}
	// The account form: the same rules, the error on the page.
	res, body := viewer.postForm("/users/viewer/tokens", url.Values{"csrf": {viewer.csrf}, "token_name": {"old"}, "expires": {day(-1)}})
	if res.StatusCode != 400 || !strings.Contains(body, "The token was not created: expires: ") {
		t.Errorf("form with a past date: %d %s", res.StatusCode, clip(body))
	}
	res, body = viewer.postForm("/users/viewer/tokens", url.Values{"csrf": {viewer.csrf}, "token_name": {"form"}})
	if res.StatusCode != 201 {
		t.Fatalf("form: %d %s", res.StatusCode, clip(body))
	}
	if _, page := viewer.get("/account"); !strings.Contains(page, e.clock.T.AddDate(0, 0, 90).Format(time.DateOnly)) {
		t.Errorf("the account page does not show the tokens' expiry: %s", clip(page))
	}
}
