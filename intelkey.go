package vigil

import "strings"

// Kinds of PackageKey: the four ways an advisory names what it affects.
const (
	KeyPackage = "pkg"     // an OSV package: Ecosystem is OSV's base ecosystem name (PyPI, npm, Debian), Name the package
	KeyPurl    = "purl"    // a package URL: Ecosystem is the purl type (pypi, maven), Name is namespace/name
	KeyCPE     = "cpe"     // a CPE: Ecosystem is the part (a, o, h), Name is vendor:product
	KeyProduct = "product" // a CSAF product: Ecosystem is the vendor, Name the product name or a model number
)

// PackageKey names a package the way the intelligence store indexes affected data, so that the matcher can ask
// "which advisories name this package" without loading every advisory, and an import can say which packages it
// touched (so only the device versions holding them are re-matched). internal/match normalizes keys on both sides
// (case and separators as each ecosystem defines them), so callers may pass names as their SBOM spells them.
type PackageKey struct {
	Kind      string `json:"kind"`
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

// String renders the key as kind:ecosystem/name, for logs and evidence.
func (k PackageKey) String() string {
	var b strings.Builder
	b.WriteString(k.Kind)
	b.WriteByte(':')
	b.WriteString(k.Ecosystem)
	b.WriteByte('/')
	b.WriteString(k.Name)
	return b.String()
}
