// Package regulatory is Vigil's FDA determination engine: a pure function from the facts of one vulnerability in
// one device (what was learned when, the risk determination, what the manufacturer did and when) and a date to
// what follows under G2016 §VII and 21 CFR 806/803/814: enhancement or correction, the four enforcement-discretion
// criteria, the Part 806 report status and due date, the premarket and PMA periodic-report consequences, every
// clock, and the warnings a person must act on. It reads no clock, store or network, so the CLI, the API and the
// UI all get the same answer for the same facts. DETERMINATION.md in the shared design notes is the contract.
package regulatory

import (
	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/calendar"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Facts is the input of a determination, in the JSON shape of the Determination API.
type Facts struct {
	// AsOf is the date the determination is made for; events after it have not happened yet. Required by
	// Determine; DetermineJSON fills it with today when the document leaves it out.
	AsOf          vigil.Date    `json:"as_of"`
	Policy        Policy        `json:"policy"`
	Device        Device        `json:"device"`
	Vulnerability Vulnerability `json:"vulnerability"`
	Events        []Event       `json:"events"`
	// policyErr is why the organization's stored policy could not be read (FromRecord); Determine reports it.
	policyErr error
}

// Device is what the determination needs to know about the device.
type Device struct {
	Name        string        `json:"name,omitempty"`
	Class       string        `json:"class,omitempty"` // I, II, III
	Pathway     vigil.Pathway `json:"pathway,omitempty"`
	CyberDevice bool          `json:"cyber_device"`
	ISAO        *ISAO         `json:"isao,omitempty"`
	// Matrix, when set, is the device's own risk acceptance matrix; it overrides Policy.Matrix.
	Matrix *risk.Matrix `json:"acceptance_matrix,omitempty"`
	// matrixErr is why the device's stored matrix could not be read (FromRecord); Determine reports it.
	matrixErr error
}

// ISAO is the manufacturer's participation in an Information Sharing and Analysis Organization (G2016 §IX).
type ISAO struct {
	Member bool   `json:"member"`
	Name   string `json:"name,omitempty"`
	// CriteriaEvidenced says objective evidence exists for the four §IX participation criteria.
	CriteriaEvidenced bool `json:"criteria_evidenced"`
}

// Vulnerability is the vulnerability as assessed for this device.
type Vulnerability struct {
	ID      string     `json:"id,omitempty"`
	Learned vigil.Date `json:"learned"` // D0: the day the manufacturer learned of it
	// CVSS is a base vector; a v3.0 or v3.1 vector lets the engine derive exploitability.
	CVSS           string               `json:"cvss,omitempty"`
	Exploitability vigil.Exploitability `json:"exploitability,omitempty"`
	Severity       string               `json:"severity,omitempty"` // of patient harm: vigil.HarmSeverities
	KEV            bool                 `json:"kev"`
	EPSS           *float64             `json:"epss,omitempty"`
	// ConfidentialityOnly means only data confidentiality (PHI) is at stake: not patient harm (G2016 §IV.F).
	ConfidentialityOnly bool            `json:"confidentiality_only"`
	VEXStatus           vigil.VEXStatus `json:"vex_status,omitempty"`
	// Risk is the recorded first determination (controlled or uncontrolled); empty lets the engine decide.
	Risk vigil.Risk `json:"risk,omitempty"`
	// Matrix is the ID of the acceptance matrix the recorded risk was decided with (e.g. "vigil-default v1"), when
	// a matrix decided it; the determination repeats it.
	Matrix string `json:"matrix,omitempty"`
}

// Event types.
const (
	EventCustomerNotified    = "customer_notified"
	EventInterimControls     = "interim_controls"
	EventRemediationPlan     = "remediation_plan"
	EventISAOShared          = "isao_shared"
	EventCorrectionInitiated = "correction_initiated"
	EventFixDistributed      = "fix_distributed"
	EventReassessed          = "reassessed"
	EventSeriousAdverseEvent = "serious_adverse_event"
	EventMDRFiled            = "mdr_filed"
	EventPart806Filed        = "part806_filed"
)

// EventTypes lists the valid Event.Type values.
var EventTypes = []string{
	EventCustomerNotified, EventInterimControls, EventRemediationPlan, EventISAOShared, EventCorrectionInitiated,
	EventFixDistributed, EventReassessed, EventSeriousAdverseEvent, EventMDRFiled, EventPart806Filed,
}

// Event is one dated thing that happened. Only the fields of its type are read.
type Event struct {
	Type string     `json:"type"`
	Date vigil.Date `json:"date"` // when it happened: what the criteria judge
	// Recorded is the day the event was entered (zero: taken as Date). It may not precede Date; an action entered
	// after the deadline it met raises a late_entry warning, since the record did not show it in time.
	Recorded vigil.Date `json:"recorded,omitzero"`
	// Elements are the G2016 §VII.B criterion 2 notice elements (a)-(d) a customer_notified notice holds. nil means
	// not recorded (the notice is taken as complete); a non-nil list must hold all four.
	Elements []string `json:"elements,omitempty"`
	// Validated and Remediation describe a fix_distributed: only a validated one meets criterion 3.
	Validated   bool   `json:"validated,omitempty"`
	Remediation string `json:"remediation,omitempty"` // patch, compensating_control
	// Risk and Interim describe a reassessed event.
	Risk    vigil.Risk `json:"risk,omitempty"`
	Interim bool       `json:"interim,omitempty"`
	// RemedialAction marks a serious_adverse_event that needs remedial action (803.53 five-day report).
	RemedialAction bool `json:"remedial_action,omitempty"`
	// IncludesCorrection marks an mdr_filed that reports the correction too (806.10(f)).
	IncludesCorrection bool `json:"includes_correction,omitempty"`
}

// Enumerations the facts are checked against (the risk, exploitability and VEX words are vigil's).
var (
	Remediations   = []string{"patch", "compensating_control"}
	NoticeElements = []string{"a", "b", "c", "d"}
)

// Determination is the output, in the JSON shape of the Determination API. Keys beyond the contract (as_of,
// exploitability, matrix, policy, criterion evidence) are additions that record how the answer was reached.
type Determination struct {
	AsOf        vigil.Date `json:"as_of"`
	Risk        vigil.Risk `json:"risk"`         // the first determination: the one that starts the clocks
	CurrentRisk vigil.Risk `json:"current_risk"` // after the latest reassessment
	Change      string     `json:"change"`       // enhancement or correction
	// Exploitability is set when the acceptance matrix decided the risk; Matrix is the ID of the matrix that decided
	// it, now or (vulnerability.matrix) when the recorded risk was determined.
	Exploitability        vigil.Exploitability  `json:"exploitability,omitempty"`
	Matrix                string                `json:"matrix,omitempty"`
	EnforcementDiscretion EnforcementDiscretion `json:"enforcement_discretion"`
	Part806               Part806               `json:"part806"`
	PremarketEvaluation   bool                  `json:"premarket_evaluation"`
	PMAPeriodicReport     bool                  `json:"pma_periodic_report"`
	Deadlines             Deadlines             `json:"deadlines"`
	Rationale             []string              `json:"rationale"`
	Warnings              []Warning             `json:"warnings"`
	Policy                Policy                `json:"policy"` // the policy in effect, defaults filled in
}

// Statuses of enforcement discretion, its criteria and the Part 806 report.
const (
	StatusMet           = "met"
	StatusFailed        = "failed"
	StatusPending       = "pending"
	StatusNotApplicable = "not_applicable"

	Part806NotRequired  = "not_required"
	Part806CoveredByMDR = "covered_by_mdr"
	Part806Filed        = "filed"
	Part806Waived       = "waived"
	Part806Conditional  = "conditional"
	Part806Required     = "required"
	Part806Overdue      = "overdue"
)

// EnforcementDiscretion is the G2016 §VII.B outcome and its four criteria (empty for controlled risk).
type EnforcementDiscretion struct {
	Status   string      `json:"status"`
	Criteria []Criterion `json:"criteria"`
}

// Criterion is one of the four enforcement-discretion criteria as of the determination date.
type Criterion struct {
	N      int    `json:"n"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	// Evidence points at the events the status rests on, as "events[i]".
	Evidence []string `json:"evidence,omitempty"`
}

// Part806 is the 21 CFR 806.10 report status. Due is the zero Date (JSON null) when no report can be due.
type Part806 struct {
	Status string     `json:"status"`
	Due    vigil.Date `json:"due"`
}

// Deadlines holds only the clocks that apply; a zero Date is left out of the JSON.
type Deadlines struct {
	EDCommunication vigil.Date `json:"ed_communication,omitzero"`
	EDFix           vigil.Date `json:"ed_fix,omitzero"`
	Part806         vigil.Date `json:"part806,omitzero"`
	MDR             vigil.Date `json:"mdr,omitzero"`
	MDR5Day         vigil.Date `json:"mdr_5_day,omitzero"`
}

// Warning codes: what a person must act on before a rule fails.
const (
	WarnEDAtRisk            = "ed_at_risk"
	WarnPart806WindowPassed = "part806_window_passed"
	WarnLateEntry           = "late_entry"
)

// Warning is one thing a person must act on.
type Warning struct {
	Code string `json:"code"`
	// Event is the index of the event a late_entry warning is about (a pointer: events[0] is an index too).
	Event   *int   `json:"event,omitempty"`
	Message string `json:"message"`
}

// Reassessment clock policies: where the ED clocks start when a controlled risk is reassessed as uncontrolled.
const (
	ReassessmentClockReassessed = "reassessed" // from the reassessment's date (default)
	ReassessmentClockFirst      = "first"      // from the first determination: the date the vulnerability was learned
)

// Policy holds every choice Vigil makes where the regulations are silent (REGULATORY.md "(policy)" items). The
// zero value means the documented defaults; Defaults returns them filled in.
type Policy struct {
	// WorkingDays is how 806.10 working days and 803.53 work days are counted (default federal).
	WorkingDays calendar.Policy `json:"working_days"`
	// RollDeadlines moves calendar-day deadlines (ED 30/60 days, MDR 30 days) that fall on a non-working day to
	// the next working day. Default false: deadlines are inclusive and stay where they fall.
	RollDeadlines bool `json:"roll_deadlines"`
	// ReassessmentClock says where the ED clocks start when the first determination is controlled and a later
	// reassessment says uncontrolled: ReassessmentClockReassessed (default) or ReassessmentClockFirst.
	ReassessmentClock string `json:"reassessment_clock"`
	// Matrix is the risk acceptance matrix (default risk.DefaultMatrix); a device's own matrix overrides it.
	Matrix risk.Matrix `json:"acceptance_matrix"`
	// CVDAckWorkingDays is the number of working days the CVD policy promises for acknowledging a researcher's
	// report (default 5). It starts no clock in a determination; intake uses it through CVDAckDue.
	CVDAckWorkingDays int `json:"cvd_ack_working_days"`
}

// DefaultCVDAckWorkingDays is the default acknowledgement time for researcher reports.
const DefaultCVDAckWorkingDays = 5

// DefaultPolicy returns the documented defaults.
func DefaultPolicy() Policy {
	return Policy{
		WorkingDays:       calendar.Federal,
		ReassessmentClock: ReassessmentClockReassessed,
		Matrix:            risk.DefaultMatrix(),
		CVDAckWorkingDays: DefaultCVDAckWorkingDays,
	}
}

// Defaults returns p with every unset choice replaced by its default.
func (p Policy) Defaults() Policy {
	d := DefaultPolicy()
	if p.WorkingDays != "" {
		d.WorkingDays = p.WorkingDays
	}
	d.RollDeadlines = p.RollDeadlines
	if p.ReassessmentClock != "" {
		d.ReassessmentClock = p.ReassessmentClock
	}
	if !p.Matrix.IsZero() {
		d.Matrix = p.Matrix
	}
	if p.CVDAckWorkingDays != 0 {
		d.CVDAckWorkingDays = p.CVDAckWorkingDays
	}
	return d
}

// OrgPolicy reads an organization's stored policy with the defaults filled in (nil: the defaults) and checks it:
// the store refuses to save what this refuses, and the errors name the field (policy.working_days, ...), so the
// command line, the API and the settings page say the same. The CVD acknowledgement time is the organization's
// CVDAckDays.
func OrgPolicy(o *vigil.Organization) (Policy, error) {
	if o == nil {
		return DefaultPolicy(), nil
	}
	p := Policy{WorkingDays: calendar.Policy(o.Policy.WorkingDays), RollDeadlines: o.Policy.RollDeadlines,
		ReassessmentClock: o.Policy.ReassessmentClock, CVDAckWorkingDays: o.CVDAckDays}
	m, err := risk.DecodeMatrix(o.Policy.AcceptanceMatrix, "policy.acceptance_matrix")
	if err != nil {
		return Policy{}, err
	}
	p.Matrix = m
	return validatePolicy(p, Device{})
}

// CVDAckDue returns the date by which a researcher's report received on received must be acknowledged.
func (p Policy) CVDAckDue(received vigil.Date) vigil.Date {
	p = p.Defaults()
	return calendar.AddWorkingDays(received, p.CVDAckWorkingDays, p.WorkingDays)
}
