package regulatory

import (
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Record is what Vigil keeps of one case: the device, the organization (for its ISAO memberships, time zone and policy), the
// case (its vulnerability and D0), the exploitation signals, and its records that stand (not retracted): the
// assessments and the dated events. FromRecord turns it into Facts, so the live determination the UI shows is the
// same function the Determination API runs.
type Record struct {
	AsOf        vigil.Date
	Org         *vigil.Organization
	Device      *vigil.Device
	Case        *vigil.Case
	KEV         bool
	EPSS        *float64
	Assessments []*vigil.Assessment // by date, then entry: the first started the clocks
	Events      []*vigil.CaseEvent
}

// FromRecord builds the facts of a record. Every later assessment is a reassessed event on its own date; every
// record's entry day (in the organization's zone) is its recorded date, so a late entry is flagged. It reports
// false when the case has no assessment yet: the facts then hold no risk, and a caller deciding anyway says it is
// provisional. The device's own acceptance matrix, when it has one, is the matrix in force, and the first assessment's matrix ID is repeated as the one that decided
// the recorded risk; a stored matrix that no longer reads makes Determine fail naming it.
func FromRecord(r Record) (Facts, bool) {
	loc := time.UTC
	if r.Org != nil {
		if l, err := time.LoadLocation(r.Org.TimeZone); err == nil {
			loc = l
		}
	}
	f := Facts{AsOf: r.AsOf}
	// The organization's policy is the one in force; one that no longer reads is reported by Determine rather
	// than replaced by the defaults.
	if pol, err := OrgPolicy(r.Org); err != nil {
		f.policyErr = err
	} else {
		f.Policy = pol
	}
	if d := r.Device; d != nil {
		f.Device = Device{Name: d.Name, Class: d.Class, Pathway: d.Pathway, CyberDevice: d.CyberDevice}
		// The device's own acceptance matrix, when it has one, is the one in force (the store validated it on
		// write; a matrix that no longer reads is reported by Determine rather than replaced by the default).
		if m, err := risk.DecodeMatrix(d.AcceptanceMatrix, "device.acceptance_matrix"); err != nil {
			f.Device.matrixErr = err
		} else if !m.IsZero() {
			f.Device.Matrix = &m
		}
	}
	// The memberships covering the device (its own, else the organization's): the one evidenced on the day
	// counts, else one active on it (a member without the §IX evidence), else none.
	isao := &ISAO{}
	if r.Org != nil && r.Device != nil {
		for _, m := range vigil.ISAOsFor(r.Org.ISAOs, r.Device.ID) {
			if m.Active(r.AsOf) && (!isao.Member || (!isao.CriteriaEvidenced && m.Evidenced(r.AsOf))) {
				isao = &ISAO{Member: true, Name: m.Name, CriteriaEvidenced: m.Evidenced(r.AsOf)}
			}
		}
	}
	f.Device.ISAO = isao
	f.Vulnerability = Vulnerability{ID: r.Case.Vulnerability, Learned: r.Case.Learned, KEV: r.KEV, EPSS: r.EPSS}
	if len(r.Assessments) > 0 {
		first := r.Assessments[0]
		f.Vulnerability.CVSS = first.CVSS
		f.Vulnerability.Exploitability = first.Exploitability
		f.Vulnerability.Severity = first.Severity
		f.Vulnerability.ConfidentialityOnly = first.ConfidentialityOnly
		f.Vulnerability.VEXStatus = first.VEXStatus
		f.Vulnerability.Risk = first.Risk
		f.Vulnerability.Matrix = first.Matrix
		for _, a := range r.Assessments[1:] {
			f.Events = append(f.Events, Event{Type: EventReassessed, Date: a.Date, Recorded: recorded(a.CreatedAt, a.Date, loc), Risk: a.Risk, Interim: a.Interim})
		}
	}
	for _, e := range r.Events {
		f.Events = append(f.Events, EventFrom(e, loc))
	}
	return f, len(r.Assessments) > 0
}

// EventFrom converts a stored case event into a determination event; its entry day, in loc (the organization's
// time zone), is the event's recorded date.
func EventFrom(e *vigil.CaseEvent, loc *time.Location) Event {
	return Event{Type: e.Type, Date: e.Date, Recorded: recorded(e.CreatedAt, e.Date, loc), Elements: e.Details.Elements, Validated: e.Details.Validated,
		Remediation: e.Details.Remediation, Risk: e.Details.Risk, Interim: e.Details.Interim,
		RemedialAction: e.Details.RemedialAction, IncludesCorrection: e.Details.IncludesCorrection}
}

// recorded is a record's entry day in loc, zero for a record not stored yet. An entry day before the record's date
// can only come from a later change of the organization's time zone (the store refuses records dated after the day
// they are entered), so it is left out rather than made an error that would hide the case's determination.
func recorded(created time.Time, date vigil.Date, loc *time.Location) vigil.Date {
	if created.IsZero() {
		return vigil.Date{}
	}
	if rec := vigil.DateOf(created, loc); !rec.Before(date) {
		return rec
	}
	return vigil.Date{}
}
