package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// componentKeys returns the normalized package keys of a version's components, as the matcher looks them up.
func componentKeys(comps []vigil.Component) []vigil.PackageKey {
	seen := map[vigil.PackageKey]bool{}
	var out []vigil.PackageKey
	for _, c := range comps {
		for _, k := range match.ComponentKeys(c, match.Options{}) {
			k = NormalizeKey(k)
			if k.Name == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, k)
		}
	}
	return sortKeys(out)
}

// writeComponentKeys replaces a version's rows in the reverse index.
func (tx *Tx) writeComponentKeys(ctx context.Context, versionID int64, comps []vigil.Component) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM component_keys WHERE version_id = $1", versionID); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO component_keys (version_id, kind, ecosystem, name) VALUES ($1, $2, $3, $4)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, k := range componentKeys(comps) {
		if _, err := stmt.ExecContext(ctx, versionID, k.Kind, k.Ecosystem, k.Name); err != nil {
			return err
		}
	}
	return nil
}

// RebuildComponentKeys recomputes the reverse index of every version (after an upgrade changes key rules).
func (db *DB) RebuildComponentKeys(ctx context.Context) error {
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
			if err := tx.writeComponentKeys(ctx, v.ID, comps); err != nil {
				return err
			}
		}
		return nil
	})
}

// VersionsForKeys returns the ids of the device versions whose current components carry any of keys.
func (db *DB) VersionsForKeys(ctx context.Context, keys []vigil.PackageKey) ([]int64, error) {
	set := map[int64]bool{}
	for len(keys) > 0 {
		n := min(len(keys), 300)
		chunk := keys[:n]
		keys = keys[n:]
		q := "SELECT DISTINCT version_id FROM component_keys WHERE "
		var args []any
		for i, k := range chunk {
			k = NormalizeKey(k)
			if i > 0 {
				q += " OR "
			}
			q += "(kind = ? AND ecosystem = ? AND name = ?)"
			args = append(args, k.Kind, k.Ecosystem, k.Name)
		}
		rows, err := db.db.QueryContext(ctx, numbered(q), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			set[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]int64, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// numbered turns ? placeholders into $1, $2, ... (both engines accept the numbered form).
func numbered(q string) string {
	b := make([]byte, 0, len(q)+16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b = append(b, '$')
			b = append(b, idText(int64(n))...)
			continue
		}
		b = append(b, q[i])
	}
	return string(b)
}

// KV reads a small piece of state (cursors); "" when unset.
func (db *DB) KV(ctx context.Context, k string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = $1", k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetKV writes a small piece of state.
func (db *DB) SetKV(ctx context.Context, k, v string) error {
	_, err := db.db.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v)
	return err
}
