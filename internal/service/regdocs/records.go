package regdocs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/calendar"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

// CaseRecords is where a case stands with its regulatory records: the documents that apply now, the 806 report
// as filed and its amendments (with the lots an amendment would add), the 806.20 record's latest sign-off and the
// premarket decision in force. The case page's forms and the API read it.
type CaseRecords struct {
	CaseID     int64          `json:"case_id"`
	Documents  []string       `json:"documents"`
	Status     string         `json:"part806_status,omitempty"` // the determination's Part 806 status ("" when not assessed)
	Filed      *FiledReport   `json:"filed,omitempty"`
	Amendments []*FiledReport `json:"amendments"`
	// NewLots are the lots not covered by the report as filed and its amendments: an 806.10(d) amendment is due.
	NewLots   []LotLine          `json:"new_lots"`
	SignOff   *SignOff           `json:"sign_off,omitempty"`
	Premarket *PremarketDecision `json:"premarket,omitempty"`
}

// CaseRecords reads where a case stands with its regulatory records. Needs PermRead.
func (s *Service) CaseRecords(ctx context.Context, caseID int64) (*CaseRecords, error) {
	kinds, err := s.Available(ctx, caseID)
	if err != nil {
		return nil, err
	}
	b, err := s.newBuild(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	out := &CaseRecords{CaseID: v.Case.ID, Documents: append([]string{}, kinds...), Amendments: []*FiledReport{}, NewLots: []LotLine{}}
	if v.Determination != nil && !v.Provisional {
		out.Status = v.Determination.Part806.Status
	}
	ds, err := b.premarketDecisions(ctx, v.Case.ID)
	if err != nil {
		return nil, err
	}
	if len(ds) > 0 {
		out.Premarket = ds[len(ds)-1]
	}
	switch {
	case reportable(out.Status):
		cd, err := b.caseData(ctx, v.Case.ID)
		if err != nil {
			return nil, err
		}
		data, err := b.part806Data(ctx, cd)
		if err != nil {
			return nil, err
		}
		out.Filed, out.Amendments = data.Filed, data.Amendments
		if data.NewLots != nil {
			out.NewLots = data.NewLots
		}
	case notReported(out.Status):
		_, r, err := b.record80620(ctx, v.Case.ID)
		if err != nil {
			return nil, err
		}
		out.SignOff = r.SignOff
	}
	return out, nil
}

// DevicePeriod is what a device's evidence package for a period holds: the period (the PMA reporting period ending
// in the year for a PMA device with an approval anniversary, else the calendar year), the device documents that
// apply, and the cases with something in the period (learned, assessed or an event in it; the PMA report's rule),
// unassessed ones included.
type DevicePeriod struct {
	Device    *vigil.Device `json:"device"`
	Year      int           `json:"year"`
	From      vigil.Date    `json:"from"`
	To        vigil.Date    `json:"to"`
	Documents []string      `json:"documents"`
	Cases     []int64       `json:"cases"`
}

// DevicePeriod reads a device's documents and cases of the period ending in year. Needs PermRead.
func (s *Service) DevicePeriod(ctx context.Context, deviceID int64, year int) (*DevicePeriod, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	if year < 1900 || year > 9999 {
		return nil, vigil.Errorf(vigil.EINVALID, "period: the year the period ends in (YYYY)")
	}
	dev, err := s.Store.Device(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	out := &DevicePeriod{Device: dev, Year: year, Documents: []string{Kind524B, KindCMP}, Cases: []int64{}}
	out.From, out.To = vigil.NewDate(year, 1, 1), vigil.NewDate(year, 12, 31)
	if dev.Pathway == vigil.PathwayPMA && dev.PMAAnniversary != nil {
		out.From, out.To = period(*dev.PMAAnniversary, year)
		out.Documents = append(out.Documents, KindPMA)
	}
	cs, err := s.Store.Cases(ctx, vigil.CaseFilter{DeviceID: deviceID, States: vigil.CaseStates})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		v, err := s.Cases.CaseView(ctx, c.ID, vigil.Date{})
		if err != nil {
			return nil, err
		}
		if v.Case.ID == c.ID && inPeriod(v, out.From, out.To) {
			out.Cases = append(out.Cases, c.ID)
		}
	}
	slices.Sort(out.Cases)
	return out, nil
}

// inPeriod says whether a case has something in [from, to]: its D0, an assessment or an event.
func inPeriod(v *cases.View, from, to vigil.Date) bool {
	in := within(v.Case.Learned, from, to)
	for _, e := range v.Events {
		in = in || within(e.Date, from, to)
	}
	for _, a := range v.Assessments {
		in = in || within(a.Date, from, to)
	}
	return in
}

// AmendmentClock names the 806.10(d) amendment clock among the deadlines.
const AmendmentClock = "part806_amendment"

// Deadlines lists the 806.10(d) amendment clocks: a filed 806 report whose correction now extends to lots it (and
// its amendments) did not cover is amended within 10 working days of initiating the extension. The extension is
// taken as initiated when the first of the new lots reached a consignee (its shipment day, else the day its
// consignee was recorded), and never before the report was filed. The lots are the installed base as it stands
// now, also for an as-of date. Needs PermRead.
func (s *Service) Deadlines(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	out := []cases.Deadline{}
	filed, err := s.Store.RegRecords(ctx, vigil.RegRecordFilter{Kind: vigil.RegPart806Report})
	if err != nil || len(filed) == 0 {
		return out, err
	}
	b, err := s.newBuild(ctx)
	if err != nil {
		return nil, err
	}
	pol, err := regulatory.OrgPolicy(b.org)
	if err != nil {
		return nil, err
	}
	today := f.AsOf
	if today.IsZero() {
		today = b.today()
	}
	for _, r := range filed {
		if f.DeviceID != 0 && r.DeviceID != f.DeviceID {
			continue
		}
		cd, err := b.caseData(ctx, r.CaseID)
		if vigil.ErrorCode(err) == vigil.ECONFLICT {
			continue // no determination now (a reassessment pending): no document, no clock
		} else if err != nil {
			return nil, err
		}
		data, err := b.part806Data(ctx, cd)
		if err != nil {
			return nil, err
		}
		if len(data.NewLots) == 0 || cd.v.Case.State == vigil.CaseClosed {
			continue
		}
		var start vigil.Date
		var lots []string
		for _, l := range data.NewLots {
			lots = append(lots, l.key())
			for _, cu := range cd.units {
				if cd.version(cu.u.VersionID) != l.Version || !slices.Contains(cu.u.Lots, l.Lot) && !(len(cu.u.Lots) == 0 && l.Lot == noLot) {
					continue
				}
				on := vigil.DateOf(cu.c.CreatedAt, b.loc)
				if cu.u.Shipped != nil {
					on = *cu.u.Shipped
				}
				if start.IsZero() || on.Before(start) {
					start = on
				}
			}
		}
		if start.Before(data.Filed.Date) {
			start = data.Filed.Date
		}
		due := calendar.AddWorkingDays(start, 10, pol.WorkingDays)
		left := due.Sub(today)
		d := cases.Deadline{CaseID: cd.v.Case.ID, DeviceID: cd.v.Device.ID, Device: cd.v.Device.Name, Vulnerability: cd.v.Case.Vulnerability,
			CaseState: cd.v.Case.State, Clock: AmendmentClock, Due: due, DaysLeft: left, Overdue: left < 0, Status: "required", Standing: "pending",
			What: fmt.Sprintf("21 CFR 806.10(d) amendment of report %s: the correction extends to %s (vigil report 806-amendment --case %d)",
				data.Filed.Number, strings.Join(lots, ", "), cd.v.Case.ID)}
		if d.Overdue {
			d.Standing = "overdue"
		}
		if f.OverdueOnly && !d.Overdue || f.Within > 0 && d.DaysLeft > f.Within {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}
