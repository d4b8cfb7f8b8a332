package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/vigil-dev/vigil"
)

// SSOConfig configures sign-in through an OpenID Connect provider (`vigil serve --oidc-*`).
type SSOConfig struct {
	Issuer   string // the provider's issuer URL; its discovery document is read at start
	ClientID string
	// ClientSecret is Vigil's secret at the provider. It is sent only to the token endpoint, never logged or shown.
	ClientSecret string
	RedirectURL  string // this server's /login/sso/callback as the browser reaches it
	// NameClaim names the claim that is the user's Vigil name (preferred_username when empty).
	NameClaim string
	// RoleClaim names the claim holding the user's groups or roles (groups when empty); a dotted path reaches into
	// objects (realm_access.roles). It may be a string or a list of strings.
	RoleClaim string
	// Roles maps claim values to Vigil roles; the first entry whose value the claim holds wins, so list the most
	// privileged first. A user whose claim maps to no role is refused.
	Roles []RoleMapping
	// Client reaches the provider (http.DefaultClient when nil; tests pass their server's).
	Client *http.Client
}

// RoleMapping maps one claim value to a Vigil role.
type RoleMapping struct {
	Value string
	Role  string
}

// ParseRoleMappings reads "VALUE=ROLE,VALUE=ROLE" (--oidc-roles): EINVALID naming the flag and the entry.
func ParseRoleMappings(s string) ([]RoleMapping, error) {
	var out []RoleMapping
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		v, r, ok := strings.Cut(e, "=")
		v, r = strings.TrimSpace(v), strings.TrimSpace(r)
		if !ok || v == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "oidc-roles: %q is not VALUE=ROLE", e)
		}
		if err := vigil.OneOf("oidc-roles: "+v, r, vigil.Roles); err != nil {
			return nil, err
		}
		out = append(out, RoleMapping{Value: v, Role: r})
	}
	if len(out) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "oidc-roles: map at least one claim value to a role (e.g. vigil-admins=admin,psirt=psirt)")
	}
	return out, nil
}

// SSOStore is what single sign-on needs from storage.
type SSOStore interface {
	SSOUser(ctx context.Context, id vigil.SSOIdentity) (*vigil.User, error)
}

// SSO signs users in through an OpenID Connect provider with the authorization code flow, checking state (against
// cross-site request forgery of the callback), nonce (against a replayed ID token) and PKCE (against a stolen
// code). It implements vigil.SSOService.
type SSO struct {
	cfg      SSOConfig
	store    SSOStore
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

var _ vigil.SSOService = (*SSO)(nil)

// NewSSO reads the provider's discovery document (its issuer must be cfg.Issuer) and returns the sign-in.
func NewSSO(ctx context.Context, cfg SSOConfig, store SSOStore) (*SSO, error) {
	switch {
	case cfg.Issuer == "":
		return nil, vigil.Errorf(vigil.EINVALID, "oidc-issuer: required")
	case cfg.ClientID == "":
		return nil, vigil.Errorf(vigil.EINVALID, "oidc-client-id: required")
	case cfg.RedirectURL == "":
		return nil, vigil.Errorf(vigil.EINVALID, "oidc-redirect-url: required (this server's /login/sso/callback as browsers reach it)")
	case len(cfg.Roles) == 0:
		return nil, vigil.Errorf(vigil.EINVALID, "oidc-roles: required")
	}
	if cfg.NameClaim == "" {
		cfg.NameClaim = "preferred_username"
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "groups"
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.Client), cfg.Issuer)
	if err != nil {
		return nil, vigil.Errorf(vigil.EUNAVAILABLE, "oidc-issuer: reading %s's discovery document: %v", cfg.Issuer, err)
	}
	scopes := []string{oidc.ScopeOpenID, "profile", "email"}
	if cfg.RoleClaim == "groups" {
		scopes = append(scopes, "groups")
	}
	return &SSO{
		cfg:   cfg,
		store: store,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: scopes},
		verifier: p.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), cfg.Client), &oidc.Config{ClientID: cfg.ClientID}),
	}, nil
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SSOStart returns the provider's authorization URL with a fresh state, nonce and PKCE challenge (S256).
func (s *SSO) SSOStart(next string) (string, vigil.SSOPending) {
	p := vigil.SSOPending{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next}
	return s.oauth.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)), p
}

// SSOFinish completes the sign-in the browser came back from. The provider's errors are reported without the code,
// tokens or client secret.
func (s *SSO) SSOFinish(ctx context.Context, p vigil.SSOPending, state, code string) (*vigil.User, error) {
	if p.State == "" || state != p.State || p.Nonce == "" || p.Verifier == "" {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "sign-in: the provider's answer does not belong to this browser's sign-in (state): start again")
	}
	if code == "" {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "sign-in: the provider returned no code")
	}
	idt, claims, err := s.exchange(ctx, code, p.Verifier, p.Nonce, "sign-in")
	if err != nil {
		return nil, err
	}
	name, _ := claim(claims, s.cfg.NameClaim).(string)
	if name == "" {
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "sign-in: the ID token has no %s claim to name the user", s.cfg.NameClaim)
	}
	role := s.role(claim(claims, s.cfg.RoleClaim))
	if role == "" {
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "sign-in: %s has no Vigil role (the %s claim maps to none): ask an admin", name, s.cfg.RoleClaim)
	}
	return s.store.SSOUser(ctx, vigil.SSOIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Name: name, Role: role})
}

// StepUpMaxAge is how long a step-up may take, from the signing asked to the provider's answer.
const StepUpMaxAge = 10 * time.Minute

// stepUpSkew tolerates the provider's clock running behind Vigil's when auth_time is compared with the asking.
const stepUpSkew = time.Minute

// StepUpStart returns the provider's authorization URL for a fresh sign-in bound to the step-up p (its Kind, Asked
// and Next): prompt=login and max_age=0 ask the provider to authenticate the user again
// whatever session it holds, and the nonce carries a digest of the step-up, so the ID token vouches for it only.
func (s *SSO) StepUpStart(p vigil.StepUp) (string, vigil.StepUp) {
	p.State, p.Verifier = random(), oauth2.GenerateVerifier()
	r := random()
	p.Nonce = r + "." + stepUpDigest(r, p)
	return s.oauth.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier),
		oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")), p
}

// stepUpDigest binds a step-up's nonce (its random part r) to what it was asked for.
func stepUpDigest(r string, p vigil.StepUp) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{"vigil step-up", r, p.Kind, strconv.FormatInt(p.Asked.Unix(), 10), p.Next}, "\n")))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// StepUpFinish completes a step-up the browser came back from at now: what it carries must be what its nonce was
// made for, the code is exchanged (PKCE), and the ID token must verify, hold that nonce and an auth_time
// no older than the asking (the provider authenticated the user again for it). It returns the identity the
// provider vouches for; the caller checks it is the signer's. EUNAUTHORIZED naming what does not check out.
func (s *SSO) StepUpFinish(ctx context.Context, p vigil.StepUp, state, code string, now time.Time) (vigil.SSOIdentity, error) {
	r, digest, _ := strings.Cut(p.Nonce, ".")
	switch {
	case p.State == "" || state != p.State || p.Verifier == "":
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the provider's answer does not belong to this browser's signing (state): sign again")
	case r == "" || digest != stepUpDigest(r, p):
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the step-up the browser brought back is not the one the provider was asked to confirm: sign again")
	case now.Sub(p.Asked) > StepUpMaxAge || p.Asked.After(now.Add(stepUpSkew)):
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the sign-in at the provider took longer than %s: sign again", StepUpMaxAge)
	case code == "":
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the provider returned no code")
	}
	idt, claims, err := s.exchange(ctx, code, p.Verifier, p.Nonce, "signing")
	if err != nil {
		return vigil.SSOIdentity{}, err
	}
	at, ok := claims["auth_time"].(float64)
	switch {
	case !ok:
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the provider's ID token has no auth_time: it cannot show that it authenticated you again for this signature")
	case time.Unix(int64(at), 0).Add(stepUpSkew).Before(p.Asked):
		return vigil.SSOIdentity{}, vigil.Errorf(vigil.EUNAUTHORIZED, "signing: the provider did not authenticate you again (auth_time %s is before the signing was asked at %s): sign again",
			time.Unix(int64(at), 0).UTC().Format(time.RFC3339), p.Asked.UTC().Format(time.RFC3339))
	}
	return vigil.SSOIdentity{Issuer: idt.Issuer, Subject: idt.Subject}, nil
}

// exchange trades the code for an ID token (proving the PKCE verifier) and verifies it (signature, issuer,
// audience, expiry) and its nonce; what names the flow in errors, which never quote the code or tokens.
func (s *SSO) exchange(ctx context.Context, code, verifier, nonce, what string) (*oidc.IDToken, map[string]any, error) {
	cctx := oidc.ClientContext(ctx, s.cfg.Client)
	tok, err := s.oauth.Exchange(cctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return nil, nil, vigil.Errorf(vigil.EUNAUTHORIZED, "%s: the provider refused the code: %s", what, re.ErrorCode)
		}
		return nil, nil, vigil.Errorf(vigil.EUNAUTHORIZED, "%s: exchanging the code with the provider failed", what)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, vigil.Errorf(vigil.EUNAUTHORIZED, "%s: the provider returned no ID token", what)
	}
	idt, err := s.verifier.Verify(cctx, raw)
	if err != nil {
		return nil, nil, vigil.Errorf(vigil.EUNAUTHORIZED, "%s: the ID token does not verify: %v", what, err)
	}
	if idt.Nonce != nonce {
		return nil, nil, vigil.Errorf(vigil.EUNAUTHORIZED, "%s: the ID token's nonce is not this %s's", what, what)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, nil, vigil.Errorf(vigil.EUNAUTHORIZED, "%s: the ID token's claims: %v", what, err)
	}
	return idt, claims, nil
}

// claim reads a claim by dotted path.
func claim(claims map[string]any, path string) any {
	var v any = claims
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// role is the first mapped role whose value the claim (a string or a list of strings) holds, "" when none.
func (s *SSO) role(v any) string {
	var held []string
	switch v := v.(type) {
	case string:
		held = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				held = append(held, s)
			}
		}
	}
	for _, m := range s.cfg.Roles {
		for _, h := range held {
			if h == m.Value {
				return m.Role
			}
		}
	}
	return ""
}

// LogValue is the configuration as logs show it: never the client secret, only whether one is set.
func (c SSOConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", c.Issuer), slog.String("client_id", c.ClientID), slog.String("redirect_url", c.RedirectURL),
		slog.String("name_claim", c.NameClaim), slog.String("role_claim", c.RoleClaim), slog.Int("role_mappings", len(c.Roles)),
		slog.Bool("client_secret_set", c.ClientSecret != ""))
}

// LogValue logs the sign-in by its configuration (without the secret).
func (s *SSO) LogValue() slog.Value { return s.cfg.LogValue() }
