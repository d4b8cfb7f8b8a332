package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// writeComponentKeys replaces a version's rows in the reverse index.
func (tx *Tx) writeComponentKeys(ctx context.Context, versionID int64, comps []vigil.Component) error {
	return tx.replaceComponentKeys(ctx, versionID, match.StoreKeys(comps))
}

// replaceComponentKeys makes keys (normalized, de-duplicated) the version's rows in the reverse index, a few
// hundred rows per statement: a 1,000-component SBOM has some 3,000 keys.
func (tx *Tx) replaceComponentKeys(ctx context.Context, versionID int64, keys []vigil.PackageKey) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM component_keys WHERE version_id = $1", versionID); err != nil {
		return err
	}
	b := newBatch("component_keys", "version_id, kind, ecosystem, name", "")
	for _, k := range keys {
		b.add(versionID, k.Kind, k.Ecosystem, k.Name)
		if b.full() {
			if err := b.flush(ctx, tx); err != nil {
				return err
			}
		}
	}
	return b.flush(ctx, tx)
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
	have, err := storedComponentKeys(ctx, db.db, versionID)
	if err != nil {
		return false, err
	}
	return !slices.Equal(keys, have), nil
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
	return true, db.transact(ctx, func(tx *Tx) error { return tx.replaceComponentKeys(ctx, versionID, want) })
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
			if err := tx.replaceComponentKeys(ctx, v.ID, want); err != nil {
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
			rows, err := db.db.QueryContext(ctx, q, args...)
			if err := eachID(rows, err, fn); err != nil {
				return err
			}
		}
	}
	return nil
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
