package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
)

// Reports generates the regulatory documents (internal/service/regdocs): each generation is recorded in the audit
// trail by the service. Needs PermRead; ECONFLICT when a document does not apply to the case or device.
type Reports interface {
	Render(ctx context.Context, kind string, t regdocs.Target, format string, w io.Writer) (*report.Document, error)
	// Available lists the documents that apply to a case now.
	Available(ctx context.Context, caseID int64) ([]string, error)
	// CaseRecords reads where a case stands with its regulatory records (filed, signed off, decided).
	CaseRecords(ctx context.Context, caseID int64) (*regdocs.CaseRecords, error)
	// File806 and File806Amendment mark the report (or an 806.10(d) amendment) filed; the report records
	// part806_filed on the case. Need PermReport.
	// Each act carries its Part 11 signature (sig) unless the organization switched that off.
	File806(ctx context.Context, caseID int64, date vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error)
	File806Amendment(ctx context.Context, caseID int64, date vigil.Date, reason string, sig *vigil.SignRequest) (*vigil.RegRecord, error)
	// SignOff80620 signs off the 806.20 record as it stands. Needs PermReport.
	SignOff80620(ctx context.Context, caseID int64, reason string, sig *vigil.SignRequest) (*regdocs.SignOff, error)
	// DecidePremarket records the case's premarket-submission decision with its basis. Needs PermReport.
	DecidePremarket(ctx context.Context, caseID int64, p regdocs.PremarketDecision, reason string, sig *vigil.SignRequest) (*regdocs.PremarketDecision, error)
	// Settings are the documents' settings in force for a device (0: the organization's), OwnSettings those
	// recorded for it alone; SetSettings replaces them (PermReport).
	Settings(ctx context.Context, deviceID int64) (regdocs.Settings, error)
	OwnSettings(ctx context.Context, deviceID int64) (regdocs.Settings, error)
	SetSettings(ctx context.Context, deviceID int64, st regdocs.Settings, reason string) error
}

// docLink is a link to one document of a case or a device, in each format.
type docLink struct {
	Title string
	Href  string // without the format
}

// In is the link to the document in format.
func (l docLink) In(format string) string {
	if strings.Contains(l.Href, "?") {
		return l.Href + "&format=" + format
	}
	return l.Href + "?format=" + format
}

var docTitles = map[string]string{
	regdocs.KindPart806:          "21 CFR 806.10 report (draft)",
	regdocs.KindPart806Amendment: "806.10(d) amendment (draft)",
	regdocs.KindPart806Record:    "806.20 record",
	regdocs.KindPremarket:        "Premarket decision record",
	regdocs.KindPMA:              "PMA periodic report section",
	regdocs.Kind524B:             "524B statements",
	regdocs.KindCMP:              "Cybersecurity Management Plan",
}

// caseDocuments links the documents that apply to a case (none without the documents service).
func (s *Server) caseDocuments(ctx context.Context, caseID int64) []docLink {
	if s.svc.Reports == nil {
		return nil
	}
	kinds, err := s.svc.Reports.Available(ctx, caseID)
	if err != nil {
		return nil // the page shows the case; the documents' own page says what is wrong
	}
	var out []docLink
	for _, k := range kinds {
		out = append(out, docLink{Title: docTitles[k], Href: fmt.Sprintf("/cases/%d/documents/%s", caseID, k)})
	}
	return out
}

// deviceDocuments links a device's documents: the 524B statements and the plan, and for a PMA device with an
// approval anniversary the periodic report of the period running today.
func (s *Server) deviceDocuments(ctx context.Context, d *vigil.Device) []docLink {
	if s.svc.Reports == nil {
		return nil
	}
	base := fmt.Sprintf("/devices/%d/documents/", d.ID)
	out := []docLink{{Title: docTitles[regdocs.Kind524B], Href: base + regdocs.Kind524B}, {Title: docTitles[regdocs.KindCMP], Href: base + regdocs.KindCMP}}
	if d.Pathway == vigil.PathwayPMA && d.PMAAnniversary != nil {
		today := s.today(ctx)
		year := today.Time().Year()
		a := d.PMAAnniversary.Time()
		if !today.Before(vigil.NewDate(year, a.Month(), a.Day())) {
			year++ // the period running today ends the day before next year's anniversary
		}
		out = append(out, docLink{Title: fmt.Sprintf("%s, period ending %d", docTitles[regdocs.KindPMA], year), Href: fmt.Sprintf("%s%s?period=%d", base, regdocs.KindPMA, year)})
	}
	return out
}

// caseDocument serves a document of a case (?format=html by default; md, pdf, json).
func (s *Server) caseDocument(w http.ResponseWriter, r *http.Request) error {
	return s.document(w, r, "case", report.HTML)
}

// deviceDocument serves a document of a device (pma takes ?period=YYYY).
func (s *Server) deviceDocument(w http.ResponseWriter, r *http.Request) error {
	return s.document(w, r, "device", report.HTML)
}

func (s *Server) apiCaseDocument(w http.ResponseWriter, r *http.Request) error {
	return s.document(w, r, "case", report.JSON)
}

func (s *Server) apiDeviceDocument(w http.ResponseWriter, r *http.Request) error {
	return s.document(w, r, "device", report.JSON)
}

func (s *Server) document(w http.ResponseWriter, r *http.Request, of, format string) error {
	if s.svc.Reports == nil {
		return vigil.Errorf(vigil.EUNAVAILABLE, "the regulatory documents are not available on this server")
	}
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	kind := chiParam(r, "kind")
	if f := r.URL.Query().Get("format"); f != "" {
		format = f
	}
	t := regdocs.Target{CaseID: id}
	if of == "device" {
		t = regdocs.Target{DeviceID: id}
		period, err := intQuery(r, "period")
		if err != nil {
			return err
		}
		t.Period = int(period)
	}
	var buf bytes.Buffer
	if _, err := s.svc.Reports.Render(r.Context(), kind, t, format, &buf); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", report.ContentType(format))
	name := fmt.Sprintf("%s-%d-%s.%s", of, id, strings.ReplaceAll(kind, ".", "-"), format)
	switch format {
	case report.HTML:
		// The page's only style is its own inline sheet, allowed by its hash; nothing else inline, no script.
		h.Set("Content-Security-Policy", strings.Replace(csp, "style-src 'self'", "style-src "+report.StyleHash, 1)+"; sandbox")
	case report.PDF, report.Markdown:
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	}
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}

// caseRecords reads the case's regulatory records for the case page's forms (nil without the documents service,
// or when they cannot be read: the page still shows the case).
func (s *Server) caseRecords(ctx context.Context, caseID int64) *regdocs.CaseRecords {
	if s.svc.Reports == nil {
		return nil
	}
	r, err := s.svc.Reports.CaseRecords(ctx, caseID)
	if err != nil {
		return nil
	}
	return r
}

func (s *Server) regdocs() (Reports, error) {
	if s.svc.Reports == nil {
		return nil, vigil.Errorf(vigil.EUNAVAILABLE, "the regulatory documents are not available on this server")
	}
	return s.svc.Reports, nil
}

// filingIn marks an 806 report, or an 806.10(d) amendment of it, filed (`vigil report 806|806-amendment --file`).
type filingIn struct {
	Amendment bool       `json:"amendment,omitempty"` // an 806.10(d) amendment of the filed report
	Date      vigil.Date `json:"date,omitzero"`       // the day it was filed (default today)
	Reason    string     `json:"reason,omitempty"`
	// Signature signs the filing (meaning, signer, password): required unless the organization switched it off.
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

func (s *Server) file806(r *http.Request, id int64, in filingIn) (rec *vigil.RegRecord, err error) {
	svc, err := s.regdocs()
	if err != nil {
		return nil, err
	}
	return rec, s.signed(r, in.Signature, func() (err error) {
		if in.Amendment {
			rec, err = svc.File806Amendment(r.Context(), id, in.Date, in.Reason, in.Signature)
		} else {
			rec, err = svc.File806(r.Context(), id, in.Date, in.Reason, in.Signature)
		}
		return err
	})
}

// signOffIn signs off the 806.20 record (`vigil report 806.20 --sign-off`), with the signer's Part 11 signature
// (required unless the organization switched it off).
type signOffIn struct {
	Reason    string             `json:"reason,omitempty"`
	Signature *vigil.SignRequest `json:"signature,omitempty"`
}

func (s *Server) signOff(r *http.Request, id int64, in signOffIn) (so *regdocs.SignOff, err error) {
	svc, err := s.regdocs()
	if err != nil {
		return nil, err
	}
	return so, s.signed(r, in.Signature, func() (err error) { so, err = svc.SignOff80620(r.Context(), id, in.Reason, in.Signature); return err })
}

// signRefused turns a refused signature into the form's answer, not the session's: the page says why and the
// session stays.
func signRefused(err error, prefix string) error {
	if c := vigil.ErrorCode(err); c == vigil.EUNAUTHORIZED || c == vigil.EFORBIDDEN {
		return vigil.Errorf(vigil.EINVALID, "%s%s", prefix, vigil.ErrorMessage(err))
	}
	return err
}

// premarketIn records the premarket-submission decision (`vigil report premarket --decide`), with the decider's
// Part 11 signature (required unless the organization switched it off).
type premarketIn struct {
	Decision   string             `json:"decision"` // pma_supplement, 30_day_notice, 510k or none
	Basis      string             `json:"basis"`
	Submission string             `json:"submission,omitempty"` // the supplement's or 510(k)'s number, once known
	Date       vigil.Date         `json:"date,omitzero"`        // the day it was decided (default today)
	Reason     string             `json:"reason,omitempty"`
	Signature  *vigil.SignRequest `json:"signature,omitempty"`
}

func (s *Server) decidePremarket(r *http.Request, id int64, in premarketIn) (d *regdocs.PremarketDecision, err error) {
	svc, err := s.regdocs()
	if err != nil {
		return nil, err
	}
	p := regdocs.PremarketDecision{Decision: in.Decision, Basis: in.Basis, Submission: in.Submission, Date: in.Date}
	return d, s.signed(r, in.Signature, func() (err error) {
		d, err = svc.DecidePremarket(r.Context(), id, p, in.Reason, in.Signature)
		return err
	})
}

// optDate reads an optional date field: nil is the zero date, the service's today.
func optDate(d *vigil.Date, err error) (vigil.Date, error) {
	if d == nil {
		return vigil.Date{}, err
	}
	return *d, err
}

func (s *Server) caseFile806(r *http.Request, id int64) error {
	d, err := optDate(formDate(r, "date"))
	if err != nil {
		return err
	}
	_, err = s.file806(r, id, filingIn{Amendment: r.PostFormValue("amendment") != "", Date: d, Reason: strings.TrimSpace(r.PostFormValue("reason")), Signature: formSignature(r)})
	return err
}

func (s *Server) caseSignOff(r *http.Request, id int64) error {
	_, err := s.signOff(r, id, signOffIn{Reason: strings.TrimSpace(r.PostFormValue("reason")), Signature: formSignature(r)})
	return err
}

func (s *Server) casePremarket(r *http.Request, id int64) error {
	d, err := optDate(formDate(r, "date"))
	if err != nil {
		return err
	}
	in := premarketIn{Decision: r.PostFormValue("decision"), Basis: strings.TrimSpace(r.PostFormValue("basis")),
		Submission: strings.TrimSpace(r.PostFormValue("submission")), Date: d, Reason: strings.TrimSpace(r.PostFormValue("reason")), Signature: formSignature(r)}
	_, err = s.decidePremarket(r, id, in)
	return err
}

func (s *Server) apiCaseRecords(w http.ResponseWriter, r *http.Request) error {
	svc, id, err := withID(r, s.regdocs)
	if err != nil {
		return err
	}
	out, err := svc.CaseRecords(r.Context(), id)
	return reply(w, http.StatusOK, out, err)
}

func (s *Server) apiFile806(r *http.Request, id int64, in *filingIn) (any, error) {
	return s.file806(r, id, *in)
}

func (s *Server) apiSignOff(r *http.Request, id int64, in *signOffIn) (any, error) {
	return s.signOff(r, id, *in)
}

func (s *Server) apiPremarket(r *http.Request, id int64, in *premarketIn) (any, error) {
	return s.decidePremarket(r, id, *in)
}

// documentSettingsJSON is the own regulatory documents' settings of the organization (deviceID 0) or a device
// line, as the settings forms show them ("" without the documents service).
func (s *Server) documentSettingsJSON(ctx context.Context, deviceID int64) (string, error) {
	if s.svc.Reports == nil {
		return "", nil
	}
	st, err := s.svc.Reports.OwnSettings(ctx, deviceID)
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	return string(b), err
}

// decodeSettings reads the documents' settings a form or the API sent: unknown fields are refused, naming them.
func decodeSettings(text string) (regdocs.Settings, error) {
	var st regdocs.Settings
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, vigil.Errorf(vigil.EINVALID, "settings: %v", err)
	}
	return st, nil
}

func (s *Server) saveDocumentSettings(r *http.Request, deviceID int64) error {
	svc, err := s.regdocs()
	if err != nil {
		return err
	}
	st, err := decodeSettings(r.PostFormValue("settings"))
	if err != nil {
		return err
	}
	return svc.SetSettings(r.Context(), deviceID, st, strings.TrimSpace(r.PostFormValue("reason")))
}

func (s *Server) documentSettingsForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := s.saveDocumentSettings(r, 0)
	if err == nil {
		return redirect(w, r, "/settings#documents", "documents-saved")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderSettings(w, r, StatusOf(err), page{Error: "The documents' settings were not saved: " + vigil.ErrorMessage(err)}, r.PostForm, nil)
}

func (s *Server) deviceDocumentSettingsForm(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err = s.saveDocumentSettings(r, id); err == nil {
		return redirect(w, r, "/devices/"+itoa(id)+"#document-settings", "documents-saved")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderDevice(w, r, StatusOf(err), "The documents' settings were not saved: "+vigil.ErrorMessage(err), versionForm{Status: vigil.VersionMarketed, Settings: r.PostFormValue("settings")})
}

// documentSettingsIn replaces the documents' settings of the organization (no device) or a device line.
type documentSettingsIn struct {
	DeviceID int64            `json:"device_id,omitempty"`
	Settings regdocs.Settings `json:"settings"`
	Reason   string           `json:"reason"`
}

func (s *Server) apiDocumentSettings(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.regdocs()
	if err != nil {
		return err
	}
	device, err := intQuery(r, "device")
	if err != nil {
		return err
	}
	st, err := svc.Settings(r.Context(), device)
	return reply(w, http.StatusOK, st, err)
}

func (s *Server) apiSetDocumentSettings(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.regdocs()
	if err != nil {
		return err
	}
	var in documentSettingsIn
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := svc.SetSettings(r.Context(), in.DeviceID, in.Settings, in.Reason); err != nil {
		return err
	}
	st, err := svc.Settings(r.Context(), in.DeviceID)
	return reply(w, http.StatusOK, st, err)
}
