package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/service/isao"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix/taxiiserver"
	"github.com/vigil-dev/vigil/internal/web"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// The fixture: one organization (an ISAO member), a user per role plus a "target" user the tests change, a device
// with two versions, three matched findings (one assessed as an uncontrolled risk, with a customer notice), all on
// a fixed clock at 2025-06-02 (the day the findings were learned).

var roles = []string{vigil.RoleViewer, vigil.RoleRegulatory, vigil.RolePSIRT, vigil.RoleAdmin}

func password(role string) string { return "password-for-" + role + "-123" }

type env struct {
	// signer is the role whose request the walk builds: the signing examples sign as it, with its password.
	signer string
	t      testing.TB
	engine string
	app    *app.App
	web    *web.Server
	srv    *httptest.Server
	db     *store.DB // the store under the app, for setting up what no screen writes
	clock  *storetest.Clock
	fixtureIDs
	// apiCase and apiDup are opened by hand (no findings) for the API's case routes: apiDup is merged into apiCase,
	// and apiEvent is apiCase's event the API retracts.
	apiCase, apiDup, apiEvent int64
	// reportableCase (uncontrolled: its 806 report is filed through the API) and controlledCase (its 806.20 record
	// is signed off) are opened by hand and assessed, for the regulatory records' routes.
	reportableCase, controlledCase int64
	// noticeCase is an assessed case of its own version (3.3.0) that a consignee with an address holds; notices
	// are drafts on it the role walk edits and sends: one to edit and one to send through the forms, the same two
	// through the API; advisory is a draft on it (the CSAF namespace is set).
	noticeCase int64
	notices    [4]int64
	advisory   int64
	// testRule is a webhook rule to a loopback receiver that the role walk tests; removable are the rules it
	// removes, per route (form, api), one for each identity's try.
	testRule  int64
	removable map[string][]int64
	// The ISAO objects the role walk acts on (isaoFixture): the organization's membership and one of its
	// documents, a signal naming the log4j CVE, a sent notice of the log4j case, and that case's assessment.
	membership, isaoDoc, signal, notice, assessment int64
	taxii                                           *taxiiserver.Server
	// fixes are two fix releases of the log4j case the walk retracts: one through the form, one through the API.
	fixes [2]int64
	// emptyVersion is a version without components, which the role walk re-matches (rematchFixture).
	emptyVersion int64
	// feedHits counts the fetches of the fixture's feed "fixture-osv" (a loopback server serving osvDoc).
	feedHits atomic.Int32
}

// fixtureIDs are the ids of what the seeded fixture holds, the same in every copy of it.
type fixtureIDs struct {
	device int64
	v1, v2 int64
	// findings: the log4j one is assessed uncontrolled and has a notice; spring is unassessed; the third is in v2.
	log4j, spring, other int64
	// vexProposals are a supplier's two statements on the log4j finding (under_investigation, affected), waiting
	// for a decision: neither closes the finding when accepted.
	vexProposals []int64
	// cases: the log4j one (v1) and the spring one (v1 and v2).
	log4jCase, springCase int64
	// tokens of the "target" user that the role walk revokes: one through the API, one through the form.
	targetTokens [2]int64
	// reports in each workflow status, one set for the forms and one for the API (the walk moves them on), and
	// the attachment of the first.
	reports    map[string][2]int64
	attachment int64
	// consignee holds 40 units of v1; deletable are the ones the role walk deletes, one for each identity's try.
	consignee int64
	deletable []int64
	// filters are each role's saved filter "KEV only" (kev=1), in the order of roles after a 0 for anonymous.
	filters []int64
}

// clone returns the ids with maps and slices of their own, so that no test changes another's.
func (f fixtureIDs) clone() fixtureIDs {
	f.vexProposals = slices.Clone(f.vexProposals)
	f.reports = maps.Clone(f.reports)
	f.deletable = slices.Clone(f.deletable)
	f.filters = slices.Clone(f.filters)
	return f
}

func sys() context.Context { return storetest.Admin() }

// fixtureKey is the fixture's audit key (a fixed seed: the tests need no secrecy, and key generation is not free).
var fixtureKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// newEnv builds the fixture on engine and serves it, with the secret key that seals the credentials it keeps.
func newEnv(t testing.TB, engine string, opt ...func(*app.ServeOptions)) *env {
	t.Helper()
	return newEnvKeyed(t, engine, storetest.SecretKey, opt...)
}

// newEnvKeyed is newEnv with the server's secret key (nil for none).
func newEnvKeyed(t testing.TB, engine string, secretKey []byte, opt ...func(*app.ServeOptions)) *env {
	t.Helper()
	s, _ := seeds.LoadOrStore(string(secretKey), new(storetest.Seed[seededFixture]))
	dsn, seeded := s.(*storetest.Seed[seededFixture]).DSN(t, engine, func(t testing.TB, dsn string) seededFixture {
		return seedFixture(t, engine, dsn, secretKey)
	})
	e := openFixture(t, engine, dsn, storetest.NewClock(seeded.at), secretKey)
	// The clock goes on from where the seeding left it, as if the test had built the fixture itself.
	e.clock.T = seeded.at
	e.fixtureIDs = seeded.ids.clone()
	ctx := sys()
	must := storetest.Must(t)
	// The feed is the test's own loopback server, so it is set on the copy.
	feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.feedHits.Add(1)
		io.WriteString(w, osvDoc)
	}))
	t.Cleanup(feedSrv.Close)
	feedURL, _ := url.Parse(feedSrv.URL)
	e.app.Intel.Fetcher = &importer.Fetcher{Client: importer.NewClient(func(netip.Addr) error { return nil }), Allow: []string{feedURL.Hostname()}, AllowHTTP: true,
		Retries: 1, Sleep: func(context.Context, time.Duration) error { return nil }}
	must(e.app.Intel.SetFeed(ctx, &vigil.Feed{Name: "fixture-osv", Source: vigil.SourceOSV, URL: feedSrv.URL + "/GHSA-test-0001-0001.json", Every: 24 * time.Hour, Enabled: true}))
	var o app.ServeOptions
	for _, f := range opt {
		f(&o)
	}
	var err error
	e.web, err = e.app.WebServer(o)
	must(err)
	e.srv = httptest.NewServer(e.web)
	t.Cleanup(e.srv.Close)
	return e
}

// seeds are the fixture's stores, seeded once per engine and secret key (string(key)) and copied for each test.
var seeds sync.Map

// seededFixture is what a copy of the seeded fixture needs besides its store: the ids and the clock's time after
// the seeding.
type seededFixture struct {
	ids fixtureIDs
	at  time.Time
}

// openFixture opens the app and the store on dsn, each closed when the test ends.
func openFixture(t testing.TB, engine, dsn string, clock *storetest.Clock, secretKey []byte) *env {
	t.Helper()
	// The audit key signs the trail and the evidence packages the server hands out.
	a, err := app.Open(context.Background(), dsn, clock, app.WithAuditKey(fixtureKey), app.WithSecretKey(secretKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	db, err := store.Open(context.Background(), dsn, clock, store.WithAuditKey(fixtureKey), store.WithSecretKey(secretKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &env{t: t, engine: engine, app: a, db: db, clock: clock}
}

// seedFixture builds the fixture on the migrated store at dsn, then closes it.
func seedFixture(t testing.TB, engine, dsn string, secretKey []byte) seededFixture {
	t.Helper()
	e := openFixture(t, engine, dsn, storetest.NewClock(time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)), secretKey)
	db := e.db
	ctx := sys()
	must := storetest.Must(t)
	must(db.CreateOrg(ctx, &vigil.Organization{Name: "Fixture Medical", RegistrationNumber: "2950123", TimeZone: "UTC", CVDAckDays: 5,
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 1), Documents: vigil.EvidenceNotes("a", "b", "c", "d")}}}))
	e.filters = []int64{0} // anonymous: none
	for _, r := range roles {
		u := &vigil.User{Name: r, Role: r}
		must(db.CreateUser(ctx, u, password(r)))
		must(db.SetFullName(ctx, r, "Pat "+r+" Fixture")) // the printed name a signature shows
		f := &vigil.SavedFilter{Screen: "cases", Name: "KEV only", Query: "kev=1"}
		must(db.SaveFilter(vigil.WithActor(ctx, vigil.Actor{UserID: u.ID, Name: r, Role: r}), f))
		e.filters = append(e.filters, f.ID)
	}
	must(db.CreateUser(ctx, &vigil.User{Name: "target", Role: vigil.RoleViewer}, password("target")))
	// The screens' tests act unsigned; TestActSignaturesWeb switches the requirements back on (requireSignatures).
	for _, act := range vigil.SignedActs {
		_, err := e.app.Signing.SetRequirement(ctx, act, false, "web tests not about Part 11 signatures")
		must(err)
	}
	for i := range e.targetTokens {
		tok, _, err := db.CreateToken(ctx, "target", "walk", time.Time{})
		must(err)
		e.targetTokens[i] = tok.ID
	}
	d := &vigil.Device{Name: "Infusio IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k, CyberDevice: true,
		Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}, {Name: "event log (PHI)", Severity: vigil.HarmNegligible}}}
	must(db.CreateDevice(ctx, d))
	e.device = d.ID
	for i, ver := range []string{"3.1.0", "3.2.1"} {
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: ver, Status: vigil.VersionMarketed, UnitsFielded: 100 * (i + 1)}
		must(db.CreateVersion(ctx, v))
		if i == 0 {
			e.v1 = v.ID
		} else {
			e.v2 = v.ID
		}
	}
	log4j := vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
	spring := vigil.Component{Name: "spring-beans", Group: "org.springframework", Version: "5.3.17", Purl: "pkg:maven/org.springframework/spring-beans@5.3.17"}
	must(db.SetComponents(ctx, e.v1, []vigil.Component{log4j, spring}, "fixture.cdx.json"))
	must(db.SetComponents(ctx, e.v2, []vigil.Component{spring}, "fixture2.cdx.json"))
	ev := func(fixed string) vigil.Evidence {
		return vigil.Evidence{Matcher: "osv-ecosystem:Maven", Source: "osv", Range: ">=2.0.0, <" + fixed + " (ECOSYSTEM)", Fixed: fixed}
	}
	_, _, err := db.SyncFindings(ctx, e.v1, []vigil.Finding{
		{Component: log4j, Vulnerability: "CVE-2021-44228", Aliases: []string{"GHSA-jfh8-c2jp-5v3q"}, Evidence: ev("2.15.0")},
		{Component: spring, Vulnerability: "CVE-2022-22965", Evidence: ev("5.3.18")},
	})
	must(err)
	_, _, err = db.SyncFindings(ctx, e.v2, []vigil.Finding{{Component: spring, Vulnerability: "CVE-2022-22965", Evidence: ev("5.3.18")}})
	must(err)
	fs, err := db.Findings(ctx, vigil.FindingFilter{})
	must(err)
	for _, f := range fs {
		switch {
		case f.Vulnerability == "CVE-2021-44228":
			e.log4j = f.ID
		case f.VersionID == e.v1:
			e.spring = f.ID
		default:
			e.other = f.ID
		}
	}
	cs := e.app.Cases
	l4j, err := cs.Finding(ctx, e.log4j)
	must(err)
	spr, err := cs.Finding(ctx, e.spring)
	must(err)
	e.log4jCase, e.springCase = l4j.CaseID, spr.CaseID
	_, err = cs.Assess(ctx, cases.AssessInput{CaseID: l4j.CaseID, Date: vigil.NewDate(2025, 6, 2), CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Functions: []string{"dose delivery"},
		Rationale: "Remote code execution on the pump's network service."})
	must(err)
	must(cs.RecordEvent(ctx, &vigil.CaseEvent{CaseID: l4j.CaseID, Type: "customer_notified", Date: vigil.NewDate(2025, 6, 2),
		Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}, Note: "Customer notice CN-2025-014"}))
	e.reports = map[string][2]int64{}
	for _, st := range []vigil.ReportStatus{vigil.ReportReceived, vigil.ReportAcknowledged, vigil.ReportTriaged, vigil.ReportRemediation} {
		var ids [2]int64
		for i := range ids {
			in := &vigil.ReportInput{DeviceID: e.device, Title: "Fixture report " + string(st), Description: "Found while testing."}
			if st == vigil.ReportReceived && i == 0 {
				in.Attachments = []vigil.AttachmentInput{{Name: "poc.txt", ContentType: "text/plain", Data: []byte("curl -X POST http://pump/api/dose\n")}}
			}
			r, _, err := e.app.Intake.Submit(context.Background(), in)
			must(err)
			ids[i] = r.ID
			if len(r.Attachments) > 0 {
				e.attachment = r.Attachments[0].ID
			}
			if st != vigil.ReportReceived {
				must(e.app.Intake.Acknowledge(ctx, r.ID, "Received."))
			}
			if st == vigil.ReportTriaged || st == vigil.ReportRemediation {
				must(e.app.Intake.Triage(ctx, r.ID, []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: e.log4j}}, "Confirmed."))
			}
			if st == vigil.ReportRemediation {
				must(e.app.Intake.Advance(ctx, r.ID, vigil.ReportRemediation, "Fixing."))
			}
		}
		e.reports[string(st)] = ids
	}
	imp, err := e.app.VEX.ImportVEX(ctx, "log4j.openvex.json", strings.NewReader(vexDoc("fixture")), 0)
	must(err)
	if len(imp.Proposals) != 2 {
		t.Fatalf("fixture VEX: %d proposals", len(imp.Proposals))
	}
	e.vexProposals = []int64{imp.Proposals[0].ID, imp.Proposals[1].ID}
	hospital := &vigil.Consignee{Name: "St. Fixture Hospital", Contact: "biomed@fixture.example", Units: []vigil.ConsigneeUnit{{VersionID: e.v1, Units: 40, Lots: []string{"L-1", "L-2"}}}}
	must(db.CreateConsignee(ctx, hospital))
	e.consignee = hospital.ID
	for i := range 1 + len(roles) {
		c := &vigil.Consignee{Name: fmt.Sprintf("Closing Clinic %d", i+1)}
		must(db.CreateConsignee(ctx, c))
		e.deletable = append(e.deletable, c.ID)
	}
	// The device's threat model: an asset, a threat reaching dose delivery through it, a compensating control.
	must(e.app.Threats.CreateAsset(ctx, &vigil.Asset{DeviceID: d.ID, Name: "Dose-programming interface", Kind: vigil.AssetInterface}))
	must(e.app.Threats.CreateThreat(ctx, &vigil.Threat{DeviceID: d.ID, Title: "Unauthenticated dose change", Category: vigil.StrideTampering,
		Assets: []string{"A-1"}, Functions: []string{"dose delivery"}, EntryPoints: []string{"Ethernet"}}))
	must(e.app.Threats.CreateControl(ctx, &vigil.Control{DeviceID: d.ID, Kind: vigil.ControlCompensating, Name: "Network segmentation", Reference: "IFU §7.1", Threats: []string{"T-1"}}))
	must(e.app.Close())
	must(db.Close())
	return seededFixture{ids: e.fixtureIDs, at: e.clock.T}
}

// allowLoopbackWebhooks lets the outbox deliver to the tests' receivers on 127.0.0.1, as an operator's
// --allow-net 127.0.0.0/8 would: by default webhooks reach public addresses only.
func (e *env) allowLoopbackWebhooks() {
	e.app.Outbox.HTTP = notify.WebhookClient(importer.NewClient(importer.AllowNets([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})))
}

// notifyRules adds the rules the role walk tests and removes: a webhook to a loopback receiver that accepts every
// delivery, and e-mail rules to remove. Only the walk needs them: the notifications tests count their own.
func (e *env) notifyRules() {
	e.t.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	e.t.Cleanup(hook.Close)
	e.allowLoopbackWebhooks()
	add := func(r *vigil.NotifyRule) int64 {
		if _, err := e.app.Notifier.AddRule(sys(), r); err != nil {
			e.t.Fatal(err)
		}
		return r.ID
	}
	e.testRule = add(&vigil.NotifyRule{Channel: vigil.ChannelWebhook, Target: hook.URL + "/hook", Events: []vigil.NotifyEvent{vigil.EventKEVHit}})
	e.removable = map[string][]int64{}
	for _, via := range []string{"form", "api"} {
		for i := range 1 + len(roles) {
			e.removable[via] = append(e.removable[via], add(&vigil.NotifyRule{Channel: vigil.ChannelEmail, Target: fmt.Sprintf("%s-%d@fixture.example", via, i), Events: []vigil.NotifyEvent{vigil.EventClockOverdue}}))
		}
	}
}

// openAPICases opens the two cases by hand that the API's case routes act on (apiCase, apiDup) and records
// apiCase's event (apiEvent). Only the role walk needs them: the queue's tests count the fixture's cases.
func (e *env) openAPICases() {
	e.t.Helper()
	ctx := sys()
	for i, id := range []*int64{&e.apiCase, &e.apiDup} {
		c := &vigil.Case{DeviceID: e.device, Vulnerability: fmt.Sprintf("VR-2025-%d", i+1), Provisional: true, Learned: vigil.NewDate(2025, 6, 1), LearnedHow: vigil.LearnedReport}
		if err := e.app.Cases.OpenCase(ctx, c, "Researcher report"); err != nil {
			e.t.Fatal(err)
		}
		*id = c.ID
	}
	ev := &vigil.CaseEvent{CaseID: e.apiCase, Type: "interim_controls", Date: vigil.NewDate(2025, 6, 2), Note: "Segmentation guide SG-7"}
	if err := e.app.Cases.RecordEvent(ctx, ev); err != nil {
		e.t.Fatal(err)
	}
	e.apiEvent = ev.ID
	for _, x := range []struct {
		id       *int64
		vuln     string
		cvss     string
		function string
	}{{&e.reportableCase, "CVE-2025-0001", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "dose delivery"},
		{&e.controlledCase, "CVE-2025-0002", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "event log (PHI)"}} {
		c := &vigil.Case{DeviceID: e.device, Vulnerability: x.vuln, Learned: vigil.NewDate(2025, 6, 1), LearnedHow: vigil.LearnedAdvisory}
		if err := e.app.Cases.OpenCase(ctx, c, "Supplier advisory"); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.app.Cases.Assess(ctx, cases.AssessInput{CaseID: c.ID, Date: vigil.NewDate(2025, 6, 2), CVSS: x.cvss, Functions: []string{x.function}, Rationale: "Fixture."}); err != nil {
			e.t.Fatal(err)
		}
		*x.id = c.ID
	}
}

// communication makes what the notice and advisory routes act on: the CVD policy's base URL (the CSAF
// namespace), a notice case with an addressed consignee, four draft notices on it, a draft advisory, and two fix
// releases of the log4j case. Only the role walk needs them.
func (e *env) communication() {
	e.t.Helper()
	ctx := sys()
	must := storetest.Must(e.t)
	must(e.app.Intake.SetPolicy(ctx, &vigil.CVDPolicy{Languages: []string{"en"}, BaseURL: "https://psirt.fixture.example", Expires: e.clock.Now().AddDate(0, 6, 0)}, "publish"))
	// A version, case and consignee of their own, which the walk's other routes do not close, merge or rewrite.
	v := &vigil.DeviceVersion{DeviceID: e.device, Version: "3.3.0", Status: vigil.VersionMarketed, UnitsFielded: 5}
	must(e.db.CreateVersion(ctx, v))
	zlib := vigil.Component{Name: "zlib", Version: "1.2.11", Purl: "pkg:generic/zlib@1.2.11"}
	must(e.db.SetComponents(ctx, v.ID, []vigil.Component{zlib}, "fixture3.cdx.json"))
	_, _, err := e.db.SyncFindings(ctx, v.ID, []vigil.Finding{{Component: zlib, Vulnerability: "CVE-2018-25032"}})
	must(err)
	fs, err := e.db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
	must(err)
	e.noticeCase = fs[0].CaseID
	_, err = e.app.Cases.Assess(ctx, cases.AssessInput{CaseID: e.noticeCase, Date: vigil.NewDate(2025, 6, 2), CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Functions: []string{"dose delivery"},
		Rationale: "A crafted update image crashes the pump's updater."})
	must(err)
	must(e.db.CreateConsignee(ctx, &vigil.Consignee{Name: "Noticed Clinic", Emails: []string{"biomed@clinic.fixture.example"}, Units: []vigil.ConsigneeUnit{{VersionID: v.ID, Units: 5}}}))
	for i := range e.notices {
		n, err := e.app.Notices.DraftNotice(ctx, []int64{e.noticeCase}, 0)
		must(err)
		e.notices[i] = n.ID
	}
	a, err := e.app.Advisories.DraftAdvisory(ctx, []int64{e.noticeCase}, 0, "")
	must(err)
	e.advisory = a.ID
	for i := range e.fixes {
		r, err := e.app.Remediation.AddFix(ctx, &vigil.FixRelease{CaseID: e.log4jCase, Release: fmt.Sprintf("3.1.%d", i+1)})
		must(err)
		e.fixes[i] = r.Fixes[len(r.Fixes)-1].ID
	}
}

// bulletin is a Health-ISAC bulletin naming the log4j CVE.
const bulletin = `{"type":"bundle","id":"bundle--5d0c8f52-6f1c-4a55-8d7e-2f4b9c1e3a70",
	"objects":[{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0a6f5a3e-8d2c-4c34-9b1e-5f3c2a1d0e9f","created":"2025-06-01T00:00:00.000Z",
	"modified":"2025-06-01T00:00:00.000Z","name":"Log4Shell exploited against infusion systems","external_references":[{"source_name":"cve","external_id":"CVE-2021-44228"}]}]}`

// isaoFixture receives a Health-ISAC bulletin naming the log4j CVE (a signal linked to the log4j case), gives
// Health-ISAC a TAXII server, and sends a customer notice of that case (at the store: the fixture has no mailer),
// for the role walk's ISAO routes.
// rematchFixture adds a device version without components for the role walk's re-matches: re-matching it changes
// nothing the walk's other routes use.
func (e *env) rematchFixture() {
	e.t.Helper()
	d := &vigil.Device{Name: "Walk", Class: "II", Pathway: vigil.Pathway510k}
	if err := e.db.CreateDevice(sys(), d); err != nil {
		e.t.Fatal(err)
	}
	v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "0.1"}
	if err := e.db.CreateVersion(sys(), v); err != nil {
		e.t.Fatal(err)
	}
	e.emptyVersion = v.ID
}

func (e *env) isaoFixture() {
	e.t.Helper()
	ctx := sys()
	must := storetest.Must(e.t)
	in, err := e.app.ISAO.ImportSTIX(ctx, "Health-ISAC", "bulletin.stix.json", strings.NewReader(bulletin))
	must(err)
	if len(in.Linked) != 1 || in.Linked[0] != e.log4jCase {
		e.t.Fatalf("the bulletin touched %v, want the log4j case", in.Linked)
	}
	sigs, err := e.app.ISAO.Signals(ctx, "", e.log4jCase)
	must(err)
	e.signal = sigs[0].ID
	m, err := e.app.ISAO.Membership(ctx, "Health-ISAC", "")
	must(err)
	e.membership, e.isaoDoc = m.ID, m.Documents[0].ID
	// Health-ISAC's TAXII server (the OASIS-conformant test server; its user needs no password, so no secret key).
	e.taxii = taxiiserver.New("fixture", "", map[string]string{"shares": "Member shares"})
	ts := httptest.NewServer(e.taxii.Handler())
	e.t.Cleanup(ts.Close)
	e.app.ISAO.HTTP = ts.Client() // the service's own client dials public addresses only
	taxiiURL, coll, user := ts.URL+"/taxii2/", "shares", "fixture"
	_, err = e.app.ISAO.Set(ctx, isao.SetInput{Name: "Health-ISAC", TAXIIURL: &taxiiURL, Collection: &coll, User: &user, Reason: "the ISAO's TAXII server"})
	must(err)
	v, err := e.app.Cases.CaseView(ctx, e.log4jCase, vigil.Date{})
	must(err)
	e.assessment = v.Assessments[0].ID
	n := &vigil.Notice{Cases: []int64{e.log4jCase}, Subject: "Log4Shell in the Infusio IP-3", Elements: vigil.NoticeElements{A: "a", B: "b", C: "c", D: "d"}}
	must(e.db.CreateNotice(ctx, n))
	_, _, err = e.db.ClaimNoticeSend(ctx, n.ID, []vigil.NoticeRecipient{{ConsigneeID: e.consignee, Consignee: "St. Fixture Hospital", Email: "biomed@fixture.example"}},
		vigil.NewDate(2025, 6, 2), "")
	must(err)
	must(e.db.FinishNoticeSend(ctx, n.ID))
	e.notice = n.ID
}

// token creates an API token for a user.
func (e *env) token(user string) string {
	e.t.Helper()
	_, secret, err := e.db.CreateToken(sys(), user, "test", time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// client is a browser: a cookie jar that never follows redirects (tests look at them).
type client struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
}

func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.srv.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login signs in as name and keeps the session's CSRF token.
func (e *env) login(name, pw string) *client {
	e.t.Helper()
	c := e.anon()
	res, body := c.get("/login")
	m := csrfField.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		e.t.Fatalf("login page: %d", res.StatusCode)
	}
	res, _ = c.postForm("/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d", name, res.StatusCode)
	}
	_, body = c.get("/account")
	m = csrfField.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no CSRF token on the account page of %s", name)
	}
	c.csrf = m[1]
	return c
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

func (c *client) postForm(path string, v url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// api sends a JSON request with the session's CSRF header.
func (c *client) api(method, path string, body any) (*http.Response, string) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.do(req)
}

// bearer sends a JSON request with an API token.
func bearer(t *testing.T, base, token, method, path string, body any) (*http.Response, string) {
	c := &client{t: t, base: base, http: http.DefaultClient}
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// putAdvisories stores advisories in the intelligence store, as an import would.
func putAdvisories(t testing.TB, db *store.DB, advs ...vigil.Advisory) {
	t.Helper()
	_, err := db.ImportIntel(sys(), func(w vigil.IntelWriter) error {
		for i := range advs {
			a := &advs[i]
			raw, _ := json.Marshal(a)
			doc := vigil.NewSourceDoc(a.Source, a.ID, a.ID+".json", raw)
			doc.Records = 1
			ref, err := w.Document(doc)
			if err != nil {
				return err
			}
			p, err := w.Prepare(a)
			if err != nil {
				return err
			}
			if err := w.Advisory(ref, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sbomDoc is a small valid CycloneDX 1.5 SBOM.
const sbomDoc = `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
 {"type":"library","group":"org.apache.logging.log4j","name":"log4j-core","version":"2.17.1","purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"},
 {"type":"library","group":"org.springframework","name":"spring-beans","version":"5.3.17","purl":"pkg:maven/org.springframework/spring-beans@5.3.17"}]}`

// osvDoc is a small OSV advisory.
const osvDoc = `{"schema_version": "1.6.0", "id": "GHSA-test-0001-0001", "modified": "2025-05-01T00:00:00Z", "published": "2025-05-01T00:00:00Z",
 "aliases": ["CVE-2099-1111"], "summary": "Deserialization in org.example:lib",
 "affected": [{"package": {"ecosystem": "Maven", "name": "org.example:lib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}]}`

// vexDoc is an OpenVEX document stating the log4j finding's vulnerability under investigation, then affected, for
// log4j-core 2.14.1; issuer makes each document (and so its hash) distinct.
func vexDoc(issuer string) string {
	return `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/` + issuer + `","author":"` + issuer + `",
"statements":[{"vulnerability":{"name":"CVE-2021-44228"},"products":[{"@id":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],"status":"under_investigation"},
{"vulnerability":{"name":"CVE-2021-44228"},"products":[{"@id":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}],"status":"affected","action_statement":"Upgrade to 2.17.1"}]}`
}
