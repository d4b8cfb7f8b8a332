package version

import (
	"fmt"
	"strings"
)

// dpkgVersion is a Debian (or Ubuntu) version, epoch:upstream-revision, ordered as dpkg orders it
// (deb-version(7)). Compare allocates nothing.
type dpkgVersion struct {
	epoch    string // digits without leading zeros
	upstream string
	revision string // "0" when absent, as dpkg treats a missing revision
}

// parseDpkg applies dpkg's own checks (lib/dpkg/parsehelp.c parseversion). What dpkg refuses is an error; what it
// only warns about (an upstream version not starting with a digit, a character outside deb-version(7)'s sets, as in
// "a-0" or "6.0-4.el6.x86_64") is accepted with that warning, because `dpkg --compare-versions` orders such a
// version anyway and real packages carry them: the caller shows the warning beside any answer that rests on it.
func parseDpkg(s string) (*dpkgVersion, string, error) {
	v := &dpkgVersion{}
	rest := s
	if e, r, ok := strings.Cut(s, ":"); ok {
		switch {
		case e == "":
			return nil, "", fmt.Errorf("epoch in version is empty")
		case !allBytes(e, isDigit):
			// dpkg reads the epoch with strtol, so it would also take a sign ("+1:", "-0:"); no archive has one.
			return nil, "", fmt.Errorf("epoch %q is not a number", clip(e))
		case cmpNum(trimZeros(e), "2147483647") > 0:
			return nil, "", fmt.Errorf("epoch %q is too big", clip(e))
		case r == "":
			return nil, "", fmt.Errorf("nothing after the epoch's colon")
		}
		v.epoch, rest = trimZeros(e), r
	}
	v.upstream, v.revision = rest, "0"
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.upstream, v.revision = rest[:i], rest[i+1:]
		if v.revision == "" {
			return nil, "", fmt.Errorf("empty revision after \"-\"")
		}
	}
	if v.upstream == "" {
		return nil, "", fmt.Errorf("empty upstream version")
	}
	return v, dpkgWarning(v.upstream, v.revision), nil
}

// dpkgWarning is the warning dpkg gives for a version it still orders, "" for a version it accepts as it is.
func dpkgWarning(upstream, revision string) string {
	if !isDigit(upstream[0]) {
		return "dpkg warns: version number does not start with digit"
	}
	for i := 0; i < len(upstream); i++ {
		if c := upstream[i]; !isAlnum(c) && strings.IndexByte(".-+~:", c) < 0 {
			return "dpkg warns: invalid character in version number"
		}
	}
	for i := 0; i < len(revision); i++ {
		if c := revision[i]; !isAlnum(c) && strings.IndexByte(".+~", c) < 0 {
			return "dpkg warns: invalid character in revision number"
		}
	}
	return ""
}

func (a *dpkgVersion) cmp(w orderable) int {
	b, ok := w.(*dpkgVersion)
	if !ok {
		return 0
	}
	if c := cmpNum(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := verrevcmp(a.upstream, b.upstream); c != 0 {
		return c
	}
	return verrevcmp(a.revision, b.revision)
}

// opamVersion is an opam package version: opam orders the whole string with dpkg's fragment comparison, without
// epochs or revisions.
type opamVersion struct{ s string }

func parseOpam(s string) (opamVersion, error) {
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r > 0x7f || !(isAlnum(byte(r)) || strings.ContainsRune("-_+.~", r))
	}); i >= 0 {
		return opamVersion{}, fmt.Errorf("invalid character %q", s[i:i+1])
	}
	return opamVersion{s}, nil
}

func (a opamVersion) cmp(w orderable) int {
	b, ok := w.(opamVersion)
	if !ok {
		return 0
	}
	return verrevcmp(a.s, b.s)
}

// verrevcmp is dpkg's comparison of one version part: alternate runs of non-digits (compared character by
// character, "~" before the end before letters before everything else) and runs of digits (compared as numbers).
func verrevcmp(a, b string) int {
	for a != "" || b != "" {
		i, j := firstDigit(a), firstDigit(b)
		ap, bp := a[:i], b[:j]
		a, b = a[i:], b[j:]
		if ap != bp {
			for k := 0; k < len(ap) || k < len(bp); k++ {
				if c := dpkgWeight(ap, k) - dpkgWeight(bp, k); c != 0 {
					return sign(c)
				}
			}
		}
		i, j = firstNonDigit(a), firstNonDigit(b)
		if c := cmpNum(trimZeros(a[:i]), trimZeros(b[:j])); c != 0 {
			return c
		}
		a, b = a[i:], b[j:]
	}
	return 0
}

// dpkgWeight is dpkg's order() of the k-th byte of a non-digit run: "~" before the end (and the digits after it)
// before letters before everything else. A byte above 0x7f weighs as dpkg weighs it where char is signed (amd64,
// i386, the builds Debian's tools run on): after the letters and before the other ASCII characters.
func dpkgWeight(s string, k int) int {
	if k >= len(s) {
		return 0
	}
	c := s[k]
	switch {
	case c == '~':
		return -1
	case isLetter(c):
		return int(c)
	case c >= 0x80:
		return int(c)
	}
	return int(c) + 256
}

func firstDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return i
		}
	}
	return len(s)
}

func firstNonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return i
		}
	}
	return len(s)
}
