package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

// The installed base: consignees (customer sites), their contact and address, and the units of each device version
// they hold with the lots or serials, as `vigil consignee create|update|delete` keep them. Notices and Part 806
// reports are addressed from it.

// consigneeRow is a consignee in the list, with its units totalled.
type consigneeRow struct {
	*vigil.Consignee
	Total int
}

// unitRow is one device version on a consignee's form: the units it holds, their lots and the day they were
// shipped, stored or as sent.
type unitRow struct {
	VersionID            int64
	Device, Version      string
	Units, Lots, Shipped string
}

type consigneesData struct {
	Consignees []consigneeRow
	Form       url.Values
}

type consigneeData struct {
	Consignee *vigil.Consignee
	Form      url.Values
	Units     []unitRow
	Reason    string
}

func (s *Server) consigneesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderConsignees(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderConsignees(w http.ResponseWriter, r *http.Request, status int, formErr string, f url.Values) error {
	cs, err := s.svc.Portfolio.Consignees(r.Context())
	if err != nil {
		return err
	}
	d := consigneesData{Form: f}
	for _, c := range cs {
		row := consigneeRow{Consignee: c}
		for _, u := range c.Units {
			row.Total += u.Units
		}
		d.Consignees = append(d.Consignees, row)
	}
	s.render(w, r, status, "consignees", page{Title: "Consignees", Nav: "consignees", Error: formErr, Data: d})
	return nil
}

func (s *Server) consigneeCreateForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	c := &vigil.Consignee{Name: strings.TrimSpace(f.Get("name")), Contact: strings.TrimSpace(f.Get("contact")), Address: strings.TrimSpace(f.Get("address"))}
	err := s.svc.Portfolio.CreateConsignee(r.Context(), c)
	if err == nil {
		return redirect(w, r, "/consignees/"+itoa(c.ID), "consignee")
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderConsignees(w, r, StatusOf(err), "The consignee was not created: "+vigil.ErrorMessage(err), f)
}

func (s *Server) pathConsignee(r *http.Request) (*vigil.Consignee, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	return s.svc.Portfolio.Consignee(r.Context(), id)
}

func (s *Server) consigneePage(w http.ResponseWriter, r *http.Request) error {
	c, err := s.pathConsignee(r)
	if err != nil {
		return err
	}
	d, err := s.storedConsignee(r, c)
	if err != nil {
		return err
	}
	return s.renderConsignee(w, r, http.StatusOK, "", d)
}

// storedConsignee is the form of a consignee as stored.
func (s *Server) storedConsignee(r *http.Request, c *vigil.Consignee) (consigneeData, error) {
	held := map[int64]vigil.ConsigneeUnit{}
	for _, u := range c.Units {
		held[u.VersionID] = u
	}
	units, err := s.unitRows(r, func(v int64) (string, string, string) {
		u, ok := held[v]
		if !ok {
			return "", "", ""
		}
		shipped := ""
		if u.Shipped != nil {
			shipped = u.Shipped.String()
		}
		return strconv.Itoa(u.Units), strings.Join(u.Lots, "; "), shipped
	})
	f := url.Values{"name": {c.Name}, "contact": {c.Contact}, "address": {c.Address}, "emails": {strings.Join(c.Emails, "\n")}}
	return consigneeData{Consignee: c, Form: f, Units: units}, err
}

// unitRows lists every device version with the units, lots and shipment day of (given its id).
func (s *Server) unitRows(r *http.Request, of func(versionID int64) (units, lots, shipped string)) ([]unitRow, error) {
	ds, err := s.svc.Portfolio.Devices(r.Context())
	if err != nil {
		return nil, err
	}
	var rows []unitRow
	for _, d := range ds {
		vs, err := s.svc.Portfolio.Versions(r.Context(), d.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			row := unitRow{VersionID: v.ID, Device: d.Name, Version: v.Version}
			row.Units, row.Lots, row.Shipped = of(v.ID)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func (s *Server) renderConsignee(w http.ResponseWriter, r *http.Request, status int, formErr string, d consigneeData) error {
	s.render(w, r, status, "consignee", page{Title: d.Consignee.Name, Nav: "consignees", Error: formErr, Data: d})
	return nil
}

func (s *Server) consigneeUpdateForm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.pathConsignee(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	shown := *c
	c.Name, c.Contact, c.Address = strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("contact")), strings.TrimSpace(f.Get("address"))
	if f.Has("emails") {
		c.Emails = lines(f.Get("emails"))
	}
	units, err := s.unitRows(r, func(v int64) (string, string, string) {
		return strings.TrimSpace(f.Get("units_" + itoa(v))), f.Get("lots_" + itoa(v)), strings.TrimSpace(f.Get("shipped_" + itoa(v)))
	})
	if err != nil {
		return err
	}
	c.Units, err = consigneeUnits(units)
	if err == nil {
		if err = s.svc.Portfolio.UpdateConsignee(r.Context(), c, f.Get("reason")); err == nil {
			return redirect(w, r, "/consignees/"+itoa(c.ID), "consignee-saved")
		}
	}
	if !formRecoverable(err) {
		return err
	}
	return s.renderConsignee(w, r, StatusOf(err), "The consignee was not saved: "+vigil.ErrorMessage(err),
		consigneeData{Consignee: &shown, Form: f, Units: units, Reason: f.Get("reason")})
}

// consigneeUnits reads the units form: a version with no units and no lots is not held; lots are separated by
// semicolons or commas.
func consigneeUnits(rows []unitRow) ([]vigil.ConsigneeUnit, error) {
	out := []vigil.ConsigneeUnit{}
	for _, row := range rows {
		if row.Units == "" && strings.TrimSpace(row.Lots) == "" && row.Shipped == "" {
			continue
		}
		field := "units (" + row.Device + " " + row.Version + ")"
		n, err := strconv.Atoi(row.Units)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "%s: %q is not a whole number", field, clipText(40, row.Units))
		}
		if n < 0 {
			return nil, vigil.Errorf(vigil.EINVALID, "%s: %d is negative", field, n)
		}
		u := vigil.ConsigneeUnit{VersionID: row.VersionID, Units: n}
		if row.Shipped != "" {
			d, err := vigil.ParseDate(row.Shipped)
			if err != nil {
				return nil, vigil.Errorf(vigil.EINVALID, "shipped (%s %s): %q is not a date (YYYY-MM-DD)", row.Device, row.Version, clipText(40, row.Shipped))
			}
			u.Shipped = &d
		}
		for _, l := range strings.FieldsFunc(row.Lots, func(r rune) bool { return r == ';' || r == ',' || r == '\n' }) {
			if l = strings.TrimSpace(l); l != "" {
				u.Lots = append(u.Lots, l)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

func (s *Server) consigneeDeleteForm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.pathConsignee(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	err = s.svc.Portfolio.DeleteConsignee(r.Context(), c.ID, r.PostFormValue("reason"))
	if err == nil {
		return redirect(w, r, "/consignees", "consignee-deleted")
	}
	if !formRecoverable(err) {
		return err
	}
	d, derr := s.storedConsignee(r, c)
	if derr != nil {
		return derr
	}
	return s.renderConsignee(w, r, StatusOf(err), "The consignee was not deleted: "+vigil.ErrorMessage(err), d)
}
