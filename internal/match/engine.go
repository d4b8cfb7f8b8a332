package match

import (
	"context"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

// Engine matches components against a Source without loading it: for each Match it asks the Source for the
// advisories under the components' keys only, compiles those, and matches. It is what a cold process (vigil scan)
// uses; a server that keeps its whole store in an Index calls Index.Match directly.
type Engine struct {
	src Source
	opt Options
}

// New returns an Engine over src.
func New(src Source, opt Options) *Engine { return &Engine{src: src, opt: opt} }

// lookupBatch bounds the keys of one Source.Lookup call, so that a store's query stays a bounded IN list.
const lookupBatch = 500

// Match returns the findings for comps: one per (component, vulnerability id as the feed names it), sorted by the
// component's position in comps and then by id. Errors are the Source's or the context's.
func (en *Engine) Match(ctx context.Context, comps []vigil.Component) ([]vigil.Finding, error) {
	var keys []vigil.PackageKey
	for i := range comps {
		keys = append(keys, ComponentKeys(comps[i], en.opt)...)
	}
	keys = dedupPackageKeys(keys)
	x := NewIndex(en.opt)
	for len(keys) > 0 {
		n := min(len(keys), lookupBatch)
		advs, err := en.src.Lookup(ctx, keys[:n])
		if err != nil {
			return nil, err
		}
		x.Add(advs...)
		keys = keys[n:]
	}
	return x.Match(ctx, comps)
}

// pair is one (component, vulnerability id) finding slot.
type pair struct {
	comp int
	vuln string
}

type result struct {
	ent     *entry
	o       outcome
	matcher string
}

// better reports whether a new result should replace the current one for the same slot: affected beats "could
// not evaluate", then the preferred source wins, then the advisory indexed first.
func better(o outcome, e *entry, cur *result) bool {
	if o.st != cur.o.st {
		return o.st > cur.o.st
	}
	if e.rank != cur.ent.rank {
		return e.rank < cur.ent.rank
	}
	return e.seq < cur.ent.seq
}

// Match matches comps against the indexed advisories. See Engine.Match for the result's shape. Components that
// are exact duplicates (same name, group, version, purl and CPE) are reported once, at their first position.
func (x *Index) Match(ctx context.Context, comps []vigil.Component) ([]vigil.Finding, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	res := map[pair]*result{}
	rec := func(ci int, e *entry, o outcome, matcher string) {
		if o.st == stNo {
			return
		}
		k := pair{ci, e.adv.ID}
		if cur, ok := res[k]; ok && !better(o, e, cur) {
			return
		}
		res[k] = &result{ent: e, o: o, matcher: matcher}
	}
	ccpes := make([]componentCPE, len(comps))
	byKey := map[key][]int{}
	nvdCand := map[*entry]bool{}
	type ident struct{ name, group, version, purl, cpe string }
	seen := make(map[ident]bool, len(comps))
	for i := range comps {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c := &comps[i]
		id := ident{c.Name, c.Group, c.Version, c.Purl, c.CPE}
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, p := range Identify(*c, x.opt) {
			k := key{p.Ecosystem, p.Name}
			for _, a := range x.osv[k] {
				if releaseMatch(a.release, p.Release) {
					rec(i, a.ent, a.eval(p.Version, x.cache), "osv-ecosystem:"+a.af.Ecosystem)
				}
			}
			for _, pr := range x.csaf[k] {
				if pr.p.Purl != "" {
					rec(i, pr.ent, pr.eval(p.Version), "csaf-product")
				}
			}
		}
		cc := parseComponentCPE(c)
		ccpes[i] = cc
		if cc.ok {
			byKey[cc.key] = append(byKey[cc.key], i)
			for _, a := range x.osvCPE[cc.key] {
				if a.cpeNames(cc) {
					rec(i, a.ent, a.eval(cc.version, x.cache), "osv-cpe:"+a.af.Ecosystem)
				}
			}
			for _, e := range x.nvd[cc.key] {
				nvdCand[e] = true
			}
			for _, pr := range x.csaf[cc.key] {
				if pr.crit == nil {
					continue
				}
				ok, err := pr.crit.Matches(cc.cpe, cc.version)
				switch {
				case err != nil:
					rec(i, pr.ent, outcome{st: stUnknown, rng: pr.rng, reason: vigil.ErrorMessage(err)}, "csaf-product")
				case ok:
					rec(i, pr.ent, pr.eval(cc.version), "csaf-product")
				}
			}
		}
		if n := csafName(c.Name); n != "" {
			for _, pr := range x.csaf[key{keyCSAF, n}] {
				if pr.p.Purl == "" && pr.p.CPE == "" && vendorAgrees(pr.p.Vendor, c) {
					rec(i, pr.ent, pr.eval(c.Version), "csaf-product")
				}
			}
		}
	}
	if len(nvdCand) > 0 {
		cand := make([]*entry, 0, len(nvdCand))
		for e := range nvdCand {
			cand = append(cand, e)
		}
		slices.SortFunc(cand, func(a, b *entry) int { return a.seq - b.seq })
		for _, e := range cand {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			matchNVD(e, ccpes, byKey, rec)
		}
	}
	return findings(comps, res), nil
}

// cpeNames reports whether one of an OSV affected package's CPEs names the component's product (Bitnami's CPEs
// carry no version: the ranges decide).
func (a *affected) cpeNames(cc componentCPE) bool {
	for _, s := range a.af.CPEs {
		k, ok := cpeKeyOf(s)
		if !ok || k != cc.key {
			continue
		}
		c, err := cpe.Parse(s)
		if err == nil && (c.Part == cpe.Any || cc.cpe.Part == cpe.Any || c.Part == cc.cpe.Part) {
			return true
		}
	}
	return false
}

func findings(comps []vigil.Component, res map[pair]*result) []vigil.Finding {
	keys := make([]pair, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b pair) int {
		if a.comp != b.comp {
			return a.comp - b.comp
		}
		return strings.Compare(a.vuln, b.vuln)
	})
	out := make([]vigil.Finding, 0, len(keys))
	for _, k := range keys {
		r := res[k]
		a := r.ent.adv
		f := vigil.Finding{
			Component:     comps[k.comp],
			Vulnerability: a.ID,
			Aliases:       slices.Clone(a.Aliases),
			State:         vigil.FindingOpen,
			Evidence: vigil.Evidence{
				Matcher:  r.matcher,
				Source:   a.Source,
				Advisory: a.ID,
				Range:    r.o.rng,
				Fixed:    r.o.fixed,
				Reason:   r.o.reason,
			},
		}
		if a.Document != "" {
			f.Evidence.Advisory = a.Document
		}
		if r.o.st == stUnknown {
			f.State = vigil.FindingCouldNotEval
		}
		out = append(out, f)
	}
	return out
}
