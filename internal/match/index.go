package match

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
	"github.com/vigil-dev/vigil/internal/version"
)

// Source finds advisories by package key. The store answers it with an indexed query ((*store.DB).AdvisoriesFor,
// through SourceFunc); Index answers it in memory (tests, and a server that holds its whole store).
type Source interface {
	// Lookup returns every advisory that names at least one of keys, each once, in any order. Keys are
	// ComponentKeys' output. Withdrawn advisories may be returned; the matcher ignores them. Any caller may call
	// it; errors are the store's (EINTERNAL when unreachable).
	Lookup(ctx context.Context, keys []vigil.PackageKey) ([]*vigil.Advisory, error)
}

// SourceFunc adapts a function, such as (*store.DB).AdvisoriesFor, to a Source.
type SourceFunc func(ctx context.Context, keys []vigil.PackageKey) ([]*vigil.Advisory, error)

// Lookup calls f.
func (f SourceFunc) Lookup(ctx context.Context, keys []vigil.PackageKey) ([]*vigil.Advisory, error) {
	return f(ctx, keys)
}

// Index holds compiled advisories under their package keys and matches components against them. It is safe for
// concurrent use: Match takes a read lock, Add and Remove a write lock.
type Index struct {
	opt   Options
	cache *version.Cache

	mu      sync.RWMutex
	entries map[advID]*entry
	osv     map[key][]*affected // ecosystem+name → affected packages
	osvCPE  map[key][]*affected // Bitnami CPE vendor:product → affected packages
	nvd     map[key][]*entry    // vulnerable criterion vendor:product → advisories with configurations
	csaf    map[key][]*product  // purl keys, CPE keys and product names → CSAF products
	names   map[string]*matcherNames
	seq     int
}

type advID struct{ source, id string }

// entry is one indexed advisory.
type entry struct {
	adv  *vigil.Advisory
	rank int // source preference for ties between sources naming the same id
	seq  int // insertion order, for deterministic output

	cfgOnce sync.Once
	configs []cconfig
}

// cacheSize bounds the parsed-version cache: the distinct bounds of a large store plus the components of a scan.
const cacheSize = 1 << 20

// NewIndex returns an empty index. opt applies to every Match.
func NewIndex(opt Options) *Index {
	return &Index{
		opt:     opt,
		cache:   version.NewCache(cacheSize),
		entries: map[advID]*entry{},
		osv:     map[key][]*affected{},
		osvCPE:  map[key][]*affected{},
		nvd:     map[key][]*entry{},
		csaf:    map[key][]*product{},
		names:   map[string]*matcherNames{},
	}
}

// matcherNames returns the matcher names of an ecosystem's affected packages, shared by all of them.
func (x *Index) matcherNames(ecosystem string) *matcherNames {
	n := x.names[ecosystem]
	if n == nil {
		n = &matcherNames{eco: "osv-ecosystem:" + ecosystem, cpe: "osv-cpe:" + ecosystem}
		x.names[ecosystem] = n
	}
	return n
}

// Len returns the number of advisories indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries)
}

// Add indexes advisories, replacing any indexed under the same source and id (a revised record). A withdrawn
// advisory removes the one indexed under its id and is not indexed: withdrawn advisories produce no findings.
// Add keeps the pointers: callers must not modify an advisory after adding it.
func (x *Index) Add(advs ...*vigil.Advisory) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, a := range advs {
		if a != nil {
			x.add(a)
		}
	}
}

// AddStored indexes advisories read from a store in storage order, skipping those whose source and id the Index
// holds already, where Add replaces them: an Engine's look-ups return an advisory again for each Match whose new
// keys name it (the same advisory each time), and of one source and id stored in two documents the first met is
// kept.
func (x *Index) AddStored(advs []*vigil.Advisory) {
	x.mu.Lock()
	defer x.mu.Unlock()
	held := make(map[advID]bool, len(advs))
	for _, a := range advs {
		if a != nil && x.entries[advID{a.Source, a.ID}] != nil {
			held[advID{a.Source, a.ID}] = true
		}
	}
	for _, a := range advs {
		if a != nil && !held[advID{a.Source, a.ID}] {
			x.add(a)
		}
	}
}

func (x *Index) add(a *vigil.Advisory) {
	id := advID{a.Source, a.ID}
	if old := x.entries[id]; old != nil {
		x.remove(id, old)
	}
	if a.IsWithdrawn() {
		return
	}
	x.seq++
	e := &entry{adv: a, rank: sourceRank(a.Source), seq: x.seq}
	x.entries[id] = e
	x.insert(e)
}

// Remove drops the advisory indexed under source and id, if any.
func (x *Index) Remove(source, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.entries[advID{source, id}]; e != nil {
		x.remove(advID{source, id}, e)
	}
}

func (x *Index) insert(e *entry) {
	a := e.adv
	for i := range a.Affected {
		af := &a.Affected[i]
		k, ok := affectedKey(af.Ecosystem, af.Name)
		base, suffix := ecosystemBase(af.Ecosystem)
		rel := ""
		if m := byEcosystem[base]; m != nil && suffix != "" {
			rel = m.Release(base, suffix)
		}
		ca := &affected{ent: e, idx: i, af: af, release: rel, names: x.matcherNames(af.Ecosystem)}
		if ok {
			x.osv[k] = append(x.osv[k], ca)
		}
		var ck []key
		for _, c := range af.CPEs {
			if k, ok := cpeKeyOf(c); ok {
				ck = append(ck, k)
			}
		}
		for _, k := range dedupKeys(ck) {
			x.osvCPE[k] = append(x.osvCPE[k], ca)
		}
	}
	if len(a.Configurations) > 0 {
		for _, k := range advisoryKeys(&vigil.Advisory{Configurations: a.Configurations}) {
			x.nvd[k] = append(x.nvd[k], e)
		}
	}
	for i := range a.Products {
		p := newProduct(e, i)
		if p == nil {
			continue
		}
		for _, k := range productKeys(a.Products[i]) {
			x.csaf[k] = append(x.csaf[k], p)
		}
	}
}

func (x *Index) remove(id advID, e *entry) {
	delete(x.entries, id)
	for _, k := range advisoryKeys(e.adv) { // not kept per entry: a revision or withdrawal is rare
		dropEntry(x.osv, k, func(a *affected) bool { return a.ent == e })
		dropEntry(x.osvCPE, k, func(a *affected) bool { return a.ent == e })
		dropEntry(x.nvd, k, func(a *entry) bool { return a == e })
		dropEntry(x.csaf, k, func(p *product) bool { return p.ent == e })
	}
}

func dropEntry[T any](m map[key][]T, k key, drop func(T) bool) {
	s, ok := m[k]
	if !ok {
		return
	}
	if s = slices.DeleteFunc(s, drop); len(s) == 0 {
		delete(m, k)
	} else {
		m[k] = s
	}
}

// Lookup returns the advisories indexed under any of keys (store keys, as ComponentKeys writes them), each once, in
// insertion order. It makes Index a Source: tests and a store-less scan use it as the in-memory store.
func (x *Index) Lookup(ctx context.Context, pkeys []vigil.PackageKey) ([]*vigil.Advisory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	seen := map[*entry]bool{}
	var found []*entry
	add := func(e *entry) {
		if !seen[e] {
			seen[e] = true
			found = append(found, e)
		}
	}
	var keys []key
	for _, pk := range pkeys {
		keys = append(keys, internalKeys(pk)...)
	}
	for _, k := range keys {
		for _, a := range x.osv[k] {
			add(a.ent)
		}
		for _, a := range x.osvCPE[k] {
			add(a.ent)
		}
		for _, e := range x.nvd[k] {
			add(e)
		}
		for _, p := range x.csaf[k] {
			add(p.ent)
		}
	}
	slices.SortFunc(found, func(a, b *entry) int { return a.seq - b.seq })
	out := make([]*vigil.Advisory, len(found))
	for i, e := range found {
		out[i] = e.adv
	}
	return out, nil
}

// sourceRank orders sources for ties: OSV's package data is the most precise, then NVD's CPEs, then CSAF.
func sourceRank(s string) int {
	switch strings.ToLower(s) {
	case vigil.SourceOSV:
		return 0
	case vigil.SourceNVD:
		return 1
	case vigil.SourceCSAF:
		return 2
	}
	return 3
}

// componentCPE is a component's parsed CPE and the version to compare.
type componentCPE struct {
	ok      bool
	cpe     cpe.CPE
	key     key
	version string
}

func parseComponentCPE(c *vigil.Component) componentCPE {
	if c.CPE == "" || len(c.CPE) > cpe.MaxLen {
		return componentCPE{}
	}
	p, err := cpe.Parse(c.CPE)
	if err != nil {
		return componentCPE{}
	}
	k, ok := cpeKey(p)
	if !ok {
		return componentCPE{}
	}
	v := c.Version
	if v == "" {
		v = cpe.Unquote(p.Version)
	}
	return componentCPE{ok: true, cpe: p, key: k, version: v}
}
