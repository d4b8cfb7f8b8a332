package web

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

var funcs = template.FuncMap{
	"date": func(d *vigil.Date) string {
		if d == nil {
			return ""
		}
		return d.String()
	},
	"join": strings.Join,
}

// parseTemplates builds one template set per page: the layout plus the page, so that pages can each define
// "content" without clashing.
func (s *Server) parseTemplates() error {
	s.tmpl = map[string]*template.Template{}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		s.tmpl[name] = t
	}
	return nil
}

// page is what every template gets.
type page struct {
	Title string
	User  *vigil.User
	CSRF  string
	Data  any
}

// render writes a page. It renders into a buffer first so that a template error cannot send half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	t, ok := s.tmpl[name]
	if !ok {
		s.opt.Log.Error("no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := page{Title: name, Data: data}
	if sess := sessionFrom(r.Context()); sess != nil {
		p.User, p.CSRF = sess.User, sess.CSRF
	}
	if m, ok := data.(map[string]any); ok {
		if t, ok := m["Title"].(string); ok {
			p.Title = t
		}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		s.opt.Log.Error("render", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

const loginCSRFCookie = "vigil_login_csrf"

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	// Login has no session yet, so its CSRF defence is a double-submit cookie.
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.opt.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, r, "login", map[string]any{"Title": "Sign in", "LoginCSRF": tok, "Next": r.URL.Query().Get("next")})
	return nil
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
	// Limit per client address and per account, so neither spraying one account nor many accounts is cheap.
	if !s.login.allow("ip:"+clientIP(r)) || !s.login.allow("user:"+strings.ToLower(name)) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
		s.render(w, r, "login", map[string]any{"Title": "Sign in", "Error": "Too many attempts. Wait a minute and try again.", "LoginCSRF": c.Value})
		return nil
	}
	u, err := s.svc.Users.Authenticate(r.Context(), name, pw)
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			return err
		}
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "login", map[string]any{"Title": "Sign in", "Error": "Wrong name or password.", "LoginCSRF": c.Value, "Next": r.PostFormValue("next")})
		return nil
	}
	secret, sess, err := s.svc.Sessions.CreateSession(r.Context(), u, s.opt.SessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: secret, Path: "/", HttpOnly: true, Secure: s.opt.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: sess.Expires})
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", MaxAge: -1})
	next, _ := url.QueryUnescape(safeNext(r.PostFormValue("next")))
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		if sess := sessionFrom(r.Context()); sess == nil {
			// Not signed in (or the CSRF check would have failed above): nothing to end.
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		if err := s.svc.Sessions.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opt.SecureCookies, Expires: time.Unix(0, 0)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) devicesPage(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.svc.Portfolio.Devices(r.Context())
	if err != nil {
		return err
	}
	type row struct {
		*vigil.Device
		Versions []*vigil.DeviceVersion
	}
	var rows []row
	for _, d := range ds {
		vs, err := s.svc.Portfolio.Versions(r.Context(), d.ID)
		if err != nil {
			return err
		}
		rows = append(rows, row{d, vs})
	}
	s.render(w, r, "devices", map[string]any{"Title": "Devices", "Devices": rows})
	return nil
}

func (s *Server) apiDevices(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.svc.Portfolio.Devices(r.Context())
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*vigil.Device{}
	}
	writeJSON(w, http.StatusOK, ds)
	return nil
}
