package regdocs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/risk"
)

// deviceCases reads a device's assessed cases (every state) with their data; unassessed ones are counted apart.
func (b *build) deviceCases(ctx context.Context, deviceID int64) (*vigil.Device, []*caseData, int, error) {
	dev, err := b.s.Store.Device(ctx, deviceID)
	if err != nil {
		return nil, nil, 0, err
	}
	cs, err := b.s.Store.Cases(ctx, vigil.CaseFilter{DeviceID: deviceID, States: vigil.CaseStates})
	if err != nil {
		return nil, nil, 0, err
	}
	var out []*caseData
	unassessed := 0
	slices.SortFunc(cs, func(a, b *vigil.Case) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range cs {
		cd, err := b.caseData(ctx, c.ID)
		if vigil.ErrorCode(err) == vigil.ECONFLICT {
			unassessed++
			continue
		} else if err != nil {
			return nil, nil, 0, err
		}
		out = append(out, cd)
	}
	return dev, out, unassessed, nil
}

// Statements524B is the typed content of the 524B statements for a new submission of a cyber device.
type Statements524B struct {
	Device            string           `json:"device"`
	CyberDevice       bool             `json:"cyber_device"`
	LastAuthorization vigil.Date       `json:"last_authorization,omitzero"`
	LastSubmission    string           `json:"last_submission"`
	CriticalOpen      []OpenVuln       `json:"critical_uncontrolled_open"`
	OtherOpen         []OpenVuln       `json:"other_uncontrolled_open"`
	Remediated        []RemediatedVuln `json:"uncontrolled_remediated"`
	Unassessed        int              `json:"unassessed_cases"`
	Critical          string           `json:"critical_means"`
	Rule              CriticalRule     `json:"critical_rule"`
}

// OpenVuln is an uncontrolled risk not yet remediated.
type OpenVuln struct {
	Case          int64      `json:"case"`
	Vulnerability string     `json:"vulnerability"`
	Learned       vigil.Date `json:"learned"`
	Severity      string     `json:"severity"`
	KEV           bool       `json:"kev"`
	CVSS          float64    `json:"cvss,omitempty"` // the base score of the latest assessment's vector
	State         string     `json:"state"`
	Versions      string     `json:"versions"`
}

// RemediatedVuln is an uncontrolled risk remediated by a validated fix or compensating control.
type RemediatedVuln struct {
	Case          int64      `json:"case"`
	Vulnerability string     `json:"vulnerability"`
	Learned       vigil.Date `json:"learned"`
	Remediated    vigil.Date `json:"remediated"`
	Remediation   string     `json:"remediation"`
	Release       string     `json:"release"`
}

func (b *build) statements524B(ctx context.Context, doc *report.Document, deviceID int64) error {
	dev, cds, unassessed, err := b.deviceCases(ctx, deviceID)
	if err != nil {
		return err
	}
	set, err := b.deviceSettings(ctx, deviceID)
	if err != nil {
		return err
	}
	rule, ruleSet := defaultCritical, "the default, as no critical rule is set (vigil report settings: critical_rule)"
	if set.Critical != nil {
		rule, ruleSet = *set.Critical, "the organization's (vigil report settings: critical_rule)"
	}
	st := &Statements524B{Device: dev.Name, CyberDevice: dev.CyberDevice, LastAuthorization: set.LastAuthorization, LastSubmission: set.LastSubmission,
		CriticalOpen: []OpenVuln{}, OtherOpen: []OpenVuln{}, Remediated: []RemediatedVuln{}, Unassessed: unassessed, Critical: rule.String(), Rule: rule}
	for _, cd := range cds {
		fix := cd.validatedFix()
		if cd.d.Risk == vigil.RiskUncontrolled && fix != nil && !fix.Date.Before(set.LastAuthorization) {
			release := fix.Note
			if fixes, _ := cd.releases(); len(fixes) > 0 {
				release = strings.Join(fixes, "; ")
			}
			if in := cd.fixedIn(); len(in) > 0 {
				release += " (component fixed in " + strings.Join(in, ", ") + ")"
			}
			st.Remediated = append(st.Remediated, RemediatedVuln{Case: cd.v.Case.ID, Vulnerability: cd.v.Case.Vulnerability, Learned: cd.v.Case.Learned,
				Remediated: fix.Date, Remediation: strings.ReplaceAll(orNone(fix.Details.Remediation, "patch"), "_", " "), Release: release})
		}
		if cd.d.CurrentRisk != vigil.RiskUncontrolled || fix != nil {
			continue
		}
		a := cd.latest()
		var vs []string
		for _, x := range cd.v.Versions {
			vs = append(vs, x.Version)
		}
		o := OpenVuln{Case: cd.v.Case.ID, Vulnerability: cd.v.Case.Vulnerability, Learned: cd.v.Case.Learned, Severity: a.Severity, KEV: cd.v.KEV != nil,
			State: string(cd.v.Case.State), Versions: strings.Join(vs, ", ")}
		if c, err := risk.ParseCVSS(a.CVSS); a.CVSS != "" && err == nil {
			o.CVSS = c.Score()
		}
		if rule.critical(o.Severity, o.KEV, o.CVSS) {
			st.CriticalOpen = append(st.CriticalOpen, o)
		} else {
			st.OtherOpen = append(st.OtherOpen, o)
		}
	}
	doc.Data = st
	doc.Title = "Section 524B statements: " + dev.Name
	doc.Subtitle = "For a new premarket submission of a cyber device (FD&C Act section 524B): whether any critical vulnerability that could cause an uncontrolled risk is open now, and which uncontrolled ones were remediated since the last marketing authorization."
	since := "no last marketing authorization date is set (vigil report settings --device D): every remediation is listed"
	if !set.LastAuthorization.IsZero() {
		since = fmt.Sprintf("%s %s", set.LastAuthorization, set.LastSubmission)
	}
	doc.Header = []report.Field{{Name: "Device", Value: fmt.Sprintf("%s, class %s, %s %s", dev.Name, dev.Class, dev.Pathway, dev.SubmissionNumber)},
		{Name: "Cyber device (524B)", Value: yesNo(dev.CyberDevice)}, {Name: "Last marketing authorization", Value: since}}
	s := doc.Add("Statement 1: critical uncontrolled-risk vulnerabilities open now")
	if len(st.CriticalOpen) == 0 {
		s.Text("As of the data cut-off, no critical vulnerability that could cause an uncontrolled risk of patient harm is open for %s.", dev.Name)
	} else {
		n := fmt.Sprintf("%d critical vulnerabilities that could cause an uncontrolled risk of patient harm are", len(st.CriticalOpen))
		if len(st.CriticalOpen) == 1 {
			n = "1 critical vulnerability that could cause an uncontrolled risk of patient harm is"
		}
		s.Text("As of the data cut-off, %s open for %s; each is being remediated out of cycle as soon as possible (524B(b)(2)(B)):", n, dev.Name)
	}
	s.Table(openHeaders, openRows(st.CriticalOpen), "")
	s.Text("%s Rule in force: %s.", rule, ruleSet)
	if len(st.OtherOpen) > 0 {
		s.Text("Other uncontrolled risks open (not critical under the policy above), remediated on the regular cycle:")
		s.Table(openHeaders, openRows(st.OtherOpen), "")
	}
	if unassessed > 0 {
		s.Text("%d case(s) of the device are not assessed yet and are not in these statements; each must be assessed within 30 days of being learned.", unassessed)
	}
	var rows [][]string
	for _, r := range st.Remediated {
		rows = append(rows, []string{r.Vulnerability, fmt.Sprint(r.Case), r.Learned.String(), r.Remediated.String(), r.Remediation, r.Release})
	}
	doc.Add("Statement 2: uncontrolled-risk vulnerabilities remediated since the last authorization").
		Table([]string{"Vulnerability", "Case", "Learned", "Remediated", "Remediation", "Release"}, rows, "No uncontrolled-risk vulnerability was remediated since the last authorization.")
	return nil
}

var openHeaders = []string{"Vulnerability", "Case", "Learned", "Severity of patient harm", "KEV", "CVSS", "Case state", "Versions"}

func openRows(os []OpenVuln) [][]string {
	var rows [][]string
	for _, o := range os {
		score := "not scored"
		if o.CVSS > 0 {
			score = fmt.Sprintf("%.1f", o.CVSS)
		}
		rows = append(rows, []string{o.Vulnerability, fmt.Sprint(o.Case), o.Learned.String(), o.Severity, yesNo(o.KEV), score, o.State, o.Versions})
	}
	return rows
}

// CMP is the typed content of the Cybersecurity Management Plan of a device line.
type CMP struct {
	Device   string           `json:"device"`
	Versions []string         `json:"versions"`
	Settings Settings         `json:"settings"`
	Feeds    []*vigil.Feed    `json:"feeds"`
	ISAOs    []string         `json:"isaos"`
	KEVCases []string         `json:"kev_cases"`
	CVD      *vigil.CVDPolicy `json:"cvd"`
	Metrics  PatchMetrics     `json:"metrics"`
	Notices  int              `json:"customer_notices"`
}

func (b *build) cmp(ctx context.Context, doc *report.Document, deviceID int64) error {
	dev, cds, unassessed, err := b.deviceCases(ctx, deviceID)
	if err != nil {
		return err
	}
	set, err := b.deviceSettings(ctx, deviceID)
	if err != nil {
		return err
	}
	feeds, err := b.s.Store.Feeds(ctx)
	if err != nil {
		return err
	}
	cvd, err := b.s.Store.CVDPolicy(ctx)
	if err != nil {
		return err
	}
	vs, err := b.s.Store.Versions(ctx, deviceID)
	if err != nil {
		return err
	}
	p := &CMP{Device: dev.Name, Settings: set, Feeds: feeds, CVD: cvd}
	var vrows [][]string
	for _, v := range vs {
		p.Versions = append(p.Versions, v.Version)
		rel := ""
		if v.ReleaseDate != nil {
			rel = v.ReleaseDate.String()
		}
		vrows = append(vrows, []string{v.Version, strings.ReplaceAll(v.Status, "_", " "), rel, fmt.Sprint(v.UnitsFielded)})
	}
	for _, cd := range cds {
		if cd.v.KEV != nil {
			p.KEVCases = append(p.KEVCases, fmt.Sprintf("%s (case %d, KEV since %s, current risk %s)", cd.v.Case.Vulnerability, cd.v.Case.ID, cd.v.KEV.DateAdded, cd.d.CurrentRisk))
		}
		p.Notices += len(cd.events(regulatory.EventCustomerNotified))
	}
	first := b.today()
	for _, cd := range cds {
		if cd.v.Case.Learned.Before(first) {
			first = cd.v.Case.Learned
		}
	}
	p.Metrics = metrics(cds, first, b.today())
	doc.Data = p
	doc.Title = "Cybersecurity Management Plan: " + dev.Name
	doc.Subtitle = "How " + b.org.Name + " monitors, identifies and addresses the postmarket cybersecurity vulnerabilities of this device line (FD&C Act 524B(b)(1); G2016 §V; PM2025), from Vigil's settings and live data."
	doc.Header = []report.Field{{Name: "Manufacturer", Value: b.org.Name}, {Name: "Device", Value: fmt.Sprintf("%s, class %s, %s %s", dev.Name, dev.Class, dev.Pathway, dev.SubmissionNumber)},
		{Name: "Cyber device (524B)", Value: yesNo(dev.CyberDevice)}}
	doc.Add("1. Scope: the device line and its fielded versions").
		Table([]string{"Version", "Status", "Released", "Units fielded"}, vrows, "No version is recorded.").
		Text("Every version's SBOM is kept in Vigil and matched against every new advisory as it is imported (horizontal across the portfolio, vertical through components).")
	var people []string
	if set.ResponsiblePerson != nil {
		people = append(people, "Responsible person: "+set.ResponsiblePerson.String())
	}
	for _, x := range set.People {
		people = append(people, x.String())
	}
	doc.Add("2. People").List(people, "Not set: name the PSIRT and its roles (vigil report settings).")
	var frows [][]string
	for _, f := range feeds {
		state := "enabled"
		if !f.Enabled {
			state = "disabled"
		}
		frows = append(frows, []string{f.Name, f.Source, f.URL, "every " + f.Schedule, state, b.day(f.LastSuccess)})
	}
	for _, m := range b.org.ISAOs {
		ev := "all four §IX criteria evidenced"
		if !m.Evidenced(b.today()) {
			ev = "§IX criteria not all evidenced"
		}
		if m.Device != "" {
			ev += "; " + m.Device + "'s own membership"
		}
		p.ISAOs = append(p.ISAOs, fmt.Sprintf("%s (member since %s; %s)", m.Name, m.Since, ev))
	}
	doc.Add("3. Sources and frequency of monitoring").
		Table([]string{"Source", "Kind", "Where", "Frequency", "State", "Last success"}, frows, "No feed is configured.").
		List(p.ISAOs, "No ISAO membership is recorded.").
		Text("Researchers' and customers' reports arrive through the CVD intake (section 9); every signal is linked to the cases it concerns.")
	kev := "No configured source carries the CISA KEV catalog: add it."
	for _, f := range feeds {
		if f.Source == "kev" && f.Enabled {
			kev = fmt.Sprintf("The CISA KEV catalog is synced every %s (%s).", f.Schedule, f.Name)
		}
	}
	doc.Add("4. CISA KEV entries: how they are identified and addressed").
		Text("%s A KEV listing marks a vulnerability as exploited in the wild: its exploitability is high unless an assessor overrides it with a reason, and under this plan it makes an uncontrolled risk critical, remediated out of cycle.", kev).
		List(p.KEVCases, "No case of this device is in the KEV catalog now.")
	doc.Add("5. Security testing").Text("%s", orNone(set.SecurityTesting, "Not set (vigil report settings): describe the security testing of every release and remediation (820.30(g) validation)."))
	doc.Add("6. Patch timeline and cycle").Fields(
		"Regular cycle (known unacceptable vulnerabilities, 524B(b)(2)(A))", orNone(set.PatchCycle, "not set (vigil report settings)"),
		"Out of cycle (critical uncontrolled risks, 524B(b)(2)(B))", "as soon as possible; customers told, interim compensating controls and a remediation plan within 30 days of learning, a validated fix or compensating control distributed within 60 days (G2016 §VII.B)",
		"Reporting", "an uncontrolled risk whose enforcement discretion is not met is reported under 21 CFR 806.10 within 10 working days of initiating the correction")
	doc.Add("7. Update process").Text("%s", orNone(set.UpdateProcess, "Not set (vigil report settings): how updates are built, validated, distributed and installed in the field."))
	med := "no patch yet"
	if m := p.Metrics.MedianToPatch; m != nil {
		med = fmt.Sprintf("%g days", *m)
	}
	s := doc.Add("8. Patching rate (measured)").Fields(
		"Vulnerabilities (assessed, device affected)", fmt.Sprint(p.Metrics.Vulnerabilities),
		"Patched", fmt.Sprintf("%d (%g%%)", p.Metrics.Patched, p.Metrics.PercentPatched),
		"Median time from identification to patch", med,
		"Not assessed yet", fmt.Sprint(unassessed))
	s.Chart(report.Chart{Title: "Vulnerabilities patched", Unit: "vulnerabilities", Bars: []report.Bar{{Label: "patched", Value: float64(p.Metrics.Patched)},
		{Label: "not patched", Value: float64(p.Metrics.Vulnerabilities - p.Metrics.Patched)}}})
	cvdText := "No CVD policy is published."
	if cvd != nil {
		cvdText = fmt.Sprintf("Reports are received at %s and acknowledged within %d working days (ISO/IEC 29147, 30111); the policy and security.txt are published at %s/.well-known/security.txt. Each report is triaged, linked to the cases it concerns, and its reporter is told of remediation and disclosure.",
			orNone(cvd.Contact, "(no contact set)"), cvd.AckDays, orNone(cvd.BaseURL, "(no base URL set)"))
	}
	doc.Add("9. Coordinated vulnerability disclosure").Text("%s", cvdText)
	doc.Add("10. Customer communication").
		Text("%s", orNone(set.CustomerCommunication, "Not set (vigil report settings): how customers and users are told.")).
		Text("Every notice of an uncontrolled risk (a) describes the vulnerability with an impact assessment, (b) says efforts are underway, (c) describes compensating controls, (d) says a fix is coming and that users will be told. %d notice(s) were recorded on this device's cases.", p.Notices)
	return nil
}
