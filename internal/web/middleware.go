package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vigil-dev/vigil"
)

// csp allows nothing inline: every script and style comes from /static, so an injected tag cannot run.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.opt.SecureCookies {
			// Served over TLS (directly or by the proxy): browsers must not come back over plain http.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // files only: no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.opt.Log.Error("panic", "path", r.URL.Path, "panic", v)
				s.writeError(w, r, vigil.Errorf(vigil.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// cookieName is the session cookie's name: with Secure cookies it takes the __Host- prefix, which binds it to this
// host and path / and forbids a Domain attribute.
func (s *Server) cookieName() string {
	if s.opt.SecureCookies {
		return "__Host-vigil_session"
	}
	return "vigil_session"
}

// checkURL applies the store's text rule to the path and the query before any handler reads them: a NUL byte or
// invalid UTF-8 in a name, id or filter reached PostgreSQL and came back as a 500 where SQLite answered.
func (s *Server) checkURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := vigil.Text("path", r.URL.Path, vigil.MaxText)
		for k, vs := range r.URL.Query() {
			name := "query parameter " + strconv.Quote(k)
			for _, v := range append([]string{k}, vs...) {
				if err == nil {
					err = vigil.Text(name, v, vigil.MaxText)
				}
			}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const sessionKey ctxKey = 1

// authenticate resolves the caller: a bearer token (API scripts) or a session cookie (browsers). Requests without
// credentials continue anonymously; requireUser turns them away where needed.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if safeMethod(r.Method) {
			// A read-only request may read the organization and the audit head once for all its layers. Writes
			// get no memo: what they read after writing must be what they wrote.
			ctx = vigil.WithMemo(ctx)
		}
		if auth := r.Header.Get("Authorization"); auth != "" {
			secret, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok || s.svc.Users == nil {
				s.writeError(w, r, vigil.Errorf(vigil.EUNAUTHORIZED, "Authorization: want Bearer TOKEN"))
				return
			}
			a, err := s.svc.Users.TokenActor(ctx, strings.TrimSpace(secret))
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(vigil.WithActor(ctx, a)))
			return
		}
		if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" && s.svc.Sessions != nil {
			sess, err := s.svc.Sessions.SessionBySecret(ctx, c.Value)
			if err != nil && vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
				s.writeError(w, r, err)
				return
			}
			if err != nil {
				// Expired or ended elsewhere: drop the stale cookie so the browser stops sending it.
				s.clearSessionCookie(w)
			}
			if err == nil {
				ctx = context.WithValue(ctx, sessionKey, sess)
				ctx = vigil.WithActor(ctx, vigil.Actor{UserID: sess.User.ID, Name: sess.User.Name, Role: sess.User.Role})
				// Cookie-authenticated writes must prove they come from our own pages.
				if !safeMethod(r.Method) && !s.csrfOK(r, sess) {
					s.writeError(w, r, vigil.Errorf(vigil.EFORBIDDEN, "CSRF check failed: reload the page and try again"))
					return
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opt.SecureCookies,
		SameSite: http.SameSiteLaxMode})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfOK checks the session's token in the form field "csrf" or the X-CSRF-Token header, and refuses requests a
// browser marks as cross-site.
func (s *Server) csrfOK(r *http.Request, sess *vigil.Session) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		// The body is bounded before it is parsed: the form may carry an upload.
		if isMultipart(r) {
			r.Body = http.MaxBytesReader(nil, r.Body, s.opt.MaxUpload+64<<10)
			if err := parseMultipart(r); err != nil {
				return false
			}
		} else {
			r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		}
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) == 1
}

func sessionFrom(ctx context.Context) *vigil.Session {
	s, _ := ctx.Value(sessionKey).(*vigil.Session)
	return s
}

// requireUser refuses anonymous requests: the API with 401, pages with a redirect to the login page.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := vigil.ActorFrom(r.Context()); !ok {
			s.writeError(w, r, vigil.Errorf(vigil.EUNAUTHORIZED, "sign in first"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSession keeps the HTML screens and their forms to browser sessions. A bearer token is for the API under
// /api/v1, which serves the same data: on a form route the handler would commit the change and then render a page
// for a session that does not exist, and a client retrying the error would repeat the change. Refusing before the
// handler runs means nothing is written.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessionFrom(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		if _, ok := vigil.ActorFrom(r.Context()); ok {
			// A token: a script, not a browser, so a status it can read instead of a redirect to the sign-in page.
			var body apiError
			body.Error.Code, body.Error.Message = vigil.EUNAUTHORIZED, "this form needs a signed-in browser session: scripts use the API under /api/v1"
			writeJSON(w, http.StatusUnauthorized, body)
			return
		}
		s.writeError(w, r, vigil.Errorf(vigil.EUNAUTHORIZED, "sign in first"))
	})
}

// safeNext keeps a post-login redirect on this site: a path, never a scheme or another host. Control characters
// and backslashes are refused outright, since browsers drop a TAB or newline and read "\" as "/", which turns
// "/<TAB>/evil.example" or "/\evil.example" into "//evil.example".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, r := range next {
		if unicode.IsControl(r) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return u.String()
}

// limiter is a token bucket per key (client address, user name): n events per period, burst n.
type limiter struct {
	mu     sync.Mutex
	n      float64
	per    time.Duration
	clock  vigil.Clock
	bucket map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(n int, per time.Duration, clock vigil.Clock) *limiter {
	return &limiter{n: float64(n), per: per, clock: clock, bucket: map[string]*bucket{}}
}

// allow takes one token for key and reports whether one was there.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if len(l.bucket) > 100000 { // bound memory under a spray of addresses
		for k, b := range l.bucket {
			if now.Sub(b.last) > l.per {
				delete(l.bucket, k)
			}
		}
	}
	b, ok := l.bucket[key]
	if !ok {
		b = &bucket{tokens: l.n, last: now}
		l.bucket[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() / l.per.Seconds() * l.n
	if b.tokens > l.n {
		b.tokens = l.n
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
