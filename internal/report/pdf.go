package report

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// PDF layout, in millimetres on A4.
const (
	pdfMargin = 15.0
	pdfLine   = 4.6 // body line height
	pdfCell   = 4.0 // table line height
)

// pdfRunes are characters outside Windows-1252 (the core fonts' code page) that documents use, spelled in it.
var pdfRunes = strings.NewReplacer("≥", ">=", "≤", "<=", "→", "->", "←", "<-", "✓", "yes", "≠", "!=", "█", "#", "…", "...", "\u00a0", " ")

// pdf writes the document as a PDF with the core Helvetica font: a title block, the provenance line, the header
// fields, then the sections; tables wrap their cells and repeat their headers across pages; charts are drawn as
// vector bars. Every page's footer repeats the document, its cut-off and audit head, and the page number.
func (d *Document) pdf(w io.Writer) error {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	p.SetAutoPageBreak(true, pdfMargin+6)
	p.SetCreationDate(d.CutOff)
	p.SetModificationDate(d.CutOff)
	p.SetCatalogSort(true)
	p.SetTitle(d.Title, true)
	p.SetCreator("Vigil", true)
	p.AliasNbPages("{nb}")
	cp := p.UnicodeTranslatorFromDescriptor("")
	tr := func(s string) string { return cp(pdfRunes.Replace(s)) }
	// split wraps UTF-8 text (SplitText reads runes), then encodes each line in the font's code page.
	split := func(s string, w float64) []string {
		lines := p.SplitText(pdfRunes.Replace(s), w)
		for i := range lines {
			lines[i] = cp(lines[i])
		}
		return lines
	}
	pw, _ := p.GetPageSize()
	width := pw - 2*pdfMargin
	p.SetFont("Helvetica", "", 7)
	footer := split(fmt.Sprintf("%s · cut-off %s · audit event %d, head %.16s…", d.Title, d.CutOff.UTC().Format("2006-01-02 15:04 MST"), d.AuditSeq, d.AuditHead), width-22)
	p.SetFooterFunc(func() {
		p.SetY(-pdfMargin)
		p.SetFont("Helvetica", "", 7)
		p.SetTextColor(90, 90, 90)
		p.CellFormat(0, 4, footer[0], "", 0, "L", false, 0, "")
		p.CellFormat(0, 4, fmt.Sprintf("page %d of {nb}", p.PageNo()), "", 0, "R", false, 0, "")
		p.SetTextColor(0, 0, 0)
	})
	p.AddPage()

	p.SetFont("Helvetica", "B", 15)
	p.MultiCell(width, 7, tr(d.Title), "", "L", false)
	if d.Subtitle != "" {
		p.SetFont("Helvetica", "", 10)
		p.MultiCell(width, pdfLine, tr(d.Subtitle), "", "L", false)
	}
	p.Ln(1)
	p.SetFont("Helvetica", "I", 8)
	p.MultiCell(width, 3.8, tr(d.Provenance()), "", "L", false)
	p.Ln(2)
	pdfFields(p, split, width, d.Header)
	for _, s := range d.Sections {
		p.Ln(3)
		if _, y := p.GetXY(); y > 250 { // keep a heading with what follows it
			p.AddPage()
		}
		p.SetFont("Helvetica", "B", 11.5)
		p.MultiCell(width, 6, tr(s.Title), "B", "L", false)
		p.Ln(1.5)
		for _, b := range s.Blocks {
			switch {
			case b.Text != "":
				p.SetFont("Helvetica", "", 9.5)
				p.MultiCell(width, pdfLine, tr(b.Text), "", "L", false)
			case b.Fields != nil:
				pdfFields(p, split, width, b.Fields)
			case b.List != nil:
				p.SetFont("Helvetica", "", 9.5)
				for _, x := range b.List {
					p.SetX(pdfMargin)
					p.CellFormat(4, pdfLine, tr("•"), "", 0, "L", false, 0, "")
					p.MultiCell(width-4, pdfLine, tr(x), "", "L", false)
				}
			case b.Table != nil:
				pdfTable(p, tr, split, width, b.Table)
			case b.Chart != nil:
				pdfChart(p, tr, width, b.Chart)
			}
			p.Ln(1.5)
		}
	}
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

func pdfFields(p *fpdf.Fpdf, split func(string, float64) []string, width float64, fs []Field) {
	const nameW = 52.0
	for _, f := range fs {
		p.SetFont("Helvetica", "B", 9)
		lines := split(f.Name, nameW-1)
		p.SetFont("Helvetica", "", 9)
		vals := split(f.Value, width-nameW)
		h := float64(max(len(lines), len(vals))) * pdfLine
		pdfRoom(p, h)
		x, y := p.GetXY()
		p.SetFont("Helvetica", "B", 9)
		for i, l := range lines {
			p.Text(x, y+float64(i)*pdfLine+3.3, l)
		}
		p.SetFont("Helvetica", "", 9)
		for i, l := range vals {
			p.Text(x+nameW, y+float64(i)*pdfLine+3.3, l)
		}
		p.SetXY(x, y+h)
	}
}

// pdfRoom starts a new page when h does not fit on this one.
func pdfRoom(p *fpdf.Fpdf, h float64) bool {
	_, ph := p.GetPageSize()
	if _, y := p.GetXY(); y+h > ph-pdfMargin-6 {
		p.AddPage()
		return true
	}
	return false
}

// pdfTable draws a table whose column widths follow their content, wrapping cells, repeating the header on a
// new page.
func pdfTable(p *fpdf.Fpdf, tr func(string) string, split func(string, float64) []string, width float64, t *Table) {
	n := len(t.Headers)
	want := make([]float64, n)
	p.SetFont("Helvetica", "B", 8)
	for i, h := range t.Headers {
		want[i] = min(p.GetStringWidth(tr(h))+3, 40)
	}
	p.SetFont("Helvetica", "", 8)
	for _, r := range t.Rows {
		for i := 0; i < n && i < len(r); i++ {
			want[i] = max(want[i], min(p.GetStringWidth(tr(r[i]))+3, 70))
		}
	}
	total := 0.0
	for _, x := range want {
		total += x
	}
	ws := make([]float64, n)
	for i := range want {
		ws[i] = want[i] * width / total
	}
	var row func(cells []string, bold bool)
	row = func(cells []string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		p.SetFont("Helvetica", style, 8)
		lines := make([][]string, n)
		h := 0.0
		for i := 0; i < n; i++ {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			lines[i] = split(c, ws[i]-2)
			h = max(h, float64(len(lines[i]))*pdfCell+1.5)
		}
		if pdfRoom(p, h) && !bold {
			row(t.Headers, true)
			p.SetFont("Helvetica", "", 8)
		}
		x, y := p.GetXY()
		for i := 0; i < n; i++ {
			if bold {
				p.SetFillColor(230, 230, 230)
				p.Rect(x, y, ws[i], h, "FD")
			} else {
				p.Rect(x, y, ws[i], h, "D")
			}
			for j, l := range lines[i] {
				p.Text(x+1, y+float64(j)*pdfCell+3.6, l)
			}
			x += ws[i]
		}
		p.SetXY(pdfMargin, y+h)
	}
	row(t.Headers, true)
	for _, r := range t.Rows {
		row(r, false)
	}
}

// pdfChart draws a horizontal bar chart: labels on the left, bars scaled to the largest value, values at the end.
func pdfChart(p *fpdf.Fpdf, tr func(string) string, width float64, c *Chart) {
	const barH, gap, labelW = 4.5, 1.5, 60.0
	h := 7 + float64(len(c.Bars))*(barH+gap)
	pdfRoom(p, h)
	x, y := p.GetXY()
	p.SetFont("Helvetica", "B", 9)
	p.Text(x, y+4, tr(fmt.Sprintf("%s (%s)", c.Title, c.Unit)))
	y += 7
	m := c.max()
	p.SetFont("Helvetica", "", 8)
	for _, b := range c.Bars {
		label := tr(b.Label)
		for p.GetStringWidth(label) > labelW-2 && len(label) > 4 {
			label = label[:len(label)-4] + "..."
		}
		p.Text(x, y+barH-1, label)
		w := 0.0
		if m > 0 {
			w = b.Value / m * (width - labelW - 18)
		}
		p.SetFillColor(58, 110, 165)
		if w > 0 {
			p.Rect(x+labelW, y, w, barH, "F")
		}
		p.Text(x+labelW+w+1.5, y+barH-1, trimFloat(b.Value))
		y += barH + gap
	}
	p.SetXY(pdfMargin, y+1)
}
