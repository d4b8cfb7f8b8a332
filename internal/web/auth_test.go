package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store"
)

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tls    bool
		cookie string
	}{
		{"plain http (development)", false, "vigil_session"},
		{"behind a TLS proxy", true, "__Host-vigil_session"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, store.SQLite, func(o *app.ServeOptions) { o.TrustedProxyTLS = tt.tls })
			c := e.anon()
			_, body := c.get("/login")
			m := csrfField.FindStringSubmatch(body)
			res, _ := c.postForm("/login", url.Values{"csrf": {m[1]}, "name": {"viewer"}, "password": {password("viewer")}})
			ck := cookieNamed(res, tt.cookie)
			if res.StatusCode != http.StatusSeeOther || ck == nil {
				t.Fatalf("login: %d, cookies %v", res.StatusCode, res.Header.Values("Set-Cookie"))
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != tt.tls || ck.MaxAge <= 0 {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, no Domain, Secure=%v, a Max-Age", ck, tt.tls)
			}
			if hsts := res.Header.Get("Strict-Transport-Security"); (hsts != "") != tt.tls {
				t.Errorf("Strict-Transport-Security %q with TLS %v", hsts, tt.tls)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RolePSIRT, password(vigil.RolePSIRT))
	path := fmt.Sprintf("/findings/%d/state", e.spring)
	form := url.Values{"state": {"closed"}, "reason": {"not applicable: the class is not loaded"}}
	send := func(token, site string) int {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if token != "" {
			f.Set("csrf", token)
		}
		req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		res, _ := c.do(req)
		return res.StatusCode
	}
	for _, tt := range []struct {
		name        string
		token, site string
		want        int
	}{
		{"no token", "", "", http.StatusForbidden},
		{"another token", "forged-token-value", "", http.StatusForbidden},
		{"cross-site request with the token", c.csrf, "cross-site", http.StatusForbidden},
		{"same-origin form with the token", c.csrf, "same-origin", http.StatusSeeOther},
	} {
		if got := send(tt.token, tt.site); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// The API with the session cookie needs the header; with a bearer token it does not.
	body := map[string]string{"state": "open", "reason": "reopened for review"}
	c2 := *c
	c2.csrf = ""
	if res, _ := c2.api("POST", fmt.Sprintf("/api/v1/findings/%d/state", e.spring), body); res.StatusCode != http.StatusForbidden {
		t.Errorf("cookie API write without X-CSRF-Token: %d, want 403", res.StatusCode)
	}
	if res, b := bearer(t, e.srv.URL, e.token(vigil.RolePSIRT), "POST", fmt.Sprintf("/api/v1/findings/%d/state", e.spring), body); res.StatusCode != http.StatusOK {
		t.Errorf("bearer API write: %d %s", res.StatusCode, b)
	}
	// Signing in needs the double-submit token of the sign-in page.
	res, _ := e.anon().postForm("/login", url.Values{"name": {"viewer"}, "password": {password("viewer")}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("login without its CSRF cookie: %d, want 403", res.StatusCode)
	}
}

func TestLoginSaysNothingAboutNames(t *testing.T) {
	e := newEnv(t, store.SQLite)
	try := func(name, pw string) (int, string) {
		c := e.anon()
		_, body := c.get("/login")
		m := csrfField.FindStringSubmatch(body)
		res, body := c.postForm("/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}})
		return res.StatusCode, csrfField.ReplaceAllString(body, "")
	}
	c1, b1 := try("viewer", "not-the-password-at-all")
	c2, b2 := try("nobody-by-this-name", "not-the-password-at-all")
	if c1 != http.StatusUnauthorized || c1 != c2 || b1 != b2 || !strings.Contains(b1, "Wrong name or password.") {
		t.Errorf("wrong password %d and unknown name %d must look the same", c1, c2)
	}
}

// TestLoginNextStaysOnSite signs in through the sign-in page with a next= in its URL, as a link would bring a
// browser there, and checks where the sign-in sends it: always a path on this site.
func TestLoginNextStaysOnSite(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, tt := range []struct {
		name, query, want string
	}{
		{"a page with a query", "next=%2Ffindings%3Frisk%3Duncontrolled", "/findings?risk=uncontrolled"},
		{"an encoded character stays encoded", "next=%2Fvulns%2FCVE%252D1", "/vulns/CVE%2D1"},
		{"another host", "next=%2F%2Fevil.example%2F", "/"},
		{"a scheme", "next=https%3A%2F%2Fevil.example%2F", "/"},
		{"a scheme-relative URL with a backslash", "next=%2F%5Cevil.example", "/"},
		{"a backslash later on", "next=%2Fa%5C..%5C%5Cevil.example", "/"},
		{"a TAB browsers drop", "next=%2F%09%2Fevil.example", "/"},
		{"a newline browsers drop", "next=%2F%0A%2Fevil.example", "/"},
		{"a carriage return", "next=%2F%0D%2Fevil.example", "/"},
		{"DEL", "next=%2F%7F%2Fevil.example", "/"},
		{"a C1 control", "next=%2F%C2%85%2Fevil.example", "/"},
		{"no leading slash", "next=evil.example", "/"},
		{"none", "", "/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.T = e.clock.T.Add(10 * time.Second) // within the sign-in rate of one address
			c := e.anon()
			_, body := c.get("/login?" + tt.query)
			csrf := csrfField.FindStringSubmatch(body)
			next := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(body)
			if csrf == nil || next == nil {
				t.Fatalf("sign-in page without its csrf or next field")
			}
			res, _ := c.postForm("/login", url.Values{"csrf": {csrf[1]}, "name": {"viewer"}, "password": {password("viewer")},
				"next": {html.UnescapeString(next[1])}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", res.StatusCode)
			}
			if loc := res.Header.Get("Location"); loc != tt.want {
				t.Errorf("redirected to %q, want %q", loc, tt.want)
			}
		})
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.anon()
	_, body := c.get("/login")
	m := csrfField.FindStringSubmatch(body)
	codes := ""
	for i := 0; i < 12; i++ {
		res, _ := c.postForm("/login", url.Values{"csrf": {m[1]}, "name": {fmt.Sprintf("spray-%d", i)}, "password": {"guess-guess-guess"}})
		codes += fmt.Sprintf("%d ", res.StatusCode)
	}
	if want := strings.Repeat("401 ", 10) + "429 429 "; codes != want {
		t.Errorf("12 failed logins from one address: %s, want %s", codes, want)
	}
	// A minute later the bucket has refilled.
	e.clock.T = e.clock.T.Add(61 * time.Second)
	res, _ := c.postForm("/login", url.Values{"csrf": {m[1]}, "name": {"viewer"}, "password": {password("viewer")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("after a minute: %d, want a sign-in", res.StatusCode)
	}
}

func TestLogoutAndExpiry(t *testing.T) {
	e := newEnv(t, store.SQLite)
	c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	if res, _ := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}
	// Expiry: eight hours later the session is refused and the browser is sent to sign in.
	e.clock.T = e.clock.T.Add(8*time.Hour + time.Minute)
	res, _ := c.get("/findings")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=%2Ffindings") {
		t.Errorf("expired session: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := c.api("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session on the API: %d", res.StatusCode)
	}
	// Logout ends the session on the server: replaying the cookie afterwards is refused.
	c = e.login(vigil.RoleViewer, password(vigil.RoleViewer))
	u, _ := url.Parse(e.srv.URL)
	old := c.http.Jar.Cookies(u)
	res, _ = c.postForm("/logout", url.Values{"csrf": {c.csrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	replay := e.anon()
	replay.http.Jar.SetCookies(u, old)
	if res, _ := replay.api("GET", "/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed cookie after logout: %d, want 401", res.StatusCode)
	}
}

func TestBearerTokens(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, tt := range []struct {
		name, header string
		want         int
	}{
		{"a real token", "Bearer " + e.token("regulatory"), http.StatusOK},
		{"a forged token", "Bearer vgl_forged", http.StatusUnauthorized},
		{"basic auth", "Basic dmlld2VyOnBhc3N3b3Jk", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", tt.header)
		res, body := e.anon().do(req)
		if res.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, res.StatusCode, tt.want)
		}
		if tt.want == http.StatusOK && !regexp.MustCompile(`"role": "regulatory"`).MatchString(body) {
			t.Errorf("%s: %s", tt.name, body)
		}
	}
}

// TestScreensNeedASession sends every screen and form the admin's bearer token, with the form's valid example: a
// token is for the API, so each answers 401 before its handler runs, and the audit trail shows nothing was written
// (the role, password, token and disable forms used to commit and then fail rendering a page with no session).
func TestScreensNeedASession(t *testing.T) {
	e := newEnv(t, store.SQLite)
	tok := e.token(vigil.RoleAdmin)
	before, err := e.db.Checkpoint(sys())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rt := range e.web.Routes() {
		if rt.API || rt.Public {
			continue
		}
		n++
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			req := e.request(rt, rt.Method)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, body := e.anon().do(req)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code": "EUNAUTHORIZED"`) {
				t.Errorf("%d %s, want 401 EUNAUTHORIZED", res.StatusCode, clip(body))
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d screens and forms in the route table", n)
	}
	after, err := e.db.Checkpoint(sys())
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("audit trail went from %+v to %+v: a form wrote before refusing the token", before, after)
	}
	// The same token still works where it belongs.
	if res, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/users/target/tokens", nil); res.StatusCode != http.StatusOK {
		t.Errorf("the API with the token: %d %s", res.StatusCode, clip(body))
	}
}

// signIn tries a password from a client address, as the trusted proxy in front of the server reports it.
func (e *env) signIn(addr, name, pw string) *http.Response {
	e.t.Helper()
	c := e.anon()
	_, body := c.get("/login")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatal("no CSRF field on the sign-in page")
	}
	req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	res, _ := c.do(req)
	return res
}

// TestLoginCannotLockOut floods sign-in for one user, from one address and from many (through a trusted proxy, as
// X-Forwarded-For says), and checks that the user's correct password still signs in from their own address, while
// the guessing addresses are slowed: per address, and per (name, address) with a growing wait.
func TestLoginCannotLockOut(t *testing.T) {
	const wrong = "not-the-password-at-all"
	e := newEnv(t, store.SQLite, func(o *app.ServeOptions) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	codes := func(addr, name, pw string, n int) string {
		var s []string
		for range n {
			s = append(s, fmt.Sprint(e.signIn(addr, name, pw).StatusCode))
		}
		return strings.Join(s, " ")
	}
	type step struct {
		what           string
		addr, name, pw string
		n              int
		want           string // the statuses, in order
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"a flood from one address", []step{
			{"guesses", "203.0.113.1", "admin", wrong, 12, "401 401 401 401 401 429 429 429 429 429 429 429"},
			{"the admin elsewhere", "198.51.100.7", "admin", password("admin"), 1, "303"},
			{"the guesser with the right password", "203.0.113.1", "admin", password("admin"), 1, "429"},
		}},
		{"a flood from many addresses", func() []step {
			var s []step
			for i := range 12 {
				s = append(s, step{"one guess each", fmt.Sprintf("203.0.113.%d", 100+i), "psirt", wrong, 1, "401"})
			}
			return append(s,
				step{"the user from a new address", "198.51.100.8", "psirt", password("psirt"), 1, "303"},
				// Under attack, each address's backoff starts at its first failure.
				step{"a new guesser", "203.0.113.200", "psirt", wrong, 2, "401 429"},
				step{"another user from a guessing address", "203.0.113.100", "viewer", password("viewer"), 1, "303"},
			)
		}()},
		{"one user mistyping", []step{
			{"typos", "192.0.2.9", "regulatory", wrong, 5, "401 401 401 401 401"},
			{"the right password during the wait", "192.0.2.9", "regulatory", password("regulatory"), 1, "429"},
			{"the right password from another address", "192.0.2.10", "regulatory", password("regulatory"), 1, "303"},
		}},
		{"a client cannot pick its address", []step{
			// The client wrote the left part itself; the proxy appended the address it saw.
			{"spoofed hops", "10.9.9.1, 203.0.113.50", "target", wrong, 1, "401"},
			{"", "10.9.9.2, 203.0.113.50", "target", wrong, 1, "401"},
			{"", "10.9.9.3, 203.0.113.50", "target", wrong, 1, "401"},
			{"", "10.9.9.4, 203.0.113.50", "target", wrong, 1, "401"},
			{"", "10.9.9.5, 203.0.113.50", "target", wrong, 1, "401"},
			{"the sixth from the same client", "10.9.9.6, 203.0.113.50", "target", wrong, 1, "429"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.steps {
				if got := codes(s.addr, s.name, s.pw, s.n); got != s.want {
					t.Errorf("%s (%s from %s): %s, want %s", s.what, s.name, s.addr, got, s.want)
				}
			}
		})
	}
	// The wait grows with each failure and ends: after it, the mistyping user signs in from the same address.
	res := e.signIn("192.0.2.9", "regulatory", password("regulatory"))
	if ra := res.Header.Get("Retry-After"); res.StatusCode != http.StatusTooManyRequests || ra != "1" {
		t.Fatalf("during the wait: %d, Retry-After %q, want the one second left", res.StatusCode, ra)
	}
	e.clock.T = e.clock.T.Add(2 * time.Second)
	if res := e.signIn("192.0.2.9", "regulatory", password("regulatory")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after the wait: %d, want a sign-in", res.StatusCode)
	}
}

// TestForwardedForNeedsATrustedProxy checks that without --trusted-proxy the header is ignored: the connection's
// address is the client, so a client cannot make itself many clients.
func TestForwardedForNeedsATrustedProxy(t *testing.T) {
	e := newEnv(t, store.SQLite)
	var got []string
	for i := range 11 {
		got = append(got, fmt.Sprint(e.signIn(fmt.Sprintf("203.0.113.%d", i), fmt.Sprintf("spray-%d", i), "guess-guess-guess").StatusCode))
	}
	if want := strings.Repeat("401 ", 10) + "429"; strings.Join(got, " ") != want {
		t.Errorf("11 sprayed guesses with made-up X-Forwarded-For: %s, want %s", strings.Join(got, " "), want)
	}
}
