package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestJobLeases: a job's lease is held by one server at a time; it is renewed only by its holder while live, taken
// over only once it has expired or been released, and of servers racing for a free job exactly one wins. Both
// engines.
func TestJobLeases(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
			db := storetest.Open(t, engine, clock)
			ctx := context.Background()
			const ttl = time.Minute
			step := func(what string, got bool, err error, want bool) {
				t.Helper()
				if err != nil || got != want {
					t.Fatalf("%s = %v, %v; want %v", what, got, err, want)
				}
			}
			ok, err := db.AcquireLease(ctx, "feed:nvd", "a", ttl)
			step("a takes the free job", ok, err, true)
			ok, err = db.AcquireLease(ctx, "feed:nvd", "b", ttl)
			step("b takes a's live lease", ok, err, false)
			ok, err = db.AcquireLease(ctx, "feed:kev", "b", ttl)
			step("b takes another job", ok, err, true)
			ok, err = db.AcquireLease(ctx, "feed:nvd", "a", ttl)
			step("a takes its own lease again", ok, err, true)
			ok, err = db.RenewLease(ctx, "feed:nvd", "b", ttl)
			step("b renews a's lease", ok, err, false)
			clock.T = clock.T.Add(50 * time.Second)
			ok, err = db.RenewLease(ctx, "feed:nvd", "a", ttl)
			step("a renews its live lease", ok, err, true)
			clock.T = clock.T.Add(50 * time.Second) // within the renewed lease, past the first one
			ok, err = db.AcquireLease(ctx, "feed:nvd", "b", ttl)
			step("b takes a renewed lease", ok, err, false)

			// a stops renewing (killed): once its lease expires b takes the job, and a cannot renew it back.
			clock.T = clock.T.Add(ttl)
			ok, err = db.AcquireLease(ctx, "feed:nvd", "b", ttl)
			step("b takes the expired lease", ok, err, true)
			ok, err = db.RenewLease(ctx, "feed:nvd", "a", ttl)
			step("a renews the lease b took", ok, err, false)
			if err := db.ReleaseLease(ctx, "feed:nvd", "a"); err != nil {
				t.Fatal(err)
			}
			ok, err = db.AcquireLease(ctx, "feed:nvd", "c", ttl)
			step("c takes the job after a's release of a lease it no longer held", ok, err, false)
			if err := db.ReleaseLease(ctx, "feed:nvd", "b"); err != nil {
				t.Fatal(err)
			}
			ok, err = db.AcquireLease(ctx, "feed:nvd", "c", ttl)
			step("c takes the released job", ok, err, true)
			// A periodic job's completion is recorded by its holder's CompleteLease only.
			if at, err := db.LastCompleted(ctx, "feed:nvd"); err != nil || !at.IsZero() {
				t.Fatalf("LastCompleted of a job never completed = %v, %v", at, err)
			}
			if err := db.CompleteLease(ctx, "feed:nvd", "b"); err != nil {
				t.Fatal(err)
			}
			if at, err := db.LastCompleted(ctx, "feed:nvd"); err != nil || !at.IsZero() {
				t.Fatalf("b, not the holder, completed the job: %v, %v", at, err)
			}
			before := clock.T
			if err := db.CompleteLease(ctx, "feed:nvd", "c"); err != nil {
				t.Fatal(err)
			}
			if at, err := db.LastCompleted(ctx, "feed:nvd"); err != nil || !at.After(before) {
				t.Fatalf("LastCompleted after c completed it = %v, %v; want after %v", at, err, before)
			}
			ok, err = db.AcquireLease(ctx, "feed:nvd", "a", ttl)
			step("a takes the completed job", ok, err, true)
			if at, err := db.LastCompleted(ctx, "never"); err != nil || !at.IsZero() {
				t.Errorf("LastCompleted of an unknown job = %v, %v", at, err)
			}
			var last string
			if err := db.SQL().QueryRow("SELECT owner FROM job_leases WHERE name = 'feed:nvd'").Scan(&last); err != nil || last != "a" {
				t.Errorf("holder = %q, %v; want a", last, err)
			}

			leases, err := db.JobLeases(ctx)
			if err != nil || len(leases) != 2 || leases[0].Name != "feed:kev" || leases[1].Name != "feed:nvd" || leases[1].Owner != "a" ||
				!leases[1].Held(clock.T) || leases[1].Completed.IsZero() || !leases[0].Completed.IsZero() {
				t.Errorf("JobLeases = %+v, %v", leases, err)
			}

			// Servers racing for a free job: exactly one wins.
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := db.AcquireLease(ctx, "feed:race", string(rune('a'+i)), ttl)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Errorf("%d servers won the free job, want 1", wins)
			}
		})
	}
}
