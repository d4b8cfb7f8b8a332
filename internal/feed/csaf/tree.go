package csaf

import (
	"fmt"

	"github.com/vigil-dev/vigil"
)

// branchContext is what the branches above a product say about it: a branch path such as
// vendor "Philips" > product_name "Vue PACS" > product_version_range "<12.2.8.410" describes the product at its leaf.
type branchContext struct {
	vendor, family, name, version, versionRange string
}

func (c branchContext) with(b *rawBranch) branchContext {
	switch b.Category {
	case "vendor":
		c.vendor = b.Name
	case "product_family":
		c.family = b.Name
	case "product_name":
		c.name = b.Name
	case "product_version":
		c.version = b.Name
	case "product_version_range":
		c.versionRange = b.Name
	}
	return c
}

// definition is one place where a product id is defined.
type definition struct {
	path string // JSON pointer of the full product name
	fp   *rawFullProduct
	ctx  branchContext
	rel  *rawRelationship // set for products defined by a relationship
}

// definitions lists every product definition in document order: branch products (depth first), then
// /product_tree/full_product_names, then relationships.
func definitions(pt *rawProductTree) []definition {
	if pt == nil {
		return nil
	}
	var out []definition
	var walk func(bs []rawBranch, path string, ctx branchContext)
	walk = func(bs []rawBranch, path string, ctx branchContext) {
		for i := range bs {
			b := &bs[i]
			p := fmt.Sprintf("%s/%d", path, i)
			c := ctx.with(b)
			if b.Product != nil {
				out = append(out, definition{path: p + "/product", fp: b.Product, ctx: c})
			}
			walk(b.Branches, p+"/branches", c)
		}
	}
	walk(pt.Branches, "/product_tree/branches", branchContext{})
	for i := range pt.FullProductNames {
		out = append(out, definition{path: fmt.Sprintf("/product_tree/full_product_names/%d", i), fp: &pt.FullProductNames[i]})
	}
	for i := range pt.Relationships {
		r := &pt.Relationships[i]
		out = append(out, definition{path: fmt.Sprintf("/product_tree/relationships/%d/full_product_name", i), fp: &r.FullProductName, rel: r})
	}
	return out
}

// productIndex is the flattened product tree.
type productIndex struct {
	products  []vigil.Product // one per distinct product id, in definition order
	byID      map[string]int
	fullNames map[string]string
	groups    map[string][]string
}

// buildIndex flattens the product tree. The first definition of an id wins (a second one fails mandatory test
// 6.1.2, which Validate reports). A relationship's product describes the component it names (product_reference):
// "kernel-4.18 as a component of RHEL 8" is the kernel, for matching purposes; its own identification helper, when
// given, wins.
func buildIndex(pt *rawProductTree) productIndex {
	idx := productIndex{byID: map[string]int{}, fullNames: map[string]string{}, groups: map[string][]string{}}
	var rels []definition
	for _, d := range definitions(pt) {
		id := d.fp.ProductID
		if _, dup := idx.byID[id]; dup || id == "" {
			continue
		}
		if d.rel != nil {
			rels = append(rels, d)
			continue
		}
		p := vigil.Product{ID: id, Vendor: d.ctx.vendor, Name: d.ctx.name, Version: d.ctx.version, VersionRange: d.ctx.versionRange}
		if p.Name == "" {
			p.Name = d.ctx.family
		}
		if p.Name == "" {
			p.Name = d.fp.Name
		}
		applyHelper(&p, d.fp.Helper)
		idx.add(p, d.fp.Name)
	}
	// Relationships may build on other relationships. Each chain of product_references is walked once, and its
	// products are added from the bottom up, so the work is linear even for a long or hostile chain. Circular
	// chains (6.1.3) and ones ending at an undefined product (6.1.1) get only their own name.
	relDef := map[string]definition{}
	for _, d := range rels {
		if _, dup := relDef[d.fp.ProductID]; !dup {
			relDef[d.fp.ProductID] = d
		}
	}
	for _, d := range rels {
		var chain []string
		onChain := map[string]bool{}
		var base *vigil.Product
		for cur := d.fp.ProductID; ; {
			if i, ok := idx.byID[cur]; ok {
				p := idx.products[i]
				base = &p
				break
			}
			rd, isRel := relDef[cur]
			if !isRel || onChain[cur] {
				break
			}
			onChain[cur] = true
			chain = append(chain, cur)
			cur = rd.rel.ProductReference
		}
		rooted := base != nil
		for k := len(chain) - 1; k >= 0; k-- {
			rd := relDef[chain[k]]
			p := vigil.Product{Name: rd.fp.Name}
			if rooted {
				p = *base
			}
			p.ID = chain[k]
			applyHelper(&p, rd.fp.Helper)
			idx.add(p, rd.fp.Name)
			base = &p
		}
	}
	if pt != nil {
		for _, g := range pt.ProductGroups {
			if _, dup := idx.groups[g.GroupID]; !dup {
				idx.groups[g.GroupID] = g.ProductIDs
			}
		}
	}
	return idx
}

func (idx *productIndex) add(p vigil.Product, fullName string) {
	p.ModelNumbers, p.SKUs = cloneStrings(p.ModelNumbers), cloneStrings(p.SKUs)
	idx.byID[p.ID] = len(idx.products)
	idx.products = append(idx.products, p)
	idx.fullNames[p.ID] = fullName
}

// product returns the product with the id, or a product carrying only the id when the document never defines it.
func (idx *productIndex) product(id string) vigil.Product {
	if i, ok := idx.byID[id]; ok {
		p := idx.products[i]
		// Copies share no slices, so a consumer editing one advisory's product cannot change another's.
		p.ModelNumbers = cloneStrings(p.ModelNumbers)
		p.SKUs = cloneStrings(p.SKUs)
		return p
	}
	return vigil.Product{ID: id}
}

// expand returns product ids followed by the members of the groups, without duplicates.
func (idx *productIndex) expand(ids, groups []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range ids {
		add(id)
	}
	for _, g := range groups {
		for _, id := range idx.groups[g] {
			add(id)
		}
	}
	return out
}

func applyHelper(p *vigil.Product, h *rawPIHelper) {
	if h == nil {
		return
	}
	if h.CPE != "" {
		p.CPE = h.CPE
	}
	if h.Purl != "" {
		p.Purl = h.Purl
	}
	if len(h.ModelNumbers) > 0 {
		p.ModelNumbers = cloneStrings(h.ModelNumbers)
	}
	if len(h.SKUs) > 0 {
		p.SKUs = cloneStrings(h.SKUs)
	}
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}
