package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestHit counts hits from many goroutines at once (as from several servers): each is counted once, so the
// counts are exactly 1..n; buckets and windows count apart, and a window that started before keep is forgotten.
func TestHit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
		const n = 20
		got := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := db.Hit(ctx, "report-all", w, w.Add(-time.Hour))
				if err != nil {
					t.Error(err)
				}
				got[i] = c
			}()
		}
		wg.Wait()
		slices.Sort(got)
		for i, c := range got {
			if c != i+1 {
				t.Fatalf("concurrent counts %v, want 1..%d each once", got, n)
			}
		}
		for _, tt := range []struct {
			bucket       string
			window, keep time.Time
			want         int
		}{
			{"report-addr:ab", w, w.Add(-time.Hour), 1},                       // another bucket
			{"report-all", w.Add(time.Hour), w, 1},                            // the next window
			{"report-all", w, w.Add(-time.Hour), n + 1},                       // the first window still counts
			{"report-all", w.Add(2 * time.Hour), w.Add(time.Hour), 1},         // forgets the first window...
			{"report-all", w, w.Add(-time.Hour), 1},                           // ...so it counts from 1 again
			{"report-addr:ab", w.Add(2 * time.Hour), w.Add(2 * time.Hour), 1}, // every older window forgotten
			{"report-addr:ab", w.Add(2 * time.Hour), w.Add(2 * time.Hour), 2},
		} {
			if c, err := db.Hit(ctx, tt.bucket, tt.window, tt.keep); err != nil || c != tt.want {
				t.Errorf("Hit(%s, %s, keep %s) = %d, %v; want %d", tt.bucket, tt.window.Format(time.Kitchen), tt.keep.Format(time.Kitchen), c, err, tt.want)
			}
		}
	})
}
