// Package report lays out Vigil's regulatory documents (the 806.10 report draft, the 806.20 record, the premarket
// decision record, the PMA periodic report section, the 524B statements and the Cybersecurity Management Plan)
// and renders them as Markdown, HTML, PDF and JSON. A document is built once as a Document (sections of fields,
// paragraphs, tables and charts, plus the typed data behind them) and every format renders that same value, so the
// formats cannot say different things. Every rendering states the data cut-off time and the audit head the
// document was generated from. It is pure: no storage, no clock (the cut-off is the caller's).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// Formats a document renders in.
const (
	Markdown = "md"
	HTML     = "html"
	PDF      = "pdf"
	JSON     = "json"
)

// Formats lists the formats.
var Formats = []string{Markdown, HTML, PDF, JSON}

// ContentType is the media type of a format.
func ContentType(format string) string {
	switch format {
	case HTML:
		return "text/html; charset=utf-8"
	case PDF:
		return "application/pdf"
	case JSON:
		return "application/json"
	}
	return "text/markdown; charset=utf-8"
}

// Document is one regulatory document: a title, the header fields, sections, and Data, the typed values the
// sections were built from (what the JSON rendering carries for tooling).
type Document struct {
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Subtitle string    `json:"subtitle,omitempty"`
	CutOff   time.Time `json:"cut_off"` // the data cut-off: everything recorded until then is in it
	// AuditSeq and AuditHead are the audit trail's count and head hash when the document was generated: the
	// state of the records it was generated from.
	AuditSeq  int64     `json:"audit_seq"`
	AuditHead string    `json:"audit_head"`
	Zone      string    `json:"time_zone"` // the organization's zone: the cut-off is shown in it
	Header    []Field   `json:"header"`
	Sections  []Section `json:"sections"`
	Data      any       `json:"data"`
}

// Section is a titled part of a document.
type Section struct {
	Title  string  `json:"title"`
	Blocks []Block `json:"blocks"`
}

// Block is one element of a section: exactly one of its fields is set.
type Block struct {
	Text   string   `json:"text,omitempty"`
	Fields []Field  `json:"fields,omitempty"`
	List   []string `json:"list,omitempty"`
	Table  *Table   `json:"table,omitempty"`
	Chart  *Chart   `json:"chart,omitempty"`
}

// Field is a named value.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Table is a table of text cells.
type Table struct {
	Headers []string   `json:"headers"`
	Rows    [][]string `json:"rows"`
}

// Chart is a horizontal bar chart: one bar per label, with the value's unit.
type Chart struct {
	Title string `json:"title"`
	Unit  string `json:"unit"`
	Bars  []Bar  `json:"bars"`
}

// Bar is one bar of a chart.
type Bar struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// Add appends a section and returns it for its blocks.
func (d *Document) Add(title string) *Section {
	d.Sections = append(d.Sections, Section{Title: title})
	return &d.Sections[len(d.Sections)-1]
}

// Text adds a paragraph.
func (s *Section) Text(format string, args ...any) *Section {
	s.Blocks = append(s.Blocks, Block{Text: fmt.Sprintf(format, args...)})
	return s
}

// Fields adds name/value pairs (names and values alternating).
func (s *Section) Fields(pairs ...string) *Section {
	var fs []Field
	for i := 0; i+1 < len(pairs); i += 2 {
		fs = append(fs, Field{pairs[i], orDash(pairs[i+1])})
	}
	s.Blocks = append(s.Blocks, Block{Fields: fs})
	return s
}

// List adds a bulleted list; an empty list adds the text none instead.
func (s *Section) List(items []string, none string) *Section {
	if len(items) == 0 {
		return s.Text("%s", none)
	}
	s.Blocks = append(s.Blocks, Block{List: items})
	return s
}

// Table adds a table; with no rows it adds the text none instead.
func (s *Section) Table(headers []string, rows [][]string, none string) *Section {
	if len(rows) == 0 {
		return s.Text("%s", none)
	}
	for _, r := range rows {
		for i := range r {
			r[i] = orDash(r[i])
		}
	}
	s.Blocks = append(s.Blocks, Block{Table: &Table{Headers: headers, Rows: rows}})
	return s
}

// Chart adds a chart (nothing when it has no bars).
func (s *Section) Chart(c Chart) *Section {
	if len(c.Bars) > 0 {
		s.Blocks = append(s.Blocks, Block{Chart: &c})
	}
	return s
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// Provenance is the line every rendering carries: the data cut-off and the audit head.
func (d *Document) Provenance() string {
	loc, err := time.LoadLocation(d.Zone)
	if err != nil {
		loc = time.UTC
	}
	return fmt.Sprintf("Data cut-off %s (%s). Generated from the audit trail at event %d, head %s.",
		d.CutOff.In(loc).Format("2006-01-02 15:04:05 MST"), d.CutOff.UTC().Format(time.RFC3339), d.AuditSeq, d.AuditHead)
}

// Render writes the document in format.
func (d *Document) Render(w io.Writer, format string) error {
	switch format {
	case Markdown:
		return d.markdown(w)
	case HTML:
		return d.html(w)
	case PDF:
		return d.pdf(w)
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(d)
	}
	return vigil.Errorf(vigil.EINVALID, "format: %q: want %s", format, strings.Join(Formats, ", "))
}

// CheckFormat returns EINVALID for an unknown format.
func CheckFormat(format string) error { return vigil.OneOf("format", format, Formats) }
