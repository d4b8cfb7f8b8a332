package web

import (
	"bytes"
	"context"
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
