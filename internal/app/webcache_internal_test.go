package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
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

// TestWebCacheWritesWaitForRefresh checks the snapshot a request gets while another request refreshes it: a read
// gets the one in hand at once; a request that writes waits for the refreshed one (it decides from what is there).
func TestWebCacheWritesWaitForRefresh(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if err := db.CreateOrg(storetest.Admin(), &vigil.Organization{Name: "Cache Medical", TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		q := newWebQueries(&App{Store: db, Clock: storetest.NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))})
		reader := func() context.Context { return vigil.WithMemo(storetest.As("bob", vigil.RoleViewer)) }
		before, err := q.current(reader())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateDevice(storetest.As("alice", vigil.RoleAdmin), &vigil.Device{Name: "Pump", Class: "II", Pathway: vigil.Pathway510k}); err != nil {
			t.Fatal(err)
		}
		q.refreshMu.Lock() // another request is refreshing
		s, err := q.current(reader())
		if err != nil || s != before {
			t.Fatalf("a read during a refresh: got %+v, %v; want the snapshot in hand", s, err)
		}
		got := make(chan *snapshot)
		go func() {
			s, _ := q.current(storetest.As("alice", vigil.RoleAdmin)) // no memo: a write
			got <- s
		}()
		select {
		case s := <-got:
			t.Fatalf("a write did not wait for the refresh: got the snapshot at %d", s.seq)
		case <-time.After(100 * time.Millisecond):
		}
		q.refreshMu.Unlock()
		if s := <-got; s == nil || s.seq <= before.seq {
			t.Errorf("the write got %+v, want a snapshot after %d", s, before.seq)
		}
	})
}
