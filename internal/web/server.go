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
	"sync"
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
	// ReportsPerAddr is how many public writes (reports, replies) one client address may make per hour, and
	// ReportsPerHour how many everyone together may (10 and 200 when zero). Each is a token bucket with a burst of
	// its size.
	ReportsPerAddr int
	ReportsPerHour int
	// ParseMemory is the memory the uploads being parsed may take together, each estimated from its size (see
	// reserveParse); an upload waits for room. 512 MiB when zero.
	ParseMemory int64
}

// Server is the HTTP handler.
type Server struct {
	svc    Services
	opt    Options
	tmpl   map[string]*template.Template // showing times in UTC; zoned holds the other zones' (templates)
	zoned  sync.Map
	router chi.Router
	login  *loginGate
	// reports limits the public report page and API (intake.go).
	reports *reportGate
	routes  []route
	doc     openapiDoc
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
	if opt.ReportsPerAddr == 0 {
		opt.ReportsPerAddr = 10
	}
	if opt.ReportsPerHour == 0 {
		opt.ReportsPerHour = 200
	}
	s := &Server{svc: svc, opt: opt, login: newLoginGate(opt.LoginRate, opt.Clock), uploads: make(chan struct{}, opt.MaxUploads),
		parseMem: semaphore.NewWeighted(opt.ParseMemory), reports: newReportGate(opt.ReportsPerAddr, opt.ReportsPerHour, opt.Clock)}
	var err error
	if s.tmpl, err = parseTemplates(time.UTC); err != nil {
		return nil, err
	}
	if err := s.renderStaticFields(); err != nil {
		return nil, err
	}
	s.routes = append(append(s.table(), s.remediationRoutes()...), s.noticeRoutes()...)
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

// healthz reports the store's real state: whether it answers a read and takes a write (a probe that needs the
// write lock and a page of disk). 200 only when both work: a server whose writes all fail (full disk, a lock held by
// a stuck process) is not healthy even though it still answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	read, write := s.storeState(r.Context())
	status, code := "ok", http.StatusOK
	switch {
	case read != "ok":
		status, code = "unavailable", http.StatusServiceUnavailable
	case write != "ok":
		status, code = "degraded", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "database": map[string]string{"read": read, "write": write}})
	return nil
}

// readyz says whether the server can serve requests now: its start-up work is done and the store answers reads
// and takes writes. A load balancer sends traffic only to a ready server.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	reason := ""
	if s.svc.Starting != nil {
		if err := s.svc.Starting(); err != nil {
			reason = vigil.ErrorMessage(err)
		}
	}
	if reason == "" {
		if read, write := s.storeState(r.Context()); read != "ok" {
			reason = read
		} else if write != "ok" {
			reason = write
		}
	}
	if reason != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": reason})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true})
	return nil
}

// storeState is the store's answer to a read and to a write probe: "ok" or what is wrong, in words fit for the
// operator (the detail of an unexpected failure is logged).
func (s *Server) storeState(ctx context.Context) (read, write string) {
	if s.svc.Health == nil {
		return "ok", "ok"
	}
	rerr, werr := s.svc.Health(ctx)
	say := func(what string, err error) string {
		if err == nil {
			return "ok"
		}
		s.opt.Log.Warn("store check failed", "check", what, "err", err)
		if vigil.ErrorCode(err) == vigil.EUNAVAILABLE {
			return vigil.ErrorMessage(err)
		}
		return "failed (see the server log)"
	}
	return say("read", rerr), say("write", werr)
}
