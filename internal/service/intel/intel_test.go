package intel_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/service/intel"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// newIntel builds the intelligence service on a test store as internal/app does.
func newIntel(db *store.DB) *intel.Service {
	p := &portfolio.Service{Store: db}
	im := importer.Importer{Store: db}
	if db.Engine() == store.SQLite {
		im.Turns = new(sync.Mutex)
	}
	return &intel.Service{Store: db, Importer: im, Portfolio: p, Clock: vigil.SystemClock{}}
}

// TestFeedSyncRematches: `vigil feeds sync` re-matches like every other import path, so a device version holding a
// package the synced feed names has its findings at once, not after the next import. Both engines.
func TestFeedSyncRematches(t *testing.T) {
	zip := testfix.Path(t, "osv-corpus", "PyPI", "all.zip")
	sbomPath := testfix.Path(t, "sbom-shelter-spdx", "in-the-lab", "spdx-syft-balenalib_apalis-imx6q-alpine-python-sha256_72b4e6d24e42e7012033e18f231dae3e9c821453c7d8147f52848485f33a10ef.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, zip) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	loopback := &importer.Fetcher{Client: importer.NewClient(func(netip.Addr) error { return nil }), Allow: []string{u.Hostname()}, AllowHTTP: true,
		Retries: 1, Sleep: func(context.Context, time.Duration) error { return nil }}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
			db := storetest.Open(t, engine, vigil.SystemClock{})
			a := newIntel(db)
			a.Fetcher = loopback
			d := &vigil.Device{Name: "Workstation", Class: "II", Pathway: vigil.Pathway510k}
			if err := a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Acme"}); err != nil {
				t.Fatal(err)
			}
			if err := a.Portfolio.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
			if err := a.Portfolio.CreateVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(sbomPath)
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Portfolio.ImportSBOM(ctx, v.ID, f, "workstation.spdx.json", portfolio.SBOMOptions{})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := a.SetFeed(ctx, &vigil.Feed{Name: "osv-pypi", Source: vigil.SourceOSV, URL: srv.URL + "/all.zip", Every: 24 * time.Hour, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.SyncFeed(ctx, "osv-pypi"); err != nil {
				t.Fatal(err)
			}
			fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Component.Name+" "+f.Vulnerability)
			}
			for _, want := range []string{"pip PYSEC-2023-228", "setuptools PYSEC-2022-43012", "wheel PYSEC-2022-43017"} {
				if !slices.Contains(got, want) {
					t.Errorf("after the sync: no finding %q among %v", want, got)
				}
			}
		})
	}
}

// TestFeedSchedulerRecordsFailures runs the scheduler once over the default feeds with a fetcher that may
// reach nothing: every feed is attempted, recorded as failing with its error, and rescheduled with backoff.
func TestFeedSchedulerRecordsFailures(t *testing.T) {
	ctx := context.Background()
	a := newIntel(storetest.Open(t, "sqlite", vigil.SystemClock{}))
	noNet := &importer.Fetcher{Client: &http.Client{Transport: &http.Transport{Proxy: nil,
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("no network in tests") }}},
		Retries: 1, Sleep: func(context.Context, time.Duration) error { return nil }}
	a.Fetcher = noNet
	s, err := a.Scheduler(ctx, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.RunOnce(ctx)
	feeds, err := a.Store.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(feeds) < 5 {
		t.Fatalf("%d feeds configured, want the defaults", len(feeds))
	}
	for _, f := range feeds {
		if !f.Failing() || f.LastAttempt.IsZero() || f.NextAttempt.Before(f.LastAttempt) || f.LastError == "" {
			t.Errorf("feed %s after a failed sync: %+v", f.Name, f)
		}
	}
}

// TestHangingFeedHoldsUpNoOtherFeed: while one feed's host hangs, the scheduler's other syncs go through. On SQLite
// syncs used to take turns for their whole length, downloads included, so one host that never answered held up
// every other feed until its sync gave up.
func TestHangingFeedHoldsUpNoOtherFeed(t *testing.T) {
	kev := testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json")
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			arrived, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/kev.json" {
					http.ServeFile(w, r, kev)
					return
				}
				once.Do(func() { close(arrived) })
				select {
				case <-release:
				case <-r.Context().Done():
				}
				http.Error(w, "gave up", http.StatusNotFound)
			}))
			defer srv.Close()
			free := sync.OnceFunc(func() { close(release) })
			defer free() // before Close, which waits for the hanging request
			u, _ := url.Parse(srv.URL)
			ctx := vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
			a := newIntel(storetest.Open(t, engine, vigil.SystemClock{}))
			a.Fetcher = &importer.Fetcher{Client: importer.NewClient(func(netip.Addr) error { return nil }), Allow: []string{u.Hostname()}, AllowHTTP: true}
			hanging := &vigil.Feed{Name: "hanging", Source: vigil.SourceOSV, URL: srv.URL + "/all.zip", Every: time.Hour, Enabled: true}
			if err := a.SetFeed(ctx, hanging); err != nil {
				t.Fatal(err)
			}
			s, err := a.Scheduler(ctx, jobs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{}, 2)
			go func() {
				s.RunOnce(ctx)
				done <- struct{}{}
			}()
			<-arrived // the hanging feed's sync is under way (and, on SQLite, was holding its turn): now a second feed
			if err := a.SetFeed(ctx, &vigil.Feed{Name: "kev", Source: vigil.SourceKEV, URL: srv.URL + "/kev.json", Every: time.Hour, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			go func() {
				s.RunOnce(ctx) // starts the kev feed; the hanging one is still running and is not started twice
				done <- struct{}{}
			}()
			guard := time.After(time.Minute) // a guard against a deadlock, not a measure of speed
			for synced := false; !synced; {
				f, err := a.Store.Feed(ctx, "kev")
				if err != nil {
					t.Fatal(err)
				}
				synced = !f.LastSuccess.IsZero()
				select {
				case <-guard:
					t.Fatalf("the kev feed has not synced while another feed's host hangs: %+v", f)
				case <-time.After(20 * time.Millisecond):
				}
			}
			free()
			<-done
			<-done
		})
	}
}
