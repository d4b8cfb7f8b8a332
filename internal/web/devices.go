package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

// deviceRow is a device in the list, with its versions and open findings.
type deviceRow struct {
	*vigil.Device
	Versions     []versionRow `json:"versions"`
	Open         int          `json:"open_findings"`
	Uncontrolled int          `json:"uncontrolled"`
}

type versionRow struct {
	*vigil.DeviceVersion
	Open         int `json:"open_findings"`
	Uncontrolled int `json:"uncontrolled"`
}

// counts returns the open and uncontrolled findings per device and per version, from the dashboard's aggregates.
func (s *Server) counts(ctx context.Context) (dev, ver map[int64]Count) {
	dev, ver = map[int64]Count{}, map[int64]Count{}
	if s.svc.Queries == nil {
		return
	}
	ov, err := s.svc.Queries.Overview(ctx, time.Time{})
	if err != nil {
		s.opt.Log.Warn("overview", "err", err)
		return
	}
	for _, c := range ov.ByDevice {
		dev[c.ID] = c
	}
	for _, c := range ov.ByVersion {
		ver[c.ID] = c
	}
	return
}

func (s *Server) deviceRows(ctx context.Context) ([]deviceRow, error) {
	ds, err := s.svc.Portfolio.Devices(ctx)
	if err != nil {
		return nil, err
	}
	dc, vc := s.counts(ctx)
	rows := []deviceRow{}
	for _, d := range ds {
		vs, err := s.svc.Portfolio.Versions(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		row := deviceRow{Device: d, Versions: []versionRow{}, Open: dc[d.ID].N, Uncontrolled: dc[d.ID].Extra}
		for _, v := range vs {
			row.Versions = append(row.Versions, versionRow{v, vc[v.ID].N, vc[v.ID].Extra})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type devicesData struct {
	Devices    []deviceRow
	Classes    []string
	Pathways   []vigil.Pathway
	Form       deviceForm
	Severities []string
}

type deviceForm struct {
	Name, Model, Class, Submission, IntendedUse, Functions string
	Pathway                                                vigil.Pathway
	Cyber                                                  bool
}

func (s *Server) devicesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderDevices(w, r, http.StatusOK, "", deviceForm{Class: "II", Pathway: vigil.Pathway510k})
}

func (s *Server) renderDevices(w http.ResponseWriter, r *http.Request, status int, formErr string, f deviceForm) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	rows, err := s.deviceRows(r.Context())
	if err != nil {
		return err
	}
	if format != "" {
		t := table{Header: []string{"id", "name", "model", "class", "pathway", "submission", "cyber_device", "versions", "open_findings", "uncontrolled"}}
		for _, d := range rows {
			var vs []string
			for _, v := range d.Versions {
				vs = append(vs, v.Version+" ("+v.Status+")")
			}
			t.Rows = append(t.Rows, []string{itoa(d.ID), d.Name, d.Model, d.Class, string(d.Pathway), d.SubmissionNumber, strconv.FormatBool(d.CyberDevice),
				strings.Join(vs, "; "), strconv.Itoa(d.Open), strconv.Itoa(d.Uncontrolled)})
		}
		return export(w, format, "devices", rows, t)
	}
	s.render(w, r, status, "devices", page{Title: "Devices", Nav: "devices", Error: formErr,
		Data: devicesData{Devices: rows, Classes: vigil.DeviceClasses, Pathways: vigil.Pathways, Form: f, Severities: vigil.HarmSeverities}})
	return nil
}

// parseFunctions reads "name: severity" lines.
func parseFunctions(text string) ([]vigil.ClinicalFunction, error) {
	out := []vigil.ClinicalFunction{}
	for i, l := range lines(text) {
		name, sev, ok := strings.Cut(l, ":")
		if !ok {
			return nil, vigil.Errorf(vigil.EINVALID, "functions line %d: write \"function: severity\" (severity one of %s)", i+1, strings.Join(vigil.HarmSeverities, ", "))
		}
		out = append(out, vigil.ClinicalFunction{Name: strings.TrimSpace(name), Severity: strings.ToLower(strings.TrimSpace(sev))})
	}
	return out, nil
}

func (s *Server) deviceCreateForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := deviceForm{Name: r.PostFormValue("name"), Model: r.PostFormValue("model"), Class: r.PostFormValue("class"), Pathway: vigil.Pathway(r.PostFormValue("pathway")),
		Submission: r.PostFormValue("submission_number"), IntendedUse: r.PostFormValue("intended_use"), Functions: r.PostFormValue("functions"),
		Cyber: r.PostFormValue("cyber_device") != ""}
	fns, err := parseFunctions(f.Functions)
	if err == nil {
		d := &vigil.Device{Name: strings.TrimSpace(f.Name), Model: strings.TrimSpace(f.Model), Class: f.Class, Pathway: f.Pathway,
			SubmissionNumber: strings.TrimSpace(f.Submission), CyberDevice: f.Cyber, IntendedUse: f.IntendedUse, Functions: fns}
		if err = s.svc.Portfolio.CreateDevice(r.Context(), d); err == nil {
			return redirect(w, r, "/devices/"+itoa(d.ID), "device")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderDevices(w, r, StatusOf(err), vigil.ErrorMessage(err), f)
}

// formRecoverable reports whether a form's error is the user's to fix on the same page (invalid input, a
// duplicate) rather than a reason to show the error page (no permission, not found, a bug).
func formRecoverable(err error) bool {
	c := vigil.ErrorCode(err)
	return c == vigil.EINVALID || c == vigil.ECONFLICT
}

type deviceData struct {
	Documents []docLink
	Settings  string // the device line's own documents' settings as JSON
	LastYear  int    // the evidence package's other period offered
	Evidence  bool   // the server hands out evidence packages (it holds the audit key)
	Model     *vigil.ThreatModel
	Device    *vigil.Device
	Versions  []versionRow
	Open      int
	Statuses  []string
	Form      versionForm
}

type versionForm struct {
	Version, Status, Release, Units string
	// Settings are the device line's documents' settings as sent when refused ("" shows the stored ones).
	Settings string
}

func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) error {
	return s.renderDevice(w, r, http.StatusOK, "", versionForm{Status: vigil.VersionMarketed})
}

func (s *Server) renderDevice(w http.ResponseWriter, r *http.Request, status int, formErr string, f versionForm) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	d, err := s.svc.Portfolio.Device(r.Context(), id)
	if err != nil {
		return err
	}
	vs, err := s.svc.Portfolio.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	dc, vc := s.counts(r.Context())
	if format != "" {
		rows := []versionRow{}
		t := table{Header: []string{"id", "device", "version", "status", "release_date", "units_fielded", "open_findings", "uncontrolled"}}
		for _, v := range vs {
			rows = append(rows, versionRow{v, vc[v.ID].N, vc[v.ID].Extra})
			t.Rows = append(t.Rows, []string{itoa(v.ID), d.Name, v.Version, v.Status, fmtDate(v.ReleaseDate, nil), strconv.Itoa(v.UnitsFielded),
				strconv.Itoa(vc[v.ID].N), strconv.Itoa(vc[v.ID].Extra)})
		}
		return export(w, format, "versions-"+itoa(d.ID), rows, t)
	}
	data := deviceData{Device: d, Open: dc[id].N, Statuses: vigil.VersionStatuses, Form: f, Model: s.threatModel(r.Context(), id), Documents: s.deviceDocuments(r.Context(), d),
		Settings: f.Settings, LastYear: s.today(r.Context()).Time().Year() - 1, Evidence: s.svc.Evidence != nil}
	if data.Settings == "" {
		if data.Settings, err = s.documentSettingsJSON(r.Context(), id); err != nil {
			return err
		}
	}
	for _, v := range vs {
		data.Versions = append(data.Versions, versionRow{v, vc[v.ID].N, vc[v.ID].Extra})
	}
	s.render(w, r, status, "device", page{Title: d.Name, Nav: "devices", Error: formErr, Data: data})
	return nil
}

func (s *Server) versionCreateForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := versionForm{Version: r.PostFormValue("version"), Status: r.PostFormValue("status"), Release: r.PostFormValue("release_date"), Units: r.PostFormValue("units_fielded")}
	v := &vigil.DeviceVersion{DeviceID: id, Version: strings.TrimSpace(f.Version), Status: f.Status}
	v.ReleaseDate, err = formDate(r, "release_date")
	if err == nil {
		v.UnitsFielded, err = formInt(r, "units_fielded")
	}
	if err == nil {
		if err = s.svc.Portfolio.CreateVersion(r.Context(), v); err == nil {
			return redirect(w, r, "/versions/"+itoa(v.ID), "version")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderDevice(w, r, StatusOf(err), vigil.ErrorMessage(err), f)
}

// componentRow is a component with its open findings and whether its support has ended.
type componentRow struct {
	vigil.Component
	Findings   int  `json:"open_findings"`
	SupportEnd bool `json:"support_ended"`
}

type versionData struct {
	Device      *vigil.Device
	Version     *vigil.DeviceVersion
	Siblings    []*vigil.DeviceVersion
	Components  []componentRow
	Findings    *FindingPage
	Unsupported int
	Upload      *portfolio.SBOMResult
	UploadName  string
	Shrink      *sbom.ShrinkError // a refused upload: the diff to show and the confirmation to ask for
	Limits      uploadLimits
	Today       vigil.Date
}

func (s *Server) loadVersion(ctx context.Context, id int64) (*versionData, error) {
	v, err := s.svc.Portfolio.Version(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := s.svc.Portfolio.Device(ctx, v.DeviceID)
	if err != nil {
		return nil, err
	}
	sibs, err := s.svc.Portfolio.Versions(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	comps, err := s.svc.Portfolio.Components(ctx, id)
	if err != nil {
		return nil, err
	}
	data := &versionData{Device: d, Version: v, Limits: s.uploadLimits(), Today: s.today(ctx)}
	for _, x := range sibs {
		if x.ID != id {
			data.Siblings = append(data.Siblings, x)
		}
	}
	// Open findings per component, from one bounded query.
	per := map[string]int{}
	if s.svc.Queries != nil {
		all, err := s.svc.Queries.FindingPage(ctx, FindingQuery{VersionID: id, Limit: 5000, NoTotal: true})
		if err != nil {
			return nil, err
		}
		for _, f := range all.Rows {
			per[compKey(f.Component)]++
		}
		data.Findings, err = s.svc.Queries.FindingPage(ctx, FindingQuery{VersionID: id, Limit: 20})
		if err != nil {
			return nil, err
		}
	}
	for _, c := range comps {
		row := componentRow{Component: c, Findings: per[compKey(c)]}
		row.SupportEnd = c.Support == vigil.SupportAbandoned || c.Support == vigil.SupportNoLonger ||
			c.EndOfSupport != nil && !c.EndOfSupport.After(data.Today)
		if row.SupportEnd {
			data.Unsupported++
		}
		data.Components = append(data.Components, row)
	}
	// Components with findings first, then unsupported ones, then by name: what needs attention on top.
	sort.SliceStable(data.Components, func(i, j int) bool {
		a, b := data.Components[i], data.Components[j]
		if (a.Findings > 0) != (b.Findings > 0) {
			return a.Findings > 0
		}
		if a.SupportEnd != b.SupportEnd {
			return a.SupportEnd
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	return data, nil
}

func compKey(c vigil.Component) string { return c.Group + "/" + c.Name + "@" + c.Version }

func (s *Server) today(ctx context.Context) vigil.Date {
	if s.svc.Cases != nil {
		return s.svc.Cases.Today(ctx)
	}
	return vigil.DateOf(s.opt.Clock.Now(), nil)
}

func (s *Server) versionPage(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	data, err := s.loadVersion(r.Context(), id)
	if err != nil {
		return err
	}
	if format != "" {
		return exportComponents(w, format, data)
	}
	s.render(w, r, http.StatusOK, "version", page{Title: data.Device.Name + " " + data.Version.Version, Nav: "devices", Data: data})
	return nil
}

func exportComponents(w http.ResponseWriter, format string, data *versionData) error {
	t := table{Header: []string{"name", "group", "version", "purl", "cpe", "type", "supplier", "support", "end_of_support", "support_note", "open_findings"}}
	for _, c := range data.Components {
		t.Rows = append(t.Rows, []string{c.Name, c.Group, c.Version, c.Purl, c.CPE, c.Type, c.Supplier, c.Support, fmtDate(c.EndOfSupport, nil), c.SupportNote, strconv.Itoa(c.Findings)})
	}
	rows := data.Components
	if rows == nil {
		rows = []componentRow{}
	}
	return export(w, format, "components-"+strconv.FormatInt(data.Version.ID, 10), rows, t)
}

// uploadSBOM reads, unwraps and imports an uploaded SBOM onto a version.
func (s *Server) uploadSBOM(w http.ResponseWriter, r *http.Request, id int64) (*portfolio.SBOMResult, string, error) {
	if s.svc.SBOM == nil {
		return nil, "", vigil.Errorf(vigil.EINTERNAL, "SBOM import is not wired in")
	}
	b, name, err := s.readUpload(w, r)
	if err != nil {
		return nil, name, err
	}
	b, name, err = unwrap(b, name, s.uploadLimits())
	if err != nil {
		return nil, name, err
	}
	release, err := s.reserveParse(r.Context(), int64(len(b)), sbomAmplification)
	if err != nil {
		return nil, name, err
	}
	defer release()
	// A query parameter (the API) or a form field (the version page's confirmation checkbox) confirms a shrink.
	res, err := s.svc.SBOM.ImportSBOM(r.Context(), id, bytes.NewReader(b), name, portfolio.SBOMOptions{AllowShrink: truthy(r.FormValue("allow_shrink"))})
	return res, name, err
}

func (s *Server) sbomUploadForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	res, name, err := s.uploadSBOM(w, r, id)
	if err != nil && !formRecoverable(err) {
		return err
	}
	data, lerr := s.loadVersion(r.Context(), id)
	if lerr != nil {
		return lerr
	}
	p := page{Title: data.Device.Name + " " + data.Version.Version, Nav: "devices", Data: data}
	if err != nil {
		p.Error = "The SBOM was not imported: " + vigil.ErrorMessage(err)
		errors.As(err, &data.Shrink)
		s.render(w, r, StatusOf(err), "version", p)
		return nil
	}
	data.Upload, data.UploadName = res, name
	p.Notice = "SBOM imported."
	s.render(w, r, http.StatusOK, "version", p)
	return nil
}

type diffData struct {
	Device   *vigil.Device
	From, To *vigil.DeviceVersion
	Siblings []*vigil.DeviceVersion
	Diff     sbom.DiffResult
}

// versionDiff is the API form of an SBOM diff.
type versionDiff struct {
	From int64           `json:"from"`
	To   int64           `json:"to"`
	Diff sbom.DiffResult `json:"diff"`
}

func (s *Server) loadDiff(r *http.Request) (*diffData, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	with, err := intQuery(r, "with")
	if err != nil {
		return nil, err
	}
	if with == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "with: required: the version to compare with")
	}
	ctx := r.Context()
	from, err := s.svc.Portfolio.Version(ctx, id)
	if err != nil {
		return nil, err
	}
	to, err := s.svc.Portfolio.Version(ctx, with)
	if err != nil {
		return nil, err
	}
	d, err := s.svc.Portfolio.Device(ctx, from.DeviceID)
	if err != nil {
		return nil, err
	}
	a, err := s.svc.Portfolio.Components(ctx, id)
	if err != nil {
		return nil, err
	}
	b, err := s.svc.Portfolio.Components(ctx, with)
	if err != nil {
		return nil, err
	}
	sibs, err := s.svc.Portfolio.Versions(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	return &diffData{Device: d, From: from, To: to, Siblings: sibs, Diff: nonNilDiff(sbom.Diff(a, b))}, nil
}

func nonNilDiff(d sbom.DiffResult) sbom.DiffResult {
	if d.Added == nil {
		d.Added = []vigil.Component{}
	}
	if d.Removed == nil {
		d.Removed = []vigil.Component{}
	}
	if d.Changed == nil {
		d.Changed = []sbom.Change{}
	}
	return d
}

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) error {
	data, err := s.loadDiff(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "diff", page{Title: "SBOM diff", Nav: "devices", Data: data})
	return nil
}

// ---- API

func (s *Server) apiDevices(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.svc.Portfolio.Devices(r.Context())
	return reply(w, http.StatusOK, orEmpty(ds), err)
}

func (s *Server) apiDeviceCreate(w http.ResponseWriter, r *http.Request) error {
	var d vigil.Device
	if err := decodeJSON(w, r, &d); err != nil {
		return err
	}
	d.ID = 0
	if err := s.svc.Portfolio.CreateDevice(r.Context(), &d); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, &d)
	return nil
}

func (s *Server) apiDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	d, err := s.svc.Portfolio.Device(r.Context(), id)
	return reply(w, http.StatusOK, d, err)
}

func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.svc.Portfolio.Device(r.Context(), id); err != nil {
		return err
	}
	vs, err := s.svc.Portfolio.Versions(r.Context(), id)
	return reply(w, http.StatusOK, orEmpty(vs), err)
}

func (s *Server) apiVersionCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var v vigil.DeviceVersion
	if err := decodeJSON(w, r, &v); err != nil {
		return err
	}
	v.ID, v.DeviceID = 0, id
	if err := s.svc.Portfolio.CreateVersion(r.Context(), &v); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, &v)
	return nil
}

func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	v, err := s.svc.Portfolio.Version(r.Context(), id)
	return reply(w, http.StatusOK, v, err)
}

func (s *Server) apiComponents(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.svc.Portfolio.Version(r.Context(), id); err != nil {
		return err
	}
	cs, err := s.svc.Portfolio.Components(r.Context(), id)
	return reply(w, http.StatusOK, orEmpty(cs), err)
}

func (s *Server) apiSBOMUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	res, _, err := s.uploadSBOM(w, r, id)
	var shrink *sbom.ShrinkError
	if errors.As(err, &shrink) {
		return fmt.Errorf("%w: confirm with allow_shrink=true to import it anyway", err)
	} else if err != nil {
		return err
	}
	res.Diff = nonNilDiff(res.Diff)
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadDiff(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, versionDiff{From: d.From.ID, To: d.To.ID, Diff: d.Diff})
	return nil
}
