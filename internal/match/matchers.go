package match

import (
	"strings"
)

// Matcher knows one package ecosystem (or one family of them, such as the Debian-format distributions): which purl
// types denote its packages, how its package names are normalized, how its components' versions are spelled in
// advisories, and what an advisory's ecosystem suffix says about distribution releases. Range evaluation is the
// same for every ecosystem (OSV's algorithm over internal/version's order), so a matcher holds only what differs.
type Matcher interface {
	// Ecosystems lists the OSV base ecosystem names (version.Normalize's spelling) whose advisories it reads.
	Ecosystems() []string
	// PurlTypes lists the purl types whose components it identifies; the first is the canonical one.
	PurlTypes() []string
	// NormalizeName spells a package name of one of its ecosystems the way keys compare: advisory names and
	// component names go through it alike (PEP 503 for PyPI, lower case where the registry ignores case).
	NormalizeName(ecosystem, name string) string
	// Release returns the distribution release an advisory's ecosystem suffix names ("Debian:11" → "11",
	// "Alpine:v3.18" → "3.18"), "" when the suffix is no release (Maven's repository URL) or there is none.
	Release(ecosystem, suffix string) string
	// Identify returns the packages a purl denotes in its ecosystems.
	Identify(p Purl) []Package
}

// matchers is the explicit list of ecosystem matchers, in the style of grype's matchers.go: adding an ecosystem
// means adding a line here, and nothing else decides which ecosystems Vigil matches.
var matchers = []Matcher{
	lang{eco: "PyPI", purl: "pypi", norm: normPyPI},
	lang{eco: "npm", purl: "npm", join: joinNpm},
	lang{eco: "Maven", purl: "maven", join: joinMaven},
	golang{},
	lang{eco: "crates.io", purl: "cargo", norm: normCrate},
	lang{eco: "RubyGems", purl: "gem"},
	lang{eco: "NuGet", purl: "nuget", norm: strings.ToLower},
	lang{eco: "Packagist", purl: "composer", norm: strings.ToLower, join: joinSlash},
	lang{eco: "Pub", purl: "pub", norm: strings.ToLower},
	lang{eco: "Hex", purl: "hex", norm: strings.ToLower},
	lang{eco: "SwiftURL", purl: "swift", norm: normSwift, join: joinSlash},
	lang{eco: "Bitnami", purl: "bitnami", norm: strings.ToLower},
	lang{eco: "ConanCenter", purl: "conan", norm: strings.ToLower},
	lang{eco: "CRAN", purl: "cran"},
	lang{eco: "Hackage", purl: "hackage"},
	lang{eco: "opam", purl: "opam"},
	lang{eco: "Julia", purl: "julia"},
	distro{fmt: "deb", ecos: map[string]string{"debian": "Debian", "ubuntu": "Ubuntu"}, releases: releaseDebian},
	distro{fmt: "apk", ecos: map[string]string{"alpine": "Alpine", "wolfi": "Wolfi", "chainguard": "Chainguard",
		"alpaquita": "Alpaquita", "minimos": "MinimOS"}, releases: releaseFirst},
	distro{fmt: "rpm", ecos: map[string]string{"redhat": "Red Hat", "rhel": "Red Hat", "rocky": "Rocky Linux",
		"almalinux": "AlmaLinux", "opensuse": "openSUSE", "suse": "SUSE", "sles": "SUSE", "photon": "Photon OS",
		"mageia": "Mageia", "openeuler": "openEuler", "azurelinux": "Azure Linux", "mariner": "Azure Linux"},
		releases: releaseRPM},
}

// byPurlType and byEcosystem index the list.
var byPurlType, byEcosystem = func() (map[string]Matcher, map[string]Matcher) {
	pt, eco := map[string]Matcher{}, map[string]Matcher{}
	for _, m := range matchers {
		for _, t := range m.PurlTypes() {
			pt[t] = m
		}
		for _, e := range m.Ecosystems() {
			eco[e] = m
		}
	}
	return pt, eco
}()

// Matchers returns the registered matchers, in order.
func Matchers() []Matcher { return append([]Matcher(nil), matchers...) }

// lang is a language package ecosystem: one OSV ecosystem, one purl type, names that may join a namespace.
type lang struct {
	eco  string
	purl string
	norm func(string) string          // nil: names compare as written
	join func(ns, name string) string // nil: the namespace is not part of the name
}

func (l lang) Ecosystems() []string { return []string{l.eco} }
func (l lang) PurlTypes() []string  { return []string{l.purl} }
func (l lang) Release(string, string) string {
	return "" // a suffix (Maven's and Packagist's repository URL) is no release
}

func (l lang) NormalizeName(_ string, name string) string {
	if l.norm != nil {
		return l.norm(name)
	}
	return name
}

func (l lang) Identify(p Purl) []Package {
	name := p.Name
	if l.join != nil {
		name = l.join(p.Namespace, p.Name)
	}
	if name == "" {
		return nil
	}
	return []Package{{Ecosystem: l.eco, Name: l.NormalizeName(l.eco, name), Version: p.Version}}
}

// normPyPI is PEP 503 normalization: lower case, runs of "-", "_" and "." become one "-".
func normPyPI(s string) string {
	s = strings.ToLower(s) // non-ASCII too, as packageurl-go does (PyPI names are ASCII; this only keeps the two alike)
	var b strings.Builder
	b.Grow(len(s))
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

// normCrate: crates.io names are unique regardless of case. (They are also unique regardless of "-" versus "_",
// but advisories and lock files both use the published spelling, and the store folds case only.)
func normCrate(s string) string { return strings.ToLower(s) }

// normSwift reduces a Swift package's Git URL to host/owner/repo in lower case.
func normSwift(s string) string {
	s = strings.ToLower(s)
	for _, p := range []string{"https://", "http://", "git@", "ssh://"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	return strings.Replace(s, ":", "/", 1)
}

func joinSlash(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// joinNpm writes a scoped npm name: "@scope/name". A CycloneDX group may omit the "@".
func joinNpm(ns, name string) string {
	if ns == "" {
		return name
	}
	if !strings.HasPrefix(ns, "@") {
		ns = "@" + ns
	}
	return ns + "/" + name
}

// joinMaven writes OSV's Maven name, "groupId:artifactId".
func joinMaven(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + ":" + name
}

// golang matches Go modules by module path (case kept) and the standard library, whose purls carry "go1.21.0".
type golang struct{}

func (golang) Ecosystems() []string                       { return []string{"Go"} }
func (golang) PurlTypes() []string                        { return []string{"golang"} }
func (golang) NormalizeName(_ string, name string) string { return name }
func (golang) Release(string, string) string              { return "" }

func (golang) Identify(p Purl) []Package {
	name := joinSlash(p.Namespace, p.Name)
	if name == "" {
		return nil
	}
	v := p.Version
	if name == "stdlib" || name == "toolchain" {
		v = strings.TrimPrefix(v, "go")
	}
	return []Package{{Ecosystem: "Go", Name: name, Version: v}}
}

// distro matches one package format of Linux distributions (deb, apk, rpm): the purl namespace says which
// distribution (hence which OSV ecosystem), the distro qualifier which release, and the upstream qualifier the
// source package that OSV records name.
type distro struct {
	fmt      string
	ecos     map[string]string // purl namespace → OSV ecosystem
	releases func(eco, s string) string
}

func (d distro) Ecosystems() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range d.ecos {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

func (d distro) PurlTypes() []string                        { return []string{d.fmt} }
func (d distro) NormalizeName(_ string, name string) string { return strings.ToLower(name) }
func (d distro) Release(eco, suffix string) string          { return d.releases(eco, suffix) }

func (d distro) Identify(p Purl) []Package {
	eco := d.ecos[strings.ToLower(p.Namespace)]
	if eco == "" || p.Name == "" {
		return nil
	}
	v := p.Version
	if e := p.Qualifiers["epoch"]; e != "" && v != "" && !strings.Contains(v, ":") && e != "0" {
		v = e + ":" + v
	}
	rel := ""
	if q := p.Qualifiers["distro"]; q != "" {
		rel = d.releases(eco, q)
	}
	name := strings.ToLower(p.Name)
	out := []Package{{Ecosystem: eco, Name: name, Release: rel, Version: v}}
	if src := strings.ToLower(sourceName(d.fmt, p.Qualifiers["upstream"])); src != "" && src != name {
		out = append(out, Package{Ecosystem: eco, Name: src, Release: rel, Version: v})
	}
	return out
}

// sourceName reads the source package from an upstream qualifier: "glibc", "glibc@2.31", "glibc (2.31-13)", or for
// RPM the source RPM file "openssl-1.1.1k-7.el8.src.rpm".
func sourceName(format, s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "@ ("); i >= 0 {
		s = s[:i]
	}
	if format == "rpm" && strings.HasSuffix(s, ".src.rpm") {
		s = strings.TrimSuffix(s, ".src.rpm")
		for range 2 { // drop -version-release
			if i := strings.LastIndexByte(s, '-'); i > 0 {
				s = s[:i]
			}
		}
	}
	if len(s) > 256 {
		return ""
	}
	return s
}

var debianCodenames = map[string]string{"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1",
	"potato": "2.2", "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7",
	"jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13",
	"forky": "14", "duke": "15"}

// releaseDebian reads a Debian or Ubuntu release from an advisory suffix ("11", "22.04:LTS", "Pro:18.04:LTS") or a
// purl distro qualifier ("debian-11", "bullseye", "ubuntu-22.04", "11.6").
func releaseDebian(eco, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "pro:")
	s, _, _ = strings.Cut(s, ":")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "debian-"), "ubuntu-")
	if r, ok := debianCodenames[s]; ok && eco == "Debian" {
		return r
	}
	return s
}

// releaseFirst reads "v3.18" or "alpine-3.18.4" as "3.18"/"3.18.4" (prefix comparison reconciles them).
func releaseFirst(_ string, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s, _, _ = strings.Cut(s, ":")
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimPrefix(s, "v")
}

// releaseRPM reads releases only where OSV's suffix is a plain release number (Rocky Linux:8, AlmaLinux:9,
// Photon OS:3.0, Mageia:9). Red Hat's suffix is a product stream and SUSE's a product name: they are not
// compared, so such components are matched against every stream.
func releaseRPM(eco, s string) string {
	switch eco {
	case "Rocky Linux", "AlmaLinux", "Photon OS", "Mageia":
		return releaseFirst(eco, s)
	}
	return ""
}

// releaseMatch reports whether an advisory's release and a component's agree: equal, or one a dotted prefix of
// the other ("11" and "11.6"; "3.18" and "3.18.4"). Unknown on either side agrees.
func releaseMatch(adv, comp string) bool {
	if adv == "" || comp == "" || adv == comp {
		return true
	}
	return strings.HasPrefix(comp, adv+".") || strings.HasPrefix(adv, comp+".")
}
