package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(instanceEnv) != "" {
		os.Exit(runInstance()) // this process is one server of TestTwoServersShareTheJobs
	}
	storetest.Main(m)
}

// demoSeed is the demo seeded once per engine on the real clock (it is live as of today); its value is the admin's
// password.
var demoSeed storetest.Seed[string]

// newDemo serves a copy of the seeded demo and returns its admin's password.
func newDemo(t *testing.T, engine string) (*httptest.Server, string) {
	t.Helper()
	ctx := context.Background()
	dsn, pw := demoSeed.DSN(t, engine, func(t testing.TB, dsn string) string {
		a, err := app.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		pw, err := a.SeedDemo(ctx)
		if err != nil || len(pw) < 12 {
			t.Fatalf("seed: %q %v", pw, err)
		}
		return pw
	})
	a, err := app.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if again, err := a.SeedDemo(ctx); err != nil || again != "" {
		t.Fatalf("second seed must be a no-op: %q %v", again, err)
	}
	h, err := a.Handler(app.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, pw
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func login(t *testing.T, c *http.Client, base, name, pw string) (int, string) {
	t.Helper()
	_, body := get(t, c, base+"/login")
	m := hiddenCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field on login page")
	}
	res, err := c.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestDemoLoginShowsDevices(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			srv, pw := newDemo(t, engine)
			c := client(t)
			code, _ := get(t, c, srv.URL+"/devices")
			if code != http.StatusOK { // followed the redirect to the login page
				t.Fatalf("anonymous /devices: %d", code)
			}
			if code, body := login(t, c, srv.URL, "admin", "wrong-password-123"); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong name or password") {
				t.Fatalf("bad login: %d", code)
			}
			if code, body := login(t, c, srv.URL, "nosuchuser", pw); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong name or password") {
				t.Fatalf("unknown user must look like a bad password: %d", code)
			}
			if code, body := login(t, c, srv.URL, "admin", pw); code != http.StatusOK || !strings.Contains(body, "Dashboard") {
				t.Fatalf("login: %d, want the dashboard", code)
			}
			code, body := get(t, c, srv.URL+"/devices")
			if code != http.StatusOK {
				t.Fatalf("devices: %d", code)
			}
			for _, want := range []string{"Infusio IP-3", "VitalView PM-7", "ClearScan IW-2", "3.2.1"} {
				if !strings.Contains(body, want) {
					t.Errorf("devices page lacks %q", want)
				}
			}
			// A state-changing request without the CSRF token is refused.
			res, err := c.PostForm(srv.URL+"/logout", url.Values{})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("logout without csrf: %d, want 403", res.StatusCode)
			}
			csrf := hiddenCSRF.FindStringSubmatch(body)[1]
			res, err = c.PostForm(srv.URL+"/logout", url.Values{"csrf": {csrf}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if code, body := get(t, c, srv.URL+"/devices"); code != http.StatusOK || !strings.Contains(body, "Sign in to Vigil") {
				t.Errorf("after logout /devices should show the login page")
			}
		})
	}
}

func TestSecurityHeadersAndAPIAuth(t *testing.T) {
	srv, _ := newDemo(t, store.SQLite)
	res, err := http.Get(srv.URL + "/api/v1/devices")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `"code": "EUNAUTHORIZED"`) {
		t.Errorf("anonymous API: %d %s", res.StatusCode, b)
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
	} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("%s = %q, want %q", h, res.Header.Get(h), want)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/devices", nil)
	req.Header.Set("Authorization", "Bearer vgl_forged")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged token: %d", res.StatusCode)
	}
}

func TestLoginRateLimited(t *testing.T) {
	srv, _ := newDemo(t, store.SQLite)
	c := client(t)
	limited := false
	for i := 0; i < 15; i++ {
		code, _ := login(t, c, srv.URL, "admin", "not-the-password")
		if code == http.StatusTooManyRequests {
			limited = true
			if i < 4 { // four free failures per (name, address), then a growing wait
				t.Errorf("limited after only %d attempts", i)
			}
			break
		}
	}
	if !limited {
		t.Error("15 failed logins in a row were never rate-limited")
	}
}
