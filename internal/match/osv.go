package match

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/version"
)

// state is the outcome of evaluating one piece of affected data against one component version.
type state uint8

const (
	stNo      state = iota // not affected
	stUnknown              // could not evaluate
	stYes                  // affected
)

// outcome is a state with what explains it.
type outcome struct {
	st     state
	rng    string // the range, versions entry or criterion that matched
	fixed  string
	reason string // why it could not be evaluated
	warn   string // the warning of a version the answer rests on (version.Version.Warning), "" for none
}

// Event kinds.
const (
	evIntroduced uint8 = iota + 1
	evFixed
	evLastAffected
	evLimit
)

type event struct {
	kind uint8
	zero bool // introduced "0": before every version
	inf  bool // limit "*": after every version
	raw  string
	v    version.Version
}

// crange is a compiled OSV range.
type crange struct {
	typ    string
	eco    string  // the ecosystem whose order places versions on this range
	events []event // introduced, fixed and last_affected, sorted by version (ties keep the record's order)
	limits []event
	bad    string // why the range cannot be evaluated, "" when it can
	warn   string // the first event version that its ecosystem's tool orders only with a warning, and why
}

// affected is one compiled OSV affected package of one advisory. It is compiled on first use: a server indexes
// every advisory of its store, and most are never met by a component.
type affected struct {
	ent     *entry
	idx     int
	af      *vigil.Affected
	release string        // the distribution release of the ecosystem suffix, "" for any
	names   *matcherNames // the evidence's matcher names for its ecosystem

	once     sync.Once
	ranges   []crange
	veco     string   // the order used for the versions list, "" when Vigil has none
	order    []string // the list's entries that are versions of veco, in its order (matchOrder)
	rest     []string // the list's other entries, matched by their text only
	badOrder string   // why ECOSYSTEM data cannot be ordered

	// A list is searched by parsing the entries a binary search probes, through the cache; one searched often (a
	// re-match's many versions) has its entries parsed once, into parsed.
	searches   atomic.Int32
	parsedOnce sync.Once
	parsed     []version.Version
}

// listed is one parsed entry of a versions list, with the entry as written.
type listed struct {
	v   version.Version
	src string
}

// parseAfter is how many searches of a versions list go through the cache before its entries are parsed once for
// good: a cold scan searches most lists once or twice, and parsing every entry of every list it met was most of
// its time and memory.
const parseAfter = 4

// semverOrder is the ecosystem whose order is plain SemVer 2.0 (for SEMVER ranges of ecosystems Vigil does not
// order).
const semverOrder = "npm"

func (a *affected) compile(vc *version.Cache) {
	a.once.Do(func() { a.doCompile(vc) })
}

func (a *affected) doCompile(vc *version.Cache) {
	eco := a.af.Ecosystem
	_, known := version.Normalize(eco)
	if !known {
		a.badOrder = fmt.Sprintf("ecosystem %q has no version order in Vigil", clip(eco))
	}
	path := fmt.Sprintf("affected[%d]", a.idx)
	for j := range a.af.Ranges {
		r := &a.af.Ranges[j]
		cr := crange{typ: r.Type}
		rpath := fmt.Sprintf("%s.ranges[%d]", path, j)
		switch {
		case r.Type == vigil.RangeGit:
			a.ranges = append(a.ranges, cr)
			continue
		case r.Type == vigil.RangeSemver && !known:
			cr.eco = semverOrder
		case r.Type == vigil.RangeSemver || r.Type == vigil.RangeEcosystem:
			if !known {
				cr.bad = fmt.Sprintf("%s (%s): %s", rpath, r.Type, a.badOrder)
			}
			cr.eco = eco
		default:
			cr.bad = fmt.Sprintf("%s: unknown range type %q", rpath, clip(r.Type))
		}
		if cr.bad == "" {
			cr.compileEvents(r, rpath, vc)
		}
		a.ranges = append(a.ranges, cr)
	}
	if len(a.af.Versions) > 0 && known {
		a.veco = eco
		vs, n := a.af.Versions, a.af.Ordered
		if n == 0 { // not from a match record: order it here, as the record's encoder would have
			vs, n = matchOrder(eco, vs, vc.Parse)
		}
		a.order, a.rest = vs[:n], vs[n:]
	}
}

// listedText reports whether the versions list holds v as written.
func (a *affected) listedText(v string) bool {
	return slices.Contains(a.af.Versions, v)
}

// listed returns the entry of the ordered list that equals cv in the ecosystem's order (the first, as the list is
// ordered), or v itself when an equal entry is spelled as v is; "" when none equals cv.
func (a *affected) listed(cv version.Version, v string, vc *version.Cache) string {
	at := func(i int) version.Version {
		p, _ := vc.Parse(a.veco, a.order[i]) // the entries of order parse: matchOrder put them there
		return p
	}
	if a.searches.Add(1) > parseAfter {
		a.parsedOnce.Do(func() {
			parsed := make([]version.Version, len(a.order))
			for i := range parsed {
				parsed[i] = at(i)
			}
			a.parsed = parsed
		})
		at = func(i int) version.Version { return a.parsed[i] }
	}
	i := sort.Search(len(a.order), func(i int) bool { return at(i).Compare(cv) >= 0 })
	if i == len(a.order) || at(i).Compare(cv) != 0 {
		return ""
	}
	for j := i; j < len(a.order) && (j == i || at(j).Compare(cv) == 0); j++ {
		if a.order[j] == v {
			return v
		}
	}
	return a.order[i]
}

func (cr *crange) compileEvents(r *vigil.Range, rpath string, vc *version.Cache) {
	for k, e := range r.Events {
		var ev event
		field := ""
		switch {
		case e.Introduced != "":
			ev, field = event{kind: evIntroduced, raw: e.Introduced, zero: e.Introduced == "0"}, "introduced"
		case e.Fixed != "":
			ev, field = event{kind: evFixed, raw: e.Fixed}, "fixed"
		case e.LastAffected != "":
			ev, field = event{kind: evLastAffected, raw: e.LastAffected}, "last_affected"
		case e.Limit != "":
			ev, field = event{kind: evLimit, raw: e.Limit, inf: strings.Contains(e.Limit, "*")}, "limit"
		default:
			continue // the parser rejects empty events; nothing to place here
		}
		if !ev.zero && !ev.inf {
			v, err := vc.Parse(cr.eco, ev.raw)
			if err != nil {
				cr.bad = fmt.Sprintf("%s.events[%d].%s: %s", rpath, k, field, vigil.ErrorMessage(err))
				return
			}
			ev.v = v
			if w := v.Warning(); w != "" && cr.warn == "" {
				cr.warn = fmt.Sprintf("%s.events[%d].%s %q: %s", rpath, k, field, clip(ev.raw), w)
			}
		}
		if ev.kind == evLimit {
			cr.limits = append(cr.limits, ev)
		} else {
			cr.events = append(cr.events, ev)
		}
	}
	slices.SortStableFunc(cr.events, func(a, b event) int { return cmpEvent(&a, &b) })
}

func cmpEvent(a, b *event) int {
	switch {
	case a.zero && b.zero:
		return 0
	case a.zero:
		return -1
	case b.zero:
		return 1
	}
	return a.v.Compare(b.v)
}

// contains runs OSV's evaluation over one range: within the limits, the last introduced event at or below v turns
// "affected" on and a later fixed (at or below v) or last_affected (below v) turns it off. It returns the
// evidence when v is affected.
func (cr *crange) contains(v version.Version) (bool, string, string) {
	if len(cr.limits) > 0 {
		below := false
		for i := range cr.limits {
			if cr.limits[i].inf || v.Compare(cr.limits[i].v) < 0 {
				below = true
				break
			}
		}
		if !below {
			return false, "", ""
		}
	}
	vulnerable, start := false, -1
	for i := range cr.events {
		e := &cr.events[i]
		switch e.kind {
		case evIntroduced:
			if e.zero || v.Compare(e.v) >= 0 {
				vulnerable, start = true, i
			}
		case evFixed:
			if v.Compare(e.v) >= 0 {
				vulnerable = false
			}
		case evLastAffected:
			if v.Compare(e.v) > 0 {
				vulnerable = false
			}
		}
	}
	if !vulnerable {
		return false, "", ""
	}
	parts := []string{">=" + cr.events[start].raw}
	fixed := ""
	for i := start + 1; i < len(cr.events); i++ {
		e := &cr.events[i]
		if e.kind == evFixed {
			parts, fixed = append(parts, "<"+e.raw), e.raw
			break
		}
		if e.kind == evLastAffected {
			parts = append(parts, "<="+e.raw)
			break
		}
	}
	for i := range cr.limits {
		if !cr.limits[i].inf {
			parts = append(parts, "limit <"+cr.limits[i].raw)
		}
	}
	return true, strings.Join(parts, ", ") + " (" + cr.typ + ")", fixed
}

// matcherNames are the evidence's matcher names of one ecosystem's affected packages, made once per ecosystem
// (Index.matcherNames) rather than once per finding.
type matcherNames struct{ eco, cpe string }

// compVersion is a component's version, parsed in each order it is compared in the first time it is: a component
// is compared with every advisory under its key, nearly always in one order, and a hot package has a thousand.
// It is one component's: component versions do not go through the Index's cache, which they would only churn.
type compVersion struct {
	s   string
	n   int
	eco [2]string
	v   [2]version.Version
	err [2]error
}

func (c *compVersion) parse(eco string) (version.Version, error) {
	for i := range c.n {
		if c.eco[i] == eco {
			return c.v[i], c.err[i]
		}
	}
	v, err := version.Parse(eco, c.s)
	if c.n < len(c.eco) {
		c.eco[c.n], c.v[c.n], c.err[c.n] = eco, v, err
		c.n++
	}
	return v, err
}

// eval decides whether a component version (as the ecosystem's advisories spell it) is affected: any range or the
// versions list saying so is enough; else anything undecidable makes the answer "could not evaluate".
func (a *affected) eval(comp *compVersion, vc *version.Cache) outcome {
	a.compile(vc)
	v := comp.s
	unknown := ""
	note := func(reason string) {
		if unknown == "" {
			unknown = reason
		}
	}
	if len(v) > version.MaxLen {
		return outcome{st: stUnknown, reason: fmt.Sprintf("component version longer than %d bytes", version.MaxLen)}
	}
	for i := range a.ranges {
		cr := &a.ranges[i]
		if cr.typ == vigil.RangeGit {
			if isCommit(v) {
				note(fmt.Sprintf("affected[%d].ranges[%d] (GIT): the component names commit %s; placing it on a commit "+
					"range needs the repository's history", a.idx, i, v))
			}
			continue
		}
		if cr.bad != "" {
			note(cr.bad)
			continue
		}
		if v == "" {
			note("the component has no version to compare")
			continue
		}
		cv, err := comp.parse(cr.eco)
		if err != nil {
			note(fmt.Sprintf("component version: %s", vigil.ErrorMessage(err)))
			continue
		}
		if ok, rng, fixed := cr.contains(cv); ok {
			return outcome{st: stYes, rng: rng, fixed: fixed, warn: firstWarning(cv, cr.warn)}
		}
	}
	if len(a.af.Versions) > 0 {
		var cv version.Version
		var err error
		if a.veco != "" && v != "" {
			cv, err = comp.parse(a.veco)
		}
		switch {
		case a.veco != "" && v != "" && err == nil:
			// An entry spelled as v parses as v does, so it is among the entries equal to cv, or (in a record
			// written by an older Vigil that could not parse it) among the rest.
			if e := a.listed(cv, v, vc); e == v || slices.Contains(a.rest, v) {
				return outcome{st: stYes, rng: "versions: " + v}
			} else if e != "" {
				// Versions the tool orders equal carry the same warning, so the component's says it all.
				return outcome{st: stYes, rng: "versions: " + e, warn: firstWarning(cv, "")}
			}
		case v != "" && a.listedText(v):
			return outcome{st: stYes, rng: "versions: " + v}
		case a.veco != "" && v == "":
			note("the component has no version to compare")
		case a.veco != "":
			note(fmt.Sprintf("component version: %s", vigil.ErrorMessage(err)))
		}
	}
	if unknown != "" {
		return outcome{st: stUnknown, reason: unknown}
	}
	return outcome{st: stNo}
}

// firstWarning names what the ecosystem's tool warns about the component's version, else the advisory's.
func firstWarning(component version.Version, advisory string) string {
	if w := component.Warning(); w != "" {
		return fmt.Sprintf("component version %q: %s", clip(component.String()), w)
	}
	return advisory
}

// isCommit reports whether a version looks like a Git commit hash (7 to 64 hex digits with at least one letter,
// so that "20230101" stays a version).
func isCommit(v string) bool {
	if len(v) < 7 || len(v) > 64 {
		return false
	}
	letter := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case '0' <= c && c <= '9':
		case 'a' <= c && c <= 'f':
			letter = true
		default:
			return false
		}
	}
	return letter
}
