package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// pool is the database handle with, on SQLite, a cache of prepared statements for reads outside transactions.
// modernc's SQLite compiles every statement text anew on each call, and at fifty concurrent page views a second
// the parser was an eighth of the server's CPU; a *sql.Stmt is compiled once per connection and reused.
// PostgreSQL needs none: pgx already caches prepared statements per connection.
type pool struct {
	*sql.DB
	cache bool
	stmts sync.Map // query text → *sql.Stmt
	n     atomic.Int32
}

// maxStmts bounds the cache: statement texts are ours, but a few are built with a variable number of placeholders
// (chunks of IN lists), and a text past the bound is simply run unprepared.
const maxStmts = 512

func (p *pool) stmt(ctx context.Context, q string) *sql.Stmt {
	if !p.cache {
		return nil
	}
	if s, ok := p.stmts.Load(q); ok {
		return s.(*sql.Stmt)
	}
	if p.n.Load() >= maxStmts {
		return nil
	}
	s, err := p.DB.PrepareContext(ctx, q)
	if err != nil {
		return nil // let the plain call report the error as it would have
	}
	if prev, loaded := p.stmts.LoadOrStore(q, s); loaded {
		s.Close()
		return prev.(*sql.Stmt)
	}
	p.n.Add(1)
	return s
}

// QueryContext runs a read through the statement cache.
func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a one-row read through the statement cache.
func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := p.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, q, args...)
}

// Close closes the cached statements, then the database.
func (p *pool) Close() error {
	p.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return p.DB.Close()
}
