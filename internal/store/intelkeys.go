package store

import (
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
	"github.com/vigil-dev/vigil/internal/version"
)

// The affected index. Each advisory is filed under the keys of what it names, normalized so that the matcher finds
// it from however an SBOM spells the package. Normalization is deliberately generous (a superset is harmless: the
// matcher re-checks every candidate against the advisory's own ecosystem and name) but never merges names an
// ecosystem keeps apart in a way that could lose a match.

// foldCase lists the OSV ecosystems whose package names are case-insensitive (or always lower case), so the index
// folds them; every other ecosystem (npm, Go, Maven, RubyGems, ...) keeps names exactly as written.
var foldCase = map[string]bool{
	"crates.io": true, "NuGet": true, "Packagist": true, "Hex": true, "Pub": true, "Bitnami": true,
	"Debian": true, "Ubuntu": true, "Alpine": true, "Wolfi": true, "Chainguard": true, "MinimOS": true,
	"Rocky Linux": true, "AlmaLinux": true, "Red Hat": true, "SUSE": true, "openSUSE": true, "Photon OS": true,
	"Mageia": true, "openEuler": true, "Azure Linux": true,
}

// EcosystemBase returns the ecosystem under which the index files an OSV package: OSV's spelling of the base name,
// without a release suffix ("debian:12" → "Debian"), so a component whose distribution release is unknown still
// finds it. Unknown ecosystems keep their base as written.
func EcosystemBase(ecosystem string) string {
	e := strings.TrimSpace(ecosystem)
	if c, ok := version.Normalize(e); ok {
		e = c
	}
	if i := strings.IndexByte(e, ':'); i >= 0 {
		e = e[:i]
	}
	return e
}

// PackageName returns name as the index files it for an ecosystem base: PyPI names by PEP 503 (lower case, runs of
// "-", "_" and "." as one "-"), case-insensitive ecosystems in lower case, others as written (npm and Go module
// paths are case-sensitive; Maven is group:artifact as written).
func PackageName(base, name string) string {
	name = strings.TrimSpace(name)
	switch {
	case base == "PyPI":
		return pep503(name)
	case foldCase[base]:
		return strings.ToLower(name)
	}
	return name
}

func pep503(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// PackageKeyOf returns the index key of an OSV package.
func PackageKeyOf(ecosystem, name string) vigil.PackageKey {
	base := EcosystemBase(ecosystem)
	return vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: base, Name: PackageName(base, name)}
}

// PurlKey returns the index key of a package URL (type, namespace/name, both lower case; PyPI names by PEP 503).
// ok is false for an unparsable purl.
func PurlKey(purl string) (vigil.PackageKey, bool) {
	p, err := packageurl.FromString(purl)
	if err != nil || p.Name == "" {
		return vigil.PackageKey{}, false
	}
	typ := strings.ToLower(p.Type)
	name := strings.ToLower(p.Name)
	if typ == "pypi" {
		name = pep503(name)
	}
	if p.Namespace != "" {
		name = strings.ToLower(p.Namespace) + "/" + name
	}
	return vigil.PackageKey{Kind: vigil.KeyPurl, Ecosystem: typ, Name: name}, true
}

// CPEKey returns the index key of a CPE name (part, vendor:product). ok is false for an unparsable CPE or one whose
// product is a wildcard, which names nothing to look up.
func CPEKey(s string) (vigil.PackageKey, bool) {
	c, err := cpe.Parse(s)
	if err != nil || c.Product == cpe.Any || c.Product == "" {
		return vigil.PackageKey{}, false
	}
	return vigil.PackageKey{Kind: vigil.KeyCPE, Ecosystem: c.Part, Name: c.Vendor + ":" + c.Product}, true
}

// productText folds CSAF vendor and product names for the index: lower case, inner white space collapsed.
func productText(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// ProductKeys returns the index keys of a CSAF product: its name and each model number under its vendor and also
// under no vendor (an SBOM component often names no supplier, or spells it differently), and its CPE and purl when
// the identification helper gives them.
func ProductKeys(p vigil.Product) []vigil.PackageKey {
	var out []vigil.PackageKey
	vendor := productText(p.Vendor)
	add := func(name string) {
		if n := productText(name); n != "" {
			out = append(out, vigil.PackageKey{Kind: vigil.KeyProduct, Ecosystem: vendor, Name: n})
			if vendor != "" {
				out = append(out, vigil.PackageKey{Kind: vigil.KeyProduct, Ecosystem: "", Name: n})
			}
		}
	}
	add(p.Name)
	for _, m := range p.ModelNumbers {
		add(m)
	}
	if p.CPE != "" {
		if k, ok := CPEKey(p.CPE); ok {
			out = append(out, k)
		}
	}
	if p.Purl != "" {
		if k, ok := PurlKey(p.Purl); ok {
			out = append(out, k)
		}
	}
	return out
}

// NormalizeKey is the package function NormalizeKey, for the services that hold the store as an interface.
func (db *DB) NormalizeKey(k vigil.PackageKey) vigil.PackageKey { return NormalizeKey(k) }

// NormalizeKey returns k as the index files it, so callers may pass keys built from an SBOM's own spelling.
func NormalizeKey(k vigil.PackageKey) vigil.PackageKey {
	switch k.Kind {
	case vigil.KeyPackage:
		return PackageKeyOf(k.Ecosystem, k.Name)
	case vigil.KeyPurl:
		typ := strings.ToLower(strings.TrimSpace(k.Ecosystem))
		name := strings.ToLower(strings.TrimSpace(k.Name))
		if typ == "pypi" {
			name = pep503(name)
		}
		return vigil.PackageKey{Kind: k.Kind, Ecosystem: typ, Name: name}
	case vigil.KeyCPE:
		return vigil.PackageKey{Kind: k.Kind, Ecosystem: strings.ToLower(strings.TrimSpace(k.Ecosystem)), Name: strings.ToLower(strings.TrimSpace(k.Name))}
	case vigil.KeyProduct:
		return vigil.PackageKey{Kind: k.Kind, Ecosystem: productText(k.Ecosystem), Name: productText(k.Name)}
	}
	return k
}

// AdvisoryKeys returns the sorted, de-duplicated index keys of everything an advisory names: OSV packages (and the
// purl of an entry that has no package), CPEs of affected entries (Bitnami) and of vulnerable NVD configuration
// criteria, and CSAF products.
func AdvisoryKeys(a *vigil.Advisory) []vigil.PackageKey {
	var out []vigil.PackageKey
	for i := range a.Affected {
		af := &a.Affected[i]
		if af.Name != "" {
			out = append(out, PackageKeyOf(af.Ecosystem, af.Name))
		} else if af.Purl != "" {
			if k, ok := PurlKey(af.Purl); ok {
				out = append(out, k)
			}
		}
		for _, c := range af.CPEs {
			if k, ok := CPEKey(c); ok {
				out = append(out, k)
			}
		}
	}
	for _, cfg := range a.Configurations {
		for _, n := range cfg.Nodes {
			for _, m := range n.Matches {
				if !m.Vulnerable {
					continue
				}
				if k, ok := CPEKey(m.Criteria); ok {
					out = append(out, k)
				}
			}
		}
	}
	for _, p := range a.Products {
		out = append(out, ProductKeys(p)...)
	}
	return sortKeys(out)
}

func keyLess(a, b vigil.PackageKey) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func sortKeys(ks []vigil.PackageKey) []vigil.PackageKey {
	if len(ks) < 2 {
		return ks
	}
	slices.SortFunc(ks, keyLess)
	return slices.Compact(ks)
}
