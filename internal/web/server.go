// Package web is Vigil's HTTP adapter: the HTML screens a PSIRT and regulatory team work in and the JSON API under
// /api/v1. Both call the same services, so a screen and its API can never disagree. Handlers return errors; one
// function turns an error into a status (from one table) and a page or a JSON body. Security is on by default:
// sessions with CSRF tokens, bearer tokens for scripts, a strict Content-Security-Policy, rate-limited login.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vigil-dev/vigil"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Services are what the web layer calls. app fills them in; tests may pass fakes.
type Services struct {
	Portfolio vigil.PortfolioService
	Users     vigil.UserService
	Sessions  vigil.SessionService
	Audit     vigil.AuditService
	// Health checks the database for /healthz.
	Health func(ctx context.Context) error
}

// Options configure the server.
type Options struct {
	// SecureCookies marks cookies Secure and gives the session cookie the __Host- prefix. Set it when serving TLS
	// or behind a TLS-terminating proxy; browsers drop Secure cookies on plain http.
	SecureCookies bool
	SessionTTL    time.Duration
	Clock         vigil.Clock
	Log           *slog.Logger
	// LoginRate is how many login attempts one client address may make per minute (burst of the same size).
	LoginRate int
}

// Server is the HTTP handler.
type Server struct {
	svc    Services
	opt    Options
	tmpl   map[string]*template.Template
	router chi.Router
	login  *limiter
}

// New builds the server and its routes.
func New(svc Services, opt Options) (*Server, error) {
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 8 * time.Hour
	}
	if opt.Clock == nil {
		opt.Clock = vigil.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.LoginRate == 0 {
		opt.LoginRate = 10
	}
	s := &Server{svc: svc, opt: opt, login: newLimiter(opt.LoginRate, time.Minute, opt.Clock)}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// handler is an HTTP handler that returns its error for one place to render.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) routes() {
	r := chi.NewRouter()
	r.Use(s.recoverer, securityHeaders, s.authenticate)
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServer(http.FS(static)))))
	r.Get("/healthz", s.h(s.healthz))

	r.Get("/login", s.h(s.loginPage))
	r.Post("/login", s.h(s.loginSubmit))
	r.Post("/logout", s.h(s.logout))

	r.Group(func(r chi.Router) {
		r.Use(s.requireUser)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/devices", http.StatusSeeOther) })
		r.Get("/devices", s.h(s.devicesPage))
	})
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.requireUser)
		r.Get("/devices", s.h(s.apiDevices))
	})
	r.NotFound(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return vigil.Errorf(vigil.ENOTFOUND, "no such page")
	}))
	r.MethodNotAllowed(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return errMethod
	}))
	s.router = r
}

var errMethod = errors.New("method not allowed")

func (s *Server) h(fn handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.svc.Health != nil {
		if err := s.svc.Health(ctx); err != nil {
			s.opt.Log.Error("healthz: database", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
			return nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
	return nil
}
