package readmodel

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/risk"
	"github.com/vigil-dev/vigil/internal/web"
)

// CaseQueue is the triage list. Every case's row is computed once per snapshot generation, from one storage query
// (the cases, their affected versions, EPSS; kept across assessments and events, which do not change them) and the
// snapshot's determinations (no call per case), and each order asked for is sorted once per generation; a request
// then walks that order, filtering, and copies only its page. The vulnerability filter is answered by the case
// service's own query, so the screen, the API and `vigil case list --vuln` agree on aliases.
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
	qr := all.(*queueRows)
	out := []web.CaseRow{}
	total := 0
	for _, i := range qr.order(cq.Sort, cq.Desc) {
		r := &qr.rows[i]
		if !slices.Contains(states, r.State) || cq.DeviceID != 0 && r.DeviceID != cq.DeviceID || only != nil && !only[r.ID] ||
			cq.KEV && !r.KEV || cq.Uncontrolled && r.Determination == string(vigil.RiskControlled) ||
			cq.NoOwner && r.Owner != "" || !cq.NoOwner && cq.Owner != "" && r.Owner != cq.Owner {
			continue
		}
		if cq.Limit == 0 || total >= cq.Offset && total < cq.Offset+cq.Limit {
			out = append(out, *r)
		}
		total++
	}
	return &web.CaseQueue{Rows: out, Total: total}, nil
}

// queueRows are the queue's rows at one generation, with the orders asked for so far (indexes into rows, by
// column and direction), each sorted once.
type queueRows struct {
	rows   []web.CaseRow
	mu     sync.Mutex
	orders map[string][]int32
}

func (qr *queueRows) order(column string, desc bool) []int32 {
	key := fmt.Sprint(column, desc)
	qr.mu.Lock()
	defer qr.mu.Unlock()
	if o, ok := qr.orders[key]; ok {
		return o
	}
	o := make([]int32, len(qr.rows))
	for i := range o {
		o[i] = int32(i)
	}
	sortCases(qr.rows, o, column, desc)
	qr.orders[key] = o
	return o
}

// queueStored is the storage side of the queue's rows: what only the cases and the intelligence decide.
type queueStored struct {
	rows []vigil.CaseQueueRow
	kev  map[string]bool
}

// caseRows computes the queue's row of every live case at snapshot s.
func (q *Queries) caseRows(ctx context.Context, s *snapshot) (*queueRows, error) {
	st, err := q.cachedSet(ctx, "casequeue-stored", func(ctx context.Context, _ *snapshot) (any, error) {
		rows, err := q.db.CaseQueueRows(ctx)
		if err != nil {
			return nil, err
		}
		kev := map[string]bool{}
		if cat, err := q.db.KEVCatalog(ctx); err == nil { // a store without intelligence lists nothing in KEV
			for cve := range cat {
				kev[cve] = true
			}
		}
		return &queueStored{rows, kev}, nil
	})
	if err != nil {
		return nil, err
	}
	stored := st.(*queueStored)
	out := &queueRows{rows: make([]web.CaseRow, 0, len(stored.rows)), orders: map[string][]int32{}}
	// The stored rows outlive a D0 correction (see snapshot.setGen): D0 comes from the snapshot, which reads the
	// unassessed cases at every refresh and reloads an assessed case's view whenever the case changes.
	fresh := make(map[int64]*vigil.Case, len(s.unassessed))
	for _, c := range s.unassessed {
		fresh[c.ID] = c
	}
	for _, st := range stored.rows {
		c := st.Case
		if f := fresh[c.ID]; f != nil {
			c = f
		} else if v := s.views[c.ID]; v != nil {
			c = v.Case
		}
		r := web.CaseRow{ID: c.ID, State: c.State, DeviceID: c.DeviceID, Device: c.Device, Vulnerability: c.Vulnerability, Aliases: c.Aliases,
			Learned: c.Learned, Owner: c.Owner, Versions: st.Affected, Determination: "provisional", NextStanding: cases.StandingNotRequired}
		for _, id := range c.IDs() {
			r.KEV = r.KEV || stored.kev[id]
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
			out.rows = append(out.rows, r)
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
		out.rows = append(out.rows, r)
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

// sortCases orders the indexes o into rows by column (the next clock when ""), ties broken by case id, newest
// first.
func sortCases(rows []web.CaseRow, o []int32, column string, desc bool) {
	epss := func(r *web.CaseRow) float64 {
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
	var by func(a, b *web.CaseRow) int
	switch column {
	case "id":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(a.ID, b.ID) }
	case "state":
		by = func(a, b *web.CaseRow) int {
			return cmp.Compare(slices.Index(vigil.CaseStates, a.State), slices.Index(vigil.CaseStates, b.State))
		}
	case "device":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(a.Device, b.Device) }
	case "vulnerability":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(a.Vulnerability, b.Vulnerability) }
	case "owner":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(a.Owner, b.Owner) }
	case "versions":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(a.Versions, b.Versions) }
	case "cvss":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(a.CVSS, b.CVSS) }
	case "epss":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(epss(a), epss(b)) }
	case "kev":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(b2i(a.KEV), b2i(b.KEV)) }
	case "severity":
		by = func(a, b *web.CaseRow) int { return cmp.Compare(harm(a.Severity), harm(b.Severity)) }
	case "determination":
		by = func(a, b *web.CaseRow) int {
			return cmp.Compare(determinationRank[a.Determination], determinationRank[b.Determination])
		}
	default: // the next clock: urgent first, then soonest; none last
		by = func(a, b *web.CaseRow) int {
			switch {
			case a.Next == nil || b.Next == nil:
				return b2i(a.Next == nil) - b2i(b.Next == nil)
			case a.Next.Urgent != b.Next.Urgent:
				return b2i(b.Next.Urgent) - b2i(a.Next.Urgent)
			case a.Next.Due.Before(b.Next.Due):
				return -1
			case b.Next.Due.Before(a.Next.Due):
				return 1
			}
			return 0
		}
	}
	slices.SortFunc(o, func(i, j int32) int {
		a, b := &rows[i], &rows[j]
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
