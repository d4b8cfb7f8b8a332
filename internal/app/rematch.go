package app

import (
	"context"
	"strconv"

	"github.com/vigil-dev/vigil/internal/match"
)

// RematchVersion re-matches one version's current components against the intelligence store and syncs its
// findings: new matches open, matches that no longer hold resolve (their assessments and events stay). matched is
// false when no intelligence has been imported yet, so "no findings" is not mistaken for "checked, clean".
func (a *App) RematchVersion(ctx context.Context, versionID int64) (opened, resolved int, matched bool, err error) {
	if runs, err := a.Store.IntelRuns(ctx, 1); err != nil {
		return 0, 0, false, err
	} else if len(runs) == 0 {
		return 0, 0, false, nil
	}
	comps, err := a.Store.Components(ctx, versionID)
	if err != nil {
		return 0, 0, false, err
	}
	found, err := a.MatchComponents(ctx, comps, match.Options{})
	if err != nil {
		return 0, 0, false, err
	}
	for i := range found {
		found[i].VersionID = versionID
	}
	opened, resolved, err = a.Store.SyncFindings(ctx, versionID, found)
	return opened, resolved, true, err
}

// RematchResult sums a portfolio re-match.
type RematchResult struct {
	Versions int `json:"versions"`
	Opened   int `json:"findings_opened"`
	Resolved int `json:"findings_resolved"`
}

const rematchCursor = "rematch.intel_run"

// RematchChanged re-matches only the device versions holding a package whose advisories changed since the last
// call (the importer's change feed × the component reverse index), so an import is reflected at once without a
// nightly batch.
func (a *App) RematchChanged(ctx context.Context) (RematchResult, error) {
	var res RematchResult
	cur, err := a.Store.KV(ctx, rematchCursor)
	if err != nil {
		return res, err
	}
	after, _ := strconv.ParseInt(cur, 10, 64)
	keys, last, err := a.Store.ChangedKeys(ctx, after)
	if err != nil {
		return res, err
	}
	if len(keys) > 0 {
		ids, err := a.Store.VersionsForKeys(ctx, keys)
		if err != nil {
			return res, err
		}
		if res, err = a.rematch(ctx, ids); err != nil {
			return res, err
		}
	}
	return res, a.Store.SetKV(ctx, rematchCursor, strconv.FormatInt(last, 10))
}

// RematchAll rebuilds the reverse index and re-matches every device version.
func (a *App) RematchAll(ctx context.Context) (RematchResult, error) {
	if err := a.Store.RebuildComponentKeys(ctx); err != nil {
		return RematchResult{}, err
	}
	vs, err := a.Store.Versions(ctx, 0)
	if err != nil {
		return RematchResult{}, err
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	return a.rematch(ctx, ids)
}

func (a *App) rematch(ctx context.Context, ids []int64) (RematchResult, error) {
	res := RematchResult{}
	for _, id := range ids {
		o, r, ok, err := a.RematchVersion(ctx, id)
		if err != nil {
			return res, err
		}
		if ok {
			res.Versions++
			res.Opened += o
			res.Resolved += r
		}
	}
	return res, nil
}
