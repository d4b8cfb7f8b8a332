package app_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestMatcherKeysFindImportedAdvisories holds the store's affected index and the matcher's keys to one contract:
// the keys match.ComponentKeys gives a component find, through (*store.DB).AdvisoriesFor, the advisories the
// importer filed for it, whatever the SBOM's spelling.
func TestMatcherKeysFindImportedAdvisories(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			a, err := app.Open(ctx, storetest.DSN(t, engine))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			im, err := a.Importer(ctx, app.IntelOptions{})
			if err != nil {
				t.Fatal(err)
			}
			actx := app.CLIContext(ctx)
			if _, err := im.Import(actx, []string{testfix.Path(t, "osv-corpus", "Go", "all.zip"), testfix.Path(t, "osv-corpus", "PyPI", "all.zip"),
				testfix.Path(t, "nvd-api-2.0", "fkie-cad"), testfix.Path(t, "cisa-csaf", "OT", "white", "2019", "icsma-19-178-01.json")}, importer.Options{}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				c    vigil.Component
				want string
			}{
				{"Go module by purl", vigil.Component{Name: "bluemonday", Version: "1.0.5", Purl: "pkg:golang/github.com/microcosm-cc/bluemonday@1.0.5"}, "GO-2022-0588"},
				{"PyPI by purl, other spelling", vigil.Component{Name: "PyBlueMonday", Version: "0.0.1", Purl: "pkg:pypi/PyBlueMonday@0.0.1"}, "PYSEC-2021-849"},
				{"firmware by CPE", vigil.Component{Name: "firmware", Version: "2.4a", CPE: "cpe:2.3:o:medtronic:minimed_508_firmware:-:*:*:*:*:*:*:*"}, "CVE-2019-10964"},
				{"a CSAF product by name, no supplier", vigil.Component{Name: "MiniMed 508 pump", Version: "1"}, "CVE-2019-10964"},
			}
			for _, tt := range tests {
				advs, err := a.Store.AdvisoriesFor(ctx, match.ComponentKeys(tt.c, match.Options{}))
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, adv := range advs {
					ids = append(ids, adv.ID)
				}
				if !slices.Contains(ids, tt.want) {
					t.Errorf("%s: advisories %v, want %s among them", tt.name, ids, tt.want)
				}
			}
		})
	}
}

// TestFeedSchedulerRecordsFailures runs the app's scheduler once over the default feeds with a fetcher that may
// reach nothing: every feed is attempted, recorded as failing with its error, and rescheduled with backoff.
func TestFeedSchedulerRecordsFailures(t *testing.T) {
	ctx := context.Background()
	a, err := app.Open(ctx, storetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	noNet := &importer.Fetcher{Client: &http.Client{Transport: &http.Transport{Proxy: nil,
		DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("no network in tests") }}},
		Retries: 1, Sleep: func(context.Context, time.Duration) error { return nil }}
	s, err := a.IntelJobs(ctx, app.IntelOptions{Fetcher: noNet})
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
