package cpe

import (
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ErrNoVersion reports that a criterion needs the component's version and the component has none (no version
// string, and Any or NA in its CPE). The matcher records such a pair as "could not evaluate", never as a miss.
var ErrNoVersion = vigil.Errorf(vigil.EINVALID, "the component has no version to compare")

// Criterion is a compiled NVD cpeMatch criterion: parse it once, match it against many components.
type Criterion struct {
	Match vigil.CPEMatch
	cpe   CPE
	// ranged is true when any versionStart/End bound is set.
	ranged bool
}

// Compile parses m.Criteria. Errors are EINVALID and name the criterion.
func Compile(m vigil.CPEMatch) (Criterion, error) {
	c, err := Parse(m.Criteria)
	if err != nil {
		return Criterion{}, err
	}
	return Criterion{
		Match: m,
		cpe:   c,
		ranged: m.VersionStartIncluding != "" || m.VersionStartExcluding != "" ||
			m.VersionEndIncluding != "" || m.VersionEndExcluding != "",
	}, nil
}

// MatchCriterion reports whether a component matches an NVD criterion. The component is its CPE and,
// optionally, its version as a separate string (SBOMs often give "*" in the CPE and the version beside it); a
// non-empty version wins over the CPE's.
//
// Part, vendor and product must match: case-insensitively, an Any on the criterion's side matching everything,
// Any on the component's side matching nothing (a component must say what it is), and a criterion's wildcards
// ("*_firmware") matching as the specification says. The other attributes only rule a match out when both sides
// state different values. The version must equal the criterion's version (by CompareVersions), or lie inside the
// versionStart/End bounds when the criterion has any (and then also equal its version if it states one). An
// NA version on the criterion ("cpe:2.3:h:medtronic:minimed_508:-") means the version does not matter.
// A criterion that needs a version against a component without one returns ErrNoVersion.
func MatchCriterion(m vigil.CPEMatch, c CPE, version string) (bool, error) {
	cr, err := Compile(m)
	if err != nil {
		return false, err
	}
	return cr.Matches(c, version)
}

// Matches is MatchCriterion for a compiled criterion.
func (cr Criterion) Matches(c CPE, version string) (bool, error) {
	k := &cr.cpe
	if !matchAttr(k.Part, c.Part, true) || !matchAttr(k.Vendor, c.Vendor, true) ||
		!matchAttr(k.Product, c.Product, true) {
		return false, nil
	}
	for _, p := range [...][2]string{{k.Update, c.Update}, {k.Edition, c.Edition}, {k.Language, c.Language},
		{k.SWEdition, c.SWEdition}, {k.TargetSW, c.TargetSW}, {k.TargetHW, c.TargetHW}, {k.Other, c.Other}} {
		if !matchAttr(p[0], p[1], false) {
			return false, nil
		}
	}
	if !cr.ranged && (k.Version == Any || k.Version == NA) {
		return true, nil
	}
	if version == "" {
		version = Unquote(c.Version)
	}
	if version == "" {
		return false, ErrNoVersion
	}
	if k.Version != Any && k.Version != NA {
		want := Unquote(k.Version)
		if hasWildcard(k.Version) {
			if !wildMatch(k.Version, strings.ToLower(version)) {
				return false, nil
			}
		} else if !strings.EqualFold(version, want) && CompareVersions(version, want) != 0 {
			return false, nil
		}
	}
	m := &cr.Match
	switch {
	case m.VersionStartIncluding != "" && CompareVersions(version, m.VersionStartIncluding) < 0,
		m.VersionStartExcluding != "" && CompareVersions(version, m.VersionStartExcluding) <= 0,
		m.VersionEndIncluding != "" && CompareVersions(version, m.VersionEndIncluding) > 0,
		m.VersionEndExcluding != "" && CompareVersions(version, m.VersionEndExcluding) >= 0:
		return false, nil
	}
	return true, nil
}

// String describes the criterion with its bounds, for evidence.
func (cr Criterion) String() string {
	m := cr.Match
	var b strings.Builder
	b.WriteString(m.Criteria)
	for _, x := range [...][2]string{{">=", m.VersionStartIncluding}, {">", m.VersionStartExcluding},
		{"<=", m.VersionEndIncluding}, {"<", m.VersionEndExcluding}} {
		if x[1] != "" {
			b.WriteString(" ")
			b.WriteString(x[0])
			b.WriteString(x[1])
		}
	}
	return b.String()
}

// matchAttr reports whether a criterion's attribute value matches a component's. strict makes a component's Any
// match only a criterion's Any.
func matchAttr(crit, comp string, strict bool) bool {
	switch {
	case crit == Any:
		return true
	case comp == Any:
		return !strict
	case crit == NA || comp == NA:
		return crit == comp
	case crit == comp:
		return true
	case !hasWildcard(crit) || hasWildcard(comp):
		return false
	}
	return wildMatch(crit, Unquote(comp))
}

// hasWildcard reports whether a canonical value holds an unquoted "*" or "?".
func hasWildcard(v string) bool {
	if v == Any || v == NA {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		}
	}
	return false
}

// wildMatch matches text against a canonical pattern whose wildcards can only lead or trail (Parse enforces
// it): "*" stands for any number of characters, each "?" for exactly one.
func wildMatch(pattern, text string) bool {
	preStar, preQ, mid, postStar, postQ := splitPattern(pattern)
	lit := Unquote(mid)
	switch {
	case !preStar:
		if len(text) < preQ+len(lit) || text[preQ:preQ+len(lit)] != lit {
			return false
		}
		rest := len(text) - preQ - len(lit)
		return postStar || rest == postQ
	case !postStar:
		end := len(text) - postQ
		return end >= len(lit) && text[end-len(lit):end] == lit
	}
	return strings.Contains(text, lit)
}

func splitPattern(p string) (preStar bool, preQ int, mid string, postStar bool, postQ int) {
	switch {
	case strings.HasPrefix(p, "*"):
		preStar, p = true, p[1:]
	default:
		for strings.HasPrefix(p, "?") {
			preQ, p = preQ+1, p[1:]
		}
	}
	// A trailing wildcard is unquoted: count the backslashes before it.
	unquoted := func(i int) bool {
		n := 0
		for j := i - 1; j >= 0 && p[j] == '\\'; j-- {
			n++
		}
		return n%2 == 0
	}
	if strings.HasSuffix(p, "*") && unquoted(len(p)-1) {
		postStar, p = true, p[:len(p)-1]
	} else {
		for strings.HasSuffix(p, "?") && unquoted(len(p)-1) {
			postQ, p = postQ+1, p[:len(p)-1]
		}
	}
	return preStar, preQ, p, postStar, postQ
}

// Item is one component of a device version, as the CPE matcher sees it.
type Item struct {
	CPE     string // CPE 2.3 formatted string or 2.2 URI; an item without one never matches
	Version string // the component's version when the CPE does not carry it (or carries "*")
	Ref     string // how evidence names the component (its name, or bom-ref); the CPE when empty
}

// Hit is one criterion matched by one item: the evidence of an evaluation.
type Hit struct {
	Item       int    // index into the items evaluated
	Criterion  string // the criterion with its bounds, as Criterion.String gives it
	Vulnerable bool   // false for a platform criterion (the hardware a firmware runs on)
	Version    string // the version compared, when one was
}

// Set is a device version's components prepared for evaluation: parsed once, evaluated against many
// configurations.
type Set struct {
	items []Item
	cpes  []CPE
	ok    []bool // the item has a CPE
	// byProduct indexes items by vendor and product, so that a criterion naming both (nearly all of NVD's)
	// looks only at the components it can match.
	byProduct map[vendorProduct][]int
}

type vendorProduct struct{ vendor, product string }

// NewSet parses every item's CPE. An invalid CPE is EINVALID naming the item (have[i].cpe).
func NewSet(have []Item) (*Set, error) {
	s := &Set{items: have, cpes: make([]CPE, len(have)), ok: make([]bool, len(have)),
		byProduct: make(map[vendorProduct][]int)}
	for i, it := range have {
		if it.CPE == "" {
			continue
		}
		c, err := Parse(it.CPE)
		if err != nil {
			return nil, fmt.Errorf("have[%d].cpe: %w", i, err)
		}
		s.cpes[i], s.ok[i] = c, true
		k := vendorProduct{c.Vendor, c.Product}
		s.byProduct[k] = append(s.byProduct[k], i)
	}
	return s, nil
}

// Evaluate reports whether an NVD configuration applies to a device version's components, with evidence: one
// line per criterion matched, naming the component and whether the criterion is the vulnerable part or the
// platform it runs on. See Set.Evaluate for the rules.
func Evaluate(cfg vigil.CPEConfig, have []Item) (matched bool, evidence []string, err error) {
	s, err := NewSet(have)
	if err != nil {
		return false, nil, err
	}
	matched, hits, err := s.Evaluate(cfg)
	for _, h := range hits {
		evidence = append(evidence, s.Describe(h))
	}
	return matched, evidence, err
}

// Describe renders a hit as one line of evidence.
func (s *Set) Describe(h Hit) string {
	role := "platform"
	if h.Vulnerable {
		role = "vulnerable"
	}
	ref := ""
	if h.Item >= 0 && h.Item < len(s.items) {
		ref = s.items[h.Item].Ref
		if ref == "" {
			ref = s.items[h.Item].CPE
		}
	}
	if h.Version != "" {
		return fmt.Sprintf("%s matched %s (%s, version %s)", ref, h.Criterion, role, h.Version)
	}
	return fmt.Sprintf("%s matched %s (%s)", ref, h.Criterion, role)
}

// Evaluate applies an NVD configuration: each node's criteria combined by the node's operator (OR when unset),
// the nodes combined by the configuration's operator (OR when unset), negations applied, a criterion being met
// when any item matches it (MatchCriterion). So an AND of a firmware criterion and a hardware criterion
// (NVD's "firmware running on hardware") matches only when both are among the components.
//
// A criterion that cannot be decided (it is malformed, or needs a version an item lacks) is unknown, and unknown
// propagates as in three-valued logic: an OR with a match is still a match, an AND with a miss still a miss.
// If the configuration as a whole is unknown, Evaluate returns false and an error (EINVALID) naming the first
// undecidable criterion by its path, so that the matcher can record "could not evaluate" instead of a silent miss.
// Hits are the criteria met along the way that made the configuration match (none inside negated nodes), each
// with every item that met it.
func (s *Set) Evaluate(cfg vigil.CPEConfig) (bool, []Hit, error) {
	op, err := operator(cfg.Operator)
	if err != nil {
		return false, nil, fmt.Errorf("configuration.operator: %w", err)
	}
	results := make([]tri, 0, len(cfg.Nodes))
	var hits []Hit
	var firstErr error
	for i, n := range cfg.Nodes {
		r, h, err := s.evalNode(n)
		if r == unknown && firstErr == nil {
			firstErr = fmt.Errorf("nodes[%d].%w", i, err)
		}
		results = append(results, r)
		if r == yes {
			hits = append(hits, h...)
		}
	}
	r := combine(op, results)
	if cfg.Negate {
		r, hits = r.not(), nil
	}
	switch r {
	case yes:
		return true, hits, nil
	case no:
		return false, nil, nil
	}
	return false, nil, fmt.Errorf("could not evaluate configuration: %w", firstErr)
}

func (s *Set) evalNode(n vigil.CPENode) (tri, []Hit, error) {
	op, err := operator(n.Operator)
	if err != nil {
		return unknown, nil, fmt.Errorf("operator: %w", err)
	}
	results := make([]tri, 0, len(n.Matches))
	var hits []Hit
	var firstErr error
	for j, m := range n.Matches {
		r, h, err := s.evalMatch(m)
		if r == unknown && firstErr == nil {
			firstErr = fmt.Errorf("cpe_match[%d] %s: %w", j, clip(m.Criteria, 200), err)
		}
		results = append(results, r)
		if r == yes {
			hits = append(hits, h...)
		}
	}
	r := combine(op, results)
	if n.Negate {
		r, hits = r.not(), nil
	}
	switch r {
	case yes:
		return r, hits, nil
	case no:
		return r, nil, nil
	}
	return r, nil, firstErr
}

func (s *Set) evalMatch(m vigil.CPEMatch) (tri, []Hit, error) {
	cr, err := Compile(m)
	if err != nil {
		return unknown, nil, err
	}
	r := no
	var hits []Hit
	var firstErr error
	label := cr.String()
	for _, i := range s.candidates(&cr) {
		it := s.items[i]
		ok, err := cr.Matches(s.cpes[i], it.Version)
		switch {
		case ok:
			r = yes
			v := it.Version
			if v == "" {
				v = Unquote(s.cpes[i].Version)
			}
			hits = append(hits, Hit{Item: i, Criterion: label, Vulnerable: m.Vulnerable, Version: v})
		case err != nil:
			if r == no {
				r = unknown
			}
			if firstErr == nil {
				ref := it.Ref
				if ref == "" {
					ref = it.CPE
				}
				firstErr = fmt.Errorf("%s: %w", clip(ref, 200), err)
			}
		}
	}
	if r != unknown {
		firstErr = nil
	}
	return r, hits, firstErr
}

// candidates returns the indexes of the items that can match a criterion: those with its vendor and product
// when it names both literally (a literal criterion value only matches an equal component value), else all.
func (s *Set) candidates(cr *Criterion) []int {
	v, p := cr.cpe.Vendor, cr.cpe.Product
	if v != Any && p != Any && !hasWildcard(v) && !hasWildcard(p) {
		return s.byProduct[vendorProduct{v, p}]
	}
	all := make([]int, 0, len(s.items))
	for i := range s.items {
		if s.ok[i] {
			all = append(all, i)
		}
	}
	return all
}

// tri is a three-valued truth: a criterion may be undecidable.
type tri int8

const (
	no tri = iota
	yes
	unknown
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// combine folds results with AND or OR in Kleene's logic. An empty list is false: a node with no criteria
// describes nothing.
func combine(and bool, rs []tri) tri {
	if len(rs) == 0 {
		return no
	}
	sawUnknown := false
	for _, r := range rs {
		switch {
		case r == unknown:
			sawUnknown = true
		case and && r == no:
			return no
		case !and && r == yes:
			return yes
		}
	}
	switch {
	case sawUnknown:
		return unknown
	case and:
		return yes
	}
	return no
}

// operator reads an NVD operator: "AND" (true) or "OR"; unset means OR.
func operator(op string) (and bool, err error) {
	switch {
	case op == "" || strings.EqualFold(op, "OR"):
		return false, nil
	case strings.EqualFold(op, "AND"):
		return true, nil
	}
	return false, vigil.Errorf(vigil.EINVALID, "operator %q: want AND or OR", clip(op, 20))
}
