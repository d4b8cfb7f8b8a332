package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// The portfolio's edit screens: a device's fields (the `vigil device update` flags) and a version's release date,
// marketing status and units (`vigil version update`). Each form shows the stored values, saves through the
// portfolio service (which checks the role and the fields, and audits the change with its reason), and on a refusal
// shows the form again as it was sent, with the service's message naming the field.

// editData is an edit form: the record, the form's values (stored, or as sent when refused) and the choices.
type editData struct {
	Device     *vigil.Device
	Version    *vigil.DeviceVersion
	Form       url.Values
	Classes    []string
	Pathways   []vigil.Pathway
	Statuses   []string
	Severities []string
}

func (s *Server) deviceEditPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.pathDevice(r)
	if err != nil {
		return err
	}
	return s.renderDeviceEdit(w, r, http.StatusOK, "", d, deviceValues(d))
}

func (s *Server) pathDevice(r *http.Request) (*vigil.Device, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	return s.svc.Portfolio.Device(r.Context(), id)
}

func (s *Server) renderDeviceEdit(w http.ResponseWriter, r *http.Request, status int, formErr string, d *vigil.Device, f url.Values) error {
	s.render(w, r, status, "device_edit", page{Title: "Edit " + d.Name, Nav: "devices", Error: formErr,
		Data: editData{Device: d, Form: f, Classes: vigil.DeviceClasses, Pathways: vigil.Pathways, Severities: vigil.HarmSeverities}})
	return nil
}

// deviceValues are a device's fields as the edit form holds them.
func deviceValues(d *vigil.Device) url.Values {
	var fns []string
	for _, f := range d.Functions {
		fns = append(fns, f.Name+": "+f.Severity)
	}
	v := url.Values{"name": {d.Name}, "model": {d.Model}, "class": {d.Class}, "pathway": {string(d.Pathway)},
		"submission_number": {d.SubmissionNumber}, "intended_use": {d.IntendedUse}, "safety_performance": {d.SafetyPerformance},
		"functions": {strings.Join(fns, "\n")}, "udi_di": {d.UDIDI}, "pma_anniversary": {fmtDate(d.PMAAnniversary, nil)},
		"acceptance_matrix": {indentJSON(d.AcceptanceMatrix)}}
	if d.CyberDevice {
		v.Set("cyber_device", "1")
	}
	return v
}

// indentJSON shows a stored JSON document for editing ("" when there is none).
func indentJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func (s *Server) deviceEditForm(w http.ResponseWriter, r *http.Request) error {
	d, err := s.pathDevice(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	d.Name, d.Model, d.Class = strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("model")), f.Get("class")
	d.Pathway, d.SubmissionNumber = vigil.Pathway(f.Get("pathway")), strings.TrimSpace(f.Get("submission_number"))
	d.IntendedUse, d.SafetyPerformance = f.Get("intended_use"), f.Get("safety_performance")
	d.UDIDI, d.CyberDevice = strings.TrimSpace(f.Get("udi_di")), f.Get("cyber_device") != ""
	d.AcceptanceMatrix = nil
	if m := strings.TrimSpace(f.Get("acceptance_matrix")); m != "" {
		d.AcceptanceMatrix = json.RawMessage(m)
	}
	d.Functions, err = parseFunctions(f.Get("functions"))
	if err == nil {
		d.PMAAnniversary, err = formDate(r, "pma_anniversary")
	}
	if err == nil {
		if err = s.svc.Portfolio.UpdateDevice(r.Context(), d, f.Get("reason")); err == nil {
			return redirect(w, r, "/devices/"+itoa(d.ID), "device-saved")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderDeviceEdit(w, r, StatusOf(err), "The device was not saved: "+vigil.ErrorMessage(err), d, f)
}

func (s *Server) versionEditPage(w http.ResponseWriter, r *http.Request) error {
	v, d, err := s.pathVersion(r)
	if err != nil {
		return err
	}
	f := url.Values{"status": {v.Status}, "release_date": {fmtDate(v.ReleaseDate, nil)}, "status_date": {fmtDate(v.StatusDate, nil)},
		"units_fielded": {strconv.Itoa(v.UnitsFielded)}}
	return s.renderVersionEdit(w, r, http.StatusOK, "", d, v, f)
}

func (s *Server) pathVersion(r *http.Request) (*vigil.DeviceVersion, *vigil.Device, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, nil, err
	}
	v, err := s.svc.Portfolio.Version(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.svc.Portfolio.Device(r.Context(), v.DeviceID)
	return v, d, err
}

func (s *Server) renderVersionEdit(w http.ResponseWriter, r *http.Request, status int, formErr string, d *vigil.Device, v *vigil.DeviceVersion, f url.Values) error {
	s.render(w, r, status, "version_edit", page{Title: "Edit " + d.Name + " " + v.Version, Nav: "devices", Error: formErr,
		Data: editData{Device: d, Version: v, Form: f, Statuses: vigil.VersionStatuses}})
	return nil
}

func (s *Server) versionEditForm(w http.ResponseWriter, r *http.Request) error {
	v, d, err := s.pathVersion(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v.Status = f.Get("status")
	v.ReleaseDate, err = formDate(r, "release_date")
	if err == nil {
		v.StatusDate, err = formDate(r, "status_date")
	}
	if err == nil {
		v.UnitsFielded, err = formInt(r, "units_fielded")
	}
	if err == nil {
		if err = s.svc.Portfolio.UpdateVersion(r.Context(), v, f.Get("reason")); err == nil {
			return redirect(w, r, "/versions/"+itoa(v.ID), "version-saved")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderVersionEdit(w, r, StatusOf(err), "The version was not saved: "+vigil.ErrorMessage(err), d, v, f)
}
