// Package nvd parses NVD CVE API 2.0 JSON into vigil.Advisory values: API response pages, the multi-CVE feed files
// NVD publishes in the same shape (nvdcve-2.0-2024.json), and bare cve objects (as fkie-cad's mirror stores them).
// A page is streamed one vulnerability at a time, each bounded on its own, so a yearly feed file of several
// hundred megabytes never sits in memory whole; the page envelope (totalResults, startIndex, resultsPerPage) is
// returned so that an incremental fetcher can page.
//
// Mapping: the English description (else the first) becomes Details; cisaVulnerabilityName, when NVD copied it from
// KEV, becomes Title; every CVSS v2/v3.0/v3.1/v4.0 metric becomes a Score with its source and Primary/Secondary
// type (v4.0 first, then 3.1, 3.0, 2); weaknesses become CWEs (CWE-n only: NVD-CWE-Other and NVD-CWE-noinfo say
// nothing); references are merged by URL, their tags joined with ", " as the Type; vulnStatus "Rejected" sets
// Withdrawn to lastModified; configurations are kept whole as []vigil.CPEConfig.
//
// Rejected (EINVALID naming the file and the JSON path, e.g. vulnerabilities[3].cve.configurations[0].nodes[1]
// .cpeMatch[2].criteria): malformed JSON, a value of the wrong type, an id that is not CVE-YYYY-N, an unparsable
// timestamp, a node operator other than AND/OR, a cpeMatch without criteria, with criteria that is not a CPE 2.3
// name, or without "vulnerable", a base score outside 0..10, a page whose format is not NVD_CVE or whose version
// is not 2.x. A bad vulnerability inside a page is skipped and counted (*feed.Rejects after the others are
// delivered); a broken page structure stops the read. Unknown fields are ignored, as are metric entries without a
// vector string.
package nvd

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Page is the envelope of an API response or feed file.
type Page struct {
	ResultsPerPage int       `json:"resultsPerPage"`
	StartIndex     int       `json:"startIndex"`
	TotalResults   int       `json:"totalResults"`
	Format         string    `json:"format"`  // NVD_CVE
	Version        string    `json:"version"` // 2.0
	Timestamp      time.Time `json:"timestamp"`
	// Vulnerabilities is how many entries the page held (valid or not).
	Vulnerabilities int `json:"-"`
}

// Next returns the startIndex of the page after p and whether there is one: NVD's resultsPerPage is the number
// of results this page returned (the entries counted when the member is missing).
func (p Page) Next() (int, bool) {
	step := p.ResultsPerPage
	if step <= 0 {
		step = p.Vulnerabilities
	}
	n := p.StartIndex + step
	return n, step > 0 && n < p.TotalResults
}

// cve is the part of NVD's cve object Vigil reads.
type cve struct {
	ID                    string `json:"id"`
	SourceIdentifier      string `json:"sourceIdentifier"`
	Published             string `json:"published"`
	LastModified          string `json:"lastModified"`
	VulnStatus            string `json:"vulnStatus"`
	CISAVulnerabilityName string `json:"cisaVulnerabilityName"`
	Descriptions          []struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	} `json:"descriptions"`
	Metrics struct {
		V40 []metric `json:"cvssMetricV40"`
		V31 []metric `json:"cvssMetricV31"`
		V30 []metric `json:"cvssMetricV30"`
		V2  []metric `json:"cvssMetricV2"`
	} `json:"metrics"`
	Weaknesses []struct {
		Description []struct {
			Value string `json:"value"`
		} `json:"description"`
	} `json:"weaknesses"`
	Configurations []struct {
		Operator string `json:"operator"`
		Negate   bool   `json:"negate"`
		Nodes    []struct {
			Operator string `json:"operator"`
			Negate   bool   `json:"negate"`
			CPEMatch []struct {
				Vulnerable            *bool  `json:"vulnerable"`
				Criteria              string `json:"criteria"`
				VersionStartIncluding string `json:"versionStartIncluding"`
				VersionStartExcluding string `json:"versionStartExcluding"`
				VersionEndIncluding   string `json:"versionEndIncluding"`
				VersionEndExcluding   string `json:"versionEndExcluding"`
			} `json:"cpeMatch"`
		} `json:"nodes"`
	} `json:"configurations"`
	References []struct {
		URL  string   `json:"url"`
		Tags []string `json:"tags"`
	} `json:"references"`
}

type metric struct {
	Source   string `json:"source"`
	Type     string `json:"type"`
	CVSSData struct {
		Version      string   `json:"version"`
		VectorString string   `json:"vectorString"`
		BaseScore    *float64 `json:"baseScore"`
	} `json:"cvssData"`
}

// Parse reads an API response page or feed file, or a bare cve object, from r and calls fn with each CVE in
// document order. It returns the page envelope (zero for a bare cve object). Errors from fn stop the read and are
// returned as they are. See the package comment for what is rejected.
func Parse(name string, r io.Reader, lim untrusted.Limits, fn func(a vigil.Advisory) error) (Page, error) {
	lim = lim.WithDefaults()
	s := feed.NewStream(name, untrusted.LimitReader(name, r, lim.MaxFileSize, nil), lim)
	var page Page
	rejects := &feed.Rejects{Name: name}
	sawVulns := false
	// Members other than "vulnerabilities" are kept (bounded) in case the document is a bare cve object.
	var other []string
	var otherSize int64
	err := s.Members(func(key string) error {
		if key == "vulnerabilities" {
			if sawVulns {
				return untrusted.Invalid(name, "vulnerabilities", "appears twice")
			}
			sawVulns = true
			return vulnerabilities(s, name, lim, &page, rejects, fn)
		}
		line := s.Line()
		raw, err := s.Value()
		if err != nil {
			return err
		}
		if !json.Valid(raw) {
			return untrusted.Invalid(name, key, "line %d: malformed JSON", line)
		}
		if otherSize += int64(len(raw)); otherSize > lim.MaxRecordSize {
			return untrusted.Invalid(name, "", "larger than the limit of %d bytes for one record", lim.MaxRecordSize)
		}
		qkey, err := json.Marshal(key)
		if err != nil {
			return untrusted.Invalid(name, "", "line %d: key %q: %v", line, key, err)
		}
		other = append(other, string(qkey)+":"+string(raw))
		return envelope(name, key, raw, &page)
	})
	if err != nil {
		return page, err
	}
	if err := s.End(); err != nil {
		return page, err
	}
	if !sawVulns {
		doc := []byte("{" + strings.Join(other, ",") + "}")
		var c cve
		if err := json.Unmarshal(doc, &c); err != nil {
			return page, untrusted.JSONError(name, "", doc, err)
		}
		if c.ID == "" {
			return page, untrusted.Invalid(name, "", "neither an NVD API 2.0 page (vulnerabilities) nor a cve object (id)")
		}
		a, err := c.advisory(name, "")
		if err != nil {
			return page, err
		}
		return page, fn(a)
	}
	return page, rejects.Err()
}

// envelope reads one page-level member into page, checking format and version.
func envelope(name, key string, raw []byte, page *Page) error {
	var dst any
	switch key {
	case "resultsPerPage":
		dst = &page.ResultsPerPage
	case "startIndex":
		dst = &page.StartIndex
	case "totalResults":
		dst = &page.TotalResults
	case "format":
		dst = &page.Format
	case "version":
		dst = &page.Version
	case "timestamp":
		var ts string
		if err := json.Unmarshal(raw, &ts); err != nil {
			return untrusted.Invalid(name, key, "want a timestamp string")
		}
		t, err := parseTime(ts)
		if err != nil {
			return untrusted.Invalid(name, key, "%v", err)
		}
		page.Timestamp = t
		return nil
	default:
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return untrusted.Invalid(name, key, "got %.40s, want %s", raw, map[bool]string{true: "a string", false: "an integer"}[key == "format" || key == "version"])
	}
	switch {
	case key == "format" && page.Format != "NVD_CVE":
		return untrusted.Invalid(name, key, "%q is not NVD_CVE (the CVE API)", page.Format)
	case key == "version" && !strings.HasPrefix(page.Version, "2."):
		return untrusted.Invalid(name, key, "%q is not API version 2.x", page.Version)
	}
	return nil
}

// vulnerabilities streams the elements of the page's vulnerabilities array.
func vulnerabilities(s *feed.Stream, name string, lim untrusted.Limits, page *Page, rejects *feed.Rejects, fn func(vigil.Advisory) error) error {
	return s.Elements("vulnerabilities", lim.MaxRecords, func(i, line int, raw []byte) error {
		page.Vulnerabilities++
		path := "vulnerabilities[" + strconv.Itoa(i) + "]"
		var v struct {
			CVE *cve `json:"cve"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			rejects.Add(untrusted.JSONErrorAt(name, path, raw, err, line))
			return nil
		}
		if v.CVE == nil {
			rejects.Add(untrusted.Invalid(name, path+".cve", "required"))
			return nil
		}
		a, err := v.CVE.advisory(name, path+".cve")
		if err != nil {
			rejects.Add(err)
			return nil
		}
		return fn(a)
	})
}

// ParseCVE parses one bare cve object held in b.
func ParseCVE(name string, b []byte, lim untrusted.Limits) (vigil.Advisory, error) {
	lim = lim.WithDefaults()
	if int64(len(b)) > lim.MaxRecordSize {
		return vigil.Advisory{}, untrusted.Invalid(name, "", "larger than the limit of %d bytes", lim.MaxRecordSize)
	}
	if err := untrusted.CheckJSON(name, b, lim); err != nil {
		return vigil.Advisory{}, err
	}
	var c cve
	if err := json.Unmarshal(b, &c); err != nil {
		return vigil.Advisory{}, untrusted.JSONError(name, "", b, err)
	}
	return c.advisory(name, "")
}

var cveID = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// parseTime parses NVD's timestamps, which carry no zone ("2022-07-11T13:15:08.503", UTC), or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
	}
	return t.UTC(), nil
}

func (c *cve) advisory(name, base string) (vigil.Advisory, error) {
	at := func(p string) string { return untrusted.JoinPath(base, p) }
	bad := func(p, format string, args ...any) (vigil.Advisory, error) {
		return vigil.Advisory{}, untrusted.Invalid(name, at(p), format, args...)
	}
	if !cveID.MatchString(c.ID) {
		return bad("id", "%q is not a CVE id (CVE-YYYY-NNNN)", c.ID)
	}
	a := vigil.Advisory{Source: vigil.SourceNVD, ID: c.ID, Title: c.CISAVulnerabilityName}
	var err error
	if c.Published != "" {
		if a.Published, err = parseTime(c.Published); err != nil {
			return bad("published", "%v", err)
		}
	}
	if c.LastModified != "" {
		if a.Modified, err = parseTime(c.LastModified); err != nil {
			return bad("lastModified", "%v", err)
		}
	}
	if c.VulnStatus == "Rejected" {
		a.Withdrawn = a.Modified
		if a.Withdrawn.IsZero() {
			a.Withdrawn = a.Published
		}
		if a.Withdrawn.IsZero() {
			a.Withdrawn = time.Unix(0, 0).UTC()
		}
	}
	for _, d := range c.Descriptions {
		if d.Lang == "en" {
			a.Details = d.Value
			break
		}
	}
	if a.Details == "" && len(c.Descriptions) > 0 {
		a.Details = c.Descriptions[0].Value
	}
	for _, m := range []struct {
		key     string
		metrics []metric
	}{{"cvssMetricV40", c.Metrics.V40}, {"cvssMetricV31", c.Metrics.V31}, {"cvssMetricV30", c.Metrics.V30}, {"cvssMetricV2", c.Metrics.V2}} {
		for i, x := range m.metrics {
			if x.CVSSData.VectorString == "" {
				continue
			}
			s := vigil.Score{Source: x.Source, Type: x.Type, Vector: x.CVSSData.VectorString}
			if x.CVSSData.BaseScore != nil {
				s.Base = *x.CVSSData.BaseScore
				if s.Base < 0 || s.Base > 10 {
					return bad(fmt.Sprintf("metrics.%s[%d].cvssData.baseScore", m.key, i), "%v is outside 0..10", s.Base)
				}
			}
			a.Scores = append(a.Scores, s)
		}
	}
	for _, w := range c.Weaknesses {
		for _, d := range w.Description {
			if strings.HasPrefix(d.Value, "CWE-") && !slices.Contains(a.CWEs, d.Value) {
				a.CWEs = append(a.CWEs, d.Value)
			}
		}
	}
	for _, r := range c.References {
		if r.URL == "" {
			continue
		}
		if k := slices.IndexFunc(a.References, func(x vigil.Reference) bool { return x.URL == r.URL }); k >= 0 {
			a.References[k].Type = mergeTags(a.References[k].Type, r.Tags)
			continue
		}
		a.References = append(a.References, vigil.Reference{URL: r.URL, Type: mergeTags("", r.Tags)})
	}
	for i, cfg := range c.Configurations {
		cp := fmt.Sprintf("configurations[%d]", i)
		switch cfg.Operator {
		case "", "AND", "OR":
		default:
			return bad(cp+".operator", "%q is not AND or OR", cfg.Operator)
		}
		out := vigil.CPEConfig{Operator: cfg.Operator, Negate: cfg.Negate, Nodes: make([]vigil.CPENode, len(cfg.Nodes))}
		if len(cfg.Nodes) == 0 {
			return bad(cp+".nodes", "a configuration needs at least one node")
		}
		for j, n := range cfg.Nodes {
			np := fmt.Sprintf("%s.nodes[%d]", cp, j)
			if n.Operator != "AND" && n.Operator != "OR" {
				return bad(np+".operator", "%q is not AND or OR", n.Operator)
			}
			node := vigil.CPENode{Operator: n.Operator, Negate: n.Negate, Matches: make([]vigil.CPEMatch, len(n.CPEMatch))}
			for k, m := range n.CPEMatch {
				mp := fmt.Sprintf("%s.cpeMatch[%d]", np, k)
				if m.Criteria == "" {
					return bad(mp+".criteria", "required")
				}
				if !isCPE23(m.Criteria) {
					return bad(mp+".criteria", "%q is not a CPE 2.3 formatted string", m.Criteria)
				}
				if m.Vulnerable == nil {
					return bad(mp+".vulnerable", "required")
				}
				node.Matches[k] = vigil.CPEMatch{
					Vulnerable: *m.Vulnerable, Criteria: m.Criteria,
					VersionStartIncluding: m.VersionStartIncluding, VersionStartExcluding: m.VersionStartExcluding,
					VersionEndIncluding: m.VersionEndIncluding, VersionEndExcluding: m.VersionEndExcluding,
				}
			}
			out.Nodes[j] = node
		}
		a.Configurations = append(a.Configurations, out)
	}
	return a, nil
}

// mergeTags adds tags to a ", "-joined list without repeating any.
func mergeTags(have string, tags []string) string {
	var list []string
	if have != "" {
		list = strings.Split(have, ", ")
	}
	for _, t := range tags {
		if t != "" && !slices.Contains(list, t) {
			list = append(list, t)
		}
	}
	return strings.Join(list, ", ")
}

// isCPE23 checks the shape of a CPE 2.3 formatted string: "cpe:2.3:" and 13 colon-separated parts (escaped colons
// do not separate). Parsing the parts is internal/cpe's job; this only refuses what cannot be a CPE at all.
func isCPE23(s string) bool {
	if !strings.HasPrefix(s, "cpe:2.3:") {
		return false
	}
	parts := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ':':
			parts++
		}
	}
	return parts == 13
}
