package report

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// markdown writes the document as Markdown. Recorded text is escaped so that it cannot break the layout; a chart
// is drawn as a table with a bar of block characters per row.
func (d *Document) markdown(w io.Writer) error {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	line("# %s", md(d.Title))
	if d.Subtitle != "" {
		line("")
		line("%s", md(d.Subtitle))
	}
	line("")
	line("_%s_", md(d.Provenance()))
	line("")
	for _, f := range d.Header {
		line("- **%s:** %s", md(f.Name), md(f.Value))
	}
	for _, s := range d.Sections {
		line("")
		line("## %s", md(s.Title))
		for _, bl := range s.Blocks {
			line("")
			switch {
			case bl.Text != "":
				line("%s", md(bl.Text))
			case bl.Fields != nil:
				for _, f := range bl.Fields {
					line("- **%s:** %s", md(f.Name), md(f.Value))
				}
			case bl.List != nil:
				for _, x := range bl.List {
					line("- %s", md(x))
				}
			case bl.Table != nil:
				mdTable(line, bl.Table.Headers, bl.Table.Rows)
			case bl.Chart != nil:
				c := bl.Chart
				line("**%s** (%s)", md(c.Title), md(c.Unit))
				line("")
				max := c.max()
				var rows [][]string
				for _, x := range c.Bars {
					n := 0
					if max > 0 {
						n = int(math.Round(x.Value / max * 30))
					}
					rows = append(rows, []string{x.Label, trimFloat(x.Value), strings.Repeat("█", n)})
				}
				mdTable(line, []string{"", c.Unit, ""}, rows)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdTable(line func(string, ...any), headers []string, rows [][]string) {
	hs := make([]string, len(headers))
	for i, h := range headers {
		hs[i] = md(h)
	}
	line("| %s |", strings.Join(hs, " | "))
	line("|%s", strings.Repeat("---|", len(headers)))
	for _, r := range rows {
		cs := make([]string, len(r))
		for i, c := range r {
			cs[i] = md(c)
		}
		line("| %s |", strings.Join(cs, " | "))
	}
}

func (c *Chart) max() float64 {
	m := 0.0
	for _, b := range c.Bars {
		m = math.Max(m, b.Value)
	}
	return m
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// md makes recorded text safe in a Markdown line: one line, no HTML, no emphasis or link syntax.
func md(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return mdEscaper.Replace(s)
}

// mdEscaper backslash-escapes what Markdown would read as markup (CommonMark), so the text reads the same in a
// plain-text viewer.
var mdEscaper = strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "<", "\\<", "|", "\\|", "#", "\\#")
