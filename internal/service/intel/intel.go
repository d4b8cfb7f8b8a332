// Package intel is the intelligence use case: the configured feeds, imports of feed documents (files, folders,
// archives, URLs and uploads) and the scheduled syncs, and the merged vulnerabilities they build. Every way
// intelligence comes in — `vigil import`, `vigil feeds sync`, an API upload, the scheduler — is one call here that
// imports and then re-matches the portfolio (only the device versions holding a package the import changed), so
// findings never lag an import. Every read and write is authorized here.
package intel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
)

// Store is what the intelligence use case needs from storage.
type Store interface {
	vigil.VulnService
	Feeds(ctx context.Context) ([]*vigil.Feed, error)
	Feed(ctx context.Context, name string) (*vigil.Feed, error)
	SetFeed(ctx context.Context, f *vigil.Feed) error
	// RecordFeedAttempt records how a sync went (operational state, not audited).
	RecordFeedAttempt(ctx context.Context, name string, a vigil.FeedAttempt) error
	// The jobs' leases, so that one server of several sharing the database runs each scheduled sync.
	jobs.Leases
	JobLeases(ctx context.Context) ([]*vigil.JobLease, error)
	IntelRuns(ctx context.Context, limit int) ([]*vigil.IntelRun, error)
	VulnDetail(ctx context.Context, id string) (*vigil.VulnDetail, error)
	VulnDetails(ctx context.Context, f vigil.VulnFilter) ([]*vigil.VulnDetail, error)
	Signals(ctx context.Context, deviceID int64) ([]*vigil.Signal, error)
}

// Service is the intelligence use case.
type Service struct {
	Store Store
	// Importer is the importer on the store (its Fetcher is set per call, see importer).
	Importer  importer.Importer
	Portfolio *portfolio.Service // re-matched after every import
	// Intake, when set, files a report to triage for each new cybersecurity signal after every import
	// (internal/service/intake): a CSAF advisory naming our device is a report, not a list nobody acts on.
	Intake interface {
		FileSignals(ctx context.Context) ([]*vigil.Report, error)
	}
	Clock vigil.Clock
	// Fetcher replaces the default fetcher (tests inject one whose SSRF guard admits 127.0.0.1); a copy is used,
	// its Allow extended with the feeds' hosts.
	Fetcher *importer.Fetcher
	// Guard checks every address the default fetcher dials (nil: importer.PublicAddr); the operator's
	// --allow-net exceptions come in here (importer.AllowNets).
	Guard func(netip.Addr) error
	Log   *slog.Logger
	// TAXII polls a feed of source taxii (an ISAO's collection) from its cursor, returning the new cursor and what
	// it brought (internal/service/isao PollFeed); nil where ISAO intelligence is not wired.
	TAXII func(ctx context.Context, f *vigil.Feed) (cursor string, sum vigil.IntelSummary, err error)
}

// Result is what an import did: the import run, and the re-match of the portfolio that followed it.
type Result struct {
	Import  *importer.Result        `json:"import"`
	Rematch portfolio.RematchResult `json:"rematch"`
}

// importer returns the importer with a fetcher that may reach only the hosts of the configured feeds, CISA's CSAF
// documents on GitHub, and the hosts in $VIGIL_FEED_HOSTS (comma-separated); every connection is checked against
// private and loopback addresses. $NVD_API_KEY is sent to NVD.
func (s *Service) importer(ctx context.Context) (*importer.Importer, error) {
	feeds, err := s.Store.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	if len(feeds) == 0 {
		for _, f := range importer.DefaultFeeds() {
			feeds = append(feeds, &f)
		}
	}
	extra := []string{"raw.githubusercontent.com"}
	for _, h := range strings.Split(os.Getenv("VIGIL_FEED_HOSTS"), ",") {
		extra = append(extra, h)
	}
	var f *importer.Fetcher
	if s.Fetcher != nil {
		cp := *s.Fetcher
		f = &cp
	} else {
		f = &importer.Fetcher{Client: importer.NewClient(s.Guard), UserAgent: "vigil (postmarket cybersecurity)",
			NVDKey: os.Getenv("NVD_API_KEY"), Clock: s.Clock}
	}
	f.Allow = append(slices.Clone(f.Allow), importer.AllowList(feeds, extra...)...)
	im := s.Importer
	im.Fetcher, im.Log = f, s.Log
	return &im, nil
}

// Import imports inputs (files, folders, .zip and .gz archives, URLs of allowed hosts) in one transaction and
// re-matches the portfolio. Needs PermImport.
func (s *Service) Import(ctx context.Context, inputs []string, opt vigil.ImportOptions) (*Result, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return nil, err
	}
	im, err := s.importer(ctx)
	if err != nil {
		return nil, err
	}
	res, err := im.Import(ctx, inputs, opt)
	if err != nil {
		return nil, err
	}
	return s.rematch(ctx, res)
}

// rematch re-matches the device versions holding a package whose advisories changed.
func (s *Service) rematch(ctx context.Context, res *importer.Result) (*Result, error) {
	rm, err := s.Portfolio.RematchChanged(ctx)
	if err != nil {
		return nil, err
	}
	if s.Intake != nil {
		if _, err := s.Intake.FileSignals(ctx); err != nil {
			return nil, fmt.Errorf("imported and re-matched, but filing the new signals as reports failed (the next import retries): %w", err)
		}
	}
	return &Result{Import: res, Rematch: rm}, nil
}

// Upload imports one uploaded feed file (an OSV/NVD/KEV/EPSS/CSAF/STIX document, or a .zip or .gz of them) read
// as source, and re-matches the portfolio. The file is written to a private temporary file first: the importer
// reads paths and detects archives itself. Needs PermImport.
func (s *Service) Upload(ctx context.Context, source string, r io.Reader, name string) (*Result, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", importer.TempPattern("upload"))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	base := filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if base == "." || base == "/" || base == "" {
		base = "upload"
	}
	path := filepath.Join(dir, base)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return s.Import(ctx, []string{path}, vigil.ImportOptions{Source: source, Display: base})
}

// Feeds lists the configured feeds. Needs PermRead.
func (s *Service) Feeds(ctx context.Context) ([]*vigil.Feed, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Feeds(ctx)
}

// Feed returns one configured feed; ENOTFOUND when none has that name. Needs PermRead.
func (s *Service) Feed(ctx context.Context, name string) (*vigil.Feed, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Feed(ctx, name)
}

// SetFeed configures a feed (EINVALID naming the field). Needs PermImport.
func (s *Service) SetFeed(ctx context.Context, f *vigil.Feed) error {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return err
	}
	return s.Store.SetFeed(ctx, f)
}

// EnsureFeeds configures the default feeds when the store has none, so `vigil feeds` and `vigil serve` start from
// the sources a PSIRT watches. Needs PermImport.
func (s *Service) EnsureFeeds(ctx context.Context) error {
	feeds, err := s.Feeds(ctx)
	if err != nil || len(feeds) > 0 {
		return err
	}
	for _, f := range importer.DefaultFeeds() {
		if err := s.SetFeed(ctx, &f); err != nil {
			return err
		}
	}
	return nil
}

// SyncFeed syncs one configured feed now, re-matches the portfolio, and records the attempt (success with the new
// cursor and counts, or the failure), as the scheduler would. Needs PermImport.
func (s *Service) SyncFeed(ctx context.Context, name string) (*Result, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return nil, err
	}
	f, err := s.Store.Feed(ctx, name)
	if err != nil {
		return nil, err
	}
	at := s.Clock.Now()
	res, err := s.sync(ctx, f)
	att := vigil.FeedAttempt{At: at, Err: err}
	if err != nil {
		att.Next = jobs.NextAfterFailure(f, at, f.Failures+1, time.Minute)
	} else {
		att.Next, att.Cursor, att.Counts = at.Add(f.Every), res.Import.Cursor, res.Import.Summaries
	}
	if rerr := s.Store.RecordFeedAttempt(context.WithoutCancel(ctx), name, att); rerr != nil && err == nil {
		err = rerr
	}
	return res, err
}

// sync imports a feed from its cursor and re-matches the portfolio: the one sync both `vigil feeds sync` and the
// scheduler run.
func (s *Service) sync(ctx context.Context, f *vigil.Feed) (*Result, error) {
	if f.Source == vigil.SourceTAXII {
		if s.TAXII == nil {
			return nil, vigil.Errorf(vigil.EINVALID, "feed %s: TAXII feeds are polled by the ISAO service, which is not configured here", f.Name)
		}
		cursor, sum, err := s.TAXII(ctx, f)
		if err != nil {
			return nil, err
		}
		return &Result{Import: &importer.Result{IntelResult: &vigil.IntelResult{Summaries: []vigil.IntelSummary{sum}}, Cursor: cursor}}, nil
	}
	im, err := s.importer(ctx)
	if err != nil {
		return nil, err
	}
	res, err := im.Sync(ctx, f)
	if err != nil {
		return nil, err
	}
	return s.rematch(ctx, res)
}

// Scheduler returns the feed scheduler for `vigil serve`: each configured feed synced (and the portfolio
// re-matched) on its schedule as the system actor "system:feeds", each sync a job under a lease in the database so
// that servers sharing it run each sync once, and every RematchEvery the re-match of what imports changed without
// one (the periodic job "rematch", as "system:rematch"). opt gives this server's Owner, Lease, Poll and Backoff (zero for the
// defaults); the service supplies the rest. Start it with Run(ctx).
func (s *Service) Scheduler(ctx context.Context, opt jobs.Options) (*jobs.Scheduler, error) {
	actx := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "feeds"})
	if err := s.EnsureFeeds(actx); err != nil {
		return nil, err
	}
	opt.Store, opt.Leases, opt.Clock, opt.Log = s.Store, s.Store, s.Clock, s.Log
	opt.Sync = func(ctx context.Context, name string) (jobs.Result, error) {
		fctx := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "feeds"})
		f, err := s.Store.Feed(fctx, name)
		if err != nil {
			return jobs.Result{}, err
		}
		res, err := s.sync(fctx, f)
		if err != nil {
			return jobs.Result{}, err
		}
		return jobs.Result{Cursor: res.Import.Cursor, Counts: res.Import.Summaries}, nil
	}
	opt.Periodic = append(opt.Periodic, jobs.Periodic{Name: "rematch", Every: RematchEvery, Run: func(ctx context.Context) error {
		_, err := s.Portfolio.RematchChanged(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "rematch"}))
		return err
	}})
	return jobs.New(opt), nil
}

// JobLeases lists which server runs, or last ran, each scheduled job (`vigil jobs`). Needs PermRead.
func (s *Service) JobLeases(ctx context.Context) ([]*vigil.JobLease, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.JobLeases(ctx)
}

// RematchEvery is how often one of the servers re-matches what imports changed and no re-match followed yet: a
// server killed between an import's commit and its re-match leaves those findings unopened at most this long.
const RematchEvery = 10 * time.Minute

// Runs lists the newest import runs first (scheduled syncs, CLI and API imports alike). Needs PermRead.
func (s *Service) Runs(ctx context.Context, limit int) ([]*vigil.IntelRun, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.IntelRuns(ctx, limit)
}

// Vuln returns the merged vulnerability named by any of its ids. Needs PermRead.
func (s *Service) Vuln(ctx context.Context, id string) (*vigil.Vulnerability, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Vuln(ctx, id)
}

// Vulns lists merged vulnerabilities. Needs PermRead.
func (s *Service) Vulns(ctx context.Context, f vigil.VulnFilter) ([]*vigil.Vulnerability, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Vulns(ctx, f)
}

// VulnDetail is Vuln with the provenance of each source's advisory (`vigil vuln show`). Needs PermRead.
func (s *Service) VulnDetail(ctx context.Context, id string) (*vigil.VulnDetail, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.VulnDetail(ctx, id)
}

// VulnDetails is Vulns with provenance. Needs PermRead.
func (s *Service) VulnDetails(ctx context.Context, f vigil.VulnFilter) ([]*vigil.VulnDetail, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.VulnDetails(ctx, f)
}

// Signals lists the cybersecurity signals CSAF advisories raised on a device (every device when deviceID is 0).
// Needs PermRead.
func (s *Service) Signals(ctx context.Context, deviceID int64) ([]*vigil.Signal, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Signals(ctx, deviceID)
}
