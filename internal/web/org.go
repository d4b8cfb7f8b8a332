package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
)

// The organization's settings: its time zone, CVD promise and regulatory policy, from the API (GET and PATCH
// /api/v1/org) and the settings page. Both save through PortfolioService.UpdateOrg, whose checks (the
// determination's own reading of the policy) give the same messages the command line prints.

// theOrg is the organization: the only one (Vigil keeps one per store).
func (s *Server) theOrg(r *http.Request) (*vigil.Organization, error) {
	orgs, err := s.svc.Portfolio.Orgs(r.Context())
	if err != nil {
		return nil, err
	}
	if len(orgs) != 1 {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "organization: %d organizations are stored, want one (vigil org create)", len(orgs))
	}
	return orgs[0], nil
}

// orgIn is the PATCH body: any of the organization's fields (only those given change) and the reason.
type orgIn struct {
	*vigil.Organization
	Reason string `json:"reason"`
}

func (s *Server) apiOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := s.theOrg(r)
	return reply(w, http.StatusOK, o, err)
}

func (s *Server) apiOrgUpdate(w http.ResponseWriter, r *http.Request) error {
	o, err := s.theOrg(r)
	if err != nil {
		return err
	}
	id, created := o.ID, o.CreatedAt
	in := orgIn{Organization: o}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	o.ID, o.CreatedAt = id, created
	if err := s.svc.Portfolio.UpdateOrg(r.Context(), o, in.Reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// settingsData is what the settings page shows: the stored organization, the policy in force (defaults filled
// in), the choices, and the form as sent when it was refused.
type settingsData struct {
	Org               *vigil.Organization
	Policy            regulatory.Policy
	WorkingDays       []string
	ReassessmentClock []string
	Matrix            string // the organization's matrix as JSON, empty for the default
	Form              url.Values
	ISAOs             *isaoForm
	// Documents is the regulatory documents' settings of the organization as JSON (as sent, when refused), and
	// DocumentsError why they were refused.
	Documents, DocumentsError string
	// Signing is the organization's signature requirement of each act (nil without the signature service).
	Signing []vigil.SignatureRequirement
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSettings(w, r, http.StatusOK, page{}, nil, nil)
}

// renderSettings shows the settings page, with the settings form, the documents' settings form (a form with a
// "settings" field) or the ISAO form (isaos) as sent when refused.
func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, status int, p page, form url.Values, isaos *isaoForm) error {
	o, err := s.theOrg(r)
	if err != nil {
		return err
	}
	pol, err := regulatory.OrgPolicy(o)
	if err != nil {
		p.Error = strings.TrimSpace(p.Error + " The stored policy does not read: " + vigil.ErrorMessage(err))
	}
	d := settingsData{Org: o, Policy: pol, Form: form, WorkingDays: []string{"federal", "weekdays"},
		ReassessmentClock: []string{regulatory.ReassessmentClockReassessed, regulatory.ReassessmentClockFirst}, ISAOs: isaos}
	if d.ISAOs == nil {
		if d.ISAOs, err = s.storedISAOs(r); err != nil {
			return err
		}
	}
	d.ISAOs.Criteria = isaoCriteria
	if form.Has("settings") {
		d.Form, d.Documents, d.DocumentsError, p.Error = nil, form.Get("settings"), p.Error, ""
	} else if d.Documents, err = s.documentSettingsJSON(r.Context(), 0); err != nil {
		return err
	}
	if s.svc.Signing != nil {
		if d.Signing, err = s.svc.Signing.Requirements(r.Context()); err != nil {
			return err
		}
	}
	if len(o.Policy.AcceptanceMatrix) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, o.Policy.AcceptanceMatrix, "", "  ") == nil {
			d.Matrix = b.String()
		}
	}
	p.Title, p.Nav, p.Data = "Settings", "settings", d
	s.render(w, r, status, "settings", p)
	return nil
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, err := s.theOrg(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	if f.Has("name") {
		o.Name = strings.TrimSpace(f.Get("name"))
	}
	if f.Has("fei_number") {
		o.FEINumber = strings.TrimSpace(f.Get("fei_number"))
	}
	if f.Has("registration_number") {
		o.RegistrationNumber = strings.TrimSpace(f.Get("registration_number"))
	}
	o.TimeZone = strings.TrimSpace(f.Get("time_zone"))
	o.CVDContact = strings.TrimSpace(f.Get("cvd_contact"))
	ack, err := formInt(r, "cvd_ack_days")
	if err == nil {
		o.CVDAckDays = ack
		o.Policy.WorkingDays, o.Policy.ReassessmentClock = f.Get("working_days"), f.Get("reassessment_clock")
		o.Policy.RollDeadlines = f.Get("roll_deadlines") == "true"
		o.Policy.AcceptanceMatrix = nil
		if m := strings.TrimSpace(f.Get("acceptance_matrix")); m != "" {
			o.Policy.AcceptanceMatrix = json.RawMessage(m)
		}
		err = s.svc.Portfolio.UpdateOrg(r.Context(), o, f.Get("reason"))
	}
	if err == nil {
		return redirect(w, r, "/settings", "settings")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderSettings(w, r, StatusOf(err), page{Error: "The settings were not saved: " + vigil.ErrorMessage(err)}, f, nil)
}
