// Package web is Vigil's HTTP adapter: the HTML screens a PSIRT and regulatory team work in and the JSON API under
// /api/v1. Both call the same services, so a screen and its API can never disagree. Every route is declared once in
// a table (routes.go) with the permission its service checks, which feeds the router, the OpenAPI document served at
// /api/openapi.json, the buttons a role is shown, and the tests that walk every route × verb × role. Handlers return
// errors; one function turns an error into a status (from one table) and a page or a JSON body. Security is on by
// default: sessions with CSRF tokens, bearer tokens for scripts, a strict Content-Security-Policy with no inline
// script or style, escaped output everywhere, rate-limited login and bounded uploads.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/semaphore"

	"github.com/vigil-dev/vigil"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the server.
type Options struct {
	// SecureCookies marks cookies Secure and gives the session cookie the __Host- prefix. Set it when serving TLS
	// or behind a TLS-terminating proxy; browsers drop Secure cookies on plain http.
	SecureCookies bool
	SessionTTL    time.Duration
	Clock         vigil.Clock
	Log           *slog.Logger
	// LoginRate is how many sign-in attempts one client address may make per minute (burst of the same size).
	LoginRate int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client (vigil serve --trusted-proxy).
	TrustedProxies []netip.Prefix
	// MaxUpload bounds an uploaded file, and MaxDecompressed what a .gz or .zip upload may expand to.
	MaxUpload       int64
	MaxDecompressed int64
	// MaxZipEntries bounds the entries of an uploaded .zip.
	MaxZipEntries int
	// PageSize is the number of rows of a list page.
	PageSize int
	// MaxUploads is how many uploads (SBOMs, feed files) are served at once; more are answered 429 with
	// Retry-After. Each may hold its file, its expansion and its parse in memory.
	MaxUploads int
	// ParseMemory is the memory the uploads being parsed may take together, each estimated from its size (see
	// reserveParse); an upload waits for room. 512 MiB when zero.
	ParseMemory int64
}

// Server is the HTTP handler.
type Server struct {
	svc    Services
	opt    Options
	tmpl   map[string]*template.Template
	router chi.Router
	login  *loginGate
	routes []route
	doc    openapiDoc
	// staticFields is the pre-rendered part of the assessment form (see renderStaticFields), rubric its questions.
	staticFields template.HTML
	rubric       []rubricQuestion
	frags        fragments
	// uploads holds one token per upload being served; uploadRoutes matches the routes marked Upload.
	uploads      chan struct{}
	uploadRoutes chi.Router
	parseMem     *semaphore.Weighted
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
	if opt.MaxUpload == 0 {
		opt.MaxUpload = 64 << 20
	}
	if opt.MaxDecompressed == 0 {
		opt.MaxDecompressed = 64 << 20
	}
	if opt.MaxZipEntries == 0 {
		opt.MaxZipEntries = 1000
	}
	if opt.PageSize == 0 {
		opt.PageSize = 50
	}
	if opt.MaxUploads == 0 {
		opt.MaxUploads = 2
	}
	if opt.ParseMemory == 0 {
		opt.ParseMemory = 512 << 20
	}
	s := &Server{svc: svc, opt: opt, login: newLoginGate(opt.LoginRate, opt.Clock), uploads: make(chan struct{}, opt.MaxUploads),
		parseMem: semaphore.NewWeighted(opt.ParseMemory)}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	if err := s.renderStaticFields(); err != nil {
		return nil, err
	}
	s.routes = s.table()
	s.router = s.buildRouter()
	return s, nil
}

// Router returns the chi router, so tests can walk every registered route.
func (s *Server) Router() chi.Routes { return s.router }

// handler is an HTTP handler that returns its error for one place to render.
type handler func(w http.ResponseWriter, r *http.Request) error

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
