package regdocs_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/service/accounts"
	"github.com/vigil-dev/vigil/internal/service/esign"
	"github.com/vigil-dev/vigil/internal/service/notices"
	"github.com/vigil-dev/vigil/internal/service/notify"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
	"github.com/vigil-dev/vigil/internal/service/remediation"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is a portfolio with one case of each document, built through the services on a fixed clock:
//   - pump (510(k), cyber device) case "reported": CVE-2026-1001, uncontrolled, no ISAO share by D0+30 so
//     enforcement discretion is lost; correction initiated, the 806 report is due and then filed; a consignee of
//     a new lot arrives after the filing (an 806.10(d) amendment);
//   - pump case "waived": CVE-2026-2002, uncontrolled, all four ED criteria met (806.20 record);
//   - ICD (PMA, anniversary May 1) case "icd": CVE-2026-1001 as well, uncontrolled, remediated through the
//     remediation service (plan, fix release with its V&V, distribution, deployment at the one consignee: every
//     fielded unit updated 9 days after), and case "phi": a confidentiality-only vulnerability, controlled,
//     patched in the period.
type fixture struct {
	db       *store.DB
	clock    *storetest.Clock
	svc      *regdocs.Service
	cases    *cases.Service
	pump     *vigil.Device
	icd      *vigil.Device
	reported int64
	waived   int64
	icdCase  int64
	phi      int64
}

var ctx = storetest.Admin()

const signerPassword = "correct horse battery staple"

func (fx *fixture) at(t *testing.T, day string) {
	t.Helper()
	d, err := vigil.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	fx.clock.T = d.Time().Add(18 * time.Hour) // noon in Chicago
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func setup(t *testing.T, engine string) *fixture {
	t.Helper()
	clock := storetest.NewClock(time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC))
	db := storetest.Open(t, engine, clock)
	cs := &cases.Service{Store: db, Clock: clock}
	rem := &remediation.Service{Store: db, Cases: cs}
	ns := &notices.Service{Store: db, Cases: cs, Outbox: &notify.Outbox{Store: db, Clock: clock}} // queued, never delivered here
	fx := &fixture{db: db, clock: clock, cases: cs, svc: &regdocs.Service{Store: db, Cases: cs, Remediation: rem, Notices: ns,
		Signing: &esign.Service{Store: db, Accounts: &accounts.Service{Store: db}}, Clock: clock}}
	org := &vigil.Organization{Name: "Acme Medical", FEINumber: "3001234567", RegistrationNumber: "2950123", TimeZone: "America/Chicago", CVDAckDays: 5, CVDContact: "mailto:psirt@acme.example",
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 15), Documents: vigil.EvidenceNotes("membership.pdf", "policies.pdf", "shares.log", "SOP-12")}}}
	must(t, "org", db.CreateOrg(ctx, org))
	must(t, "cvd policy", db.SetCVDPolicy(ctx, &vigil.CVDPolicy{Languages: []string{"en"}, BaseURL: "https://psirt.acme.example"}, "publish"))
	must(t, "feed", db.SetFeed(ctx, &vigil.Feed{Name: "cisa-kev", Source: "kev", URL: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json", Every: 6 * time.Hour, Enabled: true}))
	pma := vigil.NewDate(2021, 5, 1)
	fx.pump = &vigil.Device{Name: "Infusio IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k, SubmissionNumber: "K201234", CyberDevice: true,
		IntendedUse: "Controlled infusion of fluids and medications in hospitals", UDIDI: "00812345000016",
		Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}, {Name: "event log", Severity: vigil.HarmNegligible}}}
	fx.icd = &vigil.Device{Name: "ICD-7", Model: "ICD-7", Class: "III", Pathway: vigil.PathwayPMA, SubmissionNumber: "P150012", CyberDevice: true, PMAAnniversary: &pma,
		UDIDI: "00812345000023", Functions: []vigil.ClinicalFunction{{Name: "shock therapy", Severity: vigil.HarmCatastrophic}, {Name: "telemetry", Severity: vigil.HarmMinor}}}
	for _, d := range []*vigil.Device{fx.pump, fx.icd} {
		must(t, "device", db.CreateDevice(ctx, d))
	}
	rel := vigil.NewDate(2024, 9, 16)
	v321 := &vigil.DeviceVersion{DeviceID: fx.pump.ID, Version: "3.2.1", ReleaseDate: &rel, Status: vigil.VersionMarketed, UnitsFielded: 5100}
	v71 := &vigil.DeviceVersion{DeviceID: fx.icd.ID, Version: "7.1", ReleaseDate: &rel, Status: vigil.VersionMarketed, UnitsFielded: 2}
	for _, v := range []*vigil.DeviceVersion{v321, v71} {
		must(t, "version", db.CreateVersion(ctx, v))
	}
	shipped := vigil.NewDate(2024, 10, 2)
	clinic := &vigil.Consignee{Name: "City Clinic", Contact: "it@cityclinic.example", Emails: []string{"it@cityclinic.example"}, Address: "9 Oak Ave, Peoria IL", Units: []vigil.ConsigneeUnit{{VersionID: v321.ID, Units: 3, Lots: []string{"L-2402"}}, {VersionID: v71.ID, Units: 2}}}
	for _, c := range []*vigil.Consignee{
		{Name: "General Hospital", Contact: "biomed@general.example", Emails: []string{"biomed@general.example"}, Address: "1 Main St, Springfield IL", Units: []vigil.ConsigneeUnit{{VersionID: v321.ID, Units: 12, Lots: []string{"L-2401"}, Shipped: &shipped}}},
		clinic,
	} {
		must(t, "consignee", db.CreateConsignee(ctx, c))
	}
	must(t, "signer", db.CreateUser(ctx, &vigil.User{Name: "dana", Role: vigil.RoleAdmin}, signerPassword))
	must(t, "printed name", db.SetFullName(ctx, "dana", "Dana Reyes"))
	must(t, "settings", fx.svc.SetSettings(ctx, 0, regdocs.Settings{Address: "100 Device Way, Chicago IL 60601",
		ResponsiblePerson: &regdocs.Person{Name: "Dana Reyes", Title: "VP Regulatory Affairs", Email: "dana.reyes@acme.example", Phone: "+1 312 555 0100"},
		People:            []regdocs.Person{{Name: "Sam Okafor", Title: "PSIRT lead", Email: "psirt@acme.example"}},
		SecurityTesting:   "Every release: SAST, dependency scanning, fuzzing of network parsers, and an annual third-party penetration test.",
		PatchCycle:        "Quarterly maintenance releases.", UpdateProcess: "Signed update packages installed by field service or the hospital's biomed team.",
		CustomerCommunication: "Security bulletins e-mailed to consignee contacts and posted on the customer portal."}, "documents' settings"))
	must(t, "device settings", fx.svc.SetSettings(ctx, fx.pump.ID, regdocs.Settings{CommonName: "Infusion pump", ListingNumber: "D123456",
		ExpectedLife: "7 years", LastAuthorization: vigil.NewDate(2025, 11, 3), LastSubmission: "K251234"}, "pump's line"))
	must(t, "ICD settings", fx.svc.SetSettings(ctx, fx.icd.ID, regdocs.Settings{PMAApprovedVersion: "7.0"}, "P150012/S038 approved 7.0"))

	finding := func(v *vigil.DeviceVersion, vuln, comp string, learned vigil.Date) int64 {
		f := &vigil.Finding{VersionID: v.ID, Vulnerability: vuln, Component: vigil.Component{Name: comp, Version: "1.0"}, Learned: learned}
		must(t, "finding "+vuln, db.CreateFinding(ctx, f, "coordinated disclosure by a security researcher (VR-7)"))
		return f.CaseID
	}
	assess := func(id int64, in cases.AssessInput) {
		in.CaseID = id
		if in.Rationale == "" {
			in.Rationale = "reached over the hospital network"
		}
		_, err := cs.Assess(ctx, in)
		must(t, "assess", err)
	}
	event := func(id int64, typ, day, note string, d vigil.EventData) {
		date, _ := vigil.ParseDate(day)
		must(t, "event "+typ, cs.RecordEvent(ctx, &vigil.CaseEvent{CaseID: id, Type: typ, Date: date, Note: note, Details: d}))
	}
	const network = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	fx.reported = finding(v321, "CVE-2026-1001", "wolfssl", vigil.NewDate(2026, 1, 5))
	assess(fx.reported, cases.AssessInput{CVSS: network, Functions: []string{"dose delivery"}})
	fx.icdCase = finding(v71, "CVE-2026-1001", "wolfssl", vigil.NewDate(2026, 1, 5))
	assess(fx.icdCase, cases.AssessInput{CVSS: network, Functions: []string{"shock therapy"}})
	fx.at(t, "2026-01-12")
	fx.waived = finding(v321, "CVE-2026-2002", "busybox", vigil.NewDate(2026, 1, 12))
	assess(fx.waived, cases.AssessInput{CVSS: network, Functions: []string{"dose delivery"}})
	fx.phi = finding(v71, "CVE-2026-3003", "sqlite", vigil.NewDate(2026, 1, 12))
	assess(fx.phi, cases.AssessInput{ConfidentialityOnly: true, Rationale: "only the patient list can be read"})
	fx.at(t, "2026-01-20")
	abcd := vigil.EventData{Elements: []string{"a", "b", "c", "d"}}
	n, err := ns.DraftNotice(ctx, []int64{fx.reported}, 0)
	must(t, "draft notice", err)
	n.Subject = "Security bulletin SB-2026-01: Infusio IP-3 and CVE-2026-1001"
	n.Elements = vigil.NoticeElements{A: "A remote attacker could change the infusion rate (CVE-2026-1001).", B: "Acme Medical is preparing release 3.2.2.",
		C: "Isolate pumps on a dedicated VLAN (IFU addendum).", D: "Release 3.2.2 will fix it; you will be told when it is available."}
	must(t, "edit notice", ns.EditNotice(ctx, n, "bulletin text approved"))
	_, err = ns.SendNotice(ctx, n.ID, "", nil)
	must(t, "send notice", err)
	for _, id := range []int64{fx.reported, fx.waived, fx.icdCase} {
		if id != fx.reported { // the pump's notice recorded it when sent
			event(id, "customer_notified", "2026-01-20", "Security bulletin SB-2026-01", abcd)
		}
		if id != fx.icdCase { // the ICD's plan records these through the remediation service
			event(id, "interim_controls", "2026-01-20", "IFU addendum: isolate pumps on a dedicated VLAN", vigil.EventData{})
			event(id, "remediation_plan", "2026-01-20", "Remediation plan RP-14: patch in release 3.2.2", vigil.EventData{})
		}
		event(id, "correction_initiated", "2026-01-20", "Correction CAPA-88 opened", vigil.EventData{})
	}
	_, err = rem.SetPlan(ctx, &vigil.RemediationPlan{CaseID: fx.icdCase, Date: vigil.NewDate(2026, 1, 20), FixRelease: "7.1.1", TargetDate: vigil.NewDate(2026, 2, 28),
		Cycle: vigil.CycleOutOfCycle, Rationale: "telemetry stack rebuilt and revalidated in six weeks",
		Controls: []vigil.CompensatingControl{{What: "telemetry off outside clinic visits", Documented: "Physician letter PL-7", Since: vigil.NewDate(2026, 1, 20)}}})
	must(t, "plan", err)
	for _, id := range []int64{fx.waived, fx.icdCase} {
		event(id, "isao_shared", "2026-01-20", "Health-ISAC share HS-2026-0042", vigil.EventData{})
	}
	fx.at(t, "2026-02-20")
	event(fx.waived, "fix_distributed", "2026-02-20", "Release 3.2.2 (V&V report VV-3.2.2)", vigil.EventData{Validated: true, Remediation: "patch"})
	fix := &vigil.FixRelease{CaseID: fx.icdCase, Release: "7.1.1", Remediation: vigil.RemediationPatch}
	_, err = rem.AddFix(ctx, fix)
	must(t, "fix", err)
	_, err = rem.SetVV(ctx, fix.ID, vigil.VVRecord{Protocol: "VP-7.1.1", Report: "VV-7.1.1", Result: vigil.VVPassed, Approver: "QA lead", Validated: vigil.NewDate(2026, 2, 18)}, "", nil)
	must(t, "vv", err)
	_, err = rem.Distribute(ctx, fix.ID, vigil.Distribution{Date: vigil.NewDate(2026, 2, 20), Channel: "remote update"}, "")
	must(t, "distribute", err)
	event(fx.phi, "fix_distributed", "2026-02-20", "Release 7.1.1 (V&V report VV-7.1.1)", vigil.EventData{Validated: true, Remediation: "patch"})
	fx.at(t, "2026-03-01")
	_, err = rem.AddDeployment(ctx, &vigil.Deployment{CaseID: fx.icdCase, ConsigneeID: clinic.ID, VersionID: v71.ID, Date: vigil.NewDate(2026, 3, 1), Units: 2, Source: vigil.DeploymentReported})
	must(t, "deployment", err)
	fx.at(t, "2026-03-20")
	return fx
}

// TestRegdocs builds one fixture per engine (a PostgreSQL store takes seconds to migrate) and runs the steps on
// it in order: each step leaves the records the next one expects.
func TestRegdocs(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(e, func(t *testing.T) {
			fx := setup(t, e)
			for _, step := range []struct {
				name string
				fn   func(t *testing.T, fx *fixture)
			}{
				{"Documents", documents}, {"PDFText", pdfText}, {"PremarketDecision", premarketDecision}, {"File806", file806},
				{"SignOff80620Stale", signOffStale}, {"ReportNumbersPerYear", reportNumbersPerYear}, {"CriticalRule", criticalRule},
			} {
				if !t.Run(step.name, func(t *testing.T) { step.fn(t, fx) }) {
					return // the later steps rest on this one's records
				}
			}
		})
	}
}

var (
	headRE = regexp.MustCompile(`event \d+, head [0-9a-f]{64}`)
	seqRE  = regexp.MustCompile(`"audit_(seq|head)": ("[0-9a-f]{64}"|\d+)`)
)

// normalize replaces the audit head (which hashes the engine's own row encodings) with a placeholder; the test
// checks it against the store's checkpoint separately.
func normalize(b []byte) []byte {
	b = headRE.ReplaceAll(b, []byte("event N, head HEAD"))
	return seqRE.ReplaceAll(b, []byte(`"audit_$1": "N"`))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got = normalize(got)
	if *update && strings.Contains(t.Name(), "/"+store.SQLite+"/") {
		must(t, "update", os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	must(t, "golden", err)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// documents renders every document of the fixture in Markdown and compares it with its golden file (and the PMA
// report in JSON too), checks that each states the head the trail had when it was generated, and that the
// generation is recorded in the trail with the SHA-256 of the bytes. The ICD's premarket decision and the 806.20
// sign-off are recorded first, so their documents show them.
func documents(t *testing.T, fx *fixture) {
	docs := []struct {
		kind   string
		target regdocs.Target
		file   string
		format string
	}{
		{regdocs.KindPart806, regdocs.Target{CaseID: fx.reported}, "806.golden.md", report.Markdown},
		{regdocs.KindPart806Record, regdocs.Target{CaseID: fx.waived}, "806.20.golden.md", report.Markdown},
		{regdocs.KindPremarket, regdocs.Target{CaseID: fx.icdCase}, "premarket.golden.md", report.Markdown},
		{regdocs.KindPMA, regdocs.Target{DeviceID: fx.icd.ID, Period: 2026}, "pma.golden.md", report.Markdown},
		{regdocs.KindPMA, regdocs.Target{DeviceID: fx.icd.ID, Period: 2026}, "pma.golden.json", report.JSON},
		{regdocs.Kind524B, regdocs.Target{DeviceID: fx.pump.ID}, "524b.golden.md", report.Markdown},
		{regdocs.KindCMP, regdocs.Target{DeviceID: fx.pump.ID}, "cmp.golden.md", report.Markdown},
	}
	_, err := fx.svc.DecidePremarket(ctx, fx.icdCase, regdocs.PremarketDecision{Decision: regdocs.PremarketPMASupplement,
		Basis: "The patch changes the telemetry protocol's authentication, a change affecting safety (814.39(a)).", Submission: "P150012/S042"}, "", nil)
	must(t, "premarket", err)
	so, err := fx.svc.SignOff80620(ctx, fx.waived, "", nil)
	must(t, "sign off", err)
	if so.JustificationSHA256 == "" || !so.Current {
		t.Errorf("sign-off %+v", so)
	}
	_, err = fx.svc.Signing.Sign(ctx, vigil.SignRequest{Kind: regdocs.SignKind, RecordID: so.ID, Meaning: vigil.MeaningApproval, Signer: "dana", Password: signerPassword})
	must(t, "Part 11 signature", err)
	for _, d := range docs {
		cp, err := fx.db.Checkpoint(ctx)
		must(t, "checkpoint", err)
		var buf bytes.Buffer
		doc, err := fx.svc.Render(ctx, d.kind, d.target, d.format, &buf)
		must(t, d.kind, err)
		if doc.AuditSeq != cp.Count || doc.AuditHead != cp.Head {
			t.Errorf("%s: generated from event %d %s, the trail's head was %d %s", d.kind, doc.AuditSeq, doc.AuditHead, cp.Count, cp.Head)
		}
		golden(t, d.file, buf.Bytes())
		evs, err := fx.db.Events(ctx, vigil.AuditFilter{Action: "report.generate", Limit: 1})
		must(t, "events", err)
		var g vigil.DocumentGenerated
		if len(evs) == 1 {
			json.Unmarshal(evs[0].New, &g)
		}
		if g.Kind != d.kind || g.Format != d.format || g.AuditHead != cp.Head || len(g.SHA256) != 64 {
			t.Errorf("%s: the trail's last report.generate records %+v", d.kind, g)
		}
	}
}

// failInserts makes every INSERT into table fail until the function it returns is called.
func failInserts(t *testing.T, db *store.DB, table string) func() {
	t.Helper()
	stmts, undo := []string{"CREATE TRIGGER fail_" + table + " BEFORE INSERT ON " + table + " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"}, []string{"DROP TRIGGER fail_" + table}
	if db.Engine() == store.Postgres {
		stmts = []string{`CREATE OR REPLACE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			"CREATE TRIGGER fail_" + table + " BEFORE INSERT ON " + table + " FOR EACH ROW EXECUTE FUNCTION fail_insert()"}
		undo = []string{"DROP TRIGGER fail_" + table + " ON " + table}
	}
	run := func(stmts []string) {
		for _, q := range stmts {
			if _, err := db.SQL().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(stmts)
	return func() { run(undo) }
}

// file806 marks the reportable case's report filed: it takes the year's next number from the establishment
// registration number, records part806_filed on the case in the same transaction (a failure writing the event
// leaves no record either), so the determination then says filed; it refuses a second
// filing and an amendment with nothing new; a consignee of a new lot of an affected version then makes the
// amendment due, which cites the original number and lists only the new lot.
func file806(t *testing.T, fx *fixture) {
	if _, err := fx.svc.File806(ctx, fx.waived, vigil.Date{}, "", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("filing an 806 report of a waived correction: %v, want ECONFLICT", err)
	}
	if _, err := fx.svc.Build(ctx, regdocs.KindPart806Amendment, regdocs.Target{CaseID: fx.reported}); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("an amendment before any report was filed: %v, want ECONFLICT", err)
	}
	viewer := vigil.WithActor(ctx, vigil.Actor{UserID: 9, Name: "vic", Role: vigil.RoleViewer})
	if _, err := fx.svc.File806(viewer, fx.reported, vigil.Date{}, "", nil); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
		t.Errorf("a viewer files a report: %v, want EFORBIDDEN", err)
	}
	// The record and its part806_filed event are one transaction: a failure writing the event leaves neither (no
	// report number taken, nothing in the trail, the case not filed).
	head := func() vigil.AuditCheckpoint {
		c, err := fx.db.Checkpoint(ctx)
		must(t, "checkpoint", err)
		return c
	}
	before := head()
	restore := failInserts(t, fx.db, "case_events")
	if _, err := fx.svc.File806(ctx, fx.reported, vigil.NewDate(2026, 3, 19), "filed through CDRH eSubmitter", nil); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Errorf("filing with the event's write failing: %v", err)
	}
	restore()
	if rs, err := fx.db.RegRecords(ctx, vigil.RegRecordFilter{Kind: vigil.RegPart806Report, CaseID: fx.reported}); err != nil || len(rs) != 0 {
		t.Errorf("a failed filing left report records %+v (%v)", rs, err)
	}
	if after := head(); after.Count != before.Count || after.Head != before.Head {
		t.Errorf("a failed filing wrote %d audit events", after.Count-before.Count)
	}
	r, err := fx.svc.File806(ctx, fx.reported, vigil.NewDate(2026, 3, 19), "filed through CDRH eSubmitter", nil)
	must(t, "file", err)
	if r.ReportNumber != "2950123-3/19/26-001-C" {
		t.Errorf("report number %q, want 2950123-3/19/26-001-C", r.ReportNumber)
	}
	v, err := fx.cases.CaseView(ctx, fx.reported, vigil.Date{})
	must(t, "view", err)
	if v.Determination.Part806.Status != "filed" {
		t.Errorf("after filing the Part 806 status is %q, want filed", v.Determination.Part806.Status)
	}
	if _, err := fx.svc.File806(ctx, fx.reported, vigil.Date{}, "", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("filing twice: %v, want ECONFLICT", err)
	}
	if _, err := fx.svc.File806Amendment(ctx, fx.reported, vigil.Date{}, "", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("an amendment with no new lot: %v, want ECONFLICT", err)
	}
	doc, err := fx.svc.Build(ctx, regdocs.KindPart806, regdocs.Target{CaseID: fx.reported})
	must(t, "draft", err)
	if d := doc.Data.(*regdocs.Part806Data); d.Provisional || d.ReportNumber != r.ReportNumber || d.Filed == nil {
		t.Errorf("the filed report's draft: provisional %v, number %q", d.Provisional, d.ReportNumber)
	}
	amendments := func() []cases.Deadline {
		t.Helper()
		ds, err := fx.svc.Deadlines(ctx, cases.DeadlineFilter{})
		must(t, "deadlines", err)
		return ds
	}
	if ds := amendments(); len(ds) != 0 {
		t.Errorf("an amendment clock with no new lot: %+v", ds)
	}
	vs, err := fx.db.Versions(ctx, fx.pump.ID)
	must(t, "versions", err)
	must(t, "new consignee", fx.db.CreateConsignee(ctx, &vigil.Consignee{Name: "Lakeside Medical Center", Units: []vigil.ConsigneeUnit{{VersionID: vs[0].ID, Units: 40, Lots: []string{"L-2405"}}}}))
	doc, err = fx.svc.Build(ctx, regdocs.KindPart806Amendment, regdocs.Target{CaseID: fx.reported})
	must(t, "amendment", err)
	d := doc.Data.(*regdocs.Part806Data)
	if want := []regdocs.LotLine{{Version: "3.2.1", Lot: "L-2405", Units: 40, Consignees: 1}}; !cmp.Equal(d.NewLots, want) {
		t.Errorf("amendment's new lots %+v, want %+v", d.NewLots, want)
	}
	if !strings.Contains(doc.Title, r.ReportNumber) {
		t.Errorf("the amendment's title %q does not cite the report %s", doc.Title, r.ReportNumber)
	}
	// The amendment is due 10 working days after the new lot reached its consignee (recorded today, Friday
	// 2026-03-20, the day after the filing): April 3.
	ds := amendments()
	if len(ds) != 1 || ds[0].Clock != regdocs.AmendmentClock || ds[0].CaseID != fx.reported || ds[0].Due != vigil.NewDate(2026, 4, 3) ||
		!strings.Contains(ds[0].What, "3.2.1/L-2405") || !strings.Contains(ds[0].What, r.ReportNumber) || ds[0].Overdue {
		t.Errorf("amendment clocks %+v", ds)
	}
	if ds, err := fx.svc.Deadlines(ctx, cases.DeadlineFilter{OverdueOnly: true}); err != nil || len(ds) != 0 {
		t.Errorf("overdue amendment clocks: %+v %v", ds, err)
	}
	a, err := fx.svc.File806Amendment(ctx, fx.reported, vigil.Date{}, "", nil)
	must(t, "file amendment", err)
	if ds := amendments(); len(ds) != 0 {
		t.Errorf("the amendment filed, its clock still runs: %+v", ds)
	}
	if a.ReportNumber != r.ReportNumber || a.Amends != r.ID {
		t.Errorf("amendment %+v does not cite report %d %s", a, r.ID, r.ReportNumber)
	}
	if _, err := fx.svc.File806Amendment(ctx, fx.reported, vigil.Date{}, "", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("a second amendment with no new lot: %v, want ECONFLICT", err)
	}
}

// reportNumbersPerYear: the sequence runs per year of the report's date (one report of 2026 is filed already).
func reportNumbersPerYear(t *testing.T, fx *fixture) {
	for _, tt := range []struct {
		date vigil.Date
		seq  int
		want string
	}{
		{vigil.NewDate(1997, 2, 4), 1, "1234567-2/4/97-001-C"},
		{vigil.NewDate(2026, 12, 31), 12, "1234567-12/31/26-012-C"},
	} {
		if got := vigil.Part806Number("1234567", tt.date, tt.seq); got != tt.want {
			t.Errorf("Part806Number(%s, %d) = %q, want %q", tt.date, tt.seq, got, tt.want)
		}
	}
	{
		for i, id := range []int64{fx.icdCase, fx.phi} {
			// The ICD's correction is waived; a second filing in the same year needs a reportable one: the record
			// itself is what numbers, so file it directly.
			r := &vigil.RegRecord{Kind: vigil.RegPart806Report, CaseID: id, Date: vigil.NewDate(2026, 3, 1+i), Body: []byte(`{"lots":[]}`)}
			must(t, "record", fx.db.AddRegRecord(ctx, r, ""))
			if want := i + 2; r.ReportSeq != want || r.ReportYear != 2026 {
				t.Errorf("report %d: sequence %d/%d, want %d/2026", i, r.ReportSeq, r.ReportYear, want)
			}
		}
		r := &vigil.RegRecord{Kind: vigil.RegPart806Report, CaseID: fx.phi, Date: vigil.NewDate(2027, 1, 4), Body: []byte(`{}`)}
		fx.at(t, "2027-01-05")
		must(t, "record", fx.db.AddRegRecord(ctx, r, ""))
		if r.ReportNumber != "2950123-1/4/27-001-C" {
			t.Errorf("first report of 2027: %q", r.ReportNumber)
		}
	}
}

// signOffStale: the 806.20 record signed off in documents carries the sign-off of its justification as it stands; a
// reportable correction has no 806.20 record; and a serious adverse event recorded later makes the waived
// correction reportable, so its 806.20 record is refused from then on; a record whose justification changed after
// its sign-off says the sign-off is stale.
func signOffStale(t *testing.T, fx *fixture) {
	if _, err := fx.svc.SignOff80620(ctx, fx.reported, "", nil); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("an 806.20 record of a reportable correction: %v, want ECONFLICT", err)
	}
	doc, err := fx.svc.Build(ctx, regdocs.KindPart806Record, regdocs.Target{CaseID: fx.waived})
	must(t, "record", err)
	r := doc.Data.(*regdocs.Record80620)
	if r.SignOff == nil || !r.SignOff.Current || r.SignOff.JustificationSHA256 != r.JustificationSHA256 {
		t.Fatalf("sign-off %+v of justification %s", r.SignOff, r.JustificationSHA256)
	}
	must(t, "adverse event", fx.cases.RecordEvent(ctx, &vigil.CaseEvent{CaseID: fx.waived, Type: "serious_adverse_event", Date: vigil.NewDate(2026, 3, 20), Note: "complaint C-991"}))
	if _, err := fx.svc.Build(ctx, regdocs.KindPart806Record, regdocs.Target{CaseID: fx.waived}); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("after a serious adverse event the correction is reportable; the 806.20 record: %v, want ECONFLICT", err)
	}
	// The controlled-risk enhancement's record, signed off, then reassessed: the sign-off no longer covers it.
	_, err = fx.svc.SignOff80620(ctx, fx.phi, "", nil)
	must(t, "sign off the enhancement", err)
	_, err = fx.cases.Assess(ctx, cases.AssessInput{CaseID: fx.phi, ConfidentialityOnly: true, Rationale: "the patient list and the clinician names can be read"})
	must(t, "reassess", err)
	doc, err = fx.svc.Build(ctx, regdocs.KindPart806Record, regdocs.Target{CaseID: fx.phi})
	must(t, "record", err)
	if r := doc.Data.(*regdocs.Record80620); r.SignOff == nil || r.SignOff.Current {
		t.Errorf("a sign-off of the justification before the reassessment: %+v, want it stale", r.SignOff)
	}
	var md bytes.Buffer
	must(t, "markdown", doc.Render(&md, report.Markdown))
	if !strings.Contains(md.String(), "STALE") {
		t.Errorf("the record does not say its sign-off is stale:\n%s", md.String())
	}
}

// premarketDecision refuses a decision without a basis or not fitting the pathway, and keeps every decision.
func premarketDecision(t *testing.T, fx *fixture) {
	for _, p := range []regdocs.PremarketDecision{{Decision: "none"}, {Decision: "maybe", Basis: "x"}, {Decision: regdocs.PremarketPMASupplement, Basis: "x"}} {
		if _, err := fx.svc.DecidePremarket(ctx, fx.reported, p, "", nil); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("decision %+v on a 510(k) device: %v, want EINVALID", p, err)
		}
	}
	for _, p := range []regdocs.PremarketDecision{{Decision: regdocs.PremarketNone, Basis: "first look"}, {Decision: regdocs.Premarket510k, Basis: "new cryptographic module changes the cleared design"}} {
		_, err := fx.svc.DecidePremarket(ctx, fx.reported, p, "", nil)
		must(t, "decide", err)
	}
	doc, err := fx.svc.Build(ctx, regdocs.KindPremarket, regdocs.Target{CaseID: fx.reported})
	must(t, "record", err)
	r := doc.Data.(*regdocs.PremarketRecord)
	if r.Decision == nil || r.Decision.Decision != regdocs.Premarket510k || len(r.History) != 2 || !r.Evaluation {
		t.Errorf("premarket record: decision %+v, %d in history, evaluation %v", r.Decision, len(r.History), r.Evaluation)
	}
}

// pdfElements are, per document, the texts its PDF must carry: the elements REGULATORY.md §4, §5 and §7 require,
// the cut-off and the audit head.
var pdfElements = map[string][]string{
	regdocs.KindPart806: {"2950123-3/20/26-001-C", "Dana Reyes", "Responsible person", "Infusio IP-3", "Infusion pump", "Controlled infusion of fluids",
		"K201234", "D123456", "00812345000016", "CVE-2026-1001", "Correction CAPA-88 opened", "No illness, injury", "No MDR report", "L-2401", "L-2402",
		"5100", "2024-09-16", "7 years", "General Hospital", "City Clinic", "Security bulletin SB-2026-01", "not yet available", "Data cut-off", "head ",
		"A remote attacker could change the infusion rate", "biomed@general.example", "(d) a fix is coming", "2024-10-02", "The shipment date of the affected units at City Clinic (3.2.1)"},
	regdocs.KindPart806Record: {"806.20", "waived", "Criterion", "Health-ISAC share HS-2026-0042", "Release 3.2.2", "Justification", "Signed off",
		"Electronically signed by Dana Reyes (dana)", "for approval", "Data cut-off"},
	regdocs.KindPremarket: {"PMA supplement", "814.39", "P150012/S042", "telemetry protocol", "Data cut-off"},
	regdocs.KindPMA: {"1. Vulnerability and how it was learned", "2. Risk assessment", "3. The change compared", "4. Rationale", "5. Other submissions",
		"6. Related events", "7. UDI", "8. CISA", "9. Customer notifications", "10. ISAO", "11. Other submissions", "CVE-2026-3003", "CVE-2026-1001",
		"Identification to patch", "Vulnerabilities patched", "42.5 days", "Patch to field", "CVE-2026-1001 9 days", "release 7.1.1", "Against the PMA-approved version 7.0", "Data cut-off"},
	regdocs.Kind524B: {"Statement 1", "Statement 2", "CVE-2026-1001", "CVE-2026-2002", "2025-11-03", "Release 3.2.2", "Data cut-off"},
	regdocs.KindCMP: {"People", "Sam Okafor", "Sources and frequency", "cisa-kev", "every 6h", "KEV", "Security testing", "fuzzing", "Patch timeline",
		"Quarterly", "Update process", "Patching rate", "Coordinated vulnerability disclosure", "psirt@acme.example", "5 working days",
		"Customer communication", "Data cut-off"},
}

// pdfText renders every document as a PDF and reads it back with pdftotext (poppler-utils): every required
// element is in the text. Without pdftotext the test fails under CI=1 and is skipped otherwise.
func pdfText(t *testing.T, fx *fixture) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing: apt-get install poppler-utils (.ci/run installs it)")
		}
		t.Skip("pdftotext is missing: apt-get install poppler-utils")
	}
	{
		targets := map[string]regdocs.Target{
			regdocs.KindPart806: {CaseID: fx.reported}, regdocs.KindPart806Record: {CaseID: fx.waived}, regdocs.KindPremarket: {CaseID: fx.icdCase},
			regdocs.KindPMA: {DeviceID: fx.icd.ID, Period: 2026}, regdocs.Kind524B: {DeviceID: fx.pump.ID}, regdocs.KindCMP: {DeviceID: fx.pump.ID},
		}
		dir := t.TempDir()
		if keep := os.Getenv("VIGIL_KEEP_PDF"); keep != "" && strings.Contains(t.Name(), store.SQLite) {
			dir = keep // to look at them: VIGIL_KEEP_PDF=/tmp/pdf go test -run TestPDFText, then pdftoppm -png
		}
		for kind, want := range pdfElements {
			var buf bytes.Buffer
			doc, err := fx.svc.Render(ctx, kind, targets[kind], report.PDF, &buf)
			must(t, kind, err)
			path := filepath.Join(dir, kind+".pdf")
			must(t, "write", os.WriteFile(path, buf.Bytes(), 0o644))
			out, err := exec.Command("pdftotext", path, "-").Output()
			must(t, "pdftotext "+kind, err)
			// Table cells wrap: compare with the whitespace folded.
			text := strings.Join(strings.Fields(string(out)), " ")
			for _, w := range append(want, doc.AuditHead[:16]) {
				if !strings.Contains(text, w) {
					t.Errorf("%s PDF lacks %q", kind, w)
				}
			}
		}
	}
}

// criticalRule: the organization's 524B critical rule decides which open uncontrolled risks statement 1 lists as
// critical, and the statement says the rule; a rule naming an unknown severity, or no condition, is refused.
func criticalRule(t *testing.T, fx *fixture) {
	st, err := fx.svc.Settings(ctx, 0)
	must(t, "settings", err)
	for _, bad := range []struct {
		rule regdocs.CriticalRule
		want string
	}{
		{regdocs.CriticalRule{Severities: []string{"fatal"}}, "critical_rule.severities[0]"},
		{regdocs.CriticalRule{}, "critical_rule: no condition"},
		{regdocs.CriticalRule{MinCVSS: 11}, "critical_rule.min_cvss"},
	} {
		st.Critical = &bad.rule
		if err := fx.svc.SetSettings(ctx, 0, st, "rule"); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("rule %+v: %v, want EINVALID naming %s", bad.rule, err, bad.want)
		}
	}
	statements := func() *regdocs.Statements524B {
		doc, err := fx.svc.Build(ctx, regdocs.Kind524B, regdocs.Target{DeviceID: fx.pump.ID})
		must(t, "524b", err)
		return doc.Data.(*regdocs.Statements524B)
	}
	if s := statements(); len(s.CriticalOpen) != 1 || s.CriticalOpen[0].Vulnerability != "CVE-2026-1001" || s.CriticalOpen[0].CVSS == 0 {
		t.Fatalf("the default rule: critical %+v", s.CriticalOpen)
	}
	// The pump's open case is catastrophic but not KEV-listed, and scores below 10: a rule of KEV or a perfect
	// score makes it not critical.
	st.Critical = &regdocs.CriticalRule{KEV: true, MinCVSS: 10, Basis: "SOP-PSIRT-12 §4"}
	must(t, "set the rule", fx.svc.SetSettings(ctx, 0, st, "PSIRT SOP revised"))
	s := statements()
	if len(s.CriticalOpen) != 0 || len(s.OtherOpen) != 1 || s.OtherOpen[0].Vulnerability != "CVE-2026-1001" {
		t.Errorf("under KEV or CVSS 10: critical %+v, other %+v", s.CriticalOpen, s.OtherOpen)
	}
	var buf bytes.Buffer
	_, err = fx.svc.Render(ctx, regdocs.Kind524B, regdocs.Target{DeviceID: fx.pump.ID}, report.Markdown, &buf)
	must(t, "render", err)
	for _, want := range []string{"no critical vulnerability that could cause an uncontrolled risk", "the vulnerability is in CISA's KEV catalog (exploited in the wild), or its CVSS base score is 10.0 or more",
		"Basis: SOP-PSIRT-12 §4", "Rule in force: the organization's", "Other uncontrolled risks open"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the statements lack %q:\n%s", want, buf.String())
		}
	}
}
