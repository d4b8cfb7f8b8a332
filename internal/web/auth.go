package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil"
)

const loginCSRFCookie = "vigil_login_csrf"

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginData struct {
	LoginCSRF string
	Next      string
	SSO       bool // single sign-on is configured: its button leads, password sign-in is the admins' break-glass
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	s.renderLogin(w, r, http.StatusOK, "", r.URL.Query().Get("next"))
	return nil
}

// renderLogin shows the sign-in page, with why the last attempt failed when it did.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, why, next string) {
	// Login has no session yet, so its CSRF defence is a double-submit cookie.
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.opt.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, r, status, "login", page{Title: "Sign in", Error: why, Data: loginData{LoginCSRF: tok, Next: next, SSO: s.svc.SSO != nil}})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return vigil.Errorf(vigil.EINVALID, "form: %v", err)
	}
	name, pw := r.PostFormValue("name"), r.PostFormValue("password")
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return vigil.Errorf(vigil.EFORBIDDEN, "CSRF check failed: reload the sign-in page")
	}
	data := loginData{LoginCSRF: c.Value, Next: r.PostFormValue("next"), SSO: s.svc.SSO != nil}
	// The limits (loginlimit.go) are per address and per (name, address), so no one can lock another user out; the
	// per-name count only shortens every address's free failures. Unknown names count like known ones, so the limits
	// say nothing about which names exist.
	addr := s.clientAddr(r)
	if ok, wait := s.login.admit(name, addr); !ok {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Sign in", Error: fmt.Sprintf("Too many attempts. Try again in %d seconds.", secs), Data: data})
		return nil
	}
	// Authenticate costs the same for unknown names and wrong passwords, and the message is the same.
	u, err := s.svc.Users.Authenticate(r.Context(), name, pw)
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			return err
		}
		s.login.failed(name, addr)
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: "Wrong name or password.", Data: data})
		return nil
	}
	s.login.succeeded(name, addr)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", MaxAge: -1})
	return s.startSession(w, r, u, r.PostFormValue("next"))
}

// startSession signs u in: a new session, its cookie, and on to next.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *vigil.User, next string) error {
	secret, sess, err := s.svc.Sessions.CreateSession(r.Context(), u, s.opt.SessionTTL)
	if err != nil {
		return err
	}
	// Max-Age rather than Expires: the lifetime is relative, so the browser's clock and ours need not agree. The
	// store refuses the session after sess.Expires whatever the browser keeps.
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: secret, Path: "/", HttpOnly: true, Secure: s.opt.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: max(1, int(sess.Expires.Sub(s.opt.Clock.Now()).Seconds()))})
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		if sess := sessionFrom(r.Context()); sess == nil {
			// Not signed in (the CSRF check refuses a forged logout before this): nothing to end.
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		if err := s.svc.Sessions.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opt.SecureCookies, Expires: time.Unix(0, 0)})
	http.Redirect(w, r, "/login?done=signed-out", http.StatusSeeOther)
	return nil
}

// me is who the caller is and what the role may do.
type me struct {
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Token       bool     `json:"token"`
	Permissions []string `json:"permissions"`
}

var allPerms = []string{vigil.PermRead, vigil.PermPortfolio, vigil.PermImport, vigil.PermAssess, vigil.PermEvent, vigil.PermDetermine,
	vigil.PermReport, vigil.PermIntake, vigil.PermUsers, vigil.PermAuditVerify, vigil.PermSign}

func actorInfo(a vigil.Actor) me {
	m := me{Name: a.Name, Role: a.Role, Token: a.TokenID != 0, Permissions: []string{}}
	for _, p := range allPerms {
		if a.Can(p) {
			m.Permissions = append(m.Permissions, p)
		}
	}
	return m
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	a, _ := vigil.ActorFrom(r.Context())
	writeJSON(w, http.StatusOK, actorInfo(a))
	return nil
}
