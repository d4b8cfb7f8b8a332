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
	c := map[string]any{"challenge": q.Get("code_challenge"), "nonce": q.Get("nonce"), "redirect_uri": q.Get("redirect_uri")}
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
			addr := freeAddr(t)
			base := "http://" + addr
			t.Setenv("VIGIL_OIDC_CLIENT_SECRET", ssoSecret)
			ctx, cancel := context.WithCancel(context.Background())
			var out lockedBuffer
			done := make(chan int)
			go func() {
				done <- cli.Run(ctx, []string{"--db", dsn, "serve", "--addr", addr, "--sync=false", "--oidc-issuer", idp.URL,
					"--oidc-client-id", ssoClient, "--oidc-redirect-url", base + "/login/sso/callback",
					"--oidc-roles", "vigil-admins=admin,vigil-psirt=psirt,vigil-readers=viewer"}, strings.NewReader(""), &out, &out)
			}()
			defer func() {
				cancel()
				<-done
				for _, secret := range append([]string{ssoSecret}, idp.issued...) {
					if strings.Contains(out.String(), secret) {
						t.Errorf("the server's output shows a secret (%.12s...):\n%s", secret, out.String())
					}
				}
			}()
			for !strings.Contains(out.String(), "listening") {
				select {
				case code := <-done:
					t.Fatalf("serve exited %d:\n%s", code, out.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			if !strings.Contains(out.String(), "client_secret_set=true") {
				t.Errorf("serve's start-up log does not say single sign-on is on with a secret:\n%s", out.String())
			}

			browser := func() *http.Client {
				jar, _ := cookiejar.New(nil)
				return &http.Client{Jar: jar}
			}
			if _, page := passwordSignIn(t, browser(), base, "nobody", "x"); !strings.Contains(page, `href="/login/sso`) || !strings.Contains(page, "break-glass") {
				t.Errorf("the sign-in page does not lead with single sign-on:\n%s", page)
			}
			// me is who the browser is signed in as: "name role", or "" with the status.
			me := func(c *http.Client) (int, string) {
				res, err := c.Get(base + "/api/v1/me")
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var who struct{ Name, Role string }
				json.NewDecoder(res.Body).Decode(&who)
				return res.StatusCode, strings.TrimSpace(who.Name + " " + who.Role)
			}
			sso := func(claims map[string]any) (*http.Client, int, string) {
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
