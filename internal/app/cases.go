package app

import "github.com/vigil-dev/vigil/internal/cases"

// Cases returns the finding workflow on the app's store.
func (a *App) Cases() *cases.Service {
	return &cases.Service{Store: a.Store, Intel: a.intel(), Clock: a.Clock}
}
