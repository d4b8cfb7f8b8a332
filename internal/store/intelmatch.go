package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/pressly/goose/v3"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// matchRecordsMigration fills the compiled match index (intel_match, created by migration 8) for the advisories a
// store held before it existed: SQL cannot build a match record, so this migration is Go. It pages through the
// advisories by id (PostgreSQL runs one statement at a time on a transaction's connection) and runs in the
// migration's transaction, so a store is never left half indexed.
func matchRecordsMigration(d *dialect) *goose.Migration {
	return goose.NewGoMigration(9, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		return buildMatchRecords(ctx, tx, d)
	}}, nil)
}

// buildMatchRecords writes the match record of every advisory that has none.
func buildMatchRecords(ctx context.Context, tx *sql.Tx, d *dialect) error {
	const page = 500
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT a.id, a.data FROM intel_advisories a
			WHERE a.id > $1 AND NOT EXISTS (SELECT 1 FROM intel_match m WHERE m.advisory_id = a.id) ORDER BY a.id LIMIT $2`, after, page)
		if err != nil {
			return fmt.Errorf("match records: %w", err)
		}
		var args []any
		for rows.Next() {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return err
			}
			a := new(vigil.Advisory)
			if err := unmarshalData(data, a); err != nil {
				rows.Close()
				return fmt.Errorf("match records: advisory %d: %w", id, err)
			}
			args = append(args, id, match.EncodeRecord(a))
			after = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(args) == 0 {
			return nil
		}
		q := "INSERT INTO intel_match (advisory_id, record) VALUES "
		for i := 0; i < len(args); i += 2 {
			if i > 0 {
				q += ","
			}
			q += "(" + placeholders(d, i+1, 2) + ")"
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("match records: %w", err)
		}
	}
}

// MigrationMatchOrder is the version of the Go migration that re-encodes the match records written before their
// versions lists were stored in match order (match record format 2).
const MigrationMatchOrder = 37

// matchOrderMigration re-encodes every match record that is not in the current format, in the migration's
// transaction, paging by advisory id. A record that re-encodes to the same bytes is left alone, so the migration
// writes nothing on a store whose records are current.
func matchOrderMigration(d *dialect) *goose.Migration {
	return goose.NewGoMigration(MigrationMatchOrder, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		return reencodeMatchRecords(ctx, tx, d)
	}}, nil)
}

func reencodeMatchRecords(ctx context.Context, tx *sql.Tx, d *dialect) error {
	const page = 1000
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, "SELECT advisory_id, record FROM intel_match WHERE advisory_id > $1 ORDER BY advisory_id LIMIT $2", after, page)
		if err != nil {
			return fmt.Errorf("migration %d: match records: %w", MigrationMatchOrder, err)
		}
		var args []any
		n := 0
		for rows.Next() {
			var id int64
			var rec []byte
			if err := rows.Scan(&id, &rec); err != nil {
				rows.Close()
				return err
			}
			n++
			after = id
			a, err := match.DecodeRecord(rec)
			if err != nil {
				rows.Close()
				return fmt.Errorf("migration %d: advisory %d: %w", MigrationMatchOrder, id, err)
			}
			if cur := match.EncodeRecord(a); !bytes.Equal(cur, rec) {
				args = append(args, id, cur)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if len(args) == 0 {
			continue
		}
		var q strings.Builder
		q.WriteString("INSERT INTO intel_match (advisory_id, record) VALUES ")
		for i := 0; i < len(args); i += 2 {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(" + placeholders(d, i+1, 2) + ")")
		}
		q.WriteString(" ON CONFLICT (advisory_id) DO UPDATE SET record = excluded.record")
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("migration %d: match records: %w", MigrationMatchOrder, err)
		}
	}
}

// AdvisoriesFor returns the match records (match.DecodeRecord: ids and what matching reads, no titles, details or
// references) of the advisories that name any of keys in the affected index, once each, in storage order.
// Withdrawn advisories are left out, so that re-matching the keys of a run resolves the findings it caused. Keys
// are normalized first (NormalizeKey), so they may be spelled as an SBOM spells them. Callers authorize: it is for
// the matcher, which runs for whoever asked it to.
func (db *DB) AdvisoriesFor(ctx context.Context, keys []vigil.PackageKey) ([]*vigil.Advisory, error) {
	// The keys are split into one share per core (each group's names sorted, a contiguous run of them per share,
	// so that each share's look-ups stay in order in the index), read at once.
	byGrp := groupKeys(keys)
	names := 0
	for g, ns := range byGrp {
		byGrp[g] = uniq(ns)
		names += len(byGrp[g])
	}
	parts := max(1, min(runtime.GOMAXPROCS(0), (names+lookupChunk-1)/lookupChunk))
	shares := make([]map[keyGroup][]string, parts)
	for p := range shares {
		shares[p] = map[keyGroup][]string{}
		for g, ns := range byGrp {
			if run := ns[p*len(ns)/parts : (p+1)*len(ns)/parts]; len(run) > 0 {
				shares[p][g] = run
			}
		}
	}
	ids := make([][]int64, parts)
	g, gctx := errgroup.WithContext(ctx)
	for p, share := range shares {
		g.Go(func() error {
			return db.eachIDByName(gctx, "SELECT advisory_id FROM intel_affected", share, lookupChunk, func(id int64) { ids[p] = append(ids[p], id) })
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("intel: affected index: %w", err)
	}
	return db.matchRecords(ctx, slices.Concat(ids...))
}

// AdvisoriesByID returns the match records of every source's advisories whose id is one of ids, once each, in
// storage order, without withdrawn ones: a re-match after a small import matches just these (a finding is one
// component and one advisory id, so no other advisory bears on the findings of these ids). Callers authorize.
func (db *DB) AdvisoriesByID(ctx context.Context, ids []string) (_ []*vigil.Advisory, err error) {
	defer vigil.Wrap(&err, "store.AdvisoriesByID", fmt.Sprintf("%d ids", len(ids)))
	args := make([]any, 0, len(ids))
	for _, id := range uniq(slices.Clone(ids)) {
		args = append(args, id)
	}
	sources := make([]any, len(vigil.FeedSources))
	for i, src := range vigil.FeedSources {
		sources[i] = src
	}
	var found []int64
	for len(args) > 0 {
		chunk := args[:min(len(args), 900)]
		args = args[len(chunk):]
		// Every source is named so that the (source, adv_id, document) index serves the look-up on both engines.
		q := "SELECT id FROM intel_advisories WHERE source IN (" + placeholders(db.dialect, 1, len(sources)) + ") AND adv_id IN (" +
			placeholders(db.dialect, 1+len(sources), len(chunk)) + ")"
		rows, err := db.db.QueryContext(ctx, q, append(slices.Clone(sources), chunk...)...)
		if err := eachID(rows, err, func(id int64) { found = append(found, id) }); err != nil {
			return nil, err
		}
	}
	return db.matchRecords(ctx, found)
}

// matchRecords decodes the match records of the advisories of ids (duplicates allowed) that are not withdrawn,
// once each, in storage order.
// The ids are read in ascending order, split into one contiguous run per core, each run read on its own
// connection: a record is a B-tree seek, and ascending seeks land on the page the previous one read, where ids in
// hash order made SQLite read each page of intel_match several times over (a 10,000-component scan read 42,000
// pages of a 5,650-page table).
func (db *DB) matchRecords(ctx context.Context, ids []int64) ([]*vigil.Advisory, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	chunk := lookupChunk
	parts := min(runtime.GOMAXPROCS(0), (len(ids)+chunk-1)/chunk)
	found := make([][]*vigil.Advisory, parts)
	g, gctx := errgroup.WithContext(ctx)
	for p := range parts {
		run := ids[p*len(ids)/parts : (p+1)*len(ids)/parts]
		g.Go(func() (err error) {
			found[p], err = db.readMatchRecords(gctx, run, chunk)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(found...), nil
}

// lookupChunk is the names or ids of one statement reading the affected index or the match records: a bounded IN
// list on both engines.
var lookupChunk = 900

// readMatchRecords decodes the records of ids (ascending), chunk ids per statement, leaving out withdrawn ones.
func (db *DB) readMatchRecords(ctx context.Context, ids []int64, chunk int) ([]*vigil.Advisory, error) {
	out := make([]*vigil.Advisory, 0, len(ids))
	args := make([]any, 0, chunk)
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		args = args[:0]
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		ids = ids[n:]
		rows, err := db.db.QueryContext(ctx, "SELECT advisory_id, record FROM intel_match WHERE advisory_id IN ("+placeholders(db.dialect, 1, n)+") ORDER BY advisory_id", args...)
		if err != nil {
			return nil, fmt.Errorf("intel: match records: %w", err)
		}
		for rows.Next() {
			var id int64
			var data sql.RawBytes // DecodeRecord copies what it keeps: no copy of every record for the scan
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return nil, err
			}
			a, err := match.DecodeRecord(data)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("intel: advisory %d: %w", id, err)
			}
			if !a.IsWithdrawn() {
				out = append(out, a)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
