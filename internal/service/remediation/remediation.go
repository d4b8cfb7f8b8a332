// Package remediation is a case's remediation (G2016 §VII.B, 524B, 21 CFR 820.30(g)): the versioned plan (interim
// compensating controls, the planned fix and its cycle, the timeline rationale), the releases that fix the case
// with their verification and validation record and their distribution, and the deployment of the fix in the field
// per consignee and version, with the PM2025 metrics that follow (time to patch, time from patch to field, share of
// fielded units remediated). The records the determination needs are recorded on the case through the case
// service, never typed by hand: the first plan records remediation_plan, the first plan naming compensating
// controls records interim_controls, and a distributed fix (only a validated one can be distributed) records a
// validated fix_distributed, which is what ED criterion 3 reads. Reads need vigil.PermRead, writes
// vigil.PermEvent.
package remediation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

// Store is what the use case needs of storage.
type Store interface {
	vigil.RemediationStore
	Finding(ctx context.Context, id int64) (*vigil.Finding, error)
	Components(ctx context.Context, versionID int64) ([]vigil.Component, error)
	Versions(ctx context.Context, deviceID int64) ([]*vigil.DeviceVersion, error)
	Consignees(ctx context.Context) ([]*vigil.Consignee, error)
}

// Service is the remediation use case.
type Service struct {
	Store Store
	// Cases reads a case and records its events: the determination's own checks apply to every event recorded here.
	Cases *cases.Service
	// Signing gives the Part 11 signatures of the determinations a VEX statement rests on, whose manifests the VEX
	// documents carry (optional: none shown).
	Signing vigil.SignatureService
}

// Remediation is everything about one case's remediation: the plan in force and every earlier version, the fix
// releases, the deployment reports, where each affected version stands in the field and the PM2025 metrics.
type Remediation struct {
	Case        *vigil.Case              `json:"case"`
	Device      *vigil.Device            `json:"device"`
	Plan        *vigil.RemediationPlan   `json:"plan"`      // the plan in force (nil: none yet)
	History     []*vigil.RemediationPlan `json:"history"`   // every version, oldest first
	Fixes       []*vigil.FixRelease      `json:"fixes"`     // the fix releases standing
	Retracted   []*vigil.FixRelease      `json:"retracted"` // the fix releases withdrawn, with why
	Deployments []*vigil.Deployment      `json:"deployments"`
	Field       []FieldVersion           `json:"field"`
	Metrics     Metrics                  `json:"metrics"`
}

// FieldVersion is one affected version of the case in the field: its fielded units, how many carry the fix, and
// per consignee the latest report. Source is sbom when the version's SBOM no longer carries the vulnerable
// component (every unit counts as remediated from the day the finding resolved), else reported.
type FieldVersion struct {
	VersionID  int64            `json:"version_id"`
	Version    string           `json:"version"`
	Units      int              `json:"units"`
	Remediated int              `json:"remediated"`
	Source     string           `json:"source,omitempty"`
	Since      vigil.Date       `json:"since,omitzero"` // sbom: the day the finding resolved
	Consignees []FieldConsignee `json:"consignees"`
}

// FieldConsignee is one consignee's units of a version and the latest report of how many are updated.
type FieldConsignee struct {
	ConsigneeID int64      `json:"consignee_id"`
	Consignee   string     `json:"consignee"`
	Units       int        `json:"units"`
	Updated     int        `json:"updated"`
	Reported    vigil.Date `json:"reported,omitzero"`
}

// Metrics are the PM2025 remediation metrics of a case. DaysToPatch runs from D0 to the first distribution of a
// validated fix; DaysToField from that distribution to the day every affected fielded unit was remediated (nil
// until then). Series is the share of fielded units remediated, one point per day it changed.
type Metrics struct {
	Learned         vigil.Date `json:"learned"`
	Distributed     vigil.Date `json:"distributed,omitzero"`
	DaysToPatch     *int       `json:"days_to_patch"`
	DaysToField     *int       `json:"days_to_field"`
	Units           int        `json:"units"`
	Remediated      int        `json:"remediated"`
	Percent         float64    `json:"percent"`
	Series          []Progress `json:"series"`
	FullyRemediated vigil.Date `json:"fully_remediated,omitzero"`
}

// Progress is the remediated share of fielded units on a day.
type Progress struct {
	Date       vigil.Date `json:"date"`
	Remediated int        `json:"remediated"`
	Percent    float64    `json:"percent"`
}

// Remediation reads a case's remediation. Needs PermRead.
func (s *Service) Remediation(ctx context.Context, caseID int64) (*Remediation, error) {
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	return s.remediation(ctx, v)
}

func (s *Service) remediation(ctx context.Context, v *cases.View) (*Remediation, error) {
	r := &Remediation{Case: v.Case, Device: v.Device}
	var err error
	if r.History, err = s.Store.Plans(ctx, v.Case.ID); err != nil {
		return nil, err
	}
	if n := len(r.History); n > 0 {
		r.Plan = r.History[n-1]
	}
	fixes, err := s.Store.FixReleases(ctx, v.Case.ID)
	if err != nil {
		return nil, err
	}
	r.Fixes, r.Retracted = []*vigil.FixRelease{}, []*vigil.FixRelease{}
	for _, f := range fixes {
		if f.Retraction != nil {
			r.Retracted = append(r.Retracted, f)
		} else {
			r.Fixes = append(r.Fixes, f)
		}
	}
	if r.Deployments, err = s.Store.Deployments(ctx, v.Case.ID); err != nil {
		return nil, err
	}
	if err := s.field(ctx, v, r); err != nil {
		return nil, err
	}
	r.Metrics = metrics(v.Case.Learned, r.Fixes, r.Field, r.Deployments)
	return r, nil
}

// field works out where each affected version stands: its units (the version's fielded units, or its consignees'
// when they hold more), and how many carry the fix.
func (s *Service) field(ctx context.Context, v *cases.View, r *Remediation) error {
	versions, err := s.Store.Versions(ctx, v.Device.ID)
	if err != nil {
		return err
	}
	cons, err := s.Store.Consignees(ctx)
	if err != nil {
		return err
	}
	latest := map[[2]int64]*vigil.Deployment{} // (version, consignee) → latest report
	for _, d := range r.Deployments {
		latest[[2]int64{d.VersionID, d.ConsigneeID}] = d // by date then entry: the last wins
	}
	seen := map[int64]bool{}
	r.Field = []FieldVersion{}
	for _, vs := range v.Versions {
		if seen[vs.VersionID] {
			continue
		}
		seen[vs.VersionID] = true
		fv := FieldVersion{VersionID: vs.VersionID, Version: vs.Version, Consignees: []FieldConsignee{}}
		for _, dv := range versions {
			if dv.ID == vs.VersionID {
				fv.Units = dv.UnitsFielded
			}
		}
		held := 0
		for _, c := range cons {
			units := 0
			for _, u := range c.Units {
				if u.VersionID == vs.VersionID {
					units += u.Units
				}
			}
			if units == 0 {
				continue
			}
			held += units
			fc := FieldConsignee{ConsigneeID: c.ID, Consignee: c.Name, Units: units}
			if d := latest[[2]int64{vs.VersionID, c.ID}]; d != nil {
				fc.Updated, fc.Reported = d.Units, d.Date
				fv.Remediated += d.Units
				fv.Source = vigil.DeploymentReported
			}
			fv.Consignees = append(fv.Consignees, fc)
		}
		fv.Units = max(fv.Units, held)
		if vs.Status == "fixed" { // the version's SBOM no longer carries the component
			f, err := s.Store.Finding(ctx, vs.FindingID)
			if err != nil {
				return err
			}
			fv.Remediated, fv.Source = fv.Units, vigil.DeploymentSBOM
			fv.Since = vigil.DateOf(f.ResolvedAt, s.Cases.Zone(ctx))
		}
		r.Field = append(r.Field, fv)
	}
	return nil
}

// metrics computes the PM2025 figures from the fixes, the field and the deployment reports.
func metrics(learned vigil.Date, fixes []*vigil.FixRelease, field []FieldVersion, deps []*vigil.Deployment) Metrics {
	m := Metrics{Learned: learned, Series: []Progress{}}
	for _, f := range fixes {
		if f.InField() && (m.Distributed.IsZero() || f.Distribution.Date.Before(m.Distributed)) {
			m.Distributed = f.Distribution.Date
		}
	}
	if !m.Distributed.IsZero() {
		d := m.Distributed.Sub(learned)
		m.DaysToPatch = &d
	}
	// Replay the field day by day: a report sets its (version, consignee) count; an SBOM-resolved version counts
	// whole from the day it resolved.
	type change struct {
		date  vigil.Date
		key   [2]int64
		units int
	}
	var changes []change
	sbom := map[int64]bool{}
	for _, fv := range field {
		m.Units += fv.Units
		if fv.Source == vigil.DeploymentSBOM {
			sbom[fv.VersionID] = true
			changes = append(changes, change{fv.Since, [2]int64{fv.VersionID, 0}, fv.Units})
		}
	}
	for _, d := range deps {
		if !sbom[d.VersionID] {
			changes = append(changes, change{d.Date, [2]int64{d.VersionID, d.ConsigneeID}, d.Units})
		}
	}
	slices.SortStableFunc(changes, func(a, b change) int { return a.date.Time().Compare(b.date.Time()) })
	count := map[[2]int64]int{}
	total := 0
	for i, c := range changes {
		total += c.units - count[c.key]
		count[c.key] = c.units
		if i+1 < len(changes) && changes[i+1].date.Equal(c.date) {
			continue // one point per day
		}
		p := Progress{Date: c.date, Remediated: total, Percent: percent(total, m.Units)}
		m.Series = append(m.Series, p)
		if m.FullyRemediated.IsZero() && m.Units > 0 && total >= m.Units {
			m.FullyRemediated = c.date
		}
	}
	m.Remediated = min(total, m.Units)
	m.Percent = percent(m.Remediated, m.Units)
	if !m.Distributed.IsZero() && !m.FullyRemediated.IsZero() {
		d := max(0, m.FullyRemediated.Sub(m.Distributed))
		m.DaysToField = &d
	}
	return m
}

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(int(float64(min(n, of))/float64(of)*1000+0.5)) / 10
}

// SetPlan records the next version of a case's plan; the SSVC decision defaults to the latest assessment's. The
// first plan records remediation_plan on the case, the first naming compensating controls interim_controls (dated
// the plan's day: when they were identified for this case). Needs PermEvent.
func (s *Service) SetPlan(ctx context.Context, p *vigil.RemediationPlan) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	v, err := s.Cases.CaseView(ctx, p.CaseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	p.CaseID = v.Case.ID
	if p.Date.IsZero() {
		p.Date = v.AsOf
	}
	if p.Date.Before(v.Case.Learned) {
		return nil, vigil.Errorf(vigil.EINVALID, "date: %s is before the vulnerability was learned (%s)", p.Date, v.Case.Learned)
	}
	if p.SSVC == "" {
		for _, a := range slices.Backward(v.Assessments) {
			if a.SSVC != "" {
				p.SSVC = a.SSVC
				break
			}
		}
	}
	if err := s.Store.AddPlan(ctx, p); err != nil {
		return nil, err
	}
	return s.sync(ctx, p.CaseID)
}

// AddFix records a release that fixes the case; release names the device version that carries the fix (linked
// when that version is registered). Needs PermEvent.
func (s *Service) AddFix(ctx context.Context, f *vigil.FixRelease) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	v, err := s.Cases.CaseView(ctx, f.CaseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	f.CaseID = v.Case.ID
	if f.Remediation == "" {
		f.Remediation = vigil.RemediationPatch
	}
	if f.VersionID == 0 && f.Release != "" {
		versions, err := s.Store.Versions(ctx, v.Device.ID)
		if err != nil {
			return nil, err
		}
		for _, dv := range versions {
			if dv.Version == f.Release {
				f.VersionID = dv.ID
			}
		}
	}
	if err := s.Store.AddFixRelease(ctx, f); err != nil {
		return nil, err
	}
	return s.Remediation(ctx, f.CaseID)
}

// SetVV records a fix's V&V record (a replaced one needs a reason), which validates the fix: it carries the
// recorder's Part 11 signature (sig) unless the organization switched that off, recorded with it. Needs PermEvent.
func (s *Service) SetVV(ctx context.Context, fixID int64, vv vigil.VVRecord, reason string, sig *vigil.SignRequest) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	f, err := s.Store.FixRelease(ctx, fixID)
	if err != nil {
		return nil, err
	}
	sctx, err := vigil.GateAct(ctx, s.Cases.Signing, vigil.ActFixValidation, sig)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetVV(sctx, fixID, vv, reason); err != nil {
		return nil, err
	}
	return s.Remediation(ctx, f.CaseID)
}

// Distribute records a validated fix's distribution, and with it the case's fix_distributed event. Needs
// PermEvent.
func (s *Service) Distribute(ctx context.Context, fixID int64, d vigil.Distribution, reason string) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	f, err := s.Store.FixRelease(ctx, fixID)
	if err != nil {
		return nil, err
	}
	v, err := s.Cases.CaseView(ctx, f.CaseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	if d.Date.Before(v.Case.Learned) {
		return nil, vigil.Errorf(vigil.EINVALID, "date: %s is before the vulnerability was learned (%s)", d.Date, v.Case.Learned)
	}
	if err := s.Store.SetDistribution(ctx, fixID, d, reason); err != nil {
		return nil, err
	}
	return s.sync(ctx, f.CaseID)
}

// RetractFix withdraws a fix release (entered in error, recalled) with a reason: it stays on record and counts for
// nothing, and the fix_distributed event its distribution recorded is retracted on the case, so the determination
// no longer reads it. Needs PermAssess (retracting a case's record).
func (s *Service) RetractFix(ctx context.Context, fixID int64, reason string) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	f, err := s.Store.FixRelease(ctx, fixID)
	if err != nil {
		return nil, err
	}
	event, err := s.Store.RetractFix(ctx, fixID, reason)
	if err != nil {
		return nil, err
	}
	if err := s.retractEvent(ctx, f.CaseID, event, fmt.Sprintf("fix release %s (F%d) retracted: %s", f.Release, f.ID, strings.TrimSpace(reason))); err != nil {
		return nil, err
	}
	return s.Remediation(ctx, f.CaseID)
}

// RetractVV withdraws a fix's V&V record with a reason. A fix distributed with it no longer counts as validated:
// its fix_distributed event (validated) is retracted and the distribution recorded again as not validated, so ED
// criterion 3 follows. A fix not yet distributed can be given a new record. Needs PermAssess.
func (s *Service) RetractVV(ctx context.Context, fixID int64, reason string) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	f, err := s.Store.FixRelease(ctx, fixID)
	if err != nil {
		return nil, err
	}
	event, err := s.Store.RetractVV(ctx, fixID, reason)
	if err != nil {
		return nil, err
	}
	if err := s.retractEvent(ctx, f.CaseID, event, fmt.Sprintf("V&V record %s of fix release %s (F%d) retracted: %s", f.VV.Report, f.Release, f.ID, strings.TrimSpace(reason))); err != nil {
		return nil, err
	}
	return s.sync(ctx, f.CaseID)
}

// retractEvent retracts a case event a remediation record had recorded (none when event is 0).
func (s *Service) retractEvent(ctx context.Context, caseID, event int64, reason string) error {
	if event == 0 {
		return nil
	}
	return s.Cases.Retract(ctx, &vigil.Retraction{CaseID: caseID, Record: vigil.RecordRef{Kind: vigil.RecordEvent, ID: event}, Reason: vigil.Clip(vigil.MaxText, reason)})
}

// AddDeployment records units updated at a consignee: the version must be one the case affects. Needs PermEvent.
func (s *Service) AddDeployment(ctx context.Context, d *vigil.Deployment) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	v, err := s.Cases.CaseView(ctx, d.CaseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	d.CaseID = v.Case.ID
	if !slices.ContainsFunc(v.Versions, func(vs cases.VersionStatus) bool { return vs.VersionID == d.VersionID }) {
		return nil, vigil.Errorf(vigil.EINVALID, "version: version %d is not affected by %s", d.VersionID, v.Case)
	}
	if d.Source == "" {
		d.Source = vigil.DeploymentReported
	}
	if err := s.Store.AddDeployment(ctx, d); err != nil {
		return nil, err
	}
	return s.Remediation(ctx, d.CaseID)
}

// Sync records on the case the events its remediation records call for and that it does not hold yet: after a
// write, and again (`vigil plan sync`) should recording one have failed after its record was stored. Needs
// PermEvent.
func (s *Service) Sync(ctx context.Context, caseID int64) (*Remediation, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return nil, err
	}
	return s.sync(ctx, caseID)
}

func (s *Service) sync(ctx context.Context, caseID int64) (*Remediation, error) {
	v, err := s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	r, err := s.remediation(ctx, v)
	if err != nil {
		return nil, err
	}
	has := func(typ string) bool {
		return slices.ContainsFunc(v.Events, func(e *vigil.CaseEvent) bool { return e.Type == typ })
	}
	changed := false
	record := func(e *vigil.CaseEvent) error {
		e.CaseID = v.Case.ID
		changed = true
		return s.Cases.RecordEvent(ctx, e)
	}
	if len(r.History) > 0 && !has(regulatory.EventRemediationPlan) {
		p := r.History[0]
		if err := record(&vigil.CaseEvent{Type: regulatory.EventRemediationPlan, Date: p.Date,
			Note: vigil.Clip(4000, fmt.Sprintf("remediation plan version %d: %s", p.Version, planSummary(p)))}); err != nil {
			return nil, err
		}
	}
	if !has(regulatory.EventInterimControls) {
		for _, p := range r.History {
			if len(p.Controls) == 0 {
				continue
			}
			if err := record(&vigil.CaseEvent{Type: regulatory.EventInterimControls, Date: p.Date,
				Note: vigil.Clip(4000, fmt.Sprintf("remediation plan version %d: %s", p.Version, controlsSummary(p.Controls)))}); err != nil {
				return nil, err
			}
			break
		}
	}
	for _, f := range r.Fixes {
		if f.Distribution == nil || f.EventID != 0 {
			continue
		}
		e := &vigil.CaseEvent{Type: regulatory.EventFixDistributed, Date: f.Distribution.Date, Details: vigil.EventData{Validated: f.InField(), Remediation: f.Remediation}}
		if f.VV != nil {
			e.Note = fmt.Sprintf("fix release %s (F%d): V&V %s %s by %s on %s (protocol %s); distributed by %s", f.Release, f.ID,
				f.VV.Report, f.VV.Result, f.VV.Approver, f.VV.Validated, f.VV.Protocol, f.Distribution.Channel)
		} else { // its V&V record was retracted: distributed, no longer validated
			last := f.VVRetractions[len(f.VVRetractions)-1]
			e.Note = vigil.Clip(vigil.MaxText, fmt.Sprintf("fix release %s (F%d): distributed by %s; not validated: V&V %s retracted: %s", f.Release, f.ID,
				f.Distribution.Channel, last.VV.Report, last.Reason))
		}
		if err := record(e); err != nil {
			return nil, err
		}
		if err := s.Store.SetFixEvent(ctx, f.ID, e.ID); err != nil {
			return nil, err
		}
	}
	if !changed {
		return r, nil
	}
	return s.Remediation(ctx, caseID)
}

func planSummary(p *vigil.RemediationPlan) string {
	var parts []string
	if p.FixRelease != "" {
		parts = append(parts, fmt.Sprintf("fix in %s by %s (%s cycle)", p.FixRelease, p.TargetDate, orDash(p.Cycle)))
	}
	if len(p.Controls) > 0 {
		parts = append(parts, fmt.Sprintf("%d compensating control(s)", len(p.Controls)))
	}
	return strings.Join(parts, "; ") + "; rationale: " + p.Rationale
}

func controlsSummary(cs []vigil.CompensatingControl) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s (%s, since %s)", c.What, c.Documented, c.Since))
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// DeviceMetrics are the PM2025 metrics of a device: each case's, the share of its cases with a distributed fix
// ("% of vulnerabilities patched") and the medians of the two times.
type DeviceMetrics struct {
	Device            *vigil.Device `json:"device"`
	Cases             []CaseMetrics `json:"cases"`
	Patched           int           `json:"patched"`
	PercentPatched    float64       `json:"percent_patched"`
	MedianDaysToPatch *float64      `json:"median_days_to_patch"`
	MedianDaysToField *float64      `json:"median_days_to_field"`
}

// CaseMetrics is one case's line of a device's metrics; Risk is empty while the case is unassessed.
type CaseMetrics struct {
	CaseID        int64      `json:"case_id"`
	Vulnerability string     `json:"vulnerability"`
	Risk          vigil.Risk `json:"risk,omitempty"`
	Metrics       Metrics    `json:"metrics"`
}

// DeviceMetrics computes the metrics of every case of a device (closed ones too), oldest case first. Needs
// PermRead.
func (s *Service) DeviceMetrics(ctx context.Context, deviceID int64) (*DeviceMetrics, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	d, err := s.Cases.Store.Device(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	cs, err := s.Cases.Store.Cases(ctx, vigil.CaseFilter{DeviceID: deviceID, States: vigil.CaseStates})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(cs, func(a, b *vigil.Case) int { return int(a.ID - b.ID) })
	out := &DeviceMetrics{Device: d, Cases: []CaseMetrics{}}
	var toPatch, toField []int
	for _, c := range cs {
		v, err := s.Cases.CaseView(ctx, c.ID, vigil.Date{})
		if err != nil {
			return nil, err
		}
		r, err := s.remediation(ctx, v)
		if err != nil {
			return nil, err
		}
		cm := CaseMetrics{CaseID: c.ID, Vulnerability: c.Vulnerability, Metrics: r.Metrics}
		if !v.Provisional && v.Determination != nil {
			cm.Risk = v.Determination.CurrentRisk
		}
		if r.Metrics.DaysToPatch != nil {
			out.Patched++
			toPatch = append(toPatch, *r.Metrics.DaysToPatch)
		}
		if r.Metrics.DaysToField != nil {
			toField = append(toField, *r.Metrics.DaysToField)
		}
		out.Cases = append(out.Cases, cm)
	}
	out.PercentPatched = percent(out.Patched, len(out.Cases))
	out.MedianDaysToPatch, out.MedianDaysToField = median(toPatch), median(toField)
	return out, nil
}

func median(xs []int) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	m := float64(xs[len(xs)/2])
	if len(xs)%2 == 0 {
		m = float64(xs[len(xs)/2-1]+xs[len(xs)/2]) / 2
	}
	return &m
}
