// Package jobs is the scheduler `vigil serve` runs: it syncs each configured intelligence feed on its own schedule
// (NVD every two hours, KEV, EPSS, OSV and CISA CSAF daily by default), retries a failing feed with exponential
// backoff and records every attempt so the feed page shows it failing, and never lets one slow or failing feed hold
// up the others (each sync runs on its own). When several servers share one PostgreSQL database, a sync runs under
// a database-wide lock (pg_try_advisory_lock) and re-checks the feed's schedule once it holds it, so each sync
// happens once. The package knows no store: it takes the few operations it needs as interfaces, which the app wires
// to the store and the importer.
package jobs

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-dev/vigil"
)

// Store reads the configured feeds and records attempts. Feeds must return current state (another server may have
// just recorded an attempt).
type Store interface {
	Feeds(ctx context.Context) ([]*vigil.Feed, error)
	RecordFeedAttempt(ctx context.Context, feed string, a vigil.FeedAttempt) error
}

// Result is what one successful sync reports.
type Result struct {
	Cursor string
	Counts any
}

// Syncer runs one sync of the named feed.
type Syncer func(ctx context.Context, feed string) (Result, error)

// Locker takes a lock shared by every server on the database without waiting; ok is false when another server
// holds it. nil means no coordination (one server).
type Locker func(ctx context.Context, key int64) (release func(), ok bool, err error)

// Options configure a Scheduler.
type Options struct {
	Store Store
	Sync  Syncer
	Lock  Locker
	Clock vigil.Clock
	// After returns a channel that fires after d (time.After when nil); tests drive the scheduler with RunOnce.
	After func(d time.Duration) <-chan time.Time
	Log   *slog.Logger
	// Poll is how often the feed list is read to find due feeds (default one minute).
	Poll time.Duration
	// Backoff is the delay before the first retry of a failed feed (default one minute); it doubles with each
	// further failure, up to the feed's own interval.
	Backoff time.Duration
}

// Scheduler runs feed syncs on their schedules.
type Scheduler struct {
	opt     Options
	mu      sync.Mutex
	running map[string]bool
	wg      sync.WaitGroup
}

// New returns a scheduler; Run starts it.
func New(opt Options) *Scheduler {
	if opt.Clock == nil {
		opt.Clock = vigil.SystemClock{}
	}
	if opt.After == nil {
		opt.After = time.After
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Minute
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Minute
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{opt: opt, running: map[string]bool{}}
}

// Run starts due syncs every Poll until ctx ends, then waits for the syncs in progress (which see ctx end) and
// returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		s.start(ctx)
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return nil
		case <-s.opt.After(s.opt.Poll):
		}
	}
}

// RunOnce starts the syncs due now and waits for them to finish: one step of Run, for tests and for a command
// that syncs once.
func (s *Scheduler) RunOnce(ctx context.Context) {
	s.start(ctx)
	s.wg.Wait()
}

// Due reports whether a feed should be synced at now.
func Due(f *vigil.Feed, now time.Time) bool {
	if !f.Enabled || f.Every <= 0 {
		return false
	}
	if !f.NextAttempt.IsZero() {
		return !now.Before(f.NextAttempt)
	}
	return f.LastSuccess.IsZero() || !now.Before(f.LastSuccess.Add(f.Every))
}

// NextAfterFailure is when a feed that has now failed failures times in a row is tried again: Backoff doubled for
// each earlier failure, never later than its interval.
func NextAfterFailure(f *vigil.Feed, at time.Time, failures int, backoff time.Duration) time.Time {
	d := backoff
	for i := 1; i < failures && d < f.Every; i++ {
		d *= 2
	}
	if d > f.Every {
		d = f.Every
	}
	return at.Add(d)
}

func (s *Scheduler) start(ctx context.Context) {
	feeds, err := s.opt.Store.Feeds(ctx)
	if err != nil {
		s.opt.Log.Error("jobs: reading the feeds failed", "err", err)
		return
	}
	now := s.opt.Clock.Now()
	for _, f := range feeds {
		if !Due(f, now) {
			continue
		}
		s.mu.Lock()
		busy := s.running[f.Name]
		if !busy {
			s.running[f.Name] = true
		}
		s.mu.Unlock()
		if busy {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.running, f.Name)
				s.mu.Unlock()
			}()
			s.sync(ctx, f.Name)
		}()
	}
}

// lockKey is the database-wide lock of one feed's sync.
func lockKey(feed string) int64 {
	h := fnv.New64a()
	h.Write([]byte("vigil.feed." + feed))
	return int64(h.Sum64() & 0x7fffffffffffffff)
}

func (s *Scheduler) sync(ctx context.Context, name string) {
	log := s.opt.Log.With("feed", name)
	if s.opt.Lock != nil {
		release, ok, err := s.opt.Lock(ctx, lockKey(name))
		if err != nil {
			log.Error("jobs: lock failed", "err", err)
			return
		}
		if !ok {
			log.Debug("jobs: another server is syncing this feed")
			return
		}
		defer release()
		// Another server may have synced it between our look at the schedule and the lock: look again.
		feeds, err := s.opt.Store.Feeds(ctx)
		if err != nil {
			log.Error("jobs: reading the feeds failed", "err", err)
			return
		}
		due := false
		for _, f := range feeds {
			if f.Name == name {
				due = Due(f, s.opt.Clock.Now())
			}
		}
		if !due {
			return
		}
	}
	feed := &vigil.Feed{}
	if feeds, err := s.opt.Store.Feeds(ctx); err == nil {
		for _, f := range feeds {
			if f.Name == name {
				feed = f
			}
		}
	}
	at := s.opt.Clock.Now()
	res, err := s.runSync(ctx, name)
	if ctx.Err() != nil && err != nil {
		return // shutting down: not a failure of the feed
	}
	a := vigil.FeedAttempt{At: at, Err: err}
	if err != nil {
		a.Next = NextAfterFailure(feed, at, feed.Failures+1, s.opt.Backoff)
		log.Warn("jobs: feed sync failed; will retry", "err", err, "failures", feed.Failures+1, "next", a.Next)
	} else {
		a.Next, a.Cursor, a.Counts = at.Add(feed.Every), res.Cursor, res.Counts
		log.Info("jobs: feed synced", "next", a.Next)
	}
	if err := s.opt.Store.RecordFeedAttempt(context.WithoutCancel(ctx), name, a); err != nil {
		log.Error("jobs: recording the attempt failed", "err", err)
	}
}

// runSync calls the syncer, turning a panic in it into an error so that one feed cannot take the scheduler down.
func (s *Scheduler) runSync(ctx context.Context, name string) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = vigil.Errorf(vigil.EINTERNAL, "feed %s: sync panicked: %v", name, p)
		}
	}()
	return s.opt.Sync(ctx, name)
}
