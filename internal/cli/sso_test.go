package cli_test

import (
	"bytes"
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

	"github.com/vigil-dev/vigil"
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
			"--oidc-roles", "vigil-admins=admin,vigil-psirt=psirt,vigil-ra=regulatory,vigil-readers=viewer"}, strings.NewReader(""), out, out)
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

// getPage gets url in the browser c: the status and the page.
func getPage(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// csrfOf is the CSRF field of a page's forms.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field:\n%s", page)
	}
	return m[1]
}

var codeRE = regexp.MustCompile(`[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}`)

// stepUpCode asks the provider, from the browser c, for a fresh sign-in for a code of kind and follows the browser
// back to next ("" for the step-up page); it returns the final status and page, and the code the page shows.
func stepUpCode(t *testing.T, base string, c *http.Client, kind, next string) (int, string, string) {
	t.Helper()
	_, page := getPage(t, c, base+"/sign/step-up")
	res, err := c.PostForm(base+"/sign/step-up", url.Values{"csrf": {csrfOf(t, page)}, "stepup_kind": {kind}, "stepup_next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), codeRE.FindString(string(b))
}

// pump creates org Acme and the pump's version 2.0 (30 units) whose dose delivery is catastrophic: what the
// step-up tests sign acts on.
func (r runner) pump() {
	r.t.Helper()
	r.ok("org", "create", "--name", "Acme", "--time-zone", "UTC")
	r.ok("device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k", "--functions", "dose delivery=catastrophic")
	r.ok("version", "create", "2.0", "--device", "Pump", "--units", "30")
}

// TestSSOStepUpSigning signs every kind of record as a user who signs in only through the OpenID Connect provider
// and has no Vigil password: a step-up sends the browser back to the provider with prompt=login and max_age=0, and
// when the ID token shows a fresh authentication (auth_time after the asking) of that user, bound to that step-up
// by its nonce, Vigil issues a one-time signing code for one kind of record. The code signs in the browser (the
// determination's dialog, filled in on the way back), on the command line (vigil sign --code, from stdin) and
// through the API ("code"); each signature's method is "oidc". A reused code, an expired one, another user's, one
// for another kind, a provider that reuses an old session, one that signs in another account, and a step-up altered
// in the browser are refused, no signature made. No code shows in the server's output, the trail or a response
// other than the step-up page's. Both engines.
func TestSSOStepUpSigning(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.MigratedDSN(t, engine)
			r := runner{t, dsn}
			r.pump()
			d0 := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			r.ok("finding", "create", "CVE-2025-0001", "--device", "Pump", "--version", "2.0", "--learned", d0, "--reason", "researcher report")
			r.ok("signing-policy", "off", "determination", "premarket", "--reason", "this test signs the determination and the premarket decision after the fact, through the provider")
			r.ok("case", "assess", "1", "--date", d0, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote dose change")
			r.ok("case", "event", "add", "1", "correction_initiated", "--date", d0, "--note", "CAPA-1")
			r.ok("report", "premarket", "--case", "1", "--decide", "none", "--basis", "software patch within the cleared design")
			var view struct {
				Events []struct {
					ID   int64  `json:"id"`
					Type string `json:"type"`
				} `json:"events"`
			}
			if err := json.Unmarshal([]byte(r.ok("case", "show", "1", "--format", "json")), &view); err != nil || len(view.Events) == 0 {
				t.Fatalf("case show: %v %+v", err, view)
			}
			event := view.Events[len(view.Events)-1].ID

			idp := newProvider(t)
			base, out := serveSSO(t, dsn, idp)
			alice := map[string]any{"sub": "u-1", "preferred_username": "alice", "groups": "vigil-psirt"}
			bobClaims := map[string]any{"sub": "u-2", "preferred_username": "bob", "groups": "vigil-psirt"}
			bob, _, _ := ssoSignIn(t, base, idp, bobClaims)
			c, status, _ := ssoSignIn(t, base, idp, alice)
			if code, who := me(t, base, c); status != http.StatusOK || code != http.StatusOK || who != "alice psirt" {
				t.Fatalf("alice's sign-in: %d, me %d %q", status, code, who)
			}
			r.ok("user", "full-name", "alice", "Alice A. Ames")
			r.ok("user", "full-name", "bob", "Bob B. Baker")
			var codes []string // every code issued, which no output, trail or response may show
			get := func(c *http.Client, path string) (int, string) {
				t.Helper()
				return getPage(t, c, base+path)
			}
			csrf := func(page string) string {
				t.Helper()
				return csrfOf(t, page)
			}
			stepUp := func(c *http.Client, kind, next string) (int, string, string) {
				t.Helper()
				status, page, code := stepUpCode(t, base, c, kind, next)
				if code != "" {
					codes = append(codes, code)
				}
				return status, page, code
			}
			sign := func(stdin string, args ...string) (int, string, string) {
				t.Helper()
				return r.run(stdin+"\n", append([]string{"sign"}, args...)...)
			}

			// The browser: the determination's dialog goes to the provider and comes back with the code filled in.
			_, page := get(c, "/cases/1")
			if !strings.Contains(page, `formaction="/sign/step-up"`) || !strings.Contains(page, `name="stepup_kind" value="assessment"`) {
				t.Fatalf("the determination's signing dialog offers no re-authentication with SSO:\n%s", page)
			}
			code, page, dialogCode := stepUp(c, "assessment", "/cases/1#sign")
			if code != http.StatusOK || dialogCode == "" || !strings.Contains(page, `name="code" value="`+dialogCode+`"`) || !strings.Contains(page, `id="sign" open`) {
				t.Fatalf("back from the step-up: %d, the dialog open with the code filled in?\n%s", code, page)
			}
			if last := idp.asked[len(idp.asked)-1]; last != "prompt=login max_age=0" {
				t.Errorf("the step-up asked the provider %q, want a fresh authentication", last)
			}
			// A form refused for another reason shows again with the code as posted (the code is still unused).
			res, err := c.PostForm(base+"/cases/1/sign", url.Values{"csrf": {csrf(page)}, "meaning": {"witnessed"}, "signer": {"alice"}, "code": {dialogCode}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `name="code" value="`+dialogCode+`"`) {
				t.Fatalf("a refused signing's form: %d\n%s", res.StatusCode, b)
			}
			res, err = c.PostForm(base+"/cases/1/sign", url.Values{"csrf": {csrf(page)}, "meaning": {"approval"}, "signer": {"alice"}, "code": {dialogCode}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "Electronically signed by Alice A. Ames (alice)") || strings.Contains(string(b), dialogCode) {
				t.Fatalf("signing with the code in the dialog: %d (the page after shows the code again?)\n%s", res.StatusCode, b)
			}

			// The command line: a code from the step-up page, for a case event; refused for another kind (and not
			// used up by that), used once, refused again.
			code, page, eventCode := stepUp(c, "case_event", "")
			if code != http.StatusOK || eventCode == "" || !strings.Contains(page, "vigil sign case_event ID") || !strings.Contains(page, `<option value="regdoc_record">`) {
				t.Fatalf("the step-up page: %d\n%s", code, page)
			}
			if code, _, errs := sign(eventCode, "assessment", "1", "--meaning", "review", "--user", "alice", "--code"); code == 0 || !strings.Contains(errs, "it signs a case_event, not a assessment") {
				t.Errorf("a case_event code signing an assessment: exit %d %s", code, errs)
			}
			if code, out, errs := sign(eventCode, "case_event", itoa(event), "--meaning", "review", "--user", "alice", "--code"); code != 0 || !strings.Contains(out, "Electronically signed by Alice A. Ames (alice)") {
				t.Fatalf("vigil sign --code: exit %d %s%s", code, out, errs)
			}
			if code, _, errs := sign(eventCode, "case_event", itoa(event), "--meaning", "responsibility", "--user", "alice", "--code"); code == 0 || !strings.Contains(errs, "was used already") {
				t.Errorf("a code used twice: exit %d %s", code, errs)
			}

			// Another user's code (it then signs as its user), and an expired one (it signed in time).
			idp.signIn(bobClaims)
			_, _, bobCode := stepUp(bob, "regdoc_record", "")
			idp.signIn(alice)
			if code, _, errs := sign(bobCode, "regdoc_record", "1", "--meaning", "review", "--user", "alice", "--code"); code == 0 || !strings.Contains(errs, "not yours") {
				t.Errorf("bob's code signed as alice: exit %d %s", code, errs)
			}
			if code, out, errs := sign(bobCode, "regdoc_record", "1", "--meaning", "review", "--user", "bob", "--code"); code != 0 || !strings.Contains(out, "Bob B. Baker (bob)") {
				t.Errorf("bob's code as bob: exit %d %s%s", code, out, errs)
			}
			_, _, late := stepUp(c, "regdoc_record", "")
			var lout, lerr bytes.Buffer
			later := vigil.WithClock(context.Background(), storetest.NewClock(time.Now().Add(vigil.SigningCodeTTL+time.Second)))
			if code := cli.Run(later, []string{"--db", dsn, "sign", "regdoc_record", "1", "--meaning", "review", "--user", "alice", "--code"}, strings.NewReader(late+"\n"), &lout, &lerr); code == 0 || !strings.Contains(lerr.String(), "expired") {
				t.Errorf("an expired code: exit %d %s%s", code, lout.String(), lerr.String())
			}
			if code, out, errs := sign(late, "regdoc_record", "1", "--meaning", "review", "--user", "alice", "--code"); code != 0 {
				t.Errorf("the code in time: exit %d %s%s", code, out, errs)
			}

			// The API: "code" in the signature object, through alice's token.
			var tok struct{ Secret string }
			json.Unmarshal([]byte(r.ok("token", "create", "--user", "alice", "--format", "json")), &tok)
			_, _, apiCode := stepUp(c, "regdoc_record", "")
			body, _ := json.Marshal(map[string]any{"kind": "regdoc_record", "record_id": 1, "meaning": "approval", "signer": "alice", "code": apiCode})
			req, _ := http.NewRequest("POST", base+"/api/v1/signatures", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok.Secret)
			req.Header.Set("Content-Type", "application/json")
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated || !strings.Contains(string(b), `"method": "oidc"`) || strings.Contains(string(b), apiCode) {
				t.Fatalf("POST /api/v1/signatures with a code: %d %s", res.StatusCode, b)
			}

			// The premarket decision's form (signing optional there), by an RA user: the code comes back into it and
			// signs the decision it records (regulatory record 2).
			ritaClaims := map[string]any{"sub": "u-4", "preferred_username": "rita", "groups": "vigil-ra"}
			rita, _, _ := ssoSignIn(t, base, idp, ritaClaims)
			r.ok("user", "full-name", "rita", "Rita R. Adams")
			code, page, formCode := stepUp(rita, "regdoc_record", "/cases/1#premarket")
			idp.signIn(alice)
			if code != http.StatusOK || formCode == "" || !strings.Contains(page, `name="code" value="`+formCode+`"`) {
				t.Fatalf("back to the premarket form: %d\n%s", code, page)
			}
			res, err = rita.PostForm(base+"/cases/1/premarket", url.Values{"csrf": {csrf(page)}, "decision": {"none"}, "basis": {"no change to intended use"},
				"meaning": {"approval"}, "signer": {"rita"}, "code": {formCode}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "Electronically signed by Rita R. Adams (rita) on") || !strings.Contains(string(b), "signs regdoc_record 2") {
				t.Fatalf("the premarket decision signed with a code: %d\n%s", res.StatusCode, b)
			}

			for _, tc := range []struct {
				kind, id string
				n        int
			}{{"assessment", "1", 1}, {"case_event", itoa(event), 1}, {"regdoc_record", "1", 3}} { // bob's review, alice's review and approval
				if sigs := r.ok("signatures", tc.kind, tc.id, "--format", "json"); strings.Count(sigs, `"method": "oidc"`) != tc.n || !strings.Contains(sigs, `"signer": "alice"`) {
					t.Errorf("the signatures of %s %s: %s", tc.kind, tc.id, sigs)
				}
			}
			if sigs := r.ok("signatures", "regdoc_record", "2", "--format", "json"); strings.Count(sigs, `"method": "oidc"`) != 1 || !strings.Contains(sigs, `"signer": "rita"`) {
				t.Errorf("the signatures of the premarket decision: %s", sigs)
			}

			// A role that may not sign is offered no step-up.
			idp.signIn(map[string]any{"sub": "u-3", "preferred_username": "vera", "groups": "vigil-readers"})
			vera, _, _ := ssoSignIn(t, base, idp, map[string]any{"sub": "u-3", "preferred_username": "vera", "groups": "vigil-readers"})
			_, devices := get(vera, "/devices")
			if code, _ := get(vera, "/sign/step-up"); code != http.StatusForbidden {
				t.Errorf("a viewer's step-up page: %d", code)
			}
			if res, err := vera.PostForm(base+"/sign/step-up", url.Values{"csrf": {csrf(devices)}, "stepup_kind": {"assessment"}}); err != nil || res.StatusCode != http.StatusForbidden {
				t.Errorf("a viewer's step-up: %v %v", res.Status, err)
			}
			idp.signIn(alice)

			// Refused step-ups issue no code: a provider that reuses its session instead of authenticating again,
			// and one that signs in another account than alice's.
			idp.stale = true
			if code, page, got := stepUp(c, "assessment", ""); code != http.StatusForbidden || got != "" || !strings.Contains(page, "did not authenticate you again") {
				t.Errorf("stale auth_time: %d %q\n%s", code, got, page)
			}
			idp.stale = false
			idp.signIn(map[string]any{"sub": "u-9", "preferred_username": "mallory", "groups": "vigil-psirt"})
			if code, page, got := stepUp(c, "assessment", ""); code != http.StatusForbidden || got != "" || !strings.Contains(page, "another account") {
				t.Errorf("another account: %d %q\n%s", code, got, page)
			}
			idp.signIn(alice)
			// The step-up altered in the browser on the way: the kind the step-up cookie carries.
			_, page = get(c, "/sign/step-up")
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err = c.PostForm(base+"/sign/step-up", url.Values{"csrf": {csrf(page)}, "stepup_kind": {"case_event"}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			c.CheckRedirect = nil
			back, _ := url.Parse(base + "/login/sso/callback")
			for _, ck := range res.Cookies() {
				if ck.Name == "vigil_stepup" {
					c.Jar.SetCookies(back, []*http.Cookie{{Name: ck.Name, Value: strings.Replace(ck.Value, " case_event ", " assessment ", 1), Path: "/login/sso"}})
				}
			}
			res, err = c.Get(res.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "not the one the provider was asked to confirm") || codeRE.Match(b) {
				t.Errorf("an altered step-up: %d\n%s", res.StatusCode, b)
			}
			if code, who := me(t, base, c); code != http.StatusOK || who != "alice psirt" {
				t.Errorf("after the refusals alice is no longer signed in: %d %q", code, who)
			}

			// No code in the trail, the server's output or the signatures' listing.
			trail := r.ok("audit", "log", "--format", "json")
			if !strings.Contains(trail, "signature.step_up") {
				t.Errorf("the trail does not record the step-ups")
			}
			listed := r.ok("signatures", "assessment", "1", "--format", "json")
			for _, code := range codes {
				for what, text := range map[string]string{"trail": trail, "server output": out.String(), "signatures": listed} {
					if strings.Contains(text, code) || strings.Contains(text, strings.ReplaceAll(code, "-", "")) {
						t.Errorf("the %s shows a signing code", what)
					}
				}
			}
			if code, out, errs := r.run("", "audit", "verify"); code != 0 {
				t.Errorf("audit verify: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}

// TestStepUpBatch: with the in-test provider, every role that may sign gets a one-time signing code from
// POST /sign/step-up and a viewer is refused; one code closes every case ticked on the queue in one bulk act (the
// code redeemed once, each case's closure signed on its own act record), and is then refused as used; a code of
// kind case_event signs a typed customer_notified on the command line. Both engines.
func TestStepUpBatch(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.MigratedDSN(t, engine)
			r := runner{t, dsn}
			r.pump()
			d0 := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
			for _, vuln := range []string{"CVE-2025-0001", "CVE-2025-0002", "CVE-2025-0003"} {
				r.ok("finding", "create", vuln, "--device", "Pump", "--version", "2.0", "--learned", d0, "--reason", "researcher report")
			}
			idp := newProvider(t)
			base, _ := serveSSO(t, dsn, idp)

			var alice *http.Client
			for _, tc := range []struct {
				name, group string
				signs       bool
			}{{"ann", "vigil-admins", true}, {"alice", "vigil-psirt", true}, {"rita", "vigil-ra", true}, {"vera", "vigil-readers", false}} {
				claims := map[string]any{"sub": "u-" + tc.name, "preferred_username": tc.name, "groups": tc.group}
				c, _, _ := ssoSignIn(t, base, idp, claims)
				status, page, code := stepUpCode(t, base, c, "case_closure", "")
				if tc.signs && (status != http.StatusOK || code == "") || !tc.signs && (status != http.StatusForbidden || code != "") {
					t.Errorf("%s (%s) steps up: %d, code %v\n%s", tc.name, tc.group, status, code != "", page)
				}
				if tc.name == "alice" {
					alice = c
				}
			}
			r.ok("user", "full-name", "alice", "Alice A. Ames")
			idp.signIn(map[string]any{"sub": "u-alice", "preferred_username": "alice", "groups": "vigil-psirt"})

			// One code closes cases 1 and 2 in one bulk act.
			_, _, code := stepUpCode(t, base, alice, "case_closure", "/cases")
			_, queue := getPage(t, alice, base+"/cases")
			bulk := url.Values{"csrf": {csrfOf(t, queue)}, "action": {"state"}, "state": {"closed"}, "reason": {"not shipped in any fielded unit"},
				"case": {"1", "2"}, "meaning": {"approval"}, "signer": {"alice"}, "code": {code}}
			res, err := alice.PostForm(base+"/cases/bulk", bulk)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || strings.Contains(string(b), "was not changed") {
				t.Fatalf("bulk close with one code: %d\n%s", res.StatusCode, b)
			}
			for _, id := range []string{"1", "2"} {
				var v struct {
					State string
					Acts  []struct {
						ID  int64
						Act string
					}
				}
				if err := json.Unmarshal([]byte(r.ok("case", "show", id, "--format", "json")), &v); err != nil {
					t.Fatal(err)
				}
				if v.State != "closed" || len(v.Acts) != 1 || v.Acts[0].Act != "case_closure" {
					t.Fatalf("case %s after the bulk close: %+v", id, v)
				}
				sigs := r.ok("signatures", "case_closure", itoa(v.Acts[0].ID), "--format", "json")
				if strings.Count(sigs, `"method": "oidc"`) != 1 || !strings.Contains(sigs, `"signer": "alice"`) || strings.Contains(sigs, `"broken": true`) {
					t.Errorf("case %s's closure signatures: %s", id, sigs)
				}
			}
			// The code was redeemed once, for the batch: it closes nothing more.
			bulk["case"] = []string{"3"}
			res, err = alice.PostForm(base+"/cases/bulk", bulk)
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "was used already") {
				t.Errorf("the batch's code reused: %d\n%s", res.StatusCode, b)
			}
			if show := r.ok("case", "show", "3"); !strings.Contains(show, "state open") {
				t.Errorf("case 3 was closed with a used code:\n%s", show)
			}

			// A typed customer_notified, signed with a case_event code on the command line.
			_, _, code = stepUpCode(t, base, alice, "case_event", "")
			r.ok("signing-policy", "off", "determination", "--reason", "this test is about the step-up")
			r.ok("case", "assess", "3", "--date", d0, "--cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--functions", "dose delivery", "--rationale", "remote dose change")
			notified := []string{"case", "event", "add", "3", "customer_notified", "--date", d0, "--note", "Notice CN-9", "--elements", "a,b,c,d", "--meaning", "approval", "--user", "alice", "--code"}
			if code, out, errs := r.run(code+"\n", notified...); code != 0 || !strings.Contains(out, "Electronically signed by Alice A. Ames (alice)") {
				t.Fatalf("typed customer_notified with a code: exit %d %s%s", code, out, errs)
			}
			if code, _, errs := r.run(code+"\n", notified...); code == 0 || !strings.Contains(errs, "was used already") {
				t.Errorf("the event's code reused: exit %d %s", code, errs)
			}
			if code, out, errs := r.run("", "audit", "verify"); code != 0 {
				t.Errorf("audit verify: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}
