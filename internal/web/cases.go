package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// caseQuery reads the case queue's filter and order from the query string: the same words as `vigil case list`
// (state, device, vuln) plus kev, uncontrolled, sort and desc.
func (s *Server) caseQuery(r *http.Request) (CaseQuery, error) {
	q := r.URL.Query()
	var c CaseQuery
	var err error
	if c.States, err = vigil.ParseCaseStates(q["state"]); err != nil {
		return c, err
	}
	if c.DeviceID, err = intQuery(r, "device"); err != nil {
		return c, err
	}
	if c.Vuln = strings.TrimSpace(q.Get("vuln")); len(c.Vuln) > vigil.MaxName {
		return c, vigil.Errorf(vigil.EINVALID, "vuln: longer than %d characters", vigil.MaxName)
	}
	c.KEV, c.Uncontrolled = boolQuery(r, "kev"), boolQuery(r, "uncontrolled")
	if c.Owner = strings.TrimSpace(q.Get("owner")); c.Owner == "-" {
		c.Owner, c.NoOwner = "", true
	} else if len(c.Owner) > vigil.MaxName {
		return c, vigil.Errorf(vigil.EINVALID, "owner: longer than %d characters", vigil.MaxName)
	}
	c.Sort, c.Desc = q.Get("sort"), boolQuery(r, "desc")
	off, err := intQuery(r, "offset")
	if err != nil {
		return c, err
	}
	c.Offset = int(off)
	limit, err := intQuery(r, "limit")
	if err != nil {
		return c, err
	}
	if c.Limit = int(min(limit, maxPage)); c.Limit == 0 {
		c.Limit = s.opt.PageSize
	}
	return c, nil
}

type casesData struct {
	Query   CaseQuery
	Queue   *CaseQueue
	Devices []*vigil.Device
	States  []vigil.CaseState
	Filter  url.Values // the filter and order without the page, for the sort, page and export links
	// Justifications are the VEX justifications a not_affected status may give, OpenVEX's words first.
	Justifications []vigil.VEXJustification
	// Saved is the saved-filter block (savedfilters.go).
	Saved *savedFiltersBlock
}

// Link returns the queue's URL with the filter and kv set ("" values removed).
func (d casesData) Link(kv ...string) string {
	v := url.Values{}
	for k, vs := range d.Filter {
		v[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return "/cases?" + v.Encode()
}

// Back is the queue's query as shown (filter, order and page), for a bulk action to come back to.
func (d casesData) Back() string {
	v := url.Values{}
	for k, vs := range d.Filter {
		v[k] = vs
	}
	if d.Query.Offset > 0 {
		v.Set("offset", strconv.Itoa(d.Query.Offset))
	}
	return v.Encode()
}

// SortLink orders the queue by column: ascending first, reversed when it already is.
func (d casesData) SortLink(column string) string {
	desc := ""
	if d.Query.Sort == column && !d.Query.Desc {
		desc = "1"
	}
	return d.Link("sort", column, "desc", desc, "offset", "")
}

// Sorted marks the column the queue is ordered by: "ascending", "descending" or "" (for aria-sort).
func (d casesData) Sorted(column string) string {
	switch {
	case d.Query.Sort != column:
		return ""
	case d.Query.Desc:
		return "descending"
	}
	return "ascending"
}

var caseHeaders = map[string]string{"id": "#", "state": "State", "device": "Device", "vulnerability": "Vulnerability", "owner": "Owner", "versions": "Versions",
	"cvss": "CVSS", "epss": "EPSS pct", "kev": "KEV", "severity": "Severity of harm", "determination": "Determination", "next": "Next clock"}

// Columns are the queue's columns, each sortable.
func (d casesData) Columns() []string { return CaseSorts }

// Header is a column's heading.
func (d casesData) Header(column string) string { return caseHeaders[column] }

// Prev and Next are the neighbouring pages' offsets (-1: none).
func (d casesData) Prev() int {
	if d.Query.Offset == 0 {
		return -1
	}
	return max(d.Query.Offset-d.Query.Limit, 0)
}
func (d casesData) Next() int {
	if n := d.Query.Offset + d.Query.Limit; n < d.Queue.Total {
		return n
	}
	return -1
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderCases(w, r, http.StatusOK, "", "")
}

// renderCases shows the queue, with the notice or the error of a bulk action.
func (s *Server) renderCases(w http.ResponseWriter, r *http.Request, status int, notice, failed string) error {
	q, err := s.caseQuery(r)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	if format != "" {
		// The export is the list as shown, every page of it: the same filter, order and columns.
		q.Offset, q.Limit = 0, 0
	}
	queue, err := s.svc.Queries.CaseQueue(r.Context(), q)
	if err != nil {
		return err
	}
	if format != "" {
		return exportCases(w, format, queue)
	}
	devs, err := s.svc.Portfolio.Devices(r.Context())
	if err != nil {
		return err
	}
	filter := url.Values{}
	for k, vs := range r.URL.Query() {
		if k != "offset" && k != "done" && k != "format" {
			filter[k] = vs
		}
	}
	data := casesData{Query: q, Queue: queue, Devices: devs, States: vigil.CaseStates, Filter: filter, Justifications: vigil.VEXJustifications}
	data.Saved = s.savedFilters(r, filter)
	s.render(w, r, status, "cases", page{Title: "Cases", Nav: "cases", Notice: notice, Error: failed, Data: data})
	return nil
}

// casesBulk applies one action to the cases ticked on the queue, one service call per case, so that each record is
// audited on its own as if entered on its page: close (or mark for review, or reopen) with one reason, or assess
// with one recorded risk, its reason, date and rationale. It stops at the first case refused and says which, and how
// many were done before it; the queue is shown again with its filter (back).
func (s *Server) casesBulk(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	back, err := url.ParseQuery(f.Get("back"))
	if err != nil {
		back = url.Values{}
	}
	r.URL.RawQuery = back.Encode() // the queue as it was shown, to show again
	var ids []int64
	for _, v := range f["case"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return vigil.Errorf(vigil.EINVALID, "case: %q is not a case number", clipText(20, v))
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return s.renderCases(w, r, http.StatusBadRequest, "", "Nothing was changed: tick the cases to act on.")
	}
	var act func(id int64) error
	switch action := f.Get("action"); action {
	case "state":
		// One transaction, one signature: the cases all change or none does, and a one-time signing code signs
		// every closure.
		state, reason, sig := vigil.CaseState(f.Get("state")), strings.TrimSpace(f.Get("reason")), closing(r)
		err := s.signed(r, sig, func() error { return s.svc.Cases.SetCasesState(r.Context(), ids, state, reason, sig) })
		if err != nil {
			if !formRecoverable(err) {
				return err
			}
			return s.renderCases(w, r, StatusOf(err), "", fmt.Sprintf("No case was changed: %s.", vigil.ErrorMessage(err)))
		}
		back.Set("done", "bulk")
		return redirect(w, r, "/cases?"+back.Encode(), "")
	case "assess":
		if sig := formSignature(r); sig != nil && sig.Code != "" && len(ids) > 1 {
			// Each determination is its own assessment, written on its own: a code signs one of them.
			return s.renderCases(w, r, http.StatusBadRequest, "", fmt.Sprintf("No case was assessed: a one-time signing code signs one determination, and %d cases are ticked: sign them with your password, or assess them one by one.", len(ids)))
		}
		act = func(id int64) error {
			in, err := assessInput(r, id)
			if err == nil {
				in.Risk, in.RiskReason = vigil.Risk(f.Get("risk")), strings.TrimSpace(f.Get("risk_reason"))
				err = s.assess(r, in)
			}
			return err
		}
	case "owner":
		owner, reason := strings.TrimSpace(f.Get("owner")), strings.TrimSpace(f.Get("owner_reason"))
		act = func(id int64) error { return s.svc.Cases.SetCaseOwner(r.Context(), id, owner, reason) }
	case "vex":
		x := vexForm(f, "vex", "vex_reason")
		act = func(id int64) error { _, err := s.svc.Cases.SetCaseVEX(r.Context(), id, x); return err }
	default:
		return vigil.Errorf(vigil.EINVALID, "action: %q is not state, owner, vex or assess", clipText(20, action))
	}
	for i, id := range ids {
		if err := act(id); err != nil {
			if !formRecoverable(err) {
				return err
			}
			return s.renderCases(w, r, StatusOf(err), "", fmt.Sprintf("Case %d was not changed: %s (%d of the %d cases ticked were done before it; the rest were not tried).",
				id, vigil.ErrorMessage(err), i, len(ids)))
		}
	}
	back.Set("done", "bulk")
	return redirect(w, r, "/cases?"+back.Encode(), "")
}

// vexForm reads a VEX status from a form: the status field, a justification, one statement (the impact statement
// of a not_affected status, the action statement of an affected one), the fixed version and the reason field.
func vexForm(f url.Values, status, reason string) vigil.VersionVEX {
	x := vigil.VersionVEX{Status: vigil.VEXStatus(f.Get(status)), Justification: vigil.VEXJustification(f.Get("justification")),
		FixedIn: strings.TrimSpace(f.Get("fixed_in")), Reason: strings.TrimSpace(f.Get(reason))}
	if st := strings.TrimSpace(f.Get("statement")); x.Status == vigil.VEXNotAffected {
		x.ImpactStatement = st
	} else {
		x.ActionStatement = st
	}
	return x
}

// exportCases writes the queue's rows with the columns the screen shows.
func exportCases(w http.ResponseWriter, format string, queue *CaseQueue) error {
	t := table{Header: []string{"id", "state", "device", "vulnerability", "aliases", "owner", "versions", "cvss", "epss_percentile", "kev", "severity",
		"determination", "next_clock", "next_due", "next_standing"}}
	for _, c := range queue.Rows {
		cvss, epss, kev := "", "", "no"
		if c.CVSSVector != "" {
			cvss = strconv.FormatFloat(c.CVSS, 'f', 1, 64)
		}
		if c.EPSSPercentile != nil {
			epss = strconv.FormatFloat(*c.EPSSPercentile, 'f', 4, 64)
		}
		if c.KEV {
			kev = "yes"
		}
		clock, due := "", ""
		if c.Next != nil {
			clock, due = c.Next.Clock, c.Next.Due.String()
		}
		t.Rows = append(t.Rows, []string{itoa(c.ID), string(c.State), c.Device, c.Vulnerability, strings.Join(c.Aliases, " "), c.Owner, strconv.Itoa(c.Versions),
			cvss, epss, kev, c.Severity, c.Determination, clock, due, c.NextStanding})
	}
	return export(w, format, "cases", queue.Rows, t)
}

// ---- one case

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderCase(w, r, http.StatusOK, "", "", nil)
}

// renderCase shows a case (as of the as_of date when given), with a failed form's error and input when formName
// names it.
func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, status int, formName, formErr string, form url.Values) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	asOf, err := dateQuery(r, "as_of")
	if err != nil {
		return err
	}
	v, err := s.svc.Cases.CaseView(r.Context(), id, asOf)
	if err != nil {
		return err
	}
	if v.Case.ID != id {
		// A merged case is shown as the case it was merged into, under that case's address.
		return redirect(w, r, "/cases/"+itoa(v.Case.ID), "")
	}
	d := s.viewData(r.Context(), v, "/cases/"+itoa(id))
	d.Reports = s.caseReports(r.Context(), id)
	if format, err := exportFormat(r); err != nil {
		return err
	} else if format != "" && r.Method == http.MethodGet {
		t := table{Header: []string{"date", "entered", "record", "kind", "what", "detail", "by", "retracted", "signatures"}}
		for _, it := range d.Timeline {
			entered, retracted := "", ""
			if !it.Entered.IsZero() {
				entered = it.Entered.String()
			}
			if it.Retraction != nil {
				retracted = it.Retraction.Reason
			}
			t.Rows = append(t.Rows, []string{it.Date.String(), entered, it.Ref, it.Kind, it.Title, it.Detail, it.Actor, retracted, strings.Join(it.Signatures, "\n")})
		}
		return export(w, format, "case-"+itoa(id), v, t)
	}
	d.Form, d.FormName = form, formName
	s.render(w, r, status, "finding", page{Title: v.Case.Vulnerability + " on " + v.Case.Device, Nav: "cases", Error: formErr, Data: d})
	return nil
}

// caseForm runs one of the case page's forms: act with the posted form, then back to the case at anchor, or the
// page again with the error (what the command line would say) and the input.
func (s *Server) caseForm(name, anchor, done, failed string, act func(r *http.Request, id int64) error) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		if err = act(r, id); err == nil {
			return redirect(w, r, "/cases/"+itoa(id)+anchor, done)
		}
		if !formRecoverable(err) {
			return err
		}
		return s.renderCase(w, r, StatusOf(err), name, failed+vigil.ErrorMessage(err), r.PostForm)
	}
}

func (s *Server) caseAssess(r *http.Request, id int64) error {
	in, err := assessInput(r, id)
	if err == nil {
		err = s.assess(r, in)
	}
	return err
}

// assess records an assessment from a form, with the signature its signing fields carry.
func (s *Server) assess(r *http.Request, in cases.AssessInput) error {
	return s.signed(r, in.Signature, func() error { _, err := s.svc.Cases.Assess(r.Context(), in); return err })
}

func (s *Server) caseEvent(r *http.Request, id int64) error {
	e, err := eventInput(r, id)
	if err == nil {
		err = s.addEvent(r, e, formSignature(r))
	}
	return err
}

func (s *Server) caseRetract(r *http.Request, id int64) error {
	ref, err := vigil.ParseRecordRef(r.PostFormValue("record"))
	if err != nil {
		return err
	}
	return s.svc.Cases.Retract(r.Context(), &vigil.Retraction{CaseID: id, Record: ref, SupersededBy: strings.TrimSpace(r.PostFormValue("superseded_by")),
		Reason: strings.TrimSpace(r.PostFormValue("reason"))})
}

func (s *Server) caseLearned(r *http.Request, id int64) error {
	d, err := vigil.ParseDate(strings.TrimSpace(r.PostFormValue("date")))
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "date: required, YYYY-MM-DD")
	}
	return s.svc.Cases.SetLearned(r.Context(), id, d, strings.TrimSpace(r.PostFormValue("reason")), strings.TrimSpace(r.PostFormValue("evidence")))
}

func (s *Server) caseMerge(r *http.Request, id int64) error {
	into, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("into")), 10, 64)
	if err != nil || into <= 0 {
		return vigil.Errorf(vigil.EINVALID, "into: the number of the case this one duplicates")
	}
	return s.svc.Cases.MergeCases(r.Context(), into, id, strings.TrimSpace(r.PostFormValue("reason")))
}

func (s *Server) caseState(r *http.Request, id int64) error {
	sig := closing(r)
	return s.signed(r, sig, func() error {
		return s.svc.Cases.SetCaseState(r.Context(), id, vigil.CaseState(r.PostFormValue("state")), strings.TrimSpace(r.PostFormValue("reason")), sig)
	})
}

// closing reads the signature of a state form: only closing is signed, so the signing fields of a form that
// reopens a case or marks it for review are left alone.
func closing(r *http.Request) *vigil.SignRequest {
	if vigil.CaseState(r.PostFormValue("state")) != vigil.CaseClosed {
		return nil
	}
	return formSignature(r)
}

// ---- API: /api/v1/cases mirrors `vigil case ...`

func (s *Server) apiCases(w http.ResponseWriter, r *http.Request) error {
	q, err := s.caseQuery(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("limit") == "" {
		q.Limit = maxPage
	}
	queue, err := s.svc.Queries.CaseQueue(r.Context(), q)
	return reply(w, http.StatusOK, queue, err)
}

// caseOpenIn opens a case not from matching (`vigil case open`).
type caseOpenIn struct {
	DeviceID      int64      `json:"device_id"`
	Vulnerability string     `json:"vulnerability"`
	Provisional   bool       `json:"provisional,omitempty"` // the id is provisional (a report with no CVE yet)
	Learned       vigil.Date `json:"learned"`               // D0
	How           string     `json:"how,omitempty"`         // report, advisory or manual (default)
	Reason        string     `json:"reason"`                // how it was learned of; kept as the evidence of D0
}

func (s *Server) apiCaseOpen(w http.ResponseWriter, r *http.Request) error {
	var in caseOpenIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c := &vigil.Case{DeviceID: in.DeviceID, Vulnerability: in.Vulnerability, Provisional: in.Provisional, Learned: in.Learned, LearnedHow: in.How, LearnedEvidence: in.Reason}
	if err := s.svc.Cases.OpenCase(r.Context(), c, in.Reason); err != nil {
		return err
	}
	return s.caseOut(w, r, c.ID, http.StatusCreated)
}

// caseOut answers with a case as `case show --format json` prints it.
func (s *Server) caseOut(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	asOf, err := dateQuery(r, "as_of")
	if err != nil {
		return err
	}
	v, err := s.svc.Cases.CaseView(r.Context(), id, asOf)
	if err != nil {
		return err
	}
	writeJSON(w, status, cases.NewOut(v))
	return nil
}

func (s *Server) apiCase(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	return s.caseOut(w, r, id, http.StatusOK)
}

// apiCaseWrite runs one write on the case named in the path with the decoded body of type T, then answers with
// the case (status), or with what write returns when it returns something.
func apiCaseWrite[T any](s *Server, status int, write func(r *http.Request, id int64, in *T) (any, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := idParam(r, "id")
		if err != nil {
			return err
		}
		var in T
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		out, err := write(r, id, &in)
		if err != nil {
			return err
		}
		switch o := out.(type) {
		case nil:
			return s.caseOut(w, r, id, status)
		case int64: // the case to answer with
			return s.caseOut(w, r, o, status)
		default:
			writeJSON(w, status, o)
			return nil
		}
	}
}

func (s *Server) apiCaseAssess(r *http.Request, id int64, in *cases.AssessInput) (any, error) {
	in.CaseID = id
	var a *vigil.Assessment
	return a, s.signed(r, in.Signature, func() (err error) { a, err = s.svc.Cases.Assess(r.Context(), *in); return err })
}

func (s *Server) apiCaseEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in eventIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	return s.recordEvent(w, r, id, in)
}

// retractIn withdraws a record of a case (`vigil case retract`), or supersedes it with a corrected one.
type retractIn struct {
	Record       vigil.RecordRef `json:"record"`                  // A<id> or E<id>
	SupersededBy string          `json:"superseded_by,omitempty"` // the corrected record that replaces it
	Reason       string          `json:"reason"`
}

func (s *Server) apiCaseRetract(r *http.Request, id int64, in *retractIn) (any, error) {
	if in.Record.ID == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "record: required: A<id> or E<id>")
	}
	x := &vigil.Retraction{CaseID: id, Record: in.Record, SupersededBy: in.SupersededBy, Reason: in.Reason}
	return x, s.svc.Cases.Retract(r.Context(), x)
}

// learnedIn corrects D0 (`vigil case learned`).
type learnedIn struct {
	Date     vigil.Date `json:"date"`
	Reason   string     `json:"reason"`
	Evidence string     `json:"evidence"`
}

func (s *Server) apiCaseLearned(r *http.Request, id int64, in *learnedIn) (any, error) {
	return nil, s.svc.Cases.SetLearned(r.Context(), id, in.Date, in.Reason, in.Evidence)
}

// caseStateIn closes, reopens or marks a case for review (`vigil case state`).
type caseStateIn struct {
	State  vigil.CaseState `json:"state"`
	Reason string          `json:"reason"`
	// Signature signs a closure (meaning, signer, password): required unless the organization switched it off.
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

func (s *Server) apiCaseState(r *http.Request, id int64, in *caseStateIn) (any, error) {
	return nil, s.signed(r, in.Signature, func() error { return s.svc.Cases.SetCaseState(r.Context(), id, in.State, in.Reason, in.Signature) })
}

// ownerIn gives a case to a user (`vigil case assign`); "" for nobody.
type ownerIn struct {
	Owner  string `json:"owner"`
	Reason string `json:"reason"`
}

func (s *Server) apiCaseOwner(r *http.Request, id int64, in *ownerIn) (any, error) {
	return nil, s.svc.Cases.SetCaseOwner(r.Context(), id, in.Owner, in.Reason)
}

// caseReports lists the reports triaged into a case, for its disclosure panel (none without an intake service).
func (s *Server) caseReports(ctx context.Context, id int64) []*vigil.Report {
	if s.svc.Intake == nil {
		return nil
	}
	rs, err := s.svc.Intake.Reports(ctx, vigil.ReportFilter{CaseID: id, Limit: 50})
	if err != nil {
		s.opt.Log.Warn("case reports", "case", id, "err", err)
		return nil
	}
	return rs
}

// mergeIn merges the case in the path into another of its device (`vigil case merge INTO ID`).
type mergeIn struct {
	Into   int64  `json:"into"`
	Reason string `json:"reason"`
}

func (s *Server) apiCaseMerge(r *http.Request, id int64, in *mergeIn) (any, error) {
	if in.Into <= 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "into: the number of the case this one duplicates")
	}
	return in.Into, s.svc.Cases.MergeCases(r.Context(), in.Into, id, in.Reason)
}

func (s *Server) apiCaseSplit(r *http.Request, id int64, in *vigil.SplitInput) (any, error) {
	in.CaseID = id
	nc, err := s.svc.Cases.SplitCase(r.Context(), *in)
	if err != nil {
		return nil, err
	}
	return nc.ID, nil
}

// caseVEXIn records a version's VEX status on a case (`vigil case vex`); All: every version the case affects.
type caseVEXIn struct {
	VersionID       int64                  `json:"version_id,omitempty"`
	All             bool                   `json:"all,omitempty"`
	Status          vigil.VEXStatus        `json:"status"`
	Justification   vigil.VEXJustification `json:"justification,omitempty"`
	ImpactStatement string                 `json:"impact_statement,omitempty"`
	ActionStatement string                 `json:"action_statement,omitempty"`
	FixedIn         string                 `json:"fixed_in,omitempty"`
	Reason          string                 `json:"reason"`
}

func (in caseVEXIn) record(caseID int64) vigil.VersionVEX {
	return vigil.VersionVEX{CaseID: caseID, VersionID: in.VersionID, Status: in.Status, Justification: in.Justification, ImpactStatement: in.ImpactStatement,
		ActionStatement: in.ActionStatement, FixedIn: in.FixedIn, Reason: in.Reason}
}

func (s *Server) apiCaseVEX(r *http.Request, id int64, in *caseVEXIn) (any, error) {
	if in.All == (in.VersionID != 0) {
		return nil, vigil.Errorf(vigil.EINVALID, "version_id: give a version, or all: true for every version the case affects")
	}
	if in.All {
		_, err := s.svc.Cases.SetCaseVEX(r.Context(), id, in.record(id))
		return nil, err
	}
	x := in.record(id)
	return nil, s.svc.Cases.SetVersionVEX(r.Context(), &x)
}

// ---- the case page's forms for the owner, the versions' VEX status and a split

func (s *Server) caseOwner(r *http.Request, id int64) error {
	return s.svc.Cases.SetCaseOwner(r.Context(), id, strings.TrimSpace(r.PostFormValue("owner")), strings.TrimSpace(r.PostFormValue("reason")))
}

// caseVEX records the VEX status of the version chosen, or of every version the case affects ("all").
func (s *Server) caseVEX(r *http.Request, id int64) error {
	x := vexForm(r.PostForm, "status", "reason")
	if ver := r.PostFormValue("version"); ver == "all" {
		_, err := s.svc.Cases.SetCaseVEX(r.Context(), id, x)
		return err
	} else if x.VersionID, _ = strconv.ParseInt(ver, 10, 64); x.VersionID <= 0 {
		return vigil.Errorf(vigil.EINVALID, "version: choose a version, or all")
	}
	x.CaseID = id
	return s.svc.Cases.SetVersionVEX(r.Context(), &x)
}

// caseDisclosure records the case's disclosure coordination from the case page's form.
func (s *Server) caseDisclosure(r *http.Request, id int64) error {
	d := vigil.Disclosure{Partners: r.PostForm["partner"], CVERequestedFrom: strings.TrimSpace(r.PostFormValue("cve_requested_from")),
		CVEAssignedBy: strings.TrimSpace(r.PostFormValue("cve_assigned_by")), CVE: strings.TrimSpace(r.PostFormValue("cve")),
		Advisory: strings.TrimSpace(r.PostFormValue("advisory")), Credit: strings.TrimSpace(r.PostFormValue("credit"))}
	for _, other := range strings.Split(r.PostFormValue("other_partners"), ",") {
		if other = strings.TrimSpace(other); other != "" {
			d.Partners = append(d.Partners, other)
		}
	}
	var err error
	if d.Embargo, err = formDate(r, "embargo"); err != nil {
		return err
	}
	if d.Published, err = formDate(r, "published"); err != nil {
		return err
	}
	_, err = s.svc.Cases.SetDisclosure(r.Context(), id, d, strings.TrimSpace(r.PostFormValue("reason")))
	return err
}

// disclosureIn is the body of POST /api/v1/cases/{id}/disclosure (`vigil case disclosure`): the coordination as it
// now stands, with the reason.
type disclosureIn struct {
	vigil.Disclosure
	Reason string `json:"reason"`
}

func (s *Server) apiCaseDisclosure(r *http.Request, id int64, in *disclosureIn) (any, error) {
	_, err := s.svc.Cases.SetDisclosure(r.Context(), id, in.Disclosure, in.Reason)
	return nil, err
}

// caseSplit takes the findings ticked out into a new case under another vulnerability id, then shows that case.
func (s *Server) caseSplit(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := vigil.SplitInput{CaseID: id, Vulnerability: strings.TrimSpace(r.PostFormValue("vuln")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	for _, v := range r.PostForm["finding"] {
		f, err := strconv.ParseInt(v, 10, 64)
		if err != nil || f <= 0 {
			return vigil.Errorf(vigil.EINVALID, "finding: %q is not a finding number", clipText(20, v))
		}
		in.Findings = append(in.Findings, f)
	}
	nc, err := s.svc.Cases.SplitCase(r.Context(), in)
	if err == nil {
		return redirect(w, r, "/cases/"+itoa(nc.ID), "split")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderCase(w, r, StatusOf(err), "split", "The case was not split: "+vigil.ErrorMessage(err), r.PostForm)
}
