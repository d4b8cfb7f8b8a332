package version

import "sync"

// Cache memoizes Parse. The matcher meets the same few "introduced" and "fixed" versions for thousands of
// components, and a cached Version compares without parsing or allocating. A Cache is safe for concurrent use
// and bounded: when it holds max entries it starts afresh rather than growing with untrusted input.
type Cache struct {
	mu  sync.RWMutex
	max int
	m   map[cacheKey]cacheEntry
}

type cacheKey struct{ ecosystem, s string }

type cacheEntry struct {
	v   Version
	err error
}

// NewCache returns a Cache holding at most max parsed versions (at least 1).
func NewCache(max int) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{max: max, m: make(map[cacheKey]cacheEntry)}
}

// Parse is Parse, remembered. Errors are remembered too: a bad version in a feed stays bad.
func (c *Cache) Parse(ecosystem, s string) (Version, error) {
	k := cacheKey{ecosystem, s}
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return e.v, e.err
	}
	v, err := Parse(ecosystem, s)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = cacheEntry{v, err}
	c.mu.Unlock()
	return v, err
}

// Compare is Compare through the cache.
func (c *Cache) Compare(ecosystem, a, b string) (int, error) {
	va, err := c.Parse(ecosystem, a)
	if err != nil {
		return 0, err
	}
	vb, err := c.Parse(ecosystem, b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// Len returns the number of versions the cache holds.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
