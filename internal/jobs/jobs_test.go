package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/jobs"
)

type clock struct{ t time.Time }

func (c clock) Now() time.Time { return c.t }

var t0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// memStore is an in-memory jobs.Store that applies attempts the way the intelligence store does.
type memStore struct {
	mu       sync.Mutex
	feeds    map[string]*vigil.Feed
	attempts []string
	recorded chan string
}

func newStore(feeds ...vigil.Feed) *memStore {
	s := &memStore{feeds: map[string]*vigil.Feed{}, recorded: make(chan string, 16)}
	for i := range feeds {
		f := feeds[i]
		s.feeds[f.Name] = &f
	}
	return s
}

func (s *memStore) Feeds(context.Context) ([]*vigil.Feed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*vigil.Feed
	for _, n := range []string{"epss", "kev", "nvd", "slow"} {
		if f, ok := s.feeds[n]; ok {
			cp := *f // the store returns current state, not the scheduler's copy
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (s *memStore) RecordFeedAttempt(_ context.Context, name string, a vigil.FeedAttempt) error {
	s.mu.Lock()
	f := s.feeds[name]
	f.LastAttempt, f.NextAttempt = a.At, a.Next
	if a.Err != nil {
		f.Failures++
		s.attempts = append(s.attempts, name+": failed")
	} else {
		f.Failures, f.LastSuccess = 0, a.At
		s.attempts = append(s.attempts, name+": ok")
	}
	s.mu.Unlock()
	s.recorded <- name
	return nil
}

func (s *memStore) feed(name string) vigil.Feed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.feeds[name]
}

func TestDue(t *testing.T) {
	tests := []struct {
		name string
		f    vigil.Feed
		want bool
	}{
		{"never synced", vigil.Feed{Enabled: true, Every: time.Hour}, true},
		{"disabled", vigil.Feed{Every: time.Hour}, false},
		{"interval not over", vigil.Feed{Enabled: true, Every: time.Hour, LastSuccess: t0.Add(-59 * time.Minute)}, false},
		{"interval over", vigil.Feed{Enabled: true, Every: time.Hour, LastSuccess: t0.Add(-time.Hour)}, true},
		{"retry not yet", vigil.Feed{Enabled: true, Every: time.Hour, NextAttempt: t0.Add(time.Second)}, false},
		{"retry now", vigil.Feed{Enabled: true, Every: time.Hour, NextAttempt: t0}, true},
	}
	for _, tt := range tests {
		if got := jobs.Due(&tt.f, t0); got != tt.want {
			t.Errorf("%s: Due = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBackoffDoublesUpToInterval(t *testing.T) {
	f := vigil.Feed{Every: 2 * time.Hour}
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, jobs.NextAfterFailure(&f, t0, n, time.Minute).Sub(t0))
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
		64 * time.Minute, 2 * time.Hour, 2 * time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
}

func TestFailingFeedRetriesAndNeverBlocksOthers(t *testing.T) {
	st := newStore(
		vigil.Feed{Name: "nvd", Enabled: true, Every: 2 * time.Hour},
		vigil.Feed{Name: "kev", Enabled: true, Every: 24 * time.Hour},
		vigil.Feed{Name: "slow", Enabled: true, Every: 24 * time.Hour},
		vigil.Feed{Name: "epss", Enabled: false, Every: 24 * time.Hour},
	)
	release := make(chan struct{})
	var mu sync.Mutex
	calls := map[string]int{}
	sync := func(ctx context.Context, feed string) (jobs.Result, error) {
		mu.Lock()
		calls[feed]++
		mu.Unlock()
		switch feed {
		case "nvd":
			return jobs.Result{}, errors.New("503 Service Unavailable")
		case "slow":
			<-release
		case "kev":
			panic("a bug in one sync")
		}
		return jobs.Result{Cursor: "c"}, nil
	}
	c := &clock{t: t0}
	s := jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c, Backoff: time.Minute, Leases: newLeases()})
	done := make(chan struct{})
	go func() { s.RunOnce(context.Background()); close(done) }()
	// nvd and kev are recorded while slow is still running: a slow feed holds up nobody.
	got := map[string]bool{<-st.recorded: true, <-st.recorded: true}
	if !got["nvd"] || !got["kev"] {
		t.Fatalf("recorded first: %v, want nvd and kev before slow finishes", got)
	}
	close(release)
	<-done
	<-st.recorded
	if f := st.feed("nvd"); f.Failures != 1 || !f.NextAttempt.Equal(t0.Add(time.Minute)) {
		t.Errorf("nvd after one failure = %+v, want a retry in 1m", f)
	}
	if f := st.feed("kev"); f.Failures != 1 {
		t.Errorf("a panicking sync must count as a failure: %+v", f)
	}
	if f := st.feed("slow"); f.Failures != 0 || !f.NextAttempt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("slow = %+v, want success and next in 24h", f)
	}
	if calls["epss"] != 0 {
		t.Error("a disabled feed was synced")
	}
	// Before the retry time nothing runs; at it, nvd runs again and its backoff doubles.
	c.t = t0.Add(30 * time.Second)
	s.RunOnce(context.Background())
	if calls["nvd"] != 1 {
		t.Errorf("nvd retried before its backoff: %d calls", calls["nvd"])
	}
	c.t = t0.Add(time.Minute)
	s.RunOnce(context.Background())
	<-st.recorded
	<-st.recorded // kev retries too
	if f := st.feed("nvd"); f.Failures != 2 || !f.NextAttempt.Equal(c.t.Add(2*time.Minute)) {
		t.Errorf("nvd after two failures = %+v, want a retry 2m later", f)
	}
}

// memLeases is an in-memory jobs.Leases: holder per job, with hooks to play another server.
type memLeases struct {
	mu        sync.Mutex
	holder    map[string]string
	released  []string
	completed map[string]time.Time
	clock     *clock // the time CompleteLease records
	onAcquire func() // runs after a successful acquire
	renewals  chan string
	refuse    bool // renewals are refused: another server took the job over
}

func (l *memLeases) AcquireLease(_ context.Context, job, owner string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	if h, ok := l.holder[job]; ok && h != owner {
		l.mu.Unlock()
		return false, nil
	}
	l.holder[job] = owner
	hook := l.onAcquire
	l.mu.Unlock()
	if hook != nil {
		hook()
	}
	return true, nil
}

func (l *memLeases) RenewLease(_ context.Context, job, owner string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.renewals != nil {
		l.renewals <- job
	}
	if l.refuse {
		l.holder[job] = "other"
		return false, nil
	}
	return l.holder[job] == owner, nil
}

func newLeases() *memLeases { return &memLeases{holder: map[string]string{}} }

func (l *memLeases) CompleteLease(ctx context.Context, job, owner string) error {
	l.mu.Lock()
	if l.holder[job] == owner {
		if l.completed == nil {
			l.completed = map[string]time.Time{}
		}
		l.completed[job] = l.clock.t
	}
	l.mu.Unlock()
	return l.ReleaseLease(ctx, job, owner)
}

func (l *memLeases) LastCompleted(_ context.Context, job string) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.completed[job], nil
}

func (l *memLeases) ReleaseLease(_ context.Context, job, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder[job] == owner {
		delete(l.holder, job)
		l.released = append(l.released, job)
	}
	return nil
}

func TestLeasesCoordinateServers(t *testing.T) {
	st := newStore(vigil.Feed{Name: "nvd", Enabled: true, Every: 2 * time.Hour})
	calls := 0
	sync := func(context.Context, string) (jobs.Result, error) { calls++; return jobs.Result{}, nil }
	c := &clock{t: t0}
	// Another server holds the lease: nothing runs and nothing is recorded.
	l := &memLeases{holder: map[string]string{"feed:nvd": "other"}}
	jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c, Leases: l, Owner: "me"}).RunOnce(context.Background())
	if calls != 0 || len(st.attempts) != 0 {
		t.Fatalf("synced %d times under another server's lease", calls)
	}
	// The other server finished between our look at the schedule and our lease: we look again, skip, and free it.
	l = &memLeases{holder: map[string]string{}, onAcquire: func() {
		st.mu.Lock()
		st.feeds["nvd"].NextAttempt = t0.Add(2 * time.Hour)
		st.mu.Unlock()
	}}
	jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c, Leases: l, Owner: "me"}).RunOnce(context.Background())
	if calls != 0 || len(l.released) != 1 || len(l.holder) != 0 {
		t.Fatalf("calls = %d, released %v, held %v: want a re-check under the lease and the lease released", calls, l.released, l.holder)
	}
	// Due and free: it runs once under our lease, is recorded, and the lease is freed for the next run.
	c.t = t0.Add(2 * time.Hour)
	l = &memLeases{holder: map[string]string{}}
	jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c, Leases: l, Owner: "me"}).RunOnce(context.Background())
	if calls != 1 || len(st.attempts) != 1 || len(l.released) != 1 || len(l.holder) != 0 {
		t.Fatalf("calls = %d, attempts %v, released %v, held %v", calls, st.attempts, l.released, l.holder)
	}
}

// TestLostLeaseStopsTheJob: a server whose lease renewal is refused (it stalled past the expiry and another server
// took the job) cancels its sync, records nothing (the new holder will) and does not free the other's lease.
func TestLostLeaseStopsTheJob(t *testing.T) {
	st := newStore(vigil.Feed{Name: "nvd", Enabled: true, Every: 2 * time.Hour})
	l := &memLeases{holder: map[string]string{}, refuse: true, renewals: make(chan string, 16)}
	var cause error
	sync := func(ctx context.Context, _ string) (jobs.Result, error) {
		<-ctx.Done() // a long download, cut short
		cause = context.Cause(ctx)
		return jobs.Result{}, ctx.Err()
	}
	s := jobs.New(jobs.Options{Store: st, Sync: sync, Clock: &clock{t: t0}, Leases: l, Owner: "me", Lease: 30 * time.Millisecond})
	s.RunOnce(context.Background())
	if cause == nil || len(l.renewals) == 0 {
		t.Fatalf("the sync ended with cause %v after %d renewals: want it cancelled by the refused renewal", cause, len(l.renewals))
	}
	if len(st.attempts) != 0 {
		t.Errorf("attempts recorded by the server that lost the lease: %v", st.attempts)
	}
	if l.holder["feed:nvd"] != "other" || len(l.released) != 0 {
		t.Errorf("holder %q, released %v: the other server's lease must stay", l.holder["feed:nvd"], l.released)
	}
}

// TestPeriodicJobRunsOnceEachInterval: a periodic job runs when it never completed, not again before its interval
// (on this server or another, restarted or not: the completion is the lease's), again once it has passed; a failed
// run is no completion and is retried at the next poll; another server's live lease means it does not run here. A
// server without feed syncs runs the periodic jobs too.
func TestPeriodicJobRunsOnceEachInterval(t *testing.T) {
	c := &clock{t: t0}
	l := newLeases()
	l.clock = c
	runs := 0
	var fail error
	job := jobs.Periodic{Name: "rematch", Every: 10 * time.Minute, Run: func(context.Context) error { runs++; return fail }}
	a := jobs.New(jobs.Options{Store: newStore(), Leases: l, Owner: "a", Clock: c, Periodic: []jobs.Periodic{job}})
	// b syncs no feeds (vigil serve --sync=false: no feed Store) and takes its turn at the periodic jobs all the same.
	b := jobs.New(jobs.Options{Leases: l, Owner: "b", Clock: c, Periodic: []jobs.Periodic{job}})
	steps := []struct {
		name string
		s    *jobs.Scheduler
		at   time.Duration
		fail error
		runs int
	}{
		{"never completed: runs", a, 0, nil, 1},
		{"another server within the interval", b, 5 * time.Minute, nil, 1},
		{"the same server within the interval", a, 9 * time.Minute, nil, 1},
		{"interval over: the other server runs it", b, 10 * time.Minute, errors.New("database gone"), 2},
		{"failed run, retried at the next poll", a, 11 * time.Minute, nil, 3},
		{"then not before its interval from that completion", b, 20 * time.Minute, nil, 3},
	}
	for _, st := range steps {
		c.t, fail = t0.Add(st.at), st.fail
		st.s.RunOnce(context.Background())
		if runs != st.runs {
			t.Fatalf("%s: %d runs, want %d", st.name, runs, st.runs)
		}
	}
	c.t = t0.Add(time.Hour)
	l.holder["rematch"] = "c" // a third server is running it now
	a.RunOnce(context.Background())
	if runs != 3 {
		t.Errorf("ran under another server's live lease: %d runs", runs)
	}
}
