package web

import (
	"context"
	"io"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/service/intel"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

// Services are what the web layer calls. internal/app fills them in; tests may pass fakes. Every service checks the
// caller's permission itself (vigil.Authorize): the web layer only reads the permission table to hide what a role
// cannot use. The optional ones (Vulns, Sources, Importer) may be nil: their screens then say the data is not
// available instead of failing, so the server runs before every part of Vigil is wired in.
type Services struct {
	Portfolio vigil.PortfolioService
	Findings  Findings
	Users     Users
	Sessions  vigil.SessionService
	Audit     Audit
	Cases     Cases
	Queries   Queries
	SBOM      SBOMImporter
	Vulns     vigil.VulnService        // optional: the intelligence store
	Sources   Sources                  // optional: feed source status
	Importer  Importer                 // optional: feed imports through the API
	Feeds     Feeds                    // optional: configure and sync the feed sources
	Rematch   Rematcher                // optional: re-match device versions on demand
	Filters   vigil.SavedFilterService // optional: each user's saved list filters
	Threats   vigil.ThreatModelService // optional: each device's threat model
	SSO       vigil.SSOService         // optional: single sign-on through an OpenID Connect provider
	StepUp    StepUp                   // optional (with SSO): signing after a fresh sign-in at the provider
	Intake    vigil.IntakeService      // optional: the public report page, the report queue, security.txt
	Rates     RateCounter              // optional: the intake's rate limits shared by every server on the database
	// OpenPGP signs security.txt (RFC 9116 §2.3) with the organization's key (optional: internal/pgpkey.Key).
	OpenPGP ClearSigner
	// MoreDeadlines list the clocks other services run beside the cases' (the intake reports' acknowledgements,
	// the 806.10(d) amendments), which the deadlines screen and API show with every other clock.
	MoreDeadlines []func(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error)
	VEX           vigil.VEXService       // optional: supplier VEX documents as proposals on findings
	Signing       vigil.SignatureService // optional: Part 11 electronic signatures on records
	Remediation   Remediation            // a case's plan, fixes, field deployment and metrics; a version's VEX
	Reports       Reports                // optional: the regulatory documents of cases and devices
	Evidence      Evidence               // optional: evidence packages of cases and devices (needs the audit key)
	Notify        Notify                 // optional: notification rules, the SMTP server, the outbox
	ISAO          ISAO                   // optional: ISAO memberships, §IX evidence, shares and intelligence
	Notices       vigil.NoticeService    // optional: customer notices (the list screen and API)
	Advisories    Advisories             // optional: CSAF advisories and the provider at /.well-known/csaf/
	// Health reports whether the store answers a read and takes a write (each nil, or EUNAVAILABLE saying why),
	// for /healthz and /readyz; it bounds its own wait.
	Health func(ctx context.Context) (read, write error)
	// Starting, when set, says why the server is not ready yet (its start-up work still running), nil once it is.
	Starting func() error
}

// Users is the accounts service (internal/service/accounts): users, passwords, tokens, sign-in, and the account
// lifecycle (disable, role, token listing and revocation). It authorizes every call itself.
type Users interface {
	vigil.UserService
	vigil.AccountService
}

// Findings reads findings and closes or reopens them (internal/cases.Service).
type Findings interface {
	Finding(ctx context.Context, id int64) (*vigil.Finding, error)
	Findings(ctx context.Context, f vigil.FindingFilter) ([]*vigil.Finding, error)
	// SetFindingState closes or reopens a finding with a reason. Needs PermAssess.
	SetFindingState(ctx context.Context, id int64, state vigil.FindingState, reason string) error
}

// Audit reads the audit trail; VerifyChain recomputes it for a caller holding vigil.PermAuditVerify.
type Audit interface {
	Events(ctx context.Context, f vigil.AuditFilter) ([]*vigil.AuditEvent, error)
	// VerifyChain recomputes the hash chain and reconciles the audited records with it: EFORBIDDEN without
	// PermAuditVerify, EINVALID naming the first problem.
	VerifyChain(ctx context.Context) (vigil.AuditReport, error)
}

// RateCounter counts hits per bucket and fixed window in the database (store.DB.Hit), so that several servers on
// one database hold one limit together: Hit returns the hits in the window so far, this one included, and
// forgets windows that started before keep.
type RateCounter interface {
	Hit(ctx context.Context, bucket string, window, keep time.Time) (int, error)
}

// ClearSigner makes an OpenPGP cleartext signature of a text, dated at, with the key of the fingerprint.
type ClearSigner interface {
	ClearSign(text []byte, at time.Time) ([]byte, error)
	Fingerprint() string
}

// Cases is the case workflow (internal/cases.Service): the same calls the command line makes. Each authorizes
// itself; EINVALID names the field, ENOTFOUND an unknown case or record.
type Cases interface {
	// CaseView loads a case with its live determination as of asOf (today when zero). Needs PermRead.
	CaseView(ctx context.Context, id int64, asOf vigil.Date) (*cases.View, error)
	// FindingView is CaseView of a finding's case, with the finding and its version. Needs PermRead.
	FindingView(ctx context.Context, findingID int64, asOf vigil.Date) (*cases.View, error)
	Cases(ctx context.Context, f vigil.CaseFilter) ([]*vigil.Case, error)
	// OpenCase opens a case not from matching. Needs PermAssess.
	OpenCase(ctx context.Context, c *vigil.Case, reason string) error
	// Assess records a dated assessment of a case. Needs PermAssess.
	Assess(ctx context.Context, in cases.AssessInput) (*vigil.Assessment, error)
	// AddEvent records a dated regulatory event of a case as typed, with its Part 11 signature when the event is a
	// signed act (cases.EventAct). Needs PermEvent.
	AddEvent(ctx context.Context, e *vigil.CaseEvent, sig *vigil.SignRequest) error
	// Retract withdraws a record of a case with a reason. Needs PermAssess.
	Retract(ctx context.Context, r *vigil.Retraction) error
	// SetLearned corrects D0 with a reason and evidence. Needs PermAssess.
	SetLearned(ctx context.Context, caseID int64, learned vigil.Date, reason, evidence string) error
	// SetCaseState closes, reopens or marks a case for review, with a reason. Needs PermAssess.
	// Closing carries a Part 11 signature (sig) unless the organization switched that off.
	SetCaseState(ctx context.Context, id int64, state vigil.CaseState, reason string, sig *vigil.SignRequest) error
	// SetCasesState is SetCaseState for several cases in one transaction, closing them signed once.
	SetCasesState(ctx context.Context, ids []int64, state vigil.CaseState, reason string, sig *vigil.SignRequest) error
	// MergeCases merges a duplicate case into another of its device. Needs PermAssess.
	MergeCases(ctx context.Context, into, dup int64, reason string) error
	// SplitCase takes findings (or another device) out of a case into a new case, D0 kept. Needs PermAssess.
	SplitCase(ctx context.Context, in vigil.SplitInput) (*vigil.Case, error)
	// SetCaseOwner gives a case to a user ("" for nobody), with a reason. Needs PermAssess.
	SetCaseOwner(ctx context.Context, id int64, owner, reason string) error
	// SetVersionVEX records one version's VEX status on a case; SetCaseVEX one status for every version the case
	// affects. Need PermAssess.
	SetVersionVEX(ctx context.Context, v *vigil.VersionVEX) error
	SetCaseVEX(ctx context.Context, caseID int64, tmpl vigil.VersionVEX) ([]*vigil.VersionVEX, error)
	// SetDisclosure records the case's disclosure coordination as it now stands, with a reason. Needs PermIntake.
	SetDisclosure(ctx context.Context, caseID int64, d vigil.Disclosure, reason string) (*vigil.CaseDisclosure, error)
	// Today is the current date in the organization's time zone.
	Today(ctx context.Context) vigil.Date
	// Zone is the organization's time zone: every date and time a screen shows is in it.
	Zone(ctx context.Context) *time.Location
}

// Queries answers the questions the screens ask of the whole portfolio: pages of findings, every open clock, the
// dashboard's aggregates. They must stay fast with 100,000 findings. Each needs PermRead.
type Queries interface {
	FindingPage(ctx context.Context, q FindingQuery) (*FindingPage, error)
	// CaseQueue is the triage list: every case the query selects, in its order.
	CaseQueue(ctx context.Context, q CaseQuery) (*CaseQueue, error)
	// Deadlines lists every open regulatory clock, soonest first.
	Deadlines(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error)
	// Overview is the dashboard: since is when the caller last looked (new findings are those first seen after it).
	Overview(ctx context.Context, since time.Time) (*Overview, error)
}

// SBOMImporter parses an SBOM, stores it on a device version and re-matches the version. Needs PermPortfolio.
// Nothing is stored from a document the parser rejects; EINVALID names the file and the field.
type SBOMImporter interface {
	ImportSBOM(ctx context.Context, versionID int64, r io.Reader, name string, opt portfolio.SBOMOptions) (*portfolio.SBOMResult, error)
}

// Sources reports the state of the configured feed sources and the latest import runs.
type Sources interface {
	Sources(ctx context.Context) ([]Source, error)
	// Runs lists the newest import runs first (scheduled syncs, CLI and API imports alike).
	Runs(ctx context.Context, limit int) ([]*vigil.IntelRun, error)
}

// Source is one feed source's state.
type Source struct {
	Name        string         `json:"name"`
	URL         string         `json:"url,omitempty"`
	Schedule    string         `json:"schedule,omitempty"`
	LastAttempt time.Time      `json:"last_attempt,omitzero"`
	LastSuccess time.Time      `json:"last_success,omitzero"`
	LastError   string         `json:"last_error,omitempty"`
	Failures    int            `json:"failures"` // consecutive failures since the last success
	NextRun     time.Time      `json:"next_run,omitzero"`
	Counts      map[string]int `json:"counts,omitempty"` // records by kind: advisories, kev, epss, ...
}

// Rematcher re-matches device versions against the intelligence store and syncs their findings, as `vigil
// portfolio rematch` does (internal/service/portfolio): after an upgrade changed matching rules. Needs PermImport.
type Rematcher interface {
	Rematch(ctx context.Context, opt portfolio.RematchOptions) (portfolio.RematchResult, error)
}

// Importer imports one feed file (an OSV/NVD/KEV/EPSS/CSAF/STIX document, or a .zip or .gz of them) and
// re-matches the portfolio. Needs PermImport. The whole file is imported in one transaction or not at all.
type Importer interface {
	Upload(ctx context.Context, source string, r io.Reader, name string) (*intel.Result, error)
}

// FindingQuery selects a page of findings. Pages are keyset-paginated by id, newest first: After returns the page
// of findings older than that id, Before the page newer than it.
type FindingQuery struct {
	DeviceID  int64                `json:"device_id,omitempty"`
	VersionID int64                `json:"version_id,omitempty"`
	States    []vigil.FindingState `json:"states,omitempty"` // default open, could_not_evaluate and needs_review
	Vuln      string               `json:"vuln,omitempty"`   // an id or an alias, exactly
	Text      string               `json:"text,omitempty"`   // a substring of the component name or the vulnerability id
	Risk      vigil.RiskFilter     `json:"risk,omitempty"`
	Since     time.Time
	After     int64 `json:"after,omitempty"`
	Before    int64 `json:"before,omitempty"`
	Limit     int   `json:"limit,omitempty"`
	// NoTotal skips counting every match (exports page through everything and do not need it).
	NoTotal bool `json:"-"`
}

// CaseQuery selects and orders the case queue. The filters are the command line's and the API's (`case list
// --state --device --vuln`: Vuln is the case's id or any alias, answered by the same store query), plus KEV and
// Uncontrolled.
type CaseQuery struct {
	States       []vigil.CaseState `json:"states,omitempty"` // default open and needs_review
	DeviceID     int64             `json:"device_id,omitempty"`
	Vuln         string            `json:"vuln,omitempty"`
	KEV          bool              `json:"kev,omitempty"`          // only KEV-listed vulnerabilities
	Uncontrolled bool              `json:"uncontrolled,omitempty"` // only uncontrolled risks (provisional ones included: they are determined as uncontrolled)
	// Owner selects the cases a user owns; NoOwner those nobody owns.
	Owner   string `json:"owner,omitempty"`
	NoOwner bool   `json:"no_owner,omitempty"`
	// Sort is a column of CaseSorts; Desc reverses it. The default ("") is the next clock: urgent first, then
	// soonest, cases with no open obligation last.
	Sort string `json:"sort,omitempty"`
	Desc bool   `json:"desc,omitempty"`
	// Offset and Limit page the rows; Limit 0 returns them all (exports).
	Offset int `json:"offset,omitempty"`
	Limit  int `json:"limit,omitempty"`
}

// CaseSorts are the case queue's sortable columns.
var CaseSorts = []string{"id", "state", "device", "vulnerability", "owner", "versions", "cvss", "epss", "kev", "severity", "determination", "next"}

// CaseRow is a case as the queue shows it.
type CaseRow struct {
	ID            int64           `json:"id"`
	State         vigil.CaseState `json:"state"`
	DeviceID      int64           `json:"device_id"`
	Device        string          `json:"device"`
	Vulnerability string          `json:"vulnerability"`
	Aliases       []string        `json:"aliases"`
	Learned       vigil.Date      `json:"learned"`
	Owner         string          `json:"owner,omitempty"`
	// Versions is the number of the device's versions the case affects now.
	Versions int `json:"versions"`
	// CVSS is the base score of the latest assessment's vector (0 with CVSSVector "" when not assessed).
	CVSS       float64 `json:"cvss,omitempty"`
	CVSSVector string  `json:"cvss_vector,omitempty"`
	// EPSSPercentile is the vulnerability's latest EPSS percentile (nil when unknown).
	EPSSPercentile *float64 `json:"epss_percentile,omitempty"`
	KEV            bool     `json:"kev"`
	Severity       string   `json:"severity,omitempty"` // severity of patient harm, from the latest assessment
	// Determination: controlled, uncontrolled, or provisional (not assessed: determined as if uncontrolled).
	Determination string `json:"determination"`
	// Next is the case's most urgent open obligation (nil when none). NextStanding is its colour: pending or
	// overdue for an open one; met (every clock of the determination met) or not_required otherwise.
	Next         *cases.Deadline `json:"next,omitempty"`
	NextStanding string          `json:"next_standing"`
}

// CaseQueue is the case queue: the rows of one page and how many the query selects.
type CaseQueue struct {
	Rows  []CaseRow `json:"cases"`
	Total int       `json:"total"`
}

// FindingRow is a finding as lists show it: with its device, version and latest assessment.
type FindingRow struct {
	*vigil.Finding
	Device   string     `json:"device"`
	Version  string     `json:"version"`
	Risk     vigil.Risk `json:"risk,omitempty"`     // the latest assessment's risk; "" when not assessed
	Severity string     `json:"severity,omitempty"` // the latest assessment's severity of patient harm
}

// FindingPage is one page of findings.
type FindingPage struct {
	Rows  []FindingRow `json:"findings"`
	Total int          `json:"total"` // every finding the query matches, -1 when not counted
	// Older and Newer are the cursors of the neighbouring pages (0 when there is none).
	Older int64 `json:"older,omitempty"`
	Newer int64 `json:"newer,omitempty"`
	// Revision names the page's rows at one state of the portfolio, like Overview.Revision (empty: never reuse).
	Revision string `json:"-"`
}

// Overview is what the dashboard shows.
type Overview struct {
	AsOf vigil.Date `json:"as_of"`
	// Revision names the state of the portfolio the aggregates describe: equal revisions have equal aggregates
	// (everything but the caller's new findings), so what is drawn from them can be reused. Empty: never reuse.
	Revision string `json:"-"`
	// Clocks are the open regulatory clocks of uncontrolled risks, soonest first.
	Clocks       []cases.Deadline `json:"clocks"`
	Open         int              `json:"open"`
	CouldNotEval int              `json:"could_not_evaluate"`
	Uncontrolled int              `json:"uncontrolled"`
	Unassessed   int              `json:"unassessed"`
	// NewSince and NewFindings: findings first seen after the caller's previous visit (NewCount of them in all).
	NewSince    time.Time    `json:"new_since"`
	NewCount    int          `json:"new_count"`
	NewFindings []FindingRow `json:"new_findings"`
	// KEV lists the vulnerabilities in CISA's KEV catalog that open findings name.
	KEV []KEVHit `json:"kev"`
	// KEVAvailable is false when no intelligence store is wired in (so an empty KEV list means nothing).
	KEVAvailable bool     `json:"kev_available"`
	BySeverity   []Count  `json:"by_severity"`
	ByRisk       []Count  `json:"by_risk"`
	ByDevice     []Count  `json:"by_device"`  // open findings (N) and uncontrolled ones (Extra) per device, ID the device
	ByVersion    []Count  `json:"by_version"` // the same per device version, ID the version
	OpenOverTime []Point  `json:"open_over_time"`
	IdentToPatch []Metric `json:"identification_to_patch"`
	PatchToField []Metric `json:"patch_to_field"`
	// PatchedShare is the share of uncontrolled findings with a validated fix distributed (PM2025 "% patched").
	Patched      int `json:"patched"`
	PatchTargets int `json:"patch_targets"`
}

// KEVHit is one KEV-listed vulnerability present in the portfolio.
type KEVHit struct {
	Vulnerability string          `json:"vulnerability"`
	KEV           *vigil.KEVEntry `json:"kev"`
	Findings      int             `json:"findings"`
	Devices       []string        `json:"devices"`
	FindingID     int64           `json:"finding_id"` // one of them, to link to
}

// Count is one bar of a chart.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int    `json:"n"`
	Extra int    `json:"extra,omitempty"` // a second series (e.g. the uncontrolled share of a device's findings)
	ID    int64  `json:"id,omitempty"`    // the object the bar links to
}

// Point is one point of a time series.
type Point struct {
	Date vigil.Date `json:"date"`
	N    int        `json:"n"`
}

// Metric is one finding's duration for the PM2025 metrics.
type Metric struct {
	FindingID     int64      `json:"finding_id"`
	Vulnerability string     `json:"vulnerability"`
	From          vigil.Date `json:"from"`
	To            vigil.Date `json:"to"`
	Days          int        `json:"days"`
}
