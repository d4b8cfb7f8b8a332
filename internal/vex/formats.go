package vex

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// ---- CycloneDX VEX

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	Purl       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

var cdxStates = map[string]vigil.VEXStatus{
	"not_affected": vigil.VEXNotAffected, "false_positive": vigil.VEXNotAffected,
	"exploitable": vigil.VEXAffected, "in_triage": vigil.VEXUnderInvestigation,
	"resolved": vigil.VEXFixed, "resolved_with_pedigree": vigil.VEXFixed,
}

func parseCycloneDX(name string, b []byte) (*Document, error) {
	var d struct {
		Metadata struct {
			Component    *cdxComponent          `json:"component"`
			Manufacturer *struct{ Name string } `json:"manufacture"`
			Supplier     *struct{ Name string } `json:"supplier"`
		} `json:"metadata"`
		Components      []cdxComponent `json:"components"`
		Vulnerabilities []struct {
			ID       string `json:"id"`
			Analysis *struct {
				State         string   `json:"state"`
				Justification string   `json:"justification"`
				Response      []string `json:"response"`
				Detail        string   `json:"detail"`
			} `json:"analysis"`
			Affects []struct {
				Ref string `json:"ref"`
			} `json:"affects"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	doc := &Document{Format: "cyclonedx"}
	if m := d.Metadata.Supplier; m != nil {
		doc.Author = m.Name
	}
	if m := d.Metadata.Manufacturer; m != nil && doc.Author == "" {
		doc.Author = m.Name
	}
	refs := map[string]cdxComponent{}
	var walk func([]cdxComponent)
	walk = func(cs []cdxComponent) {
		for _, c := range cs {
			if c.BOMRef != "" {
				refs[c.BOMRef] = c
			}
			walk(c.Components)
		}
	}
	if d.Metadata.Component != nil {
		walk([]cdxComponent{*d.Metadata.Component})
	}
	walk(d.Components)
	for i, v := range d.Vulnerabilities {
		if v.Analysis == nil || v.Analysis.State == "" {
			doc.Skipped++
			continue
		}
		st, ok := cdxStates[v.Analysis.State]
		if !ok {
			return nil, untrusted.Invalid(name, fmt.Sprintf("vulnerabilities[%d].analysis.state", i), "%q is not a CycloneDX analysis state", untrusted.Clip(v.Analysis.State))
		}
		if len(v.Affects) == 0 {
			return nil, untrusted.Invalid(name, fmt.Sprintf("vulnerabilities[%d].affects", i), "required: the products the statement is about")
		}
		detail := v.Analysis.Detail
		if len(v.Analysis.Response) > 0 {
			detail = strings.TrimSpace(detail + " (response: " + strings.Join(v.Analysis.Response, ", ") + ")")
		}
		for _, a := range v.Affects {
			p := product(a.Ref, "", "")
			if c, ok := refs[a.Ref]; ok {
				p = product(c.Purl, c.Name, c.Version)
			}
			doc.Statements = append(doc.Statements, vigil.VEXStatement{Vulnerability: v.ID, Product: p, Status: st,
				Justification: v.Analysis.Justification, Detail: detail})
		}
	}
	return doc, nil
}

// ---- OpenVEX

type ovProduct struct {
	ID            string `json:"@id"`
	Subcomponents []ovProduct
}

// UnmarshalJSON reads v0.2.0's {"@id": ...} objects and v0.0.1's bare strings.
func (p *ovProduct) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		p.ID = s
		return nil
	}
	var o struct {
		ID            string      `json:"@id"`
		Subcomponents []ovProduct `json:"subcomponents"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	p.ID, p.Subcomponents = o.ID, o.Subcomponents
	return nil
}

type ovVuln struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
}

// UnmarshalJSON reads v0.2.0's {"name": ...} and v0.0.1's bare string.
func (v *ovVuln) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v.Name = s
		return nil
	}
	type plain ovVuln
	return json.Unmarshal(b, (*plain)(v))
}

func parseOpenVEX(name string, b []byte) (*Document, error) {
	var d struct {
		Author     string `json:"author"`
		Statements []struct {
			Vulnerability   ovVuln      `json:"vulnerability"`
			Products        []ovProduct `json:"products"`
			Subcomponents   []ovProduct `json:"subcomponents"` // v0.0.1: beside the products
			Status          string      `json:"status"`
			Justification   string      `json:"justification"`
			ImpactStatement string      `json:"impact_statement"`
			ActionStatement string      `json:"action_statement"`
			StatusNotes     string      `json:"status_notes"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	doc := &Document{Format: "openvex", Author: d.Author}
	for i, s := range d.Statements {
		st := vigil.VEXStatus(s.Status)
		if err := st.Validate(); err != nil {
			return nil, untrusted.Invalid(name, fmt.Sprintf("statements[%d].status", i), "%q is not an OpenVEX status", untrusted.Clip(s.Status))
		}
		if len(s.Products) == 0 {
			return nil, untrusted.Invalid(name, fmt.Sprintf("statements[%d].products", i), "required: the products the statement is about")
		}
		detail := strings.TrimSpace(strings.Join(nonEmpty(s.ImpactStatement, s.ActionStatement, s.StatusNotes), " "))
		add := func(ref string) {
			doc.Statements = append(doc.Statements, vigil.VEXStatement{Vulnerability: s.Vulnerability.Name, Aliases: s.Vulnerability.Aliases,
				Product: product(ref, "", ""), Status: st, Justification: s.Justification, Detail: detail})
		}
		for _, p := range s.Products {
			subs := append(p.Subcomponents, s.Subcomponents...)
			if len(subs) == 0 {
				add(p.ID)
			}
			for _, c := range subs {
				add(c.ID)
			}
		}
	}
	return doc, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ---- CSAF VEX

type csafBranch struct {
	Category string       `json:"category"`
	Name     string       `json:"name"`
	Product  *csafProduct `json:"product"`
	Branches []csafBranch `json:"branches"`
}

type csafProduct struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
	Helper    *struct {
		Purl string `json:"purl"`
	} `json:"product_identification_helper"`
}

var csafStatuses = []struct {
	key    string
	status vigil.VEXStatus
}{
	{"known_not_affected", vigil.VEXNotAffected}, {"fixed", vigil.VEXFixed}, {"first_fixed", vigil.VEXFixed},
	{"known_affected", vigil.VEXAffected}, {"first_affected", vigil.VEXAffected}, {"last_affected", vigil.VEXAffected},
	{"under_investigation", vigil.VEXUnderInvestigation},
}

func parseCSAF(name string, b []byte, lim untrusted.Limits) (*Document, error) {
	var d struct {
		Document struct {
			Publisher struct {
				Name string `json:"name"`
			} `json:"publisher"`
		} `json:"document"`
		ProductTree struct {
			Branches      []csafBranch  `json:"branches"`
			FullNames     []csafProduct `json:"full_product_names"`
			Relationships []struct {
				Category  string      `json:"category"`
				Component string      `json:"product_reference"`
				Full      csafProduct `json:"full_product_name"`
			} `json:"relationships"`
		} `json:"product_tree"`
		Vulnerabilities []struct {
			CVE string `json:"cve"`
			IDs []struct {
				Text string `json:"text"`
			} `json:"ids"`
			ProductStatus map[string][]string `json:"product_status"`
			Flags         []struct {
				Label      string   `json:"label"`
				ProductIDs []string `json:"product_ids"`
			} `json:"flags"`
			Threats []struct {
				Category   string   `json:"category"`
				Details    string   `json:"details"`
				ProductIDs []string `json:"product_ids"`
			} `json:"threats"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, untrusted.JSONError(name, "", b, err)
	}
	doc := &Document{Format: "csaf", Author: d.Document.Publisher.Name}
	products := map[string]vigil.VEXProduct{}
	var walk func(bs []csafBranch, prodName, version string) error
	walk = func(bs []csafBranch, prodName, version string) error {
		for _, br := range bs {
			if len(products) > lim.MaxProducts && lim.MaxProducts > 0 {
				return untrusted.Invalid(name, "product_tree", "more than %d products", lim.MaxProducts)
			}
			pn, v := prodName, version
			switch br.Category {
			case "product_name":
				pn = br.Name
			case "product_version":
				v = br.Name
			case "product_version_range":
				v = ""
			}
			if p := br.Product; p != nil {
				vp := product(helperPurl(p), pn, v)
				if br.Category == "product_version_range" {
					vp.Range = br.Name
				}
				products[p.ProductID] = vp
			}
			if err := walk(br.Branches, pn, v); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.ProductTree.Branches, "", ""); err != nil {
		return nil, err
	}
	for _, p := range d.ProductTree.FullNames {
		products[p.ProductID] = product(helperPurl(&p), p.Name, "")
	}
	// A combination "component X default_component_of product Y" is about X, the supplier's component.
	for _, r := range d.ProductTree.Relationships {
		if c, ok := products[r.Component]; ok {
			products[r.Full.ProductID] = c
		}
	}
	for i, v := range d.Vulnerabilities {
		id := v.CVE
		if id == "" && len(v.IDs) > 0 {
			id = v.IDs[0].Text
		}
		justification := map[string]string{}
		for _, f := range v.Flags {
			for _, pid := range f.ProductIDs {
				justification[pid] = f.Label
			}
		}
		impact := map[string]string{}
		for _, t := range v.Threats {
			if t.Category == "impact" {
				for _, pid := range t.ProductIDs {
					impact[pid] = t.Details
				}
			}
		}
		found := false
		for _, s := range csafStatuses {
			for _, pid := range v.ProductStatus[s.key] {
				p, ok := products[pid]
				if !ok {
					return nil, untrusted.Invalid(name, fmt.Sprintf("vulnerabilities[%d].product_status.%s", i, s.key), "product %q is not in the product tree", untrusted.Clip(pid))
				}
				found = true
				doc.Statements = append(doc.Statements, vigil.VEXStatement{Vulnerability: id, Product: p, Status: s.status,
					Justification: justification[pid], Detail: impact[pid]})
			}
		}
		if !found {
			doc.Skipped++
		}
	}
	return doc, nil
}

func helperPurl(p *csafProduct) string {
	if p.Helper != nil {
		return p.Helper.Purl
	}
	return ""
}
