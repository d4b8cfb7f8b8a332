package cpe

import "strings"

// CompareVersions orders two vendor version strings, as found in CPE names and NVD's versionStart/End bounds,
// returning -1, 0 or +1. Vendors follow no one scheme, so, in the spirit of grype's fuzzy comparator (itself
// from nvdtools' smartVerCmp), the strings are read as runs of digits and runs of letters, everything else being
// a separator, and compared run by run:
//
//   - numbers compare as numbers of any length ("10" after "9", "007" equals "7");
//   - a trailing letter or word is a later patch ("1.0.2u" after "1.0.2", "2.4a" after "2.4", "5.5p1" after
//     "5.5"), but a prerelease word sorts before the release ("2.0.1-beta" and "2.0.1rc1" before "2.0.1"):
//     dev, snapshot and nightly, then alpha (or "a" followed by a digit), beta (or "b" followed by a digit),
//     milestone, pre/preview, rc/cr;
//   - at one position a prerelease word < the end of the version < other words < numbers;
//   - zeros ending a run of numbers do not count ("1.0" equals "1.0.0", "1.0.0-beta" equals "1.0-beta");
//   - letters compare without regard to case, and a leading "v" before a digit is ignored.
//
// The order is total (a sort stays consistent) and CompareVersions never panics or allocates, whatever it is given.
func CompareVersions(a, b string) int {
	x, y := newVerScanner(a), newVerScanner(b)
	for {
		s, t := x.next(), y.next()
		if c := cmpVerToken(s, t); c != 0 {
			return c
		}
		if s.kind == tokEnd {
			return 0
		}
	}
}

// Token kinds, in the order they sort when they meet at one position.
const (
	tokPre  = iota // a prerelease word
	tokEnd         // the version has ended
	tokWord        // any other run of letters
	tokNum         // a run of digits
)

type verToken struct {
	kind int
	text string // letters as written; digits without leading zeros
	rank int    // prerelease: dev 0, alpha 1, beta 2, milestone 3, pre 4, rc 5
}

func cmpVerToken(s, t verToken) int {
	if s.kind != t.kind {
		if s.kind < t.kind {
			return -1
		}
		return +1
	}
	switch s.kind {
	case tokPre:
		return cmpInt(s.rank, t.rank)
	case tokWord:
		return cmpFold(s.text, t.text)
	case tokNum:
		if len(s.text) != len(t.text) {
			return cmpInt(len(s.text), len(t.text))
		}
		return strings.Compare(s.text, t.text)
	}
	return 0
}

// verScanner yields a version's tokens, skipping zeros that end a run of numbers.
type verScanner struct {
	s   string
	i   int
	sig int // numbers before this offset are known to be followed by a non-zero number in their run
}

func newVerScanner(s string) verScanner {
	if len(s) > 1 && (s[0] == 'v' || s[0] == 'V') && isDigit(s[1]) {
		s = s[1:]
	}
	return verScanner{s: s}
}

// raw returns the next run of digits or letters at or after offset i, and the offset after it.
func (v *verScanner) raw(i int) (run string, end int) {
	for i < len(v.s) && !isAlnum(v.s[i]) {
		i++
	}
	if i == len(v.s) {
		return "", i
	}
	j := i + 1
	digits := isDigit(v.s[i])
	for j < len(v.s) && isAlnum(v.s[j]) && isDigit(v.s[j]) == digits {
		j++
	}
	return v.s[i:j], j
}

func (v *verScanner) next() verToken {
	for {
		run, end := v.raw(v.i)
		if run == "" {
			v.i = end
			return verToken{kind: tokEnd}
		}
		start := end - len(run)
		if !isDigit(run[0]) {
			v.i = end
			next := byte(0)
			if end < len(v.s) {
				next = v.s[end]
			}
			return wordToken(run, next)
		}
		digits := trimZeros(run)
		if digits != "" || start < v.sig {
			v.i = end
			return verToken{kind: tokNum, text: digits}
		}
		// A zero: significant only if a non-zero number follows before the run of numbers ends.
		j := end
		for {
			r, e := v.raw(j)
			if r == "" || !isDigit(r[0]) {
				v.i = j // skip the zeros
				break
			}
			if trimZeros(r) != "" {
				v.sig = e - len(r)
				v.i = end
				return verToken{kind: tokNum}
			}
			j = e
		}
	}
}

// wordToken classifies a run of letters; next is the byte after it (0 at the end).
func wordToken(w string, next byte) verToken {
	rank := -1
	switch {
	case eqFold(w, "dev"), eqFold(w, "devel"), eqFold(w, "snapshot"), eqFold(w, "nightly"):
		rank = 0
	case eqFold(w, "alpha"), eqFold(w, "a") && isDigit(next):
		rank = 1
	case eqFold(w, "beta"), eqFold(w, "b") && isDigit(next):
		rank = 2
	case eqFold(w, "milestone"):
		rank = 3
	case eqFold(w, "pre"), eqFold(w, "preview"):
		rank = 4
	case eqFold(w, "rc"), eqFold(w, "cr"):
		rank = 5
	}
	if rank >= 0 {
		return verToken{kind: tokPre, text: w, rank: rank}
	}
	return verToken{kind: tokWord, text: w}
}

func eqFold(s, t string) bool { return len(s) == len(t) && cmpFold(s, t) == 0 }

// cmpFold compares ASCII strings ignoring case.
func cmpFold(s, t string) int {
	for i := 0; i < len(s) && i < len(t); i++ {
		if c, d := lower(s[i]), lower(t[i]); c != d {
			return cmpInt(int(c), int(d))
		}
	}
	return cmpInt(len(s), len(t))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return +1
	}
	return 0
}

func trimZeros(d string) string {
	i := 0
	for i < len(d) && d[i] == '0' {
		i++
	}
	return d[i:]
}
