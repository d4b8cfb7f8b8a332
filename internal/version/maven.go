package version

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// mavenVersion is a Maven version as Maven 4's org.apache.maven.artifact.versioning.ComparableVersion reads it
// (the Maven 3.9 ordering plus MNG-7714): a tree of lists, numbers, qualifiers and "combinations" (a qualifier
// with a number, "rc1", "alpha-2"). Parsing follows ComparableVersion.parseVersion step by step, including its
// quirks, so that Compare walks the tree without allocating.
type mavenVersion struct{ root *mavenItem }

// Item kinds, in ComparableVersion's terms. The three number kinds are told apart by length as Java's IntItem,
// LongItem and BigIntegerItem are: a number of a longer kind is greater whatever its value.
const (
	mvnInt  = iota // at most 9 digits
	mvnLong        // at most 18
	mvnBig
	mvnString
	mvnCombination
	mvnList
)

type mavenItem struct {
	kind  uint8
	num   string       // numbers: decimal digits without leading zeros ("" is zero)
	str   string       // strings and combinations' string part: lower case, aliases applied
	qual  string       // comparableQualifier(str)
	digit *mavenItem   // combinations: the number part
	list  []*mavenItem // lists
}

var mavenQualifiers = [...]string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

// mavenReleaseIndex is comparableQualifier(""): what a qualifier is compared with when the other version ends.
const mavenReleaseIndex = "5"

// comparableQualifier is ComparableVersion's: known qualifiers by rank, ga/final/release as the empty one, and
// unknown ones after all of them, in Java's string order.
func comparableQualifier(q string) string {
	switch q {
	case "ga", "final", "release":
		return mavenReleaseIndex
	}
	for i, k := range mavenQualifiers {
		if k == q {
			return string(rune('0' + i))
		}
	}
	return "7-" + q
}

func parseMaven(s string) (*mavenVersion, error) {
	s = javaLower(s)
	root := &mavenItem{kind: mvnList}
	list := root
	stack := []*mavenItem{root}
	push := func() {
		l := &mavenItem{kind: mvnList}
		list.list = append(list.list, l)
		list = l
		stack = append(stack, l)
	}
	add := func(it *mavenItem, err error) error {
		if err != nil {
			return err
		}
		list.list = append(list.list, it)
		return nil
	}
	isDigit, isCombination := false, false
	start := 0
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == '.':
			if i == start {
				list.list = append(list.list, &mavenItem{kind: mvnInt})
			} else if err := add(mavenParseItem(isCombination, isDigit, s[start:i])); err != nil {
				return nil, err
			}
			isCombination = false
			start = i + 1
		case c == '-':
			if i == start {
				list.list = append(list.list, &mavenItem{kind: mvnInt})
			} else {
				// "X-1" is read as "X1".
				if !isDigit && i != len(s)-1 {
					if next, _ := utf8.DecodeRuneInString(s[i+1:]); next < 0x10000 && unicode.IsDigit(next) {
						isCombination = true
						i += size
						continue
					}
				}
				if err := add(mavenParseItem(isCombination, isDigit, s[start:i])); err != nil {
					return nil, err
				}
			}
			start = i + 1
			if len(list.list) > 0 {
				push()
			}
			isCombination = false
		case '0' <= c && c <= '9':
			if !isDigit && i > start {
				isCombination = true // "X1"
				if len(list.list) > 0 {
					push()
				}
			}
			isDigit = true
		default:
			if isDigit && c >= 0x10000 {
				// Java has stepped onto the low surrogate by now, so it cuts the item after the high surrogate
				// (even straight after a separator, the digit flag surviving it) and fails to read it as a number.
				return nil, fmt.Errorf("Maven cannot read a number before %q", c)
			}
			if isDigit && i > start {
				if err := add(mavenParseItem(isCombination, true, s[start:i])); err != nil {
					return nil, err
				}
				start = i
				push()
				isCombination = false
			}
			isDigit = false
		}
		i += size
	}
	if len(s) > start {
		// "1.0.0.X1" < "1.0.0-X2": ".X" is read as "-X" for any qualifier X.
		if !isDigit && len(list.list) > 0 {
			push()
		}
		if err := add(mavenParseItem(isCombination, isDigit, s[start:])); err != nil {
			return nil, err
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].normalize()
	}
	return &mavenVersion{root: root}, nil
}

func mavenParseItem(isCombination, isDigit bool, buf string) (*mavenItem, error) {
	switch {
	case isCombination:
		return mavenCombination(strings.ReplaceAll(buf, "-", ""))
	case isDigit:
		return mavenNumber(buf)
	}
	return mavenString(buf, false), nil
}

// mavenNumber is parseItem(true, buf): leading ASCII zeros stripped (all of them kept when there is nothing
// else), the kind chosen by the remaining length in UTF-16 units, the value read as Java's parseInt reads it
// (any Unicode decimal digit counts).
func mavenNumber(buf string) (*mavenItem, error) {
	stripped := strings.TrimLeft(buf, "0")
	if stripped == "" {
		stripped = buf
	}
	n := utf16Len(stripped)
	kind := uint8(mvnBig)
	switch {
	case n <= 9:
		kind = mvnInt
	case n <= 18:
		kind = mvnLong
	}
	digits := make([]byte, 0, len(stripped))
	for _, r := range stripped {
		d, ok := unicodeDigit(r)
		if !ok {
			return nil, fmt.Errorf("Maven cannot read %q as a number", clip(buf))
		}
		if len(digits) > 0 || d != 0 {
			digits = append(digits, byte('0'+d))
		}
	}
	return &mavenItem{kind: kind, num: string(digits)}, nil
}

func mavenString(value string, followedByDigit bool) *mavenItem {
	if followedByDigit && utf16Len(value) == 1 {
		switch value {
		case "a":
			value = "alpha"
		case "b":
			value = "beta"
		case "m":
			value = "milestone"
		}
	}
	if value == "cr" {
		value = "rc"
	}
	return &mavenItem{kind: mvnString, str: value, qual: comparableQualifier(value)}
}

// mavenCombination splits a qualifier-and-number item at its first decimal digit (Java's Character.isDigit, so
// any Unicode decimal digit).
func mavenCombination(value string) (*mavenItem, error) {
	index := 0
	for i, r := range value {
		if _, ok := unicodeDigit(r); ok {
			index = i
			break
		}
	}
	d, err := mavenNumber(value[index:])
	if err != nil {
		return nil, err
	}
	sp := mavenString(value[:index], true)
	return &mavenItem{kind: mvnCombination, str: sp.str, qual: sp.qual, digit: d}, nil
}

func (it *mavenItem) isNull() bool {
	switch it.kind {
	case mvnString:
		return it.str == ""
	case mvnCombination:
		return false
	case mvnList:
		return len(it.list) == 0
	}
	return it.num == ""
}

// normalize drops null items (0, "", an empty list) at the end of a list and before a qualifier, as ListItem does.
func (it *mavenItem) normalize() {
	for i := len(it.list) - 1; i >= 0; i-- {
		if !it.list[i].isNull() {
			continue
		}
		drop := i == len(it.list)-1 || it.list[i+1].kind == mvnString
		if !drop && it.list[i+1].kind == mvnList {
			// A list is always its parent's last item, and an empty one was dropped above.
			first := it.list[i+1].list[0]
			drop = first.kind == mvnCombination || first.kind == mvnString
		}
		if drop {
			it.list = append(it.list[:i], it.list[i+1:]...)
		}
	}
}

func (a *mavenVersion) cmp(w orderable) int {
	b, ok := w.(*mavenVersion)
	if !ok {
		return 0
	}
	return a.root.compare(b.root)
}

func isMavenNumber(k uint8) bool { return k <= mvnBig }

// compare is Item.compareTo; u is nil when the other version has no item here.
func (it *mavenItem) compare(u *mavenItem) int {
	if u == nil {
		switch it.kind {
		case mvnString, mvnCombination:
			return sign(utf16Compare(it.qual, mavenReleaseIndex))
		case mvnList:
			for _, x := range it.list {
				if c := x.compare(nil); c != 0 {
					return c
				}
			}
			return 0
		}
		if it.num == "" {
			return 0
		}
		return +1
	}
	switch it.kind {
	case mvnInt, mvnLong, mvnBig:
		if !isMavenNumber(u.kind) {
			return +1
		}
		if it.kind != u.kind {
			return sign(int(it.kind) - int(u.kind))
		}
		return cmpNum(it.num, u.num)
	case mvnString:
		switch u.kind {
		case mvnString:
			return sign(utf16Compare(it.qual, u.qual))
		case mvnCombination:
			if c := sign(utf16Compare(it.qual, u.qual)); c != 0 {
				return c
			}
		}
		return -1
	case mvnCombination:
		switch u.kind {
		case mvnString:
			if c := sign(utf16Compare(it.qual, u.qual)); c != 0 {
				return c
			}
			return +1 // "X1" > "X"
		case mvnCombination:
			if c := sign(utf16Compare(it.qual, u.qual)); c != 0 {
				return c
			}
			return it.digit.compare(u.digit)
		}
		return -1
	}
	// A list.
	switch {
	case isMavenNumber(u.kind):
		return -1
	case u.kind != mvnList:
		return +1
	}
	for i := 0; i < len(it.list) || i < len(u.list); i++ {
		var c int
		switch {
		case i >= len(it.list):
			c = -u.list[i].compare(nil)
		case i >= len(u.list):
			c = it.list[i].compare(nil)
		default:
			c = it.list[i].compare(u.list[i])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// javaLower is String.toLowerCase(Locale.ENGLISH) for what Go's ToLower maps differently: U+0130 (I with dot
// above) lowers to "i" and a combining dot in Java. Java's context-dependent final sigma is not reproduced: a
// capital sigma ending a word lowers to σ here and to ς in Java.
func javaLower(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}

// unicodeDigit returns the value of a decimal digit in the Basic Multilingual Plane (Java's Character.isDigit and
// Character.digit on a char; a supplementary character arrives as two surrogates, neither of them a digit).
func unicodeDigit(r rune) (int, bool) {
	if '0' <= r && r <= '9' {
		return int(r - '0'), true
	}
	if r >= 0x10000 || !unicode.IsDigit(r) {
		return 0, false
	}
	// Decimal digits come in runs of ten starting at zero; some runs follow each other.
	zero := r
	for unicode.IsDigit(zero - 1) {
		zero--
	}
	return int(r-zero) % 10, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// utf16Compare is Java's String.compareTo, code unit by code unit. UTF-8 byte order is code point order, which
// is UTF-16's except that a supplementary character (a surrogate pair, 0xD800...; UTF-8 lead byte 0xF0-0xF4) sorts
// before U+E000-U+FFFF (lead byte 0xEE or 0xEF); the first differing bytes decide, as those are lead bytes or share
// one.
func utf16Compare(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return len(a) - len(b)
	}
	x, y := a[i], b[i]
	switch {
	case x >= 0xF0 && (y == 0xEE || y == 0xEF):
		return -1
	case y >= 0xF0 && (x == 0xEE || x == 0xEF):
		return +1
	}
	return int(x) - int(y)
}
