package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/readmodel"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/web"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	Addr            string
	TLSCert, TLSKey string
	TrustedProxyTLS bool // a TLS-terminating proxy sits in front: cookies are Secure
	// TrustedProxies are the proxies whose X-Forwarded-For names the client, so each client has its own sign-in
	// limits instead of sharing the proxy's.
	TrustedProxies []netip.Prefix
	Log            *slog.Logger
	Ready          func(addr string) // called once the listener is bound (tests use it to learn the port)
	// SessionIdle ends a browser session unused for this long, before its absolute expiry (vigil.DefaultSessionIdle
	// when zero).
	SessionIdle time.Duration
	// ReportsPerAddr and ReportsPerHour limit the public report page and API: writes per client address per hour,
	// and for everyone together (web's defaults when zero).
	ReportsPerAddr, ReportsPerHour int
}

// Handler builds the web handler on the app's services: the same ones the command line calls.
func (a *App) Handler(opt ServeOptions) (http.Handler, error) { return a.WebServer(opt) }

// WebServer is Handler with its concrete type, for tests that walk its routes.
func (a *App) WebServer(opt ServeOptions) (*web.Server, error) {
	q := readmodel.New(a.db, a.Cases, a.Intel)
	svc := web.Services{
		Portfolio: q.Portfolio(a.Portfolio), Findings: a.Cases, Users: a.Accounts, Sessions: a.db.IdleSessions(opt.SessionIdle),
		Audit: a.Audit, Cases: q.Cases(a.Cases), Queries: q, SBOM: a.Portfolio, Vulns: q.Vulns(a.Intel),
		Sources: readmodel.Sources{Intel: a.Intel}, Importer: a.Intel, Feeds: a.Intel, Rematch: a.Portfolio, Filters: a.Accounts, Threats: q.Threats(a.Threats),
		Intake: a.Intake, Rates: a.db, MoreDeadlines: a.MoreDeadlines(), Health: a.db.Health, Starting: a.starting, VEX: a.VEX, ISAO: a.ISAO,
		Signing: a.Signing, Remediation: a.Remediation,
		Reports: a.Reports, Advisories: a.Advisories, Notices: a.Notices,
		// The settings screen's notifications: the notifier's rules and the outbox's server and messages.
		Notify: struct {
			*notify.Notifier
			*notify.Outbox
		}{a.Notifier, a.Outbox},
	}
	if a.SSO != nil {
		svc.SSO, svc.StepUp = a.SSO, a.Signing
	}
	if a.OpenPGP != nil {
		svc.OpenPGP = a.OpenPGP
	}
	if a.Evidence.Key != nil {
		svc.Evidence = a.Evidence // a package is signed with the audit key: without it the pages offer none
	}
	return web.New(svc, web.Options{SecureCookies: opt.TLSCert != "" || opt.TrustedProxyTLS, TrustedProxies: opt.TrustedProxies,
		Clock: a.Clock, Log: opt.Log, ReportsPerAddr: opt.ReportsPerAddr, ReportsPerHour: opt.ReportsPerHour})
}

// starting says why the server is not ready yet: Serve's start-up re-match is still running.
func (a *App) starting() error {
	if a.catchingUp.Load() {
		return vigil.Errorf(vigil.EUNAVAILABLE, "starting: re-matching intelligence imported but not yet matched")
	}
	return nil
}

func (o ServeOptions) logger() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Serve runs the HTTP server until ctx ends, then shuts down gracefully (in-flight requests get 10 s).
func (a *App) Serve(ctx context.Context, opt ServeOptions) error {
	a.db.SetLog(opt.logger())
	h, err := a.Handler(opt)
	if err != nil {
		return err
	}
	// A crash leaves the uploads and downloads it was importing in the temporary directory.
	removed, err := importer.RemoveStale("")
	if opt.Log != nil && (len(removed) > 0 || err != nil) {
		opt.Log.Info("removed temporary files left by an earlier run", "files", removed, "err", err)
	}
	ln, err := net.Listen("tcp", opt.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	// A crash between an import's commit and its re-match leaves findings unopened: the change cursor re-matching
	// follows is durable, so what was imported but not matched is matched now, while the server already answers
	// (/readyz says it is not ready until this is done).
	a.catchingUp.Store(true)
	caughtUp := make(chan struct{})
	defer func() { <-caughtUp }() // it ends soon after ctx: the store must outlive it
	go func() {
		defer close(caughtUp)
		defer a.catchingUp.Store(false)
		res, err := a.Portfolio.RematchChanged(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "rematch"}))
		if err != nil {
			opt.logger().Error("start-up re-match of imports not yet matched failed; the next import retries it", "err", err)
		} else if res.Versions > 0 {
			opt.logger().Info("start-up re-match of imports not yet matched", "versions", res.Versions, "opened", res.Opened, "resolved", res.Resolved)
		}
	}()
	if opt.Ready != nil {
		opt.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if opt.TLSCert != "" {
			errc <- srv.ServeTLS(ln, opt.TLSCert, opt.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Scheduler returns the jobs `vigil serve` runs under leases shared with every server on the database: the
// notifications (job "notify"), and with feeds the feed syncs and the re-match (intel.Service.Scheduler). Start it
// with Run(ctx).
func (a *App) Scheduler(ctx context.Context, opt jobs.Options, feeds bool) (*jobs.Scheduler, error) {
	opt.Periodic = append(opt.Periodic, a.Notifier.Periodic(), a.ISAO.Periodic())
	if feeds {
		return a.Intel.Scheduler(ctx, opt)
	}
	opt.Leases, opt.Clock, opt.Log = a.db, a.Clock, a.Intel.Log
	return jobs.New(opt), nil
}

// MoreDeadlines are the clocks the deadlines lists (`vigil deadlines`, the screen, the API) show beside the cases':
// the intake reports' acknowledgements and the 806.10(d) amendments.
func (a *App) MoreDeadlines() []func(context.Context, cases.DeadlineFilter) ([]cases.Deadline, error) {
	return []func(context.Context, cases.DeadlineFilter) ([]cases.Deadline, error){a.Intake.Deadlines, a.Reports.Deadlines}
}
