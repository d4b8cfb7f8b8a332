// Package app wires Vigil together: it opens the store named by a DSN, builds the services on it and starts the
// web server and the background jobs. It is the only package that knows the concrete types; the command line and
// the end-to-end tests go through it so they run exactly what production runs. It holds no logic of its own: a
// use case lives in its service (docs/ARCHITECTURE.md).
package app

import (
	"context"
	"crypto/ed25519"
	"net/netip"
	"os"
	"os/user"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/mailer"
	"github.com/vigil-dev/vigil/internal/pgpkey"
	"github.com/vigil-dev/vigil/internal/service/accounts"
	"github.com/vigil-dev/vigil/internal/service/advisories"
	"github.com/vigil-dev/vigil/internal/service/audittrail"
	"github.com/vigil-dev/vigil/internal/service/esign"
	"github.com/vigil-dev/vigil/internal/service/evidence"
	"github.com/vigil-dev/vigil/internal/service/intake"
	"github.com/vigil-dev/vigil/internal/service/intel"
	"github.com/vigil-dev/vigil/internal/service/isao"
	"github.com/vigil-dev/vigil/internal/service/notices"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
	"github.com/vigil-dev/vigil/internal/service/remediation"
	"github.com/vigil-dev/vigil/internal/service/threats"
	"github.com/vigil-dev/vigil/internal/service/vex"
	"github.com/vigil-dev/vigil/internal/store"
)

// App is an opened Vigil: its services, on one store.
type App struct {
	Portfolio *portfolio.Service  // organization, devices, versions, consignees, SBOMs, re-matching, scans
	Intel     *intel.Service      // feeds, imports (each followed by a re-match), vulnerabilities, signals
	Cases     *cases.Service      // findings through the FDA flow: assessment, events, determination, summary
	Threats   *threats.Service    // each device's threat model
	VEX       *vex.Service        // supplier VEX documents: proposed statuses on findings, accepted or rejected
	Accounts  *accounts.Service   // users, roles, passwords, tokens
	Audit     *audittrail.Service // the audit trail: events, checkpoint, verify
	Intake    *intake.Service     // reports from researchers and other signals, the CVD policy
	// Remediation is each case's plan, fix releases with their V&V and distribution, and deployment in the field.
	Remediation *remediation.Service
	ISAO        *isao.Service  // ISAO memberships and §IX evidence, shares (STIX/TAXII), ISAO intelligence
	Outbox      *notify.Outbox // every e-mail Vigil sends, each delivered once (Outbox.Run in serve)
	// Notifier tells the team about KEV hits, clocks at risk or overdue and reports awaiting acknowledgement, by the
	// rules (the periodic job "notify").
	Notifier *notify.Notifier
	Reports  *regdocs.Service // regulatory documents: 806 report and record, premarket, PMA, 524B, the plan
	Notices  *notices.Service // customer notices: drafted from cases, checked, sent through the outbox
	// Advisories are the CSAF 2.0 advisories Vigil publishes.
	Advisories *advisories.Service
	Signing    *esign.Service    // Part 11 electronic signatures on records
	Evidence   *evidence.Service // a case's evidence package for an inspection, verifiable offline
	SSO        *accounts.SSO     // single sign-on, when EnableSSO configured it
	// OpenPGP is the organization's signing key (nil when none is configured): security.txt and the CSAF provider.
	OpenPGP *pgpkey.Key
	Clock   vigil.Clock

	db         *store.DB
	catchingUp atomic.Bool // Serve's start-up re-match is running
}

// Option configures Open.
type Option func(*options)

type options struct {
	auditKey  ed25519.PrivateKey
	smtpURL   string
	allowNets []netip.Prefix
	secretKey []byte
	openpgp   *pgpkey.Key
}

// WithSMTPURL sends e-mail through the SMTP server url names ($VIGIL_SMTP_URL), whatever the organization's settings
// say.
func WithSMTPURL(url string) Option { return func(o *options) { o.smtpURL = url } }

// WithAllowedNets admits these networks, otherwise refused as not public, to the feeds', the TAXII servers' and
// the webhooks' connections (the operator's --allow-net).
func WithAllowedNets(nets []netip.Prefix) Option { return func(o *options) { o.allowNets = nets } }

// WithAuditKey signs the audit trail's events and checkpoints with key (audittrail.LoadKey).
func WithAuditKey(key ed25519.PrivateKey) Option { return func(o *options) { o.auditKey = key } }

// WithSecretKey seals and opens the stored credentials with key (secret.LoadKey): the ISAOs' TAXII passwords and
// the organization's SMTP password.
func WithSecretKey(key []byte) Option { return func(o *options) { o.secretKey = key } }

// WithOpenPGP signs with the organization's OpenPGP key (pgpkey.Load): security.txt and the CSAF provider's
// documents.
func WithOpenPGP(key *pgpkey.Key) Option { return func(o *options) { o.openpgp = key } }

// Open opens (and migrates) the store and builds the services on it. clock is nil for the system clock (tests and
// benches pass their own).
func Open(ctx context.Context, dsn string, clock vigil.Clock, opts ...Option) (*App, error) {
	if clock == nil {
		clock = vigil.SystemClock{}
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	db, err := store.Open(ctx, dsn, clock, store.WithAuditKey(o.auditKey), store.WithSecretKey(o.secretKey))
	if err != nil {
		return nil, err
	}
	p := &portfolio.Service{Store: db}
	im := importer.Importer{Store: db}
	if db.Engine() == store.SQLite {
		im.Turns = new(sync.Mutex) // one writer: imports and feed syncs take turns at their transactions
	}
	ik := &intake.Service{Store: db, Clock: clock}
	// Every URL a user may type (a feed, an ISAO's TAXII server, a webhook) is dialled through one guard: public
	// addresses only, but for the operator's --allow-net.
	guard := importer.AllowNets(o.allowNets)
	in := &intel.Service{Store: db, Importer: im, Portfolio: p, Clock: clock, Intake: ik, Guard: guard}
	cs := &cases.Service{Store: db, Intel: in, Clock: clock}
	rem := &remediation.Service{Store: db, Cases: cs}
	ob := &notify.Outbox{Store: db, Dial: dialSMTP, URL: o.smtpURL, Clock: clock, HTTP: notify.WebhookClient(importer.NewClient(guard))}
	ik.Outbox = ob // the reporter is e-mailed each message the PSIRT sends
	ik.Cases = cs  // triage opens cases through the case service
	acc := &accounts.Service{Store: db}
	sign := &esign.Service{Store: db, Accounts: acc, Clock: clock}
	cs.Signing = sign  // the acts that need a Part 11 signature: determination, closure, and through the case service V&V and 806 records
	rem.Signing = sign // the VEX documents show the determinations' signatures
	nts := &notices.Service{Store: db, Cases: cs, Outbox: ob, Signing: sign}
	reports := &regdocs.Service{Store: db, Cases: cs, Remediation: rem, Notices: nts, Signing: sign, Clock: clock}
	trail := &audittrail.Service{Store: db, Key: o.auditKey, Clock: clock}
	isaos := &isao.Service{Store: db, Cases: cs, Intel: in, Remediations: rem, Notices: nts, Key: o.secretKey, Clock: clock, HTTP: importer.NewClient(guard)}
	isaos.HTTP.Timeout = time.Minute
	in.TAXII = isaos.PollFeed
	adv := &advisories.Service{Store: db, Cases: cs, Remediation: rem, Intel: in, Signing: sign, Clock: clock}
	if o.openpgp != nil {
		adv.Signer = o.openpgp // a nil key must stay a nil interface: no signer
	}
	return &App{
		Portfolio:   p,
		Intel:       in,
		Cases:       cs,
		Remediation: rem,
		Reports:     reports,
		Notices:     nts,
		ISAO:        isaos,
		Advisories:  adv,
		Threats:     &threats.Service{Store: db},
		VEX:         &vex.Service{Store: db},
		Accounts:    acc,
		Audit:       trail,
		Intake:      ik,
		Outbox:      ob,
		Signing:     sign,
		Evidence: &evidence.Service{Store: db, Cases: cs, Signing: sign, Documents: reports, Devices: reports, Notices: nts, ISAO: isaos, Checkpoint: trail,
			Key: o.auditKey, Clock: clock},
		Notifier: &notify.Notifier{Store: db, Outbox: ob, Deadlines: []func(context.Context, cases.DeadlineFilter) ([]cases.Deadline, error){cs.Deadlines, ik.Deadlines, reports.Deadlines},
			AckClocks: ik.Clocks, Cases: cs.Cases, Feeds: in.Feeds, Policy: ik.Policy, Clock: clock},
		OpenPGP: o.openpgp,
		Clock:   clock,
		db:      db,
	}, nil
}

// dialSMTP is the outbox's way to the mailer.
func dialSMTP(url string) (notify.Sender, error) {
	cfg, err := mailer.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return mailer.New(cfg), nil
}

// EnableSSO configures sign-in through an OpenID Connect provider (reading its discovery document now); password
// sign-in is then kept for admins only, the break-glass way in.
func (a *App) EnableSSO(ctx context.Context, cfg accounts.SSOConfig) error {
	sso, err := accounts.NewSSO(ctx, cfg, a.db)
	if err != nil {
		return err
	}
	a.SSO, a.Accounts.PasswordAdminsOnly = sso, true
	a.Signing.Provider = sso // users without a password sign after a fresh sign-in there
	return nil
}

// Close releases the store.
func (a *App) Close() error { return a.db.Close() }

// Engine names the store's engine: sqlite or postgres.
func (a *App) Engine() string { return a.db.Engine() }

// SchemaVersion returns the store's migration and the newest this build knows (`vigil db migrate`).
func (a *App) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	return a.db.SchemaVersion(ctx)
}

// Backup writes a consistent online copy of a SQLite store to path (`vigil db backup`).
func (a *App) Backup(ctx context.Context, path string) error { return a.db.Backup(ctx, path) }

// CLIContext returns ctx acting as the local operator: whoever runs the command line holds the database file or
// its credentials already, so the CLI acts as the system, named after the OS user for the audit trail.
func CLIContext(ctx context.Context) context.Context {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	} else if h, err := os.Hostname(); err == nil {
		name = "cli@" + h
	}
	return vigil.WithActor(ctx, vigil.Actor{System: true, Name: name})
}
