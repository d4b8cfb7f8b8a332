package regdocs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/report"
)

// Record80620 is the typed content of the 806.20 record of a correction not reported.
type Record80620 struct {
	Vulnerability string `json:"vulnerability"`
	Device        string `json:"device"`
	Status        string `json:"part806_status"` // waived, not_required or covered_by_mdr
	Risk          string `json:"risk"`
	CurrentRisk   string `json:"current_risk"`
	Change        string `json:"change"`
	// Justification is generated from the determination and its evidence; JustificationSHA256 is what a sign-off
	// signs, so a sign-off of an earlier justification shows as stale.
	Justification       []string      `json:"justification"`
	JustificationSHA256 string        `json:"justification_sha256"`
	Criteria            []CriterionAt `json:"criteria"`
	Events              []EventLine   `json:"events"`
	SignOff             *SignOff      `json:"sign_off,omitempty"`
	SignOffs            []*SignOff    `json:"sign_offs"`
}

// CriterionAt is one enforcement-discretion criterion with the events it rests on.
type CriterionAt struct {
	N        int    `json:"n"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Evidence string `json:"evidence"`
}

// SignOff is a person's sign-off of an 806.20 record: who, when, what it means, and the justification it covers.
type SignOff struct {
	ID                  int64      `json:"id"`
	By                  string     `json:"by"`
	Date                vigil.Date `json:"date"`
	At                  string     `json:"at"`
	Meaning             string     `json:"meaning"`
	JustificationSHA256 string     `json:"justification_sha256"`
	Current             bool       `json:"current"` // it covers the justification as it stands
	// Signatures are the Part 11 electronic signatures of the sign-off (their manifestation), empty until it is
	// signed (vigil sign regdoc_record ID, or report 806.20 --sign-off --user NAME).
	Signatures []string `json:"signatures"`
}

// signOffMeaning is what signing off an 806.20 record means (21 CFR 11.50(a)(3)).
const signOffMeaning = "Reviewed and approved: this correction is not reported under 21 CFR 806.10, for the justification stated (21 CFR 806.20)."

type signOffBody struct {
	Meaning             string `json:"meaning"`
	JustificationSHA256 string `json:"justification_sha256"`
}

func (b *build) record80620(ctx context.Context, caseID int64) (*caseData, *Record80620, error) {
	cd, err := b.caseData(ctx, caseID)
	if err != nil {
		return nil, nil, err
	}
	d := cd.d
	if !notReported(d.Part806.Status) {
		return nil, nil, vigil.Errorf(vigil.ECONFLICT, "%s: the correction is reportable (Part 806 status %s): its document is the 806.10 report (vigil report 806 --case %d)",
			cd.v.Case, d.Part806.Status, cd.v.Case.ID)
	}
	r := &Record80620{Vulnerability: cd.v.Case.Vulnerability, Device: cd.v.Device.Name, Status: d.Part806.Status, Risk: string(d.Risk),
		CurrentRisk: string(d.CurrentRisk), Change: d.Change, Criteria: []CriterionAt{}, SignOffs: []*SignOff{}}
	switch d.Part806.Status {
	case regulatory.Part806NotRequired:
		r.Justification = append(r.Justification,
			"The vulnerability's risk of patient harm is controlled: the change is a cybersecurity routine update or patch, an enhancement and not a correction, which 21 CFR 806 does not require to be reported (G2016 §VII.A).")
	case regulatory.Part806Waived:
		r.Justification = append(r.Justification,
			"The risk of patient harm was uncontrolled, and all four conditions of FDA's enforcement discretion are met (G2016 §VII.B): FDA does not intend to enforce the 806.10 report for this correction.")
	case regulatory.Part806CoveredByMDR:
		r.Justification = append(r.Justification,
			"The correction was reported in an MDR under 21 CFR 803 that includes it, so no separate 806.10 report is required (21 CFR 806.10(f)).")
	}
	r.Justification = append(r.Justification, "Risk assessment: "+cd.riskSummary())
	events := append([]*vigil.CaseEvent{}, cd.v.Events...)
	reassessments := len(cd.v.Assessments) - 1
	for _, c := range d.EnforcementDiscretion.Criteria {
		r.Criteria = append(r.Criteria, CriterionAt{N: c.N, Status: c.Status, Reason: c.Reason, Evidence: evidence(c.Evidence, events, reassessments)})
	}
	// The determination's own reasons, without the policy lines (the same for every case) and the premarket and
	// PMA lines (their own records).
	for _, x := range d.Rationale {
		if !strings.HasPrefix(x, "Policy ") && !strings.HasPrefix(x, "21 CFR 814.") {
			r.Justification = append(r.Justification, x)
		}
	}
	r.Events = cd.events(regulatory.EventTypes...)
	sum := sha256.Sum256([]byte(strings.Join(r.Justification, "\n")))
	r.JustificationSHA256 = hex.EncodeToString(sum[:])
	rs, bodies, err := records[signOffBody](ctx, b.s.Store, vigil.RegPart806Record, cd.v.Case.ID, 0)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(rs))
	for i, x := range rs {
		ids[i] = x.ID
	}
	sigs, err := b.manifests(ctx, ids...)
	if err != nil {
		return nil, nil, err
	}
	for i, x := range rs {
		so := &SignOff{ID: x.ID, By: x.Actor, Date: x.Date, At: x.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Meaning: bodies[i].Meaning,
			JustificationSHA256: bodies[i].JustificationSHA256, Current: bodies[i].JustificationSHA256 == r.JustificationSHA256, Signatures: sigs[x.ID]}
		r.SignOffs = append(r.SignOffs, so)
		r.SignOff = so
	}
	return cd, r, nil
}

// evidence turns the determination's "events[i]" pointers into the events' dates, types and references. The
// determination's events are the reassessments first (one per later assessment), then the recorded events.
func evidence(refs []string, events []*vigil.CaseEvent, reassessments int) string {
	var out []string
	for _, ref := range refs {
		var i int
		if _, err := fmt.Sscanf(ref, "events[%d]", &i); err == nil {
			if j := i - reassessments; j >= 0 && j < len(events) {
				e := events[j]
				out = append(out, fmt.Sprintf("%s %s: %s", e.Date, strings.ReplaceAll(e.Type, "_", " "), e.Note))
				continue
			}
			if i < reassessments {
				out = append(out, "reassessment")
				continue
			}
		}
		out = append(out, ref)
	}
	return strings.Join(out, "; ")
}

func (b *build) part80620(ctx context.Context, doc *report.Document, caseID int64) error {
	cd, r, err := b.record80620(ctx, caseID)
	if err != nil {
		return err
	}
	doc.Data = r
	doc.Title = "21 CFR 806.20 record of a correction not reported"
	doc.Subtitle = fmt.Sprintf("%s on %s (case %d): the justification for not reporting, generated from the determination and its evidence.", r.Vulnerability, r.Device, cd.v.Case.ID)
	so := "not signed off yet"
	if r.SignOff != nil {
		so = fmt.Sprintf("%s on %s (%s)", r.SignOff.By, r.SignOff.Date, r.SignOff.At)
		if !r.SignOff.Current {
			so += " — STALE: the justification changed since; sign it off again"
		}
	}
	doc.Header = []report.Field{{Name: "Case", Value: fmt.Sprint(cd.v.Case.ID)}, {Name: "Part 806 status", Value: r.Status},
		{Name: "Change", Value: r.Change}, {Name: "Signed off", Value: so}}
	doc.Add("Device and vulnerability").Fields("Manufacturer", b.org.Name, "Device", fmt.Sprintf("%s (class %s, %s %s)", r.Device, cd.v.Device.Class, cd.v.Device.Pathway, cd.v.Device.SubmissionNumber),
		"UDI-DI", orNone(cd.v.Device.UDIDI, "not recorded"), "Vulnerability", strings.Join(cd.v.Case.IDs(), ", "), "Learned (D0)", fmt.Sprintf("%s: %s", cd.v.Case.Learned, cd.learned))
	doc.Add("Justification for not reporting").List(r.Justification, "")
	if len(r.Criteria) > 0 {
		var rows [][]string
		for _, c := range r.Criteria {
			rows = append(rows, []string{fmt.Sprint(c.N), c.Status, c.Reason, c.Evidence})
		}
		doc.Add("Enforcement discretion criteria (G2016 §VII.B) and their evidence").Table([]string{"Criterion", "Status", "Reason", "Evidence"}, rows, "")
	}
	doc.Add("Events of the case").Table(eventHeaders, eventRows(r.Events), "No event is recorded.")
	var rows [][]string
	for _, s := range r.SignOffs {
		sig := strings.Join(s.Signatures, "; ")
		if sig == "" {
			sig = fmt.Sprintf("no Part 11 electronic signature yet (vigil sign %s %d --meaning approval --user NAME); the sign-off is recorded in the audit trail with who and when", SignKind, s.ID)
		}
		rows = append(rows, []string{fmt.Sprint(s.ID), s.By, s.Date.String(), s.At, s.Meaning, s.JustificationSHA256[:16], yesNo(s.Current), sig})
	}
	doc.Add("Sign-off").Fields("Justification SHA-256", r.JustificationSHA256).
		Table([]string{"Record", "Signed off by", "Date", "At", "Meaning", "Justification", "Current", "Part 11 signature"}, rows, "Not signed off yet: vigil report 806.20 --case N --sign-off --user NAME.")
	return nil
}

// SignOff80620 signs off the case's 806.20 record as it stands: the justification's digest and the meaning are
// recorded with the signer and the time (in the audit trail). The caller's own latest sign-off, when it covers the
// justification as it stands and has no Part 11 signature yet, is returned instead of a second one: a signing that
// failed (a mistyped password) is tried again on the same sign-off. ECONFLICT when the correction is reportable.
// Needs PermReport.
func (s *Service) SignOff80620(ctx context.Context, caseID int64, reason string, sig *vigil.SignRequest) (*SignOff, error) {
	a, err := vigil.Authorize(ctx, vigil.PermReport)
	if err != nil {
		return nil, err
	}
	b, err := s.newBuild(ctx)
	if err != nil {
		return nil, err
	}
	cd, r, err := b.record80620(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if so := r.SignOff; so != nil && so.Current && so.By == a.String() && len(so.Signatures) == 0 && sig == nil {
		return so, nil
	}
	body, _ := json.Marshal(signOffBody{Meaning: signOffMeaning, JustificationSHA256: r.JustificationSHA256})
	rec := &vigil.RegRecord{Kind: vigil.RegPart806Record, CaseID: cd.v.Case.ID, DeviceID: cd.v.Device.ID, Date: b.today(), Body: body}
	sctx, err := vigil.GateAct(ctx, s.Cases.Signing, vigil.ActPart80620, sig)
	if err != nil {
		return nil, err
	}
	if err := s.Store.AddRegRecord(sctx, rec, orNone(reason, signOffMeaning)); err != nil {
		return nil, err
	}
	sigs, err := b.manifests(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	return &SignOff{ID: rec.ID, By: rec.Actor, Date: rec.Date, At: rec.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Meaning: signOffMeaning,
		JustificationSHA256: r.JustificationSHA256, Current: true, Signatures: append([]string{}, sigs[rec.ID]...)}, nil
}

// Premarket decisions.
const (
	PremarketPMASupplement = "pma_supplement" // 21 CFR 814.39
	PremarketThirtyDay     = "30_day_notice"  // 21 CFR 814.39(f): a manufacturing change of a PMA device
	Premarket510k          = "510k"           // 21 CFR 807.81(a)(3)
	PremarketNone          = "none"
)

// PremarketDecisions lists the decisions.
var PremarketDecisions = []string{PremarketPMASupplement, PremarketThirtyDay, Premarket510k, PremarketNone}

var premarketText = map[string]string{
	PremarketPMASupplement: "a PMA supplement under 21 CFR 814.39",
	PremarketThirtyDay:     "a 30-day notice under 21 CFR 814.39(f)",
	Premarket510k:          "a new 510(k) under 21 CFR 807.81(a)(3)",
	PremarketNone:          "no premarket submission",
}

// PremarketDecision is one recorded premarket-submission decision of a case.
type PremarketDecision struct {
	ID         int64      `json:"id,omitempty"`
	Signatures []string   `json:"signatures,omitempty"` // Part 11 signatures of the decision record
	Decision   string     `json:"decision"`
	Basis      string     `json:"basis"`
	Submission string     `json:"submission,omitempty"` // the supplement's or 510(k)'s number, once known
	Date       vigil.Date `json:"date,omitzero"`
	By         string     `json:"by,omitempty"`
}

// DecidePremarket records the case's premarket-submission decision with its basis (a later decision supersedes,
// both stay). EINVALID for an unknown decision, a missing basis, or a PMA supplement for a device not on the PMA
// pathway. Needs PermReport.
func (s *Service) DecidePremarket(ctx context.Context, caseID int64, p PremarketDecision, reason string, sig *vigil.SignRequest) (*PremarketDecision, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermReport); err != nil {
		return nil, err
	}
	if err := vigil.OneOf("decision", p.Decision, PremarketDecisions); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Basis) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "basis: required: say why (the change against the approved design, the guidance applied)")
	}
	if err := vigil.Text("basis", p.Basis, vigil.MaxText); err != nil {
		return nil, err
	}
	if err := vigil.Text("submission", p.Submission, vigil.MaxName); err != nil {
		return nil, err
	}
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	if (p.Decision == PremarketPMASupplement || p.Decision == PremarketThirtyDay) && v.Device.Pathway != vigil.PathwayPMA || p.Decision == Premarket510k && v.Device.Pathway == vigil.PathwayPMA {
		return nil, vigil.Errorf(vigil.EINVALID, "decision: %s does not fit %s, on the %s pathway", premarketText[p.Decision], v.Device.Name, v.Device.Pathway)
	}
	if p.Date.IsZero() {
		p.Date = v.AsOf
	}
	body, _ := json.Marshal(PremarketDecision{Decision: p.Decision, Basis: p.Basis, Submission: p.Submission})
	rec := &vigil.RegRecord{Kind: vigil.RegPremarket, CaseID: v.Case.ID, DeviceID: v.Device.ID, Date: p.Date, Body: body}
	sctx, err := vigil.GateAct(ctx, s.Cases.Signing, vigil.ActPremarket, sig)
	if err != nil {
		return nil, err
	}
	if err := s.Store.AddRegRecord(sctx, rec, orNone(reason, p.Basis)); err != nil {
		return nil, err
	}
	p.ID, p.By = rec.ID, rec.Actor
	b, err := s.newBuild(ctx)
	if err != nil {
		return nil, err
	}
	sigs, err := b.manifests(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	p.Signatures = sigs[rec.ID]
	return &p, nil
}

// premarketDecisions reads a case's decisions, oldest first.
func (b *build) premarketDecisions(ctx context.Context, caseID int64) ([]*PremarketDecision, error) {
	rs, ds, err := records[PremarketDecision](ctx, b.s.Store, vigil.RegPremarket, caseID, 0)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	sigs, err := b.manifests(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := []*PremarketDecision{}
	for i, r := range rs {
		d := ds[i]
		d.ID, d.Date, d.By, d.Signatures = r.ID, r.Date, r.Actor, sigs[r.ID]
		out = append(out, &d)
	}
	return out, nil
}

// PremarketRecord is the typed content of the premarket decision record.
type PremarketRecord struct {
	Vulnerability string               `json:"vulnerability"`
	Device        string               `json:"device"`
	Pathway       string               `json:"pathway"`
	Submission    string               `json:"device_submission"`
	Change        string               `json:"change"`
	Evaluation    bool                 `json:"premarket_evaluation_required"`
	Decision      *PremarketDecision   `json:"decision"`
	History       []*PremarketDecision `json:"history"`
	FixedIn       []string             `json:"fixed_in"`
	Changes       []EventLine          `json:"changes"`
}

func (b *build) premarket(ctx context.Context, doc *report.Document, caseID int64) error {
	cd, err := b.caseData(ctx, caseID)
	if err != nil {
		return err
	}
	ds, err := b.premarketDecisions(ctx, cd.v.Case.ID)
	if err != nil {
		return err
	}
	dev := cd.v.Device
	r := &PremarketRecord{Vulnerability: cd.v.Case.Vulnerability, Device: dev.Name, Pathway: string(dev.Pathway), Submission: dev.SubmissionNumber,
		Change: cd.d.Change, Evaluation: cd.d.PremarketEvaluation, History: ds, FixedIn: cd.fixedIn(),
		Changes: cd.events(regulatory.EventFixDistributed, regulatory.EventInterimControls)}
	if len(ds) > 0 {
		r.Decision = ds[len(ds)-1]
	}
	doc.Data = r
	doc.Title = "Premarket submission decision record"
	doc.Subtitle = fmt.Sprintf("%s on %s (case %d): whether the change needs a PMA supplement (21 CFR 814.39), a new 510(k) (21 CFR 807.81(a)(3)), or no submission, and why.", r.Vulnerability, r.Device, cd.v.Case.ID)
	decision := "NOT RECORDED YET: record it (vigil report premarket --case N --decide pma_supplement|30_day_notice|510k|none --basis TEXT)"
	if r.Decision != nil {
		decision = fmt.Sprintf("%s — decided %s by %s", premarketText[r.Decision.Decision], r.Decision.Date, r.Decision.By)
	}
	doc.Header = []report.Field{{Name: "Case", Value: fmt.Sprint(cd.v.Case.ID)}, {Name: "Decision", Value: decision}}
	eval := "not required by the determination: the change is an enhancement (a routine update or patch); FDA typically does not need premarket review (G2016 §VII.A) — the decision is still recorded"
	if r.Evaluation {
		eval = "required: the risk was uncontrolled, so the change is a correction whose premarket impact must be evaluated and recorded (G2016 §VII.B)"
	}
	doc.Add("Device and change").Fields("Device", fmt.Sprintf("%s, class %s", dev.Name, dev.Class), "Marketing pathway", fmt.Sprintf("%s %s", dev.Pathway, dev.SubmissionNumber),
		"Vulnerability", strings.Join(cd.v.Case.IDs(), ", "), "Change classification", r.Change, "Premarket evaluation", eval,
		"Component fixed in", orNone(strings.Join(r.FixedIn, ", "), "no fixed version of the component known yet")).
		Table(eventHeaders, eventRows(r.Changes), "No change or compensating control is recorded yet.")
	doc.Add("Risk assessment").Text("%s", cd.riskSummary())
	s := doc.Add("Decision and its basis")
	if r.Decision == nil {
		s.Text("No decision is recorded yet.")
	} else {
		s.Fields("Decision", premarketText[r.Decision.Decision], "Basis", r.Decision.Basis, "Submission number", orNone(r.Decision.Submission, "none"),
			"Decided", fmt.Sprintf("%s by %s (record %d)", r.Decision.Date, r.Decision.By, r.Decision.ID),
			"Part 11 signature", orNone(strings.Join(r.Decision.Signatures, "; "), fmt.Sprintf("not signed yet (vigil sign %s %d --meaning approval --user NAME)", SignKind, r.Decision.ID)))
	}
	if len(ds) > 1 {
		var rows [][]string
		for _, x := range ds {
			rows = append(rows, []string{x.Date.String(), premarketText[x.Decision], x.Basis, x.Submission, x.By})
		}
		doc.Add("Decision history").Table([]string{"Date", "Decision", "Basis", "Submission", "By"}, rows, "")
	}
	return nil
}

// premarketSummary says a case's latest premarket decision in one line, for the periodic report.
func premarketSummary(ds []*PremarketDecision) string {
	if len(ds) == 0 {
		return ""
	}
	d := ds[len(ds)-1]
	s := fmt.Sprintf("%s (decided %s: %s)", premarketText[d.Decision], d.Date, d.Basis)
	if d.Submission != "" {
		s = d.Submission + ": " + s
	}
	return s
}
