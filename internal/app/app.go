// Package app wires Vigil together: it opens the store named by a DSN, builds the services on it and starts the
// web server and the background jobs. It is the only package that knows the concrete types; the command line and
// the end-to-end tests go through it so they run exactly what production runs.
package app

import (
	"context"
	"os"
	"os/user"
	"sync"
	"sync/atomic"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/service/intel"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/store"
)

// App is an opened Vigil: its services, on one store.
type App struct {
	Portfolio *portfolio.Service
	Intel     *intel.Service
	Cases     *cases.Service
	Clock     vigil.Clock

	Store *store.DB

	catchingUp atomic.Bool // Serve's start-up re-match is running
}

// Open opens (and migrates) the store and builds the services on it.
func Open(ctx context.Context, dsn string) (*App, error) {
	clock := vigil.SystemClock{}
	db, err := store.Open(ctx, dsn, clock)
	if err != nil {
		return nil, err
	}
	return New(db, clock), nil
}

// New builds the services on an opened store (tests open theirs with a fake clock).
func New(db *store.DB, clock vigil.Clock) *App {
	p := &portfolio.Service{Store: db}
	im := importer.Importer{Store: db}
	if db.Engine() == store.SQLite {
		im.Turns = new(sync.Mutex) // one writer: imports and feed syncs take turns at their transactions
	}
	in := &intel.Service{Store: db, Importer: im, Portfolio: p, Clock: clock}
	return &App{
		Portfolio: p,
		Intel:     in,
		Cases:     &cases.Service{Store: db, Intel: in, Clock: clock},
		Clock:     clock,
		Store:     db,
	}
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

// CLIContext returns ctx acting as the local operator: whoever runs the command line holds the database file or
// its credentials already, so the CLI acts as the system, named after the OS user for the audit trail.
func CLIContext(ctx context.Context) context.Context {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	} else if h, err := os.Hostname(); err == nil {
		name = "cli@" + h
	}
	return vigil.WithActor(ctx, vigil.Actor{System: true, Name: name})
}
