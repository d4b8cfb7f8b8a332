package regulatory

import (
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/risk"
)

// Record is what Vigil keeps of one finding under assessment: the device, the organization (for its ISAO evidence,
// time zone and policy), the finding, the exploitation signals, the recorded assessments and the dated events. FromRecord
// turns it into Facts, so the live determination the UI shows is the same function the Determination API runs.
type Record struct {
	AsOf        vigil.Date
	Org         *vigil.Organization
	Device      *vigil.Device
	Finding     *vigil.Finding
	KEV         bool
	EPSS        *float64
	Assessments []*vigil.Assessment // oldest first
	Events      []*vigil.FindingEvent
}

// FromRecord builds the facts of a record. It reports false when the finding has no assessment yet: without a
// recorded determination there is nothing to decide, and no clock has started. The device's own acceptance matrix,
// when it has one, is the matrix in force, and the first assessment's matrix ID is repeated as the one that decided
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
	isao := &ISAO{}
	if r.Org != nil {
		for _, m := range r.Org.ISAOs {
			if !isao.Member || (!isao.CriteriaEvidenced && m.Evidenced()) {
				isao = &ISAO{Member: true, Name: m.Name, CriteriaEvidenced: m.Evidenced()}
			}
		}
	}
	f.Device.ISAO = isao
	f.Vulnerability = Vulnerability{ID: r.Finding.Vulnerability, Learned: r.Finding.Learned, KEV: r.KEV, EPSS: r.EPSS}
	if len(r.Assessments) == 0 {
		return f, false
	}
	first := r.Assessments[0]
	f.Vulnerability.CVSS = first.CVSS
	f.Vulnerability.Exploitability = first.Exploitability
	f.Vulnerability.Severity = first.Severity
	f.Vulnerability.ConfidentialityOnly = first.ConfidentialityOnly
	f.Vulnerability.VEXStatus = first.VEXStatus
	f.Vulnerability.Risk = first.Risk
	f.Vulnerability.Matrix = first.Matrix
	for _, a := range r.Assessments[1:] {
		f.Events = append(f.Events, Event{Type: EventReassessed, Date: vigil.DateOf(a.CreatedAt, loc), Risk: a.Risk, Interim: a.Interim})
	}
	for _, e := range r.Events {
		f.Events = append(f.Events, EventFrom(e, loc))
	}
	return f, true
}

// EventFrom converts a stored finding event into a determination event; its entry day, in loc (the organization's
// time zone), is the event's recorded date. An event not stored yet has no entry day. An entry day before the event's
// date can only come from a later change of the organization's time zone (the store refuses events dated after the
// day they are entered), so it is left out rather than made an error that would hide the finding's determination.
func EventFrom(e *vigil.FindingEvent, loc *time.Location) Event {
	ev := Event{Type: e.Type, Date: e.Date, Elements: e.Details.Elements, Validated: e.Details.Validated,
		Remediation: e.Details.Remediation, Risk: e.Details.Risk, Interim: e.Details.Interim,
		RemedialAction: e.Details.RemedialAction, IncludesCorrection: e.Details.IncludesCorrection}
	if !e.CreatedAt.IsZero() {
		if rec := vigil.DateOf(e.CreatedAt, loc); !rec.Before(e.Date) {
			ev.Recorded = rec
		}
	}
	return ev
}
