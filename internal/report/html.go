package report

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"io"
	"math"
)

// style is the page's only style sheet, inline so that the file stands alone.
const style = `body { font: 14px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid #999; margin-top: 1.6rem; }
.provenance { color: #444; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #aaa; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; }
figure { margin: .5rem 0; } figcaption { font-weight: bold; }
@media print { body { margin: 0; } }
`

// StyleHash is the CSP source of the inline style sheet ('sha256-...'), for a server that serves the page under a
// policy allowing no other inline style.
var StyleHash = func() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// html writes the document as one self-contained HTML page (inline style, charts as inline SVG), escaped by
// html/template.
func (d *Document) html(w io.Writer) error {
	return page.Execute(w, d)
}

// svgBar is one bar of a chart laid out for SVG.
type svgBar struct {
	Label, Value string
	Y, W         float64
}

type svgChart struct {
	Title, Unit string
	Height      float64
	Bars        []svgBar
}

func layout(c *Chart) svgChart {
	max := c.max()
	out := svgChart{Title: c.Title, Unit: c.Unit, Height: float64(len(c.Bars))*22 + 10}
	for i, b := range c.Bars {
		wd := 0.0
		if max > 0 {
			wd = math.Round(b.Value/max*380*10) / 10
		}
		label := []rune(b.Label)
		if len(label) > 30 {
			label = append(label[:29], '…')
		}
		out.Bars = append(out.Bars, svgBar{Label: string(label), Value: trimFloat(b.Value), Y: float64(i)*22 + 5, W: wd})
	}
	return out
}

var page = template.Must(template.New("doc").Funcs(template.FuncMap{"style": func() template.CSS { return template.CSS(style) }, "layout": layout, "add": func(a, b float64) float64 { return a + b }}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>{{style}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Subtitle}}<p>{{.Subtitle}}</p>{{end}}
<p class="provenance">{{.Provenance}}</p>
<dl>{{range .Header}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
{{range .Sections}}<section>
<h2>{{.Title}}</h2>
{{range .Blocks}}{{if .Text}}<p>{{.Text}}</p>
{{else if .Fields}}<dl>{{range .Fields}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
{{else if .List}}<ul>{{range .List}}<li>{{.}}</li>{{end}}</ul>
{{else if .Table}}<table><thead><tr>{{range .Table.Headers}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Table.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{else if .Chart}}{{with layout .Chart}}<figure><figcaption>{{.Title}} ({{.Unit}})</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<text x="0" y="{{add .Y 14}}" font-size="12">{{.Label}}</text><rect x="200" y="{{.Y}}" width="{{.W}}" height="16" fill="#3a6ea5"/><text x="{{add 205 .W}}" y="{{add .Y 13}}" font-size="12">{{.Value}}</text>
{{end}}</svg></figure>
{{end}}{{end}}{{end}}</section>
{{end}}</body>
</html>
`))
