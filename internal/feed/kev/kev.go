// Package kev parses CISA's Known Exploited Vulnerabilities catalog, in its JSON form (with catalogVersion and
// dateReleased) and its CSV form (the same entries, one row each), into vigil.KEVEntry values. Both forms of the
// same catalog give identical entries: CSV's "CWE-59, CWE-436" becomes the same list as JSON's array, and empty
// lists are nil in both.
//
// Rejected: malformed JSON or CSV, a CSV header missing a column, a catalog whose count disagrees with its entries
// (a truncated download), and per entry a cveID that is not CVE-YYYY-N, or a dateAdded or dueDate that is not a
// YYYY-MM-DD date. A bad entry is skipped and counted: the valid entries are returned together with a
// *feed.Rejects (EINVALID) naming each bad one by vulnerabilities[i] or CSV line. Accepted leniently: unknown
// fields and columns, any knownRansomwareCampaignUse text (CISA says Known or Unknown today), empty text fields.
package kev

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Catalog is one KEV catalog. Title, Version, Released and Count come from the JSON form only.
type Catalog struct {
	Title    string           `json:"title,omitempty"`
	Version  string           `json:"catalog_version,omitempty"` // 2025.08.25
	Released time.Time        `json:"date_released,omitzero"`
	Count    int              `json:"count"` // entries the catalog says it holds (JSON), or rows read (CSV)
	Entries  []vigil.KEVEntry `json:"entries"`
}

// entry is one catalog entry as CISA writes it, in both forms.
type entry struct {
	CVE            string   `json:"cveID"`
	Vendor         string   `json:"vendorProject"`
	Product        string   `json:"product"`
	Name           string   `json:"vulnerabilityName"`
	DateAdded      string   `json:"dateAdded"`
	Description    string   `json:"shortDescription"`
	RequiredAction string   `json:"requiredAction"`
	DueDate        string   `json:"dueDate"`
	RansomwareUse  string   `json:"knownRansomwareCampaignUse"`
	Notes          string   `json:"notes"`
	CWEs           []string `json:"cwes"`
}

var cveID = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

func (e *entry) convert() (vigil.KEVEntry, string, error) {
	if !cveID.MatchString(e.CVE) {
		return vigil.KEVEntry{}, "cveID", fmt.Errorf("%q is not a CVE id (CVE-YYYY-NNNN)", e.CVE)
	}
	added, err := vigil.ParseDate(e.DateAdded)
	if err != nil || added.IsZero() {
		return vigil.KEVEntry{}, "dateAdded", fmt.Errorf("%q is not a YYYY-MM-DD date", e.DateAdded)
	}
	due, err := vigil.ParseDate(e.DueDate)
	if err != nil || due.IsZero() {
		return vigil.KEVEntry{}, "dueDate", fmt.Errorf("%q is not a YYYY-MM-DD date", e.DueDate)
	}
	var cwes []string
	for _, c := range e.CWEs {
		if c = strings.TrimSpace(c); c != "" {
			cwes = append(cwes, c)
		}
	}
	return vigil.KEVEntry{
		CVE: e.CVE, Vendor: e.Vendor, Product: e.Product, Name: e.Name, DateAdded: added,
		Description: e.Description, RequiredAction: e.RequiredAction, DueDate: due,
		RansomwareUse: e.RansomwareUse, Notes: e.Notes, CWEs: cwes,
	}, "", nil
}

// Parse reads either form, told apart by the first non-space byte ('{' is JSON).
func Parse(name string, r io.Reader, lim untrusted.Limits) (Catalog, error) {
	lim = lim.WithDefaults()
	br := bytesPeeker(r)
	head, err := br.peek(512)
	if err != nil {
		return Catalog{}, untrusted.Invalid(name, "", "read: %v", err)
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return ParseJSON(name, br, lim)
	}
	return ParseCSV(name, br, lim)
}

// ParseJSON reads the JSON catalog, streaming its entries.
func ParseJSON(name string, r io.Reader, lim untrusted.Limits) (Catalog, error) {
	lim = lim.WithDefaults()
	var cat Catalog
	s := feed.NewStream(name, untrusted.LimitReader(name, r, lim.MaxFileSize, nil), lim)
	rejects := &feed.Rejects{Name: name}
	count, sawVulns := -1, false
	err := s.Members(func(key string) error {
		if key == "vulnerabilities" {
			sawVulns = true
			return entries(s, name, lim, &cat, rejects)
		}
		raw, err := s.Value()
		if err != nil {
			return err
		}
		var dst any
		switch key {
		case "title":
			dst = &cat.Title
		case "catalogVersion":
			dst = &cat.Version
		case "count":
			dst = &count
		case "dateReleased":
			var ts string
			if err := json.Unmarshal(raw, &ts); err != nil {
				return untrusted.JSONError(name, key, raw, err)
			}
			t, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				return untrusted.Invalid(name, key, "%q is not an RFC 3339 timestamp", ts)
			}
			cat.Released = t.UTC()
			return nil
		default:
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return untrusted.JSONError(name, key, raw, err)
		}
		return nil
	})
	if err != nil {
		return cat, err
	}
	if err := s.End(); err != nil {
		return cat, err
	}
	if !sawVulns {
		return cat, untrusted.Invalid(name, "vulnerabilities", "required: not a KEV catalog")
	}
	n := len(cat.Entries) + rejects.Count
	if count >= 0 && count != n {
		return cat, untrusted.Invalid(name, "count", "the catalog says %d entries but holds %d (truncated?)", count, n)
	}
	cat.Count = n
	return cat, rejects.Err()
}

func entries(s *feed.Stream, name string, lim untrusted.Limits, cat *Catalog, rejects *feed.Rejects) error {
	return s.Elements("vulnerabilities", lim.MaxRecords, func(i, line int, raw []byte) error {
		path := "vulnerabilities[" + strconv.Itoa(i) + "]"
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			rejects.Add(untrusted.JSONErrorAt(name, path, raw, err, line))
			return nil
		}
		k, field, err := e.convert()
		if err != nil {
			rejects.Add(untrusted.Invalid(name, path+"."+field, "%v", err))
			return nil
		}
		cat.Entries = append(cat.Entries, k)
		return nil
	})
}

// columns are the CSV header names, which are the JSON member names.
var columns = []string{"cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription",
	"requiredAction", "dueDate", "knownRansomwareCampaignUse", "notes", "cwes"}

// required are the columns without which a row cannot be an entry; the others default to empty.
var required = map[string]bool{"cveID": true, "dateAdded": true, "dueDate": true}

// ParseCSV reads the CSV catalog. Columns are found by header name, so their order does not matter.
func ParseCSV(name string, r io.Reader, lim untrusted.Limits) (Catalog, error) {
	lim = lim.WithDefaults()
	var cat Catalog
	cr := csv.NewReader(untrusted.LineLimit(name, untrusted.LimitReader(name, r, lim.MaxFileSize, nil), lim.MaxLineSize))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return cat, csvError(name, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		idx[h] = i
	}
	for _, c := range columns {
		if _, ok := idx[c]; !ok && required[c] {
			return cat, untrusted.Invalid(name, "line 1", "header lacks the %s column (got %q)", c, strings.Join(header, ","))
		}
	}
	rejects := &feed.Rejects{Name: name}
	get := func(rec []string, col string) string {
		if i, ok := idx[col]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	for rows := 0; ; rows++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Broken quoting or an over-long line: the rows after it cannot be trusted, so the read stops.
			return cat, csvError(name, err)
		}
		if rows >= lim.MaxRecords {
			return cat, untrusted.Invalid(name, "", "more than the limit of %d rows", lim.MaxRecords)
		}
		line, _ := cr.FieldPos(0)
		e := entry{
			CVE: get(rec, "cveID"), Vendor: get(rec, "vendorProject"), Product: get(rec, "product"),
			Name: get(rec, "vulnerabilityName"), DateAdded: get(rec, "dateAdded"), Description: get(rec, "shortDescription"),
			RequiredAction: get(rec, "requiredAction"), DueDate: get(rec, "dueDate"),
			RansomwareUse: get(rec, "knownRansomwareCampaignUse"), Notes: get(rec, "notes"),
		}
		if c := get(rec, "cwes"); c != "" {
			e.CWEs = strings.Split(c, ",")
		}
		k, field, err := e.convert()
		if err != nil {
			rejects.Add(untrusted.Invalid(name, fmt.Sprintf("line %d: %s", line, field), "%v", err))
			continue
		}
		cat.Entries = append(cat.Entries, k)
	}
	cat.Count = len(cat.Entries) + rejects.Count
	return cat, rejects.Err()
}

// csvError names the file and line of a CSV error, keeping a limit's own error.
func csvError(name string, err error) error {
	if untrusted.IsLimit(err) {
		return err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if untrusted.IsLimit(pe.Err) {
			return pe.Err
		}
		return untrusted.Invalid(name, fmt.Sprintf("line %d", pe.Line), "malformed CSV: %v", pe.Err)
	}
	if err == io.EOF {
		return untrusted.Invalid(name, "", "empty: want a CSV header")
	}
	return untrusted.Invalid(name, "", "%v", err)
}

// peeker lets Parse look at the start of r and then read all of it.
type peeker struct {
	r    io.Reader
	head []byte
}

func bytesPeeker(r io.Reader) *peeker { return &peeker{r: r} }

func (p *peeker) peek(n int) ([]byte, error) {
	buf := make([]byte, n)
	k, err := io.ReadFull(p.r, buf)
	p.head = buf[:k]
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return p.head, err
}

func (p *peeker) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}
