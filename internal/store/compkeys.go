package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// writeComponentKeys replaces a version's rows in the reverse index with those of comps, its current components as
// stored (with their ids).
func (tx *Tx) writeComponentKeys(ctx context.Context, versionID int64, comps []vigil.Component) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM component_keys WHERE version_id = $1", versionID); err != nil {
		return err
	}
	b := newBatch("component_keys", "version_id, kind, ecosystem, name, components", "")
	for _, r := range keyedComponents(comps) {
		b.add(versionID, r.key.Kind, r.key.Ecosystem, r.key.Name, r.ids)
		if b.full() {
			if err := b.flush(ctx, tx); err != nil {
				return err
			}
		}
	}
	return b.flush(ctx, tx)
}

// keyedRow is one row of a version's reverse index: a key (normalized) and the ids of the components it names, as
// a comma-separated list.
type keyedRow struct {
	key vigil.PackageKey
	ids string
}

// keyedComponents returns the reverse index rows of a version's current components, sorted as match.StoreKeys
// sorts: each key with the ids of the components carrying it and of every component sharing a
// Component.FindingKey with one of those (findings are kept by that key, so a delta re-matches such components
// together or not at all). A 1,000-component SBOM has some 3,000 keys.
func keyedComponents(comps []vigil.Component) []keyedRow {
	group := map[string][]int64{} // finding key → its components' ids
	for i := range comps {
		fk := comps[i].FindingKey()
		group[fk] = append(group[fk], comps[i].ID)
	}
	byKey := map[vigil.PackageKey][]string{} // key → the finding keys of its components
	for i := range comps {
		fk := comps[i].FindingKey()
		for _, k := range match.ComponentKeys(comps[i], match.Options{}) {
			if k = match.NormalizeKey(k); k.Name != "" && !slices.Contains(byKey[k], fk) {
				byKey[k] = append(byKey[k], fk)
			}
		}
	}
	keys := make([]vigil.PackageKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	out := make([]keyedRow, 0, len(keys))
	for _, k := range match.SortKeys(keys) {
		var ids []int64
		for _, fk := range byKey[k] {
			ids = append(ids, group[fk]...)
		}
		slices.Sort(ids)
		var sb strings.Builder
		for i, id := range slices.Compact(ids) {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(idText(id))
		}
		out = append(out, keyedRow{k, sb.String()})
	}
	return out
}

// storedComponentKeys returns a version's rows in the reverse index, sorted as match.StoreKeys sorts (in Go: the
// engines' collations differ).
func storedComponentKeys(ctx context.Context, q querier, versionID int64) ([]vigil.PackageKey, error) {
	rows, err := q.QueryContext(ctx, "SELECT kind, ecosystem, name FROM component_keys WHERE version_id = $1", versionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.PackageKey
	for rows.Next() {
		var k vigil.PackageKey
		if err := rows.Scan(&k.Kind, &k.Ecosystem, &k.Name); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return match.SortKeys(out), nil
}

// ComponentKeysStale reports whether the reverse index rows of a version disagree with keys, the keys of its
// current components (match.StoreKeys): only after an upgrade changed the key rules, or when the index was lost.
// It only reads, so a portfolio re-match checks every version on its reading goroutines and leaves the rare
// rewrite (RefreshComponentKeys) to its writer.
func (db *DB) ComponentKeysStale(ctx context.Context, versionID int64, keys []vigil.PackageKey) (_ bool, err error) {
	defer vigil.Wrap(&err, "store.ComponentKeysStale", versionID)
	// The rows are unique (the primary key) and keys sorted: each row is found in keys by binary search, and the
	// rows are not sorted (a full re-match checks every version, a million rows).
	rows, err := db.db.QueryContext(ctx, "SELECT kind, ecosystem, name FROM component_keys WHERE version_id = $1", versionID)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	n := 0
	var k vigil.PackageKey
	for rows.Next() {
		if err := rows.Scan(&k.Kind, &k.Ecosystem, &k.Name); err != nil {
			return false, err
		}
		if _, found := slices.BinarySearchFunc(keys, k, match.CompareKeys); !found {
			return true, nil
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return n != len(keys), nil
}

// RefreshComponentKeys makes the reverse index rows of a version agree with comps (its current components) and
// reports whether they had to be rewritten. Checking costs one indexed read; rewriting every version
// unconditionally made a portfolio re-match twice as slow.
func (db *DB) RefreshComponentKeys(ctx context.Context, versionID int64, comps []vigil.Component) (_ bool, err error) {
	defer vigil.Wrap(&err, "store.RefreshComponentKeys", versionID)
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return false, err
	}
	want := match.StoreKeys(comps)
	have, err := storedComponentKeys(ctx, db.db, versionID)
	if err != nil {
		return false, err
	}
	if slices.Equal(want, have) {
		return false, nil
	}
	return true, db.transact(ctx, func(tx *Tx) error { return tx.writeComponentKeys(ctx, versionID, comps) })
}

// RebuildComponentKeys recomputes the reverse index of every version (after an upgrade changes key rules),
// rewriting only the versions whose rows differ.
func (db *DB) RebuildComponentKeys(ctx context.Context) (err error) {
	defer vigil.Wrap(&err, "store.RebuildComponentKeys", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return err
	}
	vs, err := db.Versions(ctx, 0)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		for _, v := range vs {
			comps, err := queryComponents(ctx, tx, v.ID)
			if err != nil {
				return err
			}
			want := match.StoreKeys(comps)
			have, err := storedComponentKeys(ctx, tx, v.ID)
			if err != nil {
				return err
			}
			if slices.Equal(want, have) {
				continue
			}
			if err := tx.writeComponentKeys(ctx, v.ID, comps); err != nil {
				return err
			}
		}
		return nil
	})
}

// scanKeysAbove is the number of keys from which VersionsForKeys reads the whole reverse index instead of looking
// each key up: after a full corpus import the change feed holds a million keys, and a lookup per key cost seconds
// where one pass over the index (a few rows per component) costs a fraction of that.
const scanKeysAbove = 50_000

// VersionsForKeys returns the ids of the device versions whose current components carry any of keys.
func (db *DB) VersionsForKeys(ctx context.Context, keys []vigil.PackageKey) (_ []int64, err error) {
	defer vigil.Wrap(&err, "store.VersionsForKeys", nil)
	byGrp := groupKeys(keys)
	set := map[int64]bool{}
	if len(keys) > scanKeysAbove {
		want := make(map[vigil.PackageKey]struct{}, len(keys))
		for g, names := range byGrp {
			for _, n := range names {
				want[vigil.PackageKey{Kind: g.kind, Ecosystem: g.eco, Name: n}] = struct{}{}
			}
		}
		rows, err := db.db.QueryContext(ctx, "SELECT version_id, kind, ecosystem, name FROM component_keys")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var id int64
		var k vigil.PackageKey
		for rows.Next() {
			if err := rows.Scan(&id, &k.Kind, &k.Ecosystem, &k.Name); err != nil {
				return nil, err
			}
			if _, ok := want[k]; ok {
				set[id] = true
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else if err := db.eachIDByName(ctx, "SELECT DISTINCT version_id FROM component_keys", byGrp, 500, func(id int64) { set[id] = true }); err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// keyGroup is a (kind, ecosystem) under which package names are looked up.
type keyGroup struct{ kind, eco string }

// groupKeys normalizes keys (NormalizeKey, so they may be spelled as an SBOM spells them) and groups their names
// by kind and ecosystem, dropping nameless ones.
func groupKeys(keys []vigil.PackageKey) map[keyGroup][]string {
	byGrp := map[keyGroup][]string{}
	for _, k := range keys {
		k = match.NormalizeKey(k)
		if k.Name == "" {
			continue
		}
		g := keyGroup{k.Kind, k.Ecosystem}
		byGrp[g] = append(byGrp[g], k.Name)
	}
	return byGrp
}

// eachIDByName runs selectFrom (a one-column SELECT ... FROM a table with kind, ecosystem and name columns) with one
// IN list of names per group, chunk names at a time, in a stable group order, and calls fn with each id: a
// statement of name parameters parses far faster than the same keys as OR-ed triples, and the (kind, ecosystem,
// name) index serves it.
func (db *DB) eachIDByName(ctx context.Context, selectFrom string, byGrp map[keyGroup][]string, chunk int, fn func(id int64)) error {
	return db.eachByName(ctx, selectFrom, byGrp, chunk, func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		fn(id)
		return nil
	})
}

// eachByName is eachIDByName calling scan with each row, whatever its columns.
func (db *DB) eachByName(ctx context.Context, selectFrom string, byGrp map[keyGroup][]string, chunk int, scan func(*sql.Rows) error) error {
	grps := make([]keyGroup, 0, len(byGrp))
	for g := range byGrp {
		grps = append(grps, g)
	}
	slices.SortFunc(grps, func(a, b keyGroup) int { return cmp.Or(strings.Compare(a.kind, b.kind), strings.Compare(a.eco, b.eco)) })
	for _, g := range grps {
		names := uniq(byGrp[g])
		for len(names) > 0 {
			n := min(len(names), chunk)
			args := make([]any, 0, n+2)
			args = append(args, g.kind, g.eco)
			for _, s := range names[:n] {
				args = append(args, s)
			}
			names = names[n:]
			q := selectFrom + " WHERE kind = $1 AND ecosystem = $2 AND name IN (" + placeholders(db.dialect, 3, n) + ")"
			if err := eachRow(ctx, db.db, q, args, scan); err != nil {
				return err
			}
		}
	}
	return nil
}

// ComponentsForKeys returns the current components carrying one of keys (spelled as an SBOM spells them), each with
// its VersionID, and with each the components of its version sharing its Component.FindingKey, sorted by version
// and id: what a re-match after an import matches again. The reverse index names them, so this reads one query per
// batch of keys and one per batch of components, never the versions' other components.
func (db *DB) ComponentsForKeys(ctx context.Context, keys []vigil.PackageKey) (_ []vigil.Component, err error) {
	defer vigil.Wrap(&err, "store.ComponentsForKeys", len(keys))
	var ids []int64
	err = db.eachByName(ctx, "SELECT components FROM component_keys", groupKeys(keys), 500, func(rows *sql.Rows) error {
		var list string
		if err := rows.Scan(&list); err != nil {
			return err
		}
		for s := range strings.SplitSeq(list, ",") {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("component_keys: components %q: %w", list, err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []vigil.Component
	for chunk := range slices.Chunk(ids, 500) {
		in := make([]string, len(chunk))
		for i, id := range chunk {
			in[i] = idText(id)
		}
		cs, err := queryAll(ctx, db.db, scanComponent, "SELECT "+componentCols+" FROM components WHERE id IN ("+strings.Join(in, ", ")+") AND current = $1", true)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	slices.SortFunc(out, func(a, b vigil.Component) int {
		return cmp.Or(cmp.Compare(a.VersionID, b.VersionID), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// KV reads a small piece of state (cursors); "" when unset.
func (db *DB) KV(ctx context.Context, k string) (_ string, err error) {
	defer vigil.Wrap(&err, "store.KV", k)
	var v string
	err = db.db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = $1", k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetKV writes a small piece of state.
func (db *DB) SetKV(ctx context.Context, k, v string) (err error) {
	defer vigil.Wrap(&err, "store.SetKV", k)
	_, err = db.db.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v)
	return err
}

// MigrationComponentIDs is the version of the migration that made the reverse index name the components carrying
// each key, so a delta re-match reads those components alone.
const MigrationComponentIDs = 45

// componentIDsMigration adds the components column to the reverse index and fills it for every version from its
// current components (the whole index rewritten, as RebuildComponentKeys would).
func componentIDsMigration(db *DB) *goose.Migration {
	return goose.NewGoMigration(MigrationComponentIDs, &goose.GoFunc{RunTx: func(ctx context.Context, sqltx *sql.Tx) error {
		if _, err := sqltx.ExecContext(ctx, "ALTER TABLE component_keys ADD COLUMN components TEXT NOT NULL DEFAULT ''"); err != nil {
			return fmt.Errorf("migration %d: %w", MigrationComponentIDs, err)
		}
		tx := &Tx{Tx: sqltx, db: db}
		versions, err := queryAll(ctx, tx, scanID, "SELECT DISTINCT version_id FROM component_keys ORDER BY version_id")
		if err != nil {
			return fmt.Errorf("migration %d: %w", MigrationComponentIDs, err)
		}
		for _, v := range versions {
			comps, err := queryComponents(ctx, tx, v)
			if err == nil {
				err = tx.writeComponentKeys(ctx, v, comps)
			}
			if err != nil {
				return fmt.Errorf("migration %d: version %d: %w", MigrationComponentIDs, v, err)
			}
		}
		return nil
	}}, nil)
}
