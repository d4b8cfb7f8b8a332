package match

import (
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
	"github.com/vigil-dev/vigil/internal/version"
)

// Store keys (vigil.PackageKey): the one vocabulary in which the store's affected index files advisories, its
// component-key index files device versions' components, and an import reports what changed. The store computes
// them here, by the same walk over an advisory as the Index's own keys (walkKeys in key.go), so the two cannot drift
// apart: TestStoreKeysCoverIndexKeys holds the store's keys of every real advisory to cover the Index's. Each advisory is filed under the keys of what it
// names, normalized so that the matcher finds it from however an SBOM spells the package. Normalization is deliberately generous (a superset is harmless: the
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
		return normPyPI(name)
	case foldCase[base]:
		return strings.ToLower(name)
	}
	return name
}

// PackageKeyOf returns the index key of an OSV package.
func PackageKeyOf(ecosystem, name string) vigil.PackageKey {
	base := EcosystemBase(ecosystem)
	return vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: base, Name: PackageName(base, name)}
}

// PurlKey returns the index key of a package URL (type, namespace/name, both lower case; PyPI names by PEP 503).
// ok is false for an unparsable purl.
func PurlKey(purl string) (vigil.PackageKey, bool) {
	p, err := ParsePurl(purl)
	if err != nil {
		return vigil.PackageKey{}, false
	}
	return purlKey(p.Type, p.Namespace, p.Name), true
}

// purlKey is the store key of a purl's type, namespace and name.
func purlKey(typ, namespace, name string) vigil.PackageKey {
	typ = strings.ToLower(strings.TrimSpace(typ))
	name = strings.ToLower(strings.TrimSpace(name))
	if typ == "pypi" {
		name = normPyPI(name)
	}
	if namespace != "" {
		name = strings.ToLower(namespace) + "/" + name
	}
	return vigil.PackageKey{Kind: vigil.KeyPurl, Ecosystem: typ, Name: name}
}

// CPEKey returns the index key of a CPE name (part, vendor:product as the CPE writes them). ok is false for an
// unparsable CPE or one whose vendor or product holds a wildcard: those name nothing the Index can look up.
func CPEKey(s string) (vigil.PackageKey, bool) {
	if s == "" || len(s) > cpe.MaxLen {
		return vigil.PackageKey{}, false
	}
	c, err := cpe.Parse(s)
	if err != nil {
		return vigil.PackageKey{}, false
	}
	if _, ok := cpeKey(c); !ok {
		return vigil.PackageKey{}, false
	}
	return vigil.PackageKey{Kind: vigil.KeyCPE, Ecosystem: c.Part, Name: c.Vendor + ":" + c.Product}, true
}

// ProductKeys returns the index keys of a CSAF product: its name and each model number under its vendor and also
// under no vendor (an SBOM component often names no supplier, or spells it differently), and its CPE and purl when
// the identification helper gives them.
func ProductKeys(p vigil.Product) []vigil.PackageKey {
	var out []vigil.PackageKey
	vendor := csafName(p.Vendor)
	add := func(name string) {
		if n := csafName(name); n != "" {
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

// NormalizeKey returns k as the index files it, so callers may pass keys built from an SBOM's own spelling.
func NormalizeKey(k vigil.PackageKey) vigil.PackageKey {
	switch k.Kind {
	case vigil.KeyPackage:
		return PackageKeyOf(k.Ecosystem, k.Name)
	case vigil.KeyPurl:
		return purlKey(k.Ecosystem, "", k.Name)
	case vigil.KeyCPE:
		return vigil.PackageKey{Kind: k.Kind, Ecosystem: strings.ToLower(strings.TrimSpace(k.Ecosystem)), Name: strings.ToLower(strings.TrimSpace(k.Name))}
	case vigil.KeyProduct:
		return vigil.PackageKey{Kind: k.Kind, Ecosystem: csafName(k.Ecosystem), Name: csafName(k.Name)}
	}
	return k
}

// storeKeys is the store's vocabulary: OSV packages (and the purl of an entry that has no package), CPEs, and CSAF
// products by name and model under their vendor and none, and by their CPE and purl.
var storeKeys = keyEncoding[vigil.PackageKey]{
	affected: func(af *vigil.Affected) (vigil.PackageKey, bool) {
		if af.Name != "" {
			return PackageKeyOf(af.Ecosystem, af.Name), true
		}
		if af.Purl != "" {
			return PurlKey(af.Purl)
		}
		return vigil.PackageKey{}, false
	},
	cpe:     CPEKey,
	product: ProductKeys,
}

// AdvisoryKeys returns the sorted, de-duplicated store keys of everything an advisory names (walkKeys in the
// store's vocabulary).
func AdvisoryKeys(a *vigil.Advisory) []vigil.PackageKey {
	return SortKeys(walkKeys(a, storeKeys))
}

// StoreKeys returns the keys of comps as the store's reverse index holds them: normalized (NormalizeKey), without
// nameless ones, sorted and de-duplicated. A re-match reads them once per version, to check the version's reverse
// index and to match (Engine.MatchKeys).
func StoreKeys(comps []vigil.Component) []vigil.PackageKey {
	seen := make(map[vigil.PackageKey]bool, 3*len(comps)) // a component has two or three keys
	out := make([]vigil.PackageKey, 0, 3*len(comps))
	for _, c := range comps {
		for _, k := range ComponentKeys(c, Options{}) {
			k = NormalizeKey(k)
			if k.Name == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, k)
		}
	}
	return SortKeys(out)
}
