package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

// Evidence exports evidence packages (internal/service/evidence): a case's, or a device's for the period ending
// in a year. Needs PermAuditVerify, and the audit key on the server (EINVALID without it).
type Evidence interface {
	ExportCase(ctx context.Context, caseID int64, w io.Writer) (audit.PackageManifest, error)
	ExportDevice(ctx context.Context, deviceID int64, year int, w io.Writer) (audit.PackageManifest, error)
}

// caseEvidence downloads a case's evidence package (the page's link and the API answer with the same zip).
func (s *Server) caseEvidence(w http.ResponseWriter, r *http.Request) error {
	return s.evidencePackage(w, r, "case", func(ev Evidence, id int64, out io.Writer) (audit.PackageManifest, error) {
		return ev.ExportCase(r.Context(), id, out)
	})
}

// deviceEvidence downloads a device's evidence package for ?period=YYYY (default: the year of today).
func (s *Server) deviceEvidence(w http.ResponseWriter, r *http.Request) error {
	period, err := intQuery(r, "period")
	if err != nil {
		return err
	}
	if period == 0 {
		period = int64(s.today(r.Context()).Time().Year())
	}
	return s.evidencePackage(w, r, fmt.Sprintf("period-%d", period), func(ev Evidence, id int64, out io.Writer) (audit.PackageManifest, error) {
		return ev.ExportDevice(r.Context(), id, int(period), out)
	})
}

func (s *Server) evidencePackage(w http.ResponseWriter, r *http.Request, what string, export func(Evidence, int64, io.Writer) (audit.PackageManifest, error)) error {
	if s.svc.Evidence == nil {
		return vigil.Errorf(vigil.EUNAVAILABLE, "evidence packages are signed with the audit key: this server runs without it (--audit-key FILE or $VIGIL_AUDIT_KEY)")
	}
	id, err := idParam(r, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	m, err := export(s.svc.Evidence, id, &buf)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("evidence-case-%d.zip", id)
	if what != "case" {
		name = fmt.Sprintf("evidence-device-%d-%s.zip", id, what)
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	h.Set("X-Vigil-Audit-Head", fmt.Sprint(m.Checkpoint.Count))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}
