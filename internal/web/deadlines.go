package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

func deadlineFilter(r *http.Request) (cases.DeadlineFilter, error) {
	f := cases.DeadlineFilter{OverdueOnly: boolQuery(r, "overdue")}
	within, err := intQuery(r, "within")
	if err != nil {
		return f, err
	}
	if within > 3650 {
		return f, vigil.Errorf(vigil.EINVALID, "within: at most 3650 days")
	}
	f.Within = int(within)
	if f.AsOf, err = dateQuery(r, "as_of"); err != nil {
		return f, err
	}
	f.DeviceID, err = intQuery(r, "device")
	return f, err
}

// month is one month of the deadlines calendar.
type month struct {
	Title string
	Weeks [][]day
}

type day struct {
	Date      vigil.Date
	InMonth   bool
	Today     bool
	Past      bool
	Deadlines []cases.Deadline
}

type deadlinesData struct {
	Filter    cases.DeadlineFilter
	Today     vigil.Date
	Deadlines []cases.Deadline
	Overdue   []cases.Deadline
	Later     []cases.Deadline // due after the months the calendar shows
	Months    []month
	Devices   []*vigil.Device
	Query     url.Values
}

// calendar lays out months months from today's, Monday first, with each deadline on its due date.
func calendar(today vigil.Date, ds []cases.Deadline, months int) (out []month, later []cases.Deadline) {
	byDay := map[string][]cases.Deadline{}
	first := vigil.NewDate(today.Time().Year(), today.Time().Month(), 1)
	end := vigil.NewDate(first.Time().Year(), first.Time().Month()+time.Month(months), 1)
	for _, d := range ds {
		switch {
		case d.Due.Before(today):
		case d.Due.Before(end):
			byDay[d.Due.String()] = append(byDay[d.Due.String()], d)
		default:
			later = append(later, d)
		}
	}
	for m := 0; m < months; m++ {
		start := vigil.NewDate(first.Time().Year(), first.Time().Month()+time.Month(m), 1)
		mo := month{Title: start.Time().Format("January 2006")}
		// Back up to the Monday on or before the first of the month.
		off := (int(start.Weekday()) + 6) % 7
		d := start.AddDays(-off)
		for {
			var week []day
			for i := 0; i < 7; i++ {
				week = append(week, day{Date: d, InMonth: d.Time().Month() == start.Time().Month(), Today: d.Equal(today), Past: d.Before(today), Deadlines: byDay[d.String()]})
				d = d.AddDays(1)
			}
			mo.Weeks = append(mo.Weeks, week)
			if d.Time().Month() != start.Time().Month() {
				break
			}
		}
		out = append(out, mo)
	}
	return out, later
}

func (s *Server) deadlinesPage(w http.ResponseWriter, r *http.Request) error {
	f, err := deadlineFilter(r)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	ds, err := s.deadlines(r.Context(), f)
	if err != nil {
		return err
	}
	if format != "" {
		t := table{Header: []string{"case_id", "device", "vulnerability", "clock", "due", "days_left", "overdue", "status", "what"}}
		for _, d := range ds {
			t.Rows = append(t.Rows, []string{itoa(d.CaseID), d.Device, d.Vulnerability, d.Clock, d.Due.String(), strconv.Itoa(d.DaysLeft),
				strconv.FormatBool(d.Overdue), d.Status, d.What})
		}
		return export(w, format, "deadlines", ds, t)
	}
	today := f.AsOf
	if today.IsZero() {
		today = s.today(r.Context())
	}
	data := deadlinesData{Filter: f, Today: today, Deadlines: ds, Query: r.URL.Query()}
	for _, d := range ds {
		if d.Overdue {
			data.Overdue = append(data.Overdue, d)
		}
	}
	data.Months, data.Later = calendar(today, ds, 3)
	if data.Devices, err = s.svc.Portfolio.Devices(r.Context()); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "deadlines", page{Title: "Deadlines", Nav: "deadlines", Data: data})
	return nil
}

func (s *Server) apiDeadlines(w http.ResponseWriter, r *http.Request) error {
	f, err := deadlineFilter(r)
	if err != nil {
		return err
	}
	ds, err := s.deadlines(r.Context(), f)
	return reply(w, http.StatusOK, ds, err)
}

// deadlines lists every open clock, the intake reports' acknowledgements and the 806 amendments included, soonest
// first.
func (s *Server) deadlines(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error) {
	ds, err := s.svc.Queries.Deadlines(ctx, f)
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []cases.Deadline{}
	}
	for _, more := range s.svc.MoreDeadlines {
		more, err := more(ctx, f)
		if err != nil {
			return nil, err
		}
		ds = append(ds, more...)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Due.Before(ds[j].Due) })
	return ds, nil
}

// deadlineLink is where a deadline's row leads: its report (an acknowledgement clock) or its case's clocks.
func deadlineLink(d cases.Deadline) string {
	if d.Report != "" {
		if id, err := vigil.ParseReportNumber(d.Report); err == nil {
			return "/intake/" + itoa(id)
		}
	}
	return "/cases/" + itoa(d.CaseID) + "#clocks"
}
