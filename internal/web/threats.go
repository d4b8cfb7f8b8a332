package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-dev/vigil"
)

// A device's threat model, edited as `vigil threat|asset|mitigation|control add|update` edit it: assets, STRIDE
// threats (the assets and clinical functions they reach, their entry points) and controls (mitigations and
// compensating controls, the threats they address). Each write goes through the threat model service, which needs
// PermAssess, checks every link against the device's model and audits it; an update needs a reason.

type threatsData struct {
	Device     *vigil.Device
	Model      *vigil.ThreatModel
	AssetKinds []string
	Stride     []string
	Controls   []string
	// Kind and Form are the add form as sent when it was refused ("" and nil otherwise).
	Kind string
	Form url.Values
	// Item is the ref of the item being edited, on the edit page.
	Item string
	CSRF string
}

// modelForm is one add or edit form of the model, for the "modelform" template.
type modelForm struct {
	Kind, Action string
	Editing      bool
	V            url.Values
	D            *threatsData
}

// AddForm is the form adding an item of kind: empty, or as sent when it was refused.
func (d *threatsData) AddForm(kind string) modelForm {
	f := modelForm{Kind: kind, Action: "/devices/" + itoa(d.Device.ID) + "/threats", V: url.Values{}, D: d}
	if d.Kind == kind && d.Form != nil && d.Item == "" {
		f.V = d.Form
	}
	return f
}

// EditForm is the form changing the item being edited.
func (d *threatsData) EditForm() modelForm {
	return modelForm{Kind: d.Kind, Action: "/devices/" + itoa(d.Device.ID) + "/threats/" + url.PathEscape(d.Item), Editing: true, V: d.Form, D: d}
}

func (s *Server) threats() (vigil.ThreatModelService, error) {
	if s.svc.Threats == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "threat models are not available in this server")
	}
	return s.svc.Threats, nil
}

// loadThreats reads the device of the path and its threat model.
func (s *Server) loadThreats(r *http.Request) (*threatsData, error) {
	ts, err := s.threats()
	if err != nil {
		return nil, err
	}
	d, err := s.pathDevice(r)
	if err != nil {
		return nil, err
	}
	m, err := ts.ThreatModel(r.Context(), d.ID)
	if err != nil {
		return nil, err
	}
	td := &threatsData{Device: d, Model: m, AssetKinds: vigil.AssetKinds, Stride: vigil.StrideCategories, Controls: vigil.ControlKinds}
	if sess := sessionFrom(r.Context()); sess != nil {
		td.CSRF = sess.CSRF
	}
	return td, nil
}

func (s *Server) threatsPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadThreats(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "threats", page{Title: "Threat model: " + d.Device.Name, Nav: "devices", Data: d})
	return nil
}

// modelItem builds the item a form describes: kind is asset, threat or control.
func modelItem(kind string, deviceID int64, f url.Values) (any, error) {
	ref, desc := strings.TrimSpace(f.Get("ref")), f.Get("description")
	switch kind {
	case "asset":
		return &vigil.Asset{DeviceID: deviceID, Ref: ref, Name: strings.TrimSpace(f.Get("name")), Kind: f.Get("asset_kind"), Description: desc}, nil
	case "threat":
		return &vigil.Threat{DeviceID: deviceID, Ref: ref, Title: strings.TrimSpace(f.Get("title")), Category: f.Get("category"), Description: desc,
			Assets: nonEmpty(f["assets"]), Functions: nonEmpty(f["functions"]), EntryPoints: splitList(f.Get("entry_points"))}, nil
	case "control":
		return &vigil.Control{DeviceID: deviceID, Ref: ref, Kind: f.Get("control_kind"), Name: strings.TrimSpace(f.Get("name")), Description: desc,
			Reference: strings.TrimSpace(f.Get("reference")), Threats: nonEmpty(f["threats"])}, nil
	}
	return nil, vigil.Errorf(vigil.EINVALID, "kind: %q: want asset, threat or control", clipText(20, kind))
}

// nonEmpty keeps the trimmed non-empty values (a list's checkboxes; an empty list is sent as one empty value).
func nonEmpty(vs []string) []string {
	out := []string{}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// splitList reads a comma-separated list.
func splitList(s string) []string { return nonEmpty(strings.Split(s, ",")) }

// threatAddForm adds an asset, a threat or a control to the device's model.
func (s *Server) threatAddForm(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadThreats(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ts := s.svc.Threats
	kind := r.PostFormValue("kind")
	item, err := modelItem(kind, d.Device.ID, r.PostForm)
	if err == nil {
		switch x := item.(type) {
		case *vigil.Asset:
			err = ts.CreateAsset(r.Context(), x)
		case *vigil.Threat:
			err = ts.CreateThreat(r.Context(), x)
		case *vigil.Control:
			err = ts.CreateControl(r.Context(), x)
		}
	}
	if err == nil {
		return redirect(w, r, "/devices/"+itoa(d.Device.ID)+"/threats#"+kind+"s", "model-added")
	}
	if !formRecoverable(err) {
		return err
	}
	d.Kind, d.Form = kind, r.PostForm
	s.render(w, r, StatusOf(err), "threats", page{Title: "Threat model: " + d.Device.Name, Nav: "devices", Error: "The " + kind + " was not added: " + vigil.ErrorMessage(err), Data: d})
	return nil
}

// modelItemOf finds an item of the model by ref: its kind and its values as the edit form holds them.
func modelItemOf(m *vigil.ThreatModel, ref string) (string, url.Values, error) {
	if a := m.Asset(ref); a != nil {
		return "asset", url.Values{"ref": {a.Ref}, "name": {a.Name}, "asset_kind": {a.Kind}, "description": {a.Description}}, nil
	}
	if t := m.Threat(ref); t != nil {
		return "threat", url.Values{"ref": {t.Ref}, "title": {t.Title}, "category": {t.Category}, "description": {t.Description},
			"assets": t.Assets, "functions": t.Functions, "entry_points": {strings.Join(t.EntryPoints, ", ")}}, nil
	}
	if c := m.Control(ref); c != nil {
		return "control", url.Values{"ref": {c.Ref}, "control_kind": {c.Kind}, "name": {c.Name}, "description": {c.Description},
			"reference": {c.Reference}, "threats": c.Threats}, nil
	}
	return "", nil, vigil.Errorf(vigil.ENOTFOUND, "%s: no asset, threat or control of this device has that ref", clipText(40, ref))
}

func (s *Server) threatItemPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadThreats(r)
	if err != nil {
		return err
	}
	kind, f, err := modelItemOf(d.Model, chiParam(r, "ref"))
	if err != nil {
		return err
	}
	d.Kind, d.Form, d.Item = kind, f, f.Get("ref")
	s.render(w, r, http.StatusOK, "threat_item", page{Title: d.Item + ": " + d.Device.Name, Nav: "devices", Data: d})
	return nil
}

// threatItemForm changes an asset, a threat or a control (found by its ref) with a reason.
func (s *Server) threatItemForm(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadThreats(r)
	if err != nil {
		return err
	}
	kind, stored, err := modelItemOf(d.Model, chiParam(r, "ref"))
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	f.Set("ref", stored.Get("ref")) // the ref names the item; it is not changed here
	item, err := modelItem(kind, d.Device.ID, f)
	if err == nil {
		ts, reason := s.svc.Threats, f.Get("reason")
		switch x := item.(type) {
		case *vigil.Asset:
			err = ts.UpdateAsset(r.Context(), x, reason)
		case *vigil.Threat:
			err = ts.UpdateThreat(r.Context(), x, reason)
		case *vigil.Control:
			err = ts.UpdateControl(r.Context(), x, reason)
		}
	}
	if err == nil {
		return redirect(w, r, "/devices/"+itoa(d.Device.ID)+"/threats#"+kind+"s", "model-saved")
	}
	if !formRecoverable(err) {
		return err
	}
	d.Kind, d.Form, d.Item = kind, f, stored.Get("ref")
	s.render(w, r, StatusOf(err), "threat_item", page{Title: d.Item + ": " + d.Device.Name, Nav: "devices", Error: "The " + kind + " was not saved: " + vigil.ErrorMessage(err), Data: d})
	return nil
}
