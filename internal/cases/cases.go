// Package cases runs a case (one vulnerability on one device, across every affected version) through the FDA flow:
// assessment (exploitability from the assessed CVSS vector, KEV and EPSS; severity of patient harm from the clinical functions the vulnerability reaches, directly or through the
// threats of the device's threat model it names; the device's acceptance matrix; the controls in place), the dated
// regulatory events, the live determination with every clock, and the per-vulnerability summary that traces it all
// to the records. It owns no storage: it reads and writes through the root service interfaces, and the
// determination itself is internal/regulatory's pure function, so the command line, the API and the screens all
// show the same answer.
package cases

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Store is what the service needs from storage.
type Store interface {
	vigil.FindingService
	vigil.CaseService
	vigil.ThreatModelService
	Device(ctx context.Context, id int64) (*vigil.Device, error)
	Version(ctx context.Context, id int64) (*vigil.DeviceVersion, error)
	Orgs(ctx context.Context) ([]*vigil.Organization, error)
	// ActRecords are the records of the signed acts on a case (a closure, a fix validated, a notice released).
	ActRecords(ctx context.Context, f vigil.ActRecordFilter) ([]*vigil.ActRecord, error)
	// SetCasesState moves several cases to one state in one transaction.
	SetCasesState(ctx context.Context, ids []int64, state vigil.CaseState, reason string) error
}

// Service is the case workflow.
type Service struct {
	Store Store
	Intel vigil.VulnService // optional: KEV and EPSS signals
	Clock vigil.Clock
	// Signing gates the acts that need a Part 11 signature (the determination, the closure); nil only in tests
	// that are not about signing (vigil.GateAct).
	Signing vigil.ActSigner
}

// View is everything known about one case, with its live determination. Assessments and Events are the records
// that stand (the determination's input, in its order); Withdrawn are the retracted ones, kept and shown struck
// through. Finding and Version are set when the view was asked for through one of the case's findings.
type View struct {
	Case        *vigil.Case          `json:"case"`
	Device      *vigil.Device        `json:"device"`
	Versions    []VersionStatus      `json:"versions"`
	Finding     *vigil.Finding       `json:"finding,omitempty"`
	Version     *vigil.DeviceVersion `json:"version,omitempty"`
	Assessments []*vigil.Assessment  `json:"assessments"`
	Events      []*vigil.CaseEvent   `json:"events"`
	Withdrawn   []Withdrawn          `json:"withdrawn"`
	// VEX is the standing VEX status of each version that has one (the newest record per version), by version.
	VEX []*vigil.VersionVEX `json:"vex"`
	// Disclosures are the records of the case's disclosure coordination, oldest first: the last stands.
	Disclosures []*vigil.CaseDisclosure `json:"disclosures"`
	// Acts are the records of the signed acts on the case whose object changes later (its closure, a fix's
	// validation, a notice's release), oldest first: each is what its Part 11 signature signs.
	Acts  []*vigil.ActRecord `json:"acts"`
	KEV   *vigil.KEVEntry    `json:"kev,omitempty"`
	EPSS  *vigil.EPSSScore   `json:"epss,omitempty"`
	AsOf  vigil.Date         `json:"as_of"`
	Facts *regulatory.Facts  `json:"facts,omitempty"`
	// Determination is the live determination. Before the first assessment it is provisional (Provisional): made
	// as if the risk were uncontrolled, the worst case, so that the clocks that may be running are known.
	Determination *regulatory.Determination `json:"determination"`
	Provisional   bool                      `json:"provisional,omitempty"`
	// Problem explains a determination that could not be made from the recorded facts.
	Problem string `json:"problem,omitempty"`
}

// Out is a case as `vigil case show --format json` prints it and GET /api/v1/cases/{id} answers: the case, its
// versions (each with its VEX status), its state and owner, exactly the Determination API's determination
// (DETERMINATION.md), so a scenario replayed through the workflow compares with `vigil determine`, the open clocks,
// and the records: those that stand and those withdrawn.
type Out struct {
	ID            int64                     `json:"id"`
	Device        string                    `json:"device"`
	DeviceID      int64                     `json:"device_id"`
	Vulnerability string                    `json:"vulnerability"`
	Aliases       []string                  `json:"aliases"`
	Learned       vigil.Date                `json:"learned"`
	LearnedHow    string                    `json:"learned_how"`
	Versions      []VersionStatus           `json:"versions"`
	VEX           []*vigil.VersionVEX       `json:"vex"`
	Disclosures   []*vigil.CaseDisclosure   `json:"disclosures"`
	Acts          []*vigil.ActRecord        `json:"acts"`
	State         vigil.CaseState           `json:"state"`
	Owner         string                    `json:"owner,omitempty"`
	AsOf          vigil.Date                `json:"as_of"`
	Provisional   bool                      `json:"provisional,omitempty"`
	Determination *regulatory.Determination `json:"determination"`
	Clocks        []Deadline                `json:"clocks"`
	Problem       string                    `json:"problem,omitempty"`
	Assessments   []*vigil.Assessment       `json:"assessments"`
	Events        []*vigil.CaseEvent        `json:"events"`
	Withdrawn     []Withdrawn               `json:"withdrawn"`
}

// NewOut shapes a case view as `case show` prints it in JSON (and the API answers).
func NewOut(v *View) Out {
	out := Out{ID: v.Case.ID, Device: v.Device.Name, DeviceID: v.Device.ID, Vulnerability: v.Case.Vulnerability, Aliases: v.Case.Aliases,
		Learned: v.Case.Learned, LearnedHow: v.Case.LearnedHow, Versions: v.Versions, VEX: v.VEX, Disclosures: v.Disclosures, Acts: v.Acts, State: v.Case.State, Owner: v.Case.Owner,
		AsOf: v.AsOf, Provisional: v.Provisional, Determination: v.Determination, Clocks: Clocks(v), Problem: v.Problem,
		Assessments: v.Assessments, Events: v.Events, Withdrawn: v.Withdrawn}
	if out.Clocks == nil {
		out.Clocks = []Deadline{}
	}
	return out
}

// VersionStatus is one affected version of a case's device: the finding that is its evidence and where it stands.
type VersionStatus struct {
	FindingID int64           `json:"finding_id"`
	VersionID int64           `json:"version_id"`
	Version   string          `json:"version"`
	Component vigil.Component `json:"component"`
	// Status: affected (open), under_investigation (could not be evaluated), fixed (no longer matches; FixedIn
	// names the fixed version when known), closed (a person closed the finding).
	Status  string `json:"status"`
	FixedIn string `json:"fixed_in,omitempty"`
	// VEX is the version's standing VEX status on the case, as a person decided it (nil: none recorded).
	VEX *vigil.VersionVEX `json:"vex,omitempty"`
}

// Withdrawn is a retracted record with its retraction.
type Withdrawn struct {
	Retraction *vigil.Retraction `json:"retraction"`
	Assessment *vigil.Assessment `json:"assessment,omitempty"`
	Event      *vigil.CaseEvent  `json:"event,omitempty"`
}

func (s *Service) org(ctx context.Context) (*vigil.Organization, *time.Location) {
	orgs, err := vigil.Memo(ctx, orgMemo{s}, func() ([]*vigil.Organization, error) { return s.Store.Orgs(ctx) })
	if err != nil || len(orgs) == 0 {
		return nil, time.UTC
	}
	return orgs[0], location(orgs[0].TimeZone)
}

// orgMemo is per service: the screens' service reads the organization through a cache whose refresh reads it
// through another service, within the same request.
type orgMemo struct{ s *Service }

// locations caches time zones by name: time.LoadLocation reads and parses the zoneinfo file on every call, and
// every view asks for the organization's zone.
var locations sync.Map

func location(name string) *time.Location {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC // validated when the organization was saved; UTC rather than no answer
	}
	locations.Store(name, l)
	return l
}

// Today is the current date in the organization's time zone: regulatory days are counted there.
func (s *Service) Today(ctx context.Context) vigil.Date {
	return vigil.DateOf(s.Clock.Now(), s.Zone(ctx))
}

// Zone is the organization's time zone (UTC without an organization).
func (s *Service) Zone(ctx context.Context) *time.Location {
	_, loc := s.org(ctx)
	return loc
}

// CaseView loads a case and determines it as of today (or asOf when not zero). A case merged into another is
// shown as that one. Needs PermRead.
func (s *Service) CaseView(ctx context.Context, id int64, asOf vigil.Date) (*View, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	c, err := s.Store.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.MergedInto != 0 {
		if c, err = s.Store.Case(ctx, c.MergedInto); err != nil {
			return nil, err
		}
	}
	v := &View{Case: c, Versions: []VersionStatus{}, Withdrawn: []Withdrawn{}}
	if v.Device, err = s.Store.Device(ctx, c.DeviceID); err != nil {
		return nil, err
	}
	fs, err := s.Store.Findings(ctx, vigil.FindingFilter{CaseID: c.ID})
	if err != nil {
		return nil, err
	}
	for i := len(fs) - 1; i >= 0; i-- { // oldest first
		f := fs[i]
		vs := VersionStatus{FindingID: f.ID, VersionID: f.VersionID, Component: f.Component, Status: versionStatus(f.State), FixedIn: f.Evidence.Fixed}
		if ver, err := s.Store.Version(ctx, f.VersionID); err == nil {
			vs.Version = ver.Version
		}
		v.Versions = append(v.Versions, vs)
	}
	as, err := s.Store.Assessments(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	es, err := s.Store.CaseEvents(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	rs, err := s.Store.Retractions(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	v.separate(as, es, rs)
	vx, err := s.Store.VersionVEX(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	v.standVEX(vx)
	if v.Disclosures, err = s.Store.CaseDisclosures(ctx, c.ID); err != nil {
		return nil, err
	}
	if v.Acts, err = s.Store.ActRecords(ctx, vigil.ActRecordFilter{CaseID: c.ID}); err != nil {
		return nil, err
	}
	v.KEV, v.EPSS = s.signals(ctx, c)
	org, loc := s.org(ctx)
	v.AsOf = asOf
	if v.AsOf.IsZero() {
		v.AsOf = vigil.DateOf(s.Clock.Now(), loc)
	}
	s.determine(v, org)
	return v, nil
}

// separate splits a case's records into those that stand and those withdrawn.
func (v *View) separate(as []*vigil.Assessment, es []*vigil.CaseEvent, rs []*vigil.Retraction) {
	by := map[vigil.RecordRef]*vigil.Retraction{}
	for _, r := range rs {
		by[r.Record] = r
	}
	v.Assessments, v.Events = []*vigil.Assessment{}, []*vigil.CaseEvent{}
	for _, a := range as {
		if r := by[vigil.RecordRef{Kind: vigil.RecordAssessment, ID: a.ID}]; r != nil {
			v.Withdrawn = append(v.Withdrawn, Withdrawn{Retraction: r, Assessment: a})
		} else {
			v.Assessments = append(v.Assessments, a)
		}
	}
	for _, e := range es {
		if r := by[vigil.RecordRef{Kind: vigil.RecordEvent, ID: e.ID}]; r != nil {
			v.Withdrawn = append(v.Withdrawn, Withdrawn{Retraction: r, Event: e})
		} else {
			v.Events = append(v.Events, e)
		}
	}
}

// standVEX keeps the newest VEX record of each version and puts it on the version's rows.
func (v *View) standVEX(records []*vigil.VersionVEX) {
	by := map[int64]*vigil.VersionVEX{}
	for _, x := range records {
		by[x.VersionID] = x
	}
	v.VEX = []*vigil.VersionVEX{}
	for _, x := range by {
		v.VEX = append(v.VEX, x)
	}
	slices.SortFunc(v.VEX, func(a, b *vigil.VersionVEX) int { return cmp.Compare(a.VersionID, b.VersionID) })
	for i := range v.Versions {
		v.Versions[i].VEX = by[v.Versions[i].VersionID]
	}
}

func versionStatus(s vigil.FindingState) string {
	switch s {
	case vigil.FindingCouldNotEval:
		return "under_investigation"
	case vigil.FindingResolved:
		return "fixed"
	case vigil.FindingClosed:
		return "closed"
	}
	return "affected"
}

// FindingView is the view of a finding's case, with the finding and its version as the evidence asked about.
// Needs PermRead.
func (s *Service) FindingView(ctx context.Context, findingID int64, asOf vigil.Date) (*View, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	f, err := s.Store.Finding(ctx, findingID)
	if err != nil {
		return nil, err
	}
	v, err := s.CaseView(ctx, f.CaseID, asOf)
	if err != nil {
		return nil, err
	}
	v.Finding = f
	if v.Version, err = s.Store.Version(ctx, f.VersionID); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Service) signals(ctx context.Context, c *vigil.Case) (*vigil.KEVEntry, *vigil.EPSSScore) {
	if s.Intel == nil {
		return nil, nil
	}
	for _, id := range c.IDs() {
		if vu, err := s.Intel.Vuln(ctx, id); err == nil {
			return vu.KEV, vu.EPSS
		}
	}
	return nil, nil
}

func (s *Service) record(v *View, org *vigil.Organization) regulatory.Record {
	r := regulatory.Record{AsOf: v.AsOf, Org: org, Device: v.Device, Case: v.Case, KEV: v.KEV != nil,
		Assessments: v.Assessments, Events: v.Events}
	if v.EPSS != nil {
		e := v.EPSS.Score
		r.EPSS = &e
	}
	return r
}

// provisionalRisk is the risk an unassessed case is determined with: the worst case, whose clocks run from D0.
var provisionalRisk = vigil.RiskUncontrolled

func (s *Service) determine(v *View, org *vigil.Organization) {
	facts, assessed := regulatory.FromRecord(s.record(v, org))
	v.Facts = &facts
	if !assessed {
		v.Provisional = true
		facts.Vulnerability.Risk = provisionalRisk
	}
	decide(v)
}

// At returns v determined as of asOf instead, from the same records: the clocks as they stand (or stood) that day.
// v is not changed.
func At(v *View, asOf vigil.Date) *View {
	w := *v
	w.AsOf = asOf
	if v.Facts == nil {
		return &w
	}
	facts := *v.Facts
	facts.AsOf = asOf
	w.Facts, w.Determination, w.Problem = &facts, nil, ""
	decide(&w)
	return &w
}

// decide runs the determination over v's facts.
func decide(v *View) {
	d, err := regulatory.Determine(*v.Facts)
	if err != nil {
		v.Problem = vigil.ErrorMessage(err)
		return
	}
	if v.Provisional {
		d.Rationale = append([]string{fmt.Sprintf("Provisional: the case is not assessed yet, so it is determined as if the risk were uncontrolled (the worst case); assess it before %s (D0 + 30 days).", assessBefore(v.Case))}, d.Rationale...)
	}
	v.Determination = &d
}

// AssessBefore is the day the case must be assessed by, shown while it is not (Provisional).
func (v *View) AssessBefore() vigil.Date { return assessBefore(v.Case) }

// assessBefore is the day an unassessed case must be assessed by: D0 + 30, the ED communication date should the
// risk be uncontrolled.
func assessBefore(c *vigil.Case) vigil.Date { return c.Learned.AddDays(30) }

// AssessInput is what an assessor gives. A re-assessment is a full assessment with its own date.
type AssessInput struct {
	CaseID int64 `json:"case_id"`
	// Date is the day the assessment was made (default today): a re-assessment made last Tuesday is dated then.
	Date vigil.Date `json:"date,omitzero"`
	// Risk, when given, is the determination the assessor records instead of the matrix's (an assessment made
	// elsewhere, a worked example); RiskReason must say why. The inputs given are recorded with it.
	Risk       vigil.Risk `json:"risk,omitempty"`
	RiskReason string     `json:"risk_reason,omitempty"`
	// CVSS is the assessed vector; Rubric answers, when given, produce it instead (and are kept as its reason).
	CVSS   string             `json:"cvss,omitempty"`
	Rubric risk.RubricAnswers `json:"rubric,omitempty"`
	// Exploitability overrides the derived level; ExploitabilityReason must say why.
	Exploitability       vigil.Exploitability `json:"exploitability,omitempty"`
	ExploitabilityReason string               `json:"exploitability_reason,omitempty"`
	// Threats are refs of threats in the device's threat model that the vulnerability realizes ("T-1"). They are
	// recorded with the assessment, and the functions reached default to the clinical functions they reach.
	Threats []string `json:"threats,omitempty"`
	// Functions are the device's clinical functions the vulnerability can reach; the severity is the worst of
	// theirs unless Severity overrides it with SeverityReason.
	Functions      []string `json:"functions,omitempty"`
	Severity       string   `json:"severity,omitempty"`
	SeverityReason string   `json:"severity_reason,omitempty"`
	// Controls are the mitigations and compensating controls in place: a ref of the device's threat model ("M-1",
	// "CC-2"; one word, it must exist) or a free-text description (more than one word).
	Controls            []string        `json:"controls,omitempty"`
	ConfidentialityOnly bool            `json:"confidentiality_only,omitempty"`
	VEXStatus           vigil.VEXStatus `json:"vex_status,omitempty"`
	Interim             bool            `json:"interim,omitempty"`
	SSVC                *risk.SSVCInput `json:"ssvc,omitempty"`
	Rationale           string          `json:"rationale"`
	// Signals are ISAO signals (intelligence received) the assessment considered: cited with it, the trace G2016
	// §IX item 4 asks for.
	Signals []int64 `json:"signals,omitempty"`
	// Signature is the assessor's Part 11 signature of the determination (meaning, user name, password), required
	// unless the organization switched it off (vigil.ActDetermination).
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

// Matrix returns the acceptance matrix in force for a device: its own when it has one, else the organization's
// policy matrix (the default of REGULATORY.md §2 unless the organization set one). It is EINVALID when a stored
// matrix does not read.
func Matrix(org *vigil.Organization, d *vigil.Device) (risk.Matrix, error) {
	m, err := risk.DecodeMatrix(d.AcceptanceMatrix, "device.acceptance_matrix")
	switch {
	case err != nil:
		return risk.Matrix{}, err
	case !m.IsZero():
		return m, nil
	}
	pol, err := regulatory.OrgPolicy(org)
	return pol.Matrix, err
}

// Assess derives exploitability, severity and risk from in, and records the assessment with the threats it names.
// The result's Rationale starts with what decided the risk (threats, functions, exploitability, matrix, controls),
// then the assessor's words.
func (s *Service) Assess(ctx context.Context, in AssessInput) (*vigil.Assessment, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Rationale) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "rationale: required: say why, in the assessor's words")
	}
	v, err := s.CaseView(ctx, in.CaseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	a := &vigil.Assessment{CaseID: v.Case.ID, Date: in.Date, CVSS: in.CVSS, ConfidentialityOnly: in.ConfidentialityOnly,
		VEXStatus: in.VEXStatus, Interim: in.Interim, Signals: in.Signals}
	if a.Date.IsZero() {
		a.Date = v.AsOf
	}
	if a.Date.Before(v.Case.Learned) {
		return nil, vigil.Errorf(vigil.EINVALID, "date: %s is before the vulnerability was learned (%s)", a.Date, v.Case.Learned)
	}
	if in.Risk != "" {
		if err := in.Risk.Validate(); err != nil {
			return nil, err
		}
		if strings.TrimSpace(in.RiskReason) == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "risk_reason: required when the risk is given: say what decided it")
		}
	}
	var why []string
	if len(in.Rubric) > 0 {
		ra, err := in.Rubric.Assess()
		if err != nil {
			return nil, err
		}
		a.CVSS, a.Rubric = ra.Vector, in.Rubric
		why = append(why, fmt.Sprintf("Medical-device rubric gives %s (base %.1f).", ra.Vector, ra.BaseScore))
	}
	if a.CVSS != "" {
		if _, err := risk.ParseCVSS(a.CVSS); err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "cvss: %s", vigil.ErrorMessage(err))
		}
	}
	var tm *vigil.ThreatModel
	if len(in.Threats) > 0 || len(in.Controls) > 0 {
		if tm, err = s.Store.ThreatModel(ctx, v.Device.ID); err != nil {
			return nil, err
		}
	}
	threats, functions, threatWhy, err := traceThreats(v.Device, tm, in.Threats, in.Functions)
	if err != nil {
		return nil, err
	}
	why = append(why, threatWhy...)
	a.Functions = functions
	// Severity of patient harm: the worst of the functions reached.
	sev := ""
	for i, name := range functions {
		j := slices.IndexFunc(v.Device.Functions, func(f vigil.ClinicalFunction) bool { return strings.EqualFold(f.Name, name) })
		if j < 0 {
			var names []string
			for _, f := range v.Device.Functions {
				names = append(names, f.Name)
			}
			return nil, vigil.Errorf(vigil.EINVALID, "functions[%d]: %q is not a clinical function of %s (%s)", i, name, v.Device.Name, strings.Join(names, ", "))
		}
		a.Functions[i] = v.Device.Functions[j].Name
		if fs := v.Device.Functions[j].Severity; harmRank(fs) > harmRank(sev) {
			sev = fs
		}
	}
	switch {
	case in.Severity != "" && in.Severity != sev:
		if err := vigil.OneOf("severity", in.Severity, vigil.HarmSeverities); err != nil {
			return nil, err
		}
		if strings.TrimSpace(in.SeverityReason) == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "severity_reason: required when the severity (%s) differs from the functions reached (%s)", in.Severity, orNone(sev))
		}
		a.Severity, a.SeverityReason = in.Severity, in.SeverityReason
		why = append(why, fmt.Sprintf("Severity of patient harm set to %s: %s.", a.Severity, in.SeverityReason))
	case sev != "":
		a.Severity = sev
		why = append(why, fmt.Sprintf("Severity of patient harm %s: the worst of the functions reached (%s).", sev, strings.Join(a.Functions, ", ")))
	}
	// Exploitability: override, KEV, or the assessed vector.
	ein := risk.ExploitInput{CVSS: a.CVSS, KEV: v.KEV != nil, EPSS: v.EPSS}
	if in.Exploitability != "" {
		if err := in.Exploitability.Validate(); err != nil {
			return nil, err
		}
		ein.Override, ein.OverrideReason = in.Exploitability, in.ExploitabilityReason
	}
	needMatrix := !in.ConfidentialityOnly && in.VEXStatus != vigil.VEXNotAffected && in.Risk == ""
	if lvl, reason, err := risk.Exploitability(ein); err == nil {
		a.Exploitability = lvl
		if ein.Override != "" {
			a.ExploitabilityReason = in.ExploitabilityReason
		}
		why = append(why, "Exploitability "+reason+".")
	} else if needMatrix {
		return nil, err
	}
	// The binary determination, with the device's acceptance matrix.
	org, _ := s.org(ctx)
	m, err := Matrix(org, v.Device)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Risk != "":
		a.Risk = in.Risk
		why = append(why, fmt.Sprintf("Risk recorded as %s by the assessor: %s.", a.Risk, strings.TrimSuffix(strings.TrimSpace(in.RiskReason), ".")))
	case in.VEXStatus == vigil.VEXNotAffected:
		a.Risk = vigil.RiskControlled
		why = append(why, "VEX status not_affected: the vulnerable code is not reachable in this device, so the risk is controlled.")
	case in.ConfidentialityOnly:
		a.Risk = vigil.RiskControlled
		why = append(why, "Only confidentiality (PHI) is at stake, which is not patient harm (G2016 §IV.F): controlled.")
	default:
		if a.Severity == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "functions: name the clinical functions the vulnerability can reach, or threats of the device's threat model that reach them (or give severity with a reason)")
		}
		d, err := m.Determine(a.Exploitability, a.Severity)
		if err != nil {
			return nil, err
		}
		a.Risk, a.Matrix = d.Risk, d.Matrix
		why = append(why, fmt.Sprintf("Acceptance matrix %s: %s exploitability × %s severity → %s.", d.Matrix, a.Exploitability, a.Severity, a.Risk))
	}
	controls, controlWhy, err := traceControls(v.Device, tm, in.Controls, threats)
	if err != nil {
		return nil, err
	}
	a.Controls = controls
	why = append(why, controlWhy...)
	if in.SSVC != nil {
		d, err := risk.SSVC(*in.SSVC)
		if err != nil {
			return nil, err
		}
		a.SSVC = d.Priority + " (" + d.Cycle + " cycle)"
	}
	a.Rationale = strings.Join(append(why, in.Rationale), " ")
	sctx, err := vigil.GateAct(ctx, s.Signing, vigil.ActDetermination, in.Signature)
	if err != nil {
		return nil, err
	}
	if err := s.Store.AssessTraced(sctx, a, threats); err != nil {
		return nil, err
	}
	return a, nil
}

// traceThreats resolves the threats named against the device's threat model. The functions reached are those
// given, else the clinical functions the threats reach. It returns the threats' refs as the model spells them.
func traceThreats(d *vigil.Device, tm *vigil.ThreatModel, refs, functions []string) (threats, fns []string, why []string, err error) {
	fns = append([]string{}, functions...)
	if len(refs) == 0 {
		return nil, fns, nil, nil
	}
	var reached, parts []string
	for i, ref := range refs {
		t := tm.Threat(strings.TrimSpace(ref))
		if t == nil {
			return nil, nil, nil, vigil.Errorf(vigil.EINVALID, "threats[%d]: %q is not a threat in the threat model of %s (%s)", i, ref, d.Name, orNone(refList(tm)))
		}
		if slices.Contains(threats, t.Ref) {
			continue
		}
		threats = append(threats, t.Ref)
		reach := "no clinical function"
		if len(t.Functions) > 0 {
			reach = strings.Join(t.Functions, ", ")
		}
		parts = append(parts, fmt.Sprintf("%s %q (%s) reaches %s", t.Ref, t.Title, strings.ReplaceAll(t.Category, "_", " "), reach))
		for _, f := range t.Functions {
			if !slices.Contains(reached, f) {
				reached = append(reached, f)
			}
		}
	}
	why = append(why, "Threat model: "+strings.Join(parts, "; ")+".")
	if len(fns) == 0 {
		fns = reached
		if len(reached) > 0 {
			why = append(why, "Functions reached are those of the threats named: "+strings.Join(reached, ", ")+".")
		}
	}
	return threats, fns, why, nil
}

func refList(tm *vigil.ThreatModel) string {
	var refs []string
	for _, t := range tm.Threats {
		refs = append(refs, t.Ref)
	}
	return strings.Join(refs, ", ")
}

// traceControls resolves the controls in place: a one-word entry is a ref of the device's threat model and must
// exist; an entry of several words is a free-text description kept as written.
func traceControls(d *vigil.Device, tm *vigil.ThreatModel, in, threats []string) ([]string, []string, error) {
	var out, parts []string
	for i, c := range in {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if strings.ContainsFunc(c, unicode.IsSpace) {
			if !slices.Contains(out, c) {
				out, parts = append(out, c), append(parts, c)
			}
			continue
		}
		var ctl *vigil.Control
		if tm != nil {
			ctl = tm.Control(c)
		}
		if ctl == nil {
			var have []string
			if tm != nil {
				for _, x := range tm.Controls {
					have = append(have, x.Ref)
				}
			}
			return nil, nil, vigil.Errorf(vigil.EINVALID, "controls[%d]: %q is not a mitigation or compensating control in the threat model of %s (%s); describe a control that is not in the model in more than one word", i, c, d.Name, orNone(strings.Join(have, ", ")))
		}
		if slices.Contains(out, ctl.Ref) {
			continue
		}
		out = append(out, ctl.Ref)
		p := fmt.Sprintf("%s %s %q", ctl.Ref, controlKind(ctl.Kind), ctl.Name)
		if ctl.Reference != "" {
			p += " (" + ctl.Reference + ")"
		}
		var addressed []string
		for _, t := range ctl.Threats {
			if slices.Contains(threats, t) {
				addressed = append(addressed, t)
			}
		}
		if len(addressed) > 0 {
			p += " addresses " + strings.Join(addressed, ", ")
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return out, nil, nil
	}
	return out, []string{"Controls in place: " + strings.Join(parts, "; ") + "."}, nil
}

func controlKind(k string) string {
	if k == vigil.ControlCompensating {
		return "compensating control"
	}
	return "mitigation"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func harmRank(s string) int { return slices.Index(vigil.HarmSeverities, s) }

// RecordEvent checks a dated event against the case's facts (CheckEvent) and records it, unsigned: it is how the
// services record the event of an act they signed themselves (a notice released, an 806 report filed, a fix
// validated, a bundle shared). What a person types goes through AddEvent.
func (s *Service) RecordEvent(ctx context.Context, e *vigil.CaseEvent) error {
	if err := s.CheckEvent(ctx, e); err != nil {
		return err
	}
	return s.Store.AddCaseEvent(ctx, e)
}

// AddEvent records an event a person typed (the case page's form, `vigil case event add`, the API), checked as
// RecordEvent checks it. An event that is itself a signed act (EventAct: a customer notified, an 806 report
// filed, a validated fix distributed) passes the act's signing gate as the services' own acts do: it carries its
// signer's Part 11 signature (sig), which signs the event in the transaction that records it, unless the
// organization switched the act's requirement off. Any other event takes no signature.
func (s *Service) AddEvent(ctx context.Context, e *vigil.CaseEvent, sig *vigil.SignRequest) error {
	if err := s.CheckEvent(ctx, e); err != nil {
		return err
	}
	act := EventAct(e)
	if act == "" {
		if sig != nil {
			return vigil.Errorf(vigil.EINVALID, "signature: a %s event is not an act that is signed: leave the signature out", e.Type)
		}
		return s.Store.AddCaseEvent(ctx, e)
	}
	sctx, err := vigil.GateActOn(ctx, s.Signing, act, vigil.KindCaseEvent, sig)
	if sig == nil && vigil.ErrorCode(err) == vigil.EINVALID {
		return vigil.Errorf(vigil.EINVALID, "signature: required: a %s event records %s, which needs a Part 11 signature (meaning, user, password or one-time signing code)", e.Type, act.Text())
	} else if err != nil {
		return err
	}
	return s.Store.AddCaseEvent(sctx, e)
}

// EventAct is the signed act an event records, if it is one ("" otherwise): customer_notified is a notice's
// release, part806_filed the 806.10 filing, and a fix_distributed marked validated the fix's validation.
func EventAct(e *vigil.CaseEvent) vigil.SignedAct {
	switch {
	case e.Type == regulatory.EventCustomerNotified:
		return vigil.ActNoticeRelease
	case e.Type == regulatory.EventPart806Filed:
		return vigil.ActPart806Filing
	case e.Type == regulatory.EventFixDistributed && e.Details.Validated:
		return vigil.ActFixValidation
	}
	return ""
}

// CheckEvent checks a dated event against the case's facts (the same rules the determination applies: a known
// type, a date not before the vulnerability was learned for the manufacturer's own actions), writing nothing. A
// reassessment is not an event: it is a dated assessment (Assess). Needs PermEvent.
func (s *Service) CheckEvent(ctx context.Context, e *vigil.CaseEvent) error {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := vigil.OneOf("type", e.Type, regulatory.EventTypes); err != nil {
		return err
	}
	if e.Type == regulatory.EventReassessed {
		return vigil.Errorf(vigil.EINVALID, "type: a reassessment is a full assessment with its own date: use `case assess ID --date DATE` (POST .../assessments with date)")
	}
	v, err := s.CaseView(ctx, e.CaseID, vigil.Date{})
	if err != nil {
		return err
	}
	e.CaseID = v.Case.ID
	org, _ := s.org(ctx)
	v.Events = append(v.Events, e)
	facts, assessed := regulatory.FromRecord(s.record(v, org))
	if assessed {
		if _, err := regulatory.Determine(facts); err != nil {
			return vigil.Errorf(vigil.EINVALID, "%s", strings.Replace(vigil.ErrorMessage(err), fmt.Sprintf("events[%d]", len(facts.Events)-1), "event", 1))
		}
	} else if e.Date.Before(v.Case.Learned) && e.Type != regulatory.EventSeriousAdverseEvent && e.Type != regulatory.EventMDRFiled {
		return vigil.Errorf(vigil.EINVALID, "date: %s is before the vulnerability was learned (%s)", e.Date, v.Case.Learned)
	}
	return nil
}

// Deadline is one open obligation of one case: a running clock, or an obligation with no date yet that is due at
// once (Urgent).
type Deadline struct {
	CaseID        int64           `json:"case_id,omitempty"`
	Report        string          `json:"report,omitempty"` // the intake report (VR-N) of a cvd_ack clock, which has no case
	DeviceID      int64           `json:"device_id"`
	Device        string          `json:"device"`
	Vulnerability string          `json:"vulnerability"`
	CaseState     vigil.CaseState `json:"case_state"`
	// Clock: assess (an unassessed case), part806_start (ED lost, correction not started), ed_communication,
	// ed_fix, part806, mdr, mdr_5_day.
	Clock    string     `json:"clock"`
	Due      vigil.Date `json:"due"`
	DaysLeft int        `json:"days_left"` // negative when overdue
	Overdue  bool       `json:"overdue"`
	// Urgent marks an obligation at the top of every list whatever its date: Part 806 with ED lost and no
	// correction started (the report is due 10 working days after a correction that has not begun).
	Urgent   bool   `json:"urgent,omitempty"`
	Status   string `json:"status"`   // what stands: pending, conditional, required, provisional, ...
	Standing string `json:"standing"` // pending or overdue (ClockStanding): the colour on a screen
	What     string `json:"what"`
}

var clockText = map[string]string{
	ClockAssess:        "assess before: the ED communication date should the risk be uncontrolled (G2016 §VII.B); the determination is provisional until then",
	ClockPart806Start:  "Part 806: start the correction — report due 10 working days after (21 CFR 806.10; enforcement discretion was lost)",
	"ed_communication": "G2016 ED criterion 2 (and 4): notify customers, interim controls, remediation plan, share with the ISAO",
	"ed_fix":           "G2016 ED criterion 3: validated fix or compensating control distributed",
	"part806":          "21 CFR 806.10 correction report",
	"mdr":              "21 CFR 803.50 MDR (30 calendar days)",
	"mdr_5_day":        "21 CFR 803.53 five-day report",
}

// The obligations that are not one of the determination's deadlines.
const (
	ClockAssess       = "assess"
	ClockPart806Start = "part806_start"
)

// Clocks returns the open obligations of a case: for an unassessed case, the date to assess it by; an uncontrolled
// case whose enforcement discretion is lost and whose correction has not started first gets its Part 806
// obligation; then every clock that is pending or overdue. A closed case keeps its unmet reporting obligations
// (Part 806, MDR); the ED clocks are conditions of discretion, not obligations, and go with the closing.
func Clocks(v *View) []Deadline {
	d := v.Determination
	if d == nil {
		return nil
	}
	mk := func(clock string, due vigil.Date, status, standing string) Deadline {
		left := due.Sub(v.AsOf)
		return Deadline{CaseID: v.Case.ID, DeviceID: v.Device.ID, Device: v.Device.Name, Vulnerability: v.Case.Vulnerability, CaseState: v.Case.State,
			Clock: clock, Due: due, DaysLeft: left, Overdue: left < 0, Status: status, Standing: standing, What: clockText[clock]}
	}
	closed := v.Case.State == vigil.CaseClosed
	var out []Deadline
	if v.Provisional {
		if !closed {
			out = append(out, AssessDeadline(v.Case, v.AsOf))
		}
		return out
	}
	if lost, since := correctionNotStarted(v); lost {
		x := mk(ClockPart806Start, since, d.Part806.Status, StandingOverdue)
		x.Urgent, x.Overdue = true, true
		out = append(out, x)
	}
	dl := d.Deadlines
	for _, c := range []struct {
		clock string
		due   vigil.Date
	}{{"ed_communication", dl.EDCommunication}, {"ed_fix", dl.EDFix}, {"part806", dl.Part806}, {"mdr", dl.MDR}, {"mdr_5_day", dl.MDR5Day}} {
		if closed && (c.clock == "ed_communication" || c.clock == "ed_fix") {
			continue
		}
		standing, status, _ := ClockStanding(v, c.clock, c.due)
		if c.due.IsZero() || (standing != StandingPending && standing != StandingOverdue) {
			continue
		}
		out = append(out, mk(c.clock, c.due, status, standing))
	}
	return out
}

// AssessDeadline is the obligation of an unassessed case: to be assessed by D0 + 30 days.
func AssessDeadline(c *vigil.Case, asOf vigil.Date) Deadline {
	due := assessBefore(c)
	left := due.Sub(asOf)
	standing := StandingPending
	if left < 0 {
		standing = StandingOverdue
	}
	return Deadline{CaseID: c.ID, DeviceID: c.DeviceID, Device: c.Device, Vulnerability: c.Vulnerability, CaseState: c.State,
		Clock: ClockAssess, Due: due, DaysLeft: left, Overdue: left < 0, Status: "provisional", Standing: standing, What: clockText[ClockAssess]}
}

// correctionNotStarted says whether a determination has lost enforcement discretion for an uncontrolled risk with
// no correction initiated (so no Part 806 due date, yet a report is required), and since when: the day a serious
// adverse event failed criterion 1 (the first, as of the determination), else the first ED deadline that passed.
func correctionNotStarted(v *View) (bool, vigil.Date) {
	d := v.Determination
	if d.Risk != vigil.RiskUncontrolled || d.EnforcementDiscretion.Status != regulatory.StatusFailed || !d.Part806.Due.IsZero() {
		return false, vigil.Date{}
	}
	switch d.Part806.Status {
	case regulatory.Part806Filed, regulatory.Part806CoveredByMDR, regulatory.Part806NotRequired, regulatory.Part806Waived:
		return false, vigil.Date{}
	}
	since := d.AsOf
	for _, e := range v.Events {
		if e.Type == regulatory.EventSeriousAdverseEvent && !e.Date.After(d.AsOf) && e.Date.Before(since) {
			since = e.Date
		}
	}
	for _, x := range []vigil.Date{d.Deadlines.EDCommunication, d.Deadlines.EDFix} {
		if !x.IsZero() && x.Before(since) {
			since = x
			break
		}
	}
	return true, since
}

// Clock standings: what a regulatory screen's colour says. Green is for met alone: a clock still running is
// pending (amber), one past its date or whose criterion failed is overdue or missed (red), one that no longer binds
// is not required (grey, with the reason).
const (
	StandingMet         = "met"
	StandingPending     = "pending"
	StandingOverdue     = "overdue"
	StandingMissed      = "missed"
	StandingNotRequired = "not_required"
)

// ClockStanding says where one of v's clocks (due on due) stands, the status behind it (a criterion's or Part
// 806's), and why when it is not required. The ED communication clock is met only when both criteria due that day
// are: customers notified (2) and the ISAO share (4).
func ClockStanding(v *View, clock string, due vigil.Date) (standing, status, why string) {
	d := v.Determination
	running := func() string {
		if !due.IsZero() && due.Sub(v.AsOf) < 0 {
			return StandingOverdue
		}
		return StandingPending
	}
	switch clock {
	case "ed_communication", "ed_fix":
		ns := []int{3}
		if clock == "ed_communication" {
			ns = []int{2, 4}
		}
		status = regulatory.StatusMet
		for _, c := range d.EnforcementDiscretion.Criteria {
			if !slices.Contains(ns, c.N) || c.Status == regulatory.StatusMet || status == regulatory.StatusFailed {
				continue
			}
			status = c.Status
		}
		switch {
		case status == regulatory.StatusMet:
			return StandingMet, status, ""
		case status == regulatory.StatusFailed:
			return StandingMissed, status, ""
		case d.EnforcementDiscretion.Status != regulatory.StatusPending:
			return StandingNotRequired, status, "enforcement discretion was lost"
		}
		return running(), status, ""
	case "part806":
		switch status = d.Part806.Status; status {
		case regulatory.Part806Filed:
			return StandingMet, status, ""
		case regulatory.Part806Overdue:
			return StandingOverdue, status, ""
		case regulatory.Part806Waived, regulatory.Part806CoveredByMDR, regulatory.Part806NotRequired:
			return StandingNotRequired, status, strings.ReplaceAll(status, "_", " ")
		}
		return running(), status, ""
	}
	if slices.ContainsFunc(v.Events, func(e *vigil.CaseEvent) bool { return e.Type == regulatory.EventMDRFiled }) {
		return StandingMet, "filed", ""
	}
	return running(), "required", ""
}

// DeadlineFilter selects deadlines.
type DeadlineFilter struct {
	OverdueOnly bool
	Within      int // days from today (or AsOf); 0: no limit
	DeviceID    int64
	// AsOf is the day the clocks are computed for (what was open, due and overdue that day); zero: today.
	AsOf vigil.Date
}

// SortDeadlines orders obligations as every list shows them: urgent ones first, then soonest due.
func SortDeadlines(ds []Deadline) {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Urgent != ds[j].Urgent {
			return ds[i].Urgent
		}
		if !ds[i].Due.Equal(ds[j].Due) {
			return ds[i].Due.Before(ds[j].Due)
		}
		return ds[i].CaseID < ds[j].CaseID
	})
}

// Keep says whether the filter keeps a deadline (an urgent one is always overdue and never outside a window).
func (f DeadlineFilter) Keep(d Deadline) bool {
	return !(f.OverdueOnly && !d.Overdue || f.Within > 0 && d.DaysLeft > f.Within && !d.Urgent)
}

// Deadlines lists every open obligation across the portfolio's cases (closed ones included: their unmet reporting
// obligations stay), urgent first, then soonest. Needs PermRead.
func (s *Service) Deadlines(ctx context.Context, flt DeadlineFilter) ([]Deadline, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	cs, err := s.Store.Cases(ctx, vigil.CaseFilter{DeviceID: flt.DeviceID, States: vigil.CaseStates})
	if err != nil {
		return nil, err
	}
	out := []Deadline{}
	for _, c := range cs {
		v, err := s.CaseView(ctx, c.ID, flt.AsOf)
		if err != nil {
			return nil, err
		}
		for _, d := range Clocks(v) {
			if flt.Keep(d) {
				out = append(out, d)
			}
		}
	}
	SortDeadlines(out)
	return out, nil
}
