package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
)

// maxPage bounds a page of findings; maxExport an export of them.
const (
	maxPage   = 500
	maxExport = 200_000
)

// findingQuery reads the findings filter from the query string.
func (s *Server) findingQuery(r *http.Request) (FindingQuery, error) {
	q := r.URL.Query()
	var f FindingQuery
	var err error
	if f.DeviceID, err = intQuery(r, "device"); err != nil {
		return f, err
	}
	if f.VersionID, err = intQuery(r, "version"); err != nil {
		return f, err
	}
	if f.After, err = intQuery(r, "after"); err != nil {
		return f, err
	}
	if f.Before, err = intQuery(r, "before"); err != nil {
		return f, err
	}
	limit, err := intQuery(r, "limit")
	if err != nil {
		return f, err
	}
	f.Limit = int(min(limit, maxPage))
	if f.Limit == 0 {
		f.Limit = s.opt.PageSize
	}
	if f.States, err = vigil.ParseFindingStates(q["state"]); err != nil {
		return f, err
	}
	f.Vuln = strings.TrimSpace(q.Get("vuln"))
	f.Text = strings.TrimSpace(q.Get("q"))
	if len(f.Text) > 200 {
		return f, vigil.Errorf(vigil.EINVALID, "q: longer than 200 characters")
	}
	if f.Risk = vigil.RiskFilter(q.Get("risk")); f.Risk != "" {
		if err := f.Risk.Validate(); err != nil {
			return f, err
		}
	}
	since, err := dateQuery(r, "since")
	if err != nil {
		return f, err
	}
	if !since.IsZero() {
		f.Since = since.Time()
	}
	return f, nil
}

type findingsData struct {
	Query   FindingQuery
	Page    *FindingPage
	Devices []*vigil.Device
	States  []vigil.FindingState
	Filter  url.Values // the filter without cursors, to build page and export links
	// Rows is the page's table, rendered (or reused: see fragments).
	Rows template.HTML
	// VersionName names the version filter, WithoutVersion is the list without it.
	VersionName    string
	WithoutVersion string
}

// Link returns the list URL with the filter and extra parameters.
func (d findingsData) Link(kv ...string) string {
	v := url.Values{}
	for k, vs := range d.Filter {
		v[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "/findings?" + v.Encode()
}

func (s *Server) findingsPage(w http.ResponseWriter, r *http.Request) error {
	q, err := s.findingQuery(r)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	if format != "" {
		return s.exportFindings(w, r, format, q)
	}
	p, err := s.svc.Queries.FindingPage(r.Context(), q)
	if err != nil {
		return err
	}
	devs, err := s.svc.Portfolio.Devices(r.Context())
	if err != nil {
		return err
	}
	filter := url.Values{}
	for k, vs := range r.URL.Query() {
		if k != "after" && k != "before" && k != "done" && k != "format" {
			filter[k] = vs
		}
	}
	data := findingsData{Query: q, Page: p, Devices: devs, States: vigil.FindingStates, Filter: filter}
	key := ""
	if p.Revision != "" {
		key = "rows@" + p.Revision
	}
	rows, err := s.frags.get(key, func() (any, error) { return s.execute(r.Context(), "findings", "findingrows", rowViews(p.Rows)) })
	if err != nil {
		return err
	}
	data.Rows = rows.(template.HTML)
	if q.VersionID != 0 {
		// A version filter comes from a link (the version page); name it so it can be seen and removed.
		if v, err := s.svc.Portfolio.Version(r.Context(), q.VersionID); err == nil {
			data.VersionName = v.Version
			if d, err := s.svc.Portfolio.Device(r.Context(), v.DeviceID); err == nil {
				data.VersionName = d.Name + " " + v.Version
			}
		}
		without := url.Values{}
		for k, vs := range filter {
			if k != "version" {
				without[k] = vs
			}
		}
		data.WithoutVersion = "/findings?" + without.Encode()
	}
	s.render(w, r, http.StatusOK, "findings", page{Title: "Findings", Nav: "findings", Data: data})
	return nil
}

// exportFindings writes every finding the filter matches, page by page.
func (s *Server) exportFindings(w http.ResponseWriter, r *http.Request, format string, q FindingQuery) error {
	q.After, q.Before, q.Limit, q.NoTotal = 0, 0, maxPage, true
	rows := []FindingRow{}
	for len(rows) < maxExport {
		p, err := s.svc.Queries.FindingPage(r.Context(), q)
		if err != nil {
			return err
		}
		rows = append(rows, p.Rows...)
		if p.Older == 0 || len(p.Rows) == 0 {
			break
		}
		q.After = p.Older
	}
	t := table{Header: []string{"id", "device", "version", "component", "component_version", "purl", "vulnerability", "aliases", "state", "risk", "severity",
		"learned", "first_seen", "matcher", "range", "fixed"}}
	for _, f := range rows {
		t.Rows = append(t.Rows, []string{itoa(f.ID), f.Device, f.Version, f.Component.Name, f.Component.Version, f.Component.Purl, f.Vulnerability,
			strings.Join(f.Aliases, " "), string(f.State), string(f.Risk), f.Severity, f.Learned.String(), fmtTimeCSV(f.FirstSeen), f.Evidence.Matcher, f.Evidence.Range, f.Evidence.Fixed})
	}
	return export(w, format, "findings", rows, t)
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) error {
	q, err := s.findingQuery(r)
	if err != nil {
		return err
	}
	p, err := s.svc.Queries.FindingPage(r.Context(), q)
	return reply(w, http.StatusOK, p, err)
}

// ---- one finding

// findingData is everything the finding page shows.
type findingData struct {
	View *cases.View
	// Base is the page's path (/findings/ID or /cases/ID): its forms post under it.
	Base       string
	Clocks     []cases.Deadline
	Vuln       *vigil.Vulnerability
	Latest     *vigil.Assessment
	Criteria   []criterionRow
	Warnings   []warningRow
	Deadlines  []deadlineRow
	Timeline   []timelineItem
	Rubric     []rubricQuestion
	Categories []risk.Category
	EventTypes []eventType
	Form       url.Values // the submitted form, re-shown after an error
	FormName   string     // which form failed: assess, event or state
	Today      vigil.Date
	Elements   []string
	// Justifications are the VEX justifications a version's not_affected status may give.
	Justifications []vigil.VEXJustification
	// Model is the device's threat model (nil without one): its threats and controls can be named by an assessment.
	Model *vigil.ThreatModel
	// StaticFields is the CVSS picker and the rubric as they are before anything is answered, rendered once.
	StaticFields template.HTML
	// Meanings are what a signature of the determination may mean.
	Meanings []vigil.SignatureMeaning
	// Documents are the regulatory documents that apply to the case now.
	Documents []docLink
	// ISAO is the case's ISAO participation: the memberships covering its device, its shares, the intelligence
	// touching it (nil when the server has no ISAO service).
	ISAO *caseISAO
	// Reports are the reports triaged into the case (the case page only): their reporters read its disclosure
	// coordination, and ask for an embargo and a credit line.
	Reports []*vigil.Report
	// Records is where the case stands with its regulatory records (on the case page; nil on a finding's).
	Records *regdocs.CaseRecords
	// PremarketDecisions are the decisions the premarket form offers.
	PremarketDecisions []string
	// Evidence says the server hands out evidence packages (it holds the audit key).
	Evidence bool
}

// Disclosure is the case's disclosure coordination as it stands (nil before any is recorded).
func (d *findingData) Disclosure() *vigil.CaseDisclosure {
	if n := len(d.View.Disclosures); n > 0 {
		return d.View.Disclosures[n-1]
	}
	return nil
}

// OtherPartners are the standing coordination's partners other than those named by a word (CISA, the ISAO, the
// reporter), which the form ticks.
func (d *findingData) OtherPartners() []string {
	var out []string
	if dc := d.Disclosure(); dc != nil {
		for _, p := range dc.Partners {
			if p != vigil.PartnerCISA && p != vigil.PartnerISAO && p != vigil.PartnerReporter {
				out = append(out, p)
			}
		}
	}
	return out
}

// Requested is the first triaged report that asks for an embargo or a credit line: what the disclosure form
// starts from before anything is agreed.
func (d *findingData) Requested() *vigil.Report {
	for _, r := range d.Reports {
		if r.EmbargoRequested != nil || r.Credit != "" {
			return r
		}
	}
	return nil
}

type criterionRow struct {
	regulatory.Criterion
	Title    string
	Evidence []string
}

// warningRow is a determination warning with the event it is about (a late entry) in words, evidence included.
type warningRow struct {
	regulatory.Warning
	About string
}

type deadlineRow struct {
	Clock    string
	Due      vigil.Date
	Open     *cases.Deadline // nil when met or no longer running
	Overdue  bool
	Standing string // cases.ClockStanding: met, pending, overdue, missed, not_required
	Why      string // why it is not required
}

type timelineItem struct {
	Date    vigil.Date // the effective date: when it happened
	Time    time.Time
	Entered vigil.Date // when it was recorded (zero for what is not a record)
	Ref     string     // the record's name for a retraction (A12, E7)
	Kind    string     // found, assessed, event, state
	Title   string
	Detail  string
	Actor   string
	Risk    vigil.Risk
	// Retraction withdrew the record: it is shown struck through, with the reason.
	Retraction *vigil.Retraction
	// Signatures are the manifestations of the record's Part 11 signatures (21 CFR 11.50), of the record signKind
	// signID (signTimeline).
	Signatures []string
	signKind   string
	signID     int64
}

// Late says the record was entered on another day than it happened.
func (t timelineItem) Late() bool { return !t.Entered.IsZero() && !t.Entered.Equal(t.Date) }

var criterionTitles = map[int]string{
	1: "No known serious adverse event or death",
	2: "Customers notified, interim controls and a remediation plan within 30 days",
	3: "Validated fix or compensating control distributed within 60 days",
	4: "Active ISAO participation, customer communications shared",
}

// eventType describes an event a person can record.
type eventType struct {
	Type, Label, Help string
}

var eventTypes = []eventType{
	{regulatory.EventCustomerNotified, "Customers notified", "A customer notice was sent. Tick the G2016 elements it holds: (a) the vulnerability and an impact assessment, (b) efforts underway to address the risk, (c) compensating controls, (d) a fix is coming and users will be told."},
	{regulatory.EventInterimControls, "Interim compensating controls identified", "Controls users can apply now (network segmentation, disabling a service)."},
	{regulatory.EventRemediationPlan, "Remediation plan with timeline rationale", "The plan to bring the risk to an acceptable level, and why its timeline."},
	{regulatory.EventISAOShared, "Shared with the ISAO", "The vulnerability and the customer communication were given to the ISAO."},
	{regulatory.EventCorrectionInitiated, "Correction initiated", "Day 0 of the 21 CFR 806.10 ten-working-day clock."},
	{regulatory.EventFixDistributed, "Fix distributed", "A patch or compensating control was distributed; only a validated one meets ED criterion 3."},
	{regulatory.EventSeriousAdverseEvent, "Serious adverse event", "A death or serious injury associated with the vulnerability: ED criterion 1 fails and the MDR clocks start."},
	{regulatory.EventMDRFiled, "MDR filed", "An 803 report was filed (say whether it reports the correction too)."},
	{regulatory.EventPart806Filed, "Part 806 report filed", "The 806.10 correction report was submitted."},
}

// caseOf returns the case of a finding: the finding pages record assessments and events on it.
func (s *Server) caseOf(ctx context.Context, findingID int64) (int64, error) {
	f, err := s.svc.Findings.Finding(ctx, findingID)
	if err != nil {
		return 0, err
	}
	return f.CaseID, nil
}

func (s *Server) loadFinding(ctx context.Context, id int64, asOf vigil.Date) (*findingData, error) {
	v, err := s.svc.Cases.FindingView(ctx, id, asOf)
	if err != nil {
		return nil, err
	}
	return s.viewData(ctx, v, "/findings/"+itoa(id)), nil
}

// viewData is what the finding page and the case page show of a case's view; base is the page's path, which its
// forms post under.
func (s *Server) viewData(ctx context.Context, v *cases.View, base string) *findingData {
	d := &findingData{View: v, Base: base, Clocks: cases.Clocks(v), Rubric: s.rubric, Categories: risk.Categories(), EventTypes: eventTypes,
		Today: s.today(ctx), Elements: regulatory.NoticeElements, StaticFields: s.staticFields, Meanings: vigil.SignatureMeanings,
		Documents: s.caseDocuments(ctx, v.Case.ID), Justifications: vigil.VEXJustifications, ISAO: s.caseISAO(ctx, v)}
	if n := len(v.Assessments); n > 0 {
		d.Latest = v.Assessments[n-1]
	}
	if s.svc.Vulns != nil {
		for _, alias := range v.Case.IDs() {
			if vu, err := s.svc.Vulns.Vuln(ctx, alias); err == nil {
				d.Vuln = vu
				break
			}
		}
	}
	if det := v.Determination; det != nil {
		for _, c := range det.EnforcementDiscretion.Criteria {
			row := criterionRow{Criterion: c, Title: criterionTitles[c.N]}
			for _, ev := range c.Evidence {
				row.Evidence = append(row.Evidence, describeEvidence(v, ev))
			}
			d.Criteria = append(d.Criteria, row)
		}
		for _, w := range det.Warnings {
			row := warningRow{Warning: w}
			if w.Event != nil {
				row.About = describeEvidence(v, "events["+strconv.Itoa(*w.Event)+"]")
			}
			d.Warnings = append(d.Warnings, row)
		}
		open := map[string]*cases.Deadline{}
		for i := range d.Clocks {
			open[d.Clocks[i].Clock] = &d.Clocks[i]
		}
		dl := det.Deadlines
		for _, c := range []struct {
			name string
			due  vigil.Date
		}{{"ed_communication", dl.EDCommunication}, {"ed_fix", dl.EDFix}, {"part806", dl.Part806}, {"mdr", dl.MDR}, {"mdr_5_day", dl.MDR5Day}} {
			if c.due.IsZero() {
				continue
			}
			row := deadlineRow{Clock: c.name, Due: c.due, Open: open[c.name]}
			row.Overdue = row.Open != nil && row.Open.Overdue
			row.Standing, _, row.Why = cases.ClockStanding(v, c.name, c.due)
			d.Deadlines = append(d.Deadlines, row)
		}
	}
	d.Timeline = s.timeline(ctx, v)
	s.signTimeline(ctx, d.Timeline)
	d.Model = s.threatModel(ctx, v.Device.ID)
	if strings.HasPrefix(base, "/cases/") {
		d.Records, d.PremarketDecisions, d.Evidence = s.caseRecords(ctx, v.Case.ID), regdocs.PremarketDecisions, s.svc.Evidence != nil
	}
	return d
}

// threatModel returns a device's threat model, or nil when there is none (or no threat model service).
func (s *Server) threatModel(ctx context.Context, deviceID int64) *vigil.ThreatModel {
	if s.svc.Threats == nil {
		return nil
	}
	m, err := s.svc.Threats.ThreatModel(ctx, deviceID)
	if err != nil {
		if vigil.ErrorCode(err) != vigil.ENOTFOUND {
			s.opt.Log.Warn("threat model", "device", deviceID, "err", err)
		}
		return nil
	}
	if len(m.Threats) == 0 && len(m.Controls) == 0 && len(m.Assets) == 0 {
		return nil
	}
	return m
}

// describeEvidence turns a criterion's pointer ("events[3]") into words: the facts list the reassessments (every
// assessment after the first) and then the recorded events, in that order.
func describeEvidence(v *cases.View, ptr string) string {
	var i int
	if _, err := fmtSscanIndex(ptr, &i); err != nil || v.Facts == nil || i < 0 || i >= len(v.Facts.Events) {
		return ptr
	}
	e := v.Facts.Events[i]
	text := humanize(e.Type) + " on " + e.Date.String()
	if j := i - (len(v.Assessments) - 1); j >= 0 && j < len(v.Events) && v.Events[j].Note != "" {
		text += ": " + v.Events[j].Note
	}
	return text
}

func fmtSscanIndex(ptr string, i *int) (int, error) {
	s, ok := strings.CutPrefix(ptr, "events[")
	if !ok {
		return 0, vigil.Errorf(vigil.EINVALID, "not an event pointer")
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, vigil.Errorf(vigil.EINVALID, "not an event pointer")
	}
	n, err := strconv.Atoi(s)
	*i = n
	return n, err
}

// timeline merges what happened to a case, by effective date: D0, assessments and events (each with the day it
// was entered, and struck through with the reason when retracted), state changes. On a finding's page the state
// changes are the finding's; on the case page the case's.
func (s *Server) timeline(ctx context.Context, v *cases.View) []timelineItem {
	c := v.Case
	d0 := timelineItem{Date: c.Learned, Time: c.CreatedAt, Kind: "found", Title: "Learned of the vulnerability (D0)", Detail: "How: " + humanize(c.LearnedHow)}
	if c.LearnedEvidence != "" {
		d0.Detail += "; evidence: " + c.LearnedEvidence
	}
	if f := v.Finding; f != nil {
		d0.Detail += "; this finding: " + f.Source + evidenceText(f.Evidence)
	}
	items := []timelineItem{d0}
	assessed := func(a *vigil.Assessment, title string) timelineItem {
		return timelineItem{Date: a.Date, Time: a.CreatedAt, Entered: vigil.DateOf(a.CreatedAt, nil), Ref: vigil.RecordRef{Kind: vigil.RecordAssessment, ID: a.ID}.String(),
			Kind: "assessed", Title: title + ": " + string(a.Risk), Detail: a.Rationale, Actor: a.Actor, Risk: a.Risk, signKind: "assessment", signID: a.ID}
	}
	event := func(e *vigil.CaseEvent) timelineItem {
		return timelineItem{Date: e.Date, Time: e.CreatedAt, Entered: vigil.DateOf(e.CreatedAt, nil), Ref: vigil.RecordRef{Kind: vigil.RecordEvent, ID: e.ID}.String(),
			Kind: "event", Title: eventLabel(e), Detail: e.Note, Actor: e.Actor, signKind: "case_event", signID: e.ID}
	}
	for i, a := range v.Assessments {
		title := "Assessed"
		if i > 0 {
			title = "Reassessed"
			if a.Interim {
				title = "Reassessed after interim controls"
			}
		}
		items = append(items, assessed(a, title))
	}
	for _, e := range v.Events {
		items = append(items, event(e))
	}
	for _, x := range v.Acts {
		items = append(items, timelineItem{Date: vigil.DateOf(x.CreatedAt, nil), Time: x.CreatedAt, Kind: "act", Title: actTitle[x.Act], Detail: actDetail(x),
			Actor: x.Actor, signKind: string(x.Act), signID: x.ID})
	}
	for _, d := range v.Disclosures {
		items = append(items, timelineItem{Date: vigil.DateOf(d.CreatedAt, nil), Time: d.CreatedAt, Kind: "disclosure", Title: "Disclosure coordination",
			Detail: d.Summary() + " — " + d.Reason, Actor: d.Actor})
	}
	for _, w := range v.Withdrawn {
		var it timelineItem
		switch {
		case w.Assessment != nil:
			it = assessed(w.Assessment, "Assessed")
		case w.Event != nil:
			it = event(w.Event)
		default:
			continue
		}
		it.Retraction = w.Retraction
		items = append(items, it)
	}
	if s.svc.Audit != nil {
		typ, id, action := "case", itoa(c.ID), "case.state"
		if v.Finding != nil {
			typ, id, action = "finding", itoa(v.Finding.ID), "finding.state"
		}
		evs, err := s.svc.Audit.Events(ctx, vigil.AuditFilter{ObjectType: typ, ObjectID: id, Action: action, Limit: 100})
		if err == nil {
			for _, e := range evs {
				var st struct{ State string }
				json.Unmarshal(e.New, &st)
				items = append(items, timelineItem{Date: vigil.DateOf(e.Time, nil), Time: e.Time, Kind: "state", Title: "State set to " + humanize(st.State), Detail: e.Reason, Actor: e.Actor})
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].Date.Equal(items[j].Date) {
			return items[i].Date.Before(items[j].Date)
		}
		return items[i].Time.Before(items[j].Time)
	})
	return items
}

// actTitle names the record of a signed act on the timeline.
var actTitle = map[vigil.SignedAct]string{
	vigil.ActCaseClosure:   "Case closed (signed act)",
	vigil.ActFixValidation: "Fix validated: V&V recorded (signed act)",
	vigil.ActNoticeRelease: "Customer notice released (signed act)",
}

// actDetail says what a signed act did, from its record.
func actDetail(x *vigil.ActRecord) string {
	var b struct {
		Reason, Subject, Release string
		Notice                   int64
		VV                       *vigil.VVRecord
	}
	if json.Unmarshal(x.Body, &b) != nil {
		return string(x.Body)
	}
	switch {
	case b.VV != nil:
		return fmt.Sprintf("fix release %s: V&V %s %s (protocol %s), approved by %s on %s", b.Release, b.VV.Report, b.VV.Result, b.VV.Protocol, b.VV.Approver, b.VV.Validated)
	case b.Notice != 0:
		return fmt.Sprintf("notice N-%d %q", b.Notice, b.Subject)
	}
	return b.Reason
}

func evidenceText(e vigil.Evidence) string {
	if e.Matcher == "" {
		return ""
	}
	s := "; matched by " + e.Matcher
	if e.Range != "" {
		s += " on " + e.Range
	}
	if e.Fixed != "" {
		s += ", fixed in " + e.Fixed
	}
	return s
}

func eventLabel(e *vigil.CaseEvent) string {
	label := humanize(e.Type)
	for _, t := range eventTypes {
		if t.Type == e.Type {
			label = t.Label
		}
	}
	var extra []string
	d := e.Details
	if len(d.Elements) > 0 {
		extra = append(extra, "elements "+strings.Join(d.Elements, ", "))
	}
	if e.Type == regulatory.EventFixDistributed {
		if d.Validated {
			extra = append(extra, "validated")
		} else {
			extra = append(extra, "not validated")
		}
	}
	if d.Remediation != "" {
		extra = append(extra, humanize(d.Remediation))
	}
	if d.Risk != "" {
		extra = append(extra, "risk "+string(d.Risk))
	}
	if d.Interim {
		extra = append(extra, "interim")
	}
	if d.RemedialAction {
		extra = append(extra, "remedial action")
	}
	if d.IncludesCorrection {
		extra = append(extra, "includes the correction")
	}
	if len(extra) > 0 {
		label += " (" + strings.Join(extra, "; ") + ")"
	}
	return label
}

func (s *Server) findingPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderFinding(w, r, http.StatusOK, "", "", nil)
}

func (s *Server) renderFinding(w http.ResponseWriter, r *http.Request, status int, formName, formErr string, form url.Values) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	asOf, err := dateQuery(r, "as_of")
	if err != nil {
		return err
	}
	d, err := s.loadFinding(r.Context(), id, asOf)
	if err != nil {
		return err
	}
	if format, err := exportFormat(r); err != nil {
		return err
	} else if format != "" && r.Method == http.MethodGet {
		t := table{Header: []string{"date", "kind", "what", "detail", "by"}}
		for _, it := range d.Timeline {
			t.Rows = append(t.Rows, []string{it.Date.String(), it.Kind, it.Title, it.Detail, it.Actor})
		}
		return export(w, format, "finding-"+itoa(id), d.View, t)
	}
	d.Form, d.FormName = form, formName
	title := d.View.Finding.Vulnerability + " in " + d.View.Finding.Component.Name
	s.render(w, r, status, "finding", page{Title: title, Nav: "findings", Error: formErr, Data: d})
	return nil
}

// assessInput builds an assessment from the finding page's form.
func assessInput(r *http.Request, caseID int64) (cases.AssessInput, error) {
	f := r.PostForm
	in := cases.AssessInput{CaseID: caseID, CVSS: strings.TrimSpace(f.Get("cvss")), Functions: f["function"], Threats: f["threat"],
		Severity: f.Get("severity"), SeverityReason: strings.TrimSpace(f.Get("severity_reason")),
		Exploitability: vigil.Exploitability(f.Get("exploitability")), ExploitabilityReason: strings.TrimSpace(f.Get("exploitability_reason")),
		Controls: append(append([]string(nil), f["control"]...), lines(f.Get("controls"))...), ConfidentialityOnly: f.Get("confidentiality_only") != "", VEXStatus: vigil.VEXStatus(f.Get("vex_status")),
		Interim: f.Get("interim") != "", Rationale: strings.TrimSpace(f.Get("rationale")), Signature: formSignature(r)}
	for i, v := range f["signal"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, vigil.Errorf(vigil.EINVALID, "signals[%d]: %q is not a signal number", i, clipText(20, v))
		}
		in.Signals = append(in.Signals, id)
	}
	if ds := strings.TrimSpace(f.Get("date")); ds != "" {
		d, err := vigil.ParseDate(ds)
		if err != nil {
			return in, vigil.Errorf(vigil.EINVALID, "date: %s", vigil.ErrorMessage(err))
		}
		in.Date = d
	}
	if f.Get("use_rubric") != "" {
		answers := risk.RubricAnswers{}
		for k, vs := range f {
			if q, ok := strings.CutPrefix(k, "rubric."); ok && len(vs) > 0 && vs[0] != "" {
				answers[q] = vs[0]
			}
		}
		in.Rubric = pruneRubric(answers)
		in.CVSS = ""
	}
	if sv := (risk.SSVCInput{Exploitation: f.Get("ssvc_exploitation"), Utility: f.Get("ssvc_utility"), TechnicalImpact: f.Get("ssvc_technical_impact"),
		PublicSafetyImpact: f.Get("ssvc_public_safety_impact")}); sv != (risk.SSVCInput{}) {
		in.SSVC = &sv
	}
	return in, nil
}

func (s *Server) assessForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	caseID, err := s.caseOf(r.Context(), id)
	if err != nil {
		return err
	}
	in, err := assessInput(r, caseID)
	if err == nil {
		if err = s.assess(r, in); err == nil {
			return redirect(w, r, "/findings/"+itoa(id)+"#determination", "assessed")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderFinding(w, r, StatusOf(err), "assess", "The assessment was not recorded: "+vigil.ErrorMessage(err), r.PostForm)
}

// eventInput builds an event from the finding page's form.
func eventInput(r *http.Request, caseID int64) (*vigil.CaseEvent, error) {
	f := r.PostForm
	date, err := vigil.ParseDate(strings.TrimSpace(f.Get("date")))
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "date: required, YYYY-MM-DD")
	}
	e := &vigil.CaseEvent{CaseID: caseID, Type: f.Get("type"), Date: date, Note: strings.TrimSpace(f.Get("note"))}
	d := &e.Details
	switch e.Type {
	case regulatory.EventCustomerNotified:
		// A form with no element ticked records a notice that holds none (not an unrecorded list, which counts
		// as complete).
		d.Elements = append([]string{}, f["element"]...)
	case regulatory.EventFixDistributed:
		d.Validated, d.Remediation = f.Get("validated") != "", f.Get("remediation")
	case regulatory.EventSeriousAdverseEvent:
		d.RemedialAction = f.Get("remedial_action") != ""
	case regulatory.EventMDRFiled:
		d.IncludesCorrection = f.Get("includes_correction") != ""
	}
	return e, nil
}

func (s *Server) eventForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	caseID, err := s.caseOf(r.Context(), id)
	if err != nil {
		return err
	}
	e, err := eventInput(r, caseID)
	if err == nil {
		if err = s.addEvent(r, e, formSignature(r)); err == nil {
			return redirect(w, r, "/findings/"+itoa(id)+"#clocks", "event")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderFinding(w, r, StatusOf(err), "event", "The event was not recorded: "+vigil.ErrorMessage(err), r.PostForm)
}

func (s *Server) stateForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	err = s.svc.Findings.SetFindingState(r.Context(), id, vigil.FindingState(r.PostFormValue("state")), strings.TrimSpace(r.PostFormValue("reason")))
	if err == nil {
		return redirect(w, r, "/findings/"+itoa(id), "state")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderFinding(w, r, StatusOf(err), "state", "The state was not changed: "+vigil.ErrorMessage(err), r.PostForm)
}

// ---- API

func (s *Server) apiFinding(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	asOf, err := dateQuery(r, "as_of")
	if err != nil {
		return err
	}
	v, err := s.svc.Cases.FindingView(r.Context(), id, asOf)
	return reply(w, http.StatusOK, v, err)
}

// determinationOut is a finding's determination with its open clocks.
type determinationOut struct {
	FindingID     int64                     `json:"finding_id"`
	AsOf          vigil.Date                `json:"as_of"`
	Determination *regulatory.Determination `json:"determination"`
	Clocks        []cases.Deadline          `json:"clocks"`
	Problem       string                    `json:"problem,omitempty"`
}

func (s *Server) apiDetermination(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	asOf, err := dateQuery(r, "as_of")
	if err != nil {
		return err
	}
	v, err := s.svc.Cases.FindingView(r.Context(), id, asOf)
	if err != nil {
		return err
	}
	clocks := cases.Clocks(v)
	if clocks == nil {
		clocks = []cases.Deadline{}
	}
	writeJSON(w, http.StatusOK, determinationOut{FindingID: id, AsOf: v.AsOf, Determination: v.Determination, Clocks: clocks, Problem: v.Problem})
	return nil
}

func (s *Server) apiAssessments(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.Cases.FindingView(r.Context(), id, vigil.Date{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v.Assessments)
	return nil
}

func (s *Server) apiAssess(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in cases.AssessInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.CaseID, err = s.caseOf(r.Context(), id); err != nil {
		return err
	}
	var a *vigil.Assessment
	if err := s.signed(r, in.Signature, func() (err error) { a, err = s.svc.Cases.Assess(r.Context(), in); return err }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.Cases.FindingView(r.Context(), id, vigil.Date{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v.Events)
	return nil
}

// eventIn is the API's event body: the Determination API's event shape plus the evidence note, and the Part 11
// signature of an event that is a signed act (a customer notified, an 806 report filed, a validated fix).
type eventIn struct {
	regulatory.Event
	Note      string             `json:"note"`
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

// addEvent records a typed event with the signature its request carries, through the sign-in limits as a signing.
func (s *Server) addEvent(r *http.Request, e *vigil.CaseEvent, sig *vigil.SignRequest) error {
	return s.signed(r, sig, func() error { return s.svc.Cases.AddEvent(r.Context(), e, sig) })
}

func (s *Server) apiEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in eventIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	caseID, err := s.caseOf(r.Context(), id)
	if err != nil {
		return err
	}
	return s.recordEvent(w, r, caseID, in)
}

// recordEvent records the API's event on a case and answers with it.
func (s *Server) recordEvent(w http.ResponseWriter, r *http.Request, caseID int64, in eventIn) error {
	e := &vigil.CaseEvent{CaseID: caseID, Type: in.Type, Date: in.Date, Note: in.Note, Details: vigil.EventData{Elements: in.Elements,
		Validated: in.Validated, Remediation: in.Remediation, Risk: in.Risk, Interim: in.Interim, RemedialAction: in.RemedialAction,
		IncludesCorrection: in.IncludesCorrection}}
	if e.Date.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "date: required, YYYY-MM-DD")
	}
	if !in.Recorded.IsZero() {
		return vigil.Errorf(vigil.EINVALID, "recorded: Vigil records the day the event is entered; leave it out")
	}
	if err := s.addEvent(r, e, in.Signature); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) apiState(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in stateIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.svc.Findings.SetFindingState(r.Context(), id, in.State, in.Reason); err != nil {
		return err
	}
	f, err := s.svc.Findings.Finding(r.Context(), id)
	return reply(w, http.StatusOK, f, err)
}

// stateIn closes or reopens a finding.
type stateIn struct {
	State  vigil.FindingState `json:"state"`  // open or closed
	Reason string             `json:"reason"` // required
}

// renderStaticFields renders the assessment form's CVSS picker and rubric questionnaire once. They are the largest
// part of the finding page and depend on nothing but the rubric itself until a form is echoed back after an error
// (which renders them afresh). The HTML comes from our own template over constant data, so it is as safe as the
// rest of the page.
func (s *Server) renderStaticFields() error {
	var buf bytes.Buffer
	s.rubric = rubricForm()
	if err := s.tmpl["finding"].ExecuteTemplate(&buf, "rubric-fields", &findingData{Rubric: s.rubric}); err != nil {
		return err
	}
	s.staticFields = template.HTML(buf.String())
	return nil
}

// rowView is one row of the findings table with its text worked out in Go: a list page shows hundreds of cells,
// and each template function call or embedded-field lookup costs a reflective call per cell.
type rowView struct {
	ID, VersionID                           int64
	Vuln, Aliases, Component, DeviceVersion string
	State, StateLabel, RiskClass, RiskLabel string
	Severity, Learned, Fixed                string
}

func rowViews(rows []FindingRow) []rowView {
	out := make([]rowView, len(rows))
	for i, r := range rows {
		f := r.Finding
		comp := f.Component.Name
		if f.Component.Group != "" {
			comp = f.Component.Group + "/" + comp
		}
		if f.Component.Version != "" {
			comp += "@" + f.Component.Version
		}
		v := rowView{ID: f.ID, VersionID: f.VersionID, Vuln: f.Vulnerability, Aliases: strings.Join(f.Aliases, ", "), Component: comp,
			DeviceVersion: r.Device + " " + r.Version, State: string(f.State), StateLabel: humanize(string(f.State)), Severity: r.Severity,
			Learned: f.Learned.String(), Fixed: f.Evidence.Fixed}
		switch r.Risk {
		case vigil.RiskUncontrolled:
			v.RiskClass, v.RiskLabel = "bad", string(r.Risk)
		case vigil.RiskControlled:
			v.RiskClass, v.RiskLabel = "good", string(r.Risk)
		default:
			v.RiskClass, v.RiskLabel = "muted", "not assessed"
		}
		out[i] = v
	}
	return out
}
