package model

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// NormalizePurl validates a package URL and returns its canonical form (lower-case type, type-specific name rules,
// sorted qualifiers, canonical percent-encoding), so the same package is spelled one way whichever tool wrote the
// SBOM. Surrounding white space is ignored; "" stays "".
func NormalizePurl(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	p, err := packageurl.FromString(s)
	if err != nil {
		return "", fmt.Errorf("malformed package URL %q: %v", untrusted.Clip(s), err)
	}
	if p.Type == packageurl.TypeGolang {
		// packageurl-go lower-cases golang namespaces and names, but Go module paths are case-sensitive and the
		// advisories Vigil matches against (OSV, GHSA) spell them with their case: github.com/BurntSushi/toml.
		// Re-read the path as a generic purl, which keeps case, and put the type back.
		rest := strings.TrimLeft(s[len("pkg:"):], "/")
		if _, path, ok := strings.Cut(rest, "/"); ok {
			if g, err := packageurl.FromString("pkg:generic/" + path); err == nil {
				p.Namespace, p.Name = g.Namespace, g.Name
			}
		}
	}
	return p.ToString(), nil
}

// PurlNamespace returns the namespace of a canonical purl (Maven groupId, npm scope, ...), "" if none or invalid.
func PurlNamespace(purl string) string {
	if purl == "" {
		return ""
	}
	p, err := packageurl.FromString(purl)
	if err != nil {
		return ""
	}
	return p.Namespace
}

// Support properties: the names manufacturers use for PM2025 §V.A.4(b) support data, compared after normKey.
var (
	levelKeys = map[string]bool{"levelofsupport": true, "supportlevel": true, "support": true, "supportstatus": true}
	eosKeys   = map[string]bool{"endofsupport": true, "endofsupportdate": true, "eos": true, "eosdate": true,
		"endoflife": true, "endoflifedate": true, "eol": true, "eoldate": true, "supportend": true, "supportenddate": true}
)

// levelWords maps the words SBOMs use for a level of support (after normKey) to Vigil's levels.
var levelWords = map[string]string{
	"activelymaintained": vigil.SupportActive, "active": vigil.SupportActive, "maintained": vigil.SupportActive,
	"supported": vigil.SupportActive, "activelysupported": vigil.SupportActive,

	"nolongermaintained": vigil.SupportNoLonger, "notmaintained": vigil.SupportNoLonger,
	"unmaintained": vigil.SupportNoLonger, "nolongersupported": vigil.SupportNoLonger,
	"unsupported": vigil.SupportNoLonger, "notsupported": vigil.SupportNoLonger, "deprecated": vigil.SupportNoLonger,
	"inactive": vigil.SupportNoLonger, "endoflife": vigil.SupportNoLonger, "eol": vigil.SupportNoLonger,
	"endofsupport": vigil.SupportNoLonger, "legacy": vigil.SupportNoLonger,

	"abandoned": vigil.SupportAbandoned,

	"unknown": vigil.SupportUnknown, "": vigil.SupportUnknown, "noassertion": vigil.SupportUnknown,
}

// normKey lower-cases s and drops everything but letters and digits: "Level of Support", "level-of-support" and
// "levelOfSupport" compare equal.
func normKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// IsSupportLevelKey and IsEndOfSupportKey report whether a property name carries support data.
func IsSupportLevelKey(name string) bool { return levelKeys[normKey(name)] }

// IsEndOfSupportKey reports whether a property name carries an end-of-support date or statement.
func IsEndOfSupportKey(name string) bool { return eosKeys[normKey(name)] }

// ApplySupport records support data on c from a level word and an end-of-support value as the document states
// them (either may be ""). A level Vigil does not know leaves Support unknown and is kept in SupportNote with the
// end-of-support words, so that nothing the manufacturer wrote is lost. An end-of-support value that is a date
// (YYYY-MM-DD, or an RFC 3339 time) becomes EndOfSupport; any other words go to SupportNote.
func ApplySupport(c *vigil.Component, level, eos string) {
	level, eos = strings.TrimSpace(level), strings.TrimSpace(eos)
	c.Support = vigil.SupportUnknown
	var notes []string
	if lv, ok := levelWords[normKey(level)]; ok {
		c.Support = lv
	} else {
		notes = append(notes, "level of support: "+untrusted.Clip(level))
	}
	if eos != "" {
		if d, ok := ParseLooseDate(eos); ok {
			c.EndOfSupport = &d
		} else {
			notes = append(notes, untrusted.Clip(eos))
		}
	}
	c.SupportNote = strings.Join(notes, "; ")
}

// ParseLooseDate accepts YYYY-MM-DD and RFC 3339 times (taking their calendar date as written).
func ParseLooseDate(s string) (vigil.Date, bool) {
	s = strings.TrimSpace(s)
	if d, err := vigil.ParseDate(s); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return vigil.NewDate(t.Year(), t.Month(), t.Day()), true
	}
	return vigil.Date{}, false
}

// NormalizeHashAlg spells hash algorithm names one way for both formats: "SHA-256" for SPDX's SHA256,
// "SHA3-256" for SHA3_256, "BLAKE2b-256" as CycloneDX writes it.
func NormalizeHashAlg(alg string) string {
	a := strings.ToUpper(strings.TrimSpace(alg))
	switch {
	case strings.HasPrefix(a, "SHA3"):
		return "SHA3-" + strings.TrimLeft(a[4:], "-_")
	case strings.HasPrefix(a, "SHA") && !strings.Contains(a, "-"):
		return "SHA-" + a[3:]
	case strings.HasPrefix(a, "BLAKE2B"):
		return "BLAKE2b-" + strings.TrimLeft(a[7:], "-_")
	case strings.HasPrefix(a, "MD") || strings.HasPrefix(a, "SHA-"), a == "BLAKE3", a == "ADLER32":
		return a
	}
	return strings.TrimSpace(alg)
}

// FirstByte returns the first byte of b that is not white space, after a UTF-8 byte order mark (which Windows
// tools write): the readers tell JSON from XML or tag-value by it.
func FirstByte(b []byte) byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}
