package version

import (
	"fmt"
	"strings"
)

// semverLike is a version made of numeric components and a tail, in the way osv-scalibr reads SemVer, NuGet,
// Pub and Hackage versions: an optional leading "v", dot-separated numbers, and from the first other character on
// a prerelease/build tail ("-beta.2+build"). Components past the family's limit move to the tail, as osv-scalibr
// does, so that both order every version identically. Compare allocates nothing.
type semverLike struct {
	fam   family
	comps []string // decimal digits without leading zeros ("" is zero)
	tail  string   // prerelease and build metadata as written (lower-cased for NuGet and Hackage)
	meta  string   // Pub: build metadata, which breaks ties
}

func maxComponents(fam family) int {
	switch fam {
	case famSemver, famPub:
		return 3
	case famNuGet:
		return 4
	}
	return -1 // Hackage, Linux: any number
}

func parseSemverLike(fam family, s string) (*semverLike, error) {
	body := strings.TrimPrefix(s, "v")
	if body == "" || !isDigit(body[0]) {
		return nil, fmt.Errorf("must start with a digit (after an optional \"v\")")
	}
	v := &semverLike{fam: fam, comps: make([]string, 0, 4)}
	start := -1 // start of the current run of digits
	tail := ""
	for i := 0; i < len(body); i++ {
		c := body[i]
		if isDigit(c) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			v.comps = append(v.comps, trimZeros(body[start:i]))
			start = -1
		}
		if c == '.' {
			continue
		}
		tail = body[i:]
		break
	}
	if tail == "" && start >= 0 {
		v.comps = append(v.comps, trimZeros(body[start:]))
	}
	if fam == famHackage && tail != "" {
		return nil, fmt.Errorf("Hackage versions are dot-separated numbers only")
	}
	if max := maxComponents(fam); max >= 0 && len(v.comps) > max {
		var b strings.Builder
		b.WriteString(tail)
		for _, c := range v.comps[max:] {
			b.WriteByte('.')
			if c == "" {
				c = "0"
			}
			b.WriteString(c)
		}
		tail = b.String()
		v.comps = v.comps[:max:max]
	}
	switch fam {
	case famNuGet, famHackage:
		tail = strings.ToLower(tail)
	case famPub:
		_, v.meta, _ = strings.Cut(tail, "+")
	}
	v.tail = tail
	return v, nil
}

func (a *semverLike) cmp(w orderable) int {
	b, ok := w.(*semverLike)
	if !ok {
		return 0
	}
	if c := cmpComponents(a.comps, b.comps); c != 0 {
		return c
	}
	if c := cmpPrerelease(a.tail, b.tail); c != 0 {
		return c
	}
	switch a.fam {
	case famPub:
		return strings.Compare(a.meta, b.meta)
	case famHackage:
		// 1.0 < 1.0.0 in Cabal: equal numbers, more components.
		switch {
		case len(a.comps) < len(b.comps):
			return -1
		case len(a.comps) > len(b.comps):
			return +1
		}
	}
	return 0
}

// cmpComponents compares numeric components, the shorter list padded with zeros.
func cmpComponents(a, b []string) int {
	n := max(len(a), len(b))
	for i := 0; i < n; i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpNum(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// cmpPrerelease orders tails by SemVer 2.0 precedence (§9–11): build metadata after "+" is ignored, a version
// with a prerelease sorts before one without, and identifiers compare numerically when both are numbers,
// numbers before words, words in ASCII order, more identifiers last. Like node-semver and osv-scalibr, the
// leading "-" is not part of the first identifier.
func cmpPrerelease(a, b string) int {
	if i := strings.IndexByte(a, '+'); i >= 0 {
		a = a[:i]
	}
	if i := strings.IndexByte(b, '+'); i >= 0 {
		b = b[:i]
	}
	a = strings.TrimPrefix(a, "-")
	b = strings.TrimPrefix(b, "-")
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return +1
	case b == "":
		return -1
	}
	for {
		x, restA, moreA := strings.Cut(a, ".")
		y, restB, moreB := strings.Cut(b, ".")
		if c := cmpIdentifier(x, y); c != 0 {
			return c
		}
		switch {
		case moreA && moreB:
			a, b = restA, restB
		case moreA:
			return +1
		case moreB:
			return -1
		default:
			return 0
		}
	}
}

func cmpIdentifier(x, y string) int {
	xn, yn := isInteger(x), isInteger(y)
	switch {
	case xn && yn:
		return cmpInteger(x, y)
	case xn:
		return -1
	case yn:
		return +1
	}
	return strings.Compare(x, y)
}

// isInteger reports whether s is an optionally negative decimal integer: what osv-scalibr's big.Int parse
// accepts here ("+" cannot occur, it starts build metadata).
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && allBytes(s, isDigit)
}

// cmpInteger compares two strings isInteger accepts.
func cmpInteger(x, y string) int {
	xneg, yneg := strings.HasPrefix(x, "-"), strings.HasPrefix(y, "-")
	x, y = trimZeros(strings.TrimPrefix(x, "-")), trimZeros(strings.TrimPrefix(y, "-"))
	if x == "" {
		xneg = false
	}
	if y == "" {
		yneg = false
	}
	switch {
	case xneg && !yneg:
		return -1
	case !xneg && yneg:
		return +1
	case xneg:
		return cmpNum(y, x)
	}
	return cmpNum(x, y)
}
