package match

import (
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
	"github.com/vigil-dev/vigil/internal/version"
)

// Key ecosystems that are not OSV ecosystems.
const (
	// KeyCPE keys CPE-named data: Name is "vendor:product", lower case, unquoted (NVD configurations, OSV's Bitnami
	// CPEs, CSAF products with a CPE, components with a CPE).
	KeyCPE = "cpe"
	// KeyCSAF keys CSAF products that have neither purl nor CPE: Name is the product name, lower case, with white
	// space collapsed. Components are looked up under their own name the same way.
	KeyCSAF = "csaf"
)

// Key names a package the way both advisories and components can be reduced to: the OSV base ecosystem as
// version.Normalize spells it ("PyPI", "Debian", never "Debian:12": the release is checked after lookup) and the
// package name as that ecosystem's matcher normalizes it ("django-rest-framework", "@angular/core",
// "org.apache.logging.log4j:log4j-core", "github.com/BurntSushi/toml"). An ecosystem Vigil cannot order keeps the
// advisory's spelling. KeyCPE and KeyCSAF keys name CPE products and CSAF product names.
//
// The store indexes each advisory under AdvisoryKeys and answers Source.Lookup for ComponentKeys, so the two sides
// meet without either knowing ecosystem rules.
type Key struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

// String renders k as "Ecosystem:Name" (base ecosystem names hold no colon, so ParseKey can split it).
func (k Key) String() string { return k.Ecosystem + ":" + k.Name }

// ParseKey reverses Key.String.
func ParseKey(s string) (Key, error) {
	eco, name, ok := strings.Cut(s, ":")
	if !ok || eco == "" || name == "" {
		return Key{}, vigil.Errorf(vigil.EINVALID, "package key %q: want ECOSYSTEM:NAME", clip(s))
	}
	return Key{Ecosystem: eco, Name: name}, nil
}

// Package is what a component is in one ecosystem: the key to look it up under, and the version to compare.
type Package struct {
	Key Key
	// Release is the distribution release the component was built for (Debian "11", Alpine "3.18", Ubuntu
	// "22.04"), "" when unknown or not applicable.
	Release string
	// Version is the component's version as the ecosystem's advisories spell it ("1.21.0" for Go's stdlib
	// "go1.21.0", "1:2.3-4" with a purl epoch qualifier).
	Version string
}

// Options tune how components are identified.
type Options struct {
	// Ecosystem is the ecosystem declared for components that have no purl (an SBOM of one language's packages):
	// their group and name are then read as that ecosystem's purl would hold them. OSV spelling, any case.
	Ecosystem string
}

// ComponentKeys returns the keys under which a component's advisories are found: one per package it denotes
// (a Debian binary package also names its source package), its CPE's vendor:product, and its name for CSAF
// products. The portfolio's reverse index (which device versions contain this package?) uses the same keys.
func ComponentKeys(c vigil.Component, opt Options) []Key {
	var keys []Key
	for _, p := range Identify(c, opt) {
		keys = append(keys, p.Key)
	}
	if k, ok := cpeKeyOf(c.CPE); ok {
		keys = append(keys, k)
	}
	if n := csafName(c.Name); n != "" {
		keys = append(keys, Key{KeyCSAF, n})
	}
	return dedupKeys(keys)
}

// Identify returns the packages a component denotes: from its purl (with the CycloneDX group standing in for a
// missing purl namespace), else from its group and name in the declared ecosystem. None when neither says.
func Identify(c vigil.Component, opt Options) []Package {
	p, ok := componentPurl(c, opt)
	if !ok {
		return nil
	}
	m := byPurlType[p.Type]
	if m == nil {
		return nil
	}
	return m.Identify(p)
}

// Purl is a parsed package URL, as matchers read it.
type Purl struct {
	Type       string
	Namespace  string
	Name       string
	Version    string
	Qualifiers map[string]string
	Subpath    string
}

// componentPurl reads the component's purl, or builds one from the declared ecosystem.
func componentPurl(c vigil.Component, opt Options) (Purl, bool) {
	if c.Purl != "" {
		p, err := ParsePurl(c.Purl)
		if err != nil {
			return Purl{}, false
		}
		if p.Namespace == "" && c.Group != "" && namespaced[p.Type] {
			// CycloneDX puts Maven groupIds, npm scopes and Composer vendors in group; some tools leave them out
			// of the purl.
			p.Namespace = c.Group
		}
		if p.Version == "" {
			p.Version = c.Version
		}
		return p, true
	}
	if opt.Ecosystem == "" || c.Name == "" {
		return Purl{}, false
	}
	eco, _ := version.Normalize(opt.Ecosystem)
	if eco == "" {
		eco = opt.Ecosystem
	}
	base, _, _ := strings.Cut(eco, ":")
	m := byEcosystem[base]
	if m == nil || len(m.PurlTypes()) == 0 {
		return Purl{}, false
	}
	p := Purl{Type: m.PurlTypes()[0], Name: c.Name, Namespace: c.Group, Version: c.Version}
	if p.Type == "maven" && p.Namespace == "" {
		// "group:artifact" written as the name.
		if g, a, ok := strings.Cut(c.Name, ":"); ok {
			p.Namespace, p.Name = g, a
		}
	}
	if (p.Type == "npm" || p.Type == "composer" || p.Type == "golang") && p.Namespace == "" {
		if i := strings.LastIndexByte(c.Name, '/'); i > 0 {
			p.Namespace, p.Name = c.Name[:i], c.Name[i+1:]
		}
	}
	return p, true
}

// namespaced lists the purl types whose namespace is part of the package name.
var namespaced = map[string]bool{"maven": true, "npm": true, "composer": true, "golang": true}

// ParsePurl parses a package URL. Go module paths keep their case (packageurl-go lower-cases them, but OSV spells
// github.com/BurntSushi/toml with capitals).
func ParsePurl(s string) (Purl, error) {
	if len(s) > maxField {
		return Purl{}, vigil.Errorf(vigil.EINVALID, "package URL longer than %d bytes", maxField)
	}
	p, err := packageurl.FromString(s)
	if err != nil {
		return Purl{}, vigil.Errorf(vigil.EINVALID, "malformed package URL %q: %v", clip(s), err)
	}
	out := Purl{Type: strings.ToLower(p.Type), Namespace: p.Namespace, Name: p.Name, Version: p.Version,
		Qualifiers: p.Qualifiers.Map(), Subpath: p.Subpath}
	if out.Type == "golang" {
		rest := strings.TrimLeft(s[len("pkg:"):], "/")
		if _, path, ok := strings.Cut(rest, "/"); ok {
			if g, err := packageurl.FromString("pkg:generic/" + path); err == nil {
				out.Namespace, out.Name = g.Namespace, g.Name
			}
		}
	}
	return out, nil
}

// AdvisoryKeys returns the keys under which a store must index an advisory so that Source.Lookup finds it for
// every component it may match: each affected package's ecosystem and normalized name, the vendor:product of its
// CPEs (Bitnami), of each vulnerable NVD criterion, and of CSAF products with a CPE; CSAF products with a purl
// under the purl's package keys, and the others under their name. Sorted and without duplicates.
func AdvisoryKeys(a *vigil.Advisory) []Key {
	var keys []Key
	for _, af := range a.Affected {
		if k, ok := affectedKey(af.Ecosystem, af.Name); ok {
			keys = append(keys, k)
		}
		for _, c := range af.CPEs {
			if k, ok := cpeKeyOf(c); ok {
				keys = append(keys, k)
			}
		}
	}
	for _, cfg := range a.Configurations {
		for _, n := range cfg.Nodes {
			for _, m := range n.Matches {
				if !m.Vulnerable {
					continue
				}
				if k, ok := cpeKeyOf(m.Criteria); ok {
					keys = append(keys, k)
				}
			}
		}
	}
	for _, p := range a.Products {
		keys = append(keys, productKeys(p)...)
	}
	return dedupKeys(keys)
}

// affectedKey keys an OSV affected package.
func affectedKey(ecosystem, name string) (Key, bool) {
	base, _ := ecosystemBase(ecosystem)
	if base == "" || name == "" {
		return Key{}, false
	}
	if m := byEcosystem[base]; m != nil {
		name = m.NormalizeName(base, name)
	}
	return Key{base, name}, true
}

// ecosystemBase returns OSV's spelling of the base ecosystem (before the first ':') and the suffix. Ecosystems
// Vigil cannot order keep the record's spelling.
func ecosystemBase(ecosystem string) (base, suffix string) {
	b, suffix, _ := strings.Cut(ecosystem, ":")
	if canon, ok := version.Normalize(b); ok {
		b, _, _ = strings.Cut(canon, ":")
	}
	return b, suffix
}

func productKeys(p vigil.Product) []Key {
	var keys []Key
	if p.Purl != "" {
		if pu, err := ParsePurl(p.Purl); err == nil {
			if m := byPurlType[pu.Type]; m != nil {
				for _, pk := range m.Identify(pu) {
					keys = append(keys, pk.Key)
				}
			}
		}
	}
	if k, ok := cpeKeyOf(p.CPE); ok {
		keys = append(keys, k)
	}
	if p.Purl == "" && p.CPE == "" {
		if n := csafName(p.Name); n != "" {
			keys = append(keys, Key{KeyCSAF, n})
		}
	}
	return keys
}

// cpeKeyOf keys a CPE name by vendor:product. Names with Any, NA or wildcards there cannot be keyed.
func cpeKeyOf(s string) (Key, bool) {
	if s == "" {
		return Key{}, false
	}
	c, err := cpe.Parse(s)
	if err != nil {
		return Key{}, false
	}
	return cpeKey(c)
}

func cpeKey(c cpe.CPE) (Key, bool) {
	v, p := cpe.Unquote(c.Vendor), cpe.Unquote(c.Product)
	if v == "" || p == "" || hasWild(c.Vendor) || hasWild(c.Product) {
		return Key{}, false
	}
	return Key{KeyCPE, strings.ToLower(v) + ":" + strings.ToLower(p)}, true
}

// hasWild reports whether a canonical CPE value holds an unquoted wildcard.
func hasWild(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		}
	}
	return false
}

// csafName normalizes a product or component name for CSAF name lookups: lower case, white space collapsed.
func csafName(s string) string {
	if len(s) > maxField {
		return ""
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func dedupKeys(keys []Key) []Key {
	slices.SortFunc(keys, func(a, b Key) int {
		if c := strings.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return slices.Compact(keys)
}

// maxField bounds any single string the matcher reads from a component or an advisory.
const maxField = 4096

// clip shortens untrusted text quoted in messages.
func clip(s string) string {
	if len(s) <= 120 {
		return s
	}
	cut := 120
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
