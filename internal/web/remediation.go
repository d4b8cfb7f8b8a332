package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/publish/csaf"
	"github.com/vigil-dev/vigil/internal/service/remediation"
	vexdoc "github.com/vigil-dev/vigil/internal/vex"
)

// Remediation is a case's remediation (internal/service/remediation): the versioned plan, fix releases with their
// V&V record and distribution, deployment in the field, the PM2025 metrics, and the VEX of a device version. Reads
// need PermRead, writes PermEvent; the service authorizes every call.
type Remediation interface {
	Remediation(ctx context.Context, caseID int64) (*remediation.Remediation, error)
	SetPlan(ctx context.Context, p *vigil.RemediationPlan) (*remediation.Remediation, error)
	AddFix(ctx context.Context, f *vigil.FixRelease) (*remediation.Remediation, error)
	// SetVV validates the fix; it carries a Part 11 signature (sig) unless the organization switched that off.
	SetVV(ctx context.Context, fixID int64, vv vigil.VVRecord, reason string, sig *vigil.SignRequest) (*remediation.Remediation, error)
	Distribute(ctx context.Context, fixID int64, d vigil.Distribution, reason string) (*remediation.Remediation, error)
	AddDeployment(ctx context.Context, d *vigil.Deployment) (*remediation.Remediation, error)
	// RetractFix and RetractVV withdraw a fix release or its V&V record with a reason (PermAssess).
	RetractFix(ctx context.Context, fixID int64, reason string) (*remediation.Remediation, error)
	RetractVV(ctx context.Context, fixID int64, reason string) (*remediation.Remediation, error)
	DeviceMetrics(ctx context.Context, deviceID int64) (*remediation.DeviceMetrics, error)
	DeviceVEX(ctx context.Context, deviceID, versionID int64) (*vigil.DeviceVEX, error)
}

var (
	exampleRemPlan = map[string]any{"action": "plan", "plan": map[string]any{"fix_release": "3.2.2", "target_date": "2031-01-15", "cycle": "out-of-cycle",
		"controls":  []map[string]any{{"what": "Pumps on a dedicated VLAN", "documented": "IFU §7.3", "since": "2021-12-20"}},
		"rationale": "The library update needs the full regression suite (15 working days).", "reason": "Target moved after the regression plan."}}
	exampleRemForm = url.Values{"action": {"plan"}, "fix_release": {"3.2.2"}, "target_date": {"2031-01-15"}, "cycle": {"out-of-cycle"},
		"controls":  {"Pumps on a dedicated VLAN | IFU §7.3 | 2021-12-20"},
		"rationale": {"The library update needs the full regression suite (15 working days)."}, "reason": {"Target moved after the regression plan."}}
)

// remediationRoutes are the remediation screens and API: the case's remediation page and its one form (the action
// field says which record it writes), a device's metrics page, and their JSON twins.
func (s *Server) remediationRoutes() []route {
	return []route{
		{Method: "GET", Pattern: "/cases/{id}/remediation", Perm: vigil.PermRead, Summary: "a case's remediation: plan and its versions, fixes with V&V and distribution, field deployment, PM2025 metrics and chart", h: s.remediationPage},
		{Method: "POST", Pattern: "/cases/{id}/remediation", Perm: vigil.PermEvent, Summary: "record a remediation record of a case: action plan, fix, vv, distribute or deploy",
			Example: exampleRemForm, h: s.remediationForm},
		{Method: "POST", Pattern: "/cases/{id}/remediation/retractions", Perm: vigil.PermAssess, Summary: "withdraw a fix's V&V record (record vv) or the fix release (record release), with a reason",
			Example: url.Values{"fix_id": {"1"}, "record": {"release"}, "reason": {"Release recalled (field action FA-7)."}}, h: s.remediationRetractForm},
		{Method: "GET", Pattern: "/devices/{id}/remediation", Perm: vigil.PermRead, Summary: "a device's PM2025 remediation metrics per case, with charts", h: s.deviceRemediationPage},
		{API: true, Method: "GET", Pattern: "/api/v1/cases/{id}/remediation", Perm: vigil.PermRead, Summary: "a case's remediation: plan (and every version), fixes, deployments, field, metrics", Resp: &remediation.Remediation{}, h: s.apiRemediation},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/remediation", Perm: vigil.PermEvent, Summary: "record a remediation record: action plan (plan), fix (fix), vv (fix_id, vv), distribute (fix_id, distribution) or deploy (deployment)",
			Example: exampleRemPlan, In: remediationIn{}, Resp: &remediation.Remediation{}, h: s.apiRemediationWrite},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/remediation/retractions", Perm: vigil.PermAssess, Summary: "withdraw a fix's V&V record (record vv: a distributed fix then no longer meets criterion 3) or the fix release (record release), with a reason; both stay on record",
			Example: map[string]any{"fix_id": 1, "record": "release", "reason": "Release recalled (field action FA-7)."}, In: fixRetractIn{}, Resp: &remediation.Remediation{}, h: s.apiRemediationRetract},
		{API: true, Method: "GET", Pattern: "/api/v1/devices/{id}/remediation", Perm: vigil.PermRead, Summary: "a device's PM2025 remediation metrics per case", Resp: &remediation.DeviceMetrics{}, h: s.apiDeviceMetrics},
		{API: true, Method: "GET", Pattern: "/api/v1/versions/{id}/vex", Perm: vigil.PermRead, Query: []param{{"format", "string", "json (default: the statements), openvex (OpenVEX 0.2.0), cyclonedx (CycloneDX 1.6 VEX) or csaf (CSAF 2.0 csaf_vex)"},
			{"namespace", "string", "csaf: the publisher's namespace, the manufacturer's https URL (default: the CVD policy's base URL)"}},
			Summary: "the VEX of a device version from its assessed cases", Resp: &vigil.DeviceVEX{}, h: s.apiVersionVEX},
	}
}

// remediationIn is a remediation write through the API: Action names the record, and only its fields are read.
type remediationIn struct {
	Action       string                 `json:"action"`
	Plan         *vigil.RemediationPlan `json:"plan,omitempty"`
	Fix          *vigil.FixRelease      `json:"fix,omitempty"`
	FixID        int64                  `json:"fix_id,omitempty"`
	VV           *vigil.VVRecord        `json:"vv,omitempty"`
	Distribution *vigil.Distribution    `json:"distribution,omitempty"`
	Deployment   *vigil.Deployment      `json:"deployment,omitempty"`
	Reason       string                 `json:"reason,omitempty"`
	// Signature signs a V&V record, which validates the fix (meaning, signer, password): required with action vv
	// unless the organization switched it off.
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

// write records in on case id.
func (s *Server) remediationWrite(ctx context.Context, id int64, in remediationIn) (*remediation.Remediation, error) {
	svc := s.svc.Remediation
	missing := func(field string) error {
		return vigil.Errorf(vigil.EINVALID, "%s: required with action %s", field, in.Action)
	}
	switch in.Action {
	case "plan":
		if in.Plan == nil {
			return nil, missing("plan")
		}
		in.Plan.CaseID = id
		return svc.SetPlan(ctx, in.Plan)
	case "fix":
		if in.Fix == nil {
			return nil, missing("fix")
		}
		in.Fix.CaseID = id
		return svc.AddFix(ctx, in.Fix)
	case "vv", "distribute":
		if err := s.fixOfCase(ctx, id, in.FixID); err != nil {
			return nil, err
		}
		if in.Action == "vv" {
			if in.VV == nil {
				return nil, missing("vv")
			}
			return svc.SetVV(ctx, in.FixID, *in.VV, in.Reason, in.Signature)
		}
		if in.Distribution == nil {
			return nil, missing("distribution")
		}
		return svc.Distribute(ctx, in.FixID, *in.Distribution, in.Reason)
	case "deploy":
		if in.Deployment == nil {
			return nil, missing("deployment")
		}
		in.Deployment.CaseID = id
		return svc.AddDeployment(ctx, in.Deployment)
	}
	return nil, vigil.Errorf(vigil.EINVALID, "action: %q is not one of plan, fix, vv, distribute, deploy", in.Action)
}

// fixRetractIn withdraws a record of a fix release: its V&V record (vv) or the release itself (release).
type fixRetractIn struct {
	FixID  int64  `json:"fix_id"`
	Record string `json:"record"`
	Reason string `json:"reason"`
}

func (s *Server) retractFix(ctx context.Context, caseID int64, in fixRetractIn) (*remediation.Remediation, error) {
	if err := s.fixOfCase(ctx, caseID, in.FixID); err != nil {
		return nil, err
	}
	switch in.Record {
	case "vv":
		return s.svc.Remediation.RetractVV(ctx, in.FixID, in.Reason)
	case "release":
		return s.svc.Remediation.RetractFix(ctx, in.FixID, in.Reason)
	}
	return nil, vigil.Errorf(vigil.EINVALID, "record: %q is not one of vv, release", clipText(20, in.Record))
}

func (s *Server) apiRemediationRetract(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in fixRetractIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rem, err := s.retractFix(r.Context(), id, in)
	return reply(w, http.StatusOK, rem, err)
}

func (s *Server) remediationRetractForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := fixRetractIn{Record: r.PostFormValue("record"), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if in.FixID, err = strconv.ParseInt(strings.TrimSpace(r.PostFormValue("fix_id")), 10, 64); err != nil {
		err = vigil.Errorf(vigil.EINVALID, "fix_id: which fix release")
	} else {
		_, err = s.retractFix(r.Context(), id, in)
	}
	if err == nil {
		return redirect(w, r, "/cases/"+itoa(id)+"/remediation#fix", "")
	}
	if !formRecoverable(err) {
		return err
	}
	status := http.StatusUnprocessableEntity
	if vigil.ErrorCode(err) == vigil.ECONFLICT {
		status = http.StatusConflict
	}
	return s.renderRemediation(w, r, status, "retract", vigil.ErrorMessage(err), r.PostForm)
}

// fixOfCase refuses a fix release of another case than the one addressed.
func (s *Server) fixOfCase(ctx context.Context, caseID, fixID int64) error {
	r, err := s.svc.Remediation.Remediation(ctx, caseID)
	if err != nil {
		return err
	}
	for _, f := range append(r.Fixes, r.Retracted...) {
		if f.ID == fixID {
			return nil
		}
	}
	return vigil.Errorf(vigil.EINVALID, "fix_id: %d is not a fix release of case %d", fixID, r.Case.ID)
}

func (s *Server) apiRemediation(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	rem, err := s.svc.Remediation.Remediation(r.Context(), id)
	return reply(w, http.StatusOK, rem, err)
}

func (s *Server) apiRemediationWrite(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var in remediationIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var rem *remediation.Remediation
	if err := s.signed(r, in.Signature, func() (err error) { rem, err = s.remediationWrite(r.Context(), id, in); return err }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rem)
	return nil
}

func (s *Server) apiDeviceMetrics(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	m, err := s.svc.Remediation.DeviceMetrics(r.Context(), id)
	return reply(w, http.StatusOK, m, err)
}

func (s *Server) apiVersionVEX(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.Portfolio.Version(r.Context(), id)
	if err != nil {
		return err
	}
	d, err := s.svc.Remediation.DeviceVEX(r.Context(), v.DeviceID, v.ID)
	if err != nil {
		return err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		writeJSON(w, http.StatusOK, d)
	case "openvex", "cyclonedx", "csaf":
		var b strings.Builder
		ctype := "application/json"
		switch f {
		case "openvex":
			err = vexdoc.WriteOpenVEX(&b, d, "dev")
		case "cyclonedx":
			ctype, err = "application/vnd.cyclonedx+json", vexdoc.WriteCycloneDX(&b, d, "dev")
		default:
			ns := r.URL.Query().Get("namespace")
			if ns == "" && s.svc.Intake != nil {
				if p, perr := s.svc.Intake.Policy(r.Context()); perr == nil {
					ns = p.BaseURL
				}
			}
			if ns == "" {
				return vigil.Errorf(vigil.EINVALID, "namespace: required for csaf (the manufacturer's https URL), or publish the CVD policy's base URL")
			}
			err = vexdoc.WriteCSAF(&b, d, csaf.Publisher{Name: d.Author, Namespace: ns})
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", ctype)
		w.Write([]byte(b.String()))
	default:
		return vigil.Errorf(vigil.EINVALID, "format: %q is not one of json, openvex, cyclonedx, csaf", f)
	}
	return nil
}

// remediationData is what the remediation page shows.
type remediationData struct {
	R         *remediation.Remediation
	Chart     lineChart
	FixIn     []string // releases a new fix may name: the device's versions
	Consignee []consigneeChoice
	Form      url.Values
	FormName  string
	Today     vigil.Date
}

// consigneeChoice is one (consignee, affected version) the deployment form offers.
type consigneeChoice struct {
	ConsigneeID int64
	VersionID   int64
	Label       string
}

func (s *Server) remediationPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderRemediation(w, r, http.StatusOK, "", "", nil)
}

func (s *Server) renderRemediation(w http.ResponseWriter, r *http.Request, status int, formName, formErr string, form url.Values) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	rem, err := s.svc.Remediation.Remediation(r.Context(), id)
	if err != nil {
		return err
	}
	today := s.svc.Cases.Today(r.Context())
	d := remediationData{R: rem, Chart: remediationChart(rem.Metrics, today), Form: form, FormName: formName, Today: today}
	if vs, err := s.svc.Portfolio.Versions(r.Context(), rem.Device.ID); err == nil {
		for _, v := range vs {
			d.FixIn = append(d.FixIn, v.Version)
		}
	}
	for _, f := range rem.Field {
		for _, c := range f.Consignees {
			d.Consignee = append(d.Consignee, consigneeChoice{c.ConsigneeID, f.VersionID, c.Consignee + " — " + f.Version + " (" + strconv.Itoa(c.Units) + " units)"})
		}
	}
	s.render(w, r, status, "remediation", page{Title: "Remediation of " + rem.Case.Vulnerability + " on " + rem.Device.Name, Nav: "cases", Error: formErr, Data: d})
	return nil
}

// remediationChart is the share of the case's fielded units remediated, from D0 through the first distribution to
// today.
func remediationChart(m remediation.Metrics, today vigil.Date) lineChart {
	pts := []Point{{Date: m.Learned}} // from D0: the time to patch is part of the picture
	if !m.Distributed.IsZero() && (len(m.Series) == 0 || !m.Series[0].Date.Before(m.Distributed)) {
		pts = append(pts, Point{Date: m.Distributed})
	}
	for _, p := range m.Series {
		pts = append(pts, Point{Date: p.Date, N: int(p.Percent + 0.5)})
	}
	if n := len(pts); n > 0 && pts[n-1].Date.Before(today) {
		pts = append(pts, Point{Date: today, N: pts[n-1].N}) // where it stands today
	}
	c := newLineChart("Fielded units remediated (%)", pts)
	switch {
	case m.Distributed.IsZero() && len(m.Series) == 0:
		c.Empty = "No distribution or deployment recorded yet."
	case c.Empty != "": // too few points for a line: say where it stands
		c.Empty = fmt.Sprintf("%.1f%% of fielded units remediated as of %s.", m.Percent, today)
	}
	return c
}

// remediationForm runs the page's form: the action field says which record it writes.
func (s *Server) remediationForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	in, err := remediationFormInput(r)
	if err == nil {
		err = s.signed(r, in.Signature, func() error { _, err := s.remediationWrite(r.Context(), id, in); return err })
	}
	if err == nil {
		return redirect(w, r, "/cases/"+itoa(id)+"/remediation#"+in.Action, "")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderRemediation(w, r, http.StatusUnprocessableEntity, r.PostFormValue("action"), vigil.ErrorMessage(err), r.PostForm)
}

// remediationFormInput reads the posted form into the same input the API takes.
func remediationFormInput(r *http.Request) (remediationIn, error) {
	get := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	date := func(name string) (vigil.Date, error) {
		d, err := formDate(r, name)
		if err != nil || d == nil {
			return vigil.Date{}, err
		}
		return *d, nil
	}
	in := remediationIn{Action: get("action"), Reason: get("reason")}
	if in.Action == "vv" {
		in.Signature = formSignature(r)
	}
	var err error
	switch in.Action {
	case "plan":
		p := &vigil.RemediationPlan{FixRelease: get("fix_release"), Cycle: get("cycle"), SSVC: get("ssvc"), Rationale: get("rationale"), Reason: get("reason")}
		if p.Date, err = date("date"); err != nil {
			return in, err
		}
		if p.TargetDate, err = date("target_date"); err != nil {
			return in, err
		}
		for i, l := range lines(r.PostFormValue("controls")) {
			parts := strings.Split(l, "|")
			if len(parts) != 3 {
				return in, vigil.Errorf(vigil.EINVALID, "controls: line %d: want WHAT | WHERE DOCUMENTED | SINCE", i+1)
			}
			since, err := vigil.ParseDate(strings.TrimSpace(parts[2]))
			if err != nil {
				return in, vigil.Errorf(vigil.EINVALID, "controls: line %d: since: %s", i+1, vigil.ErrorMessage(err))
			}
			p.Controls = append(p.Controls, vigil.CompensatingControl{What: strings.TrimSpace(parts[0]), Documented: strings.TrimSpace(parts[1]), Since: since})
		}
		in.Plan = p
	case "fix":
		in.Fix = &vigil.FixRelease{Release: get("release"), Remediation: get("remediation"), Description: get("description")}
	case "vv", "distribute":
		if in.FixID, err = strconv.ParseInt(get("fix_id"), 10, 64); err != nil {
			return in, vigil.Errorf(vigil.EINVALID, "fix_id: which fix release")
		}
		if in.Action == "vv" {
			vv := &vigil.VVRecord{Protocol: get("protocol"), Report: get("report"), Result: get("result"), Approver: get("approver")}
			if vv.Validated, err = date("validated"); err != nil {
				return in, err
			}
			in.VV = vv
		} else {
			d := &vigil.Distribution{Channel: get("channel")}
			if d.Date, err = date("date"); err != nil {
				return in, err
			}
			if d.Date.IsZero() {
				return in, vigil.Errorf(vigil.EINVALID, "date: required: the day it was distributed")
			}
			in.Distribution = d
		}
	case "deploy":
		d := &vigil.Deployment{Note: get("note")}
		pair := strings.SplitN(get("target"), ":", 2)
		if len(pair) != 2 {
			return in, vigil.Errorf(vigil.EINVALID, "target: which consignee and version")
		}
		if d.ConsigneeID, err = strconv.ParseInt(pair[0], 10, 64); err != nil {
			return in, vigil.Errorf(vigil.EINVALID, "target: which consignee and version")
		}
		if d.VersionID, err = strconv.ParseInt(pair[1], 10, 64); err != nil {
			return in, vigil.Errorf(vigil.EINVALID, "target: which consignee and version")
		}
		if d.Units, err = formInt(r, "units"); err != nil {
			return in, err
		}
		if d.Date, err = date("date"); err != nil {
			return in, err
		}
		in.Deployment = d
	}
	return in, nil
}

// deviceRemediationData is the device metrics page.
type deviceRemediationData struct {
	M       *remediation.DeviceMetrics
	Percent barChart
	Days    barChart
}

func (s *Server) deviceRemediationPage(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	m, err := s.svc.Remediation.DeviceMetrics(r.Context(), id)
	if err != nil {
		return err
	}
	var pct, days []Count
	for _, c := range m.Cases {
		if c.Metrics.Units > 0 {
			pct = append(pct, Count{Label: c.Vulnerability, N: int(c.Metrics.Percent + 0.5), ID: c.CaseID})
		}
		if c.Metrics.DaysToPatch != nil {
			days = append(days, Count{Label: c.Vulnerability, N: *c.Metrics.DaysToPatch, ID: c.CaseID})
		}
	}
	href := func(c Count) string { return "/cases/" + itoa(c.ID) + "/remediation" }
	d := deviceRemediationData{M: m,
		Percent: newBarChart("Fielded units remediated per case (%)", pct, func(Count) string { return "bar-metric" }, href),
		Days:    newBarChart("Days from identification to patch per case", days, func(Count) string { return "bar-metric" }, href)}
	s.render(w, r, http.StatusOK, "device_remediation", page{Title: "Remediation metrics of " + m.Device.Name, Nav: "devices", Data: d})
	return nil
}
