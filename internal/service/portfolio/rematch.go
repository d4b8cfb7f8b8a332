package portfolio

import (
	"context"
	"runtime"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// RematchVersion re-matches one version's current components against the intelligence store and syncs its
// findings: new matches open, matches that no longer hold resolve (their assessments and events stay). matched is
// false when no intelligence has been imported yet, so "no findings" is not mistaken for "checked, clean". Needs
// PermImport (it writes findings).
func (s *Service) RematchVersion(ctx context.Context, versionID int64) (opened, resolved int, matched bool, err error) {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return 0, 0, false, err
	}
	if ok, err := s.hasIntel(ctx); err != nil || !ok {
		return 0, 0, false, err
	}
	comps, err := s.Store.Components(ctx, versionID)
	if err != nil {
		return 0, 0, false, err
	}
	found, err := s.MatchComponents(ctx, comps, match.Options{})
	if err != nil {
		return 0, 0, false, err
	}
	opened, resolved, err = s.sync(ctx, versionID, found, nil, nil)
	return opened, resolved, true, err
}

// hasIntel reports whether any intelligence has been imported.
func (s *Service) hasIntel(ctx context.Context) (bool, error) {
	runs, err := s.Store.IntelRuns(ctx, 1)
	return len(runs) > 0, err
}

// sync syncs the version's findings of the components scope accepts (nil: all) and the vulnerability ids vulns
// (nil: all) with found.
func (s *Service) sync(ctx context.Context, versionID int64, found []vigil.Finding, scope func(compKey string) bool, vulns []string) (opened, resolved int, err error) {
	for i := range found {
		found[i].VersionID = versionID
	}
	return s.Store.SyncFindingsOf(ctx, versionID, found, scope, vulns)
}

// RematchResult sums a portfolio re-match.
type RematchResult struct {
	Versions int `json:"versions"` // device versions re-matched
	// Findings counts the matched findings (open or could not evaluate) of the components re-matched; after an
	// import (RematchChanged), of the advisories it changed.
	Findings int     `json:"findings"`
	Opened   int     `json:"opened"`
	Resolved int     `json:"resolved"`
	Seconds  float64 `json:"seconds"` // wall time
}

const rematchCursor = "rematch.intel_run"

// RematchChanged re-matches what the import runs since the last call changed (the importer's change feed), so an
// import is reflected at once without a nightly batch. It works by advisory: the components carrying a changed key
// (read through the reverse index, with nothing else of their versions) are matched against the advisories the runs
// changed only, and only those advisories' findings of those components are synced, for every version in one
// transaction; the package's other advisories are not read, nor the versions' other findings. Needs PermImport.
func (s *Service) RematchChanged(ctx context.Context) (RematchResult, error) {
	var res RematchResult
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return res, err
	}
	start := time.Now()
	cur, err := s.Store.KV(ctx, rematchCursor)
	if err != nil {
		return res, err
	}
	after, _ := strconv.ParseInt(cur, 10, 64)
	keys, last, err := s.Store.ChangedKeys(ctx, after)
	if err != nil {
		return res, err
	}
	if len(keys) > 0 {
		if res, err = s.rematchRuns(ctx, keys, after, last); err != nil {
			return res, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, s.Store.SetKV(ctx, rematchCursor, strconv.FormatInt(last, 10))
}

// deltaAdvisories is the most changed advisory ids a re-match after an import matches by advisory; beyond it (a
// first import of a whole feed) it matches by package through the shared Engine, whose memory is bounded.
const deltaAdvisories = 50_000

// rematchRuns re-matches what the import runs in (after, last] changed under keys. By advisory, it matches the
// components carrying those keys against an Index of just the advisories the runs changed (every source's
// advisories with those ids, since a finding is a component and an advisory id) and syncs those ids' findings
// alone. For a large change, or runs from before ids were recorded, it matches the versions' components carrying
// the keys by package through an Engine over the whole store, every finding of those components synced.
func (s *Service) rematchRuns(ctx context.Context, keys []vigil.PackageKey, after, last int64) (RematchResult, error) {
	ids, complete, err := s.Store.ChangedIDs(ctx, after, last)
	if err != nil {
		return RematchResult{}, err
	}
	if !complete || len(ids) > deltaAdvisories {
		versions, err := s.Store.VersionsForKeys(ctx, keys)
		if err != nil || len(versions) == 0 {
			return RematchResult{}, err
		}
		return s.rematchKeys(ctx, versions, keys, s.Matcher(match.Options{}), nil)
	}
	comps, err := s.Store.ComponentsForKeys(ctx, keys)
	if err != nil || len(comps) == 0 {
		return RematchResult{}, err
	}
	advs, err := s.Store.AdvisoriesByID(ctx, ids)
	if err != nil {
		return RematchResult{}, err
	}
	x := match.NewIndex(match.Options{})
	x.Add(advs...)
	if ids == nil {
		ids = []string{} // nothing changed but withdrawals of unmatched records: no finding is in scope
	}
	for _, k := range keys {
		if k.Kind == vigil.KeyCPE {
			// NVD configurations are evaluated over every component with a CPE of the version, which the
			// components carrying the changed keys do not include: such versions are read whole.
			var versions []int64
			for i := range comps {
				if i == 0 || comps[i].VersionID != comps[i-1].VersionID {
					versions = append(versions, comps[i].VersionID)
				}
			}
			return s.rematchKeys(ctx, versions, keys, x, ids)
		}
	}
	return s.rematchDelta(ctx, comps, x, ids)
}

// deltaBatch is how many findings a delta re-match syncs per transaction: a delta of a few thousand advisories is
// one, and a large one does not hold the store's writer for minutes.
const deltaBatch = 50_000

// rematchDelta matches comps (the components an import's keys touched, sorted by version) against x (the
// advisories it changed) one version at a time and syncs, for every version at once, those components' findings
// of the changed ids vulns.
func (s *Service) rematchDelta(ctx context.Context, comps []vigil.Component, x matcher, vulns []string) (RematchResult, error) {
	w := &deltaWriter{s: s, vulns: vulns}
	for len(comps) > 0 {
		n := 1
		for n < len(comps) && comps[n].VersionID == comps[0].VersionID {
			n++
		}
		v, group := comps[0].VersionID, comps[:n]
		comps = comps[n:]
		fs, err := x.Match(ctx, group)
		if err != nil {
			return w.res, err
		}
		keys := make(map[string]bool, len(group))
		for i := range group {
			keys[group[i].FindingKey()] = true
		}
		w.res.Versions++
		if err := w.add(ctx, v, fs, func(ck string) bool { return keys[ck] }); err != nil {
			return w.res, err
		}
	}
	return w.res, w.flush(ctx)
}

// deltaWriter gathers the versions' results of a re-match by advisory and syncs them a SyncFindingsDelta at a time.
type deltaWriter struct {
	s        *Service
	vulns    []string // the changed ids, whose findings alone are synced
	versions []int64
	found    []vigil.Finding
	scopes   map[int64]func(compKey string) bool // per version; nil: every component
	res      RematchResult                       // what was synced so far (Versions is the caller's)
}

// add takes version v's findings of the components scope accepts (nil: all), syncing once enough are gathered.
func (w *deltaWriter) add(ctx context.Context, v int64, found []vigil.Finding, scope func(compKey string) bool) error {
	if w.scopes == nil {
		w.scopes = map[int64]func(string) bool{}
	}
	for i := range found {
		found[i].VersionID = v
	}
	w.versions, w.found, w.scopes[v] = append(w.versions, v), append(w.found, found...), scope
	w.res.Findings += len(found)
	if len(w.found) >= deltaBatch {
		return w.flush(ctx)
	}
	return nil
}

// flush syncs what add gathered, in one transaction.
func (w *deltaWriter) flush(ctx context.Context) error {
	if len(w.versions) == 0 {
		return nil
	}
	o, r, err := w.s.Store.SyncFindingsDelta(ctx, w.versions, w.found, func(v int64, ck string) bool {
		scope := w.scopes[v]
		return scope == nil || scope(ck)
	}, w.vulns)
	w.res.Opened += o
	w.res.Resolved += r
	w.versions, w.found = nil, nil
	clear(w.scopes)
	return err
}

// matcher is a match.Engine or a match.Index.
type matcher interface {
	Match(ctx context.Context, comps []vigil.Component) ([]vigil.Finding, error)
}

// RematchOptions select the device versions Rematch matches again.
type RematchOptions struct {
	// VersionIDs are the versions to re-match, in this order; nil means every device version.
	VersionIDs []int64
	// Progress, when set, is called after each version is written with how many are done of how many.
	Progress func(done, total int)
}

// Rematch checks the reverse index of the device versions (rewriting those whose keys changed, as after an upgrade
// that changed key rules) and re-matches them: every version after such an upgrade, or those opt names. One match
// index serves them all: every advisory their keys name is read and compiled once, before the first version is
// matched (a version whose reverse index was stale, whose keys the index may lack, goes through an Engine that
// looks its keys up). A version whose result is the one its findings already reflect is not written (the store's
// findings digest). Needs PermImport.
func (s *Service) Rematch(ctx context.Context, opt RematchOptions) (RematchResult, error) {
	var res RematchResult
	start := time.Now()
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return res, err
	}
	intel, err := s.hasIntel(ctx)
	if err != nil {
		return res, err
	}
	ids := opt.VersionIDs
	if ids == nil {
		vs, err := s.Store.Versions(ctx, 0)
		if err != nil {
			return res, err
		}
		ids = make([]int64, len(vs))
		for i, v := range vs {
			ids[i] = v.ID
		}
	}
	x := match.NewIndex(match.Options{})
	if intel {
		if err := s.Store.AdvisoriesOfVersions(ctx, opt.VersionIDs, x.AddStored); err != nil {
			return res, err
		}
	}
	en := s.Matcher(match.Options{})
	done := 0
	err = pipeline(ctx, ids, func(ctx context.Context, id int64) (prepared, error) {
		comps, err := s.Store.Components(ctx, id)
		if err != nil {
			return prepared{}, err
		}
		// The components are at hand, so checking the version's reverse index costs one read of its keys; the
		// keys, worked out once, serve the check and the match.
		p := prepared{comps: comps}
		keys := match.StoreKeys(comps)
		if p.stale, err = s.Store.ComponentKeysStale(ctx, id, keys); err != nil || !intel {
			return p, err
		}
		if p.stale {
			p.found, err = en.MatchKeys(ctx, comps, keys)
		} else {
			p.found, err = x.Match(ctx, comps)
		}
		return p, err
	}, func(id int64, p prepared) error {
		if done++; opt.Progress != nil {
			defer opt.Progress(done, len(ids))
		}
		if p.stale {
			if _, err := s.Store.RefreshComponentKeys(ctx, id, p.comps); err != nil {
				return err
			}
		}
		if !intel {
			return nil
		}
		res.Findings += len(p.found)
		o, r, err := s.sync(ctx, id, p.found, nil, nil)
		res.Versions++
		res.Opened += o
		res.Resolved += r
		return err
	})
	res.Seconds = time.Since(start).Seconds()
	return res, err
}

// rematchKeys re-matches with m, in each version of ids, the components that carry one of the changed keys, and
// syncs the version's findings of those components (of the vulnerability ids vulns only, when not nil, and then
// for every version together, deltaWriter): the new results for them, the stored findings of the others as they
// are. A component's findings depend only on the
// advisories under its own keys, except for NVD configurations, which are evaluated over every component with a
// CPE (firmware "running on" hardware); so when a CPE key changed, every component with a CPE is matched again too.
func (s *Service) rematchKeys(ctx context.Context, ids []int64, keys []vigil.PackageKey, m matcher, vulns []string) (RematchResult, error) {
	var res RematchResult
	changed := make(map[vigil.PackageKey]bool, len(keys))
	cpeChanged := false
	for _, k := range keys {
		k = match.NormalizeKey(k)
		changed[k] = true
		cpeChanged = cpeChanged || k.Kind == vigil.KeyCPE
	}
	var w *deltaWriter // by advisory: every version's findings synced together
	if vulns != nil {
		w = &deltaWriter{s: s, vulns: vulns}
	}
	err := pipeline(ctx, ids, func(ctx context.Context, id int64) (prepared, error) {
		comps, err := s.Store.Components(ctx, id)
		if err != nil {
			return prepared{}, err
		}
		// Findings are keyed by Component.FindingKey: components sharing one are matched again together or not at all.
		redo, present := map[string]bool{}, make(map[string]bool, len(comps))
		for i := range comps {
			ck := comps[i].FindingKey()
			present[ck] = true
			if redo[ck] {
				continue
			}
			for _, k := range match.ComponentKeys(comps[i], match.Options{}) {
				if k = match.NormalizeKey(k); changed[k] || cpeChanged && k.Kind == vigil.KeyCPE {
					redo[ck] = true
					break
				}
			}
		}
		if len(redo) == 0 {
			return prepared{skip: true}, nil
		}
		var subset []vigil.Component
		for i := range comps {
			if redo[comps[i].FindingKey()] {
				subset = append(subset, comps[i])
			}
		}
		found, err := m.Match(ctx, subset)
		if err != nil || len(subset) == len(comps) {
			return prepared{found: found}, err
		}
		// Only the findings of these components are synced: the others' cannot have changed and are not read. A
		// finding whose component is gone is in scope too, so it resolves as a full re-match would resolve it.
		return prepared{found: found, scope: func(ck string) bool { return redo[ck] || !present[ck] }}, nil
	}, func(id int64, p prepared) error {
		res.Versions++
		if p.skip {
			return nil
		}
		if w != nil {
			return w.add(ctx, id, p.found, p.scope)
		}
		res.Findings += len(p.found)
		o, r, err := s.sync(ctx, id, p.found, p.scope, nil)
		res.Opened += o
		res.Resolved += r
		return err
	})
	if w != nil {
		if err == nil {
			err = w.flush(ctx)
		}
		res.Findings, res.Opened, res.Resolved = w.res.Findings, w.res.Opened, w.res.Resolved
	}
	return res, err
}

// prepared is what the reading side of a re-match hands the writing side for one version.
type prepared struct {
	comps []vigil.Component
	found []vigil.Finding
	scope func(compKey string) bool // the components whose findings found replaces; nil: all
	stale bool                      // the version's reverse index rows disagree with its components
	skip  bool                      // nothing to write
}

// pipeline runs prepare for each id on GOMAXPROCS goroutines (reading and matching: the expensive part) and write
// for each id in order on the calling goroutine (one writer: SQLite has one anyway, and PostgreSQL audit appends
// serialize). A few versions are prepared ahead of the writer, so memory stays bounded. The first error stops it.
func pipeline(ctx context.Context, ids []int64, prepare func(context.Context, int64) (prepared, error), write func(int64, prepared) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		p   prepared
		err error
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	results := make([]chan result, len(ids))
	for i := range results {
		results[i] = make(chan result, 1) // buffered: a worker never waits for the writer
	}
	ahead := make(chan struct{}, 2*workers)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range ids {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for i := range next {
				p, err := prepare(ctx, ids[i])
				results[i] <- result{p, err}
			}
		}()
	}
	for i, id := range ids {
		var r result
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-ahead
		if r.err != nil {
			return r.err
		}
		if err := write(id, r.p); err != nil {
			return err
		}
	}
	return nil
}
