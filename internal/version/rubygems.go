package version

import (
	"fmt"
	"regexp"
	"strings"
)

// rubyVersion is a RubyGems version as Gem::Version (lib/rubygems/version.rb) reads and orders it: "-" becomes
// ".pre." (so 1.2.3-1 equals 1.2.3.pre.1), the version splits into numbers and letter runs, trailing zeros and the
// zeros before a prerelease's first letters are dropped ("canonical segments"), a letter segment sorts before a
// number, and a version that ends sorts after one that goes on with letters.
type rubyVersion struct {
	version string // as Gem::Version keeps it, with "-" replaced
	segs    []rubySegment
}

type rubySegment struct {
	s   string // digits without leading zeros ("" is zero), or letters
	num bool
}

// rubyPattern is Gem::Version::ANCHORED_VERSION_PATTERN without the surrounding whitespace Vigil refuses anyway.
var rubyPattern = regexp.MustCompile(`^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

func parseRubyGems(s string) (*rubyVersion, error) {
	if !rubyPattern.MatchString(s) {
		return nil, fmt.Errorf("malformed: want digits, dot-separated letters and digits, then an optional " +
			"\"-prerelease\" part")
	}
	v := &rubyVersion{version: strings.ReplaceAll(s, "-", ".pre.")}
	c := rubyCanonical(v.version)
	for i := 0; i < len(c); {
		j := i
		switch {
		case isDigit(c[i]):
			for j < len(c) && isDigit(c[j]) {
				j++
			}
			v.segs = append(v.segs, rubySegment{s: trimZeros(c[i:j]), num: true})
		case isLetter(c[i]):
			for j < len(c) && isLetter(c[j]) {
				j++
			}
			v.segs = append(v.segs, rubySegment{s: c[i:j]})
		default:
			j++
		}
		i = j
	}
	return v, nil
}

// rubyCanonical applies canonical_segments' two substitutions to the version:
// sub(/(?<=[a-zA-Z.])[.0]+\z/, "") and, for a prerelease (any letter), sub(/(?<=\.|\A)[0.]+(?=[a-zA-Z])/, "").
func rubyCanonical(v string) string {
	q := len(v)
	for q > 0 && (v[q-1] == '.' || v[q-1] == '0') {
		q--
	}
	switch {
	case q == len(v):
	case q > 0 && isLetter(v[q-1]):
		v = v[:q]
	default:
		for p := q + 1; p < len(v); p++ {
			if v[p-1] == '.' {
				v = v[:p]
				break
			}
		}
	}
	if !strings.ContainsFunc(v, func(r rune) bool { return r < 0x80 && isLetter(byte(r)) }) {
		return v
	}
	for p := 0; p < len(v); p++ {
		if (p == 0 || v[p-1] == '.') && (v[p] == '0' || v[p] == '.') {
			e := p
			for e < len(v) && (v[e] == '0' || v[e] == '.') {
				e++
			}
			if e < len(v) && isLetter(v[e]) {
				return v[:p] + v[e:]
			}
		}
	}
	return v
}

func (a *rubyVersion) cmp(w orderable) int {
	b, ok := w.(*rubyVersion)
	if !ok {
		return 0
	}
	if a.version == b.version {
		return 0
	}
	i := 0
	for ; i < len(a.segs) && i < len(b.segs); i++ {
		l, r := a.segs[i], b.segs[i]
		switch {
		case l == r:
			continue
		case !l.num && r.num:
			return -1
		case l.num && !r.num:
			return +1
		case l.num:
			return cmpNum(l.s, r.s)
		}
		return strings.Compare(l.s, r.s)
	}
	// The longer version is later if it goes on with a non-zero number, earlier if with letters.
	for _, s := range a.segs[i:] {
		if !s.num {
			return -1
		}
		if s.s != "" {
			return +1
		}
	}
	for _, s := range b.segs[i:] {
		if !s.num {
			return +1
		}
		if s.s != "" {
			return -1
		}
	}
	return 0
}
