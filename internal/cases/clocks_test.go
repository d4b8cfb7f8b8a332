package cases_test

import (
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

// TestClockStanding: green (met) only for a met obligation. The ED 30-day clock is not met while the ISAO share due
// the same day is pending, a missed ED clock is missed (red), not "satisfied"; a Part 806 report that is not
// required says why; a running clock past its date is overdue.
func TestClockStanding(t *testing.T) {
	asOf := vigil.NewDate(2025, 7, 1)
	due := vigil.NewDate(2025, 7, 10)
	past := vigil.NewDate(2025, 6, 20)
	ed := func(status string, c2, c3, c4 string) *regulatory.Determination {
		return &regulatory.Determination{EnforcementDiscretion: regulatory.EnforcementDiscretion{Status: status, Criteria: []regulatory.Criterion{
			{N: 1, Status: regulatory.StatusMet}, {N: 2, Status: c2}, {N: 3, Status: c3}, {N: 4, Status: c4}}}}
	}
	p806 := func(status string) *regulatory.Determination {
		return &regulatory.Determination{Part806: regulatory.Part806{Status: status}}
	}
	const met, pending, failed = regulatory.StatusMet, regulatory.StatusPending, regulatory.StatusFailed
	for _, tt := range []struct {
		name     string
		det      *regulatory.Determination
		events   []*vigil.CaseEvent
		clock    string
		due      vigil.Date
		standing string
		why      string
	}{
		{"customers notified, ISAO share pending", ed(pending, met, pending, pending), nil, "ed_communication", due, cases.StandingPending, ""},
		{"customers notified and ISAO shared", ed(pending, met, pending, met), nil, "ed_communication", due, cases.StandingMet, ""},
		{"ED communication missed", ed(failed, failed, pending, met), nil, "ed_communication", past, cases.StandingMissed, ""},
		{"ED lost for want of an ISAO", ed(failed, met, pending, failed), nil, "ed_communication", past, cases.StandingMissed, ""},
		{"fix clock after ED was lost elsewhere", ed(failed, met, pending, failed), nil, "ed_fix", due, cases.StandingNotRequired, "enforcement discretion was lost"},
		{"fix pending past its date", ed(pending, met, pending, met), nil, "ed_fix", past, cases.StandingOverdue, ""},
		{"fix distributed", ed(met, met, met, met), nil, "ed_fix", due, cases.StandingMet, ""},
		{"806 required", p806(regulatory.Part806Required), nil, "part806", due, cases.StandingPending, ""},
		{"806 filed", p806(regulatory.Part806Filed), nil, "part806", due, cases.StandingMet, ""},
		{"806 covered by the MDR", p806(regulatory.Part806CoveredByMDR), nil, "part806", due, cases.StandingNotRequired, "covered by mdr"},
		{"806 overdue", p806(regulatory.Part806Overdue), nil, "part806", past, cases.StandingOverdue, ""},
		{"MDR due", p806(""), nil, "mdr", due, cases.StandingPending, ""},
		{"MDR filed", p806(""), []*vigil.CaseEvent{{Type: regulatory.EventMDRFiled}}, "mdr", past, cases.StandingMet, ""},
	} {
		v := &cases.View{Finding: &vigil.Finding{}, AsOf: asOf, Determination: tt.det, Events: tt.events}
		standing, _, why := cases.ClockStanding(v, tt.clock, tt.due)
		if standing != tt.standing || why != tt.why {
			t.Errorf("%s: %s (%q), want %s (%q)", tt.name, standing, why, tt.standing, tt.why)
		}
	}
}
