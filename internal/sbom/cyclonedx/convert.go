package cyclonedx

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// The reader decodes into these structs rather than cyclonedx-go's BOM: they hold only what Vigil uses, read
// JSON and XML alike, and cannot trip over parts of a valid document that cyclonedx-go v0.12.0 fails to decode
// (declarations.evidence.data.classification in valid-attestation-1.6.json, patentAssertions.asserter in
// valid-patent-1.7.json). Validation against the official schema happens before, on the document itself.

type bomDoc struct {
	SerialNumber string    `json:"serialNumber" xml:"serialNumber,attr"`
	Metadata     *bomMeta  `json:"metadata" xml:"metadata"`
	Components   []bomComp `json:"components" xml:"components>component"`
	Dependencies []bomDep  `json:"dependencies" xml:"dependencies>dependency"`
}

type bomMeta struct {
	Component *bomComp `json:"component" xml:"component"`
}

type bomComp struct {
	BOMRef       string    `json:"bom-ref" xml:"bom-ref,attr"`
	Type         string    `json:"type" xml:"type,attr"`
	Supplier     *bomOrg   `json:"supplier" xml:"supplier"`
	Manufacturer *bomOrg   `json:"manufacturer" xml:"manufacturer"`
	Author       string    `json:"author" xml:"author"`
	Publisher    string    `json:"publisher" xml:"publisher"`
	Group        string    `json:"group" xml:"group"`
	Name         string    `json:"name" xml:"name"`
	Version      string    `json:"version" xml:"version"`
	VersionRange string    `json:"versionRange" xml:"versionRange"`
	Hashes       []bomHash `json:"hashes" xml:"hashes>hash"`
	CPE          string    `json:"cpe" xml:"cpe"`
	Purl         string    `json:"purl" xml:"purl"`
	Properties   []bomProp `json:"properties" xml:"properties>property"`
	Components   []bomComp `json:"components" xml:"components>component"`
	ExternalJSON *bool     `json:"isExternal" xml:"-"`
	ExternalXML  string    `json:"-" xml:"isExternal,attr"`
}

type bomOrg struct {
	Name string `json:"name" xml:"name"`
}

type bomHash struct {
	Alg     string `json:"alg" xml:"alg,attr"`
	Content string `json:"content" xml:",chardata"`
}

type bomProp struct {
	Name  string `json:"name" xml:"name,attr"`
	Value string `json:"value" xml:",chardata"`
}

// bomDep is a dependency: JSON lists dependsOn and provides as refs, XML nests <dependency ref> and <provides ref>.
type bomDep struct {
	Ref         string   `json:"ref" xml:"ref,attr"`
	DependsOn   []string `json:"dependsOn" xml:"-"`
	Provides    []string `json:"provides" xml:"-"`
	XMLDepends  []bomRef `json:"-" xml:"dependency"`
	XMLProvides []bomRef `json:"-" xml:"provides"`
}

type bomRef struct {
	Ref string `xml:"ref,attr"`
}

func (c *bomComp) external() bool {
	if c.ExternalJSON != nil {
		return *c.ExternalJSON
	}
	v := strings.TrimSpace(c.ExternalXML)
	return v == "true" || v == "1"
}

// paths spells locations in the document's own terms: components[3].purl in JSON,
// bom/components[1]/component[4]/purl in XML (XPath counts from 1, as the XSD validator's messages do).
type paths struct{ xml bool }

func (p paths) top(i int) string {
	if p.xml {
		return fmt.Sprintf("bom/components[1]/component[%d]", i+1)
	}
	return fmt.Sprintf("components[%d]", i)
}

func (p paths) child(parent string, i int) string {
	if p.xml {
		return fmt.Sprintf("%s/components[1]/component[%d]", parent, i+1)
	}
	return fmt.Sprintf("%s.components[%d]", parent, i)
}

func (p paths) field(path, f string) string {
	if p.xml {
		if f == "bom-ref" || f == "isExternal" {
			return path + "/@" + f
		}
		return path + "/" + f + "[1]"
	}
	return path + "." + f
}

func (p paths) subject() string {
	if p.xml {
		return "bom/metadata[1]/component[1]"
	}
	return "metadata.component"
}

// converter flattens a decoded BOM into a Document, failing on the first component it cannot accept.
type converter struct {
	name string
	lim  untrusted.Limits
	p    paths
	doc  *model.Document
	// seen maps each bom-ref to the path of the component that declared it: bom-refs must be unique (the XSD says
	// so with xs:unique; JSON Schema cannot), and relationships would be ambiguous otherwise.
	seen map[string]string
}

func convert(bom *bomDoc, name, format, version string, lim untrusted.Limits) (*model.Document, error) {
	c := &converter{
		name: name,
		lim:  lim,
		p:    paths{xml: format == model.FormatCycloneDXXML},
		doc:  &model.Document{Format: format, SpecVersion: version, Serial: strings.TrimSpace(bom.SerialNumber)},
		seen: make(map[string]string),
	}
	if md := bom.Metadata; md != nil && md.Component != nil {
		mc := md.Component
		path := c.p.subject()
		subj, err := c.component(mc, path)
		if err != nil {
			return nil, err
		}
		c.doc.Subject = &subj
		c.doc.SubjectRef = mc.BOMRef
		c.doc.Name, c.doc.Version = subj.Name, subj.Version
		if err := c.claim(mc.BOMRef, path); err != nil {
			return nil, err
		}
		if err := c.children(mc, path, 1); err != nil {
			return nil, err
		}
	}
	for i := range bom.Components {
		if err := c.walk(&bom.Components[i], c.p.top(i), 1); err != nil {
			return nil, err
		}
	}
	for _, d := range bom.Dependencies {
		c.dependency(d)
	}
	if c.doc.Components == nil {
		c.doc.Components = []vigil.Component{}
		c.doc.Refs = []string{}
	}
	return c.doc, nil
}

func (c *converter) dependency(d bomDep) {
	add := func(typ, to string) {
		c.doc.Relationships = append(c.doc.Relationships, model.Relationship{From: d.Ref, Type: typ, To: to})
	}
	for _, to := range d.DependsOn {
		add(model.RelDependsOn, to)
	}
	for _, to := range d.Provides {
		add(model.RelProvides, to)
	}
	for _, x := range d.XMLDepends {
		add(model.RelDependsOn, x.Ref)
	}
	for _, x := range d.XMLProvides {
		add(model.RelProvides, x.Ref)
	}
}

// walk adds comp and, depth first, the components nested in it.
func (c *converter) walk(comp *bomComp, path string, depth int) error {
	if depth > c.lim.MaxDepth {
		return untrusted.Invalid(c.name, path, "components nest deeper than the limit of %d", c.lim.MaxDepth)
	}
	if err := model.CheckCount(c.name, len(c.doc.Components)+1, c.lim); err != nil {
		return err
	}
	vc, err := c.component(comp, path)
	if err != nil {
		return err
	}
	if err := c.claim(comp.BOMRef, path); err != nil {
		return err
	}
	c.doc.Components = append(c.doc.Components, vc)
	c.doc.Refs = append(c.doc.Refs, comp.BOMRef)
	return c.children(comp, path, depth)
}

func (c *converter) children(comp *bomComp, path string, depth int) error {
	for j := range comp.Components {
		child := &comp.Components[j]
		if comp.BOMRef != "" && child.BOMRef != "" {
			c.doc.Relationships = append(c.doc.Relationships, model.Relationship{From: comp.BOMRef, Type: model.RelContains, To: child.BOMRef})
		}
		if err := c.walk(child, c.p.child(path, j), depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *converter) claim(ref, path string) error {
	if ref == "" {
		return nil
	}
	if first, dup := c.seen[ref]; dup {
		return untrusted.Invalid(c.name, c.p.field(path, "bom-ref"), "duplicate bom-ref %q (first used by %s)", untrusted.Clip(ref), first)
	}
	c.seen[ref] = path
	return nil
}

// component maps one CycloneDX component to Vigil's; path names it in errors.
func (c *converter) component(comp *bomComp, path string) (vigil.Component, error) {
	purl, err := model.NormalizePurl(comp.Purl)
	if err != nil {
		return vigil.Component{}, untrusted.Invalid(c.name, c.p.field(path, "purl"), "%v", err)
	}
	// The schemas require this ("versionRange must not be present when isExternal is false"); the XSD can only
	// say it in an XSD 1.1 assert that it leaves commented out, so XML documents are checked here.
	if strings.TrimSpace(comp.VersionRange) != "" && !comp.external() {
		return vigil.Component{}, untrusted.Invalid(c.name, c.p.field(path, "versionRange"), "a version range is only allowed on a component with isExternal true")
	}
	vc := vigil.Component{
		Name:     strings.TrimSpace(comp.Name),
		Group:    strings.TrimSpace(comp.Group),
		Version:  strings.TrimSpace(comp.Version),
		Purl:     purl,
		CPE:      strings.TrimSpace(comp.CPE),
		Supplier: supplier(comp),
		Type:     strings.TrimSpace(comp.Type),
	}
	if len(comp.Hashes) > 0 {
		vc.Hashes = make(map[string]string, len(comp.Hashes))
		for _, h := range comp.Hashes {
			vc.Hashes[model.NormalizeHashAlg(h.Alg)] = strings.ToLower(strings.TrimSpace(h.Content))
		}
	}
	var level, eos string
	for _, p := range comp.Properties {
		switch {
		case model.IsSupportLevelKey(p.Name):
			level = p.Value
		case model.IsEndOfSupportKey(p.Name):
			eos = p.Value
		}
	}
	model.ApplySupport(&vc, level, eos)
	return vc, nil
}

// supplier names who supplies the component: the supplier if given, else the publisher, the manufacturer (1.6+)
// or the author, in that order, because the matcher and the customer notice need some organization to name.
func supplier(comp *bomComp) string {
	if comp.Supplier != nil && strings.TrimSpace(comp.Supplier.Name) != "" {
		return strings.TrimSpace(comp.Supplier.Name)
	}
	if s := strings.TrimSpace(comp.Publisher); s != "" {
		return s
	}
	if comp.Manufacturer != nil && strings.TrimSpace(comp.Manufacturer.Name) != "" {
		return strings.TrimSpace(comp.Manufacturer.Name)
	}
	return strings.TrimSpace(comp.Author)
}
