package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// The organization's ISAO memberships (G2016 §IX: the ISAO and the objective evidence of each of the four criteria),
// edited on the settings page as `vigil org update --isaos FILE` sets them: the whole list is saved at once through
// PortfolioService.UpdateOrg, with a reason, so the audit trail holds the list before and after.

// isaoRow is one membership as the form holds it.
type isaoRow struct {
	Name, Since string
	Criteria    [4]string
}

// isaoForm is the memberships form: the rows and the reason, stored or as sent.
type isaoForm struct {
	Rows     []isaoRow
	Reason   string
	Criteria [4]string
}

// isaoCriteria label the four G2016 §IX criteria a membership's evidence answers.
var isaoCriteria = [4]string{
	"1. member of an ISAO that shares medical-device vulnerabilities and threats",
	"2. the ISAO's documented policies (participant agreement, operations, privacy)",
	"3. vulnerability information shared with it, customer communications included",
	"4. documented processes to assess and respond to its threat intelligence",
}

// storedISAOs is the form of the stored memberships, with one empty row to add one.
func storedISAOs(o *vigil.Organization) *isaoForm {
	f := &isaoForm{}
	for _, m := range o.ISAOs {
		f.Rows = append(f.Rows, isaoRow{Name: m.Name, Since: m.Since.String(), Criteria: m.Criteria})
	}
	f.Rows = append(f.Rows, isaoRow{})
	return f
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

// memberships turns the rows into the organization's list: a row ticked for removal, and an empty row, are left
// out; the rest are checked by the service.
func memberships(rows []isaoRow, remove []string) ([]vigil.ISAOMembership, error) {
	out := []vigil.ISAOMembership{}
	for i, r := range rows {
		if contains(remove, strconv.Itoa(i)) || r == (isaoRow{}) {
			continue
		}
		m := vigil.ISAOMembership{Name: r.Name, Criteria: r.Criteria}
		if r.Since != "" {
			d, err := vigil.ParseDate(r.Since)
			if err != nil {
				return nil, vigil.Errorf(vigil.EINVALID, "isaos[%d].since: %q is not a date (YYYY-MM-DD)", len(out), clipText(40, r.Since))
			}
			m.Since = d
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *Server) isaosForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, err := s.theOrg(r)
	if err != nil {
		return err
	}
	rows := isaoFormRows(r.PostForm)
	o.ISAOs, err = memberships(rows, r.PostForm["isao_remove"])
	if err == nil {
		if err = s.svc.Portfolio.UpdateOrg(r.Context(), o, r.PostFormValue("reason")); err == nil {
			return redirect(w, r, "/settings#isaos", "isaos")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderSettings(w, r, StatusOf(err), page{Error: "The ISAO memberships were not saved: " + vigil.ErrorMessage(err)}, nil,
		&isaoForm{Rows: rows, Reason: r.PostFormValue("reason")})
}
