package app

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/store"
)

// IntelOptions configure the importer the app builds. Tests inject an HTTP client (whose SSRF guard admits
// 127.0.0.1) and extra allowed hosts.
type IntelOptions struct {
	Fetcher   *importer.Fetcher // replaces the default fetcher (a copy of it is used, its Allow extended with the feeds' hosts)
	ExtraHost []string
	Log       *slog.Logger
}

// Importer returns an importer on the app's store. Its fetcher may reach only the hosts of the configured feeds,
// CISA's CSAF documents on GitHub, and the hosts in $VIGIL_FEED_HOSTS (comma-separated); every connection is
// checked against private and loopback addresses. $NVD_API_KEY is sent to NVD.
func (a *App) Importer(ctx context.Context, opt IntelOptions) (*importer.Importer, error) {
	feeds, err := a.Store.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	if len(feeds) == 0 {
		for _, f := range importer.DefaultFeeds() {
			feeds = append(feeds, &f)
		}
	}
	extra := append([]string{"raw.githubusercontent.com"}, opt.ExtraHost...)
	for _, h := range strings.Split(os.Getenv("VIGIL_FEED_HOSTS"), ",") {
		extra = append(extra, h)
	}
	var f *importer.Fetcher
	if opt.Fetcher != nil {
		cp := *opt.Fetcher
		f = &cp
	} else {
		f = &importer.Fetcher{Client: importer.NewClient(importer.PublicAddr), UserAgent: "vigil (postmarket cybersecurity)",
			NVDKey: os.Getenv("NVD_API_KEY"), Clock: a.Clock}
	}
	f.Allow = append(slices.Clone(f.Allow), importer.AllowList(feeds, extra...)...)
	return &importer.Importer{Store: a.Store, Fetcher: f, Log: opt.Log}, nil
}

// EnsureFeeds configures the default feeds when the store has none, so `vigil feeds` and `vigil serve` start from
// the sources a PSIRT watches. It needs vigil.PermImport.
func (a *App) EnsureFeeds(ctx context.Context) error {
	feeds, err := a.Store.Feeds(ctx)
	if err != nil || len(feeds) > 0 {
		return err
	}
	for _, f := range importer.DefaultFeeds() {
		if err := a.Store.SetFeed(ctx, &f); err != nil {
			return err
		}
	}
	return nil
}

// SyncFeed syncs one configured feed now and records the attempt (success with the new cursor and counts, or the
// failure), as the scheduler would.
func (a *App) SyncFeed(ctx context.Context, name string, opt IntelOptions) (*importer.Result, error) {
	f, err := a.Store.Feed(ctx, name)
	if err != nil {
		return nil, err
	}
	at := a.Clock.Now()
	res, err := a.syncFeed(ctx, f, opt)
	att := store.FeedAttempt{At: at, Err: err}
	if err != nil {
		att.Next = jobs.NextAfterFailure(jobsFeed(f), at, f.Failures+1, time.Minute)
	} else {
		att.Next, att.Cursor, att.Counts = at.Add(f.Every), res.Cursor, res.Summaries
	}
	if rerr := a.Store.RecordFeedAttempt(context.WithoutCancel(ctx), name, att); rerr != nil && err == nil {
		err = rerr
	}
	return res, err
}

// syncFeed imports a feed and re-matches the device versions holding a package it changed: the one sync both
// `vigil feeds sync` and the scheduler run, so the portfolio follows every sync at once.
func (a *App) syncFeed(ctx context.Context, f *store.Feed, opt IntelOptions) (*importer.Result, error) {
	im, err := a.Importer(ctx, opt)
	if err != nil {
		return nil, err
	}
	res, err := im.Sync(ctx, f)
	if err != nil {
		return nil, err
	}
	if _, err := a.RematchChanged(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

func jobsFeed(f *store.Feed) jobs.Feed {
	return jobs.Feed{Name: f.Name, Every: f.Every, Enabled: f.Enabled, LastAttempt: f.LastAttempt, LastSuccess: f.LastSuccess,
		NextAttempt: f.NextAttempt, Failures: f.Failures}
}

// intelJobsStore adapts the store to the scheduler.
type intelJobsStore struct{ db *store.DB }

func (s intelJobsStore) Feeds(ctx context.Context) ([]jobs.Feed, error) {
	fs, err := s.db.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.Feed, len(fs))
	for i, f := range fs {
		out[i] = jobsFeed(f)
	}
	return out, nil
}

func (s intelJobsStore) RecordAttempt(ctx context.Context, name string, a jobs.Attempt) error {
	return s.db.RecordFeedAttempt(ctx, name, store.FeedAttempt{At: a.At, Err: a.Err, Next: a.Next, Cursor: a.Cursor, Counts: a.Counts})
}

// IntelJobs returns the feed scheduler for `vigil serve`: each configured feed synced on its schedule as the
// system actor "system:feeds", on PostgreSQL under a database-wide lock per feed. Start it with Run(ctx).
func (a *App) IntelJobs(ctx context.Context, opt IntelOptions) (*jobs.Scheduler, error) {
	actx := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "feeds"})
	if err := a.EnsureFeeds(actx); err != nil {
		return nil, err
	}
	return jobs.New(jobs.Options{
		Store: intelJobsStore{a.Store},
		Sync: func(ctx context.Context, name string) (jobs.Result, error) {
			// SQLite has one writer: feeds synced side by side would only queue on its lock (and time out under
			// load), so on SQLite they take turns.
			if a.Store.Engine() == store.SQLite {
				a.syncMu.Lock()
				defer a.syncMu.Unlock()
			}
			f, err := a.Store.Feed(ctx, name)
			if err != nil {
				return jobs.Result{}, err
			}
			res, err := a.syncFeed(vigil.WithActor(ctx, vigil.Actor{System: true, Name: "feeds"}), f, opt)
			if err != nil {
				return jobs.Result{}, err
			}
			return jobs.Result{Cursor: res.Cursor, Counts: res.Summaries}, nil
		},
		Lock:  a.Store.TryLock,
		Clock: a.Clock,
		Log:   opt.Log,
	}), nil
}
