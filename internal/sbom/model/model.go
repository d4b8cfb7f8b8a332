// Package model holds what the SBOM readers share: the Document they return, the default limits of an SBOM reader,
// and the normalisation every format needs (package URLs, support levels, errors that name the file and field).
// It exists as its own package so that internal/sbom can auto-detect and delegate to the cyclonedx and spdx readers
// while those readers return the very same types without an import cycle; callers use the aliases in internal/sbom.
package model

import (
	"github.com/vigil-dev/vigil"
)

// Formats a Document can come from.
const (
	FormatCycloneDXJSON = "cyclonedx-json"
	FormatCycloneDXXML  = "cyclonedx-xml"
	FormatSPDXJSON      = "spdx-json"
	FormatSPDXTagValue  = "spdx-tag-value"
)

// Relationship types, in SPDX's vocabulary so that both formats read alike. CycloneDX dependencies become
// DependsOn, nested components Contains, "provides" Provides; SPDX relationships keep the type the document gives.
const (
	RelDependsOn = "DEPENDS_ON"
	RelContains  = "CONTAINS"
	RelProvides  = "PROVIDES"
	RelDescribes = "DESCRIBES"
)

// Document is one parsed SBOM. Nothing is returned for a rejected document: either the whole Document is valid
// or Parse returns an error and a nil Document.
type Document struct {
	Format      string `json:"format"`       // one of the Format constants
	SpecVersion string `json:"spec_version"` // as the document states it: "1.6" (CycloneDX), "2.3" (SPDX)
	// Name and Version describe what the SBOM is about: CycloneDX metadata.component, SPDX document name.
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Serial identifies the document: CycloneDX serialNumber, SPDX documentNamespace.
	Serial string `json:"serial,omitempty"`
	// Subject is the CycloneDX metadata.component (the product the SBOM describes), nil when absent or for SPDX,
	// where the described packages are ordinary packages and appear in Components.
	Subject    *vigil.Component `json:"subject,omitempty"`
	SubjectRef string           `json:"subject_ref,omitempty"`
	// Components is every component, nested ones included (depth first, parent before children), in document order.
	Components []vigil.Component `json:"components"`
	// Refs[i] is the CycloneDX bom-ref or SPDXID of Components[i], "" when the document gave none. Relationships
	// refer to components through these.
	Refs          []string       `json:"refs"`
	Relationships []Relationship `json:"relationships,omitempty"`
}

// Relationship says that From relates to To (DEPENDS_ON, CONTAINS, ...). From and To are bom-refs or SPDXIDs; SPDX
// references into other documents keep their "DocumentRef-x:" prefix.
type Relationship struct {
	From string `json:"from"`
	Type string `json:"type"`
	To   string `json:"to"`
}

// Index returns the position in Components of the component whose bom-ref or SPDXID is ref.
func (d *Document) Index(ref string) (int, bool) {
	if ref == "" {
		return 0, false
	}
	for i, r := range d.Refs {
		if r == ref {
			return i, true
		}
	}
	return 0, false
}
