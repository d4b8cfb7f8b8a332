package version

import (
	"fmt"
	"strings"
)

// mavenVersion is a Maven version as osv-scalibr reads Maven's ComparableVersion
// (https://maven.apache.org/pom.html#version-order-specification): tokens split at ".", "-" and digit/letter
// transitions, each remembering the separator before it, with trailing null values trimmed. Parsing normalizes
// every token once so that Compare allocates nothing.
type mavenVersion struct{ tokens []mavenToken }

type mavenToken struct {
	prefix  byte   // 0 for the first token, else '.' or '-'
	value   string // lower case; numbers without leading zeros; "" for ga, final, release
	numeric bool
	null    bool // padding made up while comparing versions of different lengths
}

func parseMaven(s string) (*mavenVersion, error) {
	for i := 0; i < len(s); i++ {
		// Maven itself takes any text; Vigil keeps to ASCII so that tokens split exactly where
		// ComparableVersion splits them.
		if s[i] >= 0x80 {
			return nil, fmt.Errorf("non-ASCII character")
		}
	}
	v := &mavenVersion{}
	var prefix byte
	for raw := s; ; {
		i := strings.IndexAny(raw, ".-")
		tok := raw
		if i >= 0 {
			tok = raw[:i]
		}
		v.appendRaw(prefix, tok)
		if i < 0 {
			break
		}
		prefix, raw = raw[i], raw[i+1:]
	}
	// Trim trailing null values (0, "", final, ga), then again before each remaining hyphen, from the end.
	t := v.tokens
	for i := len(t) - 1; i > 0; {
		if t[i].value == "0" || t[i].value == "" || t[i].value == "final" || t[i].value == "ga" {
			t = append(t[:i], t[i+1:]...)
			i--
			continue
		}
		for i >= 0 && t[i].prefix != '-' {
			i--
		}
		i--
	}
	v.tokens = t
	return v, nil
}

// appendRaw splits one dot- or hyphen-delimited piece at its digit/letter transitions; the parts after the first
// count as hyphen-separated.
func (v *mavenVersion) appendRaw(prefix byte, raw string) {
	start := 0
	for j := 1; j <= len(raw); j++ {
		if j < len(raw) && isDigit(raw[j]) == isDigit(raw[j-1]) {
			continue
		}
		cur := strings.ToLower(raw[start:j])
		switch cur {
		case "":
			cur = "0"
		case "cr":
			cur = "rc"
		case "ga", "final", "release":
			cur = ""
		}
		if j != len(raw) { // directly followed by a number
			switch cur {
			case "a":
				cur = "alpha"
			case "b":
				cur = "beta"
			case "m":
				cur = "milestone"
			}
		}
		num := cur != "" && allBytes(cur, isDigit)
		if num {
			if cur = trimZeros(cur); cur == "" {
				cur = "0"
			}
		}
		v.tokens = append(v.tokens, mavenToken{prefix: prefix, value: cur, numeric: num})
		prefix, start = '-', j
	}
	if len(raw) == 0 {
		v.tokens = append(v.tokens, mavenToken{prefix: prefix, value: "0", numeric: true})
	}
}

func (a *mavenVersion) cmp(w orderable) int {
	b, ok := w.(*mavenVersion)
	if !ok {
		return 0
	}
	if len(a.tokens) == len(b.tokens) {
		same := true
		for i := range a.tokens {
			if !a.tokens[i].equal(b.tokens[i]) {
				same = false
				break
			}
		}
		if same {
			return 0
		}
	}
	if a.lessThan(b) {
		return -1
	}
	return +1
}

func (a *mavenVersion) lessThan(b *mavenVersion) bool {
	n := max(len(a.tokens), len(b.tokens))
	for i := 0; i < n; i++ {
		var l, r mavenToken
		if i < len(a.tokens) {
			l = a.tokens[i]
		} else {
			l = nullToken(b.tokens[i])
		}
		if i < len(b.tokens) {
			r = b.tokens[i]
		} else {
			r = nullToken(a.tokens[i])
		}
		if l.equal(r) {
			continue
		}
		return l.lessThan(r)
	}
	return false
}

// nullToken pads the shorter version: 0 after a dot ("" against "sp", the one qualifier that sorts after the
// empty release), "" after a hyphen.
func nullToken(other mavenToken) mavenToken {
	if other.prefix == '.' {
		if other.value == "sp" {
			return mavenToken{prefix: '.', value: "", null: true}
		}
		return mavenToken{prefix: '.', value: "0", numeric: true, null: true}
	}
	return mavenToken{prefix: '-', value: "", null: true}
}

func (t mavenToken) equal(u mavenToken) bool { return t.prefix == u.prefix && t.value == u.value }

var mavenKeywords = [...]string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

func mavenKeyword(v string) int {
	for i, k := range mavenKeywords {
		if k == v {
			return i
		}
	}
	return len(mavenKeywords)
}

func (t mavenToken) lessThan(u mavenToken) bool {
	if t.prefix == u.prefix {
		switch {
		case t.numeric && u.numeric:
			return cmpNum(t.value, u.value) < 0
		case t.numeric && !t.null: // numbers sort after qualifiers, unless made up as padding
			return false
		case u.numeric && !u.null:
			return true
		}
		// Known qualifiers in their order, then unknown ones alphabetically.
		l, r := mavenKeyword(t.value), mavenKeyword(u.value)
		if l == len(mavenKeywords) && r == len(mavenKeywords) {
			return t.value < u.value
		}
		return l < r
	}
	// ".qualifier" < "-qualifier" < "-number" < ".number"
	return t.qualifierOrder() < u.qualifierOrder()
}

func (t mavenToken) qualifierOrder() int {
	switch {
	case t.numeric && t.prefix == '-':
		return 2
	case t.numeric && t.prefix == '.':
		return 3
	case t.prefix == '-':
		return 1
	}
	return 0
}
