package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ssoCookie carries the pending sign-in (state, nonce, PKCE verifier, next) to the callback. HttpOnly, and Lax so
// that it comes back on the provider's top-level redirect; only its holder's callback can finish the sign-in.
const ssoCookie = "vigil_sso"

func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) error {
	if s.svc.SSO == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "single sign-on is not configured: sign in with a password")
	}
	u, p := s.svc.SSO.SSOStart(safeNext(r.URL.Query().Get("next")))
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: strings.Join([]string{p.State, p.Nonce, p.Verifier, p.Next}, " "),
		Path: "/login/sso", HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// ssoCallback finishes the sign-in; a refusal shows the sign-in page saying why (an error page would redirect an
// unauthenticated browser to the sign-in page without the reason).
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	// The provider sends a signing's step-up back here too (one redirect URL is registered with it); its refusal
	// is an error page to the signed-in signer, who stays signed in.
	if ok, err := s.stepUpBack(w, r); ok {
		return err
	}
	err := s.ssoFinish(w, r)
	if err != nil && vigil.ErrorCode(err) != vigil.EINTERNAL && vigil.ErrorCode(err) != vigil.ENOTFOUND {
		s.renderLogin(w, r, StatusOf(err), vigil.ErrorMessage(err), "")
		return nil
	}
	return err
}

func (s *Server) ssoFinish(w http.ResponseWriter, r *http.Request) error {
	if s.svc.SSO == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "single sign-on is not configured: sign in with a password")
	}
	// One use: the pending sign-in is cleared whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/login/sso", MaxAge: -1})
	var p vigil.SSOPending
	if c, err := r.Cookie(ssoCookie); err == nil {
		if f := strings.SplitN(c.Value, " ", 4); len(f) == 4 {
			p = vigil.SSOPending{State: f[0], Nonce: f[1], Verifier: f[2], Next: f[3]}
		}
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return vigil.Errorf(vigil.EUNAUTHORIZED, "sign-in: the provider answered %s", vigil.Clip(100, e))
	}
	state := q.Get("state")
	if p.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(p.State)) != 1 {
		return vigil.Errorf(vigil.EUNAUTHORIZED, "sign-in: the provider's answer does not belong to this browser's sign-in (state): start again")
	}
	u, err := s.svc.SSO.SSOFinish(r.Context(), p, state, q.Get("code"))
	if err != nil {
		return err
	}
	return s.startSession(w, r, u, p.Next)
}
