package match

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

// Engine matches components against a Source without loading it: each Match asks the Source only for the
// advisories under the components' keys that no earlier Match of this Engine asked for, adds them to the Engine's
// Index, and matches. A cold process (vigil scan) makes one Engine per scan; a re-match makes one for all the
// device versions it matches, so an advisory that many versions' components name is read and compiled once (the
// Index then holds at most the advisories under the portfolio's keys). Results do not depend on what the Index
// holds beyond the components' keys. Memory stays bounded: once the Index holds more than a limit of advisories,
// the next Match starts a fresh one (what it drops is read again when a later Match needs it). An Engine sees the
// Source as it was when each key was first looked up: make a new one after an import. It is safe for concurrent
// use.
type Engine struct {
	src   Source
	opt   Options
	limit int // advisories the Index may hold before the next Match starts a fresh one

	mu     sync.Mutex
	x      *Index
	loaded map[vigil.PackageKey]*load // keys looked up into x
}

// engineLimit bounds an Engine's Index: about the advisories a portfolio of a few hundred dense device versions
// names, a few hundred MiB of compiled records.
const engineLimit = 150_000

// load is one key's look-up: done is closed when its advisories are in the Index, or err says why they are not.
type load struct {
	done chan struct{}
	err  error
}

// New returns an Engine over src.
func New(src Source, opt Options) *Engine {
	return &Engine{src: src, opt: opt, limit: engineLimit, x: NewIndex(opt), loaded: map[vigil.PackageKey]*load{}}
}

// Match returns the findings for comps: one per (component, vulnerability id as the feed names it), sorted by the
// component's position in comps and then by id. Errors are the Source's or the context's.
func (en *Engine) Match(ctx context.Context, comps []vigil.Component) ([]vigil.Finding, error) {
	var keys []vigil.PackageKey
	for i := range comps {
		keys = append(keys, ComponentKeys(comps[i], en.opt)...)
	}
	return en.MatchKeys(ctx, comps, SortKeys(keys))
}

// MatchKeys is Match for a caller that has worked out the components' keys already (a re-match reads them as
// StoreKeys returns them, to check the version's reverse index): keys must be sorted and hold every key of comps.
func (en *Engine) MatchKeys(ctx context.Context, comps []vigil.Component, keys []vigil.PackageKey) ([]vigil.Finding, error) {
	x, err := en.ensure(ctx, keys)
	if err != nil {
		return nil, err
	}
	return x.Match(ctx, comps)
}

// ensure returns the Index to match against once the advisories under keys are in it: it looks up the keys no one
// has claimed and waits for those another Match is looking up.
func (en *Engine) ensure(ctx context.Context, keys []vigil.PackageKey) (*Index, error) {
	var mine []vigil.PackageKey
	var others []*load
	ld := &load{done: make(chan struct{})}
	en.mu.Lock()
	if en.x.Len() > en.limit {
		// Matches still running keep the Index they started with; loads still running finish into it.
		en.x, en.loaded = NewIndex(en.opt), map[vigil.PackageKey]*load{}
	}
	x, loaded := en.x, en.loaded
	for _, k := range keys {
		if l := loaded[k]; l != nil {
			others = append(others, l)
			continue
		}
		loaded[k] = ld
		mine = append(mine, k)
	}
	en.mu.Unlock()
	if len(mine) > 0 {
		ld.err = en.lookup(ctx, x, mine)
		if ld.err != nil { // let a later Match try these keys again
			en.mu.Lock()
			for _, k := range mine {
				delete(loaded, k)
			}
			en.mu.Unlock()
		}
		close(ld.done)
		if ld.err != nil {
			return nil, ld.err
		}
	}
	for _, l := range others {
		select {
		case <-l.done:
			if l.err != nil {
				return nil, l.err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return x, nil
}

// lookup reads the advisories under keys with one Source call and adds them to x. One call, not a batch of keys
// per core: the store reads the records of all the keys in advisory id order, one contiguous run per core, so
// each page of its records is read about once (batches of keys each read records from every part of the table,
// and a 10,000-component scan read each page seven times over).
func (en *Engine) lookup(ctx context.Context, x *Index, keys []vigil.PackageKey) error {
	advs, err := en.src.Lookup(ctx, keys)
	if err != nil {
		return err
	}
	x.AddStored(advs)
	return nil
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
// Large inputs are split across GOMAXPROCS workers (the index is read-only while they run).
func (x *Index) Match(ctx context.Context, comps []vigil.Component) ([]vigil.Finding, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	todo := firstOccurrences(comps)
	ccpes := make([]componentCPE, len(comps))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(todo)/parallelChunk))
	states := make([]*matchState, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		part := todo[w*len(todo)/workers : (w+1)*len(todo)/workers]
		// A dense portfolio's component has three or four findings: room for them saves regrowing the slice.
		st := &matchState{found: make([]slot, 0, 4*len(part)), byKey: map[key][]int{}, nvd: map[*entry]bool{}}
		states[w] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, i := range part {
				if j%256 == 0 {
					if err := ctx.Err(); err != nil {
						errs[w] = err
						return
					}
				}
				x.matchOne(st, i, &comps[i], &ccpes[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	st := states[0]
	for _, o := range states[1:] { // workers match disjoint components: their slots are appended in worker order
		st.found = append(st.found, o.found...)
		for k, v := range o.byKey {
			st.byKey[k] = append(st.byKey[k], v...)
		}
		maps.Copy(st.nvd, o.nvd)
	}
	if len(st.nvd) > 0 {
		for _, idx := range st.byKey {
			slices.Sort(idx) // evidence and evaluation order independent of the split
		}
		cand := slices.Collect(maps.Keys(st.nvd))
		slices.SortFunc(cand, func(a, b *entry) int { return a.seq - b.seq })
		for _, e := range cand {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			matchNVD(e, ccpes, st.byKey, st.rec)
		}
	}
	return findings(comps, st.found), nil
}

// parallelChunk is the fewest components worth a worker of their own.
const parallelChunk = 2048

// firstOccurrences returns the index of each component's first occurrence, in order.
func firstOccurrences(comps []vigil.Component) []int {
	type ident struct{ name, group, version, purl, cpe string }
	seen := make(map[ident]struct{}, len(comps))
	out := make([]int, 0, len(comps))
	for i := range comps {
		c := &comps[i]
		id := ident{c.Name, c.Group, c.Version, c.Purl, c.CPE}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, i)
	}
	return out
}

// matchState is one worker's results: every result that is not "not affected", in the order they were found (a
// slice, not a map by slot: a re-match records a million of them, and findings picks each slot's best once), and
// what the NVD pass needs.
type matchState struct {
	found []slot
	byKey map[key][]int   // CPE vendor:product → components carrying it
	nvd   map[*entry]bool // advisories with configurations that name a component's CPE
}

// slot is one result for one (component, vulnerability id) finding slot. The id is the result's advisory's, kept
// here too: sorting and grouping a million slots through two pointers each was slower than the copy.
type slot struct {
	comp int
	vuln string
	result
}

func (st *matchState) rec(ci int, e *entry, o outcome, matcher string) {
	if o.st == stNo {
		return
	}
	st.found = append(st.found, slot{comp: ci, vuln: e.adv.ID, result: result{ent: e, o: o, matcher: matcher}})
}

// matchOne matches one component by every road it offers: its packages, its CPE, its name as a CSAF product.
func (x *Index) matchOne(st *matchState, i int, c *vigil.Component, cc *componentCPE) {
	for _, p := range Identify(*c, x.opt) {
		k := key{p.Ecosystem, p.Name}
		pv := compVersion{s: p.Version}
		for _, a := range x.osv[k] {
			if releaseMatch(a.release, p.Release) {
				st.rec(i, a.ent, a.eval(&pv, x.cache), a.names.eco)
			}
		}
		if len(x.csaf) > 0 {
			for _, pr := range x.csaf[k] {
				if pr.p.Purl != "" {
					st.rec(i, pr.ent, pr.eval(p.Version), "csaf-product")
				}
			}
		}
	}
	if c.CPE != "" {
		*cc = parseComponentCPE(c)
	}
	if cc.ok {
		st.byKey[cc.key] = append(st.byKey[cc.key], i)
		cv := compVersion{s: cc.version}
		for _, a := range x.osvCPE[cc.key] {
			if a.cpeNames(*cc) {
				st.rec(i, a.ent, a.eval(&cv, x.cache), a.names.cpe)
			}
		}
		for _, e := range x.nvd[cc.key] {
			st.nvd[e] = true
		}
		for _, pr := range x.csaf[cc.key] {
			if pr.crit == nil {
				continue
			}
			ok, err := pr.crit.Matches(cc.cpe, cc.version)
			switch {
			case err != nil:
				st.rec(i, pr.ent, outcome{st: stUnknown, rng: pr.rng, reason: vigil.ErrorMessage(err)}, "csaf-product")
			case ok:
				st.rec(i, pr.ent, pr.eval(cc.version), "csaf-product")
			}
		}
	}
	if len(x.csaf) > 0 {
		if n := csafName(c.Name); n != "" {
			for _, pr := range x.csaf[key{keyCSAF, n}] {
				if pr.p.Purl == "" && pr.p.CPE == "" && vendorAgrees(pr.p.Vendor, c) {
					st.rec(i, pr.ent, pr.eval(c.Version), "csaf-product")
				}
			}
		}
	}
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

// findings returns one finding per slot of found, sorted by component and id: the slot's best result (better),
// the first recorded among equals, as if each result had replaced the slot's current one only when better.
func findings(comps []vigil.Component, found []slot) []vigil.Finding {
	// Workers record their components in order, and in worker order: found is in component order unless the NVD
	// pass (which records after every component's own results) recorded anything. Sorting each component's run by
	// id then sorts the whole by (component, id), stably, without moving a million slots around.
	byComp := func(a, b slot) int { return a.comp - b.comp }
	if !slices.IsSortedFunc(found, byComp) {
		slices.SortStableFunc(found, byComp)
	}
	for i := 0; i < len(found); {
		j := i + 1
		for j < len(found) && found[j].comp == found[i].comp {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(found[i:j], func(a, b slot) int { return strings.Compare(a.vuln, b.vuln) })
		}
		i = j
	}
	out := make([]vigil.Finding, 0, len(found))
	for i := 0; i < len(found); {
		s := &found[i]
		r := &s.result
		for i++; i < len(found) && found[i].comp == s.comp && found[i].vuln == s.vuln; i++ {
			if better(found[i].o, found[i].ent, r) {
				r = &found[i].result
			}
		}
		a := r.ent.adv
		f := vigil.Finding{
			Component:     comps[s.comp],
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

				VersionWarning: r.o.warn,
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
