package readmodel

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/risk"
	"github.com/vigil-dev/vigil/internal/web"
)

// CaseQueue is the triage list. Every case's row is computed once per snapshot generation from one storage query
// (the cases, their affected versions, EPSS) and the snapshot's determinations (no call per case); each request
// filters and sorts those rows. The vulnerability filter is answered by the case service's own query, so the screen,
// the API and `vigil case list --vuln` agree on aliases.
func (q *Queries) CaseQueue(ctx context.Context, cq web.CaseQuery) (*web.CaseQueue, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	if cq.Sort != "" && !slices.Contains(web.CaseSorts, cq.Sort) {
		return nil, vigil.Errorf(vigil.EINVALID, "sort: %q is not one of %s", vigil.Clip(40, cq.Sort), strings.Join(web.CaseSorts, ", "))
	}
	states := cq.States
	if len(states) == 0 {
		states = []vigil.CaseState{vigil.CaseOpen, vigil.CaseNeedsReview}
	}
	var only map[int64]bool
	if cq.Vuln != "" {
		cs, err := q.cases.Cases(ctx, vigil.CaseFilter{States: states, DeviceID: cq.DeviceID, Vuln: cq.Vuln})
		if err != nil {
			return nil, err
		}
		only = make(map[int64]bool, len(cs))
		for _, c := range cs {
			only[c.ID] = true
		}
	}
	all, err := q.cached(ctx, "casequeue", func(ctx context.Context, s *snapshot) (any, error) { return q.caseRows(ctx, s) })
	if err != nil {
		return nil, err
	}
	out := []web.CaseRow{}
	for _, r := range all.([]web.CaseRow) {
		if !slices.Contains(states, r.State) || cq.DeviceID != 0 && r.DeviceID != cq.DeviceID || only != nil && !only[r.ID] ||
			cq.KEV && !r.KEV || cq.Uncontrolled && r.Determination == string(vigil.RiskControlled) {
			continue
		}
		out = append(out, r)
	}
	sortCases(out, cq.Sort, cq.Desc)
	total := len(out)
	if cq.Limit > 0 {
		lo := min(cq.Offset, total)
		out = out[lo:min(lo+cq.Limit, total)]
	}
	return &web.CaseQueue{Rows: out, Total: total}, nil
}

// caseRows computes the queue's row of every live case at snapshot s.
func (q *Queries) caseRows(ctx context.Context, s *snapshot) ([]web.CaseRow, error) {
	stored, err := q.db.CaseQueueRows(ctx)
	if err != nil {
		return nil, err
	}
	kev, err := q.db.KEVCatalog(ctx)
	if err != nil {
		kev = nil // a store without intelligence lists nothing in KEV
	}
	out := make([]web.CaseRow, 0, len(stored))
	for _, st := range stored {
		c := st.Case
		r := web.CaseRow{ID: c.ID, State: c.State, DeviceID: c.DeviceID, Device: c.Device, Vulnerability: c.Vulnerability, Aliases: c.Aliases,
			Learned: c.Learned, Versions: st.Affected, Determination: "provisional", NextStanding: cases.StandingNotRequired}
		for _, id := range c.IDs() {
			if _, ok := kev[id]; ok {
				r.KEV = true
			}
		}
		if st.EPSS != nil {
			p := st.EPSS.Percentile
			r.EPSSPercentile = &p
		}
		v := s.views[c.ID]
		if v == nil {
			// Not assessed: its obligation is to be assessed by D0 + 30 days (gone once closed).
			if c.State != vigil.CaseClosed {
				d := cases.AssessDeadline(c, s.today)
				r.Next, r.NextStanding = &d, d.Standing
			}
			out = append(out, r)
			continue
		}
		if n := len(v.Assessments); n > 0 {
			a := v.Assessments[n-1]
			r.Severity, r.CVSSVector = a.Severity, a.CVSS
			if cv, err := risk.ParseCVSS(a.CVSS); err == nil {
				r.CVSS = cv.BaseScore
			}
		}
		if d := v.Determination; d != nil && !v.Provisional {
			r.Determination = string(d.CurrentRisk)
		} else if !v.Provisional && len(v.Assessments) > 0 {
			r.Determination = string(v.Assessments[len(v.Assessments)-1].Risk)
		}
		ds := cases.Clocks(v)
		cases.SortDeadlines(ds)
		if len(ds) > 0 {
			r.Next, r.NextStanding = &ds[0], ds[0].Standing
		} else if metAll(v) {
			r.NextStanding = cases.StandingMet
		}
		out = append(out, r)
	}
	return out, nil
}

// metAll says whether a determination with no open obligation met a clock it had (green), rather than having none
// that binds (grey).
func metAll(v *cases.View) bool {
	d := v.Determination
	if d == nil {
		return false
	}
	dl := d.Deadlines
	met := false
	for _, c := range []struct {
		clock string
		due   vigil.Date
	}{{"ed_communication", dl.EDCommunication}, {"ed_fix", dl.EDFix}, {"part806", dl.Part806}, {"mdr", dl.MDR}, {"mdr_5_day", dl.MDR5Day}} {
		if c.due.IsZero() {
			continue
		}
		switch st, _, _ := cases.ClockStanding(v, c.clock, c.due); st {
		case cases.StandingMet:
			met = true
		case cases.StandingMissed, cases.StandingOverdue:
			return false
		}
	}
	return met
}

// harm orders severities of patient harm, unknown ("") first.
func harm(s string) int { return slices.Index(vigil.HarmSeverities, s) }

// determinationRank orders determinations by how much they ask for: controlled, provisional, uncontrolled.
var determinationRank = map[string]int{string(vigil.RiskControlled): 0, "provisional": 1, string(vigil.RiskUncontrolled): 2}

// sortCases orders rows by column (the next clock when ""), ties broken by case id, newest first.
func sortCases(rows []web.CaseRow, column string, desc bool) {
	epss := func(r web.CaseRow) float64 {
		if r.EPSSPercentile == nil {
			return -1
		}
		return *r.EPSSPercentile
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	var by func(a, b web.CaseRow) int
	switch column {
	case "id":
		by = func(a, b web.CaseRow) int { return cmp.Compare(a.ID, b.ID) }
	case "state":
		by = func(a, b web.CaseRow) int {
			return cmp.Compare(slices.Index(vigil.CaseStates, a.State), slices.Index(vigil.CaseStates, b.State))
		}
	case "device":
		by = func(a, b web.CaseRow) int { return cmp.Compare(strings.ToLower(a.Device), strings.ToLower(b.Device)) }
	case "vulnerability":
		by = func(a, b web.CaseRow) int { return cmp.Compare(a.Vulnerability, b.Vulnerability) }
	case "versions":
		by = func(a, b web.CaseRow) int { return cmp.Compare(a.Versions, b.Versions) }
	case "cvss":
		by = func(a, b web.CaseRow) int { return cmp.Compare(a.CVSS, b.CVSS) }
	case "epss":
		by = func(a, b web.CaseRow) int { return cmp.Compare(epss(a), epss(b)) }
	case "kev":
		by = func(a, b web.CaseRow) int { return cmp.Compare(b2i(a.KEV), b2i(b.KEV)) }
	case "severity":
		by = func(a, b web.CaseRow) int { return cmp.Compare(harm(a.Severity), harm(b.Severity)) }
	case "determination":
		by = func(a, b web.CaseRow) int {
			return cmp.Compare(determinationRank[a.Determination], determinationRank[b.Determination])
		}
	default: // the next clock: urgent first, then soonest; none last
		by = func(a, b web.CaseRow) int {
			switch {
			case a.Next == nil || b.Next == nil:
				return b2i(a.Next == nil) - b2i(b.Next == nil)
			case a.Next.Urgent != b.Next.Urgent:
				return b2i(b.Next.Urgent) - b2i(a.Next.Urgent)
			}
			return cmp.Compare(a.Next.Due.String(), b.Next.Due.String())
		}
	}
	slices.SortStableFunc(rows, func(a, b web.CaseRow) int {
		c := by(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(b.ID, a.ID)
		}
		return c
	})
}
