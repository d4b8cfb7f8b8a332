package version

import "strings"

// rpmVersion is an RPM version, [epoch:]version[-release], ordered by rpmvercmp(8) part by part, as every RPM
// distribution (Red Hat, SUSE, AlmaLinux, Rocky, Mageia, openEuler, Photon OS, Azure Linux) orders it. RPM has
// no invalid versions: any text orders somewhere. Compare allocates nothing.
type rpmVersion struct {
	epoch, version, release string // release keeps its leading "-", as osv-scalibr does
}

func parseRPM(s string) *rpmVersion {
	epoch, vr, ok := strings.Cut(s, ":")
	if !ok || !allBytes(epoch, isDigit) {
		epoch, vr = "", s
	}
	if epoch == "" {
		epoch = "0"
	}
	v := &rpmVersion{epoch: epoch, version: vr}
	if i := strings.IndexByte(vr, '-'); i >= 0 {
		v.version, v.release = vr[:i], vr[i:]
	}
	return v
}

func (a *rpmVersion) cmp(w orderable) int {
	b, ok := w.(*rpmVersion)
	if !ok {
		return 0
	}
	if c := rpmvercmp(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := rpmvercmp(a.version, b.version); c != 0 {
		return c
	}
	return rpmvercmp(a.release, b.release)
}

// rpmvercmp compares two version parts as rpm's rpmvercmp does (numbered steps as in its documentation).
func rpmvercmp(a, b string) int {
	switch {
	case a == "" && b != "":
		return -1
	case a != "" && b == "":
		return +1
	}
	ai, bi := 0, 0
	for {
		// 1. Skip separators: anything but letters, digits, "~" and "^".
		for ai < len(a) && rpmSeparator(a[ai]) {
			ai++
		}
		for bi < len(b) && rpmSeparator(b[bi]) {
			bi++
		}
		// 2–3. A tilde sorts before anything, even the end.
		at, bt := ai < len(a) && a[ai] == '~', bi < len(b) && b[bi] == '~'
		if at && bt {
			ai, bi = ai+1, bi+1
			continue
		}
		if at {
			return -1
		}
		if bt {
			return +1
		}
		// 4–5. A caret sorts after the end but before anything else.
		ac, bc := ai < len(a) && a[ai] == '^', bi < len(b) && b[bi] == '^'
		if ac && bc {
			ai, bi = ai+1, bi+1
			continue
		}
		if ac {
			if bi == len(b) {
				return +1
			}
			return -1
		}
		if bc {
			if ai == len(a) {
				return -1
			}
			return +1
		}
		// 6.
		if ai == len(a) || bi == len(b) {
			break
		}
		// 7. Take the run of digits, or of letters, that a starts with, and the same kind of run from b.
		run := isLetter
		numeric := isDigit(a[ai])
		if numeric {
			run = isDigit
		}
		as := ai
		for ai < len(a) && run(a[ai]) {
			ai++
		}
		bs := bi
		for bi < len(b) && run(b[bi]) {
			bi++
		}
		x, y := a[as:ai], b[bs:bi]
		// 8. Numbers are newer than letters.
		if y == "" {
			if numeric {
				return +1
			}
			return -1
		}
		// 9–10.
		if numeric {
			x, y = trimZeros(x), trimZeros(y)
			if c := cmpNum(x, y); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	// The longer remainder wins.
	switch al, bl := len(a)-ai, len(b)-bi; {
	case al > bl:
		return +1
	case al < bl:
		return -1
	}
	return 0
}

func rpmSeparator(c byte) bool { return !isAlnum(c) && c != '~' && c != '^' }
