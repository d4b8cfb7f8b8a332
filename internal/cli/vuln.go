package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(vulnCmd) }

func vulnCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "vuln", Short: "The merged vulnerability intelligence: one record per real-world vulnerability"}
	show := &cobra.Command{Use: "show ID", Short: "Show a vulnerability by any of its ids (CVE, GHSA, PYSEC, GO-, BIT-, a CSAF document id)",
		Example: "  vigil vuln show GHSA-jfh8-c2jp-5v3q --format json", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				v, err := a.Intel.VulnDetail(env.actx(), args[0])
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(v)
				}
				if env.Format != "table" {
					return Usage("--format: %q is not one of json, table", env.Format)
				}
				return vulnText(env, v)
			})
		}}
	var f vigil.VulnFilter
	var since string
	list := &cobra.Command{Use: "list", Short: "List vulnerabilities, most recently modified first", Args: exactArgs(0),
		Example: "  vigil vuln list --kev --min-epss 0.5\n  vigil vuln list --ecosystem PyPI --text django --since 2025-01-01",
		RunE: func(c *cobra.Command, _ []string) error {
			d, err := parseDateFlag("since", since)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				zone := env.zone(a)
				if d != nil {
					f.ModifiedSince = d.In(zone)
				}
				vs, err := a.Intel.VulnDetails(env.actx(), f)
				if err != nil {
					return err
				}
				items := make([]vulnItem, len(vs))
				for i, v := range vs {
					items[i] = listItem(v)
				}
				return env.Output(items, func() ([]string, [][]string) {
					var rows [][]string
					for _, it := range items {
						epss := ""
						if it.EPSS != nil {
							epss = strconv.FormatFloat(*it.EPSS, 'f', 4, 64)
						}
						cvss := ""
						if it.CVSS > 0 {
							cvss = strconv.FormatFloat(it.CVSS, 'f', 1, 64)
						}
						mod := ""
						if !it.Modified.IsZero() {
							mod = vigil.DateOf(it.Modified, zone).String()
						}
						rows = append(rows, []string{it.ID, cvss, epss, yesno(it.KEV), mod, strings.Join(it.Sources, ","), it.Summary})
					}
					return []string{"ID", "CVSS", "EPSS", "KEV", "MODIFIED", "SOURCES", "SUMMARY"}, rows
				})
			})
		}}
	list.Flags().BoolVar(&f.KEV, "kev", false, "only vulnerabilities in CISA's KEV catalog")
	list.Flags().Float64Var(&f.MinEPSS, "min-epss", 0, "only vulnerabilities whose latest EPSS score is at least this (0..1)")
	list.Flags().StringVar(&since, "since", "", "only vulnerabilities modified on or after this date (YYYY-MM-DD)")
	list.Flags().StringVar(&f.Ecosystem, "ecosystem", "", "only vulnerabilities affecting a package of this OSV ecosystem (PyPI, npm, Go, ...)")
	list.Flags().StringVar(&f.Text, "text", "", "only vulnerabilities whose ids, title or summary contain this text")
	list.Flags().IntVar(&f.Limit, "limit", 100, "at most this many (up to 10000)")
	cmd.AddCommand(show, list)
	return cmd
}

// vulnItem is one line of `vigil vuln list --format json`.
type vulnItem struct {
	ID        string    `json:"id"`
	Aliases   []string  `json:"aliases"`
	Summary   string    `json:"summary,omitempty"`
	Withdrawn bool      `json:"withdrawn"`
	KEV       bool      `json:"kev"`
	EPSS      *float64  `json:"epss"`
	CVSS      float64   `json:"cvss,omitempty"` // the highest base score any source gives
	Modified  time.Time `json:"modified,omitzero"`
	Sources   []string  `json:"sources"`
}

func listItem(v *vigil.VulnDetail) vulnItem {
	it := vulnItem{ID: v.ID, Aliases: v.Aliases, Summary: firstLine(v.Summary), Withdrawn: v.Withdrawn, KEV: v.KEV != nil,
		Modified: v.Modified, Sources: []string{}}
	if v.EPSS != nil {
		s := v.EPSS.Score
		it.EPSS = &s
	}
	for _, s := range v.Scores {
		if s.Base > it.CVSS {
			it.CVSS = s.Base
		}
	}
	seen := map[string]bool{}
	for _, s := range v.Sources {
		if !seen[s.Source] {
			seen[s.Source] = true
			it.Sources = append(it.Sources, s.Source)
		}
	}
	return it
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// vulnText prints a vulnerability for a person: the merged facts, then each source's scores, affected packages or
// products, and provenance.
func vulnText(env *Env, v *vigil.VulnDetail) error {
	w := env.Stdout
	fmt.Fprintf(w, "%s\n", v.ID)
	if len(v.Aliases) > 0 {
		fmt.Fprintf(w, "aliases:   %s\n", cell(strings.Join(v.Aliases, ", ")))
	}
	if v.Withdrawn {
		fmt.Fprintln(w, "WITHDRAWN by every source")
	}
	fmt.Fprintf(w, "summary:   %s\n", cell(firstLine(v.Summary)))
	if v.KEV != nil {
		fmt.Fprintf(w, "KEV:       added %s, due %s, ransomware %s: %s\n", v.KEV.DateAdded, v.KEV.DueDate, v.KEV.RansomwareUse, cell(v.KEV.RequiredAction))
	}
	if v.EPSS != nil {
		fmt.Fprintf(w, "EPSS:      %.5f (percentile %.5f) on %s\n", v.EPSS.Score, v.EPSS.Percentile, v.EPSS.Date)
	}
	fmt.Fprintln(w)
	var scores [][]string
	for _, s := range v.Scores {
		scores = append(scores, []string{s.Source, s.Type, strconv.FormatFloat(s.Base, 'f', 1, 64), s.Vector})
	}
	if len(scores) > 0 {
		if err := env.Table([]string{"SCORED BY", "TYPE", "BASE", "VECTOR"}, scores); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	var affected [][]string
	for _, a := range v.Advisories {
		for _, af := range a.Affected {
			var rs []string
			for _, r := range af.Ranges {
				var ev []string
				for _, e := range r.Events {
					switch {
					case e.Introduced != "":
						ev = append(ev, ">="+e.Introduced)
					case e.Fixed != "":
						ev = append(ev, "<"+e.Fixed)
					case e.LastAffected != "":
						ev = append(ev, "<="+e.LastAffected)
					case e.Limit != "":
						ev = append(ev, "limit "+e.Limit)
					}
				}
				rs = append(rs, strings.Join(ev, " "))
			}
			affected = append(affected, []string{a.Source + ":" + a.ID, af.Ecosystem, af.Name, strings.Join(rs, "; ")})
		}
		for _, p := range a.Products {
			ver := p.Version
			if p.VersionRange != "" {
				ver = p.VersionRange
			}
			affected = append(affected, []string{a.Source + ":" + a.Document, p.Vendor, p.Name, p.Status + " " + ver})
		}
		for _, cfg := range a.Configurations {
			for _, n := range cfg.Nodes {
				for _, m := range n.Matches {
					if m.Vulnerable {
						affected = append(affected, []string{a.Source + ":" + a.ID, "cpe", m.Criteria, cpeBounds(m)})
					}
				}
			}
		}
	}
	if len(affected) > 0 {
		if err := env.Table([]string{"ADVISORY", "ECOSYSTEM/VENDOR", "PACKAGE/PRODUCT", "AFFECTED"}, affected); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	var srcs [][]string
	for _, s := range v.Sources {
		id := s.ID
		if s.Document != "" {
			id = s.Document + " " + s.ID
		}
		where := s.File
		if s.URL != "" {
			where = s.URL
		}
		srcs = append(srcs, []string{s.Source, id, strconv.Itoa(s.Revision), s.FetchedAt.Format(time.RFC3339), where, s.Digest[:min(16, len(s.Digest))]})
	}
	return env.Table([]string{"SOURCE", "ADVISORY", "REVISION", "FETCHED", "FROM", "SHA-256"}, srcs)
}

func cpeBounds(m vigil.CPEMatch) string {
	var b []string
	if m.VersionStartIncluding != "" {
		b = append(b, ">="+m.VersionStartIncluding)
	}
	if m.VersionStartExcluding != "" {
		b = append(b, ">"+m.VersionStartExcluding)
	}
	if m.VersionEndIncluding != "" {
		b = append(b, "<="+m.VersionEndIncluding)
	}
	if m.VersionEndExcluding != "" {
		b = append(b, "<"+m.VersionEndExcluding)
	}
	return strings.Join(b, " ")
}
