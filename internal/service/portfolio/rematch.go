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

// RematchChanged re-matches only the device versions holding a package whose advisories changed since the last
// call (the importer's change feed × the component reverse index), so an import is reflected at once without a
// nightly batch. Within such a version only the components that carry a changed key are matched again, and only
// against the advisories the import changed (deltaMatcher); the findings of the others cannot have changed and are
// neither read nor written. Needs PermImport.
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
		ids, err := s.Store.VersionsForKeys(ctx, keys)
		if err != nil {
			return res, err
		}
		if len(ids) > 0 {
			m, vulns, err := s.deltaMatcher(ctx, after, last)
			if err != nil {
				return res, err
			}
			if res, err = s.rematchKeys(ctx, ids, keys, m, vulns); err != nil {
				return res, err
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, s.Store.SetKV(ctx, rematchCursor, strconv.FormatInt(last, 10))
}

// deltaAdvisories is the most changed advisory ids a re-match after an import matches by advisory; beyond it (a
// first import of a whole feed) it matches by package through the shared Engine, whose memory is bounded.
const deltaAdvisories = 50_000

// deltaMatcher returns what to match the changed components against after the import runs in (after, last]: an
// Index of just the advisories those runs changed (every source's advisories with those ids, since a finding is a
// component and an advisory id), and those ids, whose findings alone are then synced; or, for a large change or
// runs from before ids were recorded, an Engine over the whole store and no ids (every finding of the components).
func (s *Service) deltaMatcher(ctx context.Context, after, last int64) (matcher, []string, error) {
	ids, complete, err := s.Store.ChangedIDs(ctx, after, last)
	if err != nil {
		return nil, nil, err
	}
	if !complete || len(ids) > deltaAdvisories {
		return s.Matcher(match.Options{}), nil, nil
	}
	advs, err := s.Store.AdvisoriesByID(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	x := match.NewIndex(match.Options{})
	x.Add(advs...)
	if ids == nil {
		ids = []string{} // nothing changed but withdrawals of unmatched records: no finding is in scope
	}
	return x, ids, nil
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
// syncs the version's findings of those components (of the vulnerability ids vulns only, when not nil): the new
// results for them, the stored findings of the others as they are. A component's findings depend only on the
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
		res.Findings += len(p.found)
		o, r, err := s.sync(ctx, id, p.found, p.scope, vulns)
		res.Opened += o
		res.Resolved += r
		return err
	})
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
