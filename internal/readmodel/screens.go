package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/web"
)

// ---- pages of findings

// listQuery is the store's form of a screen's filter.
func listQuery(fq web.FindingQuery) vigil.FindingListQuery {
	return vigil.FindingListQuery{DeviceID: fq.DeviceID, VersionID: fq.VersionID, States: fq.States, Vuln: fq.Vuln, Text: fq.Text, Risk: fq.Risk,
		Since: fq.Since, After: fq.After, Before: fq.Before, Limit: fq.Limit}
}

func (q *Queries) FindingPage(ctx context.Context, fq web.FindingQuery) (*web.FindingPage, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	limit := fq.Limit
	if limit <= 0 || limit > 5000 {
		limit = 50
	}
	// The key names the findings the filter selects, so that filters selecting the same ones share their count
	// and first page.
	sel, err := q.db.FindingListKey(listQuery(fq))
	if err != nil {
		return nil, err
	}
	total := -1
	if !fq.NoTotal {
		n, err := q.cachedAt(ctx, "count:"+sel, fq.Risk == "", func(ctx context.Context, _ *snapshot) (any, error) {
			n, err := q.db.CountFindings(ctx, listQuery(fq))
			return n, err
		})
		if err != nil {
			return nil, err
		}
		total = n.(int)
	}
	fq.Limit = limit
	var p any
	if fq.After == 0 && fq.Before == 0 {
		// First pages are what people open again and again; pages deep in a list are cheap by cursor and rarely
		// asked twice, so they are not cached.
		key := fmt.Sprintf("page:%s:%d", sel, limit)
		p, err = q.cached(ctx, key, func(ctx context.Context, s *snapshot) (any, error) {
			p, err := q.rows(ctx, fq)
			if p != nil {
				p.Revision = fmt.Sprintf("%s@%d@%s", key, s.gen, s.today)
			}
			return p, err
		})
	} else {
		p, err = q.rows(ctx, fq)
	}
	if err != nil {
		return nil, err
	}
	page := *p.(*web.FindingPage) // the cached page is shared: copy before setting the total
	page.Total = total
	return &page, nil
}

// rows reads one page of findings at the query's cursor.
func (q *Queries) rows(ctx context.Context, fq web.FindingQuery) (*web.FindingPage, error) {
	l, err := q.db.FindingList(ctx, listQuery(fq))
	if err != nil {
		return nil, err
	}
	page := &web.FindingPage{Rows: make([]web.FindingRow, len(l.Rows)), Total: -1, Older: l.Older, Newer: l.Newer}
	for i, r := range l.Rows {
		page.Rows[i] = web.FindingRow{Finding: r.Finding, Device: r.Device, Version: r.Version, Risk: r.Risk, Severity: r.Severity}
	}
	return page, nil
}

// ---- clocks

func (q *Queries) Deadlines(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var all any
	if f.AsOf.IsZero() {
		var err error
		if all, err = q.cached(ctx, "clocks", func(ctx context.Context, s *snapshot) (any, error) { return clocksOf(s, vigil.Date{}), nil }); err != nil {
			return nil, err
		}
	} else {
		// Another day's clocks are the snapshot's records determined as of that day; a date is asked for once, so
		// the answer is not cached.
		s, err := q.current(ctx)
		if err != nil {
			return nil, err
		}
		all = clocksOf(s, f.AsOf)
	}
	out := []cases.Deadline{}
	for _, d := range all.([]clock) {
		if !f.Keep(d.Deadline) || f.DeviceID != 0 && d.deviceID != f.DeviceID {
			continue
		}
		out = append(out, d.Deadline)
	}
	return out, nil
}

type clock struct {
	cases.Deadline
	deviceID int64
}

// clocksOf lists every open obligation of a snapshot's cases as of asOf (zero: the snapshot's day): the assessed
// ones' determinations and the date to assess the others by, urgent first, then soonest.
func clocksOf(s *snapshot, asOf vigil.Date) []clock {
	if asOf.IsZero() {
		asOf = s.today
	}
	var ds []cases.Deadline
	for _, v := range s.views {
		if !asOf.Equal(v.AsOf) {
			v = cases.At(v, asOf)
		}
		ds = append(ds, cases.Clocks(v)...)
	}
	for _, c := range s.unassessed {
		ds = append(ds, cases.AssessDeadline(c, asOf))
	}
	cases.SortDeadlines(ds)
	out := make([]clock, len(ds))
	for i, d := range ds {
		out[i] = clock{d, d.DeviceID}
	}
	return out
}

// ---- the dashboard

func (q *Queries) Overview(ctx context.Context, since time.Time) (*web.Overview, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	v, err := q.cached(ctx, "overview", func(ctx context.Context, s *snapshot) (any, error) { return q.overview(ctx, s) })
	if err != nil {
		return nil, err
	}
	c := *v.(*web.Overview) // the cached aggregates are shared and never modified: copy before adding to them
	ov := &c
	if !since.IsZero() {
		since = since.UTC().Truncate(time.Second)
		fq := web.FindingQuery{Since: since, Limit: 10}
		key := since.Format(time.RFC3339)
		// How many are new depends only on the findings (a count over all of them: kept across assessments); the
		// ten shown carry their risk, so they follow every change.
		n, err := q.cachedSet(ctx, "newcount:"+key, func(ctx context.Context, _ *snapshot) (any, error) {
			return q.db.CountFindings(ctx, listQuery(fq))
		})
		if err != nil {
			return nil, err
		}
		rows, err := q.cached(ctx, "new:"+key, func(ctx context.Context, _ *snapshot) (any, error) {
			p, err := q.rows(ctx, fq)
			if err != nil {
				return nil, err
			}
			return p.Rows, nil
		})
		if err != nil {
			return nil, err
		}
		ov.NewSince, ov.NewCount, ov.NewFindings = since, n.(int), rows.([]web.FindingRow)
	}
	return ov, nil
}

// overview computes the shared aggregates of a snapshot: the findings' part (see overviewSet) kept across
// assessments, then what the determinations say.
func (q *Queries) overview(ctx context.Context, snap *snapshot) (*web.Overview, error) {
	b, err := q.cachedSet(ctx, "overview-set", func(ctx context.Context, s *snapshot) (any, error) { return q.overviewSet(ctx, s) })
	if err != nil {
		return nil, err
	}
	base := b.(*web.Overview)
	ov := &web.Overview{AsOf: snap.today, Revision: fmt.Sprintf("%d@%s", snap.gen, snap.today), Clocks: []cases.Deadline{}, NewFindings: []web.FindingRow{},
		Open: base.Open, CouldNotEval: base.CouldNotEval, KEV: base.KEV, KEVAvailable: base.KEVAvailable, OpenOverTime: base.OpenOverTime,
		BySeverity: []web.Count{}, ByRisk: []web.Count{}, ByDevice: slices.Clone(base.ByDevice), ByVersion: slices.Clone(base.ByVersion),
		IdentToPatch: []web.Metric{}, PatchToField: []web.Metric{}}
	for _, c := range clocksOf(snap, vigil.Date{}) {
		ov.Clocks = append(ov.Clocks, c.Deadline)
	}
	devIdx, verIdx := map[int64]int{}, map[int64]int{}
	for i, c := range ov.ByDevice {
		devIdx[c.ID] = i
	}
	for i, c := range ov.ByVersion {
		verIdx[c.ID] = i
	}

	// Risk and severity from the determinations (the current risk, after any reassessment).
	sev := map[string]int{}
	controlled := 0
	for _, v := range snap.views {
		var cur vigil.Risk
		if v.Determination != nil && !v.Provisional {
			cur = v.Determination.CurrentRisk
		} else if n := len(v.Assessments); n > 0 {
			cur = v.Assessments[n-1].Risk
		}
		// The counts are of findings, as the rest of the dashboard's: each open version of the case counts.
		for _, ver := range v.Versions {
			if ver.Status != "affected" && ver.Status != "under_investigation" {
				continue
			}
			if cur == vigil.RiskUncontrolled {
				ov.Uncontrolled++
				if i, ok := devIdx[v.Device.ID]; ok {
					ov.ByDevice[i].Extra++
				}
				if j, ok := verIdx[ver.VersionID]; ok {
					ov.ByVersion[j].Extra++
				}
			} else {
				controlled++
			}
			if n := len(v.Assessments); n > 0 {
				sev[v.Assessments[n-1].Severity]++
			}
		}
	}
	assessedOpen := ov.Uncontrolled + controlled
	ov.Unassessed = ov.Open + ov.CouldNotEval - assessedOpen
	for _, s := range []string{vigil.HarmCatastrophic, vigil.HarmCritical, vigil.HarmSerious, vigil.HarmMinor, vigil.HarmNegligible} {
		ov.BySeverity = append(ov.BySeverity, web.Count{Key: s, Label: strings.ToUpper(s[:1]) + s[1:], N: sev[s]})
	}
	if n := sev[""]; n > 0 {
		ov.BySeverity = append(ov.BySeverity, web.Count{Key: "", Label: "Assessed, no severity", N: n})
	}
	ov.BySeverity = append(ov.BySeverity, web.Count{Key: "", Label: "Not assessed", N: ov.Unassessed})
	ov.ByRisk = []web.Count{{Key: string(vigil.RiskUncontrolled), Label: "Uncontrolled", N: ov.Uncontrolled}, {Key: string(vigil.RiskControlled), Label: "Controlled", N: controlled},
		{Key: "", Label: "Not assessed", N: ov.Unassessed}}
	sort.SliceStable(ov.ByDevice, func(i, j int) bool { return ov.ByDevice[i].N > ov.ByDevice[j].N })
	if len(ov.ByDevice) > 12 {
		ov.ByDevice = ov.ByDevice[:12]
	}
	if err := q.metrics(ctx, snap, ov); err != nil {
		return nil, err
	}
	return ov, nil
}

// overviewSet computes the part of the dashboard that only the findings decide (counts by device, version and
// state; open findings over time; KEV-listed vulnerabilities among them): the costly part, full scans at 100,000
// findings, kept across the assessments and events PSIRT records all day.
func (q *Queries) overviewSet(ctx context.Context, snap *snapshot) (*web.Overview, error) {
	ov := &web.Overview{KEV: []web.KEVHit{}, ByDevice: []web.Count{}, ByVersion: []web.Count{}, OpenOverTime: []web.Point{}}
	counts, err := q.db.OpenCounts(ctx)
	if err != nil {
		return nil, err
	}
	devIdx, verIdx := map[int64]int{}, map[int64]int{}
	for _, c := range counts {
		devID, dev, verID, ver, state, n := c.DeviceID, c.Device, c.VersionID, c.Version, c.State, c.N
		if state == vigil.FindingOpen {
			ov.Open += n
		} else {
			ov.CouldNotEval += n
		}
		i, ok := devIdx[devID]
		if !ok {
			i = len(ov.ByDevice)
			devIdx[devID] = i
			ov.ByDevice = append(ov.ByDevice, web.Count{Key: itoa(devID), Label: dev, ID: devID})
		}
		ov.ByDevice[i].N += n
		j, ok := verIdx[verID]
		if !ok {
			j = len(ov.ByVersion)
			verIdx[verID] = j
			ov.ByVersion = append(ov.ByVersion, web.Count{Key: itoa(verID), Label: dev + " " + ver, ID: verID})
		}
		ov.ByVersion[j].N += n
	}
	if err := q.overTime(ctx, snap, ov); err != nil {
		return nil, err
	}
	if err := q.kevHits(ctx, ov); err != nil {
		return nil, err
	}
	return ov, nil
}

// overTime counts open findings from the days findings were first seen and resolved (or closed): at the end of
// each of the last 26 weeks, or of each day when the history is shorter than eight weeks, so that a young
// portfolio draws its first weeks day by day instead of a line between two points.
func (q *Queries) overTime(ctx context.Context, snap *snapshot, ov *web.Overview) error {
	seen, resolved, err := q.db.FindingDayCounts(ctx)
	if err != nil {
		return err
	}
	delta := map[string]int{}
	for _, c := range seen {
		delta[c.Day] += c.N
	}
	for _, c := range resolved {
		delta[c.Day] -= c.N
	}
	if len(delta) == 0 {
		return nil
	}
	days := make([]string, 0, len(delta))
	for d := range delta {
		days = append(days, d)
	}
	sort.Strings(days)
	end := snap.today
	start, step := end.AddDays(-7*26), 7
	if first, err := vigil.ParseDate(days[0]); err == nil && first.After(start) {
		start = first.AddDays(-1)
		if start.After(end.AddDays(-7 * 8)) {
			step = 1
		}
	}
	run, i := 0, 0
	for t := start; !t.After(end); t = t.AddDays(step) {
		for i < len(days) && days[i] <= t.String() {
			run += delta[days[i]]
			i++
		}
		ov.OpenOverTime = append(ov.OpenOverTime, web.Point{Date: t, N: max(run, 0)})
	}
	if last := ov.OpenOverTime[len(ov.OpenOverTime)-1]; !last.Date.Equal(end) {
		for i < len(days) && days[i] <= end.String() {
			run += delta[days[i]]
			i++
		}
		ov.OpenOverTime = append(ov.OpenOverTime, web.Point{Date: end, N: max(run, 0)})
	}
	return nil
}

// metrics computes the PM2025 times: identification (D0) to the first validated fix distributed, and that fix to
// the field, measured to when the finding resolved (the fielded version no longer holds the vulnerable component)
// or was closed as verified.
func (q *Queries) metrics(ctx context.Context, snap *snapshot, ov *web.Overview) error {
	evs, err := q.db.FixEvents(ctx)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, e := range evs {
		id, vuln, learned, date := e.CaseID, e.Vulnerability, e.Learned, e.Date
		var d vigil.EventData
		json.Unmarshal(e.Details, &d)
		if !d.Validated || seen[id] {
			continue
		}
		seen[id] = true
		from, err1 := vigil.ParseDate(learned)
		fix, err2 := vigil.ParseDate(date)
		if err1 != nil || err2 != nil {
			continue
		}
		ov.IdentToPatch = append(ov.IdentToPatch, web.Metric{FindingID: id, Vulnerability: vuln, From: from, To: fix, Days: fix.Sub(from)})
		if t := e.ResolvedAt; !t.IsZero() {
			field := vigil.DateOf(t, nil)
			if !field.Before(fix) {
				ov.PatchToField = append(ov.PatchToField, web.Metric{FindingID: id, Vulnerability: vuln, From: fix, To: field, Days: field.Sub(fix)})
			}
		}
	}
	for id, v := range snap.views {
		if v.Determination != nil && v.Determination.Risk == vigil.RiskUncontrolled {
			ov.PatchTargets++
			if seen[id] {
				ov.Patched++
			}
		}
	}
	return nil
}

// kevHits lists the KEV-listed vulnerabilities named by open findings (by their id or an alias). The catalog is
// read from the intelligence store's KEV table directly: a KEV entry need not belong to a merged vulnerability
// with advisories, and the question is only "which CVEs are listed".
func (q *Queries) kevHits(ctx context.Context, ov *web.Overview) error {
	if q.intel == nil {
		return nil
	}
	// The catalog entries come with the list (a few thousand small rows), rather than a vulnerability look-up
	// per hit afterwards: this is recomputed on every change to the portfolio.
	entries, err := q.db.KEVCatalog(ctx)
	if err != nil {
		return err // every store has the tables (migrations): a failure here is real, not "not imported"
	}
	if len(entries) == 0 {
		return nil // no catalog imported: the dashboard says so rather than "none"
	}
	ov.KEVAvailable = true
	// Open findings named by a listed CVE (found through the vulnerability index, a probe per catalog entry), and
	// those named otherwise (GHSA, PYSEC, ...) that carry a CVE alias, whose aliases are checked here. Not every
	// open finding: this is recomputed on every change to the portfolio.
	cands, err := q.db.OpenFindingsForKEV(ctx)
	if err != nil {
		return err
	}
	listed := func(cve string) bool { _, ok := entries[cve]; return ok }
	hits := map[string]*web.KEVHit{}
	var order []string
	for _, c := range cands {
		id, vuln, dev := c.FindingID, c.Vulnerability, c.Device
		cve := ""
		if listed(vuln) {
			cve = vuln
		} else {
			for _, a := range c.Aliases {
				if listed(a) {
					cve = a
					break
				}
			}
		}
		if cve == "" {
			continue
		}
		h, ok := hits[cve]
		if !ok {
			h = &web.KEVHit{Vulnerability: cve, FindingID: id, Devices: []string{}}
			hits[cve] = h
			order = append(order, cve)
		}
		h.Findings++
		if !contains(h.Devices, dev) {
			h.Devices = append(h.Devices, dev)
		}
	}
	for _, cve := range order {
		h := hits[cve]
		var e vigil.KEVEntry
		if err := json.Unmarshal(entries[cve], &e); err != nil {
			return fmt.Errorf("kev %s: %w", cve, err)
		}
		h.KEV = &e
		ov.KEV = append(ov.KEV, *h)
	}
	sort.SliceStable(ov.KEV, func(i, j int) bool { return ov.KEV[i].Findings > ov.KEV[j].Findings })
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return fmt.Sprint(n) }
