package cli_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"

	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

const (
	ssoClient = "vigil-test"
	ssoSecret = "s3cret-never-logged-6b1f"
)

// provider is an in-test OpenID Connect provider: discovery and keys from go-oidc's oidctest, and an authorization
// endpoint that signs in whoever the test says (no page) and a token endpoint that checks the client secret and the
// PKCE verifier before it issues an RS256 ID token with the request's nonce.
type provider struct {
	*httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	claims map[string]any            // the next sign-in's user
	codes  map[string]map[string]any // code → the ID token's claims and the PKCE challenge
	// nonce, when set, replaces the request's nonce in the ID token (a replayed token); foreignKey signs with a key
	// the provider does not publish.
	nonce      string
	foreignKey bool
	issued     []string // every code and ID token issued, which no log may show
	// asked lists each authorization request's prompt and max_age ("prompt=login max_age=0"); auth_time is when
	// the user authenticated, now, unless stale (a provider that ignored prompt=login and reused its session).
	asked []string
	stale bool
}

func newProvider(t *testing.T) *provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, codes: map[string]map[string]any{}}
	keys := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}
	mux := http.NewServeMux()
	mux.Handle("/", keys)
	mux.HandleFunc("/auth", p.authorize)
	mux.HandleFunc("/token", p.token)
	p.Server = httptest.NewServer(mux)
	keys.SetIssuer(p.URL)
	t.Cleanup(p.Close)
	return p
}

func (p *provider) signIn(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
}

func (p *provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != ssoClient || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	code := rand.Text()
	p.asked = append(p.asked, "prompt="+q.Get("prompt")+" max_age="+q.Get("max_age"))
	authTime := time.Now()
	if p.stale {
		authTime = authTime.Add(-time.Hour)
	}
	c := map[string]any{"challenge": q.Get("code_challenge"), "nonce": q.Get("nonce"), "redirect_uri": q.Get("redirect_uri"), "auth_time": authTime.Unix()}
	for k, v := range p.claims {
		c[k] = v
	}
	p.codes[code] = c
	p.issued = append(p.issued, code)
	p.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, found := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code")) // one use
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case id != ssoClient || secret != ssoSecret:
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	case !found || c["redirect_uri"] != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c["challenge"]:
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	claims := map[string]any{"iss": p.URL, "aud": ssoClient, "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(), "nonce": c["nonce"]}
	for k, v := range c {
		if k != "challenge" && k != "redirect_uri" && k != "nonce" {
			claims[k] = v
		}
	}
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	key := p.key
	if p.foreignKey {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	raw, _ := json.Marshal(claims)
	idt := oidctest.SignIDToken(key, "k1", oidc.RS256, string(raw))
	p.issued = append(p.issued, idt)
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

// freeAddr returns a loopback address nothing listens on, for a server whose redirect URL must be known before it
// starts.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeSignsInThroughOIDC runs `vigil serve` with the --oidc-* flags and the client secret in
// $VIGIL_OIDC_CLIENT_SECRET against the in-test provider, and signs in through a browser's redirects: a user is
// created at the first sign-in with the role the groups claim maps to, and follows the claim when it changes;
// a user whose claim maps to no role, a name that is a local account, a forged state, a replayed nonce and a token
// signed with an unpublished key are refused. Password sign-in stays for the local admin only (break-glass). The
// server's output never shows the client secret, a code or an ID token. Both engines.
func TestServeSignsInThroughOIDC(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.MigratedDSN(t, engine)
			r := runner{t, dsn}
			r.run("break-glass password 1\n", "user", "add", "root", "--role", "admin")
			r.run("viewer password 12345\n", "user", "add", "vera", "--role", "viewer")
			idp := newProvider(t)
			base, out := serveSSO(t, dsn, idp)
			if !strings.Contains(out.String(), "client_secret_set=true") {
				t.Errorf("serve's start-up log does not say single sign-on is on with a secret:\n%s", out.String())
			}
			if _, page := passwordSignIn(t, browser(), base, "nobody", "x"); !strings.Contains(page, `href="/login/sso`) || !strings.Contains(page, "break-glass") {
				t.Errorf("the sign-in page does not lead with single sign-on:\n%s", page)
			}
			me := func(c *http.Client) (int, string) { return me(t, base, c) }
			sso := func(claims map[string]any) (*http.Client, int, string) { return ssoSignIn(t, base, idp, claims) }

			c, status, _ := sso(map[string]any{"sub": "u-1", "preferred_username": "alice", "groups": []string{"staff", "vigil-psirt"}})
			if code, body := me(c); status != http.StatusOK || code != http.StatusOK || body != "alice psirt" {
				t.Fatalf("first sign-in: page %d, me %d %s", status, code, body)
			}
			c, _, _ = sso(map[string]any{"sub": "u-1", "preferred_username": "alice", "groups": []string{"vigil-admins", "vigil-psirt"}})
			if _, body := me(c); body != "alice admin" {
				t.Errorf("after the provider made alice an admin: %s", body)
			}
			if users := r.ok("user", "list"); strings.Count(users, "alice") != 1 {
				t.Errorf("alice's second sign-in made another user:\n%s", users)
			}
			if trail := r.ok("audit", "log"); !strings.Contains(trail, "user.identity") || !strings.Contains(trail, "system:sso") {
				t.Errorf("the audit trail does not record the SSO user's creation and identity:\n%s", trail)
			}
			if code, out, errs := r.run("", "audit", "verify"); code != 0 {
				t.Errorf("audit verify after SSO sign-ins (users and their identities reconciled with the trail): exit %d\n%s%s", code, out, errs)
			}

			for _, tc := range []struct {
				name   string
				claims map[string]any
				setup  func()
				status int
				says   string
			}{
				{"no role", map[string]any{"sub": "u-2", "preferred_username": "bob", "groups": []string{"staff"}}, nil, http.StatusForbidden, "no Vigil role"},
				{"the local admin's name", map[string]any{"sub": "u-3", "preferred_username": "root", "groups": "vigil-admins"}, nil, http.StatusConflict, "already a Vigil account"},
				{"replayed nonce", map[string]any{"sub": "u-4", "preferred_username": "carol", "groups": "vigil-psirt"}, func() { idp.nonce = "an-old-nonce" }, http.StatusUnauthorized, "nonce"},
				{"unpublished key", map[string]any{"sub": "u-5", "preferred_username": "dave", "groups": "vigil-psirt"}, func() { idp.nonce, idp.foreignKey = "", true }, http.StatusUnauthorized, "does not verify"},
			} {
				if tc.setup != nil {
					tc.setup()
				}
				c, status, body := sso(tc.claims)
				if code, _ := me(c); status != tc.status || code != http.StatusUnauthorized || !strings.Contains(body, tc.says) {
					t.Errorf("%s: sign-in answered %d (want %d saying %q), then me %d", tc.name, status, tc.status, tc.says, code)
				}
			}
			idp.foreignKey = false

			// A disabled SSO user is refused though the provider vouches for them.
			r.ok("user", "disable", "alice", "--reason", "left the company")
			c, status, body := sso(map[string]any{"sub": "u-1", "preferred_username": "alice", "groups": "vigil-admins"})
			if code, _ := me(c); status != http.StatusUnauthorized || code != http.StatusUnauthorized || !strings.Contains(body, "disabled") {
				t.Errorf("disabled alice: sign-in answered %d, then me %d", status, code)
			}

			// A callback whose state is not this browser's (a forged link) is refused before any code exchange.
			c = browser()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse } // not on to the provider
			res, err := c.Get(base + "/login/sso")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			res, err = c.Get(base + "/login/sso/callback?code=x&state=forged")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if code, _ := me(c); res.StatusCode != http.StatusUnauthorized || code != http.StatusUnauthorized || !strings.Contains(string(b), "(state)") {
				t.Errorf("forged state: callback %d, then me %d", res.StatusCode, code)
			}

			// Password sign-in: the local admin (break-glass) yes; a local non-admin and the SSO user no.
			for _, tc := range []struct {
				name, pw string
				ok       bool
			}{{"root", "break-glass password 1", true}, {"vera", "viewer password 12345", false}, {"alice", "", false}} {
				c := browser()
				if code, _ := passwordSignIn(t, c, base, tc.name, tc.pw); (code == http.StatusOK) != tc.ok {
					t.Errorf("password sign-in as %s: %d, want success %v", tc.name, code, tc.ok)
				}
			}
		})
	}
}

// serveSSO runs `vigil serve` on dsn with single sign-on through idp (the client secret in
// $VIGIL_OIDC_CLIENT_SECRET) until the test ends, then checks its output never showed the client secret, a code or
// an ID token. It returns the server's base URL and its output.
func serveSSO(t *testing.T, dsn string, idp *provider) (string, *lockedBuffer) {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	t.Setenv("VIGIL_OIDC_CLIENT_SECRET", ssoSecret)
	ctx, cancel := context.WithCancel(context.Background())
	out := new(lockedBuffer)
	done := make(chan int)
	go func() {
		done <- cli.Run(ctx, []string{"--db", dsn, "serve", "--addr", addr, "--sync=false", "--oidc-issuer", idp.URL,
			"--oidc-client-id", ssoClient, "--oidc-redirect-url", base + "/login/sso/callback",
			"--oidc-roles", "vigil-admins=admin,vigil-psirt=psirt,vigil-readers=viewer"}, strings.NewReader(""), out, out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		for _, secret := range append([]string{ssoSecret}, idp.issued...) {
			if strings.Contains(out.String(), secret) {
				t.Errorf("the server's output shows a secret (%.12s...):\n%s", secret, out.String())
			}
		}
	})
	for !strings.Contains(out.String(), "listening") {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return base, out
}

func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// me is who the browser is signed in as: "name role", or "" with the status.
func me(t *testing.T, base string, c *http.Client) (int, string) {
	res, err := c.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var who struct{ Name, Role string }
	json.NewDecoder(res.Body).Decode(&who)
	return res.StatusCode, strings.TrimSpace(who.Name + " " + who.Role)
}

// ssoSignIn signs a new browser in through idp as the user claims names; it returns the browser and the final page.
func ssoSignIn(t *testing.T, base string, idp *provider, claims map[string]any) (*http.Client, int, string) {
	t.Helper()
	idp.signIn(claims)
	c := browser()
	res, err := c.Get(base + "/login/sso?next=/devices")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return c, res.StatusCode, string(b)
}

// passwordSignIn posts the sign-in form as a browser does (the CSRF cookie from the page first) and follows the
// redirect; it returns the final status and body.
func passwordSignIn(t *testing.T, c *http.Client, base, name, pw string) (int, string) {
	t.Helper()
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	i := strings.Index(string(b), `name="csrf" value="`)
	if i < 0 {
		t.Fatalf("no CSRF field on the sign-in page:\n%s", b)
	}
	csrf := string(b)[i+len(`name="csrf" value="`):]
	csrf = csrf[:strings.Index(csrf, `"`)]
	res, err = c.PostForm(base+"/login", url.Values{"csrf": {csrf}, "name": {name}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ = io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestSSOStepUpSigning signs a determination as a user who signs in only through the OpenID Connect provider and
// has no Vigil password: the signing sends the browser back to the provider with prompt=login and max_age=0, and
// the signature is made when the provider's ID token shows a fresh authentication (auth_time after the asking) of
// that user, bound to that act by its nonce; its method is "oidc". A provider that reuses an old session, one that
// signs in another account, and a step-up whose act was altered in the browser are refused, no signature made.
// Both engines.
func TestSSOStepUpSigning(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.MigratedDSN(t, engine)
			r := runner{t, dsn}
			r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC")
			r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
			r.ok("version", "create", "2.0", "--device", "Pump", "--units", "30")
			d0 := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", d0, "--reason", "researcher report")
			r.ok("case", "assess", "1", "--date", d0, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote dose change")
			idp := newProvider(t)
			base, _ := serveSSO(t, dsn, idp)
			alice := map[string]any{"sub": "u-1", "preferred_username": "alice", "groups": "vigil-psirt"}
			c, status, _ := ssoSignIn(t, base, idp, alice)
			if code, who := me(t, base, c); status != http.StatusOK || code != http.StatusOK || who != "alice psirt" {
				t.Fatalf("alice's sign-in: %d, me %d %q", status, code, who)
			}
			r.ok("user", "full-name", "alice", "Alice A. Ames")
			csrf := func() string {
				res, err := c.Get(base + "/cases/1")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !strings.Contains(string(b), `action="/cases/1/sign/sso"`) {
					t.Fatalf("the case page offers no signing through single sign-on:\n%s", b)
				}
				return regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))[1]
			}
			sign := func(meaning string) (int, string) {
				t.Helper()
				res, err := c.PostForm(base+"/cases/1/sign/sso", url.Values{"csrf": {csrf()}, "meaning": {meaning}})
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			signatures := func() string { return r.ok("signatures", "assessment", "1", "--format", "json") }

			code, page := sign("approval")
			if code != http.StatusOK || !strings.Contains(page, "Electronically signed by Alice A. Ames (alice)") {
				t.Fatalf("signing through the provider: %d\n%s", code, page)
			}
			if last := idp.asked[len(idp.asked)-1]; last != "prompt=login max_age=0" {
				t.Errorf("the step-up asked the provider %q, want a fresh authentication", last)
			}
			if sigs := signatures(); strings.Count(sigs, `"method": "oidc"`) != 1 || !strings.Contains(sigs, `"meaning": "approval"`) || !strings.Contains(sigs, `"signer": "alice"`) {
				t.Fatalf("signatures: %s", sigs)
			}

			// A provider that reuses its session instead of authenticating again.
			idp.stale = true
			if code, page := sign("review"); code != http.StatusForbidden || !strings.Contains(page, "did not authenticate you again") {
				t.Errorf("stale auth_time: %d\n%s", code, page)
			}
			idp.stale = false
			// The provider signs in another account than the signer's.
			idp.signIn(map[string]any{"sub": "u-9", "preferred_username": "mallory", "groups": "vigil-psirt"})
			if code, page := sign("review"); code != http.StatusForbidden || !strings.Contains(page, "another account") {
				t.Errorf("another account: %d\n%s", code, page)
			}
			idp.signIn(alice)
			// The act altered in the browser on the way: the meaning the step-up cookie carries.
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err := c.PostForm(base+"/cases/1/sign/sso", url.Values{"csrf": {csrf()}, "meaning": {"review"}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			c.CheckRedirect = nil
			back, _ := url.Parse(base + "/login/sso/callback")
			for _, ck := range res.Cookies() {
				if ck.Name == "vigil_stepup" {
					c.Jar.SetCookies(back, []*http.Cookie{{Name: ck.Name, Value: strings.Replace(ck.Value, " review ", " responsibility ", 1), Path: "/login/sso"}})
				}
			}
			res, err = c.Get(res.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "not the one the provider was asked to confirm") {
				t.Errorf("an altered act: %d\n%s", res.StatusCode, b)
			}
			if sigs := signatures(); strings.Count(sigs, `"method": "oidc"`) != 1 {
				t.Errorf("a refused step-up made a signature: %s", sigs)
			}
			if code, who := me(t, base, c); code != http.StatusOK || who != "alice psirt" {
				t.Errorf("after the refusals alice is no longer signed in: %d %q", code, who)
			}
		})
	}
}
