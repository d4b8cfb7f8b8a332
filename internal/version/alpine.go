package version

import (
	"fmt"
	"strings"
)

// alpineVersion is an apk version, digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}, ordered as apk-tools 3
// orders it (src/version.c): token by token, and when one version runs out, the longer one is later unless its
// next token is a pre-release suffix (_alpha, _beta, _pre, _rc).
type alpineVersion struct {
	tokens []apkToken
	end    uint8 // apkEnd, or apkInvalid where apk stops reading a version it calls invalid
}

// apk token types, in apk's order: a version whose next token has a greater type is the earlier one.
const (
	apkInitialDigit = iota
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkCommitHash
	apkRevisionNo
	apkEnd
	apkInvalid
)

// apk suffixes in order; apkSuffixNone (a release) separates the pre-release ones from the rest.
var apkSuffixes = map[string]uint8{"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9,
	"p": 10}

const apkSuffixNone = 5

type apkToken struct {
	typ    uint8
	suffix uint8
	value  string // digits as written, the letter, the suffix or the hash
}

// parseAlpine reads s as apk's tokenizer does. A version apk_version_validate calls invalid ("1.0bc", "5.1p1-r0",
// "1-r"; `apk version -c` lists it) is still ordered by apk, by its tokens up to the first bad one, and Vigil does
// the same, with a warning. A version that does not even start with a number is an error: apk would order every
// such version equal to every other.
func parseAlpine(s string) (*alpineVersion, string, error) {
	d := leadingDigits(s)
	if d == 0 {
		return nil, "", fmt.Errorf("must start with a digit")
	}
	v := &alpineVersion{tokens: []apkToken{{typ: apkInitialDigit, value: s[:d]}}, end: apkEnd}
	warn := ""
	for rest := s[d:]; rest != ""; {
		prev := v.tokens[len(v.tokens)-1].typ
		if prev == apkLetter && isDigit(rest[0]) {
			// apk-tools 2, which built and ordered the packages of Alpine 3.22 and before, read a number after a
			// letter ("5.7.1p1-r0") as one more number; apk-tools 3 stops there, which would make every revision
			// of such a package equal. OSV's Alpine data names these versions, so they are read as apk 2 read them.
			n := leadingDigits(rest)
			v.tokens = append(v.tokens, apkToken{typ: apkDigit, value: rest[:n]})
			rest = rest[n:]
			if warn == "" {
				warn = "apk-tools 3 calls it invalid (a number after a letter); ordered as apk-tools 2 ordered it"
			}
			continue
		}
		t, n, why := apkNext(prev, rest)
		if why != "" {
			v.end = apkInvalid
			return v, fmt.Sprintf("apk calls it invalid at %q (%s) and orders it by the part before", clip(rest), why), nil
		}
		v.tokens = append(v.tokens, t)
		rest = rest[n:]
	}
	return v, warn, nil
}

// apkNext is apk's token_next: the token at the start of rest and its length, or why there is none.
func apkNext(prev uint8, rest string) (apkToken, int, string) {
	switch c := rest[0]; {
	case 'a' <= c && c <= 'z':
		if prev > apkDigit {
			return apkToken{}, 0, "a letter may only follow a number"
		}
		return apkToken{typ: apkLetter, value: rest[:1]}, 1, ""
	case c == '.':
		if prev > apkDigit {
			return apkToken{}, 0, "a \".\" may only follow a number"
		}
		n := leadingDigits(rest[1:])
		if n == 0 {
			return apkToken{}, 0, "no number after \".\""
		}
		return apkToken{typ: apkDigit, value: rest[1 : 1+n]}, 1 + n, ""
	case isDigit(c):
		if prev != apkSuffix {
			return apkToken{}, 0, "a number may not follow a letter"
		}
		n := leadingDigits(rest)
		return apkToken{typ: apkSuffixNo, value: rest[:n]}, n, ""
	case c == '_':
		if prev > apkSuffixNo {
			return apkToken{}, 0, "a suffix may not follow a hash or a revision"
		}
		n := 1
		for n < len(rest) && 'a' <= rest[n] && rest[n] <= 'z' {
			n++
		}
		suf, ok := apkSuffixes[rest[1:n]]
		if !ok {
			return apkToken{}, 0, "not one of _alpha, _beta, _pre, _rc, _cvs, _svn, _git, _hg, _p"
		}
		return apkToken{typ: apkSuffix, suffix: suf, value: rest[1:n]}, n, ""
	case c == '~':
		if prev >= apkCommitHash {
			return apkToken{}, 0, "one commit hash, before the revision"
		}
		n := 1
		for n < len(rest) && (isDigit(rest[n]) || 'a' <= rest[n] && rest[n] <= 'f') {
			n++
		}
		if n == 1 {
			return apkToken{}, 0, "no lower-case hexadecimal commit hash after \"~\""
		}
		return apkToken{typ: apkCommitHash, value: rest[1:n]}, n, ""
	case c == '-':
		if prev >= apkRevisionNo || !strings.HasPrefix(rest, "-r") {
			return apkToken{}, 0, "not a single \"-r\" revision at the end"
		}
		n := leadingDigits(rest[2:])
		if n == 0 {
			return apkToken{}, 0, "no number after \"-r\""
		}
		return apkToken{typ: apkRevisionNo, value: rest[2 : 2+n]}, 2 + n, ""
	}
	return apkToken{}, 0, "not part of an apk version"
}

func leadingDigits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func (a *alpineVersion) cmp(w orderable) int {
	b, ok := w.(*alpineVersion)
	if !ok {
		return 0
	}
	i := 0
	for ; i < len(a.tokens) && i < len(b.tokens) && a.tokens[i].typ == b.tokens[i].typ; i++ {
		if c := a.tokens[i].cmp(b.tokens[i]); c != 0 {
			return c
		}
	}
	ta, tb := apkToken{typ: a.end}, apkToken{typ: b.end}
	if i < len(a.tokens) {
		ta = a.tokens[i]
	}
	if i < len(b.tokens) {
		tb = b.tokens[i]
	}
	switch {
	case ta.typ == tb.typ:
		return 0
	case ta.typ == apkSuffix && ta.suffix < apkSuffixNone:
		return -1
	case tb.typ == apkSuffix && tb.suffix < apkSuffixNone:
		return +1
	case ta.typ > tb.typ:
		return -1
	}
	return +1
}

// cmp is apk's token_cmp for two tokens of one type. apk reads numbers into 64 bits and wraps past 2^64-1; Vigil
// compares numbers of any length exactly.
func (t apkToken) cmp(u apkToken) int {
	switch t.typ {
	case apkDigit:
		if t.value[0] == '0' || u.value[0] == '0' {
			return strings.Compare(t.value, u.value) // a leading zero means a string comparison, as in Gentoo
		}
		return cmpNum(t.value, u.value)
	case apkInitialDigit, apkSuffixNo, apkRevisionNo:
		return cmpNum(trimZeros(t.value), trimZeros(u.value))
	case apkSuffix:
		return sign(int(t.suffix) - int(u.suffix))
	}
	return strings.Compare(t.value, u.value) // the letter, or the commit hash
}
