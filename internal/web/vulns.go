package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

func vulnFilter(r *http.Request) (vigil.VulnFilter, error) {
	q := r.URL.Query()
	f := vigil.VulnFilter{KEV: boolQuery(r, "kev"), Ecosystem: strings.TrimSpace(q.Get("ecosystem")), Text: strings.TrimSpace(q.Get("q"))}
	if len(f.Text) > 200 {
		return f, vigil.Errorf(vigil.EINVALID, "q: longer than 200 characters")
	}
	if v := strings.TrimSpace(q.Get("min_epss")); v != "" {
		e, err := strconv.ParseFloat(v, 64)
		if err != nil || e < 0 || e > 1 {
			return f, vigil.Errorf(vigil.EINVALID, "min_epss: %q is not a probability between 0 and 1", clipText(20, v))
		}
		f.MinEPSS = e
	}
	if v := strings.TrimSpace(q.Get("modified_since")); v != "" {
		d, err := vigil.ParseDate(v)
		if err != nil {
			return f, vigil.Errorf(vigil.EINVALID, "modified_since: %q is not a date (YYYY-MM-DD)", clipText(20, v))
		}
		f.ModifiedSince = d.Time()
	}
	limit, err := intQuery(r, "limit")
	if err != nil {
		return f, err
	}
	f.Limit = int(min(limit, 1000))
	if f.Limit == 0 {
		f.Limit = 100
	}
	return f, nil
}

type vulnsData struct {
	Available bool
	Filter    vigil.VulnFilter
	Vulns     []*vigil.Vulnerability
	Query     url.Values
}

func (s *Server) vulnsPage(w http.ResponseWriter, r *http.Request) error {
	f, err := vulnFilter(r)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	data := vulnsData{Available: s.svc.Vulns != nil, Filter: f, Vulns: []*vigil.Vulnerability{}, Query: r.URL.Query()}
	if s.svc.Vulns != nil {
		if format != "" {
			f.Limit = 10000
		}
		vs, err := s.svc.Vulns.Vulns(r.Context(), f)
		if err != nil {
			return err
		}
		if vs != nil {
			data.Vulns = vs
		}
	}
	if format != "" {
		t := table{Header: []string{"id", "aliases", "summary", "kev", "kev_due", "epss", "max_base_score", "withdrawn", "modified"}}
		for _, v := range data.Vulns {
			kev, due, epss := "", "", ""
			if v.KEV != nil {
				kev, due = "yes", v.KEV.DueDate.String()
			}
			if v.EPSS != nil {
				epss = strconv.FormatFloat(v.EPSS.Score, 'f', 5, 64)
			}
			t.Rows = append(t.Rows, []string{v.ID, strings.Join(v.Aliases, " "), v.Summary, kev, due, epss, strconv.FormatFloat(maxScore(v.Scores), 'f', 1, 64),
				strconv.FormatBool(v.Withdrawn), fmtTimeCSV(v.Modified)})
		}
		return export(w, format, "vulnerabilities", data.Vulns, t)
	}
	s.render(w, r, http.StatusOK, "vulns", page{Title: "Vulnerabilities", Nav: "vulns", Data: data})
	return nil
}

func maxScore(ss []vigil.Score) float64 {
	m := 0.0
	for _, s := range ss {
		m = max(m, s.Base)
	}
	return m
}

func (s *Server) apiVulns(w http.ResponseWriter, r *http.Request) error {
	f, err := vulnFilter(r)
	if err != nil {
		return err
	}
	out := []*vigil.Vulnerability{}
	if s.svc.Vulns != nil {
		vs, err := s.svc.Vulns.Vulns(r.Context(), f)
		if err != nil {
			return err
		}
		if vs != nil {
			out = vs
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// vulnOut is a vulnerability with the device versions it affects and why.
type vulnOut struct {
	Vulnerability *vigil.Vulnerability `json:"vulnerability"`
	Findings      []FindingRow         `json:"findings"`
}

type vulnData struct {
	ID        string
	Available bool
	Vuln      *vigil.Vulnerability
	Findings  []FindingRow
	Affected  []affectedVersion
}

// affectedVersion groups a vulnerability's findings by device version.
type affectedVersion struct {
	DeviceID  int64
	Device    string
	VersionID int64
	Version   string
	Findings  []FindingRow
}

func (s *Server) loadVuln(ctx context.Context, id string) (*vulnData, error) {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 200 {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "no such vulnerability")
	}
	d := &vulnData{ID: id, Available: s.svc.Vulns != nil, Findings: []FindingRow{}}
	ids := []string{id}
	if s.svc.Vulns != nil {
		v, err := s.svc.Vulns.Vuln(ctx, id)
		switch {
		case err == nil:
			d.Vuln = v
			d.ID = v.ID
			ids = append([]string{v.ID}, v.Aliases...)
		case vigil.ErrorCode(err) != vigil.ENOTFOUND:
			return nil, err
		}
	}
	seen := map[int64]bool{}
	names := map[int64][2]string{}
	for _, alias := range uniq(ids) {
		fs, err := s.svc.Findings.Findings(ctx, vigil.FindingFilter{Vuln: alias, States: vigil.FindingStates, Limit: 5000})
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			n, ok := names[f.VersionID]
			if !ok {
				if v, err := s.svc.Portfolio.Version(ctx, f.VersionID); err == nil {
					n[1] = v.Version
					if dev, err := s.svc.Portfolio.Device(ctx, v.DeviceID); err == nil {
						n[0] = dev.Name
					}
				}
				names[f.VersionID] = n
			}
			d.Findings = append(d.Findings, FindingRow{Finding: f, Device: n[0], Version: n[1]})
		}
	}
	if d.Vuln == nil && len(d.Findings) == 0 {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "no vulnerability %q is known, and no finding names it", clipText(80, id))
	}
	byVersion := map[int64]int{}
	for _, f := range d.Findings {
		i, ok := byVersion[f.VersionID]
		if !ok {
			i = len(d.Affected)
			byVersion[f.VersionID] = i
			d.Affected = append(d.Affected, affectedVersion{DeviceID: f.DeviceID, Device: f.Device, VersionID: f.VersionID, Version: f.Version})
		}
		d.Affected[i].Findings = append(d.Affected[i].Findings, f)
	}
	sort.SliceStable(d.Affected, func(i, j int) bool {
		if d.Affected[i].Device != d.Affected[j].Device {
			return d.Affected[i].Device < d.Affected[j].Device
		}
		return d.Affected[i].VersionID < d.Affected[j].VersionID
	})
	return d, nil
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) vulnPage(w http.ResponseWriter, r *http.Request) error {
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	d, err := s.loadVuln(r.Context(), chiParam(r, "id"))
	if err != nil {
		return err
	}
	if format != "" {
		t := table{Header: []string{"finding_id", "device", "version", "component", "component_version", "vulnerability", "state", "matcher", "range", "fixed"}}
		for _, f := range d.Findings {
			t.Rows = append(t.Rows, []string{itoa(f.ID), f.Device, f.Version, f.Component.Name, f.Component.Version, f.Vulnerability, string(f.State), f.Evidence.Matcher, f.Evidence.Range, f.Evidence.Fixed})
		}
		return export(w, format, "affected-"+d.ID, vulnOut{Vulnerability: d.Vuln, Findings: d.Findings}, t)
	}
	s.render(w, r, http.StatusOK, "vuln", page{Title: d.ID, Nav: "vulns", Data: d})
	return nil
}

func (s *Server) apiVuln(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadVuln(r.Context(), chiParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vulnOut{Vulnerability: d.Vuln, Findings: d.Findings})
	return nil
}
