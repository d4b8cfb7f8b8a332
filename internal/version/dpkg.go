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

// parseDpkg applies dpkg's own checks (lib/dpkg/parsehelp.c parseversion), treating the ones dpkg only warns
// about as errors too: a version that does not start with a digit or holds other characters is not something a
// Debian archive ships, and ordering it anyway would hide a bad record behind a plausible answer.
func parseDpkg(s string) (*dpkgVersion, error) {
	v := &dpkgVersion{}
	rest := s
	if e, r, ok := strings.Cut(s, ":"); ok {
		if e == "" || !allBytes(e, isDigit) {
			return nil, fmt.Errorf("epoch %q is not a number", clip(e))
		}
		v.epoch, rest = trimZeros(e), r
	}
	v.upstream, v.revision = rest, "0"
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.upstream, v.revision = rest[:i], rest[i+1:]
		if v.revision == "" {
			return nil, fmt.Errorf("empty revision after \"-\"")
		}
		if i := strings.IndexFunc(v.revision, func(r rune) bool {
			return r > 0x7f || !(isAlnum(byte(r)) || strings.ContainsRune("+.~", r))
		}); i >= 0 {
			return nil, fmt.Errorf("revision: invalid character %q", v.revision[i:i+1])
		}
	}
	switch {
	case v.upstream == "":
		return nil, fmt.Errorf("empty upstream version")
	case !isDigit(v.upstream[0]):
		return nil, fmt.Errorf("upstream version must start with a digit")
	}
	if i := strings.IndexFunc(v.upstream, func(r rune) bool {
		return r > 0x7f || !(isAlnum(byte(r)) || strings.ContainsRune(".+~-:", r))
	}); i >= 0 {
		return nil, fmt.Errorf("upstream version: invalid character %q", v.upstream[i:i+1])
	}
	return v, nil
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

func dpkgWeight(s string, k int) int {
	if k >= len(s) {
		return 2
	}
	c := s[k]
	switch {
	case c == '~':
		return 1
	case isLetter(c):
		return int(c)
	}
	return int(c) + 122
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
