package csaf

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
)

// docVersion is a CSAF version_t: either integer versioning ("3") or semantic versioning ("1.2.0-rc.1+build").
type docVersion struct {
	integer             bool
	major, minor, patch uint64
	pre, build          string
}

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

var integerPattern = regexp.MustCompile(`^(0|[1-9]\d*)$`)

// parseVersion parses a version_t; ok is false for anything else (including numbers too large for uint64).
func parseVersion(s string) (v docVersion, ok bool) {
	if integerPattern.MatchString(s) {
		n, err := strconv.ParseUint(s, 10, 64)
		return docVersion{integer: true, major: n}, err == nil
	}
	m := semverPattern.FindStringSubmatch(s)
	if m == nil {
		return docVersion{}, false
	}
	var err1, err2, err3 error
	v.major, err1 = strconv.ParseUint(m[1], 10, 64)
	v.minor, err2 = strconv.ParseUint(m[2], 10, 64)
	v.patch, err3 = strconv.ParseUint(m[3], 10, 64)
	v.pre, v.build = m[4], m[5]
	return v, err1 == nil && err2 == nil && err3 == nil
}

// compare orders versions by semantic-versioning precedence, an integer N counting as N.0.0. Build metadata is
// ignored, as semver requires.
func (v docVersion) compare(w docVersion) int {
	if c := cmp.Compare(v.major, w.major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.minor, w.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.patch, w.patch); c != 0 {
		return c
	}
	switch {
	case v.pre == w.pre:
		return 0
	case v.pre == "":
		return 1
	case w.pre == "":
		return -1
	}
	a, b := strings.Split(v.pre, "."), strings.Split(w.pre, ".")
	for i := 0; i < len(a) && i < len(b); i++ {
		na, ea := strconv.ParseUint(a[i], 10, 64)
		nb, eb := strconv.ParseUint(b[i], 10, 64)
		switch {
		case ea == nil && eb == nil:
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
		case ea == nil:
			return -1 // numeric identifiers sort before alphanumeric ones
		case eb == nil:
			return 1
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}
