package match

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
	"github.com/vigil-dev/vigil/internal/version"
)

// Internal key ecosystems that are not OSV ecosystems.
const (
	// keyCPE keys CPE-named data: name is "vendor:product", lower case, unquoted (NVD configurations, OSV's Bitnami
	// CPEs, CSAF products with a CPE, components with a CPE).
	keyCPE = "cpe"
	// keyCSAF keys CSAF products that have neither purl nor CPE: name is the product name, lower case, with white
	// space collapsed. Components are looked up under their own name the same way.
	keyCSAF = "csaf"
)

// key is how the Index files affected data: the OSV base ecosystem as version.Normalize spells it ("PyPI",
// "Debian", never "Debian:12": the release is checked after lookup) and the package name as that ecosystem's
// matcher normalizes it ("django-rest-framework", "@angular/core", "org.apache.logging.log4j:log4j-core",
// "github.com/BurntSushi/toml"); or keyCPE/keyCSAF with a CPE product or CSAF product name. Outside the package,
// keys are vigil.PackageKey (the store's vocabulary): ComponentKeys speaks it and Index.Lookup understands it.
type key struct {
	eco, name string
}

// Package is what a component is in one ecosystem: the key to look it up under, and the version to compare.
type Package struct {
	// Ecosystem is OSV's base ecosystem name (version.Normalize's spelling, no ":release" suffix).
	Ecosystem string
	// Name is the package name as OSV names it in that ecosystem, normalized by the ecosystem's matcher.
	Name string
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

// ComponentKeys returns the store keys (vigil.PackageKey, as internal/store indexes advisories) under which a
// component's advisories are found: one per OSV package it denotes (a Debian binary package also names its source
// package), its purl's type and name, its CPE's part and vendor:product, and its name as a CSAF product under each
// vendor it may be filed under (supplier, group, none). The keys over-approximate: the matcher re-checks every
// advisory found. The portfolio's reverse index (which device versions hold this package?) can use them too.
func ComponentKeys(c vigil.Component, opt Options) []vigil.PackageKey {
	var keys []vigil.PackageKey
	for _, p := range Identify(c, opt) {
		keys = append(keys, vigil.PackageKey{Kind: vigil.KeyPackage, Ecosystem: p.Ecosystem, Name: p.Name})
	}
	if p, ok := componentPurl(c, opt); ok && p.Name != "" {
		keys = append(keys, purlKey(p.Type, p.Namespace, p.Name))
	}
	if k, ok := CPEKey(c.CPE); ok {
		keys = append(keys, k)
	}
	if n := csafName(c.Name); n != "" {
		keys = append(keys, vigil.PackageKey{Kind: vigil.KeyProduct, Ecosystem: "", Name: n})
		for _, v := range []string{c.Supplier, c.Group} {
			for _, vv := range vendorSpellings(v) {
				keys = append(keys, vigil.PackageKey{Kind: vigil.KeyProduct, Ecosystem: vv, Name: n})
			}
		}
	}
	return SortKeys(keys)
}

// corporateSuffixes are the legal-form words an SBOM's supplier name carries and a CSAF vendor name often drops.
var corporateSuffixes = map[string]bool{"ag": true, "inc": true, "incorporated": true, "gmbh": true, "ltd": true,
	"limited": true, "llc": true, "corp": true, "corporation": true, "co": true, "company": true, "sa": true,
	"plc": true, "bv": true, "nv": true, "se": true, "kg": true, "spa": true, "srl": true, "oy": true, "ab": true,
	"as": true, "kk": true, "pty": true, "lp": true, "llp": true}

// vendorSpellings returns a supplier name as CSAF product keys file vendors: as written (lower case, white space
// collapsed) and without its legal form ("Fresenius Kabi AG" → "fresenius kabi", "Wind River Systems, Inc." →
// "wind river systems").
func vendorSpellings(s string) []string {
	full := csafName(s)
	if full == "" {
		return nil
	}
	words := strings.Fields(full)
	for len(words) > 1 && corporateSuffixes[strings.ReplaceAll(strings.Trim(words[len(words)-1], ",."), ".", "")] {
		words = words[:len(words)-1]
	}
	if len(words) > 0 {
		words[len(words)-1] = strings.TrimRight(words[len(words)-1], ",")
	}
	if short := strings.Join(words, " "); short != full {
		return []string{full, short}
	}
	return []string{full}
}

// internalKeys turns a store key into the Index's keys.
func internalKeys(k vigil.PackageKey) []key {
	switch k.Kind {
	case vigil.KeyPackage:
		if kk, ok := affectedKey(k.Ecosystem, k.Name); ok {
			return []key{kk}
		}
	case vigil.KeyPurl:
		p := Purl{Type: strings.ToLower(k.Ecosystem), Name: k.Name}
		if i := strings.LastIndexByte(k.Name, '/'); i > 0 {
			p.Namespace, p.Name = k.Name[:i], k.Name[i+1:]
		}
		if m := byPurlType[p.Type]; m != nil {
			var out []key
			for _, pk := range m.Identify(p) {
				out = append(out, key{pk.Ecosystem, pk.Name})
			}
			return out
		}
	case vigil.KeyCPE:
		vendor, product, ok := strings.Cut(k.Name, ":")
		if ok && vendor != "" && product != "" {
			return []key{{keyCPE, strings.ToLower(cpe.Unquote(vendor)) + ":" + strings.ToLower(cpe.Unquote(product))}}
		}
	case vigil.KeyProduct:
		if n := csafName(k.Name); n != "" {
			return []key{{keyCSAF, n}}
		}
	}
	return nil
}

// SortKeys sorts keys (CompareKeys) and drops duplicates, in place.
func SortKeys(keys []vigil.PackageKey) []vigil.PackageKey {
	slices.SortFunc(keys, CompareKeys)
	return slices.Compact(keys)
}

// CompareKeys orders keys by kind, ecosystem, then name.
func CompareKeys(a, b vigil.PackageKey) int {
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Ecosystem, b.Ecosystem), strings.Compare(a.Name, b.Name))
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

// ParsePurl parses a package URL into its parts, percent-decoded: type (lower case), namespace, name, version,
// qualifiers (keys lower case) and subpath. It applies no type-specific normalization (matchers normalize names
// per ecosystem) and so keeps Go module paths' case, which OSV keeps (github.com/BurntSushi/toml). It is the
// matcher's hot path, so it slices the string instead of building a URL; SBOM readers have already validated purls
// with packageurl-go, and FuzzParsePurl holds the two to the same packages.
func ParsePurl(s string) (Purl, error) {
	bad := func(why string) (Purl, error) {
		return Purl{}, vigil.Errorf(vigil.EINVALID, "malformed package URL %q: %s", clip(s), why)
	}
	if len(s) > maxField {
		return Purl{}, vigil.Errorf(vigil.EINVALID, "package URL longer than %d bytes", maxField)
	}
	if len(s) < 4 || !strings.EqualFold(s[:4], "pkg:") {
		return bad(`scheme is not "pkg"`)
	}
	rest := strings.TrimLeft(s[4:], "/")
	var p Purl
	var query string
	rest, p.Subpath, _ = strings.Cut(rest, "#")
	rest, query, _ = strings.Cut(rest, "?")
	typ, path, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return bad("no type")
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i] | 0x20
		if !('a' <= c && c <= 'z' || '0' <= typ[i] && typ[i] <= '9' || typ[i] == '.' || typ[i] == '+' || typ[i] == '-') {
			return bad("invalid type")
		}
	}
	p.Type = strings.ToLower(typ)
	if p.Type != "npm" && strings.HasPrefix(path, "@") || p.Type == "npm" && strings.HasPrefix(path, "@") && !strings.Contains(path, "/") {
		return bad("no name")
	}
	// As the purl specification (and packageurl-go) reads it: the version after the rightmost "@" (not a leading
	// one: an npm scope), the name after the rightmost "/", the namespace's non-empty segments before it.
	if at := strings.LastIndexByte(path, '@'); at > 0 {
		path, p.Version = path[:at], path[at+1:]
	}
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		p.Namespace, p.Name = path[:i], path[i+1:]
		if strings.Contains(p.Namespace, "//") || strings.HasPrefix(p.Namespace, "/") || strings.HasSuffix(p.Namespace, "/") {
			var segs []string
			for seg := range strings.SplitSeq(p.Namespace, "/") {
				if seg != "" {
					segs = append(segs, seg)
				}
			}
			p.Namespace = strings.Join(segs, "/")
		}
	} else {
		p.Name = path
	}
	var err error
	for _, f := range []*string{&p.Namespace, &p.Name, &p.Version, &p.Subpath} {
		if *f, err = unescape(*f); err != nil {
			return bad(err.Error())
		}
	}
	if p.Name == "" {
		return bad("no name")
	}
	if query != "" {
		p.Qualifiers = make(map[string]string, 4)
		for kv := range strings.SplitSeq(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "" || v == "" {
				continue
			}
			if v, err = unescape(v); err != nil {
				return bad(err.Error())
			}
			p.Qualifiers[strings.ToLower(k)] = v
		}
	}
	return p, nil
}

// unescape percent-decodes a purl segment, allocating only when it holds an escape.
func unescape(s string) (string, error) {
	if !strings.ContainsRune(s, '%') {
		return s, nil
	}
	return url.PathUnescape(s)
}

// keyEncoding spells what an advisory names in one key vocabulary: the Index's own keys (indexKeys) or the
// store's (storeKeys, storekey.go). walkKeys is the one walk over an advisory both use, so the two vocabularies
// always key the same parts of it.
type keyEncoding[K any] struct {
	affected func(af *vigil.Affected) (K, bool) // an OSV affected package
	cpe      func(s string) (K, bool)           // a CPE of an affected entry (Bitnami) or a vulnerable NVD criterion
	product  func(p vigil.Product) []K          // a CSAF product
}

// walkKeys returns the keys of everything an advisory names, in enc's vocabulary (unsorted, with duplicates).
func walkKeys[K any](a *vigil.Advisory, enc keyEncoding[K]) []K {
	var keys []K
	add := func(k K, ok bool) {
		if ok {
			keys = append(keys, k)
		}
	}
	for i := range a.Affected {
		af := &a.Affected[i]
		add(enc.affected(af))
		for _, c := range af.CPEs {
			add(enc.cpe(c))
		}
	}
	for _, cfg := range a.Configurations {
		for _, n := range cfg.Nodes {
			for _, m := range n.Matches {
				if m.Vulnerable {
					add(enc.cpe(m.Criteria))
				}
			}
		}
	}
	for _, p := range a.Products {
		keys = append(keys, enc.product(p)...)
	}
	return keys
}

// indexKeys is the Index's vocabulary: each affected package's ecosystem and normalized name, the vendor:product of
// CPEs; CSAF products with a purl under the purl's package keys, with a CPE under its vendor:product, and the
// others under their name.
var indexKeys = keyEncoding[key]{
	affected: func(af *vigil.Affected) (key, bool) { return affectedKey(af.Ecosystem, af.Name) },
	cpe:      cpeKeyOf,
	product:  productKeys,
}

// advisoryKeys returns the keys under which the Index files an advisory, sorted and without duplicates.
func advisoryKeys(a *vigil.Advisory) []key {
	return dedupKeys(walkKeys(a, indexKeys))
}

// affectedKey keys an OSV affected package.
func affectedKey(ecosystem, name string) (key, bool) {
	base, _ := ecosystemBase(ecosystem)
	if base == "" || name == "" || len(name) > maxField {
		return key{}, false
	}
	if m := byEcosystem[base]; m != nil {
		name = m.NormalizeName(base, name)
	}
	return key{base, name}, true
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

func productKeys(p vigil.Product) []key {
	var keys []key
	if p.Purl != "" {
		if pu, err := ParsePurl(p.Purl); err == nil {
			if m := byPurlType[pu.Type]; m != nil {
				for _, pk := range m.Identify(pu) {
					keys = append(keys, key{pk.Ecosystem, pk.Name})
				}
			}
		}
	}
	if k, ok := cpeKeyOf(p.CPE); ok {
		keys = append(keys, k)
	}
	if p.Purl == "" && p.CPE == "" {
		if n := csafName(p.Name); n != "" {
			keys = append(keys, key{keyCSAF, n})
		}
	}
	return keys
}

// cpeKeyOf keys a CPE name by vendor:product. Names with Any, NA or wildcards there cannot be keyed.
func cpeKeyOf(s string) (key, bool) {
	if s == "" || len(s) > cpe.MaxLen {
		return key{}, false
	}
	c, err := cpe.Parse(s)
	if err != nil {
		return key{}, false
	}
	return cpeKey(c)
}

func cpeKey(c cpe.CPE) (key, bool) {
	v, p := cpe.Unquote(c.Vendor), cpe.Unquote(c.Product)
	if v == "" || p == "" || hasWild(c.Vendor) || hasWild(c.Product) {
		return key{}, false
	}
	return key{keyCPE, strings.ToLower(v) + ":" + strings.ToLower(p)}, true
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

func dedupKeys(keys []key) []key {
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.eco, b.eco); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
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
