package csaf

import (
	"fmt"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Profile tests (6.1.27.x): what each document category requires.

const (
	catInformational    = "csaf_informational_advisory"
	catIncidentResponse = "csaf_security_incident_response"
	catSecurityAdvisory = "csaf_security_advisory"
	catVEX              = "csaf_vex"
)

func (c *checker) categoryIn(cats ...string) bool {
	for _, x := range cats {
		if c.doc.Document.Category == x {
			return true
		}
	}
	return false
}

func test61271(c *checker) {
	if !c.categoryIn(catInformational, catIncidentResponse) {
		return
	}
	for _, n := range c.doc.Document.Notes {
		switch n.Category {
		case "description", "details", "general", "summary":
			return
		}
	}
	c.fail("/document/notes", "a %s needs a note of category description, details, general or summary", c.doc.Document.Category)
}

func test61272(c *checker) {
	if !c.categoryIn(catInformational, catIncidentResponse) {
		return
	}
	for _, r := range c.doc.Document.References {
		if r.Category == "external" {
			return
		}
	}
	c.fail("/document/references", "a %s needs at least one external reference", c.doc.Document.Category)
}

func test61273(c *checker) {
	if c.categoryIn(catInformational) && c.doc.Vulnerabilities != nil {
		c.fail("/vulnerabilities", "an informational advisory must not list vulnerabilities")
	}
}

func test61274(c *checker) {
	if c.categoryIn(catSecurityAdvisory, catVEX) && c.doc.ProductTree == nil {
		c.fail("/product_tree", "a %s needs a product tree", c.doc.Document.Category)
	}
}

func test61275(c *checker) {
	if !c.categoryIn(catSecurityAdvisory, catVEX) {
		return
	}
	for i, v := range c.doc.Vulnerabilities {
		if len(v.Notes) == 0 {
			c.fail(fmt.Sprintf("/vulnerabilities/%d/notes", i), "missing: a %s describes every vulnerability", c.doc.Document.Category)
		}
	}
}

func test61276(c *checker) {
	if !c.categoryIn(catSecurityAdvisory) {
		return
	}
	for i, v := range c.doc.Vulnerabilities {
		if v.ProductStatus == nil {
			c.fail(fmt.Sprintf("/vulnerabilities/%d/product_status", i), "missing")
		}
	}
}

func test61277(c *checker) {
	if !c.categoryIn(catVEX) {
		return
	}
	for i, v := range c.doc.Vulnerabilities {
		ps := v.ProductStatus
		if ps == nil || len(ps.Fixed)+len(ps.KnownAffected)+len(ps.KnownNotAffected)+len(ps.UnderInvestigation) == 0 {
			c.fail(fmt.Sprintf("/vulnerabilities/%d/product_status", i), "a VEX names products as fixed, known_affected, known_not_affected or under_investigation")
		}
	}
}

func test61278(c *checker) {
	if !c.categoryIn(catVEX) {
		return
	}
	for i, v := range c.doc.Vulnerabilities {
		if v.CVE == "" && len(v.IDs) == 0 {
			c.fail(fmt.Sprintf("/vulnerabilities/%d", i), "a VEX vulnerability needs a cve or ids")
		}
	}
}

func test61279(c *checker) {
	if !c.categoryIn(catVEX) {
		return
	}
	for i, v := range c.doc.Vulnerabilities {
		if v.ProductStatus == nil {
			continue
		}
		stated := map[string]bool{}
		for _, f := range v.Flags {
			for _, id := range c.expand(f.ProductIDs, f.GroupIDs) {
				stated[id] = true
			}
		}
		for _, t := range v.Threats {
			if t.Category == "impact" {
				for _, id := range c.expand(t.ProductIDs, t.GroupIDs) {
					stated[id] = true
				}
			}
		}
		for j, id := range v.ProductStatus.KnownNotAffected {
			if !stated[id] {
				c.fail(fmt.Sprintf("/vulnerabilities/%d/product_status/known_not_affected/%d", i, j), "product %q has no impact statement (flag or impact threat)", untrusted.Clip(id))
			}
		}
	}
}

func test612710(c *checker) {
	if !c.categoryIn(catVEX) {
		return
	}
	for i, v := range c.doc.Vulnerabilities {
		if v.ProductStatus == nil {
			continue
		}
		stated := map[string]bool{}
		for _, r := range v.Remediations {
			for _, id := range c.expand(r.ProductIDs, r.GroupIDs) {
				stated[id] = true
			}
		}
		for j, id := range v.ProductStatus.KnownAffected {
			if !stated[id] {
				c.fail(fmt.Sprintf("/vulnerabilities/%d/product_status/known_affected/%d", i, j), "product %q has no action statement (remediation)", untrusted.Clip(id))
			}
		}
	}
}

func test612711(c *checker) {
	if c.categoryIn(catSecurityAdvisory, catVEX) && c.doc.Vulnerabilities == nil {
		c.fail("/vulnerabilities", "a %s needs vulnerabilities", c.doc.Document.Category)
	}
}
