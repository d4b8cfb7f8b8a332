package notices

import (
	"bytes"
	"context"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// body is what both renderings of a notice say.
type body struct {
	Org      string
	Contact  string
	Notice   *vigil.Notice
	Follows  *vigil.Notice // the first notice, for a follow-up
	Products []product
	Elements []element
}

type product struct{ Vulnerability, Device, Versions string }

type element struct{ Heading, Text string }

// Headings as customers read them (the letters are the guidance's, kept for the PSIRT's cross-reference).
var headings = []struct{ letter, heading string }{
	{vigil.ElementVulnerability, "The vulnerability and its impact"},
	{vigil.ElementEfforts, "What we are doing"},
	{vigil.ElementControls, "What you can do now: compensating controls"},
	{vigil.ElementFix, "The fix"},
}

func (s *Service) body(ctx context.Context, n *vigil.Notice, views []*cases.View) (*body, error) {
	b := &body{Notice: n}
	if orgs, err := s.Store.Orgs(ctx); err == nil && len(orgs) > 0 {
		b.Org, b.Contact = orgs[0].Name, orgs[0].CVDContact
	}
	if n.FollowUpOf != 0 {
		first, err := s.Store.Notice(ctx, n.FollowUpOf)
		if err != nil {
			return nil, err
		}
		b.Follows = first
	}
	for _, v := range views {
		vers := affectedVersions(v)
		if len(vers) == 0 {
			vers = v.Versions
		}
		b.Products = append(b.Products, product{v.Case.Vulnerability, v.Device.Name, versionList(vers)})
	}
	for _, h := range headings {
		if t := strings.TrimSpace(n.Elements.Get(h.letter)); t != "" {
			b.Elements = append(b.Elements, element{h.heading, t})
		}
	}
	return b, nil
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`{{.Notice.Subject}}
{{if .Follows}}
This notice updates our notice N-{{.Follows.ID}}{{with .Follows.SentDate}} of {{.}}{{end}}: "{{.Follows.Subject}}".
{{end}}
Affected products:
{{range .Products}}- {{.Device}} {{.Versions}}: {{.Vulnerability}}
{{end}}{{range .Elements}}
{{.Heading}}
{{.Text}}
{{end}}
{{if .Org}}{{.Org}}{{end}}{{if .Contact}}
Questions and reports: {{.Contact}}{{end}}
Notice N-{{.Notice.ID}}
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(htmltemplate.FuncMap{"paras": paras}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Notice.Subject}}</title></head>
<body>
<h1>{{.Notice.Subject}}</h1>
{{if .Follows}}<p>This notice updates our notice N-{{.Follows.ID}}{{with .Follows.SentDate}} of {{.}}{{end}}: &ldquo;{{.Follows.Subject}}&rdquo;.</p>
{{end}}<h2>Affected products</h2>
<ul>
{{range .Products}}<li>{{.Device}} {{.Versions}}: {{.Vulnerability}}</li>
{{end}}</ul>
{{range .Elements}}<h2>{{.Heading}}</h2>
{{range paras .Text}}<p>{{.}}</p>
{{end}}{{end}}<p>{{.Org}}{{if .Contact}}<br>Questions and reports: {{.Contact}}{{end}}<br>Notice N-{{.Notice.ID}}</p>
</body></html>
`))

// paras splits a text on blank lines.
func paras(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func render(b *body) (text, html string, err error) {
	var t, h bytes.Buffer
	if err := textTmpl.Execute(&t, b); err != nil {
		return "", "", err
	}
	if err := htmlTmpl.Execute(&h, b); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}
