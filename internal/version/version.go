// Package version orders package versions the way each OSV ecosystem orders them (SemVer for npm, Go and
// crates.io; PEP 440 for PyPI; dpkg for Debian and Ubuntu; rpmvercmp for Red Hat and other RPM distributions; and
// the rest of OSV's list), so that the matcher can decide whether a component's version falls inside an advisory's
// affected range. It wraps github.com/google/osv-scalibr/semantic with OSV ecosystem-name normalization, input
// validation and Vigil's error codes, and carries its own allocation-free comparators for the families the
// matcher compares most (SemVer-like, dpkg, RPM) and for those where osv-scalibr and the ecosystem's tool disagree:
// Maven (Maven 4's ComparableVersion), Alpine (apk-tools 3) and RubyGems (Gem::Version). Tests hold each to its
// tool's own published test suite (testdata/reference) and to osv-scalibr's fixtures, listing the fixture lines
// the tool answers differently. A version the tool orders but warns about (dpkg on "a-0", apk on "1.0bc") is
// ordered as the tool orders it and carries the warning (Version.Warning), for the finding's evidence.
//
// Where OSV's semantics differ from the tool, Vigil follows OSV: Alpine versions with a number straight after a
// letter ("5.7.1p1-r0"), which apk-tools 3 calls invalid and reads only up to the letter, are read as apk-tools 2
// read them, because OSV's Alpine data names such versions from the years apk 2 built and ordered them. Versions
// come from feeds and SBOMs, so every input is bounded and checked, and nothing here panics on it.
package version

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/osv-scalibr/semantic"

	"github.com/vigil-dev/vigil"
)

// MaxLen bounds the length of a version string. The longest in osv-scalibr's fixtures is 92 bytes; anything much
// longer in a feed is garbage or an attack, not a version.
const MaxLen = 256

// Version is a parsed version of one ecosystem: parse once, compare many times. The zero Version sorts before
// every parsed one.
type Version struct {
	fam  family
	eco  string // canonical ecosystem as given to Parse
	s    string // the version as written
	impl orderable
	warn string // what the ecosystem's tool warns about a version it still orders, "" for none
}

// orderable is one family's parsed form. cmp is only called with a value of the same concrete type.
type orderable interface {
	cmp(w orderable) int
}

// Parse parses s as a version of ecosystem (OSV's spelling, any case, with or without a ":suffix"). It returns
// EINVALID for an unknown ecosystem and for a string that is not a version there: empty, longer than MaxLen, with
// whitespace or control characters, or breaking the ecosystem's grammar (a Debian version must start with a
// digit, a Go or npm version with a digit after an optional "v", a CRAN version is numbers only, ...).
func Parse(ecosystem, s string) (Version, error) {
	canonical, fam, ok := lookup(ecosystem)
	if !ok {
		return Version{}, unknownEcosystem(ecosystem)
	}
	return parse(canonical, fam, s)
}

// Compare parses a and b as versions of ecosystem and returns -1, 0 or +1 as a is before, equal to or after b.
// Errors are Parse's. Callers comparing one version against many should Parse once and use Version.Compare.
func Compare(ecosystem, a, b string) (int, error) {
	canonical, fam, ok := lookup(ecosystem)
	if !ok {
		return 0, unknownEcosystem(ecosystem)
	}
	va, err := parse(canonical, fam, a)
	if err != nil {
		return 0, err
	}
	vb, err := parse(canonical, fam, b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// Compare returns -1, 0 or +1 as v is before, equal to or after w. Versions of ecosystems that share an ordering
// (Debian and Ubuntu, every RPM distribution) compare normally; versions of unrelated orderings are not
// comparable, and are ordered by ordering then by text only so that Compare stays total and never panics.
func (v Version) Compare(w Version) int {
	switch {
	case v.impl == nil && w.impl == nil:
		return 0
	case v.impl == nil:
		return -1
	case w.impl == nil:
		return +1
	case v.fam != w.fam:
		if v.fam < w.fam {
			return -1
		}
		return +1
	}
	return v.impl.cmp(w.impl)
}

// Warning is what the ecosystem's own tool warns about a version it accepts and orders all the same (dpkg on
// "a-0": "version number does not start with digit"), "" when it accepts the version as it is. Vigil orders such a
// version as the tool does; a finding whose answer rests on one says so in its evidence.
func (v Version) Warning() string { return v.warn }

// String returns the version as written.
func (v Version) String() string { return v.s }

// Ecosystem returns the ecosystem the version was parsed for, as Normalize spells it.
func (v Version) Ecosystem() string { return v.eco }

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v.impl == nil }

func parse(eco string, fam family, s string) (Version, error) {
	if err := checkCommon(s); err != nil {
		return Version{}, invalid(eco, s, err.Error())
	}
	var impl orderable
	var warn string
	var err error
	switch fam {
	case famDebian:
		impl, warn, err = parseDpkg(s)
	case famAlpine:
		impl, warn, err = parseAlpine(s)
	default:
		impl, err = parseFamily(fam, s)
	}
	if err != nil {
		return Version{}, invalid(eco, s, err.Error())
	}
	return Version{fam: fam, eco: eco, s: s, impl: impl, warn: warn}, nil
}

// parseFamily parses a version of every family whose tool never accepts a version with a warning.
func parseFamily(fam family, s string) (orderable, error) {
	switch fam {
	case famSemver, famNuGet, famPub, famHackage, famKernel:
		return parseSemverLike(fam, s)
	case famOpam:
		return parseOpam(s)
	case famRPM:
		return parseRPM(s), nil
	case famPyPI:
		v, err := semantic.ParsePyPIVersion(s)
		if err != nil {
			return nil, scalibrErr(err)
		}
		return scalibrVersion{v}, nil
	case famMaven:
		return parseMaven(s)
	case famPackagist:
		return scalibrVersion{semantic.ParsePackagistVersion(s)}, nil
	case famRubyGems:
		return parseRubyGems(s)
	case famCRAN:
		v, err := semantic.ParseCRANVersion(s)
		if err != nil {
			return nil, scalibrErr(err)
		}
		return scalibrVersion{v}, nil
	}
	return nil, fmt.Errorf("no ordering") // unreachable: every family in the table is handled above or in parse
}

// scalibrVersion adapts an osv-scalibr version. Its Compare fails only across types, which Version.Compare rules
// out; the fallback keeps the order total anyway.
type scalibrVersion struct{ v semantic.Version }

func (a scalibrVersion) cmp(w orderable) int {
	b, ok := w.(scalibrVersion)
	if !ok {
		return 0
	}
	c, err := a.v.Compare(b.v)
	if err != nil {
		return 0
	}
	return sign(c)
}

// scalibrErr strips osv-scalibr's sentinel prefix: the message Vigil shows already says the version is invalid.
func scalibrErr(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, semantic.ErrInvalidVersion.Error())
	msg = strings.TrimLeft(msg, ": ")
	if msg == "" {
		msg = "not a version"
	}
	return fmt.Errorf("%s", msg)
}

// checkCommon applies the rules every ecosystem shares.
func checkCommon(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty")
	case len(s) > MaxLen:
		return fmt.Errorf("longer than %d bytes", MaxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("contains whitespace or a control character")
		}
	}
	return nil
}

func unknownEcosystem(ecosystem string) error {
	return vigil.Errorf(vigil.EINVALID, "unknown ecosystem %q: Vigil orders versions of %s", clip(ecosystem),
		strings.Join(Known(), ", "))
}

func invalid(eco, s, why string) error {
	return vigil.Errorf(vigil.EINVALID, "invalid %s version %q: %s", eco, clip(s), why)
}

// clip shortens untrusted text for an error message.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return +1
	}
	return 0
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

// cmpNum compares two non-negative decimal numbers of any length written without leading zeros ("" is zero).
func cmpNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return +1
	}
	return strings.Compare(a, b)
}

// trimZeros drops leading zeros from a run of digits, so that cmpNum can compare it.
func trimZeros(d string) string {
	i := 0
	for i < len(d) && d[i] == '0' {
		i++
	}
	return d[i:]
}
