package spdx

import (
	"fmt"
	"strings"

	tvreader "github.com/spdx/tools-golang/tagvalue/reader"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// locator names a place in the document for an error: a JSON path for JSON, a line for tag-value.
type locator interface {
	pkg(i int, field string) string
	ref(i, j int) string
}

type jsonLocator struct{}

func (jsonLocator) pkg(i int, field string) string { return fmt.Sprintf("packages[%d].%s", i, field) }
func (jsonLocator) ref(i, j int) string {
	return fmt.Sprintf("packages[%d].externalRefs[%d].referenceLocator", i, j)
}

// tvLocator knows the line of each package's PackageName and ExternalRef pairs. The library appends packages in
// the order their PackageName appears, and each package's external references in order, so indexes line up.
type tvLocator struct {
	pkgLines [][2]int // line of PackageName and of SPDXID
	refLines [][]int
}

func newTVLocator(pairs []tvreader.TagValuePair, lines []int) *tvLocator {
	l := &tvLocator{}
	cur := -1
	for i, p := range pairs {
		switch p.Tag {
		case "PackageName":
			l.pkgLines = append(l.pkgLines, [2]int{lines[i], lines[i]})
			l.refLines = append(l.refLines, nil)
			cur = len(l.pkgLines) - 1
		case "FileName", "SnippetSPDXID", "LicenseID", "Relationship", "Annotator", "Reviewer":
			cur = -1
		case "SPDXID":
			if cur >= 0 {
				l.pkgLines[cur][1] = lines[i]
			}
		case "ExternalRef":
			if cur >= 0 {
				l.refLines[cur] = append(l.refLines[cur], lines[i])
			}
		}
	}
	return l
}

func (l *tvLocator) pkg(i int, field string) string {
	if i < len(l.pkgLines) {
		line := l.pkgLines[i][0]
		if field == "SPDXID" {
			line = l.pkgLines[i][1]
		}
		return fmt.Sprintf("line %d: package %d %s", line, i+1, tvField(field))
	}
	return fmt.Sprintf("package %d %s", i+1, tvField(field))
}

func (l *tvLocator) ref(i, j int) string {
	if i < len(l.refLines) && j < len(l.refLines[i]) {
		return fmt.Sprintf("line %d: ExternalRef", l.refLines[i][j])
	}
	return fmt.Sprintf("package %d ExternalRef %d", i+1, j+1)
}

func tvField(jsonField string) string {
	switch jsonField {
	case "name":
		return "PackageName"
	case "versionInfo":
		return "PackageVersion"
	case "validUntilDate":
		return "ValidUntilDate"
	}
	return jsonField
}

// convertDoc maps the packages of an SPDX document to components; files and snippets are not components.
func convertDoc(d *spdx.Document, name, format, version string, lim untrusted.Limits, loc locator) (*model.Document, error) {
	if d == nil {
		return nil, untrusted.Invalid(name, "", "empty SPDX document")
	}
	if err := model.CheckCount(name, len(d.Packages), lim); err != nil {
		return nil, err
	}
	out := &model.Document{
		Format:      format,
		SpecVersion: version,
		Name:        strings.TrimSpace(d.DocumentName),
		Serial:      strings.TrimSpace(d.DocumentNamespace),
		Components:  make([]vigil.Component, 0, len(d.Packages)),
		Refs:        make([]string, 0, len(d.Packages)),
	}
	seen := make(map[string]int, len(d.Packages))
	for i, p := range d.Packages {
		if p == nil {
			return nil, untrusted.Invalid(name, loc.pkg(i, ""), "empty package")
		}
		id := string(p.PackageSPDXIdentifier)
		if id == "" {
			return nil, untrusted.Invalid(name, loc.pkg(i, "SPDXID"), "missing SPDXID")
		}
		ref := "SPDXRef-" + id
		if first, dup := seen[ref]; dup {
			return nil, untrusted.Invalid(name, loc.pkg(i, "SPDXID"), "duplicate SPDXID %q (first used by package %d)", untrusted.Clip(ref), first+1)
		}
		seen[ref] = i
		if strings.TrimSpace(p.PackageName) == "" {
			return nil, untrusted.Invalid(name, loc.pkg(i, "name"), "missing package name")
		}
		c, err := component(p, i, name, loc)
		if err != nil {
			return nil, err
		}
		out.Components = append(out.Components, c)
		out.Refs = append(out.Refs, ref)
	}
	for _, r := range d.Relationships {
		if r == nil {
			continue
		}
		out.Relationships = append(out.Relationships, model.Relationship{
			From: elementRef(r.RefA), Type: strings.ToUpper(strings.TrimSpace(r.Relationship)), To: elementRef(r.RefB),
		})
	}
	return out, nil
}

// elementRef spells a relationship end as the document does: SPDXRef-x, DocumentRef-y:SPDXRef-x, NONE, NOASSERTION.
func elementRef(id common.DocElementID) string {
	if id.SpecialID != "" {
		return id.SpecialID
	}
	ref := "SPDXRef-" + string(id.ElementRefID)
	if id.DocumentRefID != "" {
		return "DocumentRef-" + string(id.DocumentRefID) + ":" + ref
	}
	return ref
}

func component(p *spdx.Package, i int, name string, loc locator) (vigil.Component, error) {
	c := vigil.Component{
		Name:    strings.TrimSpace(p.PackageName),
		Version: noAssertion(p.PackageVersion),
		Type:    purpose(p.PrimaryPackagePurpose),
	}
	if s := p.PackageSupplier; s != nil {
		c.Supplier = noAssertion(s.Supplier)
	}
	if c.Supplier == "" && p.PackageOriginator != nil {
		c.Supplier = noAssertion(p.PackageOriginator.Originator)
	}
	for j, r := range p.PackageExternalReferences {
		if r == nil {
			continue
		}
		cat := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(r.Category), "_", "-"))
		typ := strings.TrimSpace(r.RefType)
		switch {
		case cat == "PACKAGE-MANAGER" && strings.EqualFold(typ, "purl"):
			purl, err := model.NormalizePurl(r.Locator)
			if err != nil {
				return c, untrusted.Invalid(name, loc.ref(i, j), "%v", err)
			}
			if c.Purl == "" {
				c.Purl = purl
			}
		case cat == "SECURITY" && strings.EqualFold(typ, "cpe23Type"):
			// CPE 2.3 wins over a 2.2 URI given for the same package.
			if c.CPE == "" || strings.HasPrefix(c.CPE, "cpe:/") {
				c.CPE = strings.TrimSpace(r.Locator)
			}
		case cat == "SECURITY" && strings.EqualFold(typ, "cpe22Type"):
			if c.CPE == "" {
				c.CPE = strings.TrimSpace(r.Locator)
			}
		}
	}
	// SPDX has no group; the purl namespace (Maven groupId, npm scope) plays its part for matching and diffs.
	c.Group = model.PurlNamespace(c.Purl)
	if len(p.PackageChecksums) > 0 {
		c.Hashes = make(map[string]string, len(p.PackageChecksums))
		for _, ck := range p.PackageChecksums {
			c.Hashes[model.NormalizeHashAlg(string(ck.Algorithm))] = strings.ToLower(strings.TrimSpace(ck.Value))
		}
	}
	// SPDX 2.3 validUntilDate ("the date after which the package should no longer be used") is the closest SPDX 2
	// has to an end-of-support date; there is no level of support.
	model.ApplySupport(&c, "", p.ValidUntilDate)
	return c, nil
}

func noAssertion(s string) string {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "NOASSERTION") || strings.EqualFold(s, "NONE") {
		return ""
	}
	return s
}

// purpose maps SPDX 2.3 primaryPackagePurpose (OPERATING-SYSTEM) to the CycloneDX spelling (operating-system).
func purpose(p string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(p), "_", "-"))
}
