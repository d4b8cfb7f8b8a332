package regdocs

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/report"
)

// PMAReport is the typed content of the PMA periodic report section (21 CFR 814.84) for one reporting period.
type PMAReport struct {
	Device      string       `json:"device"`
	PMA         string       `json:"pma_number"`
	Anniversary vigil.Date   `json:"approval_anniversary"`
	From        vigil.Date   `json:"from"`
	To          vigil.Date   `json:"to"`
	Changes     []PMAChange  `json:"changes"`
	Metrics     PatchMetrics `json:"metrics"`
}

// PMAChange is one vulnerability with a change or compensating control in the period, with the eleven items of
// G2016 §VIII (REGULATORY.md §4).
type PMAChange struct {
	Case          int64    `json:"case"`
	Vulnerability string   `json:"vulnerability"`
	Items         []string `json:"items"` // items 1..11, in order
}

// pmaItems names the eleven items of G2016 §VIII.
var pmaItems = []string{
	"1. Vulnerability and how it was learned",
	"2. Risk assessment (controlled or uncontrolled)",
	"3. The change compared with the approved version",
	"4. Rationale for the change",
	"5. Other submissions and devices changed for the same vulnerability",
	"6. Related events (MDR numbers, recall number)",
	"7. UDI",
	"8. CISA ICS/ICSMA or ISAO alert",
	"9. Customer notifications distributed",
	"10. ISAO the vulnerability was reported to, and when",
	"11. Other submissions (PMA supplement, 30-day notice, 806 report) or why none was needed",
}

// period is the reporting period ending in year: from the approval anniversary of the year before to the day
// before the anniversary of year.
func period(anniv vigil.Date, year int) (vigil.Date, vigil.Date) {
	t := anniv.Time()
	to := vigil.NewDate(year, t.Month(), t.Day())
	return vigil.NewDate(year-1, t.Month(), t.Day()), to.AddDays(-1)
}

func within(d, from, to vigil.Date) bool { return !d.Before(from) && !d.After(to) }

func (b *build) pma(ctx context.Context, doc *report.Document, deviceID int64, year int) error {
	dev, err := b.s.Store.Device(ctx, deviceID)
	if err != nil {
		return err
	}
	if dev.Pathway != vigil.PathwayPMA {
		return vigil.Errorf(vigil.ECONFLICT, "%s is on the %s pathway: PMA periodic reports (21 CFR 814.84) are for PMA devices", dev.Name, dev.Pathway)
	}
	if dev.PMAAnniversary == nil {
		return vigil.Errorf(vigil.ECONFLICT, "%s has no PMA approval anniversary: set it (vigil device update --pma-anniversary YYYY-MM-DD) to define the reporting period", dev.Name)
	}
	from, to := period(*dev.PMAAnniversary, year)
	rep := &PMAReport{Device: dev.Name, PMA: dev.SubmissionNumber, Anniversary: *dev.PMAAnniversary, From: from, To: to, Changes: []PMAChange{}}
	_, all, _, err := b.deviceCases(ctx, deviceID)
	if err != nil {
		return err
	}
	for _, cd := range all {
		c := cd.v.Case
		if !inPeriod(cd.v, from, to) {
			continue
		}
		items, err := b.pmaItems(ctx, cd)
		if err != nil {
			return err
		}
		rep.Changes = append(rep.Changes, PMAChange{Case: c.ID, Vulnerability: c.Vulnerability, Items: items})
	}
	rep.Metrics = metrics(all, from, to)
	doc.Data = rep
	doc.Title = fmt.Sprintf("PMA periodic report: cybersecurity section, %s, %s to %s", dev.Name, from, to)
	doc.Subtitle = "Every vulnerability with a change or compensating control in the reporting period, with the eleven items of FDA's postmarket cybersecurity guidance §VIII (21 CFR 814.84), and PM2025's patching metrics for the period."
	doc.Header = []report.Field{{Name: "Device", Value: fmt.Sprintf("%s, class %s", dev.Name, dev.Class)}, {Name: "PMA", Value: orNone(dev.SubmissionNumber, "not recorded")},
		{Name: "Approval anniversary", Value: dev.PMAAnniversary.String()},
		{Name: "Reporting period", Value: fmt.Sprintf("%s to %s (the year ending the day before the %d anniversary)", from, to, year)},
		{Name: "Vulnerabilities reported", Value: fmt.Sprint(len(rep.Changes))}}
	if len(rep.Changes) == 0 {
		doc.Add("Changes and compensating controls").Text("No vulnerability of %s was learned, assessed, changed or mitigated in the period.", dev.Name)
	}
	for _, ch := range rep.Changes {
		s := doc.Add(fmt.Sprintf("%s (case %d)", ch.Vulnerability, ch.Case))
		var f []string
		for i, it := range ch.Items {
			f = append(f, pmaItems[i], it)
		}
		s.Fields(f...)
	}
	metricsSection(doc, rep.Metrics)
	return nil
}

// pmaItems writes the eleven §VIII items of one case.
func (b *build) pmaItems(ctx context.Context, cd *caseData) ([]string, error) {
	v, d := cd.v, cd.d
	line := func(es []EventLine) string {
		var p []string
		for _, e := range es {
			x := fmt.Sprintf("%s %s: %s", e.Date, strings.ReplaceAll(e.Type, "_", " "), e.Note)
			if e.Details != "" {
				x += " (" + e.Details + ")"
			}
			p = append(p, x)
		}
		return strings.Join(p, "; ")
	}
	items := make([]string, 11)
	items[0] = fmt.Sprintf("%s, learned %s: %s", strings.Join(v.Case.IDs(), ", "), v.Case.Learned, cd.learned)
	items[1] = fmt.Sprintf("%s. Change classification: %s.", cd.riskSummary(), d.Change)
	var vs []string
	for _, x := range v.Versions {
		s := x.Version + " (" + x.Status
		if x.FixedIn != "" {
			s += ", component fixed in " + x.FixedIn
		}
		vs = append(vs, s+")")
	}
	changes := line(cd.events(regulatory.EventFixDistributed, regulatory.EventInterimControls))
	approved := "The PMA-approved version is not recorded (vigil report settings --device D: pma_approved_version)"
	if a := cd.set.PMAApprovedVersion; a != "" {
		approved = "Against the PMA-approved version " + a
	}
	items[2] = fmt.Sprintf("%s. Affected versions: %s. Changes and compensating controls: %s.", approved, orNone(strings.Join(vs, ", "), "none"), orNone(changes, "none recorded yet"))
	fixes, plan := cd.releases()
	if len(fixes) > 0 {
		items[2] += " Fix releases: " + strings.Join(fixes, "; ") + "."
	}
	rationale := cd.latest().Rationale
	if plan != "" {
		rationale += " Remediation " + plan + "."
	} else if plan := line(cd.events(regulatory.EventRemediationPlan)); plan != "" {
		rationale += " Remediation plan: " + plan + "."
	}
	items[3] = rationale
	others, err := b.otherDevices(ctx, cd)
	if err != nil {
		return nil, err
	}
	items[4] = orNone(strings.Join(others, "; "), "No other device of the portfolio has this vulnerability.")
	related := line(cd.events(regulatory.EventSeriousAdverseEvent, regulatory.EventMDRFiled))
	filed, err := b.s.Store.RegRecords(ctx, vigil.RegRecordFilter{CaseID: v.Case.ID})
	if err != nil {
		return nil, err
	}
	var numbers []string
	for _, r := range filed {
		if r.Kind == vigil.RegPart806Report || r.Kind == vigil.RegPart806Amendment {
			numbers = append(numbers, fmt.Sprintf("806 report %s (%s, filed %s)", r.ReportNumber, strings.ReplaceAll(r.Kind, "_", " "), r.Date))
		}
	}
	items[5] = orNone(strings.Join(append(numbersOrEmpty(related), numbers...), "; "), "No MDR, serious adverse event or recall (806 report) is associated.")
	items[6] = orNone(v.Device.UDIDI, "no UDI-DI recorded")
	items[7] = orNone(strings.Join(cd.alerts(), "; "), "No CISA or ISAO alert is recorded.")
	items[8] = orNone(line(cd.events(regulatory.EventCustomerNotified)), "No customer notification was distributed.")
	var isaos []string
	for _, m := range b.org.ISAOs {
		isaos = append(isaos, m.Name)
	}
	shares := line(cd.events(regulatory.EventISAOShared))
	items[9] = orNone(shares, "Not shared with an ISAO.")
	if shares != "" && len(isaos) > 0 {
		items[9] = fmt.Sprintf("%s (member of %s)", shares, strings.Join(isaos, ", "))
	}
	ds, err := b.premarketDecisions(ctx, v.Case.ID)
	if err != nil {
		return nil, err
	}
	var refs []string
	if s := premarketSummary(ds); s != "" {
		refs = append(refs, "Premarket: "+s)
	} else {
		refs = append(refs, "Premarket: no decision recorded yet")
	}
	if len(numbers) > 0 {
		refs = append(refs, strings.Join(numbers, "; "))
	} else {
		refs = append(refs, fmt.Sprintf("No 806 report: Part 806 status %s", d.Part806.Status))
	}
	items[10] = strings.Join(refs, ". ") + "."
	return items, nil
}

func numbersOrEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// otherDevices lists the other devices with a case of the same vulnerability and what was done there.
func (b *build) otherDevices(ctx context.Context, cd *caseData) ([]string, error) {
	cs, err := b.s.Store.Cases(ctx, vigil.CaseFilter{Vuln: cd.v.Case.Vulnerability, States: vigil.CaseStates})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		if c.DeviceID == cd.v.Device.ID {
			continue
		}
		ov, err := b.s.Cases.CaseView(ctx, c.ID, vigil.Date{})
		if err != nil {
			return nil, err
		}
		s := fmt.Sprintf("%s (case %d, %s)", ov.Device.Name, c.ID, c.State)
		for _, e := range ov.Events {
			if e.Type == regulatory.EventFixDistributed {
				s += fmt.Sprintf(": changed %s (%s)", e.Date, e.Note)
			}
		}
		ds, err := b.premarketDecisions(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if p := premarketSummary(ds); p != "" {
			s += "; premarket: " + p
		}
		out = append(out, s)
	}
	return out, nil
}

// PatchMetrics are PM2025's patching metrics over a window: the share of vulnerabilities patched, the time from
// identification (D0) to a validated patch or compensating control, and from there to the field.
type PatchMetrics struct {
	From            vigil.Date   `json:"from"`
	To              vigil.Date   `json:"to"`
	Vulnerabilities int          `json:"vulnerabilities"`
	Patched         int          `json:"patched"`
	PercentPatched  float64      `json:"percent_patched"`
	IdentToPatch    []CaseMetric `json:"identification_to_patch"`
	MedianToPatch   *float64     `json:"median_days_to_patch"`
	PatchToField    []CaseMetric `json:"patch_to_field"`
	Field           []FieldShare `json:"field"`
	FieldNote       string       `json:"field_note,omitempty"`
}

// FieldShare is how much of one vulnerability's fielded units carried its fix at the end of the window.
type FieldShare struct {
	Case          int64   `json:"case"`
	Vulnerability string  `json:"vulnerability"`
	Units         int     `json:"units"`
	Remediated    int     `json:"remediated"`
	Percent       float64 `json:"percent"`
}

// patchToField says how the time from patch to field is measured.
const patchToField = "The time from patch to field runs from the distribution of the validated fix to the day every affected fielded unit carried it (deployment reports per consignee, or the version's SBOM no longer carrying the component)."

// CaseMetric is one vulnerability's interval, in days.
type CaseMetric struct {
	Case          int64      `json:"case"`
	Vulnerability string     `json:"vulnerability"`
	From          vigil.Date `json:"from"`
	To            vigil.Date `json:"to"`
	Days          int        `json:"days"`
}

// metrics computes the patching metrics of the cases learned by to: a vulnerability counts as patched by to when a
// validated fix or compensating control was distributed by then. Cases whose assessment found the device not
// affected (VEX not_affected) are not vulnerabilities of it and are left out.
func metrics(cds []*caseData, from, to vigil.Date) PatchMetrics {
	m := PatchMetrics{From: from, To: to, IdentToPatch: []CaseMetric{}, PatchToField: []CaseMetric{}, Field: []FieldShare{},
		FieldNote: "no vulnerability's fix reached every affected fielded unit in the window"}
	if len(cds) > 0 && cds[0].rem == nil {
		m.FieldNote = "not measured: the remediation records (fix releases, deployment per consignee) are not available to this build of the documents"
	}
	for _, cd := range cds {
		if r := cd.rem; r != nil && !r.Metrics.Distributed.After(to) && !r.Metrics.Distributed.IsZero() {
			fm := r.Metrics
			m.Field = append(m.Field, FieldShare{Case: cd.v.Case.ID, Vulnerability: cd.v.Case.Vulnerability, Units: fm.Units, Remediated: fm.Remediated, Percent: fm.Percent})
			if fm.DaysToField != nil && within(fm.FullyRemediated, from, to) {
				m.PatchToField = append(m.PatchToField, CaseMetric{Case: cd.v.Case.ID, Vulnerability: cd.v.Case.Vulnerability, From: fm.Distributed, To: fm.FullyRemediated, Days: *fm.DaysToField})
			}
		}
		if cd.v.Case.Learned.After(to) || cd.latest().VEXStatus == vigil.VEXNotAffected {
			continue
		}
		m.Vulnerabilities++
		fix := cd.validatedFix()
		if fix == nil || fix.Date.After(to) {
			continue
		}
		m.Patched++
		if within(fix.Date, from, to) {
			m.IdentToPatch = append(m.IdentToPatch, CaseMetric{Case: cd.v.Case.ID, Vulnerability: cd.v.Case.Vulnerability, From: cd.v.Case.Learned, To: fix.Date, Days: fix.Date.Sub(cd.v.Case.Learned)})
		}
	}
	if m.Vulnerabilities > 0 {
		m.PercentPatched = float64(int(float64(m.Patched)/float64(m.Vulnerabilities)*1000+0.5)) / 10
	}
	if n := len(m.IdentToPatch); n > 0 {
		days := make([]int, n)
		for i, x := range m.IdentToPatch {
			days[i] = x.Days
		}
		sort.Ints(days)
		med := float64(days[n/2])
		if n%2 == 0 {
			med = float64(days[n/2-1]+days[n/2]) / 2
		}
		m.MedianToPatch = &med
	}
	return m
}

func metricsSection(doc *report.Document, m PatchMetrics) {
	med := "no patch in the period"
	if m.MedianToPatch != nil {
		med = fmt.Sprintf("%g days", *m.MedianToPatch)
	}
	s := doc.Add(fmt.Sprintf("Patching metrics (PM2025), %s to %s", m.From, m.To)).Fields(
		"Vulnerabilities (learned by the end of the period, device affected)", fmt.Sprint(m.Vulnerabilities),
		"Patched (validated fix or compensating control distributed by the end)", fmt.Sprintf("%d (%g%%)", m.Patched, m.PercentPatched),
		"Median time from identification to patch (patches of the period)", med,
		"Time from patch to field", orNone(fieldSummary(m), m.FieldNote))
	s.Text("%s", patchToField)
	s.Chart(report.Chart{Title: "Vulnerabilities patched", Unit: "vulnerabilities", Bars: []report.Bar{{Label: "patched", Value: float64(m.Patched)},
		{Label: "not patched", Value: float64(m.Vulnerabilities - m.Patched)}}})
	var bars []report.Bar
	var rows [][]string
	for _, x := range m.IdentToPatch {
		bars = append(bars, report.Bar{Label: x.Vulnerability, Value: float64(x.Days)})
		rows = append(rows, []string{x.Vulnerability, fmt.Sprint(x.Case), x.From.String(), x.To.String(), fmt.Sprint(x.Days)})
	}
	s.Chart(report.Chart{Title: "Identification to patch", Unit: "days", Bars: bars})
	s.Table([]string{"Vulnerability", "Case", "Identified (D0)", "Patched", "Days"}, rows, "No vulnerability was patched in the period.")
	var fb, sb []report.Bar
	var frows [][]string
	for _, x := range m.PatchToField {
		fb = append(fb, report.Bar{Label: x.Vulnerability, Value: float64(x.Days)})
		frows = append(frows, []string{x.Vulnerability, fmt.Sprint(x.Case), x.From.String(), x.To.String(), fmt.Sprint(x.Days)})
	}
	s.Chart(report.Chart{Title: "Patch to field", Unit: "days", Bars: fb})
	s.Table([]string{"Vulnerability", "Case", "Fix distributed", "All fielded units updated", "Days"}, frows, "No vulnerability's fix reached every fielded unit in the window.")
	var rows2 [][]string
	for _, x := range m.Field {
		sb = append(sb, report.Bar{Label: x.Vulnerability, Value: x.Percent})
		rows2 = append(rows2, []string{x.Vulnerability, fmt.Sprint(x.Case), fmt.Sprint(x.Units), fmt.Sprint(x.Remediated), fmt.Sprintf("%g%%", x.Percent)})
	}
	s.Chart(report.Chart{Title: "Fielded units carrying the fix", Unit: "%", Bars: sb})
	s.Table([]string{"Vulnerability", "Case", "Fielded units", "Carrying the fix", "Share"}, rows2, "")
}

func fieldSummary(m PatchMetrics) string {
	if len(m.PatchToField) == 0 {
		return ""
	}
	var p []string
	for _, x := range m.PatchToField {
		p = append(p, fmt.Sprintf("%s %d days", x.Vulnerability, x.Days))
	}
	return strings.Join(p, "; ")
}
