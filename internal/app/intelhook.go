package app

import "github.com/vigil-dev/vigil"

// intel returns the store as a VulnService when it implements one (the intelligence store may not be built in).
func (a *App) intel() vigil.VulnService {
	var s any = a.Store
	if v, ok := s.(vigil.VulnService); ok {
		return v
	}
	return nil
}
