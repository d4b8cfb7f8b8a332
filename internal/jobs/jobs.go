// Package jobs is the scheduler `vigil serve` runs: it syncs each configured intelligence feed on its own schedule
// (NVD every two hours, KEV, EPSS, OSV and CISA CSAF daily by default), retries a failing feed with exponential
// backoff and records every attempt so the feed page shows it failing, and never lets one slow or failing feed hold
// up the others (each sync runs on its own). When several servers share one database, each sync is a job run under
// a lease in the database (the job "feed:NAME"): a server takes the lease, re-checks the feed's schedule, renews the
// lease by a heartbeat while the sync runs, records the attempt and releases it, so each scheduled sync runs once;
// a server killed mid-sync stops renewing, and when its lease expires the next server to find the feed still due
// takes the job over. A server that loses its lease (it stalled past the expiry and another took over) cancels its
// sync, whose import then rolls back. Periodic jobs (the re-match of imports a killed server left unmatched, and
// later checkpoint exports) run the same way, every so often, when they last completed kept with their lease so that
// no server runs one again early. The package knows no store: it takes the few operations it needs as interfaces,
// which the app wires to the store and the importer.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
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

// Leases are the jobs' leases, shared by every server on the database (the store's job_leases).
type Leases interface {
	// AcquireLease takes the job for owner until ttl from now when it is free, expired or owner's already; ok is
	// false when another owner holds a live lease.
	AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (ok bool, err error)
	// RenewLease extends owner's live lease; ok is false when owner no longer holds it.
	RenewLease(ctx context.Context, job, owner string, ttl time.Duration) (ok bool, err error)
	// ReleaseLease frees owner's lease at once.
	ReleaseLease(ctx context.Context, job, owner string) error
	// CompleteLease frees owner's lease and records now as the job's last completion.
	CompleteLease(ctx context.Context, job, owner string) error
	// LastCompleted is when the job last completed (zero when never).
	LastCompleted(ctx context.Context, job string) (time.Time, error)
}

// Periodic is a job one of the servers sharing the database runs every Every.
type Periodic struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// DefaultLease is how long a job's lease lasts without a heartbeat: how long a killed server's job waits before
// another takes it over.
const DefaultLease = 2 * time.Minute

// Options configure a Scheduler.
type Options struct {
	Store    Store // nil: no feed syncs, only the periodic jobs
	Sync     Syncer
	Leases   Leases // required: one server alone holds every lease at once
	Periodic []Periodic
	// Owner names this server in the leases (default: host name, process id and a random suffix, so a restarted
	// process never mistakes its predecessor's lease for its own).
	Owner string
	// Lease is how long a lease lasts without a heartbeat (DefaultLease when zero); it is renewed every third of it.
	Lease time.Duration
	Clock vigil.Clock
	// After returns a channel that fires after d (time.After when nil); tests drive the scheduler with RunOnce.
	After func(d time.Duration) <-chan time.Time
	Log   *slog.Logger
	// Poll is how often the feed list is read to find due feeds (default one minute, or half the lease when that is
	// shorter, so a killed server's job is taken over soon after its lease expires).
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
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Poll <= 0 {
		opt.Poll = min(time.Minute, opt.Lease/2)
	}
	if opt.Owner == "" {
		opt.Owner = DefaultOwner()
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Minute
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{opt: opt, running: map[string]bool{}}
}

// DefaultOwner names this process among the servers sharing a database: host, process id, random suffix.
func DefaultOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Owner is the name this scheduler holds leases under.
func (s *Scheduler) Owner() string { return s.opt.Owner }

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
	now := s.opt.Clock.Now()
	if s.opt.Store == nil {
		// No feed syncs on this server (vigil serve --sync=false): only the periodic jobs.
	} else if feeds, err := s.opt.Store.Feeds(ctx); err != nil {
		s.opt.Log.Error("jobs: reading the feeds failed", "err", err)
	} else {
		for _, f := range feeds {
			if Due(f, now) {
				s.launch(ctx, "feed:"+f.Name, func(ctx context.Context) { s.sync(ctx, f.Name) })
			}
		}
	}
	for _, p := range s.opt.Periodic {
		last, err := s.opt.Leases.LastCompleted(ctx, p.Name)
		if err != nil {
			s.opt.Log.Error("jobs: reading when a job last ran failed", "job", p.Name, "err", err)
		} else if periodicDue(last, p.Every, now) {
			s.launch(ctx, p.Name, func(ctx context.Context) { s.periodic(ctx, p) })
		}
	}
}

func periodicDue(last time.Time, every time.Duration, now time.Time) bool {
	return last.IsZero() || !now.Before(last.Add(every))
}

// launch runs the job on its own unless this server runs it already.
func (s *Scheduler) launch(ctx context.Context, job string, fn func(ctx context.Context)) {
	s.mu.Lock()
	busy := s.running[job]
	s.running[job] = true
	s.mu.Unlock()
	if busy {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, job)
			s.mu.Unlock()
		}()
		fn(ctx)
	}()
}

// errLeaseLost cancels a job whose lease another server took over.
var errLeaseLost = errors.New("the job's lease expired and another server took the job over")

// leased runs fn while holding the job's lease, renewing it every third of the lease, then frees the lease,
// recording the job completed when fn says it did. It returns false without running fn when another server holds
// the lease. fn's context is cancelled with errLeaseLost when the lease is lost (renewal refused, or failing until
// the lease must have expired).
func (s *Scheduler) leased(ctx context.Context, job string, fn func(ctx context.Context) (completed bool)) (bool, error) {
	ok, err := s.opt.Leases.AcquireLease(ctx, job, s.opt.Owner, s.opt.Lease)
	if err != nil || !ok {
		return false, err
	}
	jctx, cancel := context.WithCancelCause(ctx)
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		renewed := time.Now()
		tick := time.NewTicker(s.opt.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-tick.C:
			}
			ok, err := s.opt.Leases.RenewLease(jctx, job, s.opt.Owner, s.opt.Lease)
			switch {
			case err == nil && ok:
				renewed = time.Now()
			case err == nil, time.Since(renewed) >= s.opt.Lease:
				s.opt.Log.Warn("jobs: lease lost; stopping the job", "job", job, "err", err)
				cancel(errLeaseLost)
				return
			default:
				s.opt.Log.Warn("jobs: lease renewal failed; will retry", "job", job, "err", err)
			}
		}
	}()
	completed := fn(jctx)
	cancel(nil)
	<-beat
	if context.Cause(jctx) != errLeaseLost {
		free := s.opt.Leases.ReleaseLease
		if completed {
			free = s.opt.Leases.CompleteLease
		}
		if err := free(context.WithoutCancel(ctx), job, s.opt.Owner); err != nil {
			s.opt.Log.Warn("jobs: releasing the lease failed; it expires on its own", "job", job, "err", err)
		}
	}
	return true, nil
}

func (s *Scheduler) sync(ctx context.Context, name string) {
	log := s.opt.Log.With("feed", name)
	// A feed's schedule is its row in the feeds (next attempt, backoff), so its lease records no completion.
	ran, err := s.leased(ctx, "feed:"+name, func(ctx context.Context) bool { s.syncFeed(ctx, log, name); return false })
	if err != nil {
		log.Error("jobs: taking the lease failed", "err", err)
	} else if !ran {
		log.Debug("jobs: another server is syncing this feed")
	}
}

// periodic runs p under its lease if it is still due (another server may have run it between our look and our
// lease). A failed run is not a completion: the next poll tries again.
func (s *Scheduler) periodic(ctx context.Context, p Periodic) {
	log := s.opt.Log.With("job", p.Name)
	ran, err := s.leased(ctx, p.Name, func(ctx context.Context) bool {
		last, err := s.opt.Leases.LastCompleted(ctx, p.Name)
		if err != nil || !periodicDue(last, p.Every, s.opt.Clock.Now()) {
			return false
		}
		if err := protect(p.Name, func() error { return p.Run(ctx) }); err != nil {
			if ctx.Err() == nil {
				log.Warn("jobs: job failed; will retry", "err", err)
			}
			return false
		}
		return true
	})
	if err != nil {
		log.Error("jobs: taking the lease failed", "err", err)
	} else if !ran {
		log.Debug("jobs: another server is running this job")
	}
}

// syncFeed syncs the feed if it is still due (another server may have synced it between our look at the schedule
// and our lease) and records the attempt.
func (s *Scheduler) syncFeed(ctx context.Context, log *slog.Logger, name string) {
	feeds, err := s.opt.Store.Feeds(ctx)
	if err != nil {
		log.Error("jobs: reading the feeds failed", "err", err)
		return
	}
	var feed *vigil.Feed
	for _, f := range feeds {
		if f.Name == name {
			feed = f
		}
	}
	if feed == nil || !Due(feed, s.opt.Clock.Now()) {
		return
	}
	at := s.opt.Clock.Now()
	res, err := s.runSync(ctx, name)
	if ctx.Err() != nil && err != nil {
		return // shutting down, or the lease was lost: not a failure of the feed
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
	err = protect("feed "+name, func() (err error) {
		res, err = s.opt.Sync(ctx, name)
		return err
	})
	return res, err
}

// protect runs a job, turning a panic in it into an error.
func protect(job string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = vigil.Errorf(vigil.EINTERNAL, "%s: panicked: %v", job, p)
		}
	}()
	return fn()
}
