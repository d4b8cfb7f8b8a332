package regulatory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/calendar"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Clock lengths fixed by the texts.
const (
	edCommunicationDays = 30 // G2016 §VII.B criterion 2: calendar days after D0
	edFixDays           = 60 // G2016 §VII.B criterion 3
	edAtRiskDays        = 45 // Vigil's early warning for criterion 3
	part806WorkingDays  = 10 // 21 CFR 806.10(b)
	mdrDays             = 30 // 21 CFR 803.50
	mdr5WorkDays        = 5  // 21 CFR 803.53
)

// Determine applies the rules to f as of f.AsOf. It is pure: the same facts always give the same determination.
// It returns EINVALID, naming the field, when the facts are malformed or the risk cannot be decided.
func Determine(f Facts) (Determination, error) {
	pol, err := validate(&f)
	if err != nil {
		return Determination{}, err
	}
	e := &engine{f: f, pol: pol, asOf: f.AsOf}
	return e.run()
}

// engine holds one determination while it is being made.
type engine struct {
	f    Facts
	pol  Policy
	asOf vigil.Date
	// past holds the indexes of the events dated on or before as_of, in date order (list order for ties); the
	// others have not happened yet and are ignored.
	past []int
	out  Determination
}

func (e *engine) say(format string, args ...any) {
	e.out.Rationale = append(e.out.Rationale, fmt.Sprintf(format, args...))
}

func (e *engine) run() (Determination, error) {
	f := e.f
	for i, ev := range f.Events {
		if !ev.Date.After(e.asOf) {
			e.past = append(e.past, i)
		}
	}
	slices.SortStableFunc(e.past, func(a, b int) int { return f.Events[a].Date.Time().Compare(f.Events[b].Date.Time()) })

	e.out = Determination{AsOf: e.asOf, Policy: e.pol, Rationale: []string{}, Warnings: []Warning{},
		EnforcementDiscretion: EnforcementDiscretion{Criteria: []Criterion{}}}

	first, err := e.firstRisk()
	if err != nil {
		return Determination{}, err
	}
	d0 := e.reassess(first)
	out := &e.out
	uncontrolled := out.Risk == vigil.RiskUncontrolled

	if uncontrolled {
		out.Change = "correction"
		e.say("G2016 §VII.B: remediating an uncontrolled risk of patient harm is a correction; remediate as quickly as possible.")
	} else {
		out.Change = "enhancement"
		e.say("G2016 §VII.A: a change for a controlled risk is a cybersecurity routine update or patch (an enhancement), not a correction.")
	}

	var comm, fix vigil.Date
	if uncontrolled {
		comm, fix = e.roll(d0.AddDays(edCommunicationDays)), e.roll(d0.AddDays(edFixDays))
		out.Deadlines.EDCommunication, out.Deadlines.EDFix = comm, fix
		e.enforcementDiscretion(d0, comm, fix)
	} else {
		out.EnforcementDiscretion.Status = StatusNotApplicable
		e.say("G2016 §VII.B: enforcement discretion does not apply to a controlled risk; no ED clocks run.")
	}

	e.part806(d0)

	out.PremarketEvaluation = uncontrolled
	if uncontrolled {
		e.say("21 CFR 814.39 / 807.81(a)(3): evaluate whether the correction needs a PMA supplement or a new 510(k), and record the decision and its basis.")
	} else {
		e.say("G2016 §VII.A: a routine update for a controlled risk typically needs no premarket submission; record that decision.")
	}
	out.PMAPeriodicReport = f.Device.Pathway == vigil.PathwayPMA
	if out.PMAPeriodicReport {
		e.say("21 CFR 814.84: report the vulnerability and the %s in the next PMA periodic report (G2016 §VIII).", out.Change)
	} else {
		e.say("21 CFR 814.84: the device is not on the PMA pathway (pathway %q), so there is no PMA periodic report entry.", f.Device.Pathway)
	}

	e.mdr()
	e.warnings(d0)
	e.policyEcho()
	if n := len(f.Events) - len(e.past); n > 0 {
		e.say("Events: %d event(s) dated after as_of %s were checked and ignored: they have not happened yet.", n, e.asOf)
	}
	return *out, nil
}

// firstRisk returns the first determination: the recorded one, else the one the facts imply.
func (e *engine) firstRisk() (vigil.Risk, error) {
	v := e.f.Vulnerability
	switch {
	case v.Risk != "":
		if v.Matrix != "" {
			e.out.Matrix = v.Matrix
			e.say("G2016 §VI.C: the recorded risk determination is %s (vulnerability.risk), made with acceptance matrix %s.", v.Risk, v.Matrix)
		} else {
			e.say("G2016 §VI.C: the recorded risk determination is %s (vulnerability.risk).", v.Risk)
		}
		return v.Risk, nil
	case v.VEXStatus == vigil.VEXNotAffected:
		e.say("G2016 §VI.C: the VEX status is not_affected, so the device presents no risk of patient harm from it: controlled.")
		return vigil.RiskControlled, nil
	case v.ConfidentialityOnly:
		e.say("G2016 §IV.F: loss of confidentiality alone is not patient harm, so the risk is controlled.")
		return vigil.RiskControlled, nil
	}
	if v.Severity == "" {
		return "", vigil.Errorf(vigil.EINVALID, "vulnerability.severity: required when there is no recorded risk (the acceptance matrix needs the severity of patient harm)")
	}
	expl, why := v.Exploitability, "as assessed (vulnerability.exploitability)"
	if expl == "" {
		// One rule for the whole program: internal/risk derives the level (KEV, else the v3 sub-score thresholds)
		// for the assessment workflow and for this engine alike.
		lvl, reason, err := risk.Exploitability(risk.ExploitInput{CVSS: v.CVSS, KEV: v.KEV})
		if err != nil {
			return "", vigil.Errorf(vigil.EINVALID, "vulnerability.exploitability: required when there is no recorded risk, no KEV listing and no CVSS v3.x vector to derive it from (%s)", vigil.ErrorMessage(err))
		}
		expl, why = lvl, "("+strings.TrimPrefix(reason, string(lvl)+": ")+")"
	}
	e.say("G2016 §VI.A: exploitability is %s %s.", expl, why)
	if v.EPSS != nil {
		e.say("G2016 §VI.A: EPSS %.4g is recorded as an exploitability signal, never a verdict alone.", *v.EPSS)
	}
	m := e.pol.Matrix
	d, err := m.Determine(expl, v.Severity)
	if err != nil {
		return "", vigil.Errorf(vigil.EINVALID, "vulnerability: %s", vigil.ErrorMessage(err))
	}
	e.out.Exploitability, e.out.Matrix = expl, d.Matrix
	e.say("G2016 §VI.C: acceptance matrix %s puts %s exploitability × %s severity of patient harm in the %s region.", d.Matrix, expl, v.Severity, d.Risk)
	return d.Risk, nil
}

// reassess applies the reassessed events to the first determination, sets Risk and CurrentRisk, and returns D0,
// the date the ED clocks run from.
func (e *engine) reassess(first vigil.Risk) vigil.Date {
	out := &e.out
	d0 := e.f.Vulnerability.Learned
	out.Risk, out.CurrentRisk = first, first
	var latest *Event
	for _, i := range e.past {
		ev := &e.f.Events[i]
		if ev.Type != EventReassessed {
			continue
		}
		latest = ev
		if out.Risk == vigil.RiskControlled && ev.Risk == vigil.RiskUncontrolled {
			// A later finding that the risk is uncontrolled makes it a correction after all; the policy says
			// whether the clocks run from that finding or from the day the vulnerability was learned.
			out.Risk = vigil.RiskUncontrolled
			if e.pol.ReassessmentClock == ReassessmentClockReassessed {
				d0 = ev.Date
			}
			e.say("G2016 §VI.C: the reassessment of %s found the first (controlled) determination wrong: the risk is uncontrolled, and the ED clocks run from %s (policy reassessment_clock=%s).", ev.Date, d0, e.pol.ReassessmentClock)
		}
	}
	if latest != nil {
		out.CurrentRisk = latest.Risk
		kind := "reassessment"
		if latest.Interim {
			kind = "interim reassessment"
		}
		e.say("G2016 §VI.C: the latest %s, on %s, records the risk as %s; it adds a record and never erases the determination that started the clocks.", kind, latest.Date, latest.Risk)
	}
	return d0
}

// roll applies the roll_deadlines policy to a calendar-day deadline.
func (e *engine) roll(d vigil.Date) vigil.Date {
	if e.pol.RollDeadlines {
		return calendar.NextWorkingDay(d, e.pol.WorkingDays)
	}
	return d
}

// firstPast returns the index of the earliest event on or before as_of that matches, or -1.
func (e *engine) firstPast(match func(Event) bool) int {
	for _, i := range e.past {
		if match(e.f.Events[i]) {
			return i
		}
	}
	return -1
}

func typeIs(typ string) func(Event) bool { return func(ev Event) bool { return ev.Type == typ } }

func ref(i int) string { return fmt.Sprintf("events[%d]", i) }

// incompleteNotice names, for a missing customer notice, the on-time notice that lacked elements and which ones
// (" (the notice of 2025-06-20 lacks element c)"), so the person sees why the notice sent does not count.
func (e *engine) incompleteNotice(comm vigil.Date) string {
	i := e.firstPast(func(ev Event) bool { return ev.Type == EventCustomerNotified && !complete(ev) && !ev.Date.After(comm) })
	if i < 0 {
		return ""
	}
	var lack []string
	for _, want := range NoticeElements {
		if !slices.Contains(e.f.Events[i].Elements, want) {
			lack = append(lack, want)
		}
	}
	word := "element"
	if len(lack) > 1 {
		word = "elements"
	}
	return fmt.Sprintf(" (the notice of %s lacks %s %s)", e.f.Events[i].Date, word, strings.Join(lack, ", "))
}

// complete reports whether a customer notice carries the four G2016 §VII.B elements (or does not record them).
func complete(ev Event) bool {
	if ev.Elements == nil {
		return true
	}
	for _, want := range NoticeElements {
		if !slices.Contains(ev.Elements, want) {
			return false
		}
	}
	return true
}

// enforcementDiscretion evaluates the four criteria of G2016 §VII.B for an uncontrolled risk.
func (e *engine) enforcementDiscretion(d0, comm, fix vigil.Date) {
	isao := e.f.Device.ISAO
	onTime := func(deadline vigil.Date, match func(Event) bool) int {
		return e.firstPast(func(ev Event) bool { return match(ev) && !ev.Date.After(deadline) })
	}
	crit := make([]Criterion, 0, 4)

	// 1: no known serious adverse event or death.
	c1 := Criterion{N: 1, Status: StatusMet, Reason: "no known serious adverse event or death associated with the vulnerability"}
	if i := e.firstPast(typeIs(EventSeriousAdverseEvent)); i >= 0 {
		c1 = Criterion{N: 1, Status: StatusFailed, Reason: fmt.Sprintf("a serious adverse event associated with the vulnerability is known since %s", e.f.Events[i].Date), Evidence: []string{ref(i)}}
	}
	crit = append(crit, c1)

	// 2: customer communication with elements (a)-(d), interim compensating controls and a remediation plan by
	// D0+30.
	c2 := Criterion{N: 2}
	parts := []struct {
		name  string
		match func(Event) bool
	}{
		{"a customer notice with elements (a)-(d)", func(ev Event) bool { return ev.Type == EventCustomerNotified && complete(ev) }},
		{"interim compensating controls", typeIs(EventInterimControls)},
		{"a remediation plan", typeIs(EventRemediationPlan)},
	}
	var missing []string
	for k, p := range parts {
		if i := onTime(comm, p.match); i >= 0 {
			c2.Evidence = append(c2.Evidence, ref(i))
		} else if k == 0 {
			missing = append(missing, p.name+e.incompleteNotice(comm))
		} else {
			missing = append(missing, p.name)
		}
	}
	switch {
	case len(missing) == 0:
		c2.Status, c2.Reason = StatusMet, fmt.Sprintf("customers were notified with elements (a)-(d), interim compensating controls identified and a remediation plan set by %s (D0+30)", comm)
	case e.asOf.After(comm):
		c2.Status, c2.Reason = StatusFailed, fmt.Sprintf("missing or later than %s (D0+30): %s", comm, strings.Join(missing, ", "))
	default:
		c2.Status, c2.Reason = StatusPending, fmt.Sprintf("still needed by %s (D0+30): %s", comm, strings.Join(missing, ", "))
	}
	crit = append(crit, c2)

	// 3: a validated fix (patch or compensating control) distributed by D0+60.
	c3 := Criterion{N: 3}
	if i := onTime(fix, func(ev Event) bool { return ev.Type == EventFixDistributed && ev.Validated }); i >= 0 {
		kind := e.f.Events[i].Remediation
		if kind == "" {
			kind = "fix"
		}
		c3 = Criterion{N: 3, Status: StatusMet, Reason: fmt.Sprintf("a validated %s was distributed on %s, by %s (D0+60)", strings.ReplaceAll(kind, "_", " "), e.f.Events[i].Date, fix), Evidence: []string{ref(i)}}
	} else if e.asOf.After(fix) {
		c3.Status, c3.Reason = StatusFailed, fmt.Sprintf("no validated fix was distributed by %s (D0+60)", fix)
	} else {
		c3.Status, c3.Reason = StatusPending, fmt.Sprintf("a validated fix must be distributed by %s (D0+60)", fix)
	}
	crit = append(crit, c3)

	// 4: active ISAO participation, sharing the customer communication by D0+30.
	c4 := Criterion{N: 4}
	switch {
	case isao == nil || !isao.Member:
		c4.Status, c4.Reason = StatusFailed, "the manufacturer is not a member of an ISAO"
	case !isao.CriteriaEvidenced:
		c4.Status, c4.Reason = StatusFailed, "active ISAO participation is not evidenced (G2016 §IX criteria)"
	default:
		if i := onTime(comm, typeIs(EventISAOShared)); i >= 0 {
			c4 = Criterion{N: 4, Status: StatusMet, Reason: fmt.Sprintf("an active ISAO member shared the customer communication with %s on %s, by %s (D0+30)", isaoName(isao), e.f.Events[i].Date, comm), Evidence: []string{ref(i)}}
		} else if e.asOf.After(comm) {
			c4.Status, c4.Reason = StatusFailed, fmt.Sprintf("the customer communication was not shared with %s by %s (D0+30)", isaoName(isao), comm)
		} else {
			c4.Status, c4.Reason = StatusPending, fmt.Sprintf("the customer communication must be shared with %s by %s (D0+30)", isaoName(isao), comm)
		}
	}
	crit = append(crit, c4)

	status := StatusMet
	for _, c := range crit {
		if c.Status == StatusFailed {
			status = StatusFailed
			break
		}
		if c.Status == StatusPending {
			status = StatusPending
		}
	}
	e.out.EnforcementDiscretion = EnforcementDiscretion{Status: status, Criteria: crit}
	for _, c := range crit {
		e.say("G2016 §VII.B criterion %d: %s: %s.", c.N, c.Status, c.Reason)
	}
	switch status {
	case StatusMet:
		e.say("G2016 §VII.B: all four criteria are met, so FDA does not intend to enforce 806 reporting (D0 %s).", d0)
	case StatusFailed:
		e.say("G2016 §VII.B: a criterion failed, so enforcement discretion is lost and the correction is reportable under 21 CFR 806 (D0 %s).", d0)
	default:
		e.say("G2016 §VII.B: no criterion has failed but some are not yet decidable as of %s (D0 %s).", e.asOf, d0)
	}
}

func isaoName(i *ISAO) string {
	if i.Name != "" {
		return i.Name
	}
	return "the ISAO"
}

// part806 decides the 21 CFR 806.10 report status and due date.
func (e *engine) part806(d0 vigil.Date) {
	out := &e.out
	if out.Risk != vigil.RiskUncontrolled {
		out.Part806 = Part806{Status: Part806NotRequired}
		e.say("21 CFR 806.1(b)(1) and G2016 §VII.A: a routine update for a controlled risk is not reportable under Part 806.")
		return
	}
	// A correction is initiated by the correction_initiated event, else the first customer notice, else the first
	// fix distributed. Only actions on or after D0 count: before a reassessment found the risk uncontrolled, a
	// notice or patch was a routine update, not a correction.
	start := -1
	for _, typ := range []string{EventCorrectionInitiated, EventCustomerNotified, EventFixDistributed} {
		if start = e.firstPast(func(ev Event) bool { return ev.Type == typ && !ev.Date.Before(d0) }); start >= 0 {
			break
		}
	}
	var due vigil.Date
	if start >= 0 {
		ev := e.f.Events[start]
		due = calendar.AddWorkingDays(ev.Date, part806WorkingDays, e.pol.WorkingDays)
		e.say("21 CFR 806.10(b): the report is due within 10 working days of initiating the correction (%s, %s): %s.", ev.Date, ev.Type, due)
	} else {
		e.say("21 CFR 806.10(b): no correction has been initiated yet, so no 806 due date runs.")
	}

	ed := out.EnforcementDiscretion.Status
	mdr := e.firstPast(func(ev Event) bool { return ev.Type == EventMDRFiled && ev.IncludesCorrection })
	filed := e.firstPast(typeIs(EventPart806Filed))
	var status string
	switch {
	case mdr >= 0:
		status = Part806CoveredByMDR
		e.say("21 CFR 806.10(f): the correction was reported under Part 803 (MDR filed %s including the correction), so no separate 806 report is needed.", e.f.Events[mdr].Date)
	case filed >= 0:
		status = Part806Filed
		fd := e.f.Events[filed].Date
		if !due.IsZero() && fd.After(due) {
			e.say("21 CFR 806.10: the 806 report was filed on %s, after its due date %s.", fd, due)
		} else {
			e.say("21 CFR 806.10: the 806 report was filed on %s.", fd)
		}
	case ed == StatusMet:
		status = Part806Waived
		e.say("G2016 §VII.B: with enforcement discretion met the 806 report is waived; keep an 806.20 record of the correction and the justification for not reporting.")
	case ed == StatusPending:
		status = Part806Conditional
		e.say("G2016 §VII.B: enforcement discretion is pending, so the 806 report becomes due (%s) only if it is lost.", dateOrNone(due))
	case !due.IsZero() && e.asOf.After(due):
		status = Part806Overdue
		e.say("21 CFR 806.10: OVERDUE: enforcement discretion is lost and the 806 report due %s has not been filed; file it now.", due)
	default:
		status = Part806Required
		e.say("21 CFR 806.10: enforcement discretion is lost, so the correction must be reported to FDA by %s.", dateOrNone(due))
	}
	out.Part806 = Part806{Status: status, Due: due}
	out.Deadlines.Part806 = due
}

func dateOrNone(d vigil.Date) string {
	if d.IsZero() {
		return "10 working days after the correction is initiated"
	}
	return d.String()
}

// mdr sets the Part 803 clocks that the first serious adverse event starts.
func (e *engine) mdr() {
	sae := e.firstPast(typeIs(EventSeriousAdverseEvent))
	if sae < 0 {
		return
	}
	at := e.f.Events[sae].Date
	e.out.Deadlines.MDR = e.roll(at.AddDays(mdrDays))
	e.say("21 CFR 803.50: the MDR is due %s, 30 calendar days after becoming aware of the serious adverse event on %s.", e.out.Deadlines.MDR, at)
	if ra := e.firstPast(func(ev Event) bool { return ev.Type == EventSeriousAdverseEvent && ev.RemedialAction }); ra >= 0 {
		at := e.f.Events[ra].Date
		e.out.Deadlines.MDR5Day = calendar.AddWorkingDays(at, mdr5WorkDays, e.pol.WorkingDays)
		e.say("21 CFR 803.53: the 5-day report is due %s, 5 work days after the event of %s that needs remedial action.", e.out.Deadlines.MDR5Day, at)
	}
	if i := e.firstPast(typeIs(EventMDRFiled)); i >= 0 {
		e.say("21 CFR 803.50: an MDR was filed on %s.", e.f.Events[i].Date)
	} else if e.asOf.After(e.out.Deadlines.MDR) {
		e.say("21 CFR 803.50: OVERDUE: no MDR filed by %s.", e.out.Deadlines.MDR)
	}
}

// warnings adds what a person must act on before a rule fails, then the actions entered too late to show in time.
func (e *engine) warnings(d0 vigil.Date) {
	out := &e.out
	if out.EnforcementDiscretion.Status == StatusPending {
		validated := e.firstPast(func(ev Event) bool { return ev.Type == EventFixDistributed && ev.Validated })
		if at := d0.AddDays(edAtRiskDays); !e.asOf.Before(at) && validated < 0 {
			out.Warnings = append(out.Warnings, Warning{Code: WarnEDAtRisk, Message: fmt.Sprintf(
				"day %d since D0 %s and no validated fix distributed: enforcement discretion is lost unless one is distributed by %s",
				e.asOf.Sub(d0), d0, out.Deadlines.EDFix)})
		}
		if due := out.Part806.Due; out.Part806.Status == Part806Conditional && !due.IsZero() && e.asOf.After(due) {
			out.Warnings = append(out.Warnings, Warning{Code: WarnPart806WindowPassed, Message: fmt.Sprintf(
				"the 806 report window closed on %s while enforcement discretion is pending: if it is lost the report is already overdue", due)})
		}
	}
	if out.Risk == vigil.RiskUncontrolled {
		e.lateEntries()
	}
}

// lateEntries warns, in event order, of each action counting toward criterion 2, 3 or 4 that was done by its
// deadline but entered after it: the criterion is judged by when it happened, but until the entry nobody could see
// it met, and an inspector will ask for the evidence of the date.
func (e *engine) lateEntries() {
	dl := e.out.Deadlines
	for i, ev := range e.f.Events {
		if ev.Date.After(e.asOf) {
			continue
		}
		deadline, criterion, clock := dl.EDCommunication, 2, "ed_communication"
		switch {
		case ev.Type == EventCustomerNotified && complete(ev), ev.Type == EventInterimControls, ev.Type == EventRemediationPlan:
		case ev.Type == EventISAOShared:
			criterion = 4
		case ev.Type == EventFixDistributed && ev.Validated:
			deadline, criterion, clock = dl.EDFix, 3, "ed_fix"
		default:
			continue
		}
		if ev.Date.After(deadline) || !ev.Recorded.After(deadline) {
			continue
		}
		idx := i
		e.out.Warnings = append(e.out.Warnings, Warning{Code: WarnLateEntry, Event: &idx, Message: fmt.Sprintf(
			"%s dated %s was entered on %s, after its deadline %s (%s): it counts toward criterion %d by its date; keep the evidence that it happened then",
			ev.Type, ev.Date, ev.Recorded, deadline, clock, criterion)})
	}
}

// policyEcho states every policy choice the determination rests on.
func (e *engine) policyEcho() {
	p := e.pol
	if p.WorkingDays == calendar.Weekdays {
		e.say("Policy working_days=weekdays: working days are Monday to Friday, holidays included.")
	} else {
		e.say("Policy working_days=federal: working days are Monday to Friday except US federal holidays (5 U.S.C. 6103(a)) on their observed dates.")
	}
	if p.RollDeadlines {
		e.say("Policy roll_deadlines=true: calendar-day deadlines falling on a non-working day move to the next working day.")
	} else {
		e.say("Policy roll_deadlines=false: deadlines are inclusive and are not moved off weekends or holidays.")
	}
	if p.ReassessmentClock == ReassessmentClockFirst {
		e.say("Policy reassessment_clock=first: when a controlled risk is reassessed as uncontrolled, the ED clocks still run from the first determination (the date learned).")
	} else {
		e.say("Policy reassessment_clock=reassessed: when a controlled risk is reassessed as uncontrolled, the ED clocks run from the reassessment.")
	}
	e.say("Policy acceptance_matrix=%s: the risk acceptance matrix in force for this device.", p.Matrix.ID())
	e.say("Policy cvd_ack_working_days=%d: researcher reports are acknowledged within %d working days.", p.CVDAckWorkingDays, p.CVDAckWorkingDays)
}
