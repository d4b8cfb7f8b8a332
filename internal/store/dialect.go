package store

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
)

// dialect is what differs between the two engines, in one value chosen when the store opens, so that the rest of
// the store is one SQL text for both and asks the dialect rather than which engine it runs on.
type dialect struct {
	name       string        // SQLite or Postgres
	goose      goose.Dialect // the migrations' dialect
	migrations string        // the folder of its embedded migrations
	// locks: PostgreSQL serializes some writers with transaction-scoped advisory locks; SQLite has one writer at a
	// time (transactions take the write lock at BEGIN), so there a lock is already held.
	locks bool
	// indexHint prefixes a column to keep SQLite's planner off its index where walking the primary key newest
	// first and stopping after a page is faster (a unary plus); PostgreSQL's planner needs no hint.
	indexHint string
	// bulkArrays: PostgreSQL takes a batch of rows as one array per column (unnest) in one statement; SQLite, in
	// process, as multi-row VALUES or a prepared statement per row.
	bulkArrays bool
	// positional: SQLite keeps "$N" and "?N" in a list of parameter names that the driver searches once per
	// parameter, which makes a statement with thousands of them quadratic to bind; a bare "?" is positional and
	// costs nothing. PostgreSQL numbers them.
	positional bool
	// toast: PostgreSQL compresses large values and can be told to use lz4 (see importSession).
	toast bool
	// pageCache: SQLite's page cache is per connection and can be enlarged for an import (see importSession).
	pageCache bool
	// sharedTx: SQLite runs in process, so several goroutines may read on one transaction's connection at once
	// (database/sql serializes each call); a PostgreSQL connection serves one query at a time, so concurrent reads
	// during an import take a pooled connection (see IntelWriter.Known).
	sharedTx bool
	// copy: PostgreSQL takes a bulk load's new rows through COPY (transactBulk, Tx.copyFrom).
	copy bool
	// analyze: PostgreSQL's planner needs fresh statistics after a large import (see analyzeAfter).
	analyze bool
	// backup says how a store of this engine is copied: "" when Backup can (SQLite's VACUUM INTO), else how to.
	backup string
	// snapshot begins the read-only transaction audit verification reads one state of the database in.
	snapshot string
}

var (
	sqliteDialect = &dialect{name: SQLite, goose: goose.DialectSQLite3, migrations: "migrations/sqlite", indexHint: "+", positional: true, pageCache: true, sharedTx: true, snapshot: "BEGIN DEFERRED"}
	// pg_dump is the right tool, and a server-side copy would land on the server's disk.
	postgresDialect = &dialect{name: Postgres, goose: goose.DialectPostgres, migrations: "migrations/postgres", locks: true, bulkArrays: true, copy: true, toast: true, analyze: true,
		snapshot: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		backup:   `backups of a PostgreSQL store are taken with pg_dump: pg_dump --format=custom --file=%s "$VIGIL_DB" (restore with pg_restore)`}
)

// lock takes the lock key for the rest of the transaction (released at commit or rollback).
func (d *dialect) lock(ctx context.Context, tx *Tx, key int64) error {
	if !d.locks {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
		return fmt.Errorf("lock %d: %w", key, err)
	}
	return nil
}

// param is the placeholder of the n-th parameter (parameters are written in order).
func (d *dialect) param(n int) string {
	if d.positional {
		return "?"
	}
	return "$" + idText(int64(n))
}
