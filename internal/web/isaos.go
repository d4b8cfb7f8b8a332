package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/service/isao"
)

// The organization's ISAO memberships (G2016 §IX: the ISAO and the objective evidence of each of the four items),
// edited on the settings page through the ISAO service: each row sets a membership's name and start (a new name is
// a new membership), each evidence field a note document of its item when it is not one already, and a row ticked
// for removal ends the membership yesterday (memberships and their evidence are records: they end, they are not
// deleted). Documents with files, a device line's own memberships, dates of renewal and the TAXII endpoint are on
// the ISAO screens (isao.go) and `vigil isao set|document`.

// ISAO is the ISAO participation service (internal/service/isao).
type ISAO interface {
	Memberships(ctx context.Context) ([]vigil.ISAOMembership, error)
	Set(ctx context.Context, in isao.SetInput) (*vigil.ISAOMembership, error)
	AddDocument(ctx context.Context, name, device string, d *vigil.ISAODocument, reason string) error
	Today(ctx context.Context) vigil.Date
	Alerts(ctx context.Context) ([]isao.Alert, error)
	Shares(ctx context.Context, name string, caseID int64) ([]*vigil.ISAOShare, error)
	Signals(ctx context.Context, name string, caseID int64) ([]*vigil.ISAOSignal, error)
	Evidence(ctx context.Context, name, device string, from, to vigil.Date) (*isao.ParticipationEvidence, error)
	Share(ctx context.Context, in isao.ShareInput) (*isao.ShareResult, error)
	ShareNotice(ctx context.Context, in isao.NoticeShareInput) (*isao.ShareResult, error)
	RefreshPending(ctx context.Context) ([]*vigil.ISAOShare, error)
	MembershipByID(ctx context.Context, id int64) (*vigil.ISAOMembership, error)
	Document(ctx context.Context, id int64) (*vigil.ISAODocument, error)
	Cite(ctx context.Context, assessmentID int64, signalIDs []int64, reason string) error
	Poll(ctx context.Context, name, cursor string) (*isao.Intake, error)
	ImportSTIX(ctx context.Context, name, file string, r io.Reader) (*isao.Intake, error)
}

// isaoRow is one membership as the form holds it.
type isaoRow struct {
	Name, Since string
	Criteria    [4]string
	Evidenced   bool
}

// isaoForm is the memberships form: the rows and the reason, stored or as sent.
type isaoForm struct {
	Rows     []isaoRow
	Reason   string
	Criteria [4]string
}

// isaoCriteria label the four G2016 §IX items a membership's evidence answers.
var isaoCriteria = [4]string{
	"1. member of an ISAO that shares medical-device vulnerabilities and threats",
	"2. the ISAO's documented policies (participant agreement, operations, privacy)",
	"3. vulnerability information shared with it, customer communications included",
	"4. documented processes to assess and respond to its threat intelligence",
}

// storedISAOs is the form of the organization's memberships in force today (each item's latest document title),
// with one empty row to add one.
func (s *Server) storedISAOs(r *http.Request) (*isaoForm, error) {
	f := &isaoForm{}
	if s.svc.ISAO == nil {
		return f, nil
	}
	ms, err := s.svc.ISAO.Memberships(r.Context())
	if err != nil {
		return nil, err
	}
	today := s.svc.ISAO.Today(r.Context())
	for _, m := range ms {
		if m.DeviceID != 0 || !m.Active(today) {
			continue
		}
		row := isaoRow{Name: m.Name, Evidenced: m.Evidenced(today)}
		if !m.Since.IsZero() {
			row.Since = m.Since.String()
		}
		for _, d := range m.Documents {
			row.Criteria[d.Item-1] = d.Title
		}
		f.Rows = append(f.Rows, row)
	}
	f.Rows = append(f.Rows, isaoRow{})
	return f, nil
}

// isaoFormRows reads the rows as sent: the fields repeat once per row, in order.
func isaoFormRows(f url.Values) []isaoRow {
	names := f["isao_name"]
	rows := make([]isaoRow, len(names))
	at := func(key string, i int) string {
		if vs := f[key]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	for i := range rows {
		rows[i] = isaoRow{Name: at("isao_name", i), Since: at("isao_since", i)}
		for c := range rows[i].Criteria {
			rows[i].Criteria[c] = at("isao_c"+strconv.Itoa(c+1), i)
		}
	}
	return rows
}

// isaoChange is one row's change, checked before any is applied.
type isaoChange struct {
	row    isaoRow
	since  *vigil.Date
	remove bool
}

func isaoChanges(rows []isaoRow, remove []string) ([]isaoChange, error) {
	var out []isaoChange
	for i, r := range rows {
		rm := contains(remove, strconv.Itoa(i))
		if r == (isaoRow{}) {
			continue
		}
		if r.Name == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "isaos[%d].name: required", len(out))
		}
		c := isaoChange{row: r, remove: rm}
		if r.Since != "" {
			d, err := vigil.ParseDate(r.Since)
			if err != nil {
				return nil, vigil.Errorf(vigil.EINVALID, "isaos[%d].since: %q is not a date (YYYY-MM-DD)", len(out), clipText(40, r.Since))
			}
			c.since = &d
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Server) applyISAOs(r *http.Request, changes []isaoChange, reason string) error {
	ctx := r.Context()
	today := s.svc.ISAO.Today(ctx)
	for _, c := range changes {
		if c.remove {
			end := today.AddDays(-1)
			if _, err := s.svc.ISAO.Set(ctx, isao.SetInput{Name: c.row.Name, Until: &end, Reason: reason}); err != nil {
				return err
			}
			continue
		}
		m, err := s.svc.ISAO.Set(ctx, isao.SetInput{Name: c.row.Name, Since: c.since, Reason: reason})
		if err != nil {
			return err
		}
		for item, text := range c.row.Criteria {
			if text == "" || hasDocument(m, item+1, text) {
				continue
			}
			d := &vigil.ISAODocument{Item: item + 1, Kind: vigil.DocNote, Title: vigil.Clip(vigil.MaxName, text), Content: []byte(text)}
			if err := s.svc.ISAO.AddDocument(ctx, m.Name, "", d, reason); err != nil {
				return vigil.Errorf(vigil.ErrorCode(err), "%s: §IX item %d: %s", m.Name, item+1, vigil.ErrorMessage(err))
			}
		}
	}
	return nil
}

func hasDocument(m *vigil.ISAOMembership, item int, title string) bool {
	for _, d := range m.Documents {
		if d.Item == item && d.Title == title {
			return true
		}
	}
	return false
}

func (s *Server) isaosForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if s.svc.ISAO == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "ISAO memberships are not served here")
	}
	rows := isaoFormRows(r.PostForm)
	changes, err := isaoChanges(rows, r.PostForm["isao_remove"])
	if err == nil {
		if err = s.applyISAOs(r, changes, r.PostFormValue("reason")); err == nil {
			return redirect(w, r, "/settings#isaos", "isaos")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderSettings(w, r, StatusOf(err), page{Error: "The ISAO memberships were not saved: " + vigil.ErrorMessage(err)}, nil,
		&isaoForm{Rows: rows, Reason: r.PostFormValue("reason")})
}
