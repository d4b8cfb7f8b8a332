package app

import "context"

// RematchVersion re-matches one version's current components against the intelligence store and syncs its
// findings. Until the matcher is wired in it reports matched=false and changes nothing.
func (a *App) RematchVersion(ctx context.Context, versionID int64) (opened, resolved int, matched bool, err error) {
	return 0, 0, false, nil
}
