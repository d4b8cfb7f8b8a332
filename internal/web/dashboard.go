package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/service/isao"
)

// lastVisit is when the caller last marked what is new as seen (new findings are those since then), or a week ago
// when they never did or for an API token. It no longer follows sign-ins: each one had made everything "seen".
// The week starts on the hour, so that fifty dashboards a second ask the same question (its answer is cached)
// instead of one a second each.
func (s *Server) lastVisit(ctx context.Context) time.Time {
	week := s.opt.Clock.Now().Add(-7 * 24 * time.Hour).Truncate(time.Hour)
	a, ok := vigil.ActorFrom(ctx)
	if !ok || a.TokenID != 0 || s.svc.Audit == nil {
		return week
	}
	// By object (the user), which the trail indexes, rather than by actor, which it does not.
	evs, err := s.svc.Audit.Events(ctx, vigil.AuditFilter{ObjectType: "user", ObjectID: a.Name, Action: "user.seen", Limit: 1})
	if err != nil || len(evs) == 0 {
		return week
	}
	// The dashboard counts from whole seconds (its cache key); what arrived in the second of the mark was seen.
	return evs[0].Time.Truncate(time.Second).Add(time.Second)
}

// seenForm marks what is new as seen: the dashboard's "new since" starts again from now.
func (s *Server) seenForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Users.MarkSeen(r.Context()); err != nil {
		return err
	}
	return redirect(w, r, "/", "seen")
}

type dashboardData struct {
	*Overview
	// Soonest are the first clocks (the page shows a screenful; the deadlines page has them all).
	Soonest      []cases.Deadline
	Overdue      int
	Severity     barChart
	Risk         barChart
	Devices      barChart
	OverTime     lineChart
	IdentToPatch histogram
	PatchToField histogram
	PatchedPct   int
	NewLink      string
	// Cases open (and needs review), and those of them uncontrolled or not assessed yet (provisional): the case
	// queue's counts, which the tiles link to.
	Cases, CasesUncontrolled int
	Parts                    *dashboardParts
	Intake                   *intakePanel // nil when no intake service is wired in
	// GettingStarted: the portfolio has no device yet, so the page shows the first steps instead of empty charts.
	GettingStarted bool
	// ISAOAlerts are what will cost enforcement discretion's criterion 4 (lapsing memberships, §IX items without
	// evidence), before it does.
	ISAOAlerts []isao.Alert
}

// dashboardParts are the dashboard's shared panels (the clocks, the KEV list, the charts) rendered: they are the
// same for every user at one state of the portfolio (see fragments).
type dashboardParts struct {
	Clocks, KEV, Charts template.HTML
}

// dashboardClocks is how many clocks the dashboard lists, soonest (and so every overdue one) first.
const dashboardClocks = 15

var severityLabel = map[string]string{
	"catastrophic": "Catastrophic", "critical": "Critical", "serious": "Serious", "minor": "Minor", "negligible": "Negligible", "": "Not assessed",
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	since := s.lastVisit(r.Context())
	ov, err := s.svc.Queries.Overview(r.Context(), since)
	if err != nil {
		return err
	}
	if format, err := exportFormat(r); err != nil {
		return err
	} else if format != "" {
		return exportDashboard(w, r, format, ov)
	}
	d := dashboardData{Overview: ov, Soonest: ov.Clocks[:min(len(ov.Clocks), dashboardClocks)]}
	for _, c := range ov.Clocks {
		if c.Overdue {
			d.Overdue++
		}
	}
	d.NewLink = "/findings?since=" + vigil.DateOf(ov.NewSince, nil).String()
	devs, err := s.svc.Portfolio.Devices(r.Context())
	if err != nil {
		return err
	}
	d.GettingStarted = len(devs) == 0
	for _, c := range []struct {
		n *int
		q CaseQuery
	}{{&d.Cases, CaseQuery{Limit: 1}}, {&d.CasesUncontrolled, CaseQuery{Uncontrolled: true, Limit: 1}}} {
		q, err := s.svc.Queries.CaseQueue(r.Context(), c.q)
		if err != nil {
			return err
		}
		*c.n = q.Total
	}
	if d.Intake, err = s.intakePanel(r.Context()); err != nil {
		return err
	}
	if s.svc.ISAO != nil {
		if d.ISAOAlerts, err = s.svc.ISAO.Alerts(r.Context()); err != nil {
			return err
		}
	}
	if d.Parts, err = s.dashboardParts(r.Context(), &d); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Nav: "dashboard", Data: d})
	return nil
}

// dashboardParts returns the shared panels of d's revision, rendering them when the revision is new (or unnamed).
func (s *Server) dashboardParts(ctx context.Context, d *dashboardData) (*dashboardParts, error) {
	key := ""
	if d.Revision != "" {
		key = "dashboard@" + d.Revision
	}
	p, err := s.frags.get(key, func() (any, error) {
		ov := d.Overview
		d.Severity = newBarChart("Open findings by severity of patient harm", ov.BySeverity,
			func(c Count) string { return "sev-" + orUnassessed(c.Key) },
			func(c Count) string { return "" })
		d.Risk = newBarChart("Open findings by risk", ov.ByRisk,
			func(c Count) string { return "risk-" + orUnassessed(c.Key) },
			func(c Count) string { return "/findings?risk=" + url.QueryEscape(orUnassessed(c.Key)) })
		d.Devices = newBarChart("Open findings by device (uncontrolled in red)", ov.ByDevice,
			func(c Count) string { return "bar-device" },
			func(c Count) string { return "/findings?device=" + itoa(c.ID) })
		d.Devices.Legend = []legend{{"bar-device", "open"}, {"bar-uncontrolled", "uncontrolled"}}
		d.OverTime = newLineChart("Open findings over time", ov.OpenOverTime)
		d.IdentToPatch = newHistogram("Identification to patch", ov.IdentToPatch, []int{30, 60, 90, 180})
		d.PatchToField = newHistogram("Patch to field deployment", ov.PatchToField, []int{7, 30, 90})
		d.PatchedPct = pct(ov.Patched, ov.PatchTargets)
		p := &dashboardParts{}
		var err error
		if p.Clocks, err = s.execute(ctx, "dashboard", "dash-clocks", d); err != nil {
			return nil, err
		}
		if p.KEV, err = s.execute(ctx, "dashboard", "dash-kev", d); err != nil {
			return nil, err
		}
		if p.Charts, err = s.execute(ctx, "dashboard", "dash-charts", d); err != nil {
			return nil, err
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return p.(*dashboardParts), nil
}

func orUnassessed(k string) string {
	if k == "" {
		return string(vigil.RiskUnassessed)
	}
	return k
}

func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) error {
	ov, err := s.svc.Queries.Overview(r.Context(), s.lastVisit(r.Context()))
	return reply(w, http.StatusOK, ov, err)
}

// exportDashboard writes the dashboard's data: JSON whole, or one of its lists (?list=clocks|new|kev|devices) as CSV.
func exportDashboard(w http.ResponseWriter, r *http.Request, format string, ov *Overview) error {
	if format == "json" {
		return export(w, format, "dashboard", ov, table{})
	}
	list := r.URL.Query().Get("list")
	var t table
	switch list {
	case "clocks":
		t.Header = []string{"case_id", "device", "vulnerability", "clock", "due", "days_left", "overdue", "status"}
		for _, d := range ov.Clocks {
			t.Rows = append(t.Rows, []string{itoa(d.CaseID), d.Device, d.Vulnerability, d.Clock, d.Due.String(), strconv.Itoa(d.DaysLeft), strconv.FormatBool(d.Overdue), d.Status})
		}
	case "new":
		t.Header = []string{"finding_id", "vulnerability", "component", "version", "device", "device_version", "first_seen"}
		for _, f := range ov.NewFindings {
			t.Rows = append(t.Rows, []string{itoa(f.ID), f.Vulnerability, f.Component.Name, f.Component.Version, f.Device, f.Version, fmtTimeCSV(f.FirstSeen)})
		}
	case "kev":
		t.Header = []string{"vulnerability", "findings", "devices", "kev_date_added", "kev_due", "required_action"}
		for _, k := range ov.KEV {
			added, due, action := "", "", ""
			if k.KEV != nil {
				added, due, action = k.KEV.DateAdded.String(), k.KEV.DueDate.String(), k.KEV.RequiredAction
			}
			t.Rows = append(t.Rows, []string{k.Vulnerability, strconv.Itoa(k.Findings), strings.Join(k.Devices, "; "), added, due, action})
		}
	case "devices":
		t.Header = []string{"device_id", "device", "open_findings", "uncontrolled"}
		for _, c := range ov.ByDevice {
			t.Rows = append(t.Rows, []string{itoa(c.ID), c.Label, strconv.Itoa(c.N), strconv.Itoa(c.Extra)})
		}
	default:
		return vigil.Errorf(vigil.EINVALID, "list: %q is not clocks, new, kev or devices", clipText(20, list))
	}
	return export(w, format, "dashboard-"+list, nil, t)
}
