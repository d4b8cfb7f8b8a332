package match

import "github.com/vigil-dev/vigil"

// IndexKeysOf returns the keys the Index files a under, as "eco|name" text.
func IndexKeysOf(a *vigil.Advisory) []string { return keyText(advisoryKeys(a)) }

// IndexKeysOfStoreKey returns the Index keys a store key is looked up under (Index.Lookup), as "eco|name" text.
func IndexKeysOfStoreKey(k vigil.PackageKey) []string { return keyText(internalKeys(k)) }

func keyText(ks []key) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.eco + "|" + k.name
	}
	return out
}

// SetLimit sets how many advisories en's Index may hold before a Match starts a fresh one, and returns a function
// that reports how many it holds.
func SetLimit(en *Engine, n int) (held func() int) {
	en.limit = n
	return func() int {
		en.mu.Lock()
		defer en.mu.Unlock()
		return en.x.Len()
	}
}
