// Package cpe parses CPE names (the CPE 2.3 formatted string, and the older 2.2 URI form) and evaluates NVD API
// 2.0 applicability configurations against the components of a device version. Medical devices are full of
// firmware, RTOS and commercial components that have a CPE and no purl, so this is the matcher's second road to a
// finding: an NVD configuration's AND/OR nodes, negations and versionStart/End bounds, judged with a version
// comparator fit for vendor versions ("1.0.2u" after "1.0.2", "2.0.1-beta" before "2.0.1"). CPE names come from
// feeds and SBOMs, so parsing is bounded, never panics, and names the attribute at fault.
package cpe

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Logical values of a CPE attribute.
const (
	Any = "*" // any value
	NA  = "-" // not applicable: the attribute has no meaningful value (a hardware version, say)
)

// Bounds on untrusted CPE names. NVD's longest names are under 300 bytes. The attribute bound is on characters
// (a quoted "\:" counts once) and is what keeps String's output, which quotes punctuation, within MaxLen, so that
// every CPE Parse returns can be written out and read back.
const (
	MaxLen     = 8192 // bytes in a whole name
	MaxAttrLen = 256  // characters in one attribute
)

// CPE is a parsed CPE name. Each attribute holds Any, NA, or a value in a canonical quoted form: lower case,
// with "\" before a literal "\", "*" or "?" (and a lone literal "-" written `\-`), so that an unquoted "*" or
// "?" at either end is a wildcard and everything else is the literal text. For almost every real value
// (letters, digits, ".", "_", "-") the canonical form is the plain text; Unquote returns the text in any case.
type CPE struct {
	Part      string // "a" application, "o" operating system (and firmware), "h" hardware, or Any
	Vendor    string
	Product   string
	Version   string
	Update    string
	Edition   string
	Language  string
	SWEdition string
	TargetSW  string
	TargetHW  string
	Other     string
}

// attrNames are the CPE 2.3 attribute names, in formatted-string order, for error messages.
var attrNames = [11]string{"part", "vendor", "product", "version", "update", "edition", "language",
	"sw_edition", "target_sw", "target_hw", "other"}

func (c *CPE) fields() [11]*string {
	return [11]*string{&c.Part, &c.Vendor, &c.Product, &c.Version, &c.Update, &c.Edition, &c.Language,
		&c.SWEdition, &c.TargetSW, &c.TargetHW, &c.Other}
}

// Parse parses a CPE 2.3 formatted string ("cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*") or a CPE 2.2 URI
// ("cpe:/a:openssl:openssl:1.0.2u"). It follows the specification (NISTIR 7695) with two leniencies found in
// SBOMs: a formatted string may stop after the product (the missing attributes are Any), and punctuation may be
// left unquoted where it cannot be mistaken for a separator or a wildcard. Errors are EINVALID and name the
// attribute.
func Parse(s string) (CPE, error) {
	if len(s) > MaxLen {
		return CPE{}, parseErr(s, "", fmt.Sprintf("longer than %d bytes", MaxLen))
	}
	switch {
	case hasPrefixFold(s, "cpe:2.3:"):
		return parseFS(s)
	case hasPrefixFold(s, "cpe:/"):
		return parseURI(s)
	}
	return CPE{}, parseErr(s, "", `want a "cpe:2.3:" formatted string or a "cpe:/" URI`)
}

func parseFS(s string) (CPE, error) {
	var c CPE
	fields := c.fields()
	rest := s[len("cpe:2.3:"):]
	n, start := 0, 0
	for i := 0; i <= len(rest); i++ {
		if i < len(rest) && rest[i] == '\\' {
			if i+1 == len(rest) {
				return CPE{}, parseErr(s, attrName(n), "ends with a lone backslash")
			}
			i++ // the quoted character is never a separator
			continue
		}
		if i < len(rest) && rest[i] != ':' {
			continue
		}
		if n == len(fields) {
			return CPE{}, parseErr(s, "", "more than 11 attributes")
		}
		v, err := fsValue(rest[start:i])
		if err != nil {
			return CPE{}, parseErr(s, attrNames[n], err.Error())
		}
		*fields[n] = v
		n++
		start = i + 1
	}
	if n < 3 {
		return CPE{}, parseErr(s, "", "want at least part, vendor and product")
	}
	for ; n < len(fields); n++ {
		*fields[n] = Any
	}
	return c, checkPart(s, c.Part)
}

// fsValue turns one formatted-string attribute into its canonical form.
func fsValue(raw string) (string, error) {
	switch raw {
	case "":
		return "", fmt.Errorf("empty (write * for any value)")
	case Any, NA:
		return raw, nil
	}
	simple := true // no quoting and no upper case: raw is already canonical once checked
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '\\' || 'A' <= c && c <= 'Z' {
			simple = false
			break
		}
	}
	var b strings.Builder
	if !simple {
		b.Grow(len(raw))
	}
	for i, n := 0, 0; i < len(raw); i, n = i+1, n+1 {
		if n == MaxAttrLen {
			return "", fmt.Errorf("longer than %d characters", MaxAttrLen)
		}
		c := raw[i]
		switch {
		case c == '\\':
			i++
			if i == len(raw) {
				return "", fmt.Errorf("ends with a lone backslash")
			}
			if !printable(raw[i]) {
				return "", fmt.Errorf("invalid character %q", raw[i:i+1])
			}
			writeLiteral(&b, lower(raw[i]))
		case c == '*' || c == '?':
			if err := checkWildcard(raw, i); err != nil {
				return "", err
			}
			if !simple {
				b.WriteByte(c)
			}
		case printable(c):
			if !simple {
				b.WriteByte(lower(c))
			}
		default:
			return "", fmt.Errorf("invalid character %q (want printable ASCII)", clip(raw[i:], 4))
		}
	}
	if simple {
		return raw, nil
	}
	if v := b.String(); v != NA && v != "" {
		return v, nil
	}
	return `\-`, nil // a quoted lone hyphen is the literal "-", not NA
}

// checkWildcard applies the specification's placement rules: a "*" only first or last, "?" only in a leading or
// trailing run.
func checkWildcard(raw string, i int) error {
	if raw[i] == '*' {
		if (i != 0 && i != len(raw)-1) || raw == "**" {
			return fmt.Errorf("a * wildcard may only begin or end a value")
		}
		return nil
	}
	lead, trail := true, true
	for j := 0; j < i; j++ {
		if raw[j] != '?' {
			lead = false
			break
		}
	}
	for j := i + 1; j < len(raw); j++ {
		if raw[j] != '?' {
			trail = false
			break
		}
	}
	if !lead && !trail {
		return fmt.Errorf("a ? wildcard may only begin or end a value")
	}
	return nil
}

// packedFields are the attributes a CPE 2.2 packed edition (~edition~sw_edition~target_sw~target_hw~other)
// holds, as indexes into CPE.fields.
var packedFields = [5]int{5, 7, 8, 9, 10}

func parseURI(s string) (CPE, error) {
	var c CPE
	fields := c.fields()
	parts := strings.Split(s[len("cpe:/"):], ":")
	if len(parts) > 7 {
		return CPE{}, parseErr(s, "", "a CPE 2.2 URI has at most 7 components")
	}
	if len(parts) < 3 {
		return CPE{}, parseErr(s, "", "want at least part, vendor and product")
	}
	for i := range fields {
		*fields[i] = Any
	}
	for i, raw := range parts { // part, vendor, product, version, update, edition, language: CPE's first 7
		if i == 5 && strings.HasPrefix(raw, "~") {
			packed := strings.Split(raw[1:], "~")
			if len(packed) != len(packedFields) {
				return CPE{}, parseErr(s, "edition", "a packed edition has 5 ~-separated values")
			}
			for j, p := range packed {
				v, err := uriValue(p)
				if err != nil {
					return CPE{}, parseErr(s, attrNames[packedFields[j]], err.Error())
				}
				*fields[packedFields[j]] = v
			}
			continue
		}
		v, err := uriValue(raw)
		if err != nil {
			return CPE{}, parseErr(s, attrNames[i], err.Error())
		}
		*fields[i] = v
	}
	return c, checkPart(s, c.Part)
}

// uriValue decodes one CPE 2.2 URI component: empty is Any, "-" is NA, %xx decodes a character, %01 and %02
// are the "?" and "*" wildcards. It rewrites the value as a formatted-string value (every decoded punctuation
// character quoted, wildcards bare) and lets fsValue check and canonicalize it, so both forms obey one set of
// rules.
func uriValue(raw string) (string, error) {
	switch raw {
	case "":
		return Any, nil
	case NA:
		return NA, nil
	}
	var b strings.Builder
	b.Grow(2 * len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) || unhex(raw[i+1]) < 0 || unhex(raw[i+2]) < 0 {
				return "", fmt.Errorf("bad percent-encoding %q", clip(raw[i:], 3))
			}
			c = byte(unhex(raw[i+1])<<4 | unhex(raw[i+2]))
			i += 2
			switch c {
			case 0x01:
				b.WriteByte('?')
				continue
			case 0x02:
				b.WriteByte('*')
				continue
			}
		}
		if !printable(c) {
			return "", fmt.Errorf("invalid character %q (want printable ASCII)", string(rune(c)))
		}
		if !isAlnum(c) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return fsValue(b.String())
}

func checkPart(s, part string) error {
	switch part {
	case "a", "o", "h", Any:
		return nil
	}
	return parseErr(s, "part", fmt.Sprintf("want a, o or h, got %q", clip(part, 8)))
}

// String returns c as a CPE 2.3 formatted string, quoting punctuation as the specification's binding does.
// Parse(c.String()) returns c.
func (c CPE) String() string {
	var b strings.Builder
	b.WriteString("cpe:2.3")
	for _, f := range c.fields() {
		b.WriteByte(':')
		v := *f
		if v == Any || v == NA || v == "" {
			if v == "" {
				v = Any
			}
			b.WriteString(v)
			continue
		}
		if v == `\-` {
			b.WriteString(v)
			continue
		}
		for i := 0; i < len(v); i++ {
			ch := v[i]
			switch {
			case ch == '\\' && i+1 < len(v):
				i++
				bindLiteral(&b, v[i])
			case ch == '*' || ch == '?':
				b.WriteByte(ch) // a wildcard
			default:
				bindLiteral(&b, ch)
			}
		}
	}
	return b.String()
}

func bindLiteral(b *strings.Builder, c byte) {
	if isAlnum(c) || c == '_' || c == '.' || c == '-' {
		b.WriteByte(c)
		return
	}
	b.WriteByte('\\')
	b.WriteByte(c)
}

// Unquote returns the literal text of an attribute value in canonical form (CPE's fields), "" for Any and NA.
// Wildcards are kept as they are.
func Unquote(v string) string {
	if v == Any || v == NA {
		return ""
	}
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// writeLiteral appends a literal character in canonical form.
func writeLiteral(b *strings.Builder, c byte) {
	if c == '\\' || c == '*' || c == '?' {
		b.WriteByte('\\')
	}
	b.WriteByte(c)
}

func parseErr(s, attr, why string) error {
	if attr == "" {
		return vigil.Errorf(vigil.EINVALID, "cpe %q: %s", clip(s, 120), why)
	}
	return vigil.Errorf(vigil.EINVALID, "cpe %q: %s: %s", clip(s, 120), attr, why)
}

func attrName(n int) string {
	if n < len(attrNames) {
		return attrNames[n]
	}
	return ""
}

// clip shortens untrusted text for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func printable(c byte) bool { return 0x21 <= c && c <= 0x7e }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isLetter(c byte) bool  { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool   { return isDigit(c) || isLetter(c) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
