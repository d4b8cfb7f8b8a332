package version

import (
	"sort"
	"strings"
)

// family is one version ordering. Several ecosystems share one (every RPM distribution orders like rpmvercmp).
type family uint8

const (
	famSemver    family = iota + 1 // SemVer 2.0 precedence, at most three numeric components, optional leading v
	famNuGet                       // SemVer-like, four numeric components, case-insensitive prerelease
	famPub                         // SemVer-like, build metadata breaks ties
	famHackage                     // any number of numeric components, nothing else
	famKernel                      // any number of numeric components, then a SemVer-style prerelease (6.1-rc1)
	famDebian                      // dpkg: epoch:upstream-revision
	famOpam                        // opam: the dpkg fragment order over the whole string
	famRPM                         // rpmvercmp: epoch:version-release
	famAlpine                      // apk
	famPyPI                        // PEP 440 (with legacy versions ordered first)
	famMaven                       // Maven ComparableVersion
	famPackagist                   // PHP version_compare / Composer
	famRubyGems                    // Gem::Version
	famCRAN                        // R package_version
)

var familyNames = map[family]string{
	famSemver: "SemVer", famNuGet: "NuGet", famPub: "Pub", famHackage: "Hackage", famKernel: "Linux",
	famDebian: "Debian", famOpam: "opam", famRPM: "RPM", famAlpine: "Alpine", famPyPI: "PyPI", famMaven: "Maven",
	famPackagist: "Packagist", famRubyGems: "RubyGems", famCRAN: "CRAN",
}

// ecosystems maps OSV's spelling of every ecosystem Vigil can order (https://ossf.github.io/osv-schema/, the list in
// ecosystems.json) to its ordering. Ecosystems that OSV only describes with GIT ranges or explicit version lists
// (Android, OSS-Fuzz, FreeBSD, ...) or whose ordering is not published (CleanStart, Echo, TuxCare) are left out on
// purpose: an unknown ecosystem is an error, never a guess, so a finding can be marked "could not evaluate".
var ecosystems = map[string]family{
	// SemVer, as osv-scalibr orders them.
	"Bitnami": famSemver, "ConanCenter": famSemver, "crates.io": famSemver, "Docker Hardened Images": famSemver,
	"GHC": famSemver, "Go": famSemver, "Hex": famSemver, "Julia": famSemver, "npm": famSemver,
	"SwiftURL": famSemver,
	// SemVer too (OSV's own converters emit SemVer ranges for them) though osv-scalibr does not list them.
	"GitHub Actions": famSemver, "Kubernetes": famSemver, "VSCode": famSemver,
	// Not an ecosystem: the order of OSV ranges of type SEMVER, whatever the package's ecosystem.
	SemVer:    famSemver,
	"NuGet":   famNuGet,
	"Pub":     famPub,
	"Hackage": famHackage,
	// Kernel releases have four components (2.6.32.1) and -rc prereleases; SemVer's three-component limit would
	// put 2.6.32.1 before 2.6.32.
	"Linux": famKernel,
	// R's package_version; Bioconductor packages are R packages (osv-scalibr orders them as SemVer, which would
	// read 1.2-3 as a prerelease of 1.2).
	"CRAN": famCRAN, "Bioconductor": famCRAN,
	"Debian": famDebian, "Ubuntu": famDebian,
	"opam":      famOpam,
	"AlmaLinux": famRPM, "Azure Linux": famRPM, "Mageia": famRPM, "openEuler": famRPM, "openSUSE": famRPM,
	"Photon OS": famRPM, "Red Hat": famRPM, "Rocky Linux": famRPM, "SUSE": famRPM,
	"Alpaquita": famAlpine, "Alpine": famAlpine, "BellSoft Hardened Containers": famAlpine,
	"Chainguard": famAlpine, "MinimOS": famAlpine, "Wolfi": famAlpine,
	"PyPI":      famPyPI,
	"Maven":     famMaven,
	"Packagist": famPackagist,
	"RubyGems":  famRubyGems,
}

// SemVer names the SemVer 2.0 order itself, for OSV ranges of type SEMVER (which use it in every ecosystem).
const SemVer = "SemVer"

// root is OSV's "Root" ecosystem: Root:{BaseDistro}:{Release} or Root:{PackageManager}, ordered as the ecosystem
// it wraps.
const root = "Root"

// lowerNames maps the lower-case spelling of each name to OSV's spelling, for case-insensitive lookups.
var lowerNames = func() map[string]string {
	m := make(map[string]string, len(ecosystems)+1)
	for name := range ecosystems {
		m[strings.ToLower(name)] = name
	}
	m[strings.ToLower(root)] = root
	return m
}()

// Known returns OSV's spelling of every ecosystem Vigil can order, and SemVer, sorted case-insensitively. Each
// also accepts OSV's ":suffix" forms (Debian:12, Alpine:v3.18, Ubuntu:22.04:LTS, Red Hat:rhel_aus:8.4::appstream, Root:PyPI).
func Known() []string {
	out := make([]string, 0, len(ecosystems)+1)
	for name := range ecosystems {
		out = append(out, name)
	}
	out = append(out, root)
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i]), strings.ToLower(out[j])
		if a != b {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}

// Normalize returns OSV's spelling of ecosystem: the base name (before the first ':') is matched
// case-insensitively and re-spelled as OSV spells it ("pypi" → "PyPI", "debian:12" → "Debian:12"); the suffix
// is kept as written, except that an empty one is dropped ("Debian:" → "Debian"). For Root, the wrapped
// ecosystem is normalized too ("root:alpine:3.18" → "Root:Alpine:3.18"). ok is false when Vigil has no
// version order for the ecosystem.
func Normalize(ecosystem string) (canonical string, ok bool) {
	canonical, _, ok = lookup(ecosystem)
	return canonical, ok
}

// lookup normalizes ecosystem and finds its ordering.
func lookup(ecosystem string) (string, family, bool) {
	base, suffix, hasSuffix := strings.Cut(ecosystem, ":")
	name, ok := ecosystemName(base)
	if !ok {
		return "", 0, false
	}
	if name == root {
		// Root:{Distro}:{Release} or Root:{PackageManager}: order as the wrapped ecosystem.
		inner, fam, ok := lookup(suffix)
		if !ok || !hasSuffix || inner == root || strings.HasPrefix(inner, root+":") {
			return "", 0, false
		}
		return root + ":" + inner, fam, true
	}
	if suffix == "" {
		return name, ecosystems[name], true
	}
	return name + ":" + suffix, ecosystems[name], true
}

func ecosystemName(base string) (string, bool) {
	if _, ok := ecosystems[base]; ok || base == root {
		return base, true
	}
	if len(base) > 64 { // no ecosystem name is this long; do not lower-case arbitrary input
		return "", false
	}
	name, ok := lowerNames[strings.ToLower(base)]
	return name, ok
}
