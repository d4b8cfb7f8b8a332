package app

import (
	"fmt"
	"testing"
)

// TestWebCacheClasses checks that look-ups by id cannot push the aggregates out: a finding page per vulnerability
// (100,000 of them) must leave the dashboard and the lists' counts cached.
func TestWebCacheClasses(t *testing.T) {
	q := &webQueries{agg: map[string]aggEntry{}, sizes: map[bool]int{}}
	add := func(key string) {
		q.makeRoom(key)
		q.put(key, aggEntry{1, key})
	}
	add("overview")
	add("clocks")
	for i := range maxCached - 2 {
		add(fmt.Sprintf("count:device=%d", i))
	}
	for i := range 3 * maxCached {
		add(fmt.Sprintf("vuln:CVE-2024-%05d", i))
	}
	if q.sizes[false] != maxCached {
		t.Errorf("aggregates: %d kept, want all %d", q.sizes[false], maxCached)
	}
	if n := q.sizes[true]; n > maxCached || n < maxCached-maxCached/10 {
		t.Errorf("look-ups: %d kept, bound %d", n, maxCached)
	}
	if _, ok := q.agg["vuln:CVE-2024-12287"]; !ok {
		t.Errorf("the newest look-up is missing")
	}
	// A full aggregate class gives way within itself, never the dashboard's.
	add("count:new")
	if _, ok := q.agg["overview"]; !ok || q.agg["clocks"].v == nil {
		t.Errorf("the dashboard's aggregates were dropped")
	}
	if q.sizes[false] > maxCached || len(q.agg) != q.sizes[false]+q.sizes[true] {
		t.Errorf("sizes %v disagree with %d entries", q.sizes, len(q.agg))
	}
}
