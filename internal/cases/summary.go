package cases

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Summary is the per-vulnerability summary G2016's appendix and §VIII (REGULATORY.md §4) ask for, limited to what
// is known at assessment time, each item traced to its record: the vulnerability and how it was learned, the
// exploitability and why, the clinical functions reached and the severity of patient harm, the threats of the
// device's threat model and the controls in place, the controlled/uncontrolled determination with the matrix that
// made it, the change classification, enforcement discretion with its clocks, the Part 806 status, the PMA
// periodic-report flag, and the events with their evidence. The determination is the live one (the same function
// as `finding show` and the Determination API).
type Summary struct {
	AsOf    vigil.Date           `json:"as_of"`
	Case    *vigil.Case          `json:"case"`
	Finding *vigil.Finding       `json:"finding"`
	Device  *vigil.Device        `json:"device"`
	Version *vigil.DeviceVersion `json:"version"`
	// Learned says how the manufacturer learned of the vulnerability: the reason recorded when the finding was
	// created (a researcher's report, a complaint), or the matcher's evidence for a matched one.
	Learned string           `json:"learned"`
	KEV     *vigil.KEVEntry  `json:"kev,omitempty"`
	EPSS    *vigil.EPSSScore `json:"epss,omitempty"`
	// Assessment is the latest assessment, which the sections on exploitability, functions, threats and controls
	// describe; Assessments lists them all, the first being the one that started the clocks.
	Assessment     *vigil.Assessment        `json:"assessment"`
	Assessments    []AssessmentLine         `json:"assessments"`
	Exploitability *ExploitabilityLine      `json:"exploitability,omitempty"`
	Functions      []vigil.ClinicalFunction `json:"functions"`
	Threats        []*vigil.Threat          `json:"threats"`
	Controls       []ControlLine            `json:"controls"`
	// Determination is the live determination (nil before the first assessment; Problem then says why).
	Determination *regulatory.Determination `json:"determination"`
	Clocks        []Deadline                `json:"clocks"`
	Events        []*vigil.CaseEvent        `json:"events"`
	Problem       string                    `json:"problem,omitempty"`
}

// AssessmentLine is one recorded assessment, for the history.
type AssessmentLine struct {
	ID        int64      `json:"id"`
	Date      string     `json:"date"`     // the day it was made
	Recorded  string     `json:"recorded"` // the day it was entered, in the organization's time zone
	Actor     string     `json:"actor"`
	Risk      vigil.Risk `json:"risk"`
	Matrix    string     `json:"matrix,omitempty"`
	Interim   bool       `json:"interim,omitempty"`
	Threats   []string   `json:"threats,omitempty"`
	Rationale string     `json:"rationale"`
}

// ExploitabilityLine is the exploitability of the latest assessment and what it rests on.
type ExploitabilityLine struct {
	Level    vigil.Exploitability `json:"level"`
	CVSS     string               `json:"cvss,omitempty"`
	SubScore *float64             `json:"sub_score,omitempty"` // the CVSS v3 exploitability sub-score of CVSS
	Override string               `json:"override_reason,omitempty"`
}

// ControlLine is one control in place: resolved against the threat model when it names one of its controls,
// else the assessor's free text (Kind empty).
type ControlLine struct {
	Ref       string   `json:"ref,omitempty"`
	Kind      string   `json:"kind,omitempty"`
	Name      string   `json:"name"`
	Reference string   `json:"reference,omitempty"`
	Threats   []string `json:"threats,omitempty"`
}

// auditReader is the part of the audit service the summary reads, when the store offers it.
type auditReader interface {
	Events(ctx context.Context, f vigil.AuditFilter) ([]*vigil.AuditEvent, error)
}

// Summary assembles the per-vulnerability summary of a finding as of asOf (today when zero).
func (s *Service) Summary(ctx context.Context, id int64, asOf vigil.Date) (*Summary, error) {
	v, err := s.FindingView(ctx, id, asOf)
	if err != nil {
		return nil, err
	}
	_, loc := s.org(ctx)
	sm := &Summary{AsOf: v.AsOf, Case: v.Case, Finding: v.Finding, Device: v.Device, Version: v.Version, KEV: v.KEV, EPSS: v.EPSS,
		Assessments: []AssessmentLine{}, Functions: []vigil.ClinicalFunction{}, Threats: []*vigil.Threat{}, Controls: []ControlLine{},
		Determination: v.Determination, Clocks: Clocks(v), Events: v.Events, Problem: v.Problem}
	if v.Provisional {
		// The summary records what was determined: a provisional determination is not one.
		sm.Determination = nil
		sm.Problem = fmt.Sprintf("not assessed yet: no risk determination has been recorded; assess before %s (D0 + 30 days)", assessBefore(v.Case))
	}
	if sm.Clocks == nil {
		sm.Clocks = []Deadline{}
	}
	sm.Learned = s.learnedHow(ctx, v.Case, v.Finding)
	trace, err := s.Store.AssessmentThreats(ctx, v.Case.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range v.Assessments {
		sm.Assessments = append(sm.Assessments, AssessmentLine{ID: a.ID, Date: a.Date.String(), Recorded: vigil.DateOf(a.CreatedAt, loc).String(), Actor: a.Actor,
			Risk: a.Risk, Matrix: a.Matrix, Interim: a.Interim, Threats: trace[a.ID], Rationale: a.Rationale})
	}
	if len(v.Assessments) == 0 {
		return sm, nil
	}
	a := v.Assessments[len(v.Assessments)-1]
	sm.Assessment = a
	if a.Exploitability != "" {
		e := &ExploitabilityLine{Level: a.Exploitability, CVSS: a.CVSS, Override: a.ExploitabilityReason}
		if c, err := risk.ParseCVSS(a.CVSS); err == nil && (c.Version == risk.CVSS30 || c.Version == risk.CVSS31) {
			e.SubScore = c.Exploitability
		}
		sm.Exploitability = e
	}
	for _, name := range a.Functions {
		f := vigil.ClinicalFunction{Name: name, Severity: "(no longer a function of the device)"}
		if j := slices.IndexFunc(v.Device.Functions, func(x vigil.ClinicalFunction) bool { return strings.EqualFold(x.Name, name) }); j >= 0 {
			f = v.Device.Functions[j]
		}
		sm.Functions = append(sm.Functions, f)
	}
	if len(trace[a.ID]) > 0 || len(a.Controls) > 0 {
		tm, err := s.Store.ThreatModel(ctx, v.Device.ID)
		if err != nil {
			return nil, err
		}
		for _, ref := range trace[a.ID] {
			if t := tm.Threat(ref); t != nil {
				sm.Threats = append(sm.Threats, t)
			}
		}
		for _, c := range a.Controls {
			if ctl := tm.Control(c); ctl != nil {
				sm.Controls = append(sm.Controls, ControlLine{Ref: ctl.Ref, Kind: ctl.Kind, Name: ctl.Name, Reference: ctl.Reference, Threats: ctl.Threats})
			} else {
				sm.Controls = append(sm.Controls, ControlLine{Name: c})
			}
		}
	}
	return sm, nil
}

// learnedHow says how the vulnerability was learned of: the reason recorded with the finding's creation when the
// audit trail is at hand, else the evidence of the case's D0 when a person gave it, else what the matcher found.
func (s *Service) learnedHow(ctx context.Context, c *vigil.Case, f *vigil.Finding) string {
	if ar, ok := s.Store.(auditReader); ok {
		evs, err := ar.Events(ctx, vigil.AuditFilter{ObjectType: "finding", ObjectID: fmt.Sprint(f.ID), Action: "finding.create"})
		if err == nil && len(evs) > 0 && evs[0].Reason != "" {
			return fmt.Sprintf("%s (source: %s, recorded by %s)", evs[0].Reason, orNone(f.Source), evs[0].Actor)
		}
	}
	if c.LearnedHow != vigil.LearnedMatch && c.LearnedEvidence != "" {
		return fmt.Sprintf("%s (%s)", c.LearnedEvidence, c.LearnedHow)
	}
	if e := f.Evidence; e.Matcher != "" {
		s := fmt.Sprintf("matched by %s", e.Matcher)
		if e.Advisory != "" {
			s += " on advisory " + e.Advisory
		}
		if e.Source != "" {
			s += " from " + e.Source
		}
		if e.Range != "" {
			s += " (range " + e.Range + ")"
		}
		return s
	}
	return "source: " + orNone(f.Source)
}

// Markdown writes the summary as a Markdown document, in the order of REGULATORY.md §4. Table cells are escaped
// so that recorded text cannot break the layout.
func (sm *Summary) Markdown(w io.Writer) error {
	b := &mdWriter{}
	f, d := sm.Finding, sm.Device
	b.line("# Vulnerability summary: %s in %s %s", md(f.Vulnerability), md(d.Name), md(sm.Version.Version))
	b.line("")
	b.line("As of %s. The items of G2016 §VIII (21 CFR 814.84) known at assessment time, traced to Vigil's records: finding %d, the threat model of %s, %d assessment(s), %d event(s).",
		sm.AsOf, f.ID, md(d.Name), len(sm.Assessments), len(sm.Events))

	b.section("1. The vulnerability and how it was learned")
	b.item("Vulnerability", md(f.Vulnerability)+aliases(f.Aliases))
	b.item("Device", fmt.Sprintf("%s, class %s, %s%s, version %s (%s, %d units fielded)", md(d.Name), d.Class, d.Pathway, prefixed(" ", d.SubmissionNumber),
		md(sm.Version.Version), sm.Version.Status, sm.Version.UnitsFielded))
	if d.UDIDI != "" {
		b.item("UDI-DI", md(d.UDIDI))
	}
	if c := f.Component; c.Name != "" {
		b.item("Component", md(strings.TrimSpace(c.Name+" "+c.Version))+prefixed(" — ", md(c.Purl)))
	}
	b.item("Learned (D0)", fmt.Sprintf("%s: %s", sm.Case.Learned, md(sm.Learned)))
	if f.Evidence.Fixed != "" {
		b.item("Fixed in", md(f.Evidence.Fixed))
	}
	kev := "not listed in CISA KEV"
	if sm.KEV != nil {
		kev = fmt.Sprintf("listed in CISA KEV since %s (exploited in the wild)", sm.KEV.DateAdded)
	}
	if e := sm.EPSS; e != nil {
		kev += fmt.Sprintf("; EPSS %.4g (percentile %.4g) on %s, a signal, never a verdict", e.Score, e.Percentile, e.Date)
	}
	b.item("Exploitation signals", kev)

	if sm.Assessment == nil {
		b.section("2. Risk assessment")
		p := strings.TrimSuffix(sm.Problem, ".")
		if p != "" {
			p = strings.ToUpper(p[:1]) + p[1:]
		}
		b.line("%s.", md(p))
		return b.flush(w)
	}
	a := sm.Assessment
	b.section("2. Exploitability")
	if e := sm.Exploitability; e != nil {
		lvl := string(e.Level)
		if e.SubScore != nil {
			lvl += fmt.Sprintf(" — CVSS v3 exploitability sub-score %.1f (≥ %.1f high, ≥ %.1f medium, else low)", *e.SubScore, risk.SubscoreHigh, risk.SubscoreMedium)
		}
		b.item("Level", lvl)
		if e.CVSS != "" {
			b.item("Assessed vector", "`"+e.CVSS+"`")
		}
		if e.Override != "" {
			b.item("Assessor override", md(e.Override))
		}
	} else {
		b.line("Not assessed: the risk was decided without the acceptance matrix (VEX not_affected or confidentiality only).")
	}

	b.section("3. Clinical functions reached and severity of patient harm")
	if len(sm.Functions) == 0 {
		b.line("No clinical function named.")
	} else {
		b.table([]string{"Clinical function", "Severity if lost or corrupted"})
		for _, fn := range sm.Functions {
			b.row(fn.Name, fn.Severity)
		}
		b.line("")
	}
	sev := orNone(a.Severity)
	if a.SeverityReason != "" {
		sev += " — set by the assessor: " + md(a.SeverityReason)
	} else if a.Severity != "" {
		sev += " (the worst of the functions reached)"
	}
	b.item("Severity of patient harm", sev)
	if a.ConfidentialityOnly {
		b.item("Confidentiality only", "yes: loss of PHI confidentiality is not patient harm (G2016 §IV.F)")
	}
	if a.VEXStatus != "" {
		b.item("VEX status", string(a.VEXStatus))
	}

	b.section("4. Threat model trace and controls in place")
	if len(sm.Threats) == 0 {
		b.line("No threat of the threat model named.")
	} else {
		b.table([]string{"Threat", "STRIDE", "Assets", "Entry points", "Clinical functions"})
		for _, t := range sm.Threats {
			b.row(t.Ref+" "+t.Title, strings.ReplaceAll(t.Category, "_", " "), strings.Join(t.Assets, ", "), strings.Join(t.EntryPoints, ", "), strings.Join(t.Functions, ", "))
		}
		b.line("")
	}
	if len(sm.Controls) == 0 {
		b.line("No control in place was recorded.")
	} else {
		b.table([]string{"Control in place", "Kind", "Documented in", "Addresses"})
		for _, c := range sm.Controls {
			kind := "free text (not in the threat model)"
			if c.Kind != "" {
				kind = controlKind(c.Kind)
			}
			b.row(strings.TrimSpace(c.Ref+" "+c.Name), kind, c.Reference, strings.Join(c.Threats, ", "))
		}
	}

	b.section("5. Risk determination")
	dt := sm.Determination
	first := sm.Assessments[0]
	b.item("Risk", fmt.Sprintf("%s — the first determination (assessment %d, %s, %s)%s", first.Risk, first.ID, first.Date, md(first.Actor), matrixNote(first.Matrix)))
	if dt != nil {
		b.item("Current risk", string(dt.CurrentRisk))
		kind := "an enhancement: a cybersecurity routine update or patch, not reportable under 21 CFR 806 (G2016 §VII.A)"
		if dt.Change == "correction" {
			kind = "a correction: remediating an uncontrolled risk of patient harm (G2016 §VII.B)"
		}
		b.item("Change classification", kind)
	} else {
		b.item("Determination", "could not be made: "+md(sm.Problem))
	}
	b.item("Rationale of the latest assessment", md(a.Rationale))
	if a.SSVC != "" {
		b.item("Patch priority (SSVC)", md(a.SSVC))
	}
	b.line("")
	b.table([]string{"Assessment", "Date", "By", "Risk", "Matrix", "Threats"})
	for _, l := range sm.Assessments {
		risk := string(l.Risk)
		if l.Interim {
			risk += " (interim)"
		}
		b.row(fmt.Sprint(l.ID), l.Date, l.Actor, risk, l.Matrix, strings.Join(l.Threats, ", "))
	}

	if dt == nil {
		return b.flush(w)
	}
	b.section("6. Enforcement discretion and clocks")
	b.item("Enforcement discretion (G2016 §VII.B)", dt.EnforcementDiscretion.Status)
	if len(dt.EnforcementDiscretion.Criteria) > 0 {
		b.line("")
		b.table([]string{"Criterion", "Status", "Reason", "Evidence"})
		for _, c := range dt.EnforcementDiscretion.Criteria {
			b.row(fmt.Sprint(c.N), c.Status, c.Reason, sm.evidence(c.Evidence))
		}
	}
	b.line("")
	if len(sm.Clocks) == 0 {
		b.line("No open clock.")
	} else {
		b.table([]string{"Clock", "Due", "Days left", "Status", "What"})
		for _, c := range sm.Clocks {
			left := fmt.Sprint(c.DaysLeft)
			if c.Overdue {
				left = fmt.Sprintf("**OVERDUE** by %d", -c.DaysLeft)
			}
			b.row(c.Clock, c.Due.String(), left, c.Status, c.What)
		}
	}
	for _, x := range dt.Warnings {
		b.line("")
		if x.Event != nil {
			b.line("**Warning (%s):** %s. Event: %s.", x.Code, md(x.Message), md(sm.evidence([]string{fmt.Sprintf("events[%d]", *x.Event)})))
			continue
		}
		b.line("**Warning (%s):** %s.", x.Code, md(x.Message))
	}

	b.section("7. Reports and submissions")
	due := "no due date yet"
	if !dt.Part806.Due.IsZero() {
		due = "due " + dt.Part806.Due.String()
	}
	b.item("21 CFR 806 report", fmt.Sprintf("%s (%s)", dt.Part806.Status, due))
	pre := "not expected for a routine update; record that decision"
	if dt.PremarketEvaluation {
		pre = "required: evaluate whether a PMA supplement or new 510(k) is needed and record the decision and its basis"
	}
	b.item("Premarket evaluation", pre)
	pma := fmt.Sprintf("no: the device is on the %s pathway", d.Pathway)
	if dt.PMAPeriodicReport {
		pma = fmt.Sprintf("yes: report the vulnerability and the %s in the next PMA periodic report (21 CFR 814.84)", dt.Change)
		if d.PMAAnniversary != nil {
			pma += fmt.Sprintf("; anniversary %s", d.PMAAnniversary)
		}
	}
	b.item("PMA periodic report", pma)

	b.section("8. Events and their evidence")
	if len(sm.Events) == 0 {
		b.line("No event recorded.")
	} else {
		b.table([]string{"Date", "Event", "Details", "Evidence", "Recorded by"})
		for _, e := range sm.Events {
			b.row(e.Date.String(), e.Type, eventDetails(e.Details), e.Note, e.Actor)
		}
	}
	return b.flush(w)
}

// evidence turns the determination's "events[i]" pointers into the events' dates, types and notes.
func (sm *Summary) evidence(refs []string) string {
	var out []string
	for _, r := range refs {
		var i int
		if _, err := fmt.Sscanf(r, "events[%d]", &i); err == nil {
			// The determination's events are the reassessments first (one per later assessment), then the
			// recorded events, in FromRecord's order.
			j := i - (len(sm.Assessments) - 1)
			if j >= 0 && j < len(sm.Events) {
				e := sm.Events[j]
				out = append(out, fmt.Sprintf("%s %s: %s", e.Date, e.Type, e.Note))
				continue
			}
		}
		out = append(out, r)
	}
	return strings.Join(out, "; ")
}

func eventDetails(d vigil.EventData) string {
	var p []string
	if len(d.Elements) > 0 {
		p = append(p, "elements "+strings.Join(d.Elements, ","))
	}
	if d.Validated {
		p = append(p, "validated")
	}
	if d.Remediation != "" {
		p = append(p, strings.ReplaceAll(d.Remediation, "_", " "))
	}
	if d.Risk != "" {
		p = append(p, "risk "+string(d.Risk))
	}
	if d.Interim {
		p = append(p, "interim")
	}
	if d.RemedialAction {
		p = append(p, "remedial action")
	}
	if d.IncludesCorrection {
		p = append(p, "includes the correction")
	}
	return strings.Join(p, ", ")
}

func matrixNote(m string) string {
	if m == "" {
		return ", without the acceptance matrix"
	}
	return ", acceptance matrix " + md(m)
}

func aliases(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return " (also " + md(strings.Join(a, ", ")) + ")"
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// md makes recorded text safe in a Markdown line: one line, no HTML, no emphasis or link syntax.
func md(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return mdEscaper.Replace(s)
}

// mdEscaper backslash-escapes what Markdown would read as markup; a backslash escape (CommonMark) rather than an
// HTML entity, so the text reads the same in a plain-text viewer ("< 3.5.0", not "&lt; 3.5.0").
var mdEscaper = strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "<", "\\<", "|", "\\|", "#", "\\#")

// mdWriter builds the document; only flush writes, so a writer error is reported once.
type mdWriter struct{ strings.Builder }

func (b *mdWriter) line(format string, args ...any) {
	fmt.Fprintf(&b.Builder, format, args...)
	b.WriteByte('\n')
}

func (b *mdWriter) section(title string) {
	b.line("")
	b.line("## %s", title)
	b.line("")
}

func (b *mdWriter) item(name, value string) { b.line("- **%s:** %s", name, value) }

func (b *mdWriter) table(headers []string) {
	b.line("| %s |", strings.Join(headers, " | "))
	b.line("|%s", strings.Repeat("---|", len(headers)))
}

// row writes a table row; every cell is recorded text and is escaped.
func (b *mdWriter) row(cells ...string) {
	for i := range cells {
		cells[i] = md(cells[i])
		if cells[i] == "" {
			cells[i] = "—"
		}
	}
	b.line("| %s |", strings.Join(cells, " | "))
}

func (b *mdWriter) flush(w io.Writer) error {
	_, err := io.WriteString(w, b.String())
	return err
}
