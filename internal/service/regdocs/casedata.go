package regdocs

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/service/remediation"
)

// caseData is what the case documents read: the live view, the learned-how line of the summary, the device's
// versions and the consignees holding an affected version.
type caseData struct {
	v        *cases.View
	d        *regulatory.Determination
	learned  string
	set      Settings
	versions map[int64]*vigil.DeviceVersion
	units    []consigneeUnit          // each consignee holding an affected version, per version
	rem      *remediation.Remediation // nil without the remediation service
}

type consigneeUnit struct {
	c *vigil.Consignee
	u vigil.ConsigneeUnit
}

// EventLine is one dated event of a case as a document cites it.
type EventLine struct {
	Date    vigil.Date `json:"date"`
	Type    string     `json:"type"`
	Details string     `json:"details,omitempty"`
	Note    string     `json:"note"`
	By      string     `json:"recorded_by"`
}

func (b *build) caseData(ctx context.Context, caseID int64) (*caseData, error) {
	v, err := b.s.Cases.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	cd := &caseData{v: v, d: v.Determination, versions: map[int64]*vigil.DeviceVersion{}}
	if v.Provisional || v.Determination == nil {
		why := "it is not assessed yet"
		if v.Problem != "" {
			why = v.Problem
		}
		return nil, vigil.Errorf(vigil.ECONFLICT, "%s has no determination to document: %s", v.Case, why)
	}
	if len(v.Versions) > 0 {
		sm, err := b.s.Cases.Summary(ctx, v.Versions[0].FindingID, vigil.Date{})
		if err != nil {
			return nil, err
		}
		cd.learned = sm.Learned
	}
	if b.s.Remediation != nil {
		if cd.rem, err = b.s.Remediation.Remediation(ctx, v.Case.ID); err != nil {
			return nil, err
		}
	}
	if cd.set, err = b.deviceSettings(ctx, v.Device.ID); err != nil {
		return nil, err
	}
	vs, err := b.s.Store.Versions(ctx, v.Device.ID)
	if err != nil {
		return nil, err
	}
	for _, x := range vs {
		cd.versions[x.ID] = x
	}
	affected := map[int64]bool{}
	for _, x := range v.Versions {
		affected[x.VersionID] = true
	}
	cs, err := b.s.Store.Consignees(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		for _, u := range c.Units {
			if affected[u.VersionID] {
				cd.units = append(cd.units, consigneeUnit{c, u})
			}
		}
	}
	sort.SliceStable(cd.units, func(i, j int) bool {
		if cd.units[i].c.Name != cd.units[j].c.Name {
			return cd.units[i].c.Name < cd.units[j].c.Name
		}
		return cd.version(cd.units[i].u.VersionID) < cd.version(cd.units[j].u.VersionID)
	})
	return cd, nil
}

func (cd *caseData) version(id int64) string {
	if v := cd.versions[id]; v != nil {
		return v.Version
	}
	return fmt.Sprint(id)
}

// events returns the standing events of the given types, in the case's order.
func (cd *caseData) events(types ...string) []EventLine {
	var out []EventLine
	for _, e := range cd.v.Events {
		if slices.Contains(types, e.Type) {
			out = append(out, EventLine{Date: e.Date, Type: e.Type, Details: eventDetails(e.Details), Note: e.Note, By: e.Actor})
		}
	}
	return out
}

func eventRows(es []EventLine) [][]string {
	var rows [][]string
	for _, e := range es {
		rows = append(rows, []string{e.Date.String(), strings.ReplaceAll(e.Type, "_", " "), e.Details, e.Note, e.By})
	}
	return rows
}

var eventHeaders = []string{"Date", "Event", "Details", "Reference (the record's evidence)", "Recorded by"}

func eventDetails(d vigil.EventData) string {
	var p []string
	if len(d.Elements) > 0 {
		p = append(p, "notice elements "+strings.Join(d.Elements, ","))
	}
	if d.Validated {
		p = append(p, "validated")
	}
	if d.Remediation != "" {
		p = append(p, strings.ReplaceAll(d.Remediation, "_", " "))
	}
	if d.RemedialAction {
		p = append(p, "remedial action")
	}
	if d.IncludesCorrection {
		p = append(p, "includes the correction")
	}
	return strings.Join(p, ", ")
}

// latest is the latest standing assessment (nil before one).
func (cd *caseData) latest() *vigil.Assessment {
	if n := len(cd.v.Assessments); n > 0 {
		return cd.v.Assessments[n-1]
	}
	return nil
}

// riskSummary says what the assessment found, in one paragraph.
func (cd *caseData) riskSummary() string {
	a := cd.latest()
	first := cd.v.Assessments[0]
	s := fmt.Sprintf("First determination: %s risk of patient harm (assessment of %s by %s", first.Risk, first.Date, first.Actor)
	if first.Matrix != "" {
		s += ", acceptance matrix " + first.Matrix
	}
	s += fmt.Sprintf("); current risk: %s.", cd.d.CurrentRisk)
	if a.Exploitability != "" || a.Severity != "" {
		s += fmt.Sprintf(" Exploitability %s, severity of patient harm %s", orNone(string(a.Exploitability), "not assessed"), orNone(a.Severity, "not assessed"))
		if len(a.Functions) > 0 {
			s += " (clinical functions reached: " + strings.Join(a.Functions, ", ") + ")"
		}
		s += "."
	}
	if a.CVSS != "" {
		s += " CVSS " + a.CVSS + "."
	}
	if len(a.Controls) > 0 {
		s += " Controls in place: " + strings.Join(a.Controls, "; ") + "."
	}
	return s + " Rationale: " + a.Rationale
}

// fixedIn lists the releases that fix the vulnerability, from the matching evidence of the case's versions.
func (cd *caseData) fixedIn() []string {
	var out []string
	for _, x := range cd.v.Versions {
		if x.FixedIn != "" && !slices.Contains(out, x.FixedIn) {
			out = append(out, x.FixedIn)
		}
	}
	return out
}

// validatedFix is the first validated fix_distributed event (nil when none).
func (cd *caseData) validatedFix() *vigil.CaseEvent {
	for _, e := range cd.v.Events {
		if e.Type == regulatory.EventFixDistributed && e.Details.Validated {
			return e
		}
	}
	return nil
}

// alerts are the CISA ICS/ICSMA advisories and KEV entry the case's ids point at.
func (cd *caseData) alerts() []string {
	var out []string
	for _, id := range cd.v.Case.IDs() {
		u := strings.ToUpper(id)
		if strings.HasPrefix(u, "ICSMA-") || strings.HasPrefix(u, "ICSA-") {
			out = append(out, fmt.Sprintf("CISA advisory %s: https://www.cisa.gov/news-events/ics-%sadvisories/%s", u, map[bool]string{true: "medical-", false: ""}[strings.HasPrefix(u, "ICSMA-")], strings.ToLower(u)))
		}
	}
	if k := cd.v.KEV; k != nil {
		out = append(out, fmt.Sprintf("CISA Known Exploited Vulnerabilities catalog: %s listed %s", k.CVE, k.DateAdded))
	}
	for _, e := range cd.events(regulatory.EventISAOShared) {
		out = append(out, fmt.Sprintf("ISAO share of %s: %s", e.Date, e.Note))
	}
	return out
}

// releases describes the case's fix releases (release, remediation, V&V, distribution) and the plan in force, from
// the remediation records.
func (cd *caseData) releases() (fixes []string, plan string) {
	if cd.rem == nil {
		return nil, ""
	}
	for _, f := range cd.rem.Fixes {
		s := fmt.Sprintf("release %s (%s", f.Release, strings.ReplaceAll(f.Remediation, "_", " "))
		if vv := f.VV; vv != nil {
			s += fmt.Sprintf("; V&V %s %s on %s, report %s, approved by %s", vv.Protocol, vv.Result, vv.Validated, vv.Report, vv.Approver)
		} else {
			s += "; not validated yet"
		}
		if d := f.Distribution; d != nil {
			s += fmt.Sprintf("; distributed %s by %s", d.Date, d.Channel)
		} else {
			s += "; not distributed yet"
		}
		fixes = append(fixes, s+")")
	}
	if p := cd.rem.Plan; p != nil {
		plan = fmt.Sprintf("plan version %d of %s", p.Version, p.Date)
		if p.FixRelease != "" {
			plan += fmt.Sprintf(": fix in release %s by %s (%s cycle)", p.FixRelease, p.TargetDate, orNone(p.Cycle, "no"))
		}
		var cs []string
		for _, c := range p.Controls {
			cs = append(cs, fmt.Sprintf("%s (%s, since %s)", c.What, c.Documented, c.Since))
		}
		if len(cs) > 0 {
			plan += "; interim compensating controls: " + strings.Join(cs, "; ")
		}
		plan += "; timeline rationale: " + p.Rationale
	}
	return fixes, plan
}
