package cyclonedx

import (
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/model"
)

// converter flattens a decoded BOM into a Document, failing on the first component it cannot accept.
type converter struct {
	name string
	lim  model.Limits
	doc  *model.Document
	// seen maps each bom-ref to the path of the component that declared it: bom-refs must be unique (the XSD says
	// so with xs:unique; JSON Schema cannot), and relationships would be ambiguous otherwise.
	seen map[string]string
}

func convert(bom *cdx.BOM, name, format, version string, lim model.Limits) (*model.Document, error) {
	c := &converter{
		name: name,
		lim:  lim,
		doc:  &model.Document{Format: format, SpecVersion: version, Serial: bom.SerialNumber},
		seen: make(map[string]string),
	}
	if md := bom.Metadata; md != nil && md.Component != nil {
		mc := md.Component
		subj, err := c.component(mc, "metadata.component")
		if err != nil {
			return nil, err
		}
		c.doc.Subject = &subj
		c.doc.SubjectRef = mc.BOMRef
		c.doc.Name, c.doc.Version = mc.Name, mc.Version
		if err := c.claim(mc.BOMRef, "metadata.component"); err != nil {
			return nil, err
		}
		if err := c.children(mc, "metadata.component", 1); err != nil {
			return nil, err
		}
	}
	if bom.Components != nil {
		for i := range *bom.Components {
			if err := c.walk(&(*bom.Components)[i], fmt.Sprintf("components[%d]", i), 1); err != nil {
				return nil, err
			}
		}
	}
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			if d.Dependencies != nil {
				for _, to := range *d.Dependencies {
					c.doc.Relationships = append(c.doc.Relationships, model.Relationship{From: d.Ref, Type: model.RelDependsOn, To: to})
				}
			}
			if d.Provides != nil {
				for _, to := range *d.Provides {
					c.doc.Relationships = append(c.doc.Relationships, model.Relationship{From: d.Ref, Type: model.RelProvides, To: to})
				}
			}
		}
	}
	if c.doc.Components == nil {
		c.doc.Components = []vigil.Component{}
		c.doc.Refs = []string{}
	}
	return c.doc, nil
}

// walk adds comp and, depth first, the components nested in it.
func (c *converter) walk(comp *cdx.Component, path string, depth int) error {
	if depth > c.lim.MaxDepth {
		return model.Invalid(c.name, path, "components nest deeper than the limit of %d", c.lim.MaxDepth)
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

func (c *converter) children(comp *cdx.Component, path string, depth int) error {
	if comp.Components == nil {
		return nil
	}
	for j := range *comp.Components {
		child := &(*comp.Components)[j]
		if comp.BOMRef != "" && child.BOMRef != "" {
			c.doc.Relationships = append(c.doc.Relationships, model.Relationship{From: comp.BOMRef, Type: model.RelContains, To: child.BOMRef})
		}
		if err := c.walk(child, fmt.Sprintf("%s.components[%d]", path, j), depth+1); err != nil {
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
		return model.Invalid(c.name, path+".bom-ref", "duplicate bom-ref %q (first used by %s)", model.Clip(ref), first)
	}
	c.seen[ref] = path
	return nil
}

// component maps one CycloneDX component to Vigil's; path names it in errors.
func (c *converter) component(comp *cdx.Component, path string) (vigil.Component, error) {
	purl, err := model.NormalizePurl(comp.PackageURL)
	if err != nil {
		return vigil.Component{}, model.Invalid(c.name, path+".purl", "%v", err)
	}
	vc := vigil.Component{
		Name:     strings.TrimSpace(comp.Name),
		Group:    strings.TrimSpace(comp.Group),
		Version:  strings.TrimSpace(comp.Version),
		Purl:     purl,
		CPE:      strings.TrimSpace(comp.CPE),
		Supplier: supplier(comp),
		Type:     string(comp.Type),
	}
	if comp.Hashes != nil && len(*comp.Hashes) > 0 {
		vc.Hashes = make(map[string]string, len(*comp.Hashes))
		for _, h := range *comp.Hashes {
			vc.Hashes[model.NormalizeHashAlg(string(h.Algorithm))] = strings.ToLower(strings.TrimSpace(h.Value))
		}
	}
	var level, eos string
	if comp.Properties != nil {
		for _, p := range *comp.Properties {
			switch {
			case model.IsSupportLevelKey(p.Name):
				level = p.Value
			case model.IsEndOfSupportKey(p.Name):
				eos = p.Value
			}
		}
	}
	model.ApplySupport(&vc, level, eos)
	return vc, nil
}

// supplier names who supplies the component: the supplier if given, else the publisher, the manufacturer (1.6+)
// or the author, in that order, because the matcher and the customer notice need some organization to name.
func supplier(comp *cdx.Component) string {
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
