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
	s := jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c, Backoff: time.Minute})
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

func TestLockCoordinatesServers(t *testing.T) {
	st := newStore(vigil.Feed{Name: "nvd", Enabled: true, Every: 2 * time.Hour})
	calls := 0
	sync := func(context.Context, string) (jobs.Result, error) { calls++; return jobs.Result{}, nil }
	c := &clock{t: t0}
	// Another server holds the lock: nothing runs and nothing is recorded.
	held := jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c,
		Lock: func(context.Context, int64) (func(), bool, error) { return nil, false, nil }})
	held.RunOnce(context.Background())
	if calls != 0 || len(st.attempts) != 0 {
		t.Fatalf("synced %d times under another server's lock", calls)
	}
	// The other server finished between our look at the schedule and our lock: we look again and skip.
	var released bool
	free := jobs.New(jobs.Options{Store: st, Sync: sync, Clock: c,
		Lock: func(context.Context, int64) (func(), bool, error) {
			st.mu.Lock()
			st.feeds["nvd"].NextAttempt = t0.Add(2 * time.Hour)
			st.mu.Unlock()
			return func() { released = true }, true, nil
		}})
	free.RunOnce(context.Background())
	if calls != 0 || !released {
		t.Fatalf("calls = %d, released = %v: want a re-check under the lock and the lock released", calls, released)
	}
}
